"""Facial contrast falls with age: the lips, eyebrows and the whites of the eyes come closer to the skin around them.

Porcheron, Mauger and Russell 2013 (PLoS ONE 8(3):e57985; 289 women aged 20-70) measured the contrast
between the lips, eyes and eyebrows and the surrounding skin: it decreases with age (the lips' in CIELAB
lightness and redness a*, the brows' in lightness), and faces with their contrast lowered were judged
older while the same faces with it raised were judged younger. (Set without the paper at hand: the sample
size and which colour axes reached significance should be checked against it.)

The model: each feature's mean colour, taken at low frequency, moves toward the mean of a ring of skin
around it by a share that grows linearly from CONTRAST_ONSET_YEARS to 80 (`contrast_share`); the feature's
own fine detail (the lips' lines, the brow hairs) is kept. The studies give the direction and that it is
gradual over adult life; the share of the difference lost by 80 is from looking (Grace Hopper at 77 in
matplotlib's portrait: her lips are barely redder than her skin, her brows faint).

The eyes: their contrast with the skin around them falls in redness a* and yellowness b* (Porcheron et al. 2017,
Front Psychol 8:1208, Table 1: r = -0.32 and -0.24 with age in Caucasian women, and the same fall in Chinese, Latin
American and black South African women), chiefly because the whites of the eyes grow darker, redder and yellower
(Russell, Sweda, Porcheron and Mauger 2014, Psychol Aging 29:626, on the 2013 paper's women); faces whose sclera were
made less dark, red and yellow were judged younger (ibid.; whitened sclera read younger in Provine, Cabrera and
Nave-Blodgett 2013, Hum Nat 24:126). The whites move toward the skin ring's colour as the lips do, one shift for all
of them (their vessels and shading kept), on the pixels lighter than that skin only (`whites_of_eyes`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from engine.core.pixels import from_lab, lab_shift_text, to_lab
from engine.faces.zones import LEFT_EYE, OUTER_LIPS, RIGHT_EYE, inter_ocular, support_box
from engine.methods.classical.hair import brow_box, brow_hair_share

CONTRAST_ONSET_YEARS = 20.0  # the youngest age in Porcheron et al.'s sample; the decline is steady from there
# The share of the feature-to-skin difference (CIELAB) lost by 80, from looking (see the module docstring).
# the lips: lightness, redness (a*) and b*. Redness is what fades (the pale lips of old age); the lightness is
# left as it is: FaceMesh places the mouth, and with it the jaw line, by the lips' outline in lightness, and
# lowering it shifted the jaw line found on the aged face up, against the sagging shape.py draws
LIP_CONTRAST_LOSS = (0.0, 0.45, 0.3)
BROW_CONTRAST_LOSS = 0.3  # lightness of the brows (their greying is hair.py's; this is the fading of the rest)
# the whites of the eyes (see the module docstring): lightness, redness and yellowness. Darker by little (Porcheron et
# al.'s eye contrast in L* falls by the least, r = -0.11), redder and yellower by more. From looking at the astronaut's
# and obama2's eyes moved by the whole loss (as at 80 from 20), enlarged 3 times: at 0.3 the whites barely change (b*
# +2.6 on hers); at 0.5 they read duller and yellower; at 0.7 hers read yellow-grey, a tired or unwell eye more than an
# old one
EYE_CONTRAST_LOSS = (0.15, 0.5, 0.5)
# FaceMesh's iris points (its 478-point model): each iris's centre, then four points on its rim
RIGHT_IRIS, LEFT_IRIS = 468, 473
IRIS_GROWTH = 1.15  # the iris's disk grown by this much: its dark limbal ring and the blur of its edge are not sclera
# L (8-bit; about 5 CIELAB L*): a pixel of the eye's opening this much lighter than the skin ring is white of the eye
# in full, one no lighter than the skin not at all (the lashes, the lids' shade, a sclera in shadow: its colour cannot
# be told from theirs). Hooded or narrowed eyes show little or none (Grace Hopper's and Biden's portraits: the openings' lightest
# half is darker than the skin around them), and then nothing changes (from looking)
SCLERA_LIGHTER = 12.0
# d^2 of an eye's whites in view (each pixel by its share) below which that eye is left as it is. On the packaged
# portraits (looked at) the eyes whose whites show have 0.0028-0.0166 d^2 (Obama's 2012 right eye, in the brows' shade,
# to the camera operator's near eye); hooded, narrowed or half-closed eyes, whose "whites" are glints on lids and lenses,
# up to 0.0019 (Hopper's left; Biden's and Takeo's under 0.001, obama3's half-closed left 0.0010). Obama's 2012 left eye
# (0.0017) shows a little white and is left as it is too
SCLERA_MIN_AREA = 0.002
# the share of the ring around an eye (its contour filled, FaceMesh's) that must be skin (segmentation's skin mask, which
# leaves the lids out) for the eye to be in view: the packaged portraits' eyes have 0.47-0.64; the camera operator's
# far eye, which FaceMesh puts on the camera's lit metal in his three-quarter view, 0.18
EYE_RING_SKIN = 0.3
RING = 0.12  # the skin ring around a feature, in inter-ocular distances
# A feature's broad colour is its colour blurred over FEATURE_BLUR inter-ocular distances (the lips' lines and the
# brow hairs are finer), and a change fades in over FEATURE_FEATHER of that blur at its edge (from looking)
FEATURE_BLUR = 0.03
FEATURE_FEATHER = 0.3
# FaceMesh's inner lip contour (the mouth's opening): teeth and the mouth's inside are not lip
INNER_LIPS = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191]


def contrast_share(age: float) -> float:
    """Share (0-1) of its loss at 80 that facial contrast has reached at `age`, linear from CONTRAST_ONSET_YEARS."""
    if not 0 <= age <= 120:
        raise ValueError(f"age must be between 0 and 120, got {age}")
    return min(max((age - CONTRAST_ONSET_YEARS) / (80.0 - CONTRAST_ONSET_YEARS), 0.0), 1.0)


def contrast_between(source_age: float, target_age: float) -> float:
    """The share of contrast lost from `source_age` to `target_age`; 0 for a younger target (the lips' and brows'
    contrast is given back by `lip_regain` and `brow_regain` instead, and the younger-skin stage evens and brightens the
    skin)."""
    return max(contrast_share(target_age) - contrast_share(source_age), 0.0)


def regain(loss: np.ndarray | tuple[float, ...] | float, source_age: float, target_age: float) -> np.ndarray:
    """The share of a feature's present difference from the skin added to it toward a younger target, for a contrast
    `loss` by 80 (one, or one per channel): Porcheron et al.'s decline run backwards. The feature keeps 1 - loss x
    `contrast_share` of a young adult's difference at each age, so from `source_age` to `target_age` the difference
    grows by the ratio of the two, less 1; 0 toward an older target."""
    loss = np.asarray(loss, np.float64)
    kept_before = 1.0 - loss * contrast_share(source_age)
    kept_after = 1.0 - loss * contrast_share(target_age)
    return np.maximum(kept_after / kept_before - 1.0, 0.0)


def eye_regain(source_age: float, target_age: float) -> np.ndarray:
    """(3,) per CIELAB channel: `regain` of the whites' difference from the skin (EYE_CONTRAST_LOSS): from 80 to 20
    or younger 1 / 0.85 - 1 = 0.18 in lightness and 1 / 0.5 - 1 = 1.0 in redness and yellowness (`restore_eyes` stops
    each pixel at neutral). Zeros toward an older target."""
    return regain(EYE_CONTRAST_LOSS, source_age, target_age)


def lip_regain(source_age: float, target_age: float) -> np.ndarray:
    """(3,) per CIELAB channel: `regain` of the lips' difference from the skin (LIP_CONTRAST_LOSS): from 80 to 20 or
    younger 1 / 0.55 - 1 = 0.82 in redness. Zeros toward an older target."""
    return regain(LIP_CONTRAST_LOSS, source_age, target_age)


def brow_regain(source_age: float, target_age: float) -> float:
    """`regain` of the brows' darkness against the skin under them (BROW_CONTRAST_LOSS, lightness): from 80 to 20 or
    younger 1 / 0.7 - 1 = 0.43. 0 toward an older target."""
    return float(regain(BROW_CONTRAST_LOSS, source_age, target_age))


def restore_brows(face: np.ndarray, brows: np.ndarray, regain: float) -> np.ndarray:
    """The aligned `face` with its brows' hairs darker against the skin under them by `regain` (`brow_regain`) of their
    own darkness (`hair.brow_hair_share`: each pixel's darkness against the skin carried in under the hairs), in
    lightness only: the skin between the hairs, and the hairs' colour and pattern, are kept, and nothing outside the
    `brows` (H, W) region changes. Porcheron et al. measured the brows' contrast in lightness."""
    if not regain >= 0:
        raise ValueError(f"brow regain must be 0 or more, got {regain}")
    if regain == 0 or not brows.any():
        return face.copy()
    top, bottom, left, right = brow_box(brows)
    region = face[top:bottom, left:right]
    lab = to_lab(region)
    _, darkness = brow_hair_share(lab[..., 0], brows[top:bottom, left:right])
    lab[..., 0] -= regain * darkness
    result = face.copy()
    result[top:bottom, left:right] = from_lab(lab, region, darkness)
    return result


def restore_lips(face: np.ndarray, points: np.ndarray, skin: np.ndarray, regain: np.ndarray) -> np.ndarray:
    """The aligned `face` with its lips' colour moved away from the skin around them by `regain` (3,) of the
    difference between the lips' mean and the skin ring's, per channel (`lip_regain`): one shift for the whole of
    the lips, so their own pattern and fine detail are kept (a per-pixel shift, as `toward_skin` makes, pushed the
    already redder upper lip to a lipstick crimson and left the lit lower lip pale, from looking); nothing else
    changes."""
    regain = np.asarray(regain, np.float32)
    if regain.shape != (3,) or np.any(regain < 0) or not np.all(np.isfinite(regain)):
        raise ValueError(f"lip regain must be three shares of 0 or more, got {regain}")
    if not regain.any():
        return face.copy()
    d = inter_ocular(points)
    lips = lip_mask(points, face.shape[:2])
    box = support_box(lips, blur_reach(FEATURE_BLUR * d) + int(round(RING * d)) + 1)
    if box is None:
        return face.copy()
    region, feature = face[box], lips[box]
    lab = to_lab(region)
    ring = skin_ring(feature, skin[box], d)
    if not ring.any():
        return face.copy()
    shift = (lab[feature > 0].mean(0) - lab[ring > 0].mean(0)) * regain
    weight = cv2.GaussianBlur(feature.astype(np.float32), (0, 0), FEATURE_FEATHER * FEATURE_BLUR * d)
    out = lab + weight[..., None] * shift[None, None, :]
    result = face.copy()
    result[box] = from_lab(out, region, _changed(out, lab))
    return result


def _changed(out: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """(H, W) bool: where any of the three channels of `out` differs from `lab`'s (the largest difference above 0,
    taken channel by channel: numpy's reduction over a short last axis is several times slower)."""
    difference = np.abs(out - lab)
    return np.maximum(np.maximum(difference[..., 0], difference[..., 1]), difference[..., 2]) > 0


def lip_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) uint8: the lips' red part, between FaceMesh's outer and inner lip contours."""
    mask = np.zeros(shape, np.uint8)
    p = np.asarray(points, np.float64)[:, :2]
    cv2.fillPoly(mask, [np.round(p[OUTER_LIPS]).astype(np.int32)], 1)
    cv2.fillPoly(mask, [np.round(p[INNER_LIPS]).astype(np.int32)], 0)
    return mask


def ring_around(feature: np.ndarray, d: float) -> np.ndarray:
    """(H, W) bool: a ring RING d wide around the `feature` (H, W uint8), the feature left out."""
    size = max(3, int(round(RING * d)) | 1)
    return (cv2.dilate(feature, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))) > 0) & (feature == 0)


def skin_ring(feature: np.ndarray, skin: np.ndarray, d: float) -> np.ndarray:
    """(H, W) uint8: the `skin` (H, W) in the ring around the `feature` (`ring_around`)."""
    return (ring_around(feature, d) & (skin > 0)).astype(np.uint8)


def blur_reach(sigma: float) -> int:
    """Pixels a float Gaussian blur of `sigma` reaches, twice over (OpenCV's kernel spans round(8 sigma + 1) px,
    odd): a box grown by this much holds every pixel a blurred weight and a blur under it reach."""
    return 2 * ((int(round(8 * sigma + 1)) | 1) // 2)


def toward_skin(lab: np.ndarray, feature: np.ndarray, skin: np.ndarray, loss: np.ndarray, d: float) -> np.ndarray:
    """`lab` (H, W, 3 float32) with the `feature` (H, W uint8) region's broad colour moved toward the mean of
    the `skin` (H, W uint8) in a ring around it by `loss` (3,) per channel; its fine detail is kept."""
    if not feature.any():
        return lab
    ring = skin_ring(feature, skin, d)
    if not ring.any():
        return lab
    surround = lab[ring > 0].mean(0)  # (3,)
    sigma = FEATURE_BLUR * d
    # the weight is 0 beyond the feature's blur: the work is done in the feature's box grown by twice the wider
    # blur's reach (OpenCV's float Gaussian kernel spans round(8 sigma + 1) px), where every pixel the weight
    # reaches has the blurs it has over the whole face; elsewhere `lab` is returned as it is
    box = support_box(feature, blur_reach(sigma))
    assert box is not None  # the feature has pixels (checked above)
    part, region = feature[box], lab[box]
    weight = cv2.GaussianBlur(part.astype(np.float32), (0, 0), FEATURE_FEATHER * sigma)
    # the feature's own broad colour, averaged over the feature only (normalised blur), so the skin at its edge
    # does not pull it
    broad = (
        cv2.GaussianBlur(region * part[..., None], (0, 0), sigma)
        / np.maximum(cv2.GaussianBlur(part.astype(np.float32), (0, 0), sigma), 1e-3)[..., None]
    )
    shift = (surround[None, None, :] - broad) * np.asarray(loss, np.float32)[None, None, :]
    out = lab.copy()
    out[box] = region + weight[..., None] * shift
    return out


def fade_features(face: np.ndarray, points: np.ndarray, skin: np.ndarray, brows: np.ndarray, share: float) -> np.ndarray:
    """The aligned `face` with its lips' and eyebrows' contrast to the skin lowered by `share` (0-1) of the
    loss at 80; `skin` the skin mask (off eyes and lips), `brows` the eyebrow mask."""
    if not 0 <= share <= 1:
        raise ValueError(f"contrast share must be between 0 and 1, got {share}")
    if share == 0:
        return face.copy()
    d = inter_ocular(points)
    lips = lip_mask(points, face.shape[:2])
    brow = (brows > 0).astype(np.uint8)
    # nothing changes beyond the features' boxes that `toward_skin` works in (their skin rings lie inside them):
    # the colour is converted only in the box holding both
    box = support_box(lips | brow, blur_reach(FEATURE_BLUR * d) + 1)
    if box is None:
        return face.copy()
    region = face[box]
    lab = to_lab(region)
    out = toward_skin(lab, lips[box], skin[box], share * np.array(LIP_CONTRAST_LOSS), d)
    out = toward_skin(out, brow[box], skin[box], share * np.array([BROW_CONTRAST_LOSS, 0.0, 0.0]), d)
    result = face.copy()
    result[box] = from_lab(out, region, _changed(out, lab))
    return result


EYE_SIDES = ("right", "left")  # the person's own: the right eye is on the image's left


def eye_openings(points: np.ndarray, shape: tuple[int, int]) -> list[np.ndarray]:
    """Each eye's opening (H, W uint8: FaceMesh's eye contour), the right's then the left's, less its iris's disk (its
    centre and the mean distance to its four rim points, grown by IRIS_GROWTH)."""
    p = np.asarray(points, np.float64)[:, :2]
    if len(p) <= LEFT_IRIS + 4:
        raise ValueError(f"the whites of the eyes need FaceMesh's 478 points (with the irises), got {len(p)}")
    openings = []
    for contour, centre in ((RIGHT_EYE, RIGHT_IRIS), (LEFT_EYE, LEFT_IRIS)):
        opening = _filled(p[contour], shape)
        radius = IRIS_GROWTH * float(np.linalg.norm(p[centre + 1 : centre + 5] - p[centre], axis=1).mean())
        cv2.circle(opening, tuple(int(v) for v in np.round(p[centre])), int(np.ceil(radius)), 0, -1)
        openings.append(opening)
    return openings


def _filled(contour: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(contour).astype(np.int32)], 1)
    return mask


@dataclass(frozen=True)
class EyeWhites:
    """One eye's whites in view: its side (EYE_SIDES), each pixel's share of white (H, W float32: lighter than the skin
    ring around the eye by SCLERA_LIGHTER in full) and that ring (H, W bool)."""

    side: str
    weight: np.ndarray
    ring: np.ndarray


def whites_of_eyes(lab: np.ndarray, points: np.ndarray, skin: np.ndarray) -> list[EyeWhites]:
    """The eyes whose whites are in view on `lab` (`to_lab`'s scale): an eye whose ring is under EYE_RING_SKIN skin
    (hidden behind the nose, a hand, a camera), or with under SCLERA_MIN_AREA d^2 of whites (hooded, narrowed, closed:
    a glint), is not."""
    p = np.asarray(points, np.float64)[:, :2]
    d = inter_ocular(p)
    found = []
    for side, contour, opening in zip(EYE_SIDES, (RIGHT_EYE, LEFT_EYE), eye_openings(p, lab.shape[:2])):
        around = ring_around(_filled(p[contour], lab.shape[:2]), d)
        ring = around & (skin > 0)
        if not around.any() or ring.sum() < EYE_RING_SKIN * around.sum():
            continue
        above = lab[..., 0] - float(lab[ring, 0].mean())
        weight = np.where(opening > 0, np.clip(above / SCLERA_LIGHTER, 0, 1), 0).astype(np.float32)
        if weight.sum() >= SCLERA_MIN_AREA * d * d:
            found.append(EyeWhites(side, weight, ring))
    return found


@dataclass(frozen=True)
class WhitesChange:
    """The face after a change to the whites of its eyes, the eyes changed (EYE_SIDES; none: no whites in view) and the
    mean change of their whites in CIELAB L*, a*, b* (0-100 and signed scales; None where no eye changed)."""

    face: np.ndarray
    sides: tuple[str, ...]
    change: tuple[float, float, float] | None


def _shift_whites(
    face: np.ndarray,
    points: np.ndarray,
    skin: np.ndarray,
    shift_for: Callable[[np.ndarray, np.ndarray], np.ndarray],
    toward_neutral: bool = False,
    structure: np.ndarray | None = None,
) -> WhitesChange:
    """`face` with, on each eye in view, one CIELAB shift, `shift_for(its whites' mean, its skin ring's mean)` (3,),
    added to its whites by each pixel's share of white (`whites_of_eyes`). `toward_neutral`: no pixel's a* or b* is
    taken past neutral, nor further from it (the whites made whiter). `structure` (the face's frame, RGB uint8): where
    the whites, their mean and their ring's are read (the source photo's face, when a stage before this one lit the
    skin around the eyes); `face` itself by default."""
    p = np.asarray(points, np.float64)[:, :2]
    reach = int(round(RING * inter_ocular(p))) + 2
    box = support_box(np.maximum(*eye_openings(p, face.shape[:2])), reach)
    if box is None:
        return WhitesChange(face.copy(), (), None)
    region = face[box]
    lab = to_lab(region)
    read = lab if structure is None else to_lab(structure[box])
    eyes = whites_of_eyes(read, p - np.array([box[1].start, box[0].start], np.float64), skin[box])
    if not eyes:
        return WhitesChange(face.copy(), (), None)
    out = lab.copy()
    for eye in eyes:
        whites = (read * eye.weight[..., None]).sum((0, 1)) / eye.weight.sum()
        shift = np.asarray(shift_for(whites, read[eye.ring].mean(0)), np.float32)
        out += eye.weight[..., None] * shift[None, None, :]
    if toward_neutral:
        before, after = lab[..., 1:] - 128.0, out[..., 1:] - 128.0
        # a pixel's chroma channel may shrink to neutral, never cross it or grow
        out[..., 1:] = 128.0 + np.where(before * after <= 0, 0.0, np.sign(before) * np.minimum(np.abs(after), np.abs(before)))
    weight = np.sum([eye.weight for eye in eyes], axis=0)
    moved = ((out - lab) * weight[..., None]).sum((0, 1)) / weight.sum()
    result = face.copy()
    result[box] = from_lab(out, region, _changed(out, lab))
    return WhitesChange(result, tuple(eye.side for eye in eyes), (float(moved[0]) * 100 / 255, float(moved[1]), float(moved[2])))


def fade_eyes(face: np.ndarray, points: np.ndarray, skin: np.ndarray, share: float) -> WhitesChange:
    """The aligned `face` with the whites of its eyes moved toward their skin ring's colour by `share` (0-1) of
    EYE_CONTRAST_LOSS (darker, and redder and yellower where the skin is: Russell et al. 2014)."""
    if not 0 <= share <= 1:
        raise ValueError(f"contrast share must be between 0 and 1, got {share}")
    if share == 0:
        return WhitesChange(face.copy(), (), None)
    loss = share * np.asarray(EYE_CONTRAST_LOSS, np.float64)
    return _shift_whites(face, points, skin, lambda whites, around: (around - whites) * loss)


def restore_eyes(
    face: np.ndarray, points: np.ndarray, skin: np.ndarray, regain: np.ndarray, structure: np.ndarray | None = None
) -> WhitesChange:
    """The aligned `face` with the whites of its eyes moved away from their skin ring's colour by `regain` (3,) of their
    difference (`eye_regain`): lighter, and less red and yellow, each pixel's a* and b* never past neutral nor further
    from it (the whites' chroma is what age adds; white is as white as an eye gets). `structure`: the source's face,
    where the whites and their ring are read (`_shift_whites`): the younger skin, lit before this, brought the ring
    within SCLERA_LIGHTER of the whites, and Obama's 2012 right eye, whose whites show, was found with too few."""
    regain = np.asarray(regain, np.float64)
    if regain.shape != (3,) or np.any(regain < 0) or not np.all(np.isfinite(regain)):
        raise ValueError(f"eye regain must be three shares of 0 or more, got {regain}")
    if not regain.any():
        return WhitesChange(face.copy(), (), None)
    return _shift_whites(
        face, points, skin, lambda whites, around: (whites - around) * regain, toward_neutral=True, structure=structure
    )


def describe_whites(change: WhitesChange, lightness_only: bool = False) -> str:
    """The manifest's words for a change to the whites of the eyes: which eyes, and their whites' mean change;
    `lightness_only`: a black-and-white photo, which keeps the change's lightness alone (its a* and b* not said)."""
    if change.change is None:
        return "the whites of the eyes too little in view to change"
    eyes = "both eyes" if len(change.sides) == 2 else f"the {change.sides[0]} eye only"
    return f"the whites of the eyes {lab_shift_text(change.change, lightness_only)} ({eyes})"


def lip_contrast(face: np.ndarray, points: np.ndarray, skin: np.ndarray) -> float:
    """Porcheron et al.'s contrast of the lips in redness: (skin a* - lip a*) / (skin a* + lip a*), a* on its
    signed scale; more negative is redder lips against the skin (the lips' mean against a ring of skin)."""
    d = inter_ocular(points)
    lab = to_lab(face)
    lips = lip_mask(points, face.shape[:2])
    ring = skin_ring(lips, skin, d)
    lip_a, skin_a = float(lab[lips > 0, 1].mean() - 128), float(lab[ring > 0, 1].mean() - 128)
    return (skin_a - lip_a) / (skin_a + lip_a)
