"""Pluralistic aging without diffusion: a PAE over zone scores.

Each sample's per-zone scores are drawn around the target age's curve values in logit
space (so they stay inside 0-100) and rendered by the classical renderer.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from engine.methods.classical.aging import GREY_ONSET_SD_YEARS, LENTIGO_ONSET_YEARS
from engine.methods.classical.lifespan import Variation
from engine.methods.classical.shape import DESCENT_ONSET_YEARS, VERMILION_ONSET_YEARS
from engine.methods.classical.texture import TEXTURE_ONSET_YEARS

POPULATION_INTENSITY = 0.3  # the tab's default diversity draws greying from the population's own spread

# The wrinkle scores' spread: a logit's standard deviation of ZONE_LOGIT_SD_PER_INTENSITY x the diversity (1.2 at the
# default, from looking)
ZONE_LOGIT_SD_PER_INTENSITY = 4.0
# The two sides of one face (crow's feet, under-eye, nasolabial and marionette zones, left and right) are far more alike
# than two faces: each side's draw shares this correlation with the other's (from looking: drawn apart, one crow's feet
# of a future stood at 20 and the other at 80 in one future of eight, a lopsided face, not a way people differ)
SIDES_CORRELATION = 0.8
SIDES = ("_left", "_right")


def _paired(zone: str) -> str | None:
    """The name a left or right zone shares with its other side ("crows_feet" for "crows_feet_left"), else None."""
    return next((zone[: -len(side)] for side in SIDES if zone.endswith(side)), None)


NORMAL_GRID = np.linspace(-8.0, 8.0, 3201)  # a standard normal draw's values, for quadrature
NORMAL_WEIGHTS = np.exp(-0.5 * NORMAL_GRID**2) / np.exp(-0.5 * NORMAL_GRID**2).sum()


def logit_centre(mean: float, drawn: np.ndarray) -> float:
    """The logit m whose scores logistic(m + drawn) have `mean` (0-1, kept within 0.005-0.995: the logit of 0 or 1 is
    infinite) on average, `drawn` being the logit's draws at NORMAL_GRID's values (weighted by NORMAL_WEIGHTS): found
    by bisection, as the mean rises with m. Without it a score near 100 was drawn lower on average (and one near 0
    higher): the futures at 70-80 were on average milder than the mean face. (For unbounded normal draws of spread s this
    is about the logit of `mean` times sqrt(1 + pi s^2 / 8), MacKay 1992, Neural Comput 4:720; the draws bent toward
    people's tails are not normal, and that approximation left a score of 3 drawn at 2 on average.)"""
    goal = min(max(mean, 0.005), 0.995)
    low, high = -40.0, 40.0
    for _ in range(60):
        middle = (low + high) / 2
        if float(np.sum(NORMAL_WEIGHTS / (1.0 + np.exp(-(middle + drawn))))) < goal:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def sample_zone_scores(base: dict[str, float], intensity: float, count: int, seed: int) -> list[dict[str, float]]:
    """PAE over zone scores: each zone's score drawn around `base` in logit space (so always inside 0-100): a logit of
    ZONE_LOGIT_SD_PER_INTENSITY x POPULATION_INTENSITY times `within_people(intensity / POPULATION_INTENSITY x z)`, z
    standard normal, so that above the default diversity the draws reach into people's tails but never past them (drawn
    unbounded, at the slider's top 78 % of the scores were 0-1 or 99-100: all-or-nothing wrinkles). The two sides of the
    face are drawn alike (SIDES_CORRELATION; each side's z still standard normal). The logit's centre is the one whose
    scores have the base's value as their mean (`logit_centre`). The slider scales the spread only."""
    if intensity == 0:
        return [dict(base) for _ in range(count)]
    rng = np.random.default_rng(seed)
    ratio = intensity / POPULATION_INTENSITY
    unit = ZONE_LOGIT_SD_PER_INTENSITY * POPULATION_INTENSITY  # the logit's standard deviation at the default
    drawn = unit * np.array([within_people(ratio * z) for z in NORMAL_GRID])
    centres = {zone: logit_centre(score / 100.0, drawn) for zone, score in base.items()}
    shared, own = math.sqrt(SIDES_CORRELATION), math.sqrt(1.0 - SIDES_CORRELATION)
    pair_of = {zone: _paired(zone) for zone in base}
    paired = sorted({name for name in pair_of.values() if name is not None})  # each side's pair, drawn once per future
    samples = []
    for _ in range(count):
        draws = {zone: float(rng.standard_normal()) for zone in base}  # one per zone, in the base's order
        pairs = {name: float(rng.standard_normal()) for name in paired}
        scores = {}
        for zone, pair in pair_of.items():
            z = draws[zone] if pair is None else shared * pairs[pair] + own * draws[zone]
            value = centres[zone] + unit * within_people(ratio * z)
            scores[zone] = float(round(100.0 / (1.0 + math.exp(-value))))
        samples.append(scores)
    return samples


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
      near the mean (from looking), inside 0-1 at any diversity without being cut there (its logit kept within
      PLAUSIBLE_SD, as below: drawn unbounded, at the slider's top half the patterns were 0.02 or less, or 0.98 or more);
    - wrinkle scores: the PAE over zone scores (`sample_zone_scores`);
    - a receding hairline, `recedes` with `receding_probability` at the default diversity (the caller gives men the
      share not receded at the source age who are at Norwood III or more by the target age, `hair.added_recession`;
      others 0): a future that recedes recedes in full, to Norwood III (drawn by the probability, a receding future
      moved back by 24 % of it at 30 -> 40, barely seen); at diversity 0 every future is the mean one, the lifespan
      model's face, receding by the probability (`Variation.recession` None);
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
        pattern = temples_first(within_people(spread * float(rng.standard_normal())))
        liability = spread * float(hairline.standard_normal())
        if intensity == 0:  # the mean future: the lifespan model's face, receding by the share of men who recede
            receding, recession = receding_probability > 0, None
        else:  # a man who recedes by the target recedes to Norwood III
            receding = recedes(receding_probability, liability)
            recession = 1.0 if receding else None
        sagging, spots, sallow, weight = (within_people(spread * float(z)) for z in people.standard_normal(4))
        variations.append(
            Variation(
                grey_onset_shift=shift,
                grey_pattern=pattern,
                zone_scores=zone_scores,
                receding_hairline=receding,
                recession=recession,
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
    diversity the share of futures that recede is `probability` (at diversity 0, `sample_variations` draws the mean
    future instead)."""
    if not 0 <= probability <= 1:
        raise ValueError(f"receding_probability must be between 0 and 1, got {probability}")
    if probability in (0.0, 1.0):
        return probability == 1.0
    return liability < NormalDist().inv_cdf(probability)


# Where each drawn sign's curve rises (its onset) and where it ends (80, the hub's oldest age): a sign drawn ahead of or
# behind the mean shows only the part of its shift that falls on the rising part
CURVES_END_YEARS = 80.0
SAGGING_ONSET_YEARS = min(DESCENT_ONSET_YEARS, VERMILION_ONSET_YEARS)  # the lips thin from 25, the tissue descends from 30


def years_shown(target: float, years: float, onset: float, least: float = 0.0) -> float:
    """The part of a draw `years` ahead of (> 0) or behind (< 0) the mean at `target` that the face shows, its sign's
    curve rising from `onset` to CURVES_END_YEARS and flat outside: at 80 a future drawn 10 years ahead shows what the
    mean face at 80 shows (0 years), and at 75, 5 years of them; below the onset one drawn behind shows none. `least`: the
    youngest age the face can show the sign at (the source age, for a sign the older path adds and never takes away:
    spots and sallowness; a future drawn behind the source's own shows the source's)."""

    def on_curve(age: float) -> float:
        return min(max(age, onset), CURVES_END_YEARS)

    return on_curve(max(target + years, least)) - on_curve(target)


def describe_variation(
    variation: Variation, target: float, source_age: float, monochrome: bool = False, hair: bool = True
) -> dict:
    """What one future shows, by name (the manifest's entry for that sample): the years ahead of the mean at `target` each
    sign shows (`years_shown`: a draw past the curves' end at 80 shows their extent at 80), and None where what was drawn
    is not drawn on the face: `monochrome`, a black-and-white photo, its sallowness (a change of hue alone:
    lifespan.age_face leaves it out); toward a target younger than `source_age`, its age spots and sallowness (the
    younger path takes signs away and draws neither); at the source age itself no greying, weight, spots or sallowness
    (no years pass: only the sagging and the wrinkle scores drawn differ); `hair` False, a hair stage skipped (no hair
    found), the scalp's greying pattern (the greying's onset still greys the eyebrows)."""
    younger, same = target < source_age, target == source_age
    older_skin = not younger and not same

    def shown(years: float, onset: float, least: float = 0.0) -> float:
        return round(years_shown(target, years, onset, least), 1)

    return {
        "grey_onset_shift_years": None if same else round(variation.grey_onset_shift, 1),
        "grey_pattern_temples_first": None if same or not hair else round(variation.grey_pattern, 2),
        "sagging_years_ahead": shown(variation.sagging_years, SAGGING_ONSET_YEARS),
        "fullness_bmi_change": None if same else round(variation.fullness_bmi, 1),
        "spots_years_ahead": shown(variation.spots_years, LENTIGO_ONSET_YEARS, source_age) if older_skin else None,
        "sallow_years_ahead": (
            shown(variation.sallow_years, TEXTURE_ONSET_YEARS, source_age) if older_skin and not monochrome else None
        ),
        "receding_hairline": variation.receding_hairline,
        "zone_scores": variation.zone_scores,
    }
