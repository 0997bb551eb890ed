"""Float pixel values back to 8 bits: one rounding and saturation for every stage."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.pixels import to_uint8

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("shape", [(7,), (5, 9), (6, 4, 3), (3, 5, 7)])
def test_rounds_halves_to_even_and_saturates_as_numpy_does_in_every_shape(shape):
    values = np.random.default_rng(0).uniform(-40.0, 300.0, shape)
    values.flat[:6] = [0.5, 1.5, 2.5, 254.5, 255.5, -0.5]  # ties go to the even neighbour; out of range saturates
    for dtype in (np.float32, np.float64):
        cast = values.astype(dtype)
        out = to_uint8(cast)
        assert out.dtype == np.uint8 and out.shape == shape
        np.testing.assert_array_equal(out, np.clip(np.round(cast), 0, 255).astype(np.uint8))
    assert list(to_uint8(values).flat[:6]) == [0, 2, 2, 254, 255, 0]


def test_one_number_an_empty_array_and_integers_come_back_as_numpy_gives_them():
    for values in (np.float64(3.5), np.array([254.6]), np.zeros((1, 1)), np.zeros((0, 3)), np.array([-3, 7, 300], np.int64)):
        out = to_uint8(values)
        assert out.dtype == np.uint8 and out.shape == np.shape(values)
        np.testing.assert_array_equal(out, np.clip(np.round(values), 0, 255).astype(np.uint8))
