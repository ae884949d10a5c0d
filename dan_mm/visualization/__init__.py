from .fer_drawing import (DrawingStyle, FaceDrawing, draw_attention_panels,
                          draw_confusion_matrix, draw_faces, drawing_style,
                          face_label, face_pixels, layout_faces, layout_labels,
                          leader_line, overlay_heatmap)
from .palette import (CLASS_PALETTE, PALETTE, class_colours, face_colour,
                      face_colour_bgr, face_number, face_style)

__all__ = [
    'draw_faces', 'draw_attention_panels', 'draw_confusion_matrix',
    'overlay_heatmap', 'face_label', 'layout_labels', 'layout_faces',
    'leader_line', 'FaceDrawing', 'DrawingStyle', 'drawing_style',
    'face_pixels', 'PALETTE', 'face_colour', 'face_colour_bgr', 'face_number',
    'face_style', 'CLASS_PALETTE', 'class_colours'
]
