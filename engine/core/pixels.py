"""Pixel values back to 8 bits (the one rounding and saturation every stage's float result goes through), the
stages' round trip through CIELAB on OpenCV's 8-bit scale, and the changed pixels put back into the unchanged image."""

from __future__ import annotations

import cv2
import numpy as np


def to_uint8(values: np.ndarray) -> np.ndarray:
    """`values` rounded to the nearest integer (halves to even) and saturated to 0-255, as uint8 of the same shape:
    what numpy's clip(round(values), 0, 255).astype(uint8) gives, in one OpenCV pass (its saturating cast) instead of
    three over the array (about a millisecond less on a face's hair box). Within +-2^31: OpenCV rounds to a 32-bit
    integer first, so values beyond it (and infinities) come out wrong; no stage's pixel arithmetic comes near them.
    Arrays of fewer than two numbers, and of other than numbers, take numpy's path (OpenCV reads one number as a
    scalar)."""
    values = np.asarray(values)
    if values.size < 2 or values.dtype.kind not in "fiu":
        return np.clip(np.round(values), 0, 255).astype(np.uint8)
    # as one column of one channel (OpenCV adds a scalar to 4 channels at most); OpenCV takes a plain number as a
    # scalar there, its type stubs list only arrays
    column = values.reshape(-1, 1)
    return cv2.add(column, 0.0, dtype=cv2.CV_8U).reshape(values.shape)  # type: ignore[call-overload]


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (float32, OpenCV's 8-bit scale: L 0-255, a* and b* offset by 128) of an RGB uint8 image."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)


def from_lab(lab: np.ndarray, face: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """`lab` (`to_lab`'s scale) back to RGB uint8 where `weight` > 0; elsewhere `face`'s pixels exactly (no colour
    round trip)."""
    return chosen(weight > 0, cv2.cvtColor(to_uint8(lab), cv2.COLOR_LAB2RGB), face)


def chosen(where: np.ndarray, new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """A new image with `new`'s pixels where `where` (H, W) is true and `old`'s elsewhere: numpy's
    where(where[..., None], new, old) for two images of one shape and type, in one OpenCV masked copy (numpy's
    broadcast of the mask over the channels took about 2 ms on a face's hair box, this under 0.1 ms)."""
    if new.shape != old.shape or new.dtype != old.dtype or where.shape != new.shape[:2]:
        raise ValueError(
            f"chosen needs two images of one shape and type and a mask of their height and width, got "
            f"{new.shape} {new.dtype}, {old.shape} {old.dtype} and a mask of {where.shape}"
        )
    if new.size == 0:
        return old.copy()
    return cv2.copyTo(new, np.asarray(where, bool).astype(np.uint8), old.copy())


def channel_sum(values: np.ndarray) -> np.ndarray:
    """`values` (..., 3) summed over the last axis as numpy's sum adds them (first to last), without its reduction
    over a short axis (ten times slower on a face's box; three times on a photo's region)."""
    return values[..., 0] + values[..., 1] + values[..., 2]


def per_pixel(weight: np.ndarray, image: np.ndarray) -> np.ndarray:
    """`image` (H, W, C) times `weight` (H, W) at each pixel: numpy's weight[..., None] * image, the same numbers, in one
    OpenCV pass where both are float32 (numpy's broadcast over a short last axis is several times slower)."""
    if weight.dtype != np.float32 or image.dtype != np.float32 or image.ndim != 3 or weight.shape != image.shape[:2]:
        return weight[..., None] * image
    return cv2.multiply(image, cv2.merge([weight] * image.shape[2])).reshape(image.shape)  # one channel comes back 2-D


def lab_shift_text(shift, lightness_only: bool = False) -> str:
    """A CIELAB change (3,) as the manifests write it, "L* -7.4, a* +0.4, b* +4.3", or its lightness alone ("L* -7.4")
    where only that is kept (a black-and-white photo keeps the grey level of each change)."""
    lightness, red, yellow = (float(value) for value in shift)
    return f"L* {lightness:+.1f}" + ("" if lightness_only else f", a* {red:+.1f}, b* {yellow:+.1f}")
