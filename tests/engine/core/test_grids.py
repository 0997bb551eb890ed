"""Fields worked out on a coarse grid and brought to every pixel (engine/core/grids.py)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.grids import every_pixel, grid_points, grid_size

pytestmark = pytest.mark.unit


def test_a_field_linear_in_the_coordinates_lands_on_every_pixel_exactly_where_the_grid_holds_it():
    # a warp's map that moves nothing reads as each pixel's own coordinates: a grid resized up as if its nodes lay at
    # every 8th pixel put them 3.5 px off
    shape = (100, 70)
    for step in (1, 4, 8):
        xs, ys = grid_points(shape, step)
        assert xs.shape == grid_size(shape, step) == (-(-100 // step), -(-70 // step))
        field = every_pixel(np.stack([xs, ys], -1), step, shape)
        assert field.shape == (100, 70, 2) and field.dtype == np.float32
        rows, columns = np.mgrid[:100, :70]
        inside = (columns >= xs.min()) & (columns <= xs.max()) & (rows >= ys.min()) & (rows <= ys.max())
        assert np.abs(field[..., 0] - columns)[inside].max() < 1e-3
        assert np.abs(field[..., 1] - rows)[inside].max() < 1e-3
        # within half a block of the edge: the nearest node's value
        assert field[0, 0, 0] == pytest.approx(xs.min()) and field[-1, -1, 1] == pytest.approx(min(ys.max(), 99.0))


def test_a_field_of_another_grids_size_or_a_step_under_one_is_refused():
    with pytest.raises(ValueError, match=r"a field on the 13 x 9 grid of 8 px blocks was expected, got \(12, 9\)"):
        every_pixel(np.zeros((12, 9)), 8, (100, 70))
    with pytest.raises(ValueError, match="a grid's step must be a whole number of pixels, 1 or more, got 0"):
        grid_size((100, 70), 0)
