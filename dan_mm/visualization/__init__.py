from .fer_drawing import (draw_attention_panels, draw_confusion_matrix,
                          draw_faces, face_label, face_pixels, layout_labels,
                          overlay_heatmap)

__all__ = [
    'draw_faces', 'draw_attention_panels', 'draw_confusion_matrix',
    'overlay_heatmap', 'face_label', 'layout_labels', 'face_pixels'
]
