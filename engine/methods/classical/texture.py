"""Older skin by prototype texture transfer (Tiddeman, Burt and Perrett 2001, IEEE CG&A 21(5):42).

The paper ages a face by moving its multi-scale (wavelet) skin detail toward that of an older
prototype, an average of many aligned older faces, keeping the subject's own low frequencies (its
shape, shading and colour: its identity). This project ships no face set, so its prototype is one
face: matplotlib's public-domain portrait of Grace Hopper (US Navy, 20 January 1984; born 9 December
1906, so 77 years old). One face carries its own wrinkle layout, not an average's, and aging Grace
Hopper herself moves her texture nowhere (she is her own prototype).

Steps (`transfer_texture`):
1. the prototype's aligned face is warped onto the subject's FaceMesh landmarks (thin-plate spline);
2. both faces' CIELAB lightness is split into difference-of-Gaussians bands (`detail_bands`), each as a
   share of the local mean lightness so a darker photo gets proportionally darker creases;
3. on skin both faces show (the subject's skin off its hair and brows; the prototype's off her glasses,
   hat and nostrils) the subject's bands move toward the prototype's by `amount`, which grows with the
   age gap (`texture_amount`); the base below the bands is the subject's own;
4. on the subject's skin where the prototype shows none (her glasses cover the band from the brows to the
   upper cheeks: under the eyes, the crow's feet, the cheeks and the nose), the paper's own transform:
   the subject's band amplitudes are scaled by the ratio of local energies, moved `amount` of the way
   toward the prototype's typical (median) energy in that band. The layout of the detail stays the
   subject's (her own pores and fine lines deepen, as crepey older skin's do); only its strength is the
   prototype's. The scale is never below 1 (older skin is not smoother) and at most ENERGY_GAIN_MAX.
5. around where the warp distorts her face far more than it does on average (`warp_distortion`: a smiling
   subject's open mouth against her closed one), the subject's expression is not hers: the skin of a smile's
   chin and mouth corners is stretched taut, and her relaxed mouth's creases, squeezed and sheared onto it,
   read as a network of cracks. There the coarse bands take less of hers (`taut_share`), the finest (pores)
   half as much less. A departure from the paper, which averages many prototypes of a
   neutral expression; the manifest says it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from engine.core.blurs import wide_blur
from engine.core.memo import memo
from engine.core.pixels import from_lab, to_lab
from engine.core.settings import Settings
from engine.faces.zones import LEFT_BROW, LEFT_EYE, RIGHT_BROW, RIGHT_EYE, inter_ocular, support_box
from engine.methods.classical.aging import skin_weight
from engine.methods.classical.shape import landmark_offsets, warp_by_offsets
from engine.methods.ldla.pipeline import LocatedFace, locate, skin_mask

PROTOTYPE_AGE_YEARS = 77.0  # Grace Hopper in the portrait (born 9 December 1906, photographed 20 January 1984)
# The skin detail of a young adult is the subject's own; the move toward the prototype's starts here.
TEXTURE_ONSET_YEARS = 25.0
# The bands' Gaussian scales in inter-ocular distances (the aligned face: d about 126 px): pores and fine
# lines to wrinkles and creases (about 1 to 6 px); coarser than the last is the subject's (from looking).
BAND_SIGMAS = (0.008, 0.02, 0.05)
# The prototype's glasses cover the band from above her brows to below her eyes (from looking at the photo).
GLASSES_ABOVE_BROWS = 0.12
GLASSES_BELOW_EYES = 0.55
HAT_LIGHTNESS = 70.0  # her hat's brim is black: darker skin than this (CIELAB L, 0-255) is not skin in the photo
# At most this share of the way to the prototype's detail at the prototype's age (from looking: a full
# move puts her particular creases on another face; this much reads as older skin).
TEXTURE_STRENGTH = 0.6
# Older skin reads less rosy and more yellow (sallow): at a full share a* loses this share of its distance
# from neutral and b* gains this many levels (CIELAB, OpenCV 8-bit scale; from looking).
SALLOW_REDNESS_LOSS = 0.2
SALLOW_YELLOW = 2.5
# The most each band's local amplitude is multiplied by where the prototype shows no skin (from looking: 3x
# brings a young face's fine lines to an old face's strength; the finest band, a pixel or two, holds film grain
# and JPEG noise as much as pores, and above 1.5x it reads as speckle, most of all on the nose)
ENERGY_GAIN_MAX = (1.5, 3.0, 3.0)
# The amplitude transform keeps this far (in d) off the skin's outline: amplified there, the jaw's edge against
# the neck sharpens and FaceMesh finds the jaw line higher (the opposite of the sagging shape.py draws)
OUTLINE_KEPT = 0.2
# FaceMesh's nose: the bridge between the eyes, the tip, the wings and the nostrils' outer corners
NOSE = [168, 6, 197, 195, 5, 4, 1, 2, 98, 327, 64, 294, 48, 278]
ENERGY_SIGMA = 0.04  # local energy: |band| averaged over this many inter-ocular distances (about 5 px)
CREASE_CLIP = 2.0  # her bands clipped to this many robust standard deviations (from looking: deeper ones read as cracks)
# Taut skin (step 5): the warp's distortion (its anisotropy), spread over STRETCH_SIGMA d and relative to its median
# over the skin both faces show, from which the coarse bands take less of hers and at which they take none of it.
# From looking at the astronaut's smile at 70-80 (1:1 crops): the distortion peaks at 4x along her open lips, and
# spread this wide it covers her chin and mouth corners, where the prototype's mentalis and marionette creases read
# as cracks; the cheeks, nose and forehead stay near 1x. Skin stretched taut by a smile shows fewer of its folds.
TAUT_STRETCH = (1.15, 1.5)
# how much of each of BAND_SIGMAS' bands is held back on taut skin: the pores' half (in full, the chin pad's orange-
# peel texture of her mentalis still stopped at a sharp line across the chin; from looking at 1:1)
TAUT_HELD = (0.5, 1.0, 1.0)
WEIGHT_SIGMA = 0.06  # d: the feather of the skin both faces show, off the face's outline (from looking)
STRETCH_SIGMA = 0.2  # d: about the chin's height below the lower lip (FaceMesh on the packaged portraits)


def texture_amount(source_age: float, target_age: float) -> float:
    """How far (0-TEXTURE_STRENGTH) the skin detail moves toward the prototype's: TEXTURE_STRENGTH times the
    share of the way from the source age to the prototype's age that the target covers, counted from
    TEXTURE_ONSET_YEARS; 0 for a younger target and for a source at or past the prototype's age."""
    for age in (source_age, target_age):
        if not 0 <= age <= 120:
            raise ValueError(f"age must be between 0 and 120, got {age}")

    def progress(age: float) -> float:
        return min(max((age - TEXTURE_ONSET_YEARS) / (PROTOTYPE_AGE_YEARS - TEXTURE_ONSET_YEARS), 0.0), 1.0)

    before, after = progress(source_age), progress(target_age)
    if after <= before:
        return 0.0
    return TEXTURE_STRENGTH * (after - before) / (1.0 - before)


