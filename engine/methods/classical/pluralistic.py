"""Pluralistic aging without diffusion: a PAE over zone scores.

Each sample's per-zone scores are drawn around the target age's curve values in logit
space (so they stay inside 0-100) and rendered by the classical renderer.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from engine.methods.classical.aging import GREY_ONSET_SD_YEARS
from engine.methods.classical.lifespan import Variation


def sample_zone_scores(base: dict[str, float], intensity: float, count: int, seed: int) -> list[dict[str, float]]:
    """PAE over zone scores: each zone's score drawn around `base` in logit space (so always inside 0-100),
    with the logit's centre widened so the scores' mean is the curve's value: a logistic of N(m, s^2) has
    mean about logistic(m / sqrt(1 + pi s^2 / 8)) (MacKay 1992, Neural Comput 4:720), so m is the base's
    logit times that factor. Without it a score near 100 was drawn lower on average (and one near 0 higher):
    the futures at 70-80 were on average milder than the mean face. The slider scales the spread s only."""
    if intensity == 0:
        return [dict(base) for _ in range(count)]
    rng = np.random.default_rng(seed)
    spread = 4.0 * intensity  # the logit's standard deviation
    widen = math.sqrt(1.0 + math.pi * spread**2 / 8.0)
    samples = []
    for _ in range(count):
        scores = {}
        for zone, score in base.items():
            centre = min(max(score / 100.0, 0.005), 0.995)  # the logit of 0 or 100 is infinite
            value = widen * math.log(centre / (1 - centre)) + spread * rng.standard_normal()
            scores[zone] = float(round(100.0 / (1.0 + math.exp(-value))))
        samples.append(scores)
    return samples


POPULATION_INTENSITY = 0.3  # the tab's default diversity draws greying from the population's own spread

# How far one person's signs run ahead of or behind the mean at one age, in years, at the default diversity
# (each scaled by the slider as the greying onset is). People of one age are judged several years apart in
# age, and identical twins differ by years where their smoking, sun and weight differ (Christensen et al.
# 2009, BMJ 339:b5262; Guyuron et al. 2009, Plast Reconstr Surg 123:1321); neither gives a spread per sign,
# so the standard deviations are from looking: a future one SD ahead reads older, not as another person.
SAGGING_SD_YEARS = 6.0  # jowls, folds, eye bags and thinner lips (shape.py's descent curves)
SPOTS_SD_YEARS = 8.0  # solar lentigines and uneven pigmentation: they follow sun exposure (Bastiaens et al. 2004)
SALLOW_SD_YEARS = 6.0  # the skin's loss of rosiness and yellowing (texture.py's sallowness)
# Weight: the change in body-mass index to the target, N(0, (s x 0.8 kg/m^2 x sqrt(years))^2): the spread of
# weight change between adults grows with the years between (a random walk), about 2.5 kg/m^2 over a decade
# at the default diversity (from looking; of the order of the ten-year weight change seen between adults).
# The mean future keeps its weight: the population's mean drift (a gain to the fifties, a loss after
# seventy) is not drawn.
BMI_SD_PER_SQRT_YEAR = 0.8
# A future is a person: above the default diversity each draw spreads further into the population's tails, but never
# past PLAUSIBLE_SD of its standard deviations (`within_people`; 99.7 % of a normal population lies within 3). At the
# slider's top (6.7 SDs) a drawn weight change of 30 kg/m^2 and more ballooned the lower face past its outline. Draws
# within KNEE_SD are kept as they are, so the default's draws are the population's (95 % of them lie within 2).
PLAUSIBLE_SD = 3.0
KNEE_SD = 2.0


def sample_variations(
    base: dict[str, float],
    intensity: float,
    count: int,
    seed: int,
    receding_probability: float = 0.0,
    years: float = 0.0,
) -> list[Variation]:
    """Futures that differ the way people do, each drawn from a stated distribution scaled by `intensity`:
    - greying onset: N(0, (s x 9.6 years)^2) around the mean curve, s = intensity / 0.3, so the default
      intensity draws from the spread of onset between people (9.6 years, Tobin and Paus 2001);
    - greying pattern (temples before the top): `temples_first`, the logistic of N(0, s^2): about 0.5 + s x N(0, 0.25^2)
      near the mean (from looking), inside 0-1 at any diversity without being cut there;
    - wrinkle scores: the PAE over zone scores (`sample_zone_scores`);
    - a receding hairline, `recedes` with `receding_probability` at the default diversity (the caller gives men the
      share at Norwood III or more at the target age, `hair.norwood_share`; others 0);
    - sagging, age spots and sallowness each N(0, (s x SD)^2) years ahead of the mean (SAGGING_SD_YEARS,
      SPOTS_SD_YEARS, SALLOW_SD_YEARS);
    - weight: a change of N(0, (s x BMI_SD_PER_SQRT_YEAR)^2 x years) in body-mass index over the `years`
      from the source to the target;
    each of these normal draws (and the greying onset's) kept within PLAUSIBLE_SD of the population's standard
    deviation (`within_people`, the draw itself within KNEE_SD): above the default the futures reach further into
    people's tails, never past them.
    The layout of strands, spots and wrinkles differs through each future's own seed. Intensity 0 gives
    the mean future every time."""
    if years < 0:
        raise ValueError(f"years from the source to the target must be 0 or more, got {years}")
    scores = sample_zone_scores(base, intensity, count, seed)
    spread = intensity / POPULATION_INTENSITY
    if not 0 <= receding_probability <= 1:
        raise ValueError(f"receding_probability must be between 0 and 1, got {receding_probability}")
    rng = np.random.default_rng([seed, 7])
    hairline = np.random.default_rng([seed, 8])  # its own stream: the greying draws stay as they were
    people = np.random.default_rng([seed, 9])  # sagging, weight and skin: their own stream too
    variations = []
    for zone_scores in scores:
        shift = GREY_ONSET_SD_YEARS * within_people(spread * float(rng.standard_normal()))
        pattern = temples_first(spread * float(rng.standard_normal()))
        receding = recedes(receding_probability, spread * float(hairline.standard_normal()))
        sagging, spots, sallow, weight = (within_people(spread * float(z)) for z in people.standard_normal(4))
        variations.append(
            Variation(
                grey_onset_shift=shift,
                grey_pattern=pattern,
                zone_scores=zone_scores,
                receding_hairline=receding,
                sagging_years=SAGGING_SD_YEARS * sagging,
                spots_years=SPOTS_SD_YEARS * spots,
                sallow_years=SALLOW_SD_YEARS * sallow,
                fullness_bmi=BMI_SD_PER_SQRT_YEAR * math.sqrt(years) * weight,
            )
        )
    return variations


def within_people(sds: float) -> float:
    """A draw of `sds` standard deviations from the population's mean, as far as people go: itself within KNEE_SD, and
    beyond it bent toward PLAUSIBLE_SD (t / (1 + t) of the room left, t the draw past the knee in units of that room:
    slope 1 at the knee, no step), never reaching it, and never cut there (a cut, or a tanh, which is exactly 1 in
    floating point from 19 on, gives many futures the same extreme)."""
    size = abs(sds)
    if size <= KNEE_SD:
        return sds
    room = PLAUSIBLE_SD - KNEE_SD
    past = (size - KNEE_SD) / room
    return math.copysign(KNEE_SD + room * past / (1.0 + past), sds)


def temples_first(logit: float) -> float:
    """The greying pattern (0-1: how far the temples run ahead of the crown) whose logit is `logit`: the logistic,
    0.5 + logit / 4 near 0, so a logit of N(0, s^2) spreads the pattern by about s x 0.25 there and never past 0 or 1
    (a normal cut to 0-1 made the top of the diversity slider all-or-nothing: every future 0 or 1)."""
    return 1.0 / (1.0 + math.exp(-logit))


def recedes(probability: float, liability: float) -> bool:
    """Whether a future's hairline recedes: a liability-threshold model of a trait people have or not (Falconer 1965,
    Ann Hum Genet 29:51), a hairline receding where the person's liability, N(0, 1) at the default diversity (scaled
    with it), lies under the normal quantile of `probability` (the share of men at Norwood III or more). At the default
    diversity the share of futures that recede is `probability`; at diversity 0 (liability 0) every future is the mean
    future: receding where most men of that age have (`probability` over a half)."""
    if not 0 <= probability <= 1:
        raise ValueError(f"receding_probability must be between 0 and 1, got {probability}")
    if probability in (0.0, 1.0):
        return probability == 1.0
    return liability < NormalDist().inv_cdf(probability)


def describe_variation(variation: Variation, monochrome: bool = False, younger: bool = False) -> dict:
    """What one future drew, by name (the manifest's entry for that sample); an entry is None where what was drawn is
    not drawn on the face: `monochrome`, a black-and-white photo, its sallowness (a change of hue alone:
    lifespan.age_face leaves it out); `younger`, a target younger than the source, its age spots and sallowness (the
    younger path takes signs away and draws neither)."""
    return {
        "grey_onset_shift_years": round(variation.grey_onset_shift, 1),
        "grey_pattern_temples_first": round(variation.grey_pattern, 2),
        "sagging_years_ahead": round(variation.sagging_years, 1),
        "fullness_bmi_change": round(variation.fullness_bmi, 1),
        "spots_years_ahead": None if younger else round(variation.spots_years, 1),
        "sallow_years_ahead": None if monochrome or younger else round(variation.sallow_years, 1),
        "receding_hairline": variation.receding_hairline,
    }
