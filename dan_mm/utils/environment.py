"""What a measurement ran on, recorded one way.

The inference benchmark, the video benchmark, the int8 quantizer's report
and the GPU check (``.ci/gpu/gpu_check.py``) all put
:func:`environment_record` (or its :func:`cpu_name`) into their results, so
that numbers from different machines can be told apart.
"""
import importlib
import platform
from datetime import datetime, timezone
from typing import Optional

import torch


def cpu_flags(path: str = '/proc/cpuinfo') -> frozenset:
    """The instruction-set flags of the first CPU (empty where unknown).

    Args:
        path (str): The cpuinfo file. Defaults to ``/proc/cpuinfo``.

    Returns:
        frozenset: Flag names, e.g. ``{'avx2', 'avx512_vnni', ...}``.
    """
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(':')
                if key.strip() in ('flags', 'Features'):
                    return frozenset(value.split())
    except OSError:
        pass
    return frozenset()


def cpu_name(path: str = '/proc/cpuinfo') -> str:
    """The CPU's model name with its family and model numbers.

    Read from ``/proc/cpuinfo`` (what ``lscpu`` shows; elsewhere,
    ``platform``'s name): virtual machines often report only "AMD EPYC",
    and the family/model numbers tell Zen 1 from Zen 4.

    Args:
        path (str): The cpuinfo file. Defaults to ``/proc/cpuinfo``.

    Returns:
        str: e.g. ``'AMD EPYC 7B13 (family 25, model 1)'``.
    """
    fields = {}
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(':')
                key = key.strip()
                if not key:
                    break  # the first processor is enough
                fields.setdefault(key, value.strip())
    except OSError:
        pass
    name = fields.get('model name')
    if not name:
        return platform.processor() or platform.machine()
    if 'cpu family' in fields and 'model' in fields:
        name += f' (family {fields["cpu family"]}, model {fields["model"]})'
    return name


def package_version(name: str) -> Optional[str]:
    """``name.__version__``, or None where the package does not import
    (onnxruntime is optional)."""
    try:
        return getattr(importlib.import_module(name), '__version__', None)
    except ImportError:
        return None


def environment_record() -> dict:
    """The machine and software a measurement ran on.

    Returns:
        dict: ``cpu`` (:func:`cpu_name`), ``cpu_capability`` (the SIMD
        level torch's CPU kernels use), ``threads`` (torch's), the
        ``torch``, ``onnxruntime`` and ``mmpretrain`` versions (None where
        one is not installed), ``cuda_device`` (the first GPU's name, None
        without CUDA) and ``date`` (UTC, ISO 8601, to the second).
    """
    cuda = torch.cuda.is_available()
    return dict(
        cpu=cpu_name(),
        cpu_capability=torch.backends.cpu.get_cpu_capability(),
        threads=torch.get_num_threads(),
        torch=torch.__version__,
        onnxruntime=package_version('onnxruntime'),
        mmpretrain=package_version('mmpretrain'),
        cuda_device=torch.cuda.get_device_name(0) if cuda else None,
        date=datetime.now(timezone.utc).isoformat(timespec='seconds'))
