"""Aligned crops that run past the photo: padding that invents no features."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.faces.alignment import feather_mask, pad_neutral, paste_back

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


def test_paste_back_in_the_masks_box_gives_the_pixels_of_the_whole_photo_warp():
    rng = np.random.default_rng(4)
    photo = rng.integers(0, 256, (300, 420, 3), dtype=np.uint8)
    crop = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    for angle, scale, shift in ((0.2, 1.3, (-90.0, -40.0)), (-0.4, 0.7, (20.0, 5.0)), (1.1, 2.2, (-500.0, -100.0))):
        rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        matrix = np.hstack([rotation, np.array(shift)[:, None]])
        mask = feather_mask(128)
        mask[:40] = 0  # a support smaller than the crop
        inverse = cv2.invertAffineTransform(matrix)
        warped = cv2.warpAffine(crop, inverse, (420, 300), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        weight = cv2.warpAffine(mask, inverse, (420, 300), flags=cv2.INTER_LINEAR, borderValue=0.0)[..., None]
        blended = np.clip(np.round(photo * (1.0 - weight) + warped.astype(np.float32) * weight), 0, 255).astype(np.uint8)
        expected = np.where(weight > 0, blended, photo)
        np.testing.assert_array_equal(paste_back(photo, crop, matrix, mask), expected)
