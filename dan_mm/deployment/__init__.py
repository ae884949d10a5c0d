"""Deployment: prepare a model for inference, fuse DAN's attention heads,
export to ONNX, convert the reference implementation's checkpoints."""
from .onnx_export import LogitsModel, export, export_onnx, verify
from .prepare import inference_inputs, prepare_for_inference
from .quantize import quantize_onnx
from .reference_checkpoint import convert_reference_checkpoint
from .reparameterize import reparameterize_checkpoint

__all__ = [
    'LogitsModel', 'export', 'export_onnx', 'verify',
    'reparameterize_checkpoint', 'convert_reference_checkpoint',
    'prepare_for_inference', 'inference_inputs', 'quantize_onnx'
]
