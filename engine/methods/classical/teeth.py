"""Teeth darken and yellow with age: the enamel thins and wears, the dentine under it thickens and darkens, and
stains build up.

The per-year change is from Pustina Krasniqi, Lila-Krasniqi, Ajeti, Shala, Bicaj and Dula 2017 ("Differences of
tooth colorimetric parameters L*a*b* depended on age", Open Access Maced J Med Sci 5(6):777-780; 255 people aged
20-49, 2,295 upper front teeth measured with a VITA Easyshade): the group means go from L* 83.2 at 20-29 to 79.4
at 40-49, b* 21.7 to 23.9 and a* -0.7 to -0.5, twenty years apart between the groups' middles: L* -0.19, a* +0.01,
b* +0.11 a year. The direction is the same in a Spanish sample of 1,361 aged 16-89 (same instrument; "Correlation
of natural tooth colour with aging in the Spanish population", whose abstract gives L* -0.60, a* +0.26, b* +0.56 a
year, the colour differences growing steadily with the age gap; its authors, journal and year were not on the page
read) and
in Hasegawa et al. 2000 (Color Res Appl 25(1):43-48, 87 Japanese aged 13-84: L* falls and b* rises with age,
correlations only). The Spanish rates, tried first, painted the astronaut's teeth orange-brown at 80 and clipped
them to a flat white at 10 (from looking at 3x crops), so the smaller measured rate is used.

The curve is linear (the Spanish study found the difference growing steadily with the age gap up to 89, which is
what carries Krasniqi et al.'s rate past 49 to 80: an assumption, their sample stops at 49). It is flat under
TEETH_ONSET_YEARS, the youngest age Krasniqi et al. measured: a child's target gets the 20-year-old's colour.
Children's teeth (primary and mixed dentition under ~12) differ in shape, size and translucency, which a colour
shift cannot draw, and their colour with age is a separate matter (Korean children aged 7-15 read lighter at 10 or
under than at 11 or over: Oh et al. 2022, J Korean Acad Pediatr Dent 49(4):414-427), so nothing is extrapolated
below 20.

The teeth are the light, low-chroma pixels inside FaceMesh's inner lip contour (the mouth's opening): the tongue
and gums are redder, the mouth's inside darker. Each tooth pixel's L*, a* and b* move by the same amount (times
its mask weight), so its shading and detail are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.core.pixels import chosen, lab_shift_text, to_lab, to_uint8
from engine.faces.zones import inter_ocular, support_box
from engine.methods.classical.aging import lift_taper
from engine.methods.classical.contrast import INNER_LIPS  # FaceMesh's inner lip contour: the mouth's opening

TEETH_ONSET_YEARS = 20.0  # the youngest age Krasniqi et al. measured (20-49); flat below it (module docstring)
# CIELAB change per year of age (L*, a*, b*): Krasniqi et al. 2017's group means, 20-29 to 40-49 (20 years):
# L* 83.2 -> 79.4 (-0.19 a year), a* -0.7 -> -0.5 (+0.01), b* 21.7 -> 23.9 (+0.11)
TEETH_LAB_PER_YEAR = ((79.4 - 83.2) / 20.0, (-0.5 - -0.7) / 20.0, (23.9 - 21.7) / 20.0)
# The teeth gate, CIELAB L* (0-100) and chroma C*: a pixel is a tooth from TEETH_LIGHTNESS[1] up and not at or
# below TEETH_LIGHTNESS[0], and from TEETH_CHROMA[0] down and not at or above TEETH_CHROMA[1], linear between (from
# looking at the astronaut's, Obama's and Obama's open mouth: teeth L* 55-90 and C* 8-22 in these photos, the
# tongue and gums C* 25 and over, the dark gaps between teeth and the mouth's inside L* under 40)
TEETH_LIGHTNESS = (40.0, 55.0)
TEETH_CHROMA = (22.0, 30.0)
TEETH_FEATHER = 0.01  # the mask's soft edge, a Gaussian of this many inter-ocular distances (from looking)
# fewer tooth pixels (mask weight summed) than this share of the inter-ocular distance squared is no teeth in view:
# about a 0.05 d square, a sliver a tooth's edge makes between nearly closed lips (from looking)
TEETH_MIN_AREA = 0.0025


@dataclass(frozen=True)
class TeethChange:
    """What the teeth stage did to one face."""

    face: np.ndarray  # (H, W, 3) uint8 RGB, the aligned face with the teeth's colour moved
    shift: tuple[float, float, float]  # CIELAB (L*, a*, b*) applied at full mask weight
    area: float  # the teeth mask's weight summed, in pixels; 0 where none are in view

    @property
    def in_view(self) -> bool:
        return self.area > 0


def teeth_years(age: float) -> float:
    """The age on the teeth's colour curve: `age`, held at TEETH_ONSET_YEARS below it (the curve is flat there)."""
    if not 0 <= age <= 120:
        raise ValueError(f"age must be between 0 and 120, got {age}")
    return max(age, TEETH_ONSET_YEARS)


