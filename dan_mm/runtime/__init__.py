"""The model runtime: one way to load, prepare and run a DAN.

Every caller (the inferencer, the video loops, the web demo, the
benchmarks, the ONNX export, the int8 quantizer, the reparameterizer)
builds its model with :func:`load_model`, prepares it with
:func:`prepare_for_inference`, runs ONNX Runtime through
:func:`create_session`, exports with :func:`export_verified`, picks the
backend with :func:`choose_backend` and compares two models with
:func:`agreement_record`.
"""
from .agreement import agreement_record
from .backend_rule import BACKENDS, check_backend, choose_backend
from .model import load_model, resolve_model
from .onnx_backend import (OnnxModelError, OnnxRuntimeBackend,
                           build_onnx_backend, cached_onnx_export)
from .onnx_export import (LogitsModel, export, export_checkpoint,
                          export_verified, inference_image_size, verify)
from .prepare import inference_inputs, prepare_for_inference
from .session import create_session
from .torch_backend import TorchBackend

__all__ = [
    'load_model', 'resolve_model', 'prepare_for_inference', 'inference_inputs',
    'create_session', 'LogitsModel', 'export', 'verify', 'export_verified',
    'export_checkpoint', 'inference_image_size', 'TorchBackend',
    'OnnxRuntimeBackend', 'OnnxModelError', 'build_onnx_backend',
    'cached_onnx_export', 'BACKENDS', 'check_backend', 'choose_backend',
    'agreement_record'
]
