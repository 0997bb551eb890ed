"""Aligned crops that run past the photo: padding that invents no features."""

from __future__ import annotations

import numpy as np
import pytest

from engine.faces.alignment import pad_neutral

pytestmark = pytest.mark.unit


def test_padding_fades_the_edge_toward_grey_and_keeps_the_photo_exactly():
    crop = np.zeros((200, 200, 3), np.uint8)
    crop[:, :100] = (250, 20, 20)  # the photo: a red left half
    crop[:, 100:] = crop[:, 99:100]  # edge extension as the warp's replicate border gives it
    inside = np.zeros((200, 200), np.float32)
    inside[:, :100] = 1.0
    padded = pad_neutral(crop, inside)
    np.testing.assert_array_equal(padded[:, :100], crop[:, :100])  # the photo itself is not touched
    far = padded[:, 190:].astype(float)
    assert np.abs(far - 128).max() < 3  # far from the photo: neutral grey, no copy of what is inside
    near = padded[:, 101].astype(float)
    assert near[:, 0].mean() > near[:, 1].mean() + 50  # next to the edge the photo's colour continues, softened
    assert pad_neutral(crop, np.ones((200, 200), np.float32)) is crop  # no padding, nothing to do
