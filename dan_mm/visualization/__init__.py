from .fer_drawing import (draw_attention_panels, draw_confusion_matrix,
                          draw_faces, overlay_heatmap)

__all__ = [
    'draw_faces', 'draw_attention_panels', 'draw_confusion_matrix',
    'overlay_heatmap'
]
