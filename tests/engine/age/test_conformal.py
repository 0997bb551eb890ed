"""The conformal maths on synthetic data with known noise."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from engine.age import conformal
from engine.core.errors import InputError

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


def _fit_args(
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
    assert pooled is not None
    assert 75.0 - lo == pytest.approx(pooled * math.sqrt(76.0))
    assert "70+ had too few calibration faces; pooled quantile used" in note
    # 75 + the pooled half-width passes the estimator's top class: the upper end is open, not a number
    assert hi is None and "upper end open" in note


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
        assert hi is not None
        widths.append(hi - lo)
    assert widths == sorted(widths) and widths[0] < widths[-1]


def test_confidence_must_be_on_the_grid():
    rng = np.random.default_rng(4)
    calibration = conformal.fit(*_fit_args(synthetic(rng, 500)))
    with pytest.raises(InputError, match="confidence 0.905 is not on the calibration grid"):  # the caller's to fix
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


def test_level_intervals_are_ordered_for_any_distribution_and_level():
    # property: over random distributions (peaked, flat, with empty classes) and every level in [0, 1],
    # lo <= hi, lo >= 0, and y lies in the interval exactly when its level score is at most the level
    rng = np.random.default_rng(6)
    for draw in range(300):
        concentration = rng.choice([0.05, 0.5, 5.0])
        distribution = rng.dirichlet(np.full(81, concentration))
        levels = np.concatenate([[0.0, 1.0], rng.uniform(0, 1, 20)])
        y = rng.uniform(0, 90, len(levels))
        for level, age in zip(levels, y):
            lo, hi = conformal.level_interval(AGES, distribution, float(level))
            assert 0.0 <= lo[0] <= hi[0], (draw, level, lo, hi)
            score = conformal.level_score(np.array([age]), AGES, distribution)[0]
            if abs(score - level) > 1e-9 and distribution.min() > 1e-12:  # off the boundary, CDF strictly rising
                assert (lo[0] <= age <= hi[0]) == (score <= level), (draw, level, age, score, lo, hi)


def test_level_method_never_inverts_where_the_additive_correction_did():
    # an estimator whose distributions are mostly far too wide, a few far too narrow: the additive CQR
    # correction max(lo - y, y - hi) is negative here and the narrow raw intervals turn inside out
    rng = np.random.default_rng(7)

    def spread(predicted):
        factor = np.where(np.arange(len(predicted)) % 30 == 0, 0.15, 4.0)
        sd = factor * 1.2 * np.sqrt(predicted + 1)
        return np.exp(-0.5 * ((AGES[None, :] - predicted[:, None]) / sd[:, None]) ** 2)

    y, predicted, _ = synthetic(rng, 3000)
    wide = spread(predicted)
    lo_raw, hi_raw = conformal.central_interval(AGES, wide, 0.9)
    additive = conformal.conformal_quantile(np.maximum(lo_raw - y, y - hi_raw), 0.1)
    assert additive < 0 and np.any(hi_raw - lo_raw + 2 * additive < 0)  # the old method's inverted intervals
    calibration = conformal.fit(y, predicted, AGES, wide)
    level = calibration.cqr["0.90"]
    assert level is not None and 0.0 <= level < 0.9  # the calibrated level is lower than nominal: narrower, never inverted
    y2, predicted2, _ = synthetic(rng, 20000)
    wide2 = spread(predicted2)
    found = conformal.intervals(calibration, predicted2, AGES, wide2, 0.9, conformal.CQR)
    assert np.all(found.lo <= found.hi)
    result = conformal.evaluate(calibration, y2, predicted2, AGES, wide2, 0.9, conformal.CQR)
    assert abs(result.coverage - 0.9) <= 3 * math.sqrt(0.09 / 3000 + 0.09 / 20000), result.coverage


@pytest.mark.parametrize("confidence", [0.8, 0.9])
def test_level_method_marginal_coverage_is_nominal(confidence):
    # the level method's guarantee is marginal (per-bin coverage is Mondrian's, tested above);
    # tolerance: three standard deviations of a split-conformal coverage averaged over the seeds
    # (calibration Beta spread plus test binomial spread)
    marginal = []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        calibration = conformal.fit(*_fit_args(synthetic(rng, N_CAL)))
        y, predicted, distributions = synthetic(rng, N_TEST)
        marginal.append(conformal.evaluate(calibration, y, predicted, AGES, distributions, confidence, conformal.CQR).coverage)
    spread = math.sqrt(confidence * (1 - confidence) * (1 / N_CAL + 1 / N_TEST) / len(SEEDS))
    assert abs(np.mean(marginal) - confidence) <= 3 * spread, np.mean(marginal)


def test_evaluation_reports_coverage_per_true_age_bin_and_gender():
    rng = np.random.default_rng(8)
    calibration = conformal.fit(*_fit_args(synthetic(rng, N_CAL)))
    y, predicted, distributions = synthetic(rng, 4000)
    genders: list[str | None] = ["female" if i % 3 else "male" for i in range(4000)]
    genders[0] = None  # a missing label stays missing: its own group, not guessed
    result = conformal.evaluate(calibration, y, predicted, AGES, distributions, 0.9, conformal.MONDRIAN, genders)
    by_gender = {row["gender"]: row for row in result.per_gender}
    assert set(by_gender) == {"female", "male", "unknown"} and by_gender["unknown"]["n"] == 1
    assert by_gender["female"]["n"] + by_gender["male"]["n"] == 3999
    assert [row["n"] for row in result.per_true_bin] == [int(np.sum(conformal.age_bin(y) == b)) for b in range(8)]
    for row in result.per_true_bin + result.per_gender[:2]:
        assert 0.85 <= row["coverage"] <= 1.0


def test_mondrian_and_level_quantiles_agree_with_crepes():
    crepes = pytest.importorskip("crepes", reason="crepes is in requirements-dev.txt")
    rng = np.random.default_rng(9)
    y, predicted, distributions = synthetic(rng, 2500)
    calibration = conformal.fit(y, predicted, AGES, distributions, min_bin_size=1)
    y_test, predicted_test, distributions_test = synthetic(rng, 3000)
    sigmas = np.sqrt(predicted + 1)
    oracle = crepes.ConformalRegressor().fit(y - predicted, sigmas=sigmas, bins=conformal.age_bin(predicted))
    levels = crepes.ConformalRegressor().fit(conformal.level_score(y, AGES, distributions))
    for confidence in (0.5, 0.8, 0.9, 0.95):
        expected = oracle.predict_int(
            predicted_test,
            sigmas=np.sqrt(predicted_test + 1),
            bins=conformal.age_bin(predicted_test),
            confidence=confidence - 1e-12,  # crepes truncates (1 - c)(n + 1) with float error (0.1 * 10 < 1)
            y_min=0,
        )
        found = conformal.intervals(calibration, predicted_test, AGES, distributions_test, confidence, conformal.MONDRIAN)
        np.testing.assert_allclose(found.lo, expected[:, 0], atol=1e-9)
        closed = np.isfinite(found.hi)
        np.testing.assert_allclose(found.hi[closed], expected[closed, 1], atol=1e-9)
        assert np.all(expected[~closed, 1] >= AGES[-1])  # open only where the oracle passes the top class
        q = levels.predict_int(np.zeros(1), confidence=confidence)[0, 1]
        assert calibration.cqr[f"{confidence:.2f}"] == pytest.approx(q, abs=1e-12)


def test_true_ages_past_the_top_class_are_covered_by_the_open_end_and_no_longer_widen_the_last_bin():
    # scores used a true age of 90 whole against predictions capped at 80: the last bin's intervals were wider than the
    # open end at 80 needs, and coverage is the same either way
    rng = np.random.default_rng(7)

    def old_faces(n):
        y = rng.uniform(60, 100, n)  # half of them past the estimator's top class
        predicted = np.clip(y + 1.2 * np.sqrt(np.minimum(y, 80) + 1) * rng.standard_normal(n), 0, 80)
        sd = 1.2 * np.sqrt(predicted + 1)
        distributions = np.exp(-0.5 * ((AGES[None, :] - predicted[:, None]) / sd[:, None]) ** 2)
        return y, predicted, distributions / distributions.sum(axis=1, keepdims=True)

    calibration = conformal.fit(*_fit_args(old_faces(N_CAL)))
    unclipped = conformal.conformal_quantile(conformal.normalised_score(*old_faces(N_CAL)[:2])[:N_CAL], 0.1)
    last = calibration.mondrian_bins["0.90"][-1]
    assert last is not None and last < 0.8 * unclipped
    y, predicted, distributions = old_faces(N_TEST)
    for method in conformal.METHODS:
        found = conformal.evaluate(calibration, y, predicted, AGES, distributions, 0.9, method)
        assert found.coverage >= 0.88, (method, found.coverage)