def detail_bands(lightness: np.ndarray, d: float) -> tuple[np.ndarray, np.ndarray]:
    """(bands (K, H, W), base (H, W)): lightness = base * (1 + sum of the bands), band k the difference
    of Gaussians at BAND_SIGMAS[k] and [k + 1] (the first against the image itself)."""
    blurs = [lightness] + [cv2.GaussianBlur(lightness, (0, 0), sigma * d) for sigma in BAND_SIGMAS]
    base = np.maximum(blurs[-1], 1.0)
    bands = np.stack([(finer - coarser) / base for finer, coarser in zip(blurs[:-1], blurs[1:])])
    return bands, base


@dataclass(frozen=True)
class Prototype:
    crop: np.ndarray  # (512, 512, 3) the prototype's aligned face
    points: np.ndarray  # (N, 2) its FaceMesh landmarks
    skin: np.ndarray  # (512, 512) uint8: where her skin shows (off glasses, hat, eyes, lips, nostrils)


def prototype_skin(located: LocatedFace) -> np.ndarray:
    """The prototype's usable skin: her skin mask minus the band her glasses cover and her black hat."""
    points = located.points[:, :2]
    d = inter_ocular(points)
    skin = skin_mask(located).copy()
    top = min(points[RIGHT_BROW, 1].min(), points[LEFT_BROW, 1].min()) - GLASSES_ABOVE_BROWS * d
    bottom = max(points[RIGHT_EYE, 1].mean(), points[LEFT_EYE, 1].mean()) + GLASSES_BELOW_EYES * d
    skin[int(top) : int(np.ceil(bottom)), :] = 0
    lightness = cv2.cvtColor(located.crop, cv2.COLOR_RGB2LAB)[..., 0]
    skin[lightness < HAT_LIGHTNESS] = 0
    nostrils = np.zeros_like(skin)  # the nose's base: dark holes whose edges are not skin texture
    base = points[[98, 327, 2, 64, 294]]  # alae, subnasale, the nostrils' outer corners
    cv2.fillConvexPoly(nostrils, np.round(cv2.convexHull(base.astype(np.float32))[:, 0]).astype(np.int32), 1)
    skin[cv2.dilate(nostrils, np.ones((9, 9), np.uint8)) > 0] = 0
    return cv2.erode(skin, np.ones((5, 5), np.uint8))  # off the edges of what is excluded


