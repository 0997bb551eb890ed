"""How the classical pluralistic futures differ: the stated distributions of sagging, weight and skin."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.methods.classical.lifespan import Variation
from engine.methods.classical.pluralistic import (
    BMI_SD_PER_SQRT_YEAR,
    PLAUSIBLE_SD,
    POPULATION_INTENSITY,
    SAGGING_SD_YEARS,
    SALLOW_SD_YEARS,
    SPOTS_SD_YEARS,
    describe_variation,
    sample_variations,
    sample_zone_scores,
)
from engine.methods.classical.shape import descent_between, describe

pytestmark = pytest.mark.unit

BASE = {"forehead": 40.0, "glabella": 10.0}
FIELDS = ("sagging_years", "spots_years", "sallow_years", "fullness_bmi")


def _draws(intensity: float, years: float, count: int = 4000, seed: int = 3) -> dict[str, np.ndarray]:
    variations = sample_variations(BASE, intensity, count, seed, years=years)
    return {name: np.array([getattr(v, name) for v in variations]) for name in FIELDS}


STATED = {  # each difference's standard deviation in the population, the years being the astronaut's 41 to 70
    "sagging_years": SAGGING_SD_YEARS,
    "spots_years": SPOTS_SD_YEARS,
    "sallow_years": SALLOW_SD_YEARS,
    "fullness_bmi": BMI_SD_PER_SQRT_YEAR * math.sqrt(29.0),
}


def test_each_difference_has_its_stated_mean_and_spread():
    draws = _draws(POPULATION_INTENSITY, 29.0)
    for name, sd in STATED.items():
        values = draws[name]
        assert abs(values.mean()) < 4 * sd / math.sqrt(len(values)), name  # centred on the mean future
        assert values.std() == pytest.approx(sd, rel=0.05), name  # the default draws the population's spread
    # independent of one another: no future is simply "older everywhere"
    correlations = np.corrcoef(np.stack([draws[name] for name in FIELDS]))
    assert np.abs(correlations[np.triu_indices(len(FIELDS), 1)]).max() < 0.08


@pytest.mark.parametrize("intensity", [2 * POPULATION_INTENSITY, 2.0])
def test_more_diverse_futures_reach_further_into_peoples_tails_but_not_past_them(intensity):
    draws, default = _draws(intensity, 29.0), _draws(POPULATION_INTENSITY, 29.0)
    for name, sd in STATED.items():
        values = draws[name]
        assert abs(values.mean()) < 4 * values.std() / math.sqrt(len(values)), name  # still centred on the mean future
        assert values.std() > 1.3 * default[name].std(), name  # wider than the population's spread
        # never past 3 of its standard deviations (the slider's top drew 30 kg/m^2 and more: a ballooned lower face)
        assert np.abs(values).max() < PLAUSIBLE_SD * sd, name
        assert len(np.unique(values)) == len(values), name  # not cut to one extreme
    onsets = [v.grey_onset_shift for v in sample_variations(BASE, intensity, 500, seed=2)]
    assert max(abs(shift) for shift in onsets) < PLAUSIBLE_SD * 9.6


def test_weight_spread_grows_with_the_years_to_the_target_and_is_none_at_the_source_age():
    assert np.all(_draws(0.3, 0.0, 200)["fullness_bmi"] == 0.0)
    ten, forty = _draws(0.3, 10.0)["fullness_bmi"].std(), _draws(0.3, 40.0)["fullness_bmi"].std()
    assert forty / ten == pytest.approx(2.0, rel=0.08)  # a random walk: sqrt(40 / 10)
    assert ten == pytest.approx(BMI_SD_PER_SQRT_YEAR * math.sqrt(10), rel=0.05)  # about 2.5 kg/m^2 over a decade
    with pytest.raises(ValueError, match="got -5"):
        sample_variations(BASE, 0.3, 2, 0, years=-5)


def test_zero_diversity_gives_the_mean_future_every_time():
    for variation in sample_variations(BASE, 0.0, 5, seed=4, receding_probability=0.0, years=30):
        assert variation == Variation(zone_scores=BASE)
    mean = descent_between(41, 70)
    assert descent_between(41, 70, 0.0, 0.0) == mean and mean.fullness == 0


def test_futures_are_the_same_for_a_seed_and_differ_between_seeds():
    assert sample_variations(BASE, 0.3, 4, seed=5, years=29) == sample_variations(BASE, 0.3, 4, seed=5, years=29)
    first, other = sample_variations(BASE, 0.3, 4, seed=5, years=29), sample_variations(BASE, 0.3, 4, seed=6, years=29)
    assert all(a.sagging_years != b.sagging_years and a.fullness_bmi != b.fullness_bmi for a, b in zip(first, other))
    # the new draws have their own stream: greying draws are as they were without them
    assert [v.grey_onset_shift for v in first] == [v.grey_onset_shift for v in sample_variations(BASE, 0.3, 4, seed=5)]


def test_a_face_ahead_sags_more_and_one_behind_less_within_the_curves():
    mean, ahead, behind = descent_between(41, 70), descent_between(41, 70, 10.0), descent_between(41, 70, -10.0)
    assert behind.tissue < mean.tissue < ahead.tissue and behind.lips < mean.lips < ahead.lips
    far = descent_between(41, 70, 200.0)  # past the curves' end: the extent at 80, not beyond
    assert far.tissue == descent_between(41, 80).tissue
    fuller = descent_between(41, 70, 0.0, 4.0)
    assert not fuller.zero and (fuller.tissue, fuller.lips) == (mean.tissue, mean.lips)
    assert "fuller by 4.0 kg/m^2" in describe(fuller) and "leaner by 2.5" in describe(descent_between(41, 70, 0, -2.5))


def test_the_manifest_names_every_drawn_difference():
    variation = sample_variations(BASE, 0.3, 1, seed=7, years=29)[0]
    named = describe_variation(variation)
    assert named["sagging_years_ahead"] == round(variation.sagging_years, 1)
    assert named["fullness_bmi_change"] == round(variation.fullness_bmi, 1)
    assert named["spots_years_ahead"] == round(variation.spots_years, 1)
    assert named["sallow_years_ahead"] == round(variation.sallow_years, 1)
    assert named["grey_onset_shift_years"] == round(variation.grey_onset_shift, 1)
    # toward a younger target no spots or sallowness are drawn on the face: the manifest does not name a draw of them
    younger = describe_variation(variation, younger=True)
    assert younger["spots_years_ahead"] is None and younger["sallow_years_ahead"] is None
    assert younger["sagging_years_ahead"] == named["sagging_years_ahead"]  # the descent taken back differs by it


@pytest.mark.parametrize("score", [3.0, 40.0, 83.0, 100.0])
def test_drawn_wrinkle_scores_are_centred_on_the_curves_value(score):
    # the astronaut's forehead at 70 is 83: the futures' mean score must be the mean face's, not a milder one
    draws = [s["forehead"] for s in sample_zone_scores({"forehead": score}, POPULATION_INTENSITY, 4000, seed=11)]
    assert np.mean(draws) == pytest.approx(score, abs=2.0)
    wider = [s["forehead"] for s in sample_zone_scores({"forehead": score}, 2 * POPULATION_INTENSITY, 4000, seed=11)]
    assert np.mean(wider) == pytest.approx(score, abs=3.0)  # the slider widens the spread, not the mean
    if 0 < score < 100:
        assert np.std(wider) > np.std(draws) > 0
