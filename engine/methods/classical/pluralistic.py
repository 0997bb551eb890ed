"""Pluralistic aging without diffusion: a PAE over zone scores.

Each sample's per-zone scores are drawn around the target age's curve values in logit
space (so they stay inside 0-100) and rendered by the classical renderer.
"""

from __future__ import annotations

import math

import numpy as np

from engine.methods.classical.aging import GREY_ONSET_SD_YEARS
from engine.methods.classical.lifespan import Variation


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


POPULATION_INTENSITY = 0.3  # the tab's default diversity draws greying from the population's own spread


def sample_variations(
    base: dict[str, float], intensity: float, count: int, seed: int, receding_probability: float = 0.0
) -> list[Variation]:
    """Futures that differ the way people do, each drawn from a stated distribution scaled by `intensity`:
    - greying onset: N(0, (s x 9.6 years)^2) around the mean curve, s = intensity / 0.3, so the default
      intensity draws from the spread of onset between people (9.6 years, Tobin and Paus 2001);
    - greying pattern (temples before the top): 0.5 + s x N(0, 0.25^2), kept to 0-1 (from looking);
    - wrinkle scores: the PAE over zone scores (`sample_zone_scores`);
    - a receding hairline with `receding_probability` (the caller gives men the share at Norwood III or
      more at the target age, `hair.norwood_share`; others 0).
    The layout of strands, spots and wrinkles differs through each future's own seed."""
    scores = sample_zone_scores(base, intensity, count, seed)
    spread = intensity / POPULATION_INTENSITY
    if not 0 <= receding_probability <= 1:
        raise ValueError(f"receding_probability must be between 0 and 1, got {receding_probability}")
    rng = np.random.default_rng([seed, 7])
    hairline = np.random.default_rng([seed, 8])  # its own stream: the greying draws stay as they were
    variations = []
    for zone_scores in scores:
        shift = spread * GREY_ONSET_SD_YEARS * float(rng.standard_normal())
        pattern = min(max(0.5 + spread * 0.25 * float(rng.standard_normal()), 0.0), 1.0)
        receding = bool(hairline.random() < receding_probability)
        variations.append(
            Variation(grey_onset_shift=shift, grey_pattern=pattern, zone_scores=zone_scores, receding_hairline=receding)
        )
    return variations
