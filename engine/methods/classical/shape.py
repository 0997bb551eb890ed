"""Soft-tissue descent of the older face: landmark displacements that grow with age, a smooth warp, fold shading.

With age the face's soft tissue thins and descends while the skeleton beneath it recedes: the jowls
hang below the jaw line beside the chin, the cheek mass overhangs a deeper nasolabial fold, marionette
folds run down from the mouth corners, the lips' red part thins and the lower-lid fat pad bulges above
a lid-cheek junction that sits lower (Coleman and Grover 2006, Aesthet Surg J 26:S4; Mendelson and Wong
2012, Aesthetic Plast Surg 36:753; Pessa et al. 1998, Plast Reconstr Surg 102:205; Lambros 2007, Plast
Reconstr Surg 120:1367; Sforza et al. 2010, Forensic Sci Int 200:182.e1).

The model: each sign's share of its extent at 80 (`descent_share`, `vermilion_loss`) -> displacements of
the FaceMesh landmarks in the aligned frame (`descent_displacements`), most of them zero -> a dense
thin-plate-spline warp pinned at the crop's border (`warp_landmarks`), plus broad shading along the
folds and under the eyes (`fold_shading`: toward an older target each crease is drawn as measured on the packaged
old portraits, the cheek rolling into it and the lip's side cut sharply); the skin fold above each upper lid descends over it (hooding;
not on a face with glasses, whose rim the warp would bend). A younger target moves everything back by the difference of
the curves, so the changes are reversed from the source age; its shading lifts the folds along the straight lines from
the nose's wing to the mouth corner (`_fold_field`), not along the bowed creases an older target deepens: an old face's
own creases are flattened by the younger skin's fold bands (youth.py), wherever they lie. Brow ptosis is not modelled: the studies
disagree on whether the brows descend at all (Lambros 2007 and Matros et al. 2009, Plast Reconstr Surg
124:1296, found them stable or higher with age).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.core.blurs import wide_blur
from engine.core.grids import every_pixel, grid_points
from engine.core.memo import memo
from engine.core.pixels import from_lab, to_lab
from engine.faces.zones import (
    CHIN,
    LEFT_ALA,
    LEFT_EYE,
    LEFT_LOWER_LID,
    LEFT_MOUTH,
    OUTER_LIPS,
    RIGHT_ALA,
    RIGHT_EYE,
    RIGHT_LOWER_LID,
    RIGHT_MOUTH,
    inter_ocular,
    support_box,
)
from engine.methods.classical import thinplate

# Soft-tissue descent: visible from the fourth decade and progressing through the eighth (Coleman and
# Grover 2006: fat compartments deflate and descend from the late thirties; Mendelson and Wong 2012: the
# orbit widens and the maxilla and pyriform aperture recede through later life, deepening the midface
# folds). A power curve from DESCENT_ONSET_YEARS to 80, accelerating (the skeletal recession is faster
# after 60 in Mendelson and Wong's CT series). The papers give the acceleration, not its size: the power is from
# looking (1.3: 30 % of the extent at 50, 51 % at 60, 75 % at 70).
DESCENT_ONSET_YEARS = 30.0
DESCENT_POWER = 1.3

# Vermilion (red lip) height: falls steadily from the mid-twenties (Sforza et al. 2010, 3-D lip
# morphology of 441 people aged 4-73; Iblher et al. 2008 on the aging perioral region) by roughly a
# third by the eighth decade. Linear from VERMILION_ONSET_YEARS to VERMILION_LOSS_AT_80 at 80.
VERMILION_ONSET_YEARS = 25.0
VERMILION_LOSS_AT_80 = 0.3
# The skin around the lips goes with their border, less and less to none at LIP_SKIN_REACH d from it (short of the nose's
# tip, about 0.22 d above the upper lip's border on the astronaut): the skin and the vermilion are one tissue. With the
# landmarks beside the border pinned where they were, the spline stretched the skin between them and the moved border
# into a scalloped edge, a bulge at each border point (Grace Hopper's lower lip 43 % fuller at 10: a jagged, cut-out
# patch under it; the reach from looking). The red lip's own rings go their share of the way (`lip_skin_follows`).
LIP_SKIN_REACH = 0.2

# Displacements at a full share (80 years), in inter-ocular distances d (the aligned face: d about 126 px).
# The literature gives direction, not millimetres on a photo: these are from looking, kept small enough to
# read as age rather than expression (a frown or a pout).
JOWL_DROP = 0.07  # the jaw line beside the chin, down
JOWL_OUT = 0.025  # and out
CHEEK_DROP = 0.035  # the cheek mass over the nasolabial fold, down
CHEEK_IN = 0.015  # and toward the fold
LID_CHEEK_DROP = 0.035  # the lid-cheek junction lower, the lower lid longer (Lambros 2007)
# Weight: a fuller face is wider at the cheeks and the jaw line and fuller under the chin (facial adiposity:
# Coetzee, Perrett and Stephen 2009, Perception 38:1700; Windhager, Schaefer and Fink 2011, Am J Hum Biol
# 23:805, where BMI shows in the width of the lower face). Those studies give the direction; the size per
# unit of BMI is from looking: the lower face's sides move this far out (in d) per kg/m^2 gained.
FULLNESS_OUT_PER_BMI = 0.012
FULLNESS_DOWN_PER_BMI = 0.004  # the jaw line beside the chin, down (a fuller submental contour)
# Shading at a full share, multiplied into CIELAB lightness (from looking): the fold's valley darkens by
# this share, its shoulder (the cheek mass, the eye bag) lightens by the smaller one.
FOLD_SHADOW = 0.14
FOLD_SHOULDER = 0.05
MARIONETTE_WEIGHT = 0.7  # marionette folds are shallower than the nasolabial: their share of its shading (from looking)
FIELD_SCALE = 4  # the fold fields are smooth: computed at a quarter of the crop's size and resized up
EYE_BAG_DEPTH = 0.2  # the lid-cheek junction's shadow, below the lower lid margin, in d (from looking)
# Toward an older target the folds are drawn as they were measured on the packaged old faces (aligned crops, CIELAB L
# across the nasolabial fold at 0.3 and 0.6 of the way from the nose's wing to the mouth corner, and down from the
# lower lid): the narrow shadow along the straight wing-to-corner line above, at 0.14, read as faint drawn strokes
# on the astronaut at 70-80 (looked at, 1:1), lying inside her own smile's crease.
# - The nasolabial crease bows out from that line: Grace Hopper (77) 0.11-0.20 d lateral of it, Biden (70) 0.29-0.30
#   d, the astronaut's smile crease 0.17-0.20 d. Its middle is put NASOLABIAL_BOW d out: inside Hopper's range and at
#   the astronaut's own crease, so a deepened fold lies on the one the face shows (Biden's lies further out).
# - Across it the lightness falls gradually on the cheek's side, the cheek mass rolling into the fold and turning
#   from the light, over 0.10-0.15 d (Hopper), and rises back within 0.03-0.05 d on the lip's side: a crease, not a
#   line of shadow, cut sharply against the lip (Coleman and Grover 2006: the malar fat descends and overhangs the
#   fold). CREASE_CHEEK_SIDE (the middle of 0.10-0.15) and CREASE_LIP_SIDE (the sharp end of 0.03-0.05), in d. The
#   cheek beyond the roll-off keeps FOLD_SHOULDER's light.
# - Its depth: Hopper's nasolabial core is 55-60 % darker than the skin beside it (a hard light from above), Biden's
#   25 % (soft light); their lid-cheek junctions 35 % and 20 % darker. FOLD_SHADOW_OLDER is at a full share (80): the
#   softer light's 25 % at 70, where `descent_share` is 0.75, is 0.33 at 80; 0.3, under it, as the measured darkness
#   includes the fold the face already shows, onto which the shading is multiplied.
NASOLABIAL_BOW = 0.17
CREASE_CHEEK_SIDE = 0.13
CREASE_LIP_SIDE = 0.03
FOLD_SHADOW_OLDER = 0.3
# share of a crease's length over which it fades in and out at its ends, as the zone renderer's creases taper (set, not
# measured; at 1:1 the ends of the astronaut's and Obama's creases at 80 blend into the skin)
CREASE_END_TAPER = 0.15
# Upper-lid hooding: with age the skin fold above the upper lid descends toward the lid margin and covers
# more of the lid, most of all at its outer (temporal) end, and the lid opening narrows (van den Bosch,
# Leenders and Mulder 1999, Br J Ophthalmol 83:347, eyelid topography by age and sex; set without the paper
# at hand: the direction is taken from it, not a figure). The fold's drop at 80, in d, from looking:
# 0.03 read as hooded lids beside Grace Hopper but also lowered the eyes FaceMesh finds on the aged face by
# 0.005 d (the lid opening looks narrower, as it is); 0.02 still shows at the outer ends and keeps them.
LID_HOOD_DROP = 0.02
# FaceMesh's rings above each eye, outer (temporal) end first: the first above the lid margin (about the lid
# crease) and the next toward the brow. The lid margin itself stays, so the eye's opening is not changed.
RIGHT_UPPER_RINGS = ([247, 30, 29, 27, 28, 56, 190], [113, 225, 224, 223, 222, 221, 189])
LEFT_UPPER_RINGS = ([467, 260, 259, 257, 258, 286, 414], [342, 445, 444, 443, 442, 441, 413])
HOOD_MEDIAL_SHARE = 0.4  # the drop at the ring's inner (nasal) end, as a share of the outer end's (from looking)

# FaceMesh lip contours, outer and inner, matched point by point (the mouth corners excluded).
OUTER_UPPER_LIP = [185, 40, 39, 37, 0, 267, 269, 270, 409]
INNER_UPPER_LIP = [191, 80, 81, 82, 13, 312, 311, 310, 415]
OUTER_LOWER_LIP = [146, 91, 181, 84, 17, 314, 405, 321, 375]
INNER_LOWER_LIP = [95, 88, 178, 87, 14, 317, 402, 318, 324]
MOUTH_CORNERS = [RIGHT_MOUTH, LEFT_MOUTH, 78, 308]  # the outer contour's, then the opening's (FaceMesh)


# A shadow on skin shows the skin's own colour. A photo's lit highlight (a forehead blown out by the flash) is paler and
# less coloured than the skin: neutral light over it. A crease's or a fold's shadow takes that light away, and what
# shows is the skin beneath. A pixel darkened by this share of its lightness or more takes the face's skin colour (its
# a*, b*) in full, and in proportion below it (from looking: darkened with their own a*, b*, the creases over a young
# woman's blown-out forehead at 80 were blue-grey strokes and her eye bags grey-green, on orange skin).
SHADOW_SHOWS_SKIN = 0.3


def skin_in_shadow(lab: np.ndarray, lightness_before: np.ndarray, skin_colour: np.ndarray) -> None:
    """In place: `lab` (..., 3; OpenCV's 8-bit CIELAB) darkened from `lightness_before` (...) takes `skin_colour` ((2,)
    a*, b*) by the share it was darkened over SHADOW_SHOWS_SKIN (all of it from there); pixels not darkened keep their
    colour."""
    darkened = (lightness_before - lab[..., 0]) / np.maximum(lightness_before, 1.0)
    share = np.clip(darkened / SHADOW_SHOWS_SKIN, 0.0, 1.0).astype(np.float32)
    for channel in (1, 2):
        lab[..., channel] += share * (np.float32(skin_colour[channel - 1]) - lab[..., channel])


def _check_age(age: float) -> float:
    if not 0 <= age <= 120:
        raise ValueError(f"age must be between 0 and 120, got {age}")
    return float(age)


def descent_share(age: float) -> float:
    """Share (0-1) of its extent at 80 that soft-tissue descent (jowls, folds, eye bags) has reached at `age`."""
    progress = (_check_age(age) - DESCENT_ONSET_YEARS) / (80.0 - DESCENT_ONSET_YEARS)
    return float(min(max(progress, 0.0), 1.0) ** DESCENT_POWER)


def vermilion_loss(age: float) -> float:
    """Share (0-VERMILION_LOSS_AT_80) of the young adult's vermilion height lost by `age`."""
    progress = (_check_age(age) - VERMILION_ONSET_YEARS) / (80.0 - VERMILION_ONSET_YEARS)
    return VERMILION_LOSS_AT_80 * min(max(progress, 0.0), 1.0)


