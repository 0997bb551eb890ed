"""The teeth seen in a smile darken and yellow with age (Krasniqi et al. 2017's per-year change in tooth colour),
on the shipped astronaut portrait (smiling, teeth showing) and Grace Hopper's (mouth closed)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.core.settings import Settings
from engine.methods.classical.contrast import lip_mask
from engine.methods.classical.teeth import TEETH_LAB_PER_YEAR, age_teeth, describe, teeth_mask, teeth_shift
from engine.methods.ldla.pipeline import locate
from tests.conftest import astronaut, grace_hopper

OFFLINE = Settings(profile="offline")


@pytest.mark.unit
def test_the_per_year_change_is_krasniqi_et_al_s_group_means_times_the_years():
    # 20-29 to 40-49 (twenty years): L* 83.2 -> 79.4, a* -0.7 -> -0.5, b* 21.7 -> 23.9
    np.testing.assert_allclose(TEETH_LAB_PER_YEAR, (-0.19, 0.01, 0.11), atol=1e-9)
    # thirty years older: 5.7 L* darker, 3.3 b* yellower
    np.testing.assert_allclose(teeth_shift(40, 70), (-5.7, 0.3, 3.3), atol=1e-9)
    # a younger target is the same curve run backwards
    np.testing.assert_allclose(teeth_shift(70, 40), -teeth_shift(40, 70), atol=1e-9)
    # flat under 20, where the measurements start: a child's target gets the 20-year-old's colour
    np.testing.assert_allclose(teeth_shift(41, 10), teeth_shift(41, 20), atol=1e-9)
    assert not teeth_shift(5, 15).any()
    with pytest.raises(ValueError, match="age must be between 0 and 120"):
        teeth_shift(-1, 30)


def _lab(face: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(face, cv2.COLOR_RGB2LAB).astype(np.float32)
    return np.stack([lab[..., 0] * 100 / 255, lab[..., 1] - 128, lab[..., 2] - 128], -1)


@pytest.mark.pipelines
def test_the_astronauts_teeth_at_80_are_darker_and_yellower_and_nothing_else_moves():
    source = locate(astronaut(), OFFLINE)
    mask = teeth_mask(source.crop, source.points)
    teeth = mask > 0.9
    assert teeth.sum() > 500  # her smile shows a row of upper teeth
    change = age_teeth(source.crop, source.points, 41, 80)
    before, after = _lab(source.crop)[teeth].mean(0), _lab(change.face)[teeth].mean(0)
    # 39 years of Krasniqi et al.'s change: about 7 L* darker and 4 b* yellower (rounding to 8-bit aside)
    assert after[0] - before[0] == pytest.approx(-0.19 * 39, abs=1.0)
    assert after[2] - before[2] == pytest.approx(0.11 * 39, abs=1.0)
    # each tooth's shading kept: the lightness pattern over the teeth is the same
    light = [_lab(f)[..., 0][teeth] for f in (source.crop, change.face)]
    assert np.corrcoef(light[0], light[1])[0, 1] > 0.98
    # her lips, skin and everything outside the teeth mask are returned exactly
    outside = mask == 0
    np.testing.assert_array_equal(change.face[outside], source.crop[outside])
    lips = lip_mask(source.points[:, :2], mask.shape) > 0
    np.testing.assert_array_equal(change.face[lips & outside], source.crop[lips & outside])
    assert describe(change).startswith("teeth L* -7.4, a* +0.4, b* +4.3")
    # toward 10 the other way: lighter and less yellow
    younger = age_teeth(source.crop, source.points, 41, 10)
    # 31 years of the curve is 4.0 L*; most of her teeth are near white (their brightest channel over 220), where the
    # lift tapers off (below): about half of it on average
    assert _lab(younger.face)[teeth].mean(0)[0] > before[0] + 1.5
    # her teeth nearest white are lifted less and none is driven into it: no more of them at white than before (a full
    # lift turned a quarter of them flat white toward 5), their gaps and shading kept
    whitest = [(f[teeth].max(1) >= 254).mean() for f in (source.crop, age_teeth(source.crop, source.points, 45, 5).face)]
    assert whitest[1] <= whitest[0] + 0.005, whitest
    assert "less on the teeth nearest white and none at it" in describe(younger)


@pytest.mark.pipelines
def test_a_closed_mouth_says_no_teeth_in_view():
    source = locate(grace_hopper(), OFFLINE)
    change = age_teeth(source.crop, source.points, 30, 80)
    assert describe(change) == "no teeth in view"
    assert np.array_equal(change.face, source.crop)


@pytest.mark.pipelines
def test_teeth_at_their_own_age_are_returned_exactly_and_a_year_moves_them_by_a_level():
    source = locate(astronaut(), OFFLINE)
    same = age_teeth(source.crop, source.points, 41, 41)
    assert same.in_view and np.array_equal(same.face, source.crop)  # no colour round trip's rounding (up to 4 levels)
    assert describe(same) == (
        "teeth in view, unchanged (the target is the source's age on the curve: the same age, or both under 20, where it is flat)"
    )
    # one year is 0.19 L*: each pixel moves by a level at most (an 8-bit CIELAB round trip alone moved some by 2-4)
    year = age_teeth(source.crop, source.points, 41, 42)
    assert np.abs(year.face.astype(int) - source.crop.astype(int)).max() <= 1
