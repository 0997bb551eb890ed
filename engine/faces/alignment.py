"""5-point face alignment to an FFHQ-style crop, and paste-back into the photo through a feathered mask."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from engine.core.blurs import wide_blur
from engine.core.pixels import chosen, to_uint8
from engine.faces.detection import (
    DETECT_SIZES,
    NO_FACE,
    QUARTER_TURNS,
    UPRIGHT_SIZE,
    Face,
    FaceDetector,
    FaceRefusal,
    NoFaceError,
    check_upright,
    over_one_another,
)
from engine.faces.zones import support_box

# FFHQ-style 512 px crop: where the five points land (the 5-point template used by
# FFHQ-trained restorers, e.g. facexlib / GFPGAN).
FFHQ_TEMPLATE_512 = np.array(
    [
        [192.98138, 239.94708],
        [318.90277, 240.19360],
        [256.63416, 314.01935],
        [201.26117, 371.41043],
        [313.08905, 371.15118],
    ],
    dtype=np.float32,
)


# Where the crop runs past the photo's edge, the photo's edge is extended (never mirrored, which would
# invent ears and hair), blurred, and faded toward a neutral grey over this share of the crop (from looking).
PAD_FADE_SHARE = 0.12
PAD_BLUR_SHARE = 0.03
PAD_NEUTRAL = 128.0


@dataclass(frozen=True)
class AlignedFace:
    crop: np.ndarray  # (size, size, 3) uint8
    matrix: np.ndarray  # (2, 3) original -> crop
    inside: np.ndarray | None = None  # (size, size) float32: 1 where the crop shows the photo, 0 on padding


def alignment_matrix(landmarks: np.ndarray, size: int = 512) -> np.ndarray:
    """Similarity transform (rotation, uniform scale, shift) taking the 5 points to the FFHQ template."""
    template = FFHQ_TEMPLATE_512 * (size / 512.0)
    matrix, _ = cv2.estimateAffinePartial2D(np.asarray(landmarks, dtype=np.float32), template, method=cv2.LMEDS)
    if matrix is None:
        raise NoFaceError("The face's landmarks are degenerate: try a clearer, frontal photo.")
    return matrix


def upsampling(matrix: np.ndarray) -> float:
    """How many crop pixels one photo pixel spans (the similarity's scale): above 1 the crop is the photo
    upsampled, and detail finer than `upsampling` crop pixels is not in it."""
    return float(np.sqrt(abs(np.linalg.det(np.asarray(matrix, np.float64)[:, :2]))))


# A face upsampled into the crop (a small photo: Takeo's 150 x 225 px portrait gives about 3 crop pixels a photo pixel)
# holds no detail finer than the photo's pixels: nothing above its Nyquist frequency, 1 / (2 s) cycles a crop pixel
# at s crop pixels a photo pixel (Shannon). Strands drawn at the crop's own resolution there were sharp wavy strokes
# on smooth hair, a painted helmet (looked at, 50-70), and wrinkles, texture and spots a crackle of sharp lines (the
# astronaut at 70-80; a network of cracks on the small faces of a group photo). So what a stage draws there (the white
# strands' share, the older skin's change) is low-passed by a Gaussian whose response exp(-2 pi^2 sigma^2 f^2) is a
# tenth at that frequency: sigma = s sqrt(2 ln 10) / pi crop pixels, less the crop's own (s = 1; Gaussian variances
# add), so a full-resolution or downsampled face is left as it is. (At a half, sigma 0.375 s, the last pigmented strands
# still read as dark strokes on Takeo at 70: looked at 2x.)
NYQUIST_TENTH_SIGMA = math.sqrt(2 * math.log(10)) / math.pi  # about 0.683 photo pixels


def photo_detail(scale: float) -> float:
    """The scale of the photo's finest detail in crop pixels for `scale` crop pixels a photo pixel
    (alignment.upsampling): `scale` on an upsampled face, 1 (the crop's own pixels) on one the crop shrank."""
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"the face's upsampling must be a positive number of crop pixels a photo pixel, got {scale}")
    return max(scale, 1.0)


def at_photo_resolution(share: np.ndarray, inside: np.ndarray, scale: float) -> np.ndarray:
    """(H, W) or (H, W, C) float32: `share` under `inside` (H, W) without detail finer than a photo upsampled `scale`
    times holds (see NYQUIST_TENTH_SIGMA), its mean kept (the blur is normalised within `inside`, so the mask's edge
    keeps its share); 0 beyond `inside`. `share` itself when `scale` <= 1."""
    if photo_detail(scale) == 1:
        return share
    weight = (inside > 0).astype(np.float32)
    each = weight[..., None] if share.ndim == 3 else weight  # one weight for every channel
    return np.where(each > 0, _within(share * each, weight, _nyquist_sigma(scale)), 0).astype(np.float32)


def _nyquist_sigma(scale: float) -> float:
    """The Gaussian (crop pixels) that keeps what a photo upsampled `scale` (over 1) times holds (NYQUIST_TENTH_SIGMA)."""
    return NYQUIST_TENTH_SIGMA * math.sqrt(scale**2 - 1)


def _within(values: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W) or (H, W, C), of `values`' type: `values` (0 where `weight`, (H, W) float32 0/1, is 0) blurred by `sigma`
    and divided by the weight's own blur: their mean over the weighted pixels near each pixel (one weight for every
    channel)."""
    total = np.maximum(cv2.GaussianBlur(weight, (0, 0), sigma), 1e-3)
    blurred = cv2.GaussianBlur(values, (0, 0), sigma)
    return blurred / (total[..., None] if blurred.ndim == 3 else total)


# an unchanged part of a change this small is a hole in it (`change_at_photo_resolution`): where drawn changes cancel by
# chance; what a change goes around (eyes, lips, nostrils, hair) spans hundreds of pixels
HOLE_PIXELS = 8


def change_at_photo_resolution(before: np.ndarray, after: np.ndarray, scale: float) -> np.ndarray:
    """`after` with its change from `before` (both aligned faces, RGB uint8) low-passed as the photo resolves it (as
    `at_photo_resolution` does, within the changed pixels and the holes of HOLE_PIXELS or fewer among them): on a face
    the crop upsamples (`scale` crop pixels a photo
    pixel, over 1) a change finer than the photo's pixels is detail the photo cannot hold; `after` itself otherwise."""
    if photo_detail(scale) == 1:
        return after
    difference = np.asarray(cv2.absdiff(after, before), np.uint8)  # per channel: numpy's any() over a last axis of three is slow
    changed = (difference[..., 0] | difference[..., 1] | difference[..., 2]) > 0
    # pixels whose changes summed to nothing in 8 bits, enclosed by changed ones, are samples of the change (0), not
    # outside it: left out, they kept their own value while the blurred change darkened the pixels around them into a
    # speck (on the camera operator at 80, 5-7 levels, once the wrinkles and the older skin were low-passed in one pass).
    # Taken in: the unchanged parts of HOLE_PIXELS or fewer (8-connected, so a strand of hair that reaches into a change
    # is part of the hair, which keeps its own pixels to the last)
    left = (~changed).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(left, connectivity=8)
    changed |= (stats[:, cv2.CC_STAT_AREA] <= HOLE_PIXELS)[labels] & (left > 0)
    sigma = _nyquist_sigma(scale)
    # worked out in the changed pixels' box grown by the blur's reach (OpenCV's kernel spans 4 sigma either side): its
    # changed pixels read nothing past the box, and beyond them nothing changes
    box = support_box(changed, int(math.ceil(4 * sigma)) + 1)
    if box is None:
        return after
    inside, unchanged = changed[box], before[box]
    # `at_photo_resolution` of the change, in fewer passes over the box: the change is 0 wherever nothing changed, so it
    # needs no weighing, and the pixels outside the changed ones are `before`'s whatever is computed there
    low = _within(cv2.subtract(after[box], unchanged, dtype=cv2.CV_32F), inside.astype(np.float32), sigma)
    low += unchanged
    out = after.copy()
    out[box] = np.where(inside[..., None], to_uint8(low), unchanged)
    return out


