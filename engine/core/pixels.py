"""Pixel values back to 8 bits: the one rounding and saturation every stage's float result goes through."""

from __future__ import annotations

import cv2
import numpy as np


def to_uint8(values: np.ndarray) -> np.ndarray:
    """`values` rounded to the nearest integer (halves to even) and saturated to 0-255, as uint8 of the same shape:
    numpy's clip(round(values), 0, 255).astype(uint8) for every finite value, in one OpenCV pass (its saturating
    cast) instead of three over the array (about a millisecond less on a face's hair box)."""
    values = np.asarray(values)
    # as one column of one channel (OpenCV adds a scalar to 4 channels at most); OpenCV takes a plain number as a
    # scalar there, its type stubs list only arrays
    column = values.reshape(-1, 1)
    return cv2.add(column, 0.0, dtype=cv2.CV_8U).reshape(values.shape)  # type: ignore[call-overload]
