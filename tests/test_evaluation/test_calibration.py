"""Calibration measures on hand-made predictions, and the temperature fit."""
import numpy as np
import pytest
import torch
from scipy.special import log_softmax, softmax

from dan_mm.evaluation import FERMetric
from dan_mm.evaluation.calibration import (apply_temperature, brier_score,
                                           expected_calibration_error,
                                           fit_temperature, log_probs,
                                           negative_log_likelihood,
                                           reliability_bins)


def test_ece_is_zero_when_confidence_matches_accuracy():
    # 10 faces at 0.8 confidence, 8 right: calibrated
    probs = np.tile([0.8, 0.2], (10, 1))
    labels = np.array([0] * 8 + [1] * 2)
    assert expected_calibration_error(probs, labels) == pytest.approx(0)


def test_ece_hand_computed_over_two_bins():
    # bin (0.933, 1]: 2 faces at 0.95, 1 right -> |0.5 - 0.95| = 0.45
    # bin (0.6, 0.667]: 2 faces at 0.65 (0.6 is an edge), both right -> 0.35
    probs = np.array([[0.95, 0.05], [0.95, 0.05], [0.65, 0.35], [0.35, 0.65]])
    labels = np.array([0, 1, 0, 1])
    assert expected_calibration_error(probs, labels) == pytest.approx(
        (0.45 * 2 + 0.35 * 2) / 4)
    bins = reliability_bins(probs, labels)
    assert bins['count'].sum() == 4
    assert bins['count'][14] == 2 and bins['count'][9] == 2
    assert np.isnan(bins['accuracy'][0])  # empty bins have no accuracy


def test_ece_of_a_confidently_wrong_model():
    probs = np.array([[0.9, 0.1]] * 4)
    assert expected_calibration_error(probs, [1] * 4) == pytest.approx(0.9)


def test_nll_and_brier_hand_computed():
    probs = np.array([[0.5, 0.25, 0.25], [0.1, 0.9, 0.0]])
    labels = np.array([0, 1])
    assert negative_log_likelihood(probs, labels) == pytest.approx(
        -(np.log(0.5) + np.log(0.9)) / 2)
    # (0.25 + 0.0625 + 0.0625) and (0.01 + 0.01 + 0)
    assert brier_score(probs, labels) == pytest.approx((0.375 + 0.02) / 2)
    # a zero probability of the truth is large, not infinite
    assert np.isfinite(negative_log_likelihood(probs, [2, 2]))


def test_apply_temperature_is_softmax_of_scaled_logits():
    logits = np.random.default_rng(0).normal(0, 3, (5, 7))
    probs = softmax(logits, axis=1).astype(np.float32)
    got = apply_temperature(probs, 2.5)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, softmax(logits / 2.5, axis=1), atol=1e-5)
    assert (got.argmax(1) == probs.argmax(1)).all()  # T never changes a class
    assert apply_temperature(probs, None) is probs


def overconfident_toy(n=3000, scale=4.0, seed=0):
    """A model whose logits are the true log-odds times ``scale``: its
    probabilities are too sure, and T = ``scale`` calibrates it."""
    rng = np.random.default_rng(seed)
    true_logits = rng.normal(0, 1.5, (n, 5))
    p = softmax(true_logits, axis=1)
    labels = np.array([rng.choice(5, p=row) for row in p])
    return true_logits * scale, labels


def test_temperature_fit_lowers_nll_of_an_overconfident_model():
    logits, labels = overconfident_toy()
    nll_raw = -log_softmax(
        logits, axis=1)[np.arange(len(labels)), labels].mean()
    t = fit_temperature(logits, labels)
    assert t == pytest.approx(4.0, rel=0.15)
    probs = softmax(logits, axis=1)
    calibrated = apply_temperature(probs, t)
    assert negative_log_likelihood(calibrated, labels) < nll_raw - 0.1
    assert expected_calibration_error(calibrated, labels) < \
        expected_calibration_error(probs, labels) / 2
    # from probabilities (what the tool has) the fit is the same
    assert fit_temperature(log_probs(probs), labels) == pytest.approx(
        t, rel=1e-3)


def test_fer_metric_reports_calibration_and_saves_reliability_png(tmp_path):
    logits, labels = overconfident_toy(n=200, scale=3.0)
    probs = torch.from_numpy(softmax(logits, axis=1)).float()
    metric = FERMetric(save_dir=str(tmp_path))
    metric.dataset_meta = {'classes': tuple('ABCDE')}
    metric.process(None, [
        dict(
            pred_score=p,
            pred_label=p.argmax().view(1),
            gt_label=torch.tensor([g])) for p, g in zip(probs, labels)
    ])
    m = metric.evaluate(len(labels))
    assert m['fer/ece'] == pytest.approx(
        100 * expected_calibration_error(probs.numpy(), labels), rel=1e-4)
    assert m['fer/nll'] == pytest.approx(
        negative_log_likelihood(probs.numpy(), labels), rel=1e-4)
    assert (tmp_path / 'reliability.png').stat().st_size > 1000

    calibrated = FERMetric(temperature=3.0)
    calibrated.dataset_meta = metric.dataset_meta
    calibrated.process(None, [
        dict(pred_score=p, gt_label=torch.tensor([g]))
        for p, g in zip(probs, labels)
    ])
    c = calibrated.evaluate(len(labels))
    assert c['fer/top1'] == pytest.approx(m['fer/top1'])
    assert c['fer/nll'] < m['fer/nll']
