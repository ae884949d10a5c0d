"""Deployment: fuse DAN's attention heads into a checkpoint, quantise to
int8 ONNX, convert the reference implementation's checkpoints. (Loading,
preparing and exporting a model are :mod:`dan_mm.runtime`'s.)"""
from .quantize import quantize_onnx
from .reference_checkpoint import convert_reference_checkpoint
from .reparameterize import reparameterize_checkpoint

__all__ = [
    'reparameterize_checkpoint', 'convert_reference_checkpoint',
    'quantize_onnx'
]
