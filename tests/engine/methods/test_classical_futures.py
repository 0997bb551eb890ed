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
    SAGGING_ONSET_YEARS,
    SAGGING_SD_YEARS,
    SALLOW_SD_YEARS,
    SPOTS_SD_YEARS,
    describe_variation,
    sample_variations,
    sample_zone_scores,
    years_shown,
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
    named = describe_variation(variation, 70, 41)
    assert named["sagging_years_ahead"] == round(years_shown(70, variation.sagging_years, SAGGING_ONSET_YEARS), 1)
    assert named["fullness_bmi_change"] == round(variation.fullness_bmi, 1)
    assert named["spots_years_ahead"] == round(years_shown(70, variation.spots_years, 40), 1)
    assert named["sallow_years_ahead"] == round(years_shown(70, variation.sallow_years, 25), 1)
    assert named["grey_onset_shift_years"] == round(variation.grey_onset_shift, 1)
    assert named["zone_scores"] == variation.zone_scores and named["zone_scores"] != BASE  # its own draw of the scores
    # toward a younger target no spots or sallowness are drawn on the face: the manifest does not name a draw of them
    younger = describe_variation(variation, 10, 41)
    assert younger["spots_years_ahead"] is None and younger["sallow_years_ahead"] is None
    assert younger["grey_onset_shift_years"] == named["grey_onset_shift_years"]  # the grey given colour back differs by it
    # at the source age no years pass: no greying, weight, spots or sallowness; the sagging drawn still moves the face
    same = describe_variation(variation, 41, 41)
    assert [same[key] for key in ("grey_onset_shift_years", "grey_pattern_temples_first", "fullness_bmi_change")] == [None] * 3
    assert same["spots_years_ahead"] is None and same["sallow_years_ahead"] is None and same["sagging_years_ahead"] != 0
    # no hair found: the scalp's greying pattern is drawn nowhere (the onset still greys the eyebrows)
    bald = describe_variation(variation, 70, 41, hair=False)
    assert bald["grey_pattern_temples_first"] is None and bald["grey_onset_shift_years"] == named["grey_onset_shift_years"]


def test_a_sign_drawn_past_its_curves_end_shows_what_the_mean_face_shows():
    # the curves of sagging, spots and sallowness end at 80: a future drawn 10 years ahead at 80 looks as the mean does,
    # and one drawn 10 years ahead at 75 shows 5 of them; behind, within the curve, the whole draw shows
    assert years_shown(80, 10.0, 40) == 0 and years_shown(75, 10.0, 40) == 5 and years_shown(75, -10.0, 40) == -10
    assert years_shown(10, -5.0, 40) == 0 and years_shown(35, 10.0, 40) == 5  # flat below the onset
    # spots and sallowness are only added toward an older target: one drawn behind the source's own shows the source's
    assert years_shown(65, -10.3, 40, least=60) == -5 and years_shown(65, -3.0, 40, least=60) == -3
    assert describe_variation(Variation(spots_years=-10.3, sallow_years=-10.3), 65, 60)["spots_years_ahead"] == -5
    futures = sample_variations(BASE, POPULATION_INTENSITY, 200, seed=1, years=39)
    at_80 = [describe_variation(future, 80, 41) for future in futures]
    assert max(named["spots_years_ahead"] for named in at_80) == 0 and min(named["spots_years_ahead"] for named in at_80) < 0
    assert max(named["sagging_years_ahead"] for named in at_80) == 0


def test_a_future_that_recedes_recedes_to_norwood_iii_and_the_mean_future_by_the_share_of_men():
    futures = sample_variations(BASE, POPULATION_INTENSITY, 400, seed=2, receding_probability=0.24, years=10)
    receding = [future for future in futures if future.receding_hairline]
    assert abs(len(receding) / len(futures) - 0.24) < 0.06  # as often as the men who recede
    assert {future.recession for future in receding} == {1.0}  # in full (drawn by 0.24 before: barely seen)
    assert all(future.recession is None for future in futures if not future.receding_hairline)
    mean = sample_variations(BASE, 0.0, 3, seed=2, receding_probability=0.24, years=10)
    assert all(future.receding_hairline and future.recession is None for future in mean)  # the lifespan model's face


def test_the_two_sides_of_a_face_are_drawn_alike_and_each_keeps_its_spread():
    base = {"crows_feet_left": 50.0, "crows_feet_right": 50.0, "forehead": 50.0}
    draws = sample_zone_scores(base, POPULATION_INTENSITY, 3000, seed=4)
    left, right, forehead = (np.array([d[zone] for d in draws]) for zone in base)
    assert np.corrcoef(left, right)[0, 1] > 0.7  # drawn apart, about 0: one side at 20 and the other at 80
    assert abs(np.corrcoef(left, forehead)[0, 1]) < 0.1  # the zones of one side stay apart
    assert np.std(left) == pytest.approx(np.std(forehead), rel=0.1) and np.mean(left) == pytest.approx(50, abs=1.5)


def test_the_top_of_the_diversity_slider_reaches_peoples_tails_not_all_or_nothing():
    # a score of 50 drawn at the slider's top stays within people's tails (3 SDs of the default's logit, 1.2): 3-97
    draws = sample_zone_scores({"forehead": 50.0}, 2.0, 2000, seed=5)
    scores = np.array([d["forehead"] for d in draws])
    assert scores.min() >= 2 and scores.max() <= 98  # unbounded, 78 % of them were 0-1 or 99-100
    patterns = np.array([future.grey_pattern for future in sample_variations(BASE, 2.0, 2000, seed=5)])
    assert patterns.min() > 0.02 and patterns.max() < 0.98  # unbounded: half of them outside
    wider = np.std([d["forehead"] for d in draws])
    default = np.std([d["forehead"] for d in sample_zone_scores({"forehead": 50.0}, POPULATION_INTENSITY, 2000, seed=5)])
    assert wider > 1.5 * default  # the slider still spreads them further


@pytest.mark.parametrize("score", [3.0, 40.0, 83.0, 100.0])
def test_drawn_wrinkle_scores_are_centred_on_the_curves_value(score):
    # the astronaut's forehead at 70 is 83: the futures' mean score must be the mean face's, not a milder one
    draws = [s["forehead"] for s in sample_zone_scores({"forehead": score}, POPULATION_INTENSITY, 4000, seed=11)]
    assert np.mean(draws) == pytest.approx(score, abs=2.0)
    wider = [s["forehead"] for s in sample_zone_scores({"forehead": score}, 2 * POPULATION_INTENSITY, 4000, seed=11)]
    assert np.mean(wider) == pytest.approx(score, abs=3.0)  # the slider widens the spread, not the mean
    if 0 < score < 100:
        assert np.std(wider) > np.std(draws) > 0
