from .fer_drawing import draw_attention_panels, draw_faces, overlay_heatmap

__all__ = ['draw_faces', 'draw_attention_panels', 'overlay_heatmap']
