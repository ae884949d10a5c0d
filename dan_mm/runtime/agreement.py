"""How often two models (fp32 and a reduced precision: bf16, fp16, int8)
predict the same class: one record, in fractions, for every caller."""
from typing import Sequence

import numpy as np


def agreement_record(labels: Sequence[int], reference: Sequence[int],
                     candidate: Sequence[int]) -> dict:
    """The agreement of two models' predicted classes, and their accuracy.

    Args:
        labels (Sequence[int]): ``(N, )`` true class indices.
        reference (Sequence[int]): ``(N, )`` the fp32 model's predictions.
        candidate (Sequence[int]): ``(N, )`` the reduced-precision model's.

    Returns:
        dict: ``images`` (N), ``agreement``, ``top1_fp32`` and
        ``top1_low``: fractions in [0, 1], rounded to 6 digits.
    """
    labels, reference, candidate = (
        np.asarray(v) for v in (labels, reference, candidate))

    def fraction(hits: np.ndarray) -> float:
        return round(float(hits.mean()), 6) if len(hits) else 0.

    return dict(
        images=int(len(labels)),
        agreement=fraction(reference == candidate),
        top1_fp32=fraction(reference == labels),
        top1_low=fraction(candidate == labels))
