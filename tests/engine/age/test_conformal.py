"""The conformal maths on synthetic data with known noise."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from engine.age import conformal

pytestmark = pytest.mark.unit

AGES = np.arange(81, dtype=np.float64)
N_CAL = 2000
N_TEST = 20000
SEEDS = range(20)


def synthetic(rng: np.random.Generator, n: int, noise: float = 1.2):
    """True ages, predictions with error growing as sqrt(age), and Gaussian predicted distributions."""
    y = rng.uniform(0, 80, n)
    predicted = np.clip(y + noise * np.sqrt(y + 1) * rng.standard_normal(n), 0, 80)
    sd = noise * np.sqrt(predicted + 1)
    distributions = np.exp(-0.5 * ((AGES[None, :] - predicted[:, None]) / sd[:, None]) ** 2)
    distributions /= distributions.sum(axis=1, keepdims=True)
    return y, predicted, distributions


def coverage_by_seed(method: str, confidence: float):
    """(marginal coverage, per-bin coverage) for each seed."""
    marginal, per_bin = [], []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        calibration = conformal.fit(*_fit_args(synthetic(rng, N_CAL)))
        y, predicted, distributions = synthetic(rng, N_TEST)
        result = conformal.evaluate(calibration, y, predicted, AGES, distributions, confidence, method)
        marginal.append(result.coverage)
        per_bin.append([row["coverage"] for row in result.per_bin])
    return np.array(marginal), np.array(per_bin, dtype=float)


def _fit_args(data):
    y, predicted, distributions = data
    return y, predicted, AGES, distributions


@pytest.mark.parametrize("confidence", [0.8, 0.9])
def test_mondrian_coverage_holds_in_every_age_bin(confidence):
    _, per_bin = coverage_by_seed(conformal.MONDRIAN, confidence)
    mean = per_bin.mean(axis=0)
    assert np.all(np.abs(mean - confidence) <= 0.015), dict(zip(range(8), mean.round(4)))


def test_cqr_marginal_coverage_is_nominal():
    marginal, _ = coverage_by_seed(conformal.CQR, 0.9)
    assert abs(marginal.mean() - 0.9) <= 0.015, marginal.mean()


def test_uncalibrated_central_interval_of_a_wrong_distribution_undercovers():
    # the estimator's own distribution is too narrow here (sd 0.3 of the true noise):
    # calibration is what fixes it, which is why the raw interval is labelled uncalibrated
    rng = np.random.default_rng(0)
    y, predicted, _ = synthetic(rng, 5000)
    sd = 0.3 * 1.2 * np.sqrt(predicted + 1)
    narrow = np.exp(-0.5 * ((AGES[None, :] - predicted[:, None]) / sd[:, None]) ** 2)
    lo, hi = conformal.central_interval(AGES, narrow, 0.9)
    assert ((y >= lo) & (y <= hi)).mean() < 0.6
    calibration = conformal.fit(y, predicted, AGES, narrow)
    y2, predicted2, _ = synthetic(rng, 5000)
    narrow2 = np.exp(-0.5 * ((AGES[None, :] - predicted2[:, None]) / (0.36 * np.sqrt(predicted2 + 1))[:, None]) ** 2)
    assert conformal.evaluate(calibration, y2, predicted2, AGES, narrow2, 0.9, conformal.CQR).coverage > 0.87


def test_finite_sample_rank():
    assert conformal.conformal_rank(9, 0.1) == 9  # ceil(10 * 0.9)
    assert conformal.conformal_rank(19, 0.1) == 18  # ceil(18.0), not 19 from float error
    assert conformal.conformal_rank(99, 0.05) == 95
    scores = np.arange(1, 20, dtype=float)  # 1..19
    assert conformal.conformal_quantile(scores, 0.1) == 18.0
    # with 8 points, 90 % needs rank 9: no finite quantile exists
    assert math.isinf(conformal.conformal_quantile(np.arange(8.0), 0.1))


def test_thin_bin_falls_back_to_pooled_and_says_so():
    rng = np.random.default_rng(1)
    y, predicted, distributions = synthetic(rng, 1500)
    keep = (predicted < 70) | (np.arange(len(y)) % 20 == 0)  # leave only a handful of 70+ predictions
    calibration = conformal.fit(y[keep], predicted[keep], AGES, distributions[keep], min_bin_size=30)
    assert calibration.n_per_bin[7] < 30
    key = "0.90"
    assert calibration.mondrian_bins[key][7] is None
    assert all(q is not None for q in calibration.mondrian_bins[key][:7])
    lo, hi, note = calibration.interval(75.0, AGES, distributions[0], 0.9)
    pooled = calibration.mondrian_pooled[key]
    assert hi - 75.0 == pytest.approx(pooled * math.sqrt(76.0))
    assert "70+ had too few calibration faces; pooled quantile used" in note


def test_bin_too_small_for_the_confidence_falls_back_even_above_min_size():
    rng = np.random.default_rng(2)
    y, predicted, distributions = synthetic(rng, 400)  # about 50 per bin
    calibration = conformal.fit(y, predicted, AGES, distributions, min_bin_size=5)
    smallest = min(calibration.n_per_bin)
    assert 5 <= smallest < 1 / 0.01 - 1  # 99 % needs at least 99 points
    assert calibration.mondrian_bins["0.99"][int(np.argmin(calibration.n_per_bin))] is None
    assert calibration.mondrian_bins["0.50"][int(np.argmin(calibration.n_per_bin))] is not None


def test_unknown_upper_bound_stays_unknown():
    y = np.array([30.0, 31.0, 29.0])
    predicted = np.array([30.0, 30.0, 30.0])
    distributions = np.tile(np.eye(81)[30], (3, 1))
    calibration = conformal.fit(y, predicted, AGES, distributions, min_bin_size=1)
    lo, hi, note = calibration.interval(30.0, AGES, distributions[0], 0.9)
    assert hi is None and "upper bound unknown" in note


def test_intervals_never_go_below_zero_and_grow_with_confidence():
    rng = np.random.default_rng(3)
    calibration = conformal.fit(*_fit_args(synthetic(rng, N_CAL)))
    widths = []
    for confidence in (0.5, 0.8, 0.95):
        lo, hi, _ = calibration.interval(2.0, AGES, np.eye(81)[2], confidence)
        assert lo >= 0.0
        widths.append(hi - lo)
    assert widths == sorted(widths) and widths[0] < widths[-1]


def test_confidence_must_be_on_the_grid():
    rng = np.random.default_rng(4)
    calibration = conformal.fit(*_fit_args(synthetic(rng, 500)))
    with pytest.raises(ValueError, match="confidence 0.905 is not on the calibration grid"):
        calibration.interval(30.0, AGES, np.eye(81)[30], 0.905)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        calibration.interval(30.0, AGES, np.eye(81)[30], 1.0)


def test_artefact_round_trips_through_json():
    rng = np.random.default_rng(5)
    calibration = conformal.fit(*_fit_args(synthetic(rng, 800)))
    calibration.meta = {"estimator": {"id": "x", "version": "1"}}
    again = conformal.Calibration.from_json(json.loads(json.dumps(calibration.to_json())))
    for confidence in (0.5, 0.9, 0.99):
        assert again.interval(41.0, AGES, np.eye(81)[41], confidence) == calibration.interval(
            41.0, AGES, np.eye(81)[41], confidence
        )
    assert again.meta["estimator"]["id"] == "x"


def test_choose_method_prefers_the_narrower_valid_one():
    def ev(coverage, width):
        return conformal.Evaluation(0.9, "m", coverage, width, 10000, [])

    assert conformal.choose_method({"a": ev(0.90, 12.0), "b": ev(0.905, 10.0)})[0] == "b"
    # b is narrower but undercovers: it is not valid
    assert conformal.choose_method({"a": ev(0.90, 12.0), "b": ev(0.85, 8.0)})[0] == "a"
    method, reason = conformal.choose_method({"a": ev(0.70, 12.0), "b": ev(0.80, 8.0)})
    assert method == "b" and "no method reached valid coverage" in reason


def test_distribution_quantiles_of_a_symmetric_distribution():
    p = np.exp(-0.5 * ((AGES - 40) / 6) ** 2)
    lo, hi = conformal.central_interval(AGES, p / p.sum(), 0.9)
    assert lo[0] == pytest.approx(40 - 1.645 * 6, abs=0.3)
    assert hi[0] == pytest.approx(40 + 1.645 * 6, abs=0.3)
    assert conformal.distribution_quantile(AGES, p, 0.5)[0] == pytest.approx(40.0)


def test_pooled_quantile_alone_misses_the_edge_bins():
    # the same data with every bin forced to the pooled quantile: the youngest and
    # oldest bins leave nominal by far more than 1.5 points, so per-bin quantiles matter
    per_bin = []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        calibration = conformal.fit(*_fit_args(synthetic(rng, N_CAL)), min_bin_size=N_CAL + 1)
        y, predicted, distributions = synthetic(rng, N_TEST)
        result = conformal.evaluate(calibration, y, predicted, AGES, distributions, 0.9, conformal.MONDRIAN)
        per_bin.append([row["coverage"] for row in result.per_bin])
    mean = np.mean(per_bin, axis=0)
    assert mean[0] < 0.85 and mean[7] > 0.95
