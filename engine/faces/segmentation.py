"""Person / background segmentation: mediapipe Selfie Segmentation (Apache-2.0), bundled in mediapipe 0.10.21.

Used to replace the backgrounds of training faces, as the lifespan method's published training
data had them replaced (it used CarveKit's Tracer-B7 + FBA matting, whose weights no package
ships; this model runs offline on a CPU in milliseconds).
"""

from __future__ import annotations

import threading

import numpy as np

# mediapipe's two selfie models: 0 = general (256 x 256 input), 1 = landscape (144 x 256).
# Faces are square crops: the general model.
GENERAL_MODEL = 0


class SelfieSegmenter:
    """P(person) per pixel of an RGB image; one graph behind a lock."""

    def __init__(self):
        import mediapipe as mp  # noqa: PLC0415 - mediapipe loads with the segmenter on first use

        self._graph = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=GENERAL_MODEL)
        self._lock = threading.Lock()

    def person_mask(self, rgb: np.ndarray) -> np.ndarray:
        """(H, W) float32 in [0, 1]: how likely each pixel belongs to the person."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"segmentation needs an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}")
        with self._lock:
            mask = self._graph.process(np.ascontiguousarray(rgb)).segmentation_mask
        return np.clip(mask, 0.0, 1.0).astype(np.float32)


# Background fills: grey as the published training data loader pads (128, 128, 128), black, or
# uniform noise (its other preprocessing options); "keep" leaves the photo as it is.
BACKGROUNDS = ("grey", "black", "noise", "keep")
GREY = 128


def replace_background(rgb: np.ndarray, mask: np.ndarray, fill: str, rng: np.random.Generator | None = None) -> np.ndarray:
    """`rgb` with its background (1 - mask) blended into `fill`; uint8 like the input."""
    if fill not in BACKGROUNDS:
        raise ValueError(f"background must be one of {BACKGROUNDS}, got {fill!r}")
    if fill == "keep":
        return rgb
    if mask.shape != rgb.shape[:2]:
        raise ValueError(f"mask {mask.shape} does not match the image {rgb.shape[:2]}")
    if fill == "noise":
        if rng is None:
            raise ValueError("background 'noise' needs a random generator")
        background = rng.integers(0, 256, rgb.shape, dtype=np.uint8).astype(np.float32)
    else:
        background = np.full(rgb.shape, GREY if fill == "grey" else 0, dtype=np.float32)
    alpha = mask[..., None]
    return np.round(rgb.astype(np.float32) * alpha + background * (1 - alpha)).astype(np.uint8)