def pad_neutral(crop: np.ndarray, inside: np.ndarray, size: int | None = None) -> np.ndarray:
    """The crop with its padding (where `inside` < 1) made of the photo's edge extended, blurred and faded to grey, over
    distances in proportion to `size` (the crop's side, its height by default; a strip of the frame continued below a
    crop gives the crop's)."""
    if inside.min() >= 1.0:
        return crop
    size = crop.shape[0] if size is None else size
    outside = (inside < 0.5).astype(np.uint8)
    distance = cv2.distanceTransform(outside, cv2.DIST_L2, 5)  # pixels from the photo's edge
    fade = np.clip(distance / (PAD_FADE_SHARE * size), 0.0, 1.0)[..., None]
    # a sigma of 15 px on a 512 px crop (7 on the age estimator's 224 px one): at a quarter of the size (full size, about
    # 27 ms of a new photo's first age on the 512 px wide view)
    blurred = wide_blur(crop.astype(np.float32), PAD_BLUR_SHARE * size)
    padding = blurred * (1 - fade) + PAD_NEUTRAL * fade
    weight = 1.0 - inside[..., None]
    return to_uint8(crop * (1 - weight) + padding * weight)


def align_face(rgb: np.ndarray, face: Face, size: int = 512) -> AlignedFace:
    """An FFHQ-style crop; where it runs past the photo, the padding invents no features (`pad_neutral`). A face whose five
    points fit no alignment is refused (FaceRefusal: in a group photo its finding names it, without the advice)."""
    try:
        matrix = alignment_matrix(face.landmarks, size)
    except NoFaceError:
        raise FaceRefusal(
            f"The face found (box {face.box_text()} px) has degenerate landmarks: its five points fit no alignment.",
            "Try a clearer, frontal photo.",
        ) from None
    return warp_neutral(rgb, matrix, size)