_PROTOTYPES: dict[int, Prototype] = {}
_LOCK = threading.Lock()


def grace_hopper_photo() -> np.ndarray:
    """matplotlib's sample portrait of Grace Hopper (public domain, US Navy), RGB."""
    from matplotlib import cbook  # noqa: PLC0415 - matplotlib loads only when the prototype is first built
    from PIL import Image  # noqa: PLC0415 - as above

    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    return np.array(Image.open(path).convert("RGB"))


def prototype(settings: Settings | None = None) -> Prototype:
    """The prototype face, located once per process with the offline face models: the detector and the landmarks are
    the same in every profile (engine/core/registry.py), so the first caller's `settings` locate it for all."""
    with _LOCK:
        if 0 not in _PROTOTYPES:
            located = locate(grace_hopper_photo(), settings)
            _PROTOTYPES[0] = Prototype(located.crop, located.points[:, :2].copy(), prototype_skin(located))
        return _PROTOTYPES[0]


def prototype_on_landmarks(proto: Prototype, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the prototype's CIELAB lightness (float32), her skin mask as bool, and where each pixel comes from in her
    crop (H, W, 2) float32 x, y) warped onto `points` (the 468 FaceMesh points; the iris points are left out, as
    both faces' eyes are excluded). Read-only, found once per face and prototype (a strip's ages share it)."""
    count = min(len(points), len(proto.points), 468)
    return memo(
        "prototype_on_landmarks",
        (proto.crop, proto.points[:count], points[:count]),
        lambda: _warped_prototype(proto, points[:count], count),
    )


def _warped_prototype(proto: Prototype, points: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    height, width = proto.skin.shape
    lightness = cv2.cvtColor(proto.crop, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    # one map for her lightness and her mask; where each pixel comes from is the map itself (resampling her pixel
    # coordinates through it gave the same within remap's 1/32 px, and within her crop, which it reads no further)
    offsets = landmark_offsets((height, width), proto.points[:count], points, smoothing=1.0)
    warped = warp_by_offsets(np.dstack([lightness, proto.skin.astype(np.float32)]), offsets)
    source = np.empty_like(offsets)
    np.clip(offsets[..., 0] + np.arange(width, dtype=np.float32)[None, :], 0, width - 1, out=source[..., 0])
    np.clip(offsets[..., 1] + np.arange(height, dtype=np.float32)[:, None], 0, height - 1, out=source[..., 1])
    return np.ascontiguousarray(warped[..., 0]), warped[..., 1] > 0.5, source


def transfer_texture(face: np.ndarray, points: np.ndarray, skin: np.ndarray, amount: float, proto: Prototype) -> np.ndarray:
    """The aligned `face` (H, W, 3 uint8) with its skin detail moved toward the prototype's by `amount` (0-1),
    on `skin` (H, W uint8: the subject's skin) where the prototype shows skin too."""
    if not 0 <= amount <= 1:
        raise ValueError(f"texture amount must be between 0 and 1, got {amount}")
    if amount == 0:
        return face.copy()
    points = np.asarray(points, np.float64)[:, :2]
    d = inter_ocular(points)
    # 1.-3. the prototype's side (her bands on the subject's landmarks, clipped; the weight of the skin both
    # show) depends on the face alone: computed once per face, every target of a strip reuses it
    side = memo("texture_prototype", (points, skin, proto.points), lambda: _prototype_side(proto, points, skin, d))
    if side is None:
        return face.copy()
    theirs, spread, weight, typical = side  # weight (K, H, W): per band (less of her coarse bands on taut skin)
    ours = memo("texture_own_skin", (skin, points, d), lambda: _hidden_band(skin, points, d))
    # only the skin the two weights cover changes: the work is done in its box, grown by what the bands' widest
    # blur and the local energy's blur read around a pixel (within that the box's own border is never read, so
    # every changed pixel is what the whole face gives)
    changed = (weight.max(0) > 0) | (ours > 0)
    box = support_box(changed, _blur_reach(BAND_SIGMAS[-1] * d) + _blur_reach(ENERGY_SIGMA * d))
    if box is None:
        return face.copy()
    region, ours, changed = face[box], ours[box], changed[box]
    weight, theirs = weight[:, box[0], box[1]], theirs[:, box[0], box[1]]
    # 2. the subject's bands, clipped as hers are (the same clip on both keeps the prototype aged with herself
    # exactly as she is; the subject's own strongest detail, a mole or a nostril's edge, is not taken away)
    lab = to_lab(region)
    own, base = detail_bands(lab[..., 0], d)
    own = np.clip(own, -CREASE_CLIP * spread, CREASE_CLIP * spread)
    # 3. the subject's bands moved toward the prototype's on the skin both show, feathered
    moved = own + amount * weight * (theirs - own)
    # 4. off her skin: the subject's own detail scaled toward her typical energy (Tiddeman et al.'s transform)
    gain = energy_gain(own, typical, amount * (1.0 - weight), d)
    moved *= 1.0 + ours * (gain - 1.0)
    lab[..., 0] += base * (moved - own).sum(0)
    out = face.copy()
    out[box] = from_lab(lab, region, changed)
    return out


def _blur_reach(sigma: float) -> int:
    """How far (px) OpenCV's Gaussian blur of a float image reads around a pixel: its kernel spans round(8 sigma + 1)
    pixels, made odd."""
    return (int(round(8 * sigma + 1)) | 1) // 2


def energy_gain(bands: np.ndarray, typical: np.ndarray, amount: np.ndarray | float, d: float) -> np.ndarray:
    """(K, H, W) factor for `bands` (K, H, W): each band's local energy (its mean absolute value over
    ENERGY_SIGMA d) moved `amount` (0-1, a scalar or per pixel) of the way to `typical` (K,), as a ratio;
    never below 1, at most ENERGY_GAIN_MAX per band (Tiddeman et al. 2001's amplitude transform, one prototype)."""
    energy = np.maximum(local_energy(bands, d), 1e-4)
    goal = energy + amount * (np.asarray(typical, np.float32)[:, None, None] - energy)
    most = np.asarray(ENERGY_GAIN_MAX[: len(bands)], np.float32)[:, None, None]
    return np.clip(goal / energy, 1.0, most).astype(np.float32)


def local_energy(bands: np.ndarray, d: float) -> np.ndarray:
    """(K, H, W) each band's local energy: its absolute value averaged over ENERGY_SIGMA d (about 5 px on a 512 px
    face: at a quarter of the size, `wide_blur`)."""
    return np.stack([wide_blur(np.abs(band), ENERGY_SIGMA * d) for band in bands])


def _hidden_band(skin: np.ndarray, points: np.ndarray, d: float) -> np.ndarray:
    """(H, W) float32 weight of the subject's skin in the band the prototype's glasses hide (from above the
    brows to the mouth corners: forehead's foot, crow's feet, under the eyes, cheeks, nose), off the outline.
    Below it the prototype shows her own skin, and the amplitude transform is not needed there."""
    inner = _inner(skin > 0, d, OUTLINE_KEPT)
    top = min(points[RIGHT_BROW, 1].min(), points[LEFT_BROW, 1].min()) - GLASSES_ABOVE_BROWS * d
    bottom = min(points[61, 1], points[291, 1])  # FaceMesh's mouth corners
    inner[: max(int(top), 0)] = 0
    inner[int(np.ceil(bottom)) :] = 0
    # not the nose: its thick, oily skin does not turn crepey with age, and amplified there its pores read as
    # speckle (from looking)
    nose = np.round(cv2.convexHull(points[NOSE].astype(np.float32))[:, 0]).astype(np.int32)
    cv2.fillConvexPoly(inner, nose, 0)
    return skin_weight(inner, 0.03 * d)


def _inner(mask: np.ndarray, d: float, inset_d: float = 0.08) -> np.ndarray:
    """`mask` eroded by `inset_d` inter-ocular distances off its outline (the subject's own band there holds the
    jaw's edge against the neck)."""
    inset = max(3, int(round(inset_d * d)) | 1)
    return cv2.erode(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (inset, inset)))


