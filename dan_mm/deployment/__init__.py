"""Deployment: fuse DAN's attention heads, export to ONNX."""
from .onnx_export import LogitsModel, export, export_onnx, verify
from .reparameterize import reparameterize_checkpoint

__all__ = [
    'LogitsModel', 'export', 'export_onnx', 'verify',
    'reparameterize_checkpoint'
]
