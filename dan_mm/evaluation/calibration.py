"""How far a model's probabilities can be trusted, and one temperature that
makes them trustworthy.

A model is *calibrated* when, of all the faces it labels with 80%
confidence, about 80% are right. The measures (Guo et al., "On Calibration
of Modern Neural Networks", ICML 2017):

- :func:`expected_calibration_error` (ECE): faces are put in 15 equal-width
  bins of their top probability; ECE is the mean gap between a bin's
  accuracy and its mean confidence, weighted by the bin's share of faces
  (0: calibrated; in probability units, reported in percent);
- :func:`negative_log_likelihood` (NLL): the mean of ``-log p(true class)``;
- :func:`brier_score`: the mean squared distance between the probabilities
  and the one-hot truth, summed over classes (0 to 2).

:func:`fit_temperature` finds the one temperature ``T`` that minimises the
NLL of ``softmax(logits / T)`` on a calibration set (scipy's bounded scalar
minimiser on ``log T``); :func:`apply_temperature` applies it to
probabilities (``softmax(log p / T)`` is ``softmax(logits / T)``). ``T``
never changes the predicted class, only how sure the model says it is.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

NUM_BINS = 15


def _probs_labels(probs, labels) -> Tuple[np.ndarray, np.ndarray]:
    probs = np.asarray(probs, np.float64)
    labels = np.asarray(labels, np.int64).reshape(-1)
    if probs.ndim != 2 or probs.shape[0] != labels.shape[0]:
        raise ValueError(
            f'probs must be (N, num_classes) and labels (N, ), got '
            f'{probs.shape} and {labels.shape}')
    return probs, labels


def reliability_bins(probs, labels, num_bins: int = NUM_BINS) -> dict:
    """Per-bin accuracy and confidence of the top class.

    Args:
        probs (array): ``(N, num_classes)`` probabilities.
        labels (array): ``(N, )`` true class indices.
        num_bins (int): Equal-width bins over ``(0, 1]``. Defaults to 15.

    Returns:
        dict: ``edges`` ``(num_bins + 1, )``, ``count``, ``accuracy`` and
        ``confidence`` ``(num_bins, )`` (NaN for an empty bin).
    """
    probs, labels = _probs_labels(probs, labels)
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(np.float64)
    edges = np.linspace(0, 1, num_bins + 1)
    # Bins are (lo, hi]; a confidence of exactly 0 cannot occur.
    index = np.clip(
        np.searchsorted(edges, confidence, side='left') - 1, 0, num_bins - 1)
    count = np.bincount(index, minlength=num_bins).astype(np.float64)
    with np.errstate(invalid='ignore', divide='ignore'):
        accuracy = np.bincount(index, correct, num_bins) / count
        mean_conf = np.bincount(index, confidence, num_bins) / count
    return dict(
        edges=edges, count=count, accuracy=accuracy, confidence=mean_conf)


def expected_calibration_error(probs,
                               labels,
                               num_bins: int = NUM_BINS) -> float:
    """Top-label ECE over ``num_bins`` equal-width bins (0 to 1).

    Args:
        probs (array): ``(N, num_classes)`` probabilities.
        labels (array): ``(N, )`` true class indices.
        num_bins (int): Defaults to 15.

    Returns:
        float: ``sum_b |acc_b - conf_b| * n_b / N``.
    """
    bins = reliability_bins(probs, labels, num_bins)
    used = bins['count'] > 0
    gaps = np.abs(bins['accuracy'][used] - bins['confidence'][used])
    return float((gaps * bins['count'][used]).sum() / bins['count'].sum())


def negative_log_likelihood(probs, labels, eps: float = 1e-12) -> float:
    """Mean ``-log p(true class)`` (natural log; a probability is clipped
    at ``eps``, so that one zero does not make it infinite)."""
    probs, labels = _probs_labels(probs, labels)
    true = probs[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(true, eps, 1)).mean())


def brier_score(probs, labels) -> float:
    """Mean over faces of ``sum_k (p_k - [k == true])^2`` (0 to 2)."""
    probs, labels = _probs_labels(probs, labels)
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(labels)), labels] = 1
    return float(((probs - onehot)**2).sum(axis=1).mean())


def calibration_metrics(probs, labels, num_bins: int = NUM_BINS) -> dict:
    """``ece`` (percent), ``nll`` and ``brier`` of ``probs``."""
    return dict(
        ece=100 * expected_calibration_error(probs, labels, num_bins),
        nll=negative_log_likelihood(probs, labels),
        brier=brier_score(probs, labels))


def log_probs(probs) -> np.ndarray:
    """``log p`` (``-inf`` for an exact 0), as logits up to a constant."""
    with np.errstate(divide='ignore'):
        return np.log(np.asarray(probs, np.float64))


def apply_temperature(probs, temperature: Optional[float]) -> np.ndarray:
    """``softmax(log(probs) / T)``: the probabilities the model's logits
    give at temperature ``T`` (``T > 1`` softens them).

    Args:
        probs (array): ``(..., num_classes)`` probabilities.
        temperature (float, optional): ``T``; None or 1 returns ``probs``.

    Returns:
        np.ndarray: Same shape and dtype (float32 for a list).
    """
    if temperature is None or temperature == 1:
        return probs
    dtype = getattr(probs, 'dtype', np.float32)
    z = log_probs(probs) / float(temperature)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(dtype)


def fit_temperature(logits, labels, bounds=(0.05, 20.0)) -> float:
    """The temperature that minimises the NLL of ``softmax(logits / T)``.

    Args:
        logits (array): ``(N, num_classes)`` logits (or log-probabilities,
            :func:`log_probs`: the same up to a per-row constant).
        labels (array): ``(N, )`` true class indices.
        bounds (tuple[float, float]): Where to look for ``T``. Defaults to
            ``(0.05, 20)``.

    Returns:
        float: ``T``.
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax
    logits, labels = _probs_labels(logits, labels)
    if len(labels) == 0:
        raise ValueError('fit_temperature needs at least one sample')
    # -inf log-probabilities (a probability that underflowed) stay finite
    logits = np.maximum(logits, -1e4)
    rows = np.arange(len(labels))

    def nll(log_t: float) -> float:
        return -log_softmax(
            logits / np.exp(log_t), axis=1)[rows, labels].mean()

    found = minimize_scalar(
        nll,
        bounds=(np.log(bounds[0]), np.log(bounds[1])),
        method='bounded',
        options=dict(xatol=1e-5))
    return float(np.exp(found.x))


