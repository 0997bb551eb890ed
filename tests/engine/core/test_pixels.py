"""Float pixel values back to 8 bits: one rounding and saturation for every stage; changed pixels put back."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.pixels import chosen, per_pixel, to_uint8

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
        out = to_uint8(values)  # type: ignore[arg-type]  # np.float64(3.5): a numpy scalar, deliberately not an array
        assert out.dtype == np.uint8 and out.shape == np.shape(values)
        np.testing.assert_array_equal(out, np.clip(np.round(values), 0, 255).astype(np.uint8))


@pytest.mark.parametrize("dtype, channels", [(np.uint8, 3), (np.uint8, 1), (np.float32, 3), (np.uint8, 4)])
def test_chosen_takes_the_new_pixels_where_the_mask_holds_and_leaves_both_inputs_alone(dtype, channels):
    rng = np.random.default_rng(1)
    frame = (rng.random((40, 50, channels)) * 255).astype(dtype)
    new, old = frame[5:35, 10:45], (rng.random((30, 35, channels)) * 255).astype(dtype)  # a view of a larger image, too
    where = rng.random((30, 35)) > 0.6
    kept_new, kept_old = new.copy(), old.copy()
    out = chosen(where, new, old)
    np.testing.assert_array_equal(out, np.where(where[..., None], new, old))
    assert out.dtype == dtype and out.shape == old.shape
    np.testing.assert_array_equal(new, kept_new)
    np.testing.assert_array_equal(old, kept_old)
    assert np.array_equal(chosen(np.zeros((30, 35), bool), new, old), old)
    assert np.array_equal(chosen(np.ones((30, 35), bool), new, old), new)


def test_chosen_names_images_that_do_not_match():
    image = np.zeros((4, 5, 3), np.uint8)
    with pytest.raises(ValueError, match=r"\(4, 5, 3\) uint8, \(4, 5, 3\) float32"):
        chosen(np.ones((4, 5), bool), image, image.astype(np.float32))
    with pytest.raises(ValueError, match=r"a mask of \(5, 4\)"):
        chosen(np.ones((5, 4), bool), image, image)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_per_pixel_weights_give_numpys_numbers_and_mixed_types_numpys_promotion(channels):
    rng = np.random.default_rng(2)
    image = rng.normal(0.0, 50.0, (30, 35, channels)).astype(np.float32)
    weight = rng.random((30, 35)).astype(np.float32)
    out = per_pixel(weight, image)
    assert out.dtype == np.float32 and out.shape == image.shape
    np.testing.assert_array_equal(out, weight[..., None] * image)  # the same float32 products, not merely close
    wide = per_pixel(weight.astype(np.float64), image)  # numpy promotes to float64: so does this
    assert wide.dtype == np.float64
    np.testing.assert_array_equal(wide, weight.astype(np.float64)[..., None] * image)
