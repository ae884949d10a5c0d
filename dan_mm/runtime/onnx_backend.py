"""ONNX Runtime as the classifier of face crops.

Any ONNX file of the model works (the fp32 deploy export of
``tools/deployment/pytorch2onnx.py`` or an int8 one): input ``(N, 3, H, W)``
float32 crops normalised by the config's data preprocessor, output ``(N,
num_classes)`` logits. The file is checked against the config when loaded,
so a file of another model is one error line, not wrong labels.

Without a file, :func:`cached_onnx_export` exports the deploy form of the
model once and keeps it, named by the checkpoint's hash, under
``~/.cache/dan_mm/onnx`` (``$DAN_MM_ONNX_CACHE`` overrides the folder).
"""
import hashlib
import os
import os.path as osp
import tempfile
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn as nn

from ..utils.errors import ConfigError
from .onnx_export import export_verified
from .prepare import prepare_for_inference
from .session import create_session

CACHE_ENV = 'DAN_MM_ONNX_CACHE'


class OnnxModelError(ConfigError):
    """An ONNX file that is not one, or not of this config's model."""


class OnnxRuntimeBackend:
    """Classify normalised face crops with ONNX Runtime on the CPU.

    Args:
        onnx_file (str): The model (fp32 or int8).
        image_size (int): The side of the crops the config's test pipeline
            makes; the file must take it.
        num_classes (int, optional): The config's classes; the file must
            give as many logits. Defaults to None (not checked).
        num_threads (int, optional): ONNX Runtime's intra-op threads (1: the
            calling thread does the work, no pool spins). Defaults to
            ``torch.get_num_threads()``.
        cached (bool): The file is the cached deploy export (so messages
            call it that, not ``onnx_file``). Defaults to False.

    Raises:
        OnnxModelError: The file is missing, not ONNX, or takes another
            input size or gives another number of classes.
    """

    name = 'onnxruntime'
    exported = False  # whether the file was exported by this run

    def __init__(self,
                 onnx_file: str,
                 image_size: int,
                 num_classes: Optional[int] = None,
                 num_threads: Optional[int] = None,
                 cached: bool = False) -> None:
        where = (f'the cached ONNX export {onnx_file}'
                 if cached else f"onnx_file='{onnx_file}'")
        if not osp.isfile(onnx_file):
            raise OnnxModelError(f'{where}: file not found')
        self.onnx_file = onnx_file
        self.num_threads = num_threads or torch.get_num_threads()
        try:
            self.session = create_session(onnx_file, self.num_threads)
        except Exception as err:  # onnxruntime's own exception types
            reason = str(err).strip().splitlines()[0][:200]
            raise OnnxModelError(
                f'{where}: not an ONNX model ONNX Runtime can '
                f'load ({reason}); export one with '
                'tools/deployment/pytorch2onnx.py') from err
        self.input_name = self.session.get_inputs()[0].name
        self._check(where, image_size, num_classes)

    def _check(self, where: str, image_size: int,
               num_classes: Optional[int]) -> None:
        """Refuse a file of another model: one dummy batch through it."""
        shape = self.session.get_inputs()[0].shape
        fixed = [d for d in shape[2:] if isinstance(d, int)]
        if len(shape) != 4 or any(d != image_size for d in fixed):
            raise OnnxModelError(
                f'{where}: takes inputs of shape {shape}, but the config\'s '
                f'test pipeline makes (N, 3, {image_size}, {image_size}); '
                'export it from this config')
        dummy = np.zeros((1, 3, image_size, image_size), np.float32)
        try:
            logits = self.session.run(None, {self.input_name: dummy})[0]
        except Exception as err:
            raise OnnxModelError(
                f'{where}: fails on a (1, 3, {image_size}, {image_size}) '
                f'input ({str(err).splitlines()[0][:200]}); export it from '
                'this config') from err
        if logits.ndim != 2 or (num_classes is not None
                                and logits.shape[1] != num_classes):
            raise OnnxModelError(
                f'{where}: gives {logits.shape[-1]} logits per face, but the '
                f'config has {num_classes} classes; export it from this '
                'config and checkpoint')

    def __call__(
            self,
            inputs: torch.Tensor,
            return_maps: bool = False
    ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """Class probabilities of a batch (attention maps are PyTorch's).

        Args:
            inputs (torch.Tensor): ``(N, 3, H, W)`` normalised crops.
            return_maps (bool): Must be False here.

        Returns:
            tuple: ``scores`` ``(N, num_classes)`` float32 and None.
        """
        if return_maps:
            raise ConfigError('return_maps=True: attention maps come from '
                              'the PyTorch model (TorchBackend), not ONNX '
                              'Runtime')
        feed = {
            self.input_name:
            np.ascontiguousarray(inputs.detach().float().cpu().numpy())
        }
        logits = torch.from_numpy(self.session.run(None, feed)[0])
        return logits.float().softmax(dim=1).numpy(), None


def file_sha256(path: str) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def onnx_cache_dir() -> str:
    """``$DAN_MM_ONNX_CACHE``, else ``~/.cache/dan_mm/onnx``."""
    return os.environ.get(CACHE_ENV) or osp.join(
        osp.expanduser('~'), '.cache', 'dan_mm', 'onnx')


def cached_onnx_export(model: nn.Module, checkpoint: Optional[str],
                       image_size: int) -> Tuple[str, bool]:
    """The deploy form of ``model`` as ONNX, exported once per checkpoint.

    Args:
        model (nn.Module): The model loaded from ``checkpoint``; switched
            to its deploy form (fused heads, same outputs) in place.
        checkpoint (str, optional): Its checkpoint; the file is
            ``<cache>/<sha256[:16]>-<image_size>.onnx``. Without one the
            export goes to a temporary file (not kept across runs).
        image_size (int): The input side.

    Returns:
        tuple[str, bool]: The ONNX file and whether it was exported now.

    Raises:
        RuntimeError: The export's logits differ from PyTorch's by more
            than 1e-4 (an exporter bug).
    """
    if checkpoint is None:
        path = osp.join(
            tempfile.mkdtemp(prefix='dan_mm_onnx_'),
            f'model-{image_size}.onnx')
    else:
        path = osp.join(onnx_cache_dir(),
                        f'{file_sha256(checkpoint)[:16]}-{image_size}.onnx')
        if osp.isfile(path):
            return path, False
    prepare_for_inference(model, deploy=True)
    os.makedirs(osp.dirname(path), exist_ok=True)
    # Written beside, then renamed: a run started meanwhile never reads a
    # half-written file.
    partial = f'{path}.{os.getpid()}.partial'
    try:
        export_verified(model, partial, image_size, batch_sizes=(2, ))
        os.replace(partial, path)
    finally:
        if osp.exists(partial):
            os.remove(partial)
    return path, True


def build_onnx_backend(
        model: nn.Module,
        image_size: int,
        checkpoint: Optional[str] = None,
        onnx_file: Optional[str] = None,
        num_classes: Optional[int] = None,
        num_threads: Optional[int] = None) -> OnnxRuntimeBackend:
    """ONNX Runtime on ``onnx_file``, else on the cached deploy export of
    ``model`` (:func:`cached_onnx_export`; the backend's ``exported`` says
    whether it was made now). The other arguments are
    :class:`OnnxRuntimeBackend`'s."""
    if onnx_file is not None:
        return OnnxRuntimeBackend(onnx_file, image_size, num_classes,
                                  num_threads)
    onnx_file, exported = cached_onnx_export(model, checkpoint, image_size)
    backend = OnnxRuntimeBackend(
        onnx_file, image_size, num_classes, num_threads, cached=True)
    backend.exported = exported
    return backend
