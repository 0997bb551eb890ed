"""The gender threshold chooser on probabilities with a known best threshold, and its place in the artefact."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.age import conformal, gender

pytestmark = pytest.mark.unit

# Five men and five women; worked by hand: a threshold in (0.30, 0.32) calls every woman female
# and the man at 0.35 too (TPR 1, TNR 0.8); one in (0.35, 0.40) misses the woman at 0.32 and no
# man (TPR 0.8, TNR 1). Both have balanced accuracy 0.9, every other split less; at 0.5 it is 0.7.
MEN = [0.05, 0.10, 0.20, 0.30, 0.35]
WOMEN = [0.32, 0.40, 0.45, 0.60, 0.90]


def _labelled(men, women):
    return np.array(men + women), np.array([False] * len(men) + [True] * len(women))


def test_balanced_accuracy_picks_the_best_split_and_breaks_the_tie_towards_one_half():
    p, is_female = _labelled(MEN, WOMEN)
    chosen = gender.choose_threshold(p, is_female)
    assert chosen.threshold == pytest.approx(0.375)  # the midpoint of 0.35 and 0.40, the tied split nearer 0.5
    assert chosen.score == pytest.approx(0.9) and chosen.score_at_default == pytest.approx(0.7)
    assert (chosen.n_female, chosen.n_male) == (5, 5) and chosen.criterion == "balanced_accuracy"
    assert [gender.gender_of(v, chosen.threshold) for v in (0.35, 0.40)] == ["male", "female"]


def test_f1_of_female_prefers_the_split_that_calls_every_woman_female():
    p, is_female = _labelled(MEN, WOMEN)
    chosen = gender.choose_threshold(p, is_female, gender.F1)
    # (0.30, 0.32): TP 5, FP 1 -> F1 10/11; (0.35, 0.40): TP 4, FN 1 -> 8/9
    assert chosen.threshold == pytest.approx(0.31) and chosen.score == pytest.approx(10 / 11)


def test_a_biased_classifier_gets_the_threshold_theory_predicts():
    # Scores N(+1, 1) for women and N(-1, 1) for men: balanced accuracy is best at score 0. The
    # classifier's p(female) = sigmoid(score - 1.5) is biased towards "male", so the best threshold
    # on p is sigmoid(-1.5) = 0.182, and 0.5 loses a good share of the women.
    rng = np.random.default_rng(0)
    n = 20000
    is_female = rng.random(n) < 0.3  # the shares of each gender do not move a balanced-accuracy threshold
    scores = np.where(is_female, 1.0, -1.0) + rng.standard_normal(n)
    p = 1.0 / (1.0 + np.exp(-(scores - 1.5)))
    chosen = gender.choose_threshold(p, is_female)
    best = 1.0 / (1.0 + np.exp(1.5))
    assert abs(chosen.threshold - best) < 0.03
    # the population optimum's balanced accuracy is Phi(1) = 0.841; at 0.5 it is (Phi(-0.5) + Phi(2.5)) / 2 = 0.651
    assert chosen.score == pytest.approx(0.841, abs=0.01) and chosen.score_at_default == pytest.approx(0.651, abs=0.01)


def test_one_gender_alone_cannot_choose_a_threshold():
    with pytest.raises(ValueError, match="both genders, got 3 female and 0 male"):
        gender.choose_threshold([0.2, 0.6, 0.9], [True, True, True])
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        gender.choose_threshold([0.2, 1.6], [True, False])


def _calibration():
    rng = np.random.default_rng(0)
    ages = np.arange(81.0)
    y = rng.uniform(0, 80, 400)
    predicted = np.clip(y + rng.normal(0, 3, 400), 0, 80)
    return conformal.fit(y, predicted, ages, np.tile(np.ones(81) / 81, (400, 1)))


def test_the_threshold_survives_the_artefact_round_trip_and_old_artefacts_have_none():
    calibration = _calibration()
    chosen = gender.choose_threshold(*_labelled(MEN, WOMEN))
    calibration.meta = {"artefact_version": 2, "gender_threshold": {**chosen.to_json(), "source": "calibration part"}}
    again = conformal.Calibration.from_json(json.loads(json.dumps(calibration.to_json())))
    assert again.gender_threshold == pytest.approx(0.375)
    assert again.meta["gender_threshold"]["criterion"] == "balanced_accuracy"
    old = _calibration()
    old.meta = {"artefact_version": 2}  # made before thresholds were chosen: still loads, no threshold
    assert conformal.Calibration.from_json(json.loads(json.dumps(old.to_json()))).gender_threshold is None
    broken = calibration.to_json() | {"gender_threshold": {"threshold": 1.7}}
    with pytest.raises(ValueError, match="gender threshold must be a probability in \\[0, 1\\], got 1.7"):
        conformal.Calibration.from_json(broken)