def warp_neutral(rgb: np.ndarray, matrix: np.ndarray, size: int) -> AlignedFace:
    """The `size` px square view of `rgb` by the 2x3 `matrix`, padded past the photo's edge as `align_face` pads."""
    crop = cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    ones = np.ones(rgb.shape[:2], np.float32)
    inside = cv2.warpAffine(ones, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return AlignedFace(crop=pad_neutral(crop, inside), matrix=matrix, inside=inside)


def check_face_upright(detector: FaceDetector, rgb: np.ndarray, face: Face) -> None:
    """`check_upright` on the detector's `face` of `rgb` aligned at UPRIGHT_SIZE, its quarter turns too: for a face taken
    without its 512 px crop and FaceMesh's landmarks (the diffusion renderer's, an image-guided reference, the age tab's),
    which alone tell a face lying on its side (the age estimator read the astronaut on her side as 35, upright 41); and
    for the faces `faces_or_why_not` finds only in a photo turned a quarter turn."""
    aligned = align_face(rgb, face, UPRIGHT_SIZE)
    check_upright(detector, aligned.crop, face, aligned.matrix, quarter_turns=True)


def faces_or_why_not(detector: FaceDetector, rgb: np.ndarray) -> list[Face]:
    """`detector.detect`'s faces of `rgb`; where there are none, NoFaceError saying why: NO_FACE, or that a face is found
    with the photo turned a quarter turn (QUARTER_TURNS; only then are they looked at) and is upright that way.

    A photo saved lying on its side shows its face on its side, which YuNet does not find; turned the right way the face
    is upright, turned the wrong way upside down, and YuNet finds an upside-down face too, at a lower score. So a face
    found turned counts only where `check_face_upright` in that view is not surer of it another way up: YuNet also
    finds faces in a turned photo whose own face it missed upright (the astronaut's portrait overexposed three times:
    none upright, a face at 0.82 turned clockwise, upside down in that view), and the advice to turn an upright photo
    was wrong. (A face the check cannot find again in its small crop, at any turn, still counts.) The turned views are
    read at DETECT_SIZES only, without `detect`'s last-resort size: only a photo with no face at all reaches them."""
    faces = detector.detect(rgb)
    if faces:
        return faces
    best: dict[str, float] = {}
    for _, how, face in _upright_when_turned(detector, rgb):
        best[how] = max(best.get(how, 0.0), face.score)
    if best:
        how = max(best, key=lambda name: best[name])
        raise NoFaceError(
            f"No face found as the photo is, but one is found with the photo turned {how}: turn the photo upright and try again."
        )
    raise NoFaceError(NO_FACE)


def _upright_when_turned(detector: FaceDetector, rgb: np.ndarray) -> Iterator[tuple[int, str, Face]]:
    """(np.rot90's turns, how the photo must be turned, the face in the turned photo's pixels) for each face the
    detector finds in `rgb` turned a quarter turn (QUARTER_TURNS) at DETECT_SIZES that `check_face_upright` takes as
    upright in that view (see `faces_or_why_not`)."""
    for turns, how in QUARTER_TURNS:
        turned = np.ascontiguousarray(np.rot90(rgb, turns))
        for size in DETECT_SIZES:
            for face in detector.detect_once(turned, size):
                try:
                    check_face_upright(detector, turned, face)
                except NoFaceError:
                    continue
                yield turns, how, face


def turned_back(face: Face, turns: int, shape: tuple[int, int]) -> Face:
    """`face`, found in a photo of `shape` (H, W) turned by np.rot90 `turns` (1 or 3) times, in the photo's own pixels."""
    height, width = shape
    x, y, w, h = face.box
    corners = np.array([[x, y], [x + w, y], [x, y + h], [x + w, y + h]], np.float64)

    def back(points: np.ndarray) -> np.ndarray:
        # np.rot90 once (anticlockwise) puts the photo's (x, y) at (y, W - x); three times at (H - y, x)
        if turns == 1:
            return np.stack([width - points[:, 1], points[:, 0]], axis=1)
        return np.stack([points[:, 1], height - points[:, 0]], axis=1)

    box = back(corners)
    (x0, y0), (x1, y1) = box.min(0), box.max(0)
    landmarks = back(np.asarray(face.landmarks, np.float64)).astype(np.float32)
    return Face((float(x0), float(y0), float(x1 - x0), float(y1 - y0)), landmarks, face.score, face.cut_by_border)


def faces_on_their_side(detector: FaceDetector, rgb: np.ndarray, faces: list[Face]) -> list[tuple[Face, str]]:
    """The faces of `rgb` lying on their side, which the detector finds only with the photo turned a quarter turn (and
    upright that way: `_upright_when_turned`), each in the photo's pixels with how the photo must be turned; none that is
    one of `faces` (those found as the photo is) again, nor the same face twice (`over_one_another`: a face lying with its
    box touching an upright face's is another face). A group photo names them: YuNet does not find a face on its side at
    all, and one beside upright faces was left out without a word."""
    found: list[tuple[Face, str]] = []
    for turns, how, face in _upright_when_turned(detector, rgb):
        back = turned_back(face, turns, rgb.shape[:2])
        if not any(over_one_another(back, other) for other in [*faces, *(seen for seen, _ in found)]):
            found.append((back, how))
    return found


def feather_mask(size: int, margin: float = 0.06) -> np.ndarray:
    """(size, size) float mask in [0, 1]: 1 inside, falling smoothly to 0 at the crop's edge."""
    inset = max(2, int(round(margin * size)))
    mask: np.ndarray = np.zeros((size, size), np.float32)  # cv2 hands back its own array type below
    mask[inset:-inset, inset:-inset] = 1.0
    blur = 2 * (inset // 2) + 1
    mask = cv2.GaussianBlur(mask, (blur, blur), 0)
    mask[: inset // 2, :] = mask[-(inset // 2) :, :] = 0.0
    mask[:, : inset // 2] = mask[:, -(inset // 2) :] = 0.0
    return mask


def frame_feather(height: int, width: int) -> np.ndarray:
    """The crop's feather (`feather_mask`, its margin a share of the width) on a frame `height` rows tall."""
    if height == width:
        return feather_mask(width)
    rows = feather_mask(height, margin=0.06 * width / height)[:, height // 2]
    return np.outer(rows, feather_mask(width)[width // 2]).astype(np.float32)


@functools.lru_cache(maxsize=8)
def frame_border(height: int, width: int) -> np.ndarray:
    """`frame_feather` (read-only): it depends on the frame's size alone, so it is made once per process, not per
    face."""
    mask = frame_feather(height, width)
    mask.flags.writeable = False
    return mask


def paste_back(original: np.ndarray, edited_crop: np.ndarray, matrix: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Put an edited aligned crop back into the photo through a feathered mask.

    Pixels where the warped mask is 0 are returned exactly as they were. Only the photo's box that the
    mask's support maps to is warped and blended (a face is a small part of most photos).
    """
    height, width = original.shape[:2]
    size = edited_crop.shape[0]
    if mask is None:
        mask = feather_mask(size)
    result = original.copy()
    box = _support_box(mask, matrix, (height, width))
    if box is None:
        return result
    inverse = cv2.invertAffineTransform(matrix)
    warped = _warp_box(edited_crop, inverse, box, cv2.INTER_CUBIC, cv2.BORDER_REPLICATE)
    weight = _warp_box(mask, inverse, box, cv2.INTER_LINEAR, cv2.BORDER_CONSTANT)[..., None]
    x0, y0, x1, y1 = box
    region = original[y0:y1, x0:x1]
    blended = region.astype(np.float32) * (1.0 - weight) + warped.astype(np.float32) * weight
    mixed = to_uint8(blended)
    result[y0:y1, x0:x1] = chosen(weight[..., 0] > 0, mixed, region)
    return result


# cv2.warpAffine's fixed point: source coordinates in 1/1024 px, interpolated at 1/32 px
_AB_BITS, _INTER_BITS = 10, 5


def _warp_box(image: np.ndarray, forward: np.ndarray, box: tuple[int, int, int, int], interpolation: int, border: int):
    """What cv2.warpAffine(image, forward, photo size) gives in `box` (x0, y0, x1, y1), computed for the box only.

    warpAffine's maps are rebuilt as it builds them (the inverse of `forward` as it inverts it, then each
    pixel's source in its fixed point), so the box holds the same pixels as the whole warp, not values
    off by a rounding of the coordinates (a level or a few at sharp edges)."""
    m = forward.astype(np.float64).ravel().copy()
    det = m[0] * m[4] - m[1] * m[3]
    det = 1.0 / det if det != 0 else 0.0
    m[0], m[4] = m[4] * det, m[0] * det
    m[1] *= -det
    m[3] *= -det
    m[2], m[5] = -m[0] * m[2] - m[1] * m[5], -m[3] * m[2] - m[4] * m[5]
    x0, y0, x1, y1 = box
    xs, ys = np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64)
    scale, half = 1 << _AB_BITS, 1 << (_AB_BITS - _INTER_BITS - 1)
    column_x, column_y = np.rint(m[0] * xs * scale).astype(np.int64), np.rint(m[3] * xs * scale).astype(np.int64)
    row_x = np.rint((m[1] * ys + m[2]) * scale).astype(np.int64) + half
    row_y = np.rint((m[4] * ys + m[5]) * scale).astype(np.int64) + half
    x = (row_x[:, None] + column_x[None, :]) >> (_AB_BITS - _INTER_BITS)
    y = (row_y[:, None] + column_y[None, :]) >> (_AB_BITS - _INTER_BITS)
    whole = np.stack([x >> _INTER_BITS, y >> _INTER_BITS], -1).clip(-32768, 32767).astype(np.int16)
    table = 1 << _INTER_BITS
    fraction = ((y & (table - 1)) * table + (x & (table - 1))).astype(np.uint16)
    return cv2.remap(image, whole, fraction, interpolation, borderMode=border, borderValue=0)


def _support_box(mask: np.ndarray, matrix: np.ndarray, shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1): the photo's pixels whose warped `mask` weight can be above 0, or None if none can."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if len(rows) == 0:
        return None
    # the support's corners, 2 px out (a photo pixel mapping within a pixel of it gets a bilinear share)
    return photo_box((cols[0] - 2.0, rows[0] - 2.0, cols[-1] + 2.0, rows[-1] + 2.0), matrix, shape, 2, 3)


def photo_box(
    rect: tuple[float, float, float, float], matrix: np.ndarray, shape: tuple[int, int], before: int, after: int
) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), x1 and y1 past the end: the photo's box around the crop's rectangle `rect` (left, top, right,
    bottom in crop pixels; `matrix` maps photo to crop), grown by `before` pixels up and left and `after` down and
    right, inside the photo of `shape` (height, width); None where it is empty."""
    left, top, right, bottom = rect
    corners = np.array([[left, top], [right, top], [left, bottom], [right, bottom]], np.float64)
    inverse = cv2.invertAffineTransform(np.asarray(matrix, np.float64))
    photo = corners @ inverse[:, :2].T + inverse[:, 2]
    height, width = shape
    x0, y0 = (max(int(np.floor(v)) - before, 0) for v in photo.min(0))
    x1, y1 = min(int(np.ceil(photo[:, 0].max())) + after, width), min(int(np.ceil(photo[:, 1].max())) + after, height)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1
