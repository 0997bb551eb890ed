"""Smooth fields of the aligned face worked out at a reduced size: a Gaussian blur of sigma 4 px or more keeps no detail
finer than that, so it is computed at a quarter of the size and resized back (the classical renderer's stages share
these; the aligned crops' padding, engine/faces/alignment.py, uses `wide_blur`)."""

from __future__ import annotations

import cv2
import numpy as np


def wide_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur; one wider than 4 px is computed at a quarter of the size (what it keeps has no detail
    finer than that) and resized back."""
    if sigma < 4.0:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    height, width = image.shape[:2]
    small = cv2.resize(image, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma / 4), (width, height), interpolation=cv2.INTER_LINEAR)


def weighted_mean(values: np.ndarray, weight: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """(`values`' mean over `weight` near each pixel, a Gaussian of `sigma` px (normalised convolution, each blur
    `wide_blur`'s); the weight's own blur there). `values` (H, W) with `weight` (H, W), or (H, W, C) with one weight
    for every channel; the mean is 0 where no weight reaches."""
    total = wide_blur(weight, sigma)
    per_channel = values.ndim == weight.ndim + 1
    num = wide_blur(values * (weight[..., None] if per_channel else weight), sigma)
    return num / np.maximum(total[..., None] if per_channel else total, 1e-6), total


def masked_blur(values: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of `values` counting only where `weight` > 0 (normalised convolution: `weighted_mean`): the
    skin's own shading, not pulled toward the hair, eyes or background beside it; `values` itself where the weight's
    blur is 1e-3 or less."""
    mean, total = weighted_mean(values, weight, sigma)
    return np.where(total > 1e-3, mean, values)