@dataclass(frozen=True)
class Descent:
    """How far each sign moves from the source age to the target (< 0: back toward a younger face)."""

    tissue: float  # change in descent_share: jowls, cheek mass, lid-cheek junction, fold shading
    lips: float  # change in the share of vermilion height, of the height at the source age
    fullness: float = 0.0  # change in body-mass index (kg/m^2): > 0 a fuller lower face, < 0 a leaner one
    # change in descent_share for the upper lids' hooding (the tissue's, and back toward a younger target); the
    # caller sets it to 0 for a face with glasses: the lid warp bent their upper rim with it (from looking)
    hooding: float = 0.0

    @property
    def zero(self) -> bool:
        return self.tissue == 0 and self.lips == 0 and self.fullness == 0 and self.hooding == 0


def descent_between(source_age: float, target_age: float, ahead_years: float = 0.0, fullness: float = 0.0) -> Descent:
    """The change from `source_age` to `target_age`: zero at the source age, negative toward a younger target.

    `ahead_years`: this face's tissue reaches at the target what the mean face reaches that many years
    later (> 0) or earlier (< 0), read off the same curves (kept inside their 0-120 domain); `fullness`: the
    change in body-mass index to the target (kg/m^2). Both 0: the mean future."""
    reached = min(max(target_age + ahead_years, 0.0), 120.0)
    tissue = descent_share(reached) - descent_share(source_age)
    left_before = 1.0 - vermilion_loss(source_age)
    lips = (vermilion_loss(reached) - vermilion_loss(source_age)) / left_before  # of the lips as they are now
    return Descent(tissue, lips, float(fullness), tissue)


