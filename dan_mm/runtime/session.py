"""The ONNX Runtime session of the classifier, made in one place.

The inferencer, the benchmarks, the export check and the int8 quantizer
all run the classifier's ONNX file through :func:`create_session`, so what
is timed is what ``tools/infer.py`` runs. (The face detector keeps its own
session.)
"""
from typing import Optional

import torch


def create_session(onnx_file: str,
                   num_threads: Optional[int] = None,
                   inter_op_threads: int = 1,
                   allow_spinning: bool = False):
    """A CPU ONNX Runtime session of a classifier's ONNX file.

    Args:
        onnx_file (str): The model (fp32 or int8).
        num_threads (int, optional): Intra-op threads (1: the calling
            thread does the work, no pool). Defaults to
            ``torch.get_num_threads()``.
        inter_op_threads (int): Inter-op threads; the graph is a chain, so
            one. Defaults to 1.
        allow_spinning (bool): Let idle pool threads spin. Off by default:
            another stage (the face detector) may need the core they would
            spin on.

    Returns:
        onnxruntime.InferenceSession: On the CPU execution provider.

    Raises:
        Exception: ONNX Runtime's own, for a file it cannot load.
    """
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads or torch.get_num_threads()
    options.inter_op_num_threads = inter_op_threads
    options.log_severity_level = 3  # its warnings are not the user's
    options.add_session_config_entry('session.intra_op.allow_spinning',
                                     '1' if allow_spinning else '0')
    return ort.InferenceSession(
        onnx_file, options, providers=['CPUExecutionProvider'])
