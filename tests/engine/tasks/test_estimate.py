"""Age estimation with intervals on the packaged portraits."""

from __future__ import annotations

import pytest

from engine.core.settings import Settings
from engine.tasks.estimate import estimate_ages
from tests.conftest import astronaut, grace_hopper

pytestmark = pytest.mark.pipelines

SETTINGS = Settings(profile="offline")


@pytest.mark.parametrize("portrait, low, high", [(astronaut, 20, 60), (grace_hopper, 50, 80)])
def test_portrait_gets_a_sane_age_inside_its_interval(portrait, low, high):
    analysis = estimate_ages(portrait(), 0.9, SETTINGS)
    assert len(analysis.faces) == 1
    face = analysis.faces[0]
    assert low <= face.age <= high
    lo, hi = face.interval
    assert lo <= face.age <= hi
    assert face.distribution.shape == (81,) and face.distribution.sum() == pytest.approx(1.0)
    assert face.calibrated is False and face.method == "distribution (uncalibrated)"
    assert not analysis.calibrated and "no calibration artefact" in analysis.calibration


def test_astronaut_is_female_with_high_probability():
    face = estimate_ages(astronaut(), 0.9, SETTINGS).faces[0]
    assert face.gender == "female" and face.p_female > 0.8


def test_higher_confidence_gives_a_wider_interval():
    narrow = estimate_ages(astronaut(), 0.5, SETTINGS).faces[0].interval
    wide = estimate_ages(astronaut(), 0.95, SETTINGS).faces[0].interval
    assert wide[0] <= narrow[0] and wide[1] >= narrow[1] and (wide[1] - wide[0]) > (narrow[1] - narrow[0])