def teeth_shift(source_age: float, target_age: float) -> np.ndarray:
    """(3,) CIELAB (L*, a*, b*) change of the teeth from `source_age` to `target_age`: the per-year averages times
    the years between them on the curve (darker and yellower toward an older target, the reverse toward a younger)."""
    years = teeth_years(target_age) - teeth_years(source_age)
    return np.asarray(TEETH_LAB_PER_YEAR, np.float64) * years


def teeth_mask(face: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(H, W) float32 0-1: the teeth seen between the lips, the light low-chroma pixels inside the inner lip
    contour, with a soft edge that stays inside the contour."""
    p = np.asarray(points, np.float64)[:, :2]
    mouth = np.zeros(face.shape[:2], np.uint8)
    cv2.fillPoly(mouth, [np.round(p[INNER_LIPS]).astype(np.int32)], 1)
    box = support_box(mouth, 2)
    out = np.zeros(face.shape[:2], np.float32)
    if box is None:
        return out
    lab = to_lab(face[box])
    lightness = lab[..., 0] * (100.0 / 255.0)
    chroma = np.hypot(lab[..., 1] - 128.0, lab[..., 2] - 128.0)
    light = np.clip((lightness - TEETH_LIGHTNESS[0]) / (TEETH_LIGHTNESS[1] - TEETH_LIGHTNESS[0]), 0.0, 1.0)
    pale = np.clip((TEETH_CHROMA[1] - chroma) / (TEETH_CHROMA[1] - TEETH_CHROMA[0]), 0.0, 1.0)
    inside = mouth[box].astype(np.float32)
    sigma = TEETH_FEATHER * inter_ocular(points)
    soft = cv2.GaussianBlur(light * pale * inside, (0, 0), sigma) if sigma > 0.3 else light * pale * inside
    # the blur softens the edge; held to the gate (no colour on the dark gaps, the gums or the tongue) and the contour
    out[box] = soft * np.sqrt(light * pale) * inside
    return out


def age_teeth(face: np.ndarray, points: np.ndarray, source_age: float, target_age: float) -> TeethChange:
    """The aligned `face` with the teeth in view moved along the teeth's colour curve from `source_age` to
    `target_age`; pixels outside the teeth mask are returned exactly."""
    shift = teeth_shift(source_age, target_age)
    values = (float(shift[0]), float(shift[1]), float(shift[2]))
    mask = teeth_mask(face, points)
    area = float(mask.sum())
    if area < TEETH_MIN_AREA * inter_ocular(points) ** 2:
        return TeethChange(face.copy(), values, 0.0)
    if not shift.any():  # the same point on the curve: nothing to move (a colour round trip would still move pixels)
        return TeethChange(face.copy(), values, area)
    box = support_box(mask > 0, 0)
    if box is None:  # the area check above leaves a mask with weight: this cannot be reached
        raise ValueError("the teeth mask has weight but no pixels")
    region, weight = face[box], mask[box]
    # CIELAB in floating point (L* 0-100): an 8-bit CIELAB round trip moves pixels by up to 4 levels with no shift at all
    lab = cv2.cvtColor(region.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    out = lab + weight[..., None] * shift.astype(np.float32)[None, None, :]
    if shift[0] > 0:  # lighter: a tooth's brightest channel takes the lift only as far as white allows (aging.lift_taper)
        brightest = region.max(-1).astype(np.float32)
        lifted = (cv2.cvtColor(out, cv2.COLOR_LAB2RGB) * 255.0).max(-1)
        allowed = brightest + (lifted - brightest) * lift_taper(brightest)
        share = np.where(lifted > brightest, (allowed - brightest) / np.maximum(lifted - brightest, 1e-6), 1.0)
        out = lab + (share * weight).astype(np.float32)[..., None] * shift.astype(np.float32)[None, None, :]
    rgb = to_uint8(cv2.cvtColor(out, cv2.COLOR_LAB2RGB) * 255.0)
    result = face.copy()
    result[box] = chosen(weight > 0, rgb, region)
    return TeethChange(result, values, area)


def describe(change: TeethChange, lightness_only: bool = False) -> str:
    """The manifest's line for the teeth stage; `lightness_only`: a black-and-white photo, which keeps the change's
    lightness alone (its a* and b* are not said as changed)."""
    if not change.in_view:
        return "no teeth in view"
    if not any(change.shift):
        return (
            f"teeth in view, unchanged (the target is the source's age on the curve: the same age, or both under "
            f"{TEETH_ONSET_YEARS:g}, where it is flat)"
        )
    toward_white = ", less on the teeth nearest white and none at it" if change.shift[0] > 0 else ""
    kept = " (a black-and-white photo: lightness only)" if lightness_only else ""
    return (
        f"teeth {lab_shift_text(change.shift, lightness_only)}{kept}{toward_white} (Krasniqi et al. 2017's change in tooth "
        f"colour with age, {' / '.join(f'{rate:+.2f}' for rate in TEETH_LAB_PER_YEAR)} a year from 20)"
    )
