"""Younger skin's fine texture by band energy matching (youth.fine_texture_left), checked against known values."""

from __future__ import annotations

import numpy as np
import pytest

from engine.methods.classical.youth import (
    FINE_ENERGY_AT,
    MIN_TEXTURE_LEFT,
    TEXTURE_LEFT,
    fine_energy,
    fine_texture_left,
    young_fine_energy,
)

pytestmark = pytest.mark.unit


def test_young_fine_energy_passes_through_its_measured_points_and_is_flat_below_20():
    for age, energy in FINE_ENERGY_AT:
        assert young_fine_energy(age) == pytest.approx(energy)
    assert young_fine_energy(5) == young_fine_energy(20) < young_fine_energy(50) < young_fine_energy(80)
    with pytest.raises(ValueError, match="between 0 and 120"):
        young_fine_energy(-1)


def test_the_fine_band_left_falls_with_the_gap_and_keeps_pores():
    old = 0.052  # an 80-year-old's fine energy (Grace Hopper's portrait)
    kept = [fine_texture_left(old, target, 1.0) for target in (50, 30, 10)]  # at full amount: the share kept
    assert TEXTURE_LEFT >= kept[0] > kept[1] > kept[2] >= MIN_TEXTURE_LEFT  # less the younger the target, above a floor
    assert kept[2] == pytest.approx(young_fine_energy(10) / old)  # matched to young skin's energy
    # a source already as fine as young skin (an upscaled photo's blur) still gets the looked-at share, no more
    assert fine_texture_left(0.001, 10, 1.0) == TEXTURE_LEFT
    assert fine_texture_left(None, 10, 1.0) == TEXTURE_LEFT  # not measured: the fixed share, not a guess
    # at a partial amount the share left is lowered so that the whole change still reaches the matched energy
    share = fine_texture_left(old, 10, 0.5)
    assert 1 - 0.5 * (1 - share) == pytest.approx(kept[2])


def test_fine_energy_measures_the_skins_fine_detail_as_a_share_of_its_lightness():
    rng = np.random.default_rng(0)
    lab = np.full((64, 64, 3), 128.0, np.float32)
    lab[..., 0] = 150.0
    skin = np.ones((64, 64), np.float32)
    assert fine_energy(lab, skin, 100.0, np.zeros((64, 64), np.float32)) == pytest.approx(0.0, abs=1e-6)
    rough = lab.copy()
    rough[..., 0] += rng.normal(0, 6, (64, 64)).astype(np.float32)
    smooth = lab.copy()
    smooth[..., 0] += rng.normal(0, 3, (64, 64)).astype(np.float32)
    none = np.zeros((64, 64), np.float32)
    smooth_energy = fine_energy(smooth, skin, 100.0, none)
    assert smooth_energy is not None
    assert fine_energy(rough, skin, 100.0, none) == pytest.approx(2 * smooth_energy, rel=0.1)
    assert fine_energy(rough, np.zeros((64, 64), np.float32), 100.0, none) is None  # no skin: missing, not 0