def _prototype_side(
    proto: Prototype, points: np.ndarray, skin: np.ndarray, d: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """(her bands clipped, the clip per band, the feathered weight per band (K, H, W) of the skin both faces
    show, less of her coarse bands where the subject's skin is taut; her typical local energy per band on that
    skin) on the subject's landmarks, or None where they share no skin."""
    # 1. the prototype on the subject's landmarks: what is at her landmark i lands on the subject's landmark i
    warped, proto_skin, source = prototype_on_landmarks(proto, points)
    both = (skin > 0) & proto_skin
    if not both.any():
        return None
    # the weight below is 0 beyond the box `near` (the skin both show, grown by the weight's blur), and her bands are
    # read only where it is not (and, for her typical energy, within the energy's blur of that skin): they are
    # computed in that box, each from a box grown by its own blur's reach, so they are what the whole face gives
    weight_reach = _blur_reach(WEIGHT_SIGMA * d)
    near = _grown(both, max(weight_reach, _blur_reach(ENERGY_SIGMA * d)))
    theirs = np.zeros((len(BAND_SIGMAS), *both.shape), np.float32)
    theirs[:, near[0], near[1]] = _cut(lambda part: detail_bands(part, d)[0], warped, near, _blur_reach(BAND_SIGMAS[-1] * d))
    # both faces' bands are clipped to the spread of her skin's detail: her texture, not her particular deepest
    # folds, arrives
    spread = 1.4826 * np.median(np.abs(theirs[:, both]), axis=1)[:, None, None]  # a robust standard deviation per band
    theirs = np.clip(theirs, -CREASE_CLIP * spread, CREASE_CLIP * spread)
    # off the face's outline, where the subject's own band holds the jaw's edge against the neck (from looking)
    inner = _inner(both, d).astype(np.float32)
    weight = np.zeros(both.shape, np.float32)
    weight[near] = _cut(lambda part: cv2.GaussianBlur(part, (0, 0), WEIGHT_SIGMA * d), inner, near, weight_reach)
    typical = np.median(local_energy(theirs[:, near[0], near[1]], d)[:, both[near]], axis=1).astype(np.float32)
    # 5. her coarse bands held back where the subject's skin is stretched taut against hers
    stretch = wide_blur(warp_distortion(source), STRETCH_SIGMA * d)  # about 26 px: at a quarter of the size
    taut = taut_share(stretch / float(np.median(stretch[both])))
    weights = np.stack([weight * (1.0 - held * taut) for held in TAUT_HELD[: len(theirs)]])
    return theirs, spread, weights.astype(np.float32), typical


def _grown(mask: np.ndarray, reach: int) -> tuple[slice, slice]:
    """`support_box` of a mask with pixels, grown by `reach` px."""
    box = support_box(mask, reach)
    if box is None:
        raise ValueError("the skin mask has no pixels: its box cannot be grown (check the mask before cutting it)")
    return box


def _cut(compute: Callable[[np.ndarray], np.ndarray], image: np.ndarray, box: tuple[slice, slice], reach: int) -> np.ndarray:
    """compute(image) within `box` (over the last two axes), computed on the box grown by `reach` px only: what the
    whole image gives there when `compute` reads no further than `reach` around a pixel (a Gaussian blur: its
    `_blur_reach`)."""
    height, width = image.shape[:2]
    rows = slice(max(box[0].start - reach, 0), min(box[0].stop + reach, height))
    cols = slice(max(box[1].start - reach, 0), min(box[1].stop + reach, width))
    result = compute(image[rows, cols])
    top, left = box[0].start - rows.start, box[1].start - cols.start
    return result[..., top : top + box[0].stop - box[0].start, left : left + box[1].stop - box[1].start]


def warp_distortion(source: np.ndarray) -> np.ndarray:
    """(H, W) float32: how unevenly the warp stretches the prototype at each pixel (1: the same in every direction):
    the ratio of the larger to the smaller singular value of the Jacobian of `source` (H, W, 2: where each pixel
    comes from in her crop)."""
    dx_dy, dx_dx = np.gradient(source[..., 0])
    dy_dy, dy_dx = np.gradient(source[..., 1])
    # singular values of [[dx_dx, dx_dy], [dy_dx, dy_dy]] from its Frobenius norm and determinant
    frobenius = dx_dx**2 + dx_dy**2 + dy_dx**2 + dy_dy**2
    determinant = np.abs(dx_dx * dy_dy - dx_dy * dy_dx)
    largest = np.sqrt((frobenius + np.sqrt(np.maximum(frobenius**2 - 4 * determinant**2, 0.0))) / 2)
    smallest = determinant / np.maximum(largest, 1e-6)
    return (largest / np.maximum(smallest, 1e-3 * np.maximum(largest, 1e-6))).astype(np.float32)


def taut_share(relative_stretch: np.ndarray) -> np.ndarray:
    """(H, W) 0-1: how taut the subject's skin is against the prototype's, from the warp's distortion relative to
    its median on the skin (0 up to TAUT_STRETCH[0], 1 from TAUT_STRETCH[1])."""
    low, high = TAUT_STRETCH
    return np.clip((relative_stretch - low) / (high - low), 0.0, 1.0).astype(np.float32)


def sallow_share(source_age: float, target_age: float) -> float:
    """Share (0-1) of its extent at 80 that sallowness gains from `source_age` to `target_age`, linear from
    TEXTURE_ONSET_YEARS; 0 for a younger target (the younger-skin stage evens and brightens instead)."""

    def progress(age: float) -> float:
        if not 0 <= age <= 120:
            raise ValueError(f"age must be between 0 and 120, got {age}")
        return min(max((age - TEXTURE_ONSET_YEARS) / (80.0 - TEXTURE_ONSET_YEARS), 0.0), 1.0)

    return max(progress(target_age) - progress(source_age), 0.0)


def sallow_skin(face: np.ndarray, skin: np.ndarray, points: np.ndarray, share: float) -> np.ndarray:
    """Older skin's colour at `share` (0-1): less rosy (a* toward neutral) and more yellow (b* up), on `skin`."""
    if not 0 <= share <= 1:
        raise ValueError(f"sallow share must be between 0 and 1, got {share}")
    if share == 0:
        return face.copy()
    weight = skin_weight(skin, 0.05 * inter_ocular(points)) * share
    box = support_box(weight)  # the colour changes only on the (feathered) skin: converted only there
    if box is None:
        return face.copy()
    region, weight = face[box], weight[box]
    lab = to_lab(region)
    lab[..., 1] -= weight * SALLOW_REDNESS_LOSS * (lab[..., 1] - 128)
    lab[..., 2] += weight * SALLOW_YELLOW
    out = face.copy()
    out[box] = from_lab(lab, region, weight)
    return out


def describe(amount: float) -> str:
    """What the texture stage did, in one line (the manifest's stage entry)."""
    return (
        f"skin detail moved {amount:.0%} of the way to the prototype's (Tiddeman et al. 2001 prototype transfer; "
        f"the prototype is one face, Grace Hopper at {PROTOTYPE_AGE_YEARS:.0f}, not the paper's average of many, "
        "so aging her own photo leaves its texture as it is; her creases are held back where the subject's skin is "
        "stretched taut against hers, a smile's chin and mouth corners)"
    )
