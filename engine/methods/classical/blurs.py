"""Smooth fields of the aligned face worked out at a reduced size: a Gaussian blur wider than 4 px keeps no detail finer
than that, so it is computed at a quarter of the size and resized back (the classical renderer's stages share these)."""

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


def masked_blur(values: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of `values` counting only where `weight` > 0 (normalised convolution): the skin's own
    shading, not pulled toward the hair, eyes or background beside it."""
    num = wide_blur(values * weight, sigma)
    den = wide_blur(weight, sigma)
    return np.where(den > 1e-3, num / np.maximum(den, 1e-3), values)
