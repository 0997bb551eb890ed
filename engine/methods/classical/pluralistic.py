"""Pluralistic aging without diffusion: a PAE over zone scores.

Each sample's per-zone scores are drawn around the target age's curve values in logit
space (so they stay inside 0-100) and rendered by the classical renderer.
"""

from __future__ import annotations

import math

import numpy as np


def sample_zone_scores(base: dict[str, float], intensity: float, count: int, seed: int) -> list[dict[str, float]]:
    """PAE over zone scores: each zone's score drawn around `base` in logit space (so always inside 0-100)."""
    if intensity == 0:
        return [dict(base) for _ in range(count)]
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(count):
        scores = {}
        for zone, score in base.items():
            centre = min(max(score / 100.0, 0.005), 0.995)  # the logit of 0 or 100 is infinite
            value = math.log(centre / (1 - centre)) + 4.0 * intensity * rng.standard_normal()
            scores[zone] = float(round(100.0 / (1.0 + math.exp(-value))))
        samples.append(scores)
    return samples