def save_reliability_diagram(panels: Sequence[Tuple[str, np.ndarray,
                                                    np.ndarray]],
                             path: str,
                             num_bins: int = NUM_BINS) -> str:
    """Reliability diagrams side by side, as a PNG.

    Each panel shows each bin's accuracy (bars) against the diagonal of a
    calibrated model, the gap to the bin's mean confidence (red hatching:
    above a bar, over-confident; inside it, under-confident), and the share
    of faces per bin (grey, bottom strip), with ECE, NLL and Brier in the
    title.

    Args:
        panels (Sequence[tuple]): ``(title, probs (N, C), labels (N, ))``.
        path (str): Output file.
        num_bins (int): Defaults to 15.

    Returns:
        str: ``path``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(
        2,
        len(panels),
        figsize=(4.2 * len(panels), 5.0),
        squeeze=False,
        gridspec_kw=dict(height_ratios=[4, 1], hspace=0.08))
    for col, (title, probs, labels) in enumerate(panels):
        bins = reliability_bins(probs, labels, num_bins)
        metrics = calibration_metrics(probs, labels, num_bins)
        centers = (bins['edges'][:-1] + bins['edges'][1:]) / 2
        width = 1 / num_bins
        used = bins['count'] > 0
        ax, hist = axes[0, col], axes[1, col]
        ax.bar(
            centers[used],
            bins['accuracy'][used],
            width=width,
            color='#4477aa',
            edgecolor='white',
            label='accuracy')
        # from accuracy to mean confidence: above the bar (over-confident)
        # or inside it (under-confident), hatched so both read
        low = np.minimum(bins['accuracy'][used], bins['confidence'][used])
        ax.bar(
            centers[used],
            np.abs(bins['confidence'][used] - bins['accuracy'][used]),
            bottom=low,
            width=width,
            facecolor='none',
            hatch='///',
            edgecolor='#cc3344',
            linewidth=0.8,
            label='gap to mean confidence')
        ax.plot([0, 1], [0, 1], '--', color='0.3', lw=1, label='calibrated')
        ax.set(xlim=(0, 1), ylim=(0, 1), xticklabels=[])
        ax.set_title(
            f'{title}\nECE {metrics["ece"]:.2f}%, NLL {metrics["nll"]:.3f}, '
            f'Brier {metrics["brier"]:.3f}',
            fontsize=9)
        if col == 0:
            ax.set_ylabel('accuracy')
            # below the panels: bars may fill any corner of them
            fig.legend(
                *ax.get_legend_handles_labels(),
                loc='upper center',
                bbox_to_anchor=(0.5, 0.0),
                ncol=3,
                fontsize=8,
                frameon=False)
        hist.bar(
            centers,
            100 * bins['count'] / max(bins['count'].sum(), 1),
            width=width,
            color='0.6',
            edgecolor='white')
        hist.set(
            xlim=(0, 1), ylim=(0, 100), xlabel='confidence (top probability)')
        if col == 0:
            hist.set_ylabel('% of faces', fontsize=8)
        hist.tick_params(labelsize=7)
    fig.savefig(path, dpi=110, bbox_inches='tight')
    plt.close(fig)
    return path
