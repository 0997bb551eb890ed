"""The thin-plate spline behind the landmark warps: it interpolates, it is the spline scipy solves, it refuses
degenerate centres by name."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import RBFInterpolator

from engine.methods.classical import thinplate

pytestmark = pytest.mark.unit


def _landmarks(count: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    centres = rng.uniform(0, 512, (count, 2))
    return centres, rng.normal(0, 4, (count, 2))


def test_passes_through_its_values_at_the_centres():
    centres, values = _landmarks()
    spline = thinplate.fit(centres, values)
    np.testing.assert_allclose(thinplate.evaluate(spline, centres), values, atol=1e-8)


@pytest.mark.parametrize("smoothing", [0.0, 1.0])
def test_is_the_spline_scipy_solves(smoothing):
    # the same system as scipy's RBFInterpolator (thin-plate kernel, affine part), also with smoothing, on a grid
    # longer than one evaluation block
    centres, values = _landmarks(120)
    ys, xs = np.mgrid[0:520:8, 0:520:8].astype(np.float64)
    grid = np.stack([xs.ravel(), ys.ravel()], 1)
    assert len(grid) > thinplate.CHUNK
    ours = thinplate.evaluate(thinplate.fit(centres, values, smoothing), grid)
    theirs = RBFInterpolator(centres, values, kernel="thin_plate_spline", smoothing=smoothing)(grid)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_an_affine_field_is_reproduced_exactly_away_from_the_centres():
    # the kernel part vanishes for values an affine map gives: a shift and shear moves every point the same way
    centres, _ = _landmarks()
    values = np.stack([0.01 * centres[:, 0] + 3.0, -0.02 * centres[:, 1] + 0.005 * centres[:, 0]], 1)
    far = np.array([[-100.0, 700.0], [900.0, -50.0]])
    expected = np.stack([0.01 * far[:, 0] + 3.0, -0.02 * far[:, 1] + 0.005 * far[:, 0]], 1)
    np.testing.assert_allclose(thinplate.evaluate(thinplate.fit(centres, values), far), expected, atol=1e-6)


def test_repeated_centres_are_refused_by_name():
    centres, values = _landmarks()
    with pytest.raises(ValueError, match="degenerate"):
        thinplate.fit(np.concatenate([centres, centres[:1]]), np.concatenate([values, values[:1] + 1.0]))
    with pytest.raises(ValueError, match=f"\\({centres[0, 0]:g}, {centres[0, 1]:g}\\) is repeated"):
        thinplate.fit(np.concatenate([centres, centres[:1]]), np.concatenate([values, values[:1] + 1.0]))


def test_values_that_do_not_match_the_centres_and_a_negative_smoothing_are_refused_by_name():
    centres, values = _landmarks()
    with pytest.raises(ValueError, match="one row of values per centre"):
        thinplate.fit(centres, values[:-1])
    with pytest.raises(ValueError, match="smoothing must be 0 or more, got -1"):
        thinplate.fit(centres, values, smoothing=-1.0)