def smoothstep(value: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, the cubic smoothstep between."""
    value = np.clip(value, 0.0, 1.0)
    return value * value * (3 - 2 * value)


def _segment_weight(points: np.ndarray, start: np.ndarray, end: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """(weight falling from 1 on the segment to 0 at `width` away, each point's x offset from its nearest
    point on the segment)."""
    direction = (end - start) / max(float(np.linalg.norm(end - start)), 1e-6)
    along = np.clip((points - start) @ direction, 0.0, float(np.linalg.norm(end - start)))
    # x and y apart (each contiguous): the same sums as a norm over the rows of (N, 2), without its per-row reduction
    across_x = points[:, 0] - (start[0] + along * direction[0])
    across_y = points[:, 1] - (start[1] + along * direction[1])
    distance = np.sqrt(across_x * across_x + across_y * across_y)
    return 1.0 - smoothstep(distance / width), across_x


def _fold_lines(points: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    """Each fold's line (start, end) and its side toward the cheek (+1 or -1 along x), in the aligned frame."""
    d = inter_ocular(points)
    lines = {}
    for side, ala, mouth, sign in (("right", RIGHT_ALA, RIGHT_MOUTH, -1.0), ("left", LEFT_ALA, LEFT_MOUTH, 1.0)):
        # nasolabial: from beside the nose's wing to beside and below the mouth corner (as the zone's axis)
        lines[f"nasolabial_{side}"] = (
            points[ala] + np.array([sign * 0.06 * d, 0.0]),
            points[mouth] + np.array([sign * 0.1 * d, 0.12 * d]),
            sign,
        )
        # marionette: from just outside the mouth corner down toward the jaw
        lines[f"marionette_{side}"] = (
            points[mouth] + np.array([sign * 0.04 * d, 0.03 * d]),
            points[mouth] + np.array([sign * 0.12 * d, 0.42 * d]),
            sign,
        )
    return lines


def descent_displacements(points: np.ndarray, descent: Descent) -> np.ndarray:
    """(N, 2) displacement of each FaceMesh landmark (aligned frame, pixels, y down) for `descent`."""
    p = np.asarray(points, np.float64)[:, :2]
    d = inter_ocular(p)
    moved = np.zeros_like(p)
    mouth_y = (p[RIGHT_MOUTH, 1] + p[LEFT_MOUTH, 1]) / 2
    mid_x = (p[RIGHT_MOUTH, 0] + p[LEFT_MOUTH, 0]) / 2
    half_mouth = abs(p[LEFT_MOUTH, 0] - p[RIGHT_MOUTH, 0]) / 2
    chin_y = p[CHIN, 1]
    # 1. jowls: below the mouth corners and beside the chin, most at the jaw line; the chin itself stays
    lateral = smoothstep((np.abs(p[:, 0] - mid_x) - 0.5 * half_mouth) / (0.7 * half_mouth))
    below = smoothstep((p[:, 1] - mouth_y) / (0.8 * (chin_y - mouth_y)))
    jowl = lateral * below * descent.tissue * d
    moved[:, 1] += JOWL_DROP * jowl
    moved[:, 0] += JOWL_OUT * jowl * np.sign(p[:, 0] - mid_x)
    # 2. the cheek mass beside the nasolabial fold: down and toward the fold
    for name, (start, end, sign) in _fold_lines(p).items():
        if not name.startswith("nasolabial"):
            continue
        near, across = _segment_weight(p, start, end, 0.35 * d)
        cheek = near * (sign * across > 0) * (p[:, 1] < end[1])  # the cheek's (lateral) side only
        moved[:, 1] += CHEEK_DROP * cheek * descent.tissue * d
        moved[:, 0] -= sign * CHEEK_IN * cheek * descent.tissue * d
    # 3. eye bags: the tissue below each lower lid moves down, most at the lid-cheek junction
    # (EYE_BAG_DEPTH below the lid), none on the lid margin and none from twice that depth down
    for eye in (RIGHT_EYE, LEFT_EYE):
        lid_y = p[eye, 1].max()
        x0, x1 = p[eye, 0].min(), p[eye, 0].max()
        inside = 1.0 - smoothstep((np.abs(p[:, 0] - (x0 + x1) / 2) - 0.5 * (x1 - x0)) / (0.25 * d))
        depth = (p[:, 1] - lid_y) / d / EYE_BAG_DEPTH  # 1 at the junction
        bump = np.where(depth < 1, smoothstep(depth), 1.0 - smoothstep(depth - 1))
        moved[:, 1] += LID_CHEEK_DROP * inside * bump * descent.tissue * d
    # 3b. upper-lid hooding: the fold above each upper lid down toward the margin, most at the outer end;
    # the ring toward the brow follows half as far, so the skin between gathers over the lid
    for crease, above in (RIGHT_UPPER_RINGS, LEFT_UPPER_RINGS):
        outer_first = np.linspace(1.0, HOOD_MEDIAL_SHARE, len(crease))
        moved[crease, 1] += LID_HOOD_DROP * outer_first * descent.hooding * d
        moved[above, 1] += 0.5 * LID_HOOD_DROP * outer_first * descent.hooding * d
    # 4. thinner lips: the outer (vermilion) border moves toward the inner one; mouth corners stay
    for outer, inner in ((OUTER_UPPER_LIP, INNER_UPPER_LIP), (OUTER_LOWER_LIP, INNER_LOWER_LIP)):
        moved[outer] = descent.lips * (p[inner] - p[outer])
    if descent.lips:
        moved += lip_skin_follows(p, moved, d)
    # 5. weight: the lower face's sides out (fuller) or in (leaner), from the cheekbones down
    if descent.fullness:
        eye_y = (p[RIGHT_EYE, 1].mean() + p[LEFT_EYE, 1].mean()) / 2
        lower = smoothstep((p[:, 1] - eye_y) / (0.6 * (mouth_y - eye_y)))  # 0 at the eyes, 1 from below the cheekbones
        sides = smoothstep((np.abs(p[:, 0] - mid_x) - 0.5 * half_mouth) / (1.2 * half_mouth))  # the lips stay
        moved[:, 0] += FULLNESS_OUT_PER_BMI * descent.fullness * d * lower * sides * np.sign(p[:, 0] - mid_x)
        moved[:, 1] += FULLNESS_DOWN_PER_BMI * descent.fullness * d * lateral * below
    return moved


def lip_skin_follows(points: np.ndarray, moved: np.ndarray, d: float) -> np.ndarray:
    """(N, 2) the displacement of the landmarks around the lips' outer border that follows its `moved`. Beyond the lips
    each landmark takes the border points' moves weighted by (1 - (r / R)^2)^2 of its distance r to each (R:
    LIP_SKIN_REACH d; none beyond it), divided by the weights' sum where that is over 1 (next to the border it moves as
    the border does, from R not at all). Within the red lip (FaceMesh's rings between the mouth's opening and the border)
    each takes its share of the way from the opening (none) to the outline (all) of the weighted mean of the outline's
    moves, its corners' (which stay) among them, so the vermilion thins or fills evenly and no ring crosses the opening.
    The opening's contour and the mouth's corners, outer and inner, take none."""
    border = OUTER_UPPER_LIP + OUTER_LOWER_LIP
    opening = INNER_UPPER_LIP + INNER_LOWER_LIP
    to_border = np.linalg.norm(points[:, None, :] - points[None, border, :], axis=2)
    weight = np.clip(1.0 - (to_border / (LIP_SKIN_REACH * d)) ** 2, 0.0, None) ** 2
    total = weight.sum(1, keepdims=True)
    follows = weight @ moved[border] / np.maximum(total, 1.0)
    outline = points[OUTER_LIPS].astype(np.float32)
    near = np.flatnonzero(total[:, 0] > 0)
    within = [i for i in near if cv2.pointPolygonTest(outline, (float(points[i, 0]), float(points[i, 1])), False) > 0]
    if within:
        # the outline with its corners, which stay (a ring beside a corner goes as little as the corner does), and the
        # opening with its own corners
        lips_moved = np.zeros((len(OUTER_LIPS), 2))
        lips_moved[[OUTER_LIPS.index(i) for i in border]] = moved[border]
        to_outline = np.linalg.norm(points[within, None, :] - points[None, OUTER_LIPS, :], axis=2)
        near_outline = np.clip(1.0 - (to_outline / (LIP_SKIN_REACH * d)) ** 2, 0.0, None) ** 2
        from_opening = np.linalg.norm(points[within, None, :] - points[None, opening + MOUTH_CORNERS[2:], :], axis=2).min(1)
        share = from_opening / np.maximum(from_opening + to_outline.min(1), 1e-9)
        follows[within] = share[:, None] * (near_outline @ lips_moved) / near_outline.sum(1, keepdims=True)
    follows[border + opening + MOUTH_CORNERS] = 0.0
    return follows


def _border_anchors(size: int, step: int = 32) -> np.ndarray:
    """Points along the crop's border (and a ring just inside it), where the warp is pinned to zero."""
    edge = np.arange(0, size + 1, step, dtype=np.float64)
    ring = []
    for inset in (0.0, 0.06 * size):
        low, high = inset, size - 1 - inset
        line = np.clip(edge, low, high)
        ring += [np.stack([line, np.full_like(line, low)], 1), np.stack([line, np.full_like(line, high)], 1)]
        ring += [np.stack([np.full_like(line, low), line], 1), np.stack([np.full_like(line, high), line], 1)]
    return np.unique(np.round(np.concatenate(ring), 3), axis=0)


def warp_landmarks(
    image: np.ndarray, sources: np.ndarray, destinations: np.ndarray, smoothing: float = 0.0, step: int = 8
) -> np.ndarray:
    """`image` warped so that what was at each of `sources` (N, 2; x, y pixels) lands on `destinations`
    (`landmark_offsets`' map, read with `warp_by_offsets`)."""
    offsets = landmark_offsets(image.shape[:2], sources, destinations, smoothing, step)
    return warp_by_offsets(image, offsets)


def landmark_offsets(
    shape: tuple[int, ...], sources: np.ndarray, destinations: np.ndarray, smoothing: float = 0.0, step: int = 8
) -> np.ndarray:
    """(H, W, 2) float32 backward map of the landmark warp: where (x, y offset from itself) each pixel of a crop of
    `shape` comes from, so that what was at each of `sources` (N, 2; x, y pixels) lands on `destinations`.

    A thin-plate spline through the displacements, pinned to zero along the crop's border (so the
    paste-back is seamless), solved as a backward map on a grid of `step` x `step` px blocks and brought to every pixel
    (engine/core/grids.py; 8: the map follows landmarks about 10 px apart on the aligned face).
    """
    height, width = shape[:2]
    sources = np.asarray(sources, np.float64)[:, :2]
    destinations = np.asarray(destinations, np.float64)[:, :2]
    if sources.shape != destinations.shape:
        raise ValueError(f"sources and destinations must have the same shape, got {sources.shape} and {destinations.shape}")
    anchors = _border_anchors(max(height, width))
    centres = np.concatenate([destinations, anchors])
    values = np.concatenate([sources - destinations, np.zeros_like(anchors)])
    centres, unique = np.unique(np.round(centres, 3), axis=0, return_index=True)
    spline = thinplate.fit(centres, values[unique], smoothing)
    xs, ys = grid_points((height, width), step)
    offset = thinplate.evaluate(spline, np.stack([xs.ravel(), ys.ravel()], 1)).reshape(*xs.shape, 2)
    return every_pixel(offset, step, (height, width))


def warp_by_offsets(image: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """`image` resampled (bicubic) at each pixel plus its `offsets` (H, W, 2: x, y; `landmark_offsets`)."""
    # remap reads its maps in 1/32 px: a pixel whose offset is under half of that in x and y is copied as it is,
    # so only the box of the pixels that move is resampled (the same pixels as resampling the whole image)
    moving = (np.abs(offsets[..., 0]) >= 1 / 64) | (np.abs(offsets[..., 1]) >= 1 / 64)
    out = image.copy()
    if not moving.any():
        return out
    rows, cols = np.flatnonzero(moving.any(1)), np.flatnonzero(moving.any(0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    part = offsets[top:bottom, left:right]
    # each pixel's own column and row plus its offset (broadcast, without a full coordinate grid)
    map_x = part[..., 0] + np.arange(left, right, dtype=np.float32)[None, :]
    map_y = part[..., 1] + np.arange(top, bottom, dtype=np.float32)[:, None]
    out[top:bottom, left:right] = cv2.remap(image, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return out


def fold_shading(shape: tuple[int, int], points: np.ndarray, amount: float) -> np.ndarray:
    """(H, W) float32 factor for CIELAB lightness: < 1 in the folds' valleys and below the eye bags, > 1 on
    their shoulders, 1 elsewhere; `amount` < 0 lightens the folds instead (a younger target)."""
    p = np.asarray(points, np.float64)[:, :2]
    # the factor is 1 + amount x a field of the landmarks alone (resizing and blurring are linear): the field is
    # computed once per face, every target of a strip scales it; deepening folds follow the measured creases
    # (`_older_fold_field`), lifting them the lines they were lifted along before
    if amount > 0:
        field = memo("older_fold_field", (tuple(shape), p), lambda: _older_fold_field(shape, p))
    else:
        field = memo("fold_field", (tuple(shape), p), lambda: _fold_field(shape, p))
    return 1.0 + np.float32(amount) * field


def crease_lines(points: np.ndarray) -> dict[str, tuple[np.ndarray, float]]:
    """Each crease an older face deepens, as a polyline (K, 2) in the aligned frame with its cheek's side (+1 or -1
    along x): `_fold_lines`' lines, the nasolabial one bowed NASOLABIAL_BOW d out at the middle between the nose's wing
    and the mouth corner."""
    d = inter_ocular(points)
    lines = {}
    for name, (start, end, sign) in _fold_lines(points).items():
        if name.startswith("nasolabial"):
            ala, mouth = (RIGHT_ALA, RIGHT_MOUTH) if name.endswith("right") else (LEFT_ALA, LEFT_MOUTH)
            middle = (points[ala] + points[mouth]) / 2 + np.array([sign * NASOLABIAL_BOW * d, 0.0])
            lines[name] = (np.stack([start, middle, end]), sign)
        else:
            lines[name] = (np.stack([start, end]), sign)
    return lines


def crease_profile(grid: np.ndarray, line: np.ndarray, sign: float, d: float) -> tuple[np.ndarray, np.ndarray]:
    """((N,) 0-1: how much of a crease's shadow falls on each of `grid`'s points (N, 2): 1 on the polyline `line`,
    falling to 0 over CREASE_CHEEK_SIDE d on the cheek's side (`sign` along x) and over CREASE_LIP_SIDE d on the
    other, faded in and out over CREASE_END_TAPER of its length at both ends; (N,) bool: on the cheek's side)."""
    lengths = np.linalg.norm(np.diff(line, axis=0), axis=1)
    total = max(float(lengths.sum()), 1e-6)
    best = np.full(len(grid), np.inf)
    signed = np.zeros(len(grid))
    position = np.zeros(len(grid))  # along the whole polyline, 0-1
    for k, (start, end) in enumerate(zip(line[:-1], line[1:])):
        direction = (end - start) / max(float(lengths[k]), 1e-6)
        along = np.clip((grid - start) @ direction, 0.0, float(lengths[k]))
        across_x = grid[:, 0] - (start[0] + along * direction[0])
        across_y = grid[:, 1] - (start[1] + along * direction[1])
        distance = np.sqrt(across_x * across_x + across_y * across_y)
        nearer = distance < best
        best = np.where(nearer, distance, best)
        signed = np.where(nearer, np.where(sign * across_x > 0, distance, -distance) / d, signed)
        position = np.where(nearer, (lengths[:k].sum() + along) / total, position)
    cheek_side = 1.0 - smoothstep(signed / CREASE_CHEEK_SIDE)
    lip_side = 1.0 - smoothstep(-signed / CREASE_LIP_SIDE)
    ends = smoothstep(position / CREASE_END_TAPER) * smoothstep((1.0 - position) / CREASE_END_TAPER)
    return np.where(signed >= 0, cheek_side, lip_side) * ends, signed > 0


def _coarse_grid(shape: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """The fold fields' grid: (N, 2) pixel coordinates of its nodes (engine/core/grids.py), one per FIELD_SCALE x
    FIELD_SCALE block of the crop (the shading is smooth), and its size (rows, columns)."""
    xs, ys = grid_points(shape, FIELD_SCALE)
    return np.stack([xs.ravel(), ys.ravel()], 1), xs.shape


def _full_field(coarse: np.ndarray, size: tuple[int, int], shape: tuple[int, int], d: float) -> np.ndarray:
    """(H, W) float32: a fold field computed on `_coarse_grid` brought to every pixel of `shape` and smoothed over
    0.02 d."""
    return cv2.GaussianBlur(every_pixel(coarse.reshape(size), FIELD_SCALE, shape), (0, 0), 0.02 * d)


def _older_fold_field(shape: tuple[int, int], p: np.ndarray) -> np.ndarray:
    """(H, W) float32: the change of `fold_shading`'s factor per unit amount toward an older target: the creases
    (`crease_lines`, `crease_profile`) and the eye bags over their lid-cheek junction, darkened by FOLD_SHADOW_OLDER
    at a full share; the cheek mass beyond each crease and the bags lit by FOLD_SHOULDER."""
    grid, size = _coarse_grid(shape)
    d = inter_ocular(p)
    valley = np.zeros(len(grid))
    shoulder = np.zeros(len(grid))
    for name, (line, sign) in crease_lines(p).items():
        weight = 1.0 if name.startswith("nasolabial") else MARIONETTE_WEIGHT
        crease, cheek = crease_profile(grid, line, sign, d)
        valley = np.maximum(valley, weight * crease)
        # the cheek mass above the roll-off: lit as the crease's shadow fades, out to twice its width (as `_fold_field`
        # lights its shoulder out past its valley); the lip's side shows no lit edge (Hopper's lightness there is level
        # within 0.1 d of the crease)
        beyond, _ = crease_profile(grid, line, sign, 2.0 * d)
        shoulder = np.maximum(shoulder, weight * beyond * cheek * (1.0 - crease))
    for bag, junction in _eye_bags(grid, p, d):  # the eye bags as `_fold_field` draws them
        shoulder = np.maximum(shoulder, bag)
        valley = np.maximum(valley, junction)
    return _full_field(FOLD_SHOULDER * shoulder - FOLD_SHADOW_OLDER * valley, size, shape, d)


def _eye_bags(grid: np.ndarray, p: np.ndarray, d: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per lower lid, on `grid` (N, 2): (the bag, a light bulge below the lid; the lid-cheek junction's shadow under
    it, EYE_BAG_DEPTH d below the lid margin), each weighted as the shading takes it."""
    bags = []
    for lid in (RIGHT_LOWER_LID, LEFT_LOWER_LID):
        margin = p[lid][np.argsort(p[lid][:, 0])]
        x0, x1 = margin[0, 0], margin[-1, 0]
        across = 1.0 - smoothstep((np.abs(grid[:, 0] - (x0 + x1) / 2) - 0.35 * (x1 - x0)) / (0.25 * (x1 - x0)))
        depth = (grid[:, 1] - np.interp(grid[:, 0], margin[:, 0], margin[:, 1])) / d  # below the lid margin, following it
        bag = smoothstep((depth - 0.03) / 0.05) * (1 - smoothstep((depth - 0.12) / 0.06))
        junction = np.exp(-0.5 * ((depth - EYE_BAG_DEPTH) / 0.03) ** 2)
        bags.append((0.8 * across * bag, 0.9 * across * junction))
    return bags


def _fold_field(shape: tuple[int, int], p: np.ndarray) -> np.ndarray:
    """(H, W) float32: the change of `fold_shading`'s factor per unit amount."""
    grid, size = _coarse_grid(shape)
    d = inter_ocular(p)
    valley = np.zeros(len(grid))
    shoulder = np.zeros(len(grid))
    for name, (start, end, sign) in _fold_lines(p).items():
        weight = 1.0 if name.startswith("nasolabial") else MARIONETTE_WEIGHT
        near, across = _segment_weight(grid, start, end, 0.06 * d)
        wide, _ = _segment_weight(grid, start, end, 0.2 * d)
        cheek = sign * across > 0.02 * d  # lateral of the line: the cheek mass that overhangs it
        # the valley along the line and just inside it, the cheek's shoulder lit beyond it
        valley = np.maximum(valley, weight * near * ~cheek)
        shoulder = np.maximum(shoulder, weight * wide * cheek * (1 - near))
    for bag, junction in _eye_bags(grid, p, d):
        shoulder = np.maximum(shoulder, bag)
        valley = np.maximum(valley, junction)
    return _full_field(FOLD_SHOULDER * shoulder - FOLD_SHADOW * valley, size, shape, d)


def age_shape(
    face: np.ndarray, points: np.ndarray, skin: np.ndarray, descent: Descent, skin_colour: np.ndarray | None = None
) -> np.ndarray:
    """The aligned face with the folds shaded on its skin and its landmarks moved by `descent`. `skin_colour` ((2,)
    a*, b*): the face's skin colour, which a deepened fold's shadow shows (`skin_in_shadow`); None: the
    shadow keeps each pixel's own."""
    if descent.zero:
        return face.copy()
    d = inter_ocular(points)
    lab = to_lab(face)
    weight = memo("skin_blur", (skin, 0.03 * d), lambda: cv2.GaussianBlur(skin.astype(np.float32), (0, 0), 0.03 * d))
    factor = fold_shading(face.shape[:2], points, descent.tissue)
    # the shading scales the skin's broad lightness, not its fine detail: a lifted fold lightens without
    # sharpening the creases in it, a deepened one darkens without flattening them
    broad = wide_blur(lab[..., 0], 0.06 * d)  # a blur this wide keeps no fine detail: run at a quarter of the size
    # only the skin's box changes (the weight is 0 beyond it): only it is shaded and converted back
    shaded = face.copy()
    box = support_box(weight)
    if box is not None:
        part, inside = lab[box], weight[box]
        lit = part[..., 0].copy()
        part[..., 0] += inside * (factor[box] - 1.0) * broad[box]
        if skin_colour is not None:
            skin_in_shadow(part, lit, skin_colour)
        shaded[box] = from_lab(part, face[box], inside)
    return warp_by_offsets(shaded, descent_offsets(face.shape[:2], points, descent))


def descent_offsets(shape: tuple[int, ...], points: np.ndarray, descent: Descent) -> np.ndarray:
    """(H, W, 2) float32 backward map (`landmark_offsets`) of `descent`'s landmark warp on a crop of `shape`."""
    sources = np.asarray(points, np.float64)[:, :2]
    moved = descent_displacements(sources, descent)
    # every landmark that moves, and every 3rd of those that stay (they pin the rest of the face; all of
    # them would triple the spline's cost for no visible difference)
    keep = (np.abs(moved).max(1) > 0) | (np.arange(len(sources)) % 3 == 0)
    # the descent varies over tens of pixels: its map is solved every 16th pixel
    return landmark_offsets(shape, sources[keep], sources[keep] + moved[keep], step=16)


def describe(descent: Descent) -> str:
    """What the shape stage did, in one line (the manifest's stage entry)."""
    if descent.tissue >= 0:
        tissue = f"jowls, folds and eye bags {descent.tissue:.0%} further along their descent to 80"
    else:
        tissue = f"jowls, folds and eye bags lifted back {-descent.tissue:.0%} of their descent to 80"
    lips = f"lips {descent.lips:.0%} thinner" if descent.lips >= 0 else f"lips {-descent.lips:.0%} fuller"
    if descent.hooding:
        lids = "further hooded" if descent.hooding > 0 else "less hooded"
        lips += f"; upper lids {abs(descent.hooding):.0%} {lids}"
    weight = ""
    if descent.fullness:
        weight = f"; the lower face {'fuller' if descent.fullness > 0 else 'leaner'} by {abs(descent.fullness):.1f} kg/m^2 of BMI"
    return f"{tissue}; {lips}{weight} (soft-tissue descent, a landmark warp)"
