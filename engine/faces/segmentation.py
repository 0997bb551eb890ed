"""Person segmentation (mediapipe selfie segmentation, Apache-2.0), the hair mask built from it, and
background replacement for training faces.

The hair is the person minus the face (FaceMesh's oval), kept to the head's height band and
refined by colour: pixels that read as the face's own skin (neck, ears, a bald scalp, a sheen on the
forehead) are not hair, and what is left is kept to the hair's colour, sampled above the brows and at the
temples; a smooth crown unlike the temples' hair is a hat, left out with the hair's colour taken from the
temples alone (`hair_seeds`). Hair inside the face's outline (white hair over the temples, a sideburn) that goes on
from the mask in its colour and with strands' texture joins it (`hair_margin`).
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from engine.core.memo import memo
from engine.core.pixels import to_lab
from engine.faces.alignment import warp_neutral
from engine.faces.zones import (
    CHIN,
    FACE_OVAL,
    JAW_ANGLES,
    LEFT_BROW,
    LEFT_EYE,
    LEFT_MOUTH,
    RIGHT_BROW,
    RIGHT_EYE,
    RIGHT_MOUTH,
    face_hull,
    inter_ocular,
    support_box,
)

PERSON_THRESHOLD = 0.5  # the segmenter's probability above which a pixel belongs to the person
# The segmenter reads the aligned crop, and where the crop's edge cuts the head it can lose the head's outline: the
# camera operator's dark crown at the top-left corner of his crop read 0.33-0.5, taken for background, and stayed a dark
# wedge beside his greyed hair at 70-80. Where it is unsure (between PERSON_UNSURE), within BORDER_CONTEXT of the crop's
# size from its edge, it is asked again on a view WIDE_VIEW times as wide (the same alignment, the whole head inside),
# and that reading is taken where it is sure: his crown read 0.85-1.0 there. Only by the edge: elsewhere the crop's own
# reading has all the context the wide view has, at 1.5 times its resolution; taken everywhere, the wide view's coarser
# edge let the shaded edge of a cheek against bright bokeh (the packaged `obama3`) into the hair mask, a grey patch
# beside his eye at 10. (All from looking at the nine packaged portraits' masks and their aged faces at 10 and 80.)
PERSON_UNSURE = (0.25, 0.75)
WIDE_VIEW = 1.5
BORDER_CONTEXT = 0.1
SKIN_DISTANCE = 2.5  # Mahalanobis distance in (a*, b*) within which a pixel is taken for skin (from looking)
# With the skin's chromaticity, a pixel is skin within this much of the face's median lightness: dark hair can
# share the skin's chromaticity (dark brown on brown skin), so darker is hair; a sheen is lighter with the same
# chromaticity (Obama's forehead by the hairline, 51 lighter, was taken for hair at 40 either side; from looking)
SKIN_DARKER = 40.0
SKIN_LIGHTER = 80.0
# Greying hair takes on the skin's hue where it is thin or lit warm, but keeps little of its chroma: Obama's grey
# temples have 0.26-0.57 of his face's mean chroma, and were taken for skin by the Mahalanobis test alone (from
# looking at them; his cheeks, lit or in shade, keep more than this)
SKIN_CHROMA_SHARE = 0.6
# A sheen where a receding hairline bares the forehead (Obama's official portrait, looked at): lighter than the hair
# samples' SHEEN_PERCENTILE lightness and with under SHEEN_TEXTURE of their median fine texture, it is skin; lit
# hair as light has its strands' texture
SHEEN_PERCENTILE = 90.0
SHEEN_TEXTURE = 0.5
HAIR_DISTANCE = 4.5  # Mahalanobis distance in L*a*b* from the hair samples' colour still taken for hair (from looking)
BROW_GROWTH = 0.02  # inter-ocular distances the brow outlines grow by: FaceMesh's outline misses hairs at its edge
MIN_HAIR_SHARE = 0.01  # a hair mask smaller than this share of the crop is no hair mask (bald, hat, failure)
HOLE_GAP = 0.3  # inter-ocular distances: a gap this narrow out of a hole in the hair does not make it background
# Inter-ocular distances: a bay in the hair this wide or less (what a closing by a disk of this width fills), outside
# the face's outline, is hair where its colour is the hair's (within HAIR_DISTANCE of the mask's). Strawberry-blonde
# and blonde hair lit warm reads as skin by the colour tests, and a small face in a group photo was left with round gaps
# of 0.3-0.5 d in its hair that kept their colour among the greyed hair, a patchwork at 60-80 (from looking: there the
# bays came to 0.6-0.8 d^2; on the packaged portraits they are a few hundred pixels at the hair's edge, under 0.03 d^2).
BAY_WIDTH = 0.5
BAY_COLOUR_SAMPLES = 8192  # the hair's colour read from every k-th of its pixels, k giving about this many (a Gaussian)
FRINGE_REACH = 0.08  # inter-ocular distances above the brows' top: the lowest a fringe's tips are taken for hair
FRINGE_CONTRAST = 25.0  # L (8-bit): a fringe's tip is at least this much darker than the forehead below it (from looking)
TEMPLE_REACH = 0.3  # inter-ocular distances beside the face's outline: the temples' hair (from looking)
TEMPLE_ABOVE = 0.0  # inter-ocular distances above the brows' top: a cap's rim comes down to the brows at the sides (Hopper's)
TEMPLE_BELOW = 0.0  # inter-ocular distances below the eyes: none, the ears start about there (Obama's, taken in at 0.5)
MIN_TEMPLE_PIXELS = 200  # fewer temple (or crown, or long hair's last rows) pixels than this are too few for a colour model
# A hat (from looking at the packaged photos): Hopper's black cap over white temples differs from them by 71 in L
# and has 0.32 of their fine texture; hair lit on the crown and in shade beside the face differs as much in L
# (the astronaut's, 64) but has more texture on the crown (1.4 times); the camera operator's dark crown against
# a light camera beside his temple has 0.74; Einstein's dark background taken for the person above his white hair
# has 0.50 (a hat in this sense: not hair).
HAT_LIGHTNESS = 40.0  # L (8-bit): crown and temples this far apart in median lightness may be a hat and hair
# A colour model's covariance gets this much added on its diagonal (a^2, b^2, L^2 in 8-bit units): a face or a lock
# of one uniform colour still has some spread (a standard deviation of 2 levels at least; set from looking at the
# masks on the packaged photos when the colour models were built)
COVARIANCE_FLOOR = 4.0
# The fine texture told strands from cloth, skin and sheen: detail finer than FINE_DETAIL_SIGMA px, its local mean over
# FINE_MEAN_SIGMA px (a 512 px crop's strands are a few px wide; the mean spans several of them; set from looking at
# the hat and sheen tests on the packaged photos)
FINE_DETAIL_SIGMA = 1.0
FINE_MEAN_SIGMA = 4.0
HAT_TEXTURE = 0.6  # and the crown's fine lightness texture under this share of the temples': cloth, not strands
# The ears, per side of the face, by FaceMesh's face oval, which runs past where each ear joins the head: its points
# 162 (the face's right) and 389 (its left) lie about level with an ear's top, 0.11-0.22 inter-ocular distances above
# the eyes on the packaged upright portraits (the 0.2 d the ear tests used before, from looking), and 127 and 356 level
# with the eyes, within 0.03 d, where the ear joins. Read per side, they follow the head's tilt and nod: a face looking
# down shows its ears above its eyes (a group photo's woman, head bowed: her ear joined the head 0.6-0.9 d above her eye
# line, and was taken for hair, darkened toward 10 and whitened toward 80).
EAR_TOP = (162, 389)
EAR_JOIN = (127, 356)
# How far the face's skin may run on past FaceMesh's outline to an ear: on a turned face the outline lies inside the
# cheek's edge (0.3 d short of the ear on the group photo's woman above; from looking, an ear lies within EAR_REACH,
# 0.6 d, of the outline: aging.py)
EAR_GAP = 0.4
# The hair's margin inside the face's outline (`hair_margin`): the white hair over Hopper's and Biden's temples lies up
# to about 0.2 d in from FaceMesh's outline, Biden's down to 0.2 d below the eyes (looked at 3x; of what the margin
# takes, 95 % lies within 0.16 d of the outline on Hopper's, 0.19 d on Biden's); half as much again either way
MARGIN_REACH = 0.3
MARGIN_BELOW = 0.3
# px: the hair beside a margin pixel, whose colour it must have, is the mask's within a Gaussian of this sigma (the
# mask's edge band, hair.EDGE_BAND's 8 px, as a sigma: its pixels are the hair the margin goes on from)
MARGIN_LOCAL = 8.0
# OpenCV's Gaussian kernel for float images spans round(8 sigma + 1) pixels (made odd): how far the local hair's
# statistics read around a margin pixel
LOCAL_REACH = (int(round(8 * MARGIN_LOCAL + 1)) | 1) // 2
# px: gaps this narrow between the margin's strands are closed (the shadows between Hopper's white temple strands are
# 1-3 px wide at 512 px, looked at 3x; the hair mask's own opening is 5 px too)
MARGIN_GAP = 5
# A margin that reaches MARGIN_REACH's line is hair going on deeper (a sideburn seen from three-quarters, its strands
# crossing the outline at a slant): it goes on, by the same tests, to this many inter-ocular distances. The camera
# operator's sideburn in front of his ear (looked at 4x) is dark (L under 60) up to 0.47 d in from FaceMesh's outline
# and its soft edge (MARGIN_SOFT_EDGE) goes on 0.07 d further; cut at 0.3 d, its greyed part ended in a hard line
# across it with its black tip left below (at 50 and 70)
MARGIN_GROWTH = 0.6
# px: what the margin takes past the zone's inner line is grown by this much (within the band): a sideburn's soft edge
# runs from hair to skin over about 10 px at 512 px (the camera operator's tip, L 20 to 118), and the colour tests
# read its outer half as skin: left out, it stayed a dark ring round the greyed hair (looked at 3x at 70); in the
# mask, the hair stage's edge matte (hair.edge_hair_share) greys each such pixel by its share of hair
MARGIN_SOFT_EDGE = 5
EYE_GROWTH = 0.1  # inter-ocular distances the eyes' outlines grow by, kept out of the margin (lashes, lids' shade)
MIN_PART_SHARE = 0.05  # a separate part of the hair mask under this share of its largest part is a speck (from looking)
# The hair mask stops this many inter-ocular distances above the chin: below it the person is mostly neck and clothes,
# whose colour can be the hair's (a dark collar under dark hair). Long hair runs on below it where the mask's last rows
# hold it across LONG_HAIR_WIDTH d or more on each side of the face (it hangs on both): the nine packaged portraits'
# masks hold none there (short hair, a bob ending above the jaw); the long hair of two women in a group photo 0.54 and
# 0.50 d, and 1.14 and 0.39 d; a short-haired man's mask that took the shadow behind his neck on one side 0.64 d and
# none on the other (from looking; a quarter of a d a side is clear of all of them)
BAND_ABOVE_CHIN = 0.3
LONG_HAIR_WIDTH = 0.25
# Long hair below the band (`long_hair_below`): its colour is the mask's in the last LONG_HAIR_SAMPLE d above the band's
# row, the hair beside the jaw, the nearest the mask holds to the hair below (from looking at a group photo's two
# long-haired women: their hair's colour there is the colour it hangs down in); followed to the crop's edge on every side
LONG_HAIR_SAMPLE = 0.3
# px: the elliptic disk that closes the gaps between locks, in the mask (a deep shadow between them) and in the long hair
# below it (from looking at the packaged portraits' masks)
LOCK_GAP = 15

# FaceMesh eyebrow outlines, upper edge outer -> inner then lower edge inner -> outer (canonical topology).
RIGHT_BROW_OUTLINE = [*RIGHT_BROW, 55, 65, 52, 53, 46]
LEFT_BROW_OUTLINE = [*LEFT_BROW, 285, 295, 282, 283, 276]


class PersonSegmenter:
    """mediapipe selfie segmentation (general model), one graph behind a lock."""

    def __init__(self):
        import mediapipe as mp  # noqa: PLC0415 - mediapipe loads with the segmenter on first use

        self._model = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
        self._lock = threading.Lock()

    def probability(self, rgb: np.ndarray) -> np.ndarray:
        """(H, W) float32 probability that each pixel belongs to a person."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"segmentation needs an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}")
        with self._lock:
            result = self._model.process(np.ascontiguousarray(rgb))
        if result.segmentation_mask is None:
            return np.zeros(rgb.shape[:2], np.float32)
        return np.asarray(result.segmentation_mask, np.float32)


def wide_zoom(size: int) -> np.ndarray:
    """(2, 3): a `size` px crop's frame zoomed out WIDE_VIEW times about its centre (the wide view's pixel is the crop's
    centre + its offset from it / WIDE_VIEW)."""
    centre = np.array([size / 2, size / 2])
    return np.hstack([np.eye(2) / WIDE_VIEW, (centre * (1 - 1 / WIDE_VIEW))[:, None]])


def wide_view(photo: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The `size` px view of `photo` WIDE_VIEW times as wide as its aligned crop by the 2x3 `matrix` (same centre and
    alignment), padded past the photo's edge as the crop is (`alignment.warp_neutral`)."""
    return warp_neutral(photo, wide_zoom(size) @ np.vstack([matrix, [0, 0, 1]]), size).crop


def person_in_crop(segmenter: PersonSegmenter, photo: np.ndarray, crop: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(H, W) float32: the probability that each pixel of `crop` (the aligned crop of `photo` by the 2x3 `matrix`)
    belongs to the person: the segmenter's reading of the crop, and where it is unsure by the crop's edge, its sure
    reading of the wide view (`wide_view`, made only then), mapped back to the crop (see PERSON_UNSURE)."""
    person = segmenter.probability(crop)
    height, width = person.shape
    ys, xs = np.ogrid[:height, :width]
    from_edge = np.minimum(np.minimum(xs, width - 1 - xs), np.minimum(ys, height - 1 - ys))
    unsure = (person > PERSON_UNSURE[0]) & (person < PERSON_UNSURE[1]) & (from_edge < BORDER_CONTEXT * min(height, width))
    if not unsure.any():
        return person
    back = cv2.invertAffineTransform(wide_zoom(width))
    wide = segmenter.probability(wide_view(photo, matrix, width))
    seen = cv2.warpAffine(wide, back, (width, height), flags=cv2.INTER_LINEAR)
    sure = (seen <= PERSON_UNSURE[0]) | (seen >= PERSON_UNSURE[1])
    return np.where(unsure & sure, seen, person).astype(np.float32)


def brow_mask(rgb: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(H, W) uint8 mask of the eyebrow region: the FaceMesh brow outlines grown by BROW_GROWTH inter-ocular
    distances, so it holds every brow hair and the skin between and around them (which pixels are hair is
    the greying's to tell, pixel by pixel: engine/methods/classical/hair.py, `brow_hair_share`)."""
    region = np.zeros(rgb.shape[:2], np.uint8)
    for outline in (RIGHT_BROW_OUTLINE, LEFT_BROW_OUTLINE):
        cv2.fillPoly(region, [np.round(points[outline]).astype(np.int32)], 1)
    size = max(3, int(round(2 * BROW_GROWTH * inter_ocular(points))) | 1)
    return cv2.dilate(region, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))


def fill_holes(mask: np.ndarray, top_closed: bool = False) -> np.ndarray:
    """A binary mask with every region it encloses filled (highlights and shadows inside the hair).

    `top_closed`: a region that reaches out of the image only through its top edge counts as enclosed
    (the crown of a head cut by the crop's top: its highlights are holes, not background)."""
    padded = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    if top_closed:
        padded[0, 1:-1] = 1
    outside = padded.copy()
    flood = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8)
    cv2.floodFill(outside, flood, (0, 0), 2)
    return (outside[1:-1, 1:-1] != 2).astype(np.uint8)


def without_specks(mask: np.ndarray, eye_line: float | None = None) -> np.ndarray:
    """The mask's connected regions of at least MIN_PART_SHARE of its largest one (a patch of collar or
    neck caught beside the hair is not hair), and with `eye_line` (its row) only those reaching above it: hair grows
    from the scalp, and what lies wholly below the eyes, joined to no hair above them, is the neck's shadow or a
    collar that the hair's colour also fits (a photo cut above the brows showed a few temple hairs as the hair's
    colour, and its mask took in a patch of neck and a lapel, which greyed)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    # the eye line first: a large collar below it must not make the hair above it a speck by comparison
    held = np.ones(count - 1, bool) if eye_line is None else stats[1:, cv2.CC_STAT_TOP] < eye_line
    if not held.any():
        return np.zeros_like(mask)
    held &= areas >= MIN_PART_SHARE * areas[held].max()
    return np.isin(labels, np.flatnonzero(held) + 1).astype(np.uint8)


def joined(parts: np.ndarray, to: np.ndarray, connectivity: int = 8) -> np.ndarray:
    """(H, W) bool: the connected parts of `parts` (bool or 0/1) that hold a pixel of `to` (bool)."""
    count, labels = cv2.connectedComponents(np.asarray(parts).astype(np.uint8), connectivity=connectivity)
    touching = np.unique(labels[to & (labels > 0)])
    return np.isin(labels, touching)


def with_strands(texture: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(H, W) bool: where the fine `texture` (`fine_texture`) is SHEEN_TEXTURE of its median over `reference` (bool:
    pixels known to be hair) or more: strands' texture, which skin, cloth, a wall and a sheen have less of."""
    return texture >= SHEEN_TEXTURE * float(np.median(texture[reference]))


def right_of_face(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(W,) bool: the columns on the face's right side (the image's left), left of its landmarks' mean column."""
    return np.arange(shape[1]) < float(np.asarray(points)[:, 0].mean())


def side_rows(points: np.ndarray, shape: tuple[int, int], oval: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: on each side of the face (the columns left and right of its landmarks' mean), the rows below that
    side's point of `oval` (FaceMesh indices: the face's right side's, then its left's; EAR_TOP, EAR_JOIN)."""
    ys = np.arange(shape[0])[:, None]
    return np.where(right_of_face(points, shape)[None, :], ys > points[oval[0], 1], ys > points[oval[1], 1])


def skin_beside_outline(face: np.ndarray, skin: np.ndarray, d: float) -> np.ndarray:
    """(H, W) uint8: the `face` (its outline's hull, uint8) and the `skin` pixels (bool: `skin_like`) within EAR_GAP
    inter-ocular distances of it that join it, through such pixels."""
    beyond = cv2.distanceTransform((face == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    near = (face > 0) | (skin & (beyond <= EAR_GAP * d))
    return joined(near, face > 0).astype(np.uint8)


def ear_like(
    lab: np.ndarray, candidate: np.ndarray, face: np.ndarray, skin_chroma: np.ndarray, joins: np.ndarray, below_top: np.ndarray
) -> np.ndarray:
    """The candidate's pixels that are an ear: skin in chromaticity, lighter than the candidate's median
    (the ear is skin in shade, too dark for the face's lightness; hair with the skin's chromaticity is
    blond, lit hair is above the ears or separated from the face by its own shadow), in a part of such
    pixels that touches the face's side where `joins` (bool, (H, W): below where the ears join the head, EAR_JOIN),
    within `below_top` (below the ears' tops, EAR_TOP)."""
    if not candidate.any():
        return np.zeros(candidate.shape, bool)
    # below the ears' tops only (in a black-and-white photo all the hair has the skin's chromaticity, and Takeo's lit
    # temple hair joined his ear and was cut out with it)
    light = candidate & skin_chroma & (lab[..., 0] > np.median(lab[..., 0][candidate])) & below_top
    side = (cv2.dilate(face, np.ones((3, 3), np.uint8)) > 0) & (face == 0) & joins
    return joined(light, side & light, connectivity=4)


def fringe_tips(lightness: np.ndarray, mask: np.ndarray, face: np.ndarray, lowest: int, brows_top: int) -> np.ndarray:
    """`mask` with the tips of a fringe over the forehead added: blond tips have the skin's colour, so the
    colour tests leave them out and they would stay their colour under greyed hair. Down to row `lowest`
    inside the `face`, a pixel FRINGE_CONTRAST darker than the forehead's skin in its own column (the
    median of the rows between `lowest` and `brows_top`) and joined to the hair through such pixels is hair."""
    if lowest >= brows_top or lowest <= 0:
        return mask
    band = lightness[lowest:brows_top].astype(np.float32)
    inside = face[lowest:brows_top]
    skin = _column_medians(band, inside.astype(bool))
    ys = np.arange(mask.shape[0])[:, None]
    dark = face & (ys < lowest) & ~np.isnan(skin)[None, :] & (lightness < np.nan_to_num(skin)[None, :] - FRINGE_CONTRAST)
    return ((mask > 0) | (dark & joined(dark | (mask > 0), mask > 0))).astype(np.uint8)


def _column_medians(values: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """(W,) float32: each column's median of `values` (H, W float32) where `inside`, NaN where none is (as
    np.median per column gives: the middle value, or the mean of the two middle ones), all columns at once."""
    ordered = np.sort(np.where(inside, values, np.inf), axis=0)  # each column's inside values first
    count = inside.sum(0)
    columns = np.arange(values.shape[1])
    low, high = ordered[np.maximum(count - 1, 0) // 2, columns], ordered[count // 2 - (count == 0), columns]
    return np.where(count > 0, (low + high) / np.float32(2), np.nan).astype(np.float32)


def _quadratic(offset: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(...) float64: each offset's x^T M x, for the (..., K) `offset` and (K, K) `matrix` (a squared
    Mahalanobis distance), summed term by term: einsum's general loop over the image is several times slower."""
    total = np.zeros(offset.shape[:-1])
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            total += matrix[i, j] * (offset[..., i] * offset[..., j].astype(np.float64))
    return total


def temples(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: the temples and the hair over the ears, a ring TEMPLE_REACH inter-ocular distances wide just
    outside the face's outline, from TEMPLE_ABOVE above the brows' top down to TEMPLE_BELOW below the eyes: where
    hair grows beside the face and a hat does not reach (a cap sits on the forehead, above the brows)."""
    d = inter_ocular(points)
    face = face_hull(points, shape)
    beyond = (face == 0).astype(np.uint8)
    ring = (beyond > 0) & (cv2.distanceTransform(beyond, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) <= TEMPLE_REACH * d)
    brows_top = float(points[[*RIGHT_BROW, *LEFT_BROW], 1].min())
    eyes = float(points[[*RIGHT_EYE, *LEFT_EYE], 1].mean())
    ys = np.arange(shape[0])[:, None]
    return ring & (ys > brows_top - TEMPLE_ABOVE * d) & (ys < eyes + TEMPLE_BELOW * d)


def fine_texture(lightness: np.ndarray) -> np.ndarray:
    """(H, W) float32: the local mean of the lightness's detail finer than a pixel or two (strands have it; skin,
    cloth and a sheen have little)."""
    detail = np.abs(lightness - cv2.GaussianBlur(lightness, (0, 0), FINE_DETAIL_SIGMA))
    return cv2.GaussianBlur(detail, (0, 0), FINE_MEAN_SIGMA)


def photo_texture(rgb: np.ndarray) -> np.ndarray:
    """`fine_texture` of `rgb`'s CIELAB lightness, kept per image (read-only): the hair mask and the hair beside the
    face both read it."""
    return memo("photo_texture", (rgb,), lambda: fine_texture(to_lab(rgb)[..., 0]))


def hair_seeds(lab: np.ndarray, crown: np.ndarray, sides: np.ndarray, texture: np.ndarray) -> tuple[np.ndarray, bool]:
    """`candidate_seeds`, less the seeds without strands' texture (under SHEEN_TEXTURE of the seeds' median): skin or
    background caught among them. On a group photo's faces these were the pale forehead above FaceMesh's outline, a
    wall the person segmenter took in beside a face whose hair is pulled back, and a neighbour's arm: their colour
    widened the hair's Gaussian until it took the forehead's top and the wall, which greyed at 80 as a pale block
    beside the face. Everything `hair_mask_and_tips` reads on the seeds is read on these: the hair's colour, the
    lightness above which a smooth pixel is a sheen, and the texture the margin's strands are measured against."""
    seeds, hat = candidate_seeds(lab, crown, sides, texture)
    if seeds.any():
        seeds = seeds & with_strands(texture, seeds)
    return seeds, hat


def candidate_seeds(lab: np.ndarray, crown: np.ndarray, sides: np.ndarray, texture: np.ndarray) -> tuple[np.ndarray, bool]:
    """The pixels the hair's colour is taken from, and whether the crown is a hat: `crown` and `sides` (H, W
    bool, the candidate above the brows and at the temples; `texture`: `fine_texture` of the lightness).

    A hat covers the crown but not the temples, and it is cloth: smooth where hair has strands. When the crown's
    median lightness is HAT_LIGHTNESS or more from the temples' and its fine lightness texture is under
    HAT_TEXTURE of theirs, the crown is a hat, and the hair's colour comes from the temples' pixels unlike it in
    lightness (a cap's rim or a glasses' arm among them is not hair). Otherwise from both (hair greying at the
    temples first, or lit on the crown and in shade beside the face, is still hair: it has strands' texture)."""
    both = crown | sides
    if sides.sum() < MIN_TEMPLE_PIXELS or crown.sum() < MIN_TEMPLE_PIXELS:
        return both, False
    lightness = lab[..., 0]
    crown_lightness = float(np.median(lightness[crown]))
    if abs(crown_lightness - float(np.median(lightness[sides]))) < HAT_LIGHTNESS:
        return both, False
    if np.median(texture[crown]) >= HAT_TEXTURE * np.median(texture[sides]):
        return both, False
    seeds = sides & (np.abs(lightness - crown_lightness) >= HAT_LIGHTNESS / 2)  # half the hat's gap or more off its lightness
    return (seeds, True) if seeds.sum() >= MIN_TEMPLE_PIXELS else (both, False)


def skin_chromaticity(pixels: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """(N,) bool: which of the (N, 3) L*a*b* `pixels` have the face's skin's chromaticity: within SKIN_DISTANCE
    (Mahalanobis, in a*b*) of the (M, 3) `skin` samples'."""
    mean = skin[:, 1:].mean(0)
    inverse = np.linalg.inv(np.cov(skin[:, 1:].T) + np.eye(2) * COVARIANCE_FLOOR)
    return np.sqrt(_quadratic(pixels[:, 1:] - mean, inverse)) < SKIN_DISTANCE


def skin_like(pixels: np.ndarray, skin_chroma: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """(N,) bool: which of the (N, 3) L*a*b* `pixels` read as the face's skin (the (M, 3) `skin` samples): with its
    chromaticity (`skin_chroma`: `skin_chromaticity`), from SKIN_DARKER darker to SKIN_LIGHTER lighter than its
    median lightness, and not grey hair (the skin's hue, under SKIN_CHROMA_SHARE of its mean chroma)."""
    above_skin = pixels[:, 0] - np.median(skin[:, 0])
    mean = skin[:, 1:].mean(0)
    pale = np.hypot(pixels[:, 1] - 128, pixels[:, 2] - 128) < SKIN_CHROMA_SHARE * np.hypot(*(mean - 128))
    return skin_chroma & (above_skin > -SKIN_DARKER) & (above_skin < SKIN_LIGHTER) & ~pale


def colour_distance(pixels: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """(N,) Mahalanobis distance of each of the (N, 3) L*a*b* `pixels` from the Gaussian of the (M, 3) `sample`,
    with a floor of 4 levels squared on the covariance: a uniform-looking sample still has some spread."""
    return np.sqrt(_quadratic(pixels - sample.mean(0), np.linalg.inv(np.cov(sample.T) + np.eye(3) * COVARIANCE_FLOOR)))


def closed_in_box(mask: np.ndarray, size: int) -> np.ndarray:
    """`mask` (H, W uint8) closed by an elliptic disk `size` px wide (odd), worked out in the mask's box grown by twice
    the disk's radius: beyond the box grown by one radius the closing is 0, and within it every pixel reads only
    pixels inside the grown box, so it is what closing the whole frame gives."""
    out = np.zeros_like(mask)
    box = support_box(mask, 2 * (size // 2))
    if box is not None:
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        out[box] = cv2.morphologyEx(np.ascontiguousarray(mask[box]), cv2.MORPH_CLOSE, disk)
    return out


def below(mask: np.ndarray, row: float) -> np.ndarray:
    """The mask's connected parts that reach below `row` (hair grows beside the face; a hat's top does not)."""
    reach = np.zeros(mask.shape, bool)
    reach[int(max(row, 0)) :] = True
    return joined(mask > 0, reach & (mask > 0)).astype(np.uint8)


def band_bottom(points: np.ndarray) -> float:
    """Where the hair mask's head band stops: BAND_ABOVE_CHIN inter-ocular distances above FaceMesh's chin."""
    return float(points[CHIN, 1] - BAND_ABOVE_CHIN * inter_ocular(points))


def band_row(points: np.ndarray) -> int:
    """The first row below the head band (`band_bottom`): the band holds the rows above it."""
    return int(np.ceil(band_bottom(points)))


def runs_below_the_band(mask: np.ndarray, points: np.ndarray) -> bool:
    """Whether the hair `mask` runs on below its head band (`band_row`): long hair, held across LONG_HAIR_WIDTH
    inter-ocular distances or more of the mask's last rows in the band on each side of the face (`right_of_face`),
    which the mask follows down (`long_hair_below`)."""
    row = band_row(points)
    held: np.ndarray = np.asarray((np.asarray(mask)[max(row - 4, 0) : max(row, 0)] > 0).any(axis=0))
    if not held.size:
        return False
    right, least = right_of_face(points, np.asarray(mask).shape), LONG_HAIR_WIDTH * inter_ocular(points)
    return bool(held[right].sum() >= least and held[~right].sum() >= least)


def long_hair_below(
    lab: np.ndarray, person: np.ndarray, mask: np.ndarray, points: np.ndarray, skin: np.ndarray, texture: np.ndarray
) -> np.ndarray:
    """(H, W) bool: long hair below the hair `mask`'s head band (from `band_row`), down to the crop's edge: the person's
    pixels (`person`: the segmenter's probability) there, off the face and the neck (the columns between the jaw's
    angles), of the colour of the mask's hair in its last LONG_HAIR_SAMPLE d above the band's row (HAIR_DISTANCE:
    `colour_distance`), not of the face's `skin` colour (`skin_like`; `skin`: the (N, 3) L*a*b* skin samples), with
    strands' texture (`with_strands` of those last rows: a jacket or a shirt of the hair's colour is smoother), the gaps
    between strands closed (LOCK_GAP, as the mask's own), joined to those last rows."""
    shape = mask.shape
    row = band_row(points)
    ys, xs = np.mgrid[: shape[0], : shape[1]]
    last = (mask > 0) & (ys >= row - LONG_HAIR_SAMPLE * inter_ocular(points)) & (ys < row)
    if last.sum() < MIN_TEMPLE_PIXELS:
        return np.zeros(shape, bool)
    left, right = sorted(points[JAW_ANGLES, 0])
    off_face = (person > PERSON_THRESHOLD) & ~((xs > left) & (xs < right)) & (face_hull(points, shape) == 0)
    region = (ys >= row) & off_face
    where = np.nonzero(region & with_strands(texture, last))
    if not len(where[0]):
        return np.zeros(shape, bool)
    pixels = lab[where]
    candidate = np.zeros(shape, bool)
    candidate[where] = (colour_distance(pixels, lab[last]) < HAIR_DISTANCE) & ~skin_like(
        pixels, skin_chromaticity(pixels, skin), skin
    )
    # the gaps between strands (a strand's shadow, a smooth lit lock) within the region, as the mask's own closing, and
    # across the band's row, where the mask's own opening and closing left a seam a pixel or two high
    seam = off_face & (ys >= row - LOCK_GAP) & (ys < row)
    candidate = (closed_in_box((candidate | last).astype(np.uint8), LOCK_GAP) > 0) & (region | seam)
    return candidate & joined(candidate | last, last)


def hair_mask(
    rgb: np.ndarray, person: np.ndarray, points: np.ndarray, keep_out: np.ndarray | None = None, monochrome: bool = False
) -> np.ndarray:
    """(H, W) uint8 hair mask of an aligned face: person minus face, within the head's band, not skin-coloured,
    with the hair's margin inside the face's outline that goes on from it (`hair_margin`; `keep_out`: pixels it must
    not take, a glasses' frame; `monochrome`: a black-and-white photo, as `hair_mask_and_tips` reads it).

    Empty (all zeros) when what is left is under MIN_HAIR_SHARE of the image: the caller says the
    hair stage was skipped.
    """
    return hair_mask_and_tips(rgb, person, points, keep_out, monochrome)[0]


def hair_coloured_bays(
    lab: np.ndarray, hair: np.ndarray, allowed: np.ndarray, d: float, hat: np.ndarray | None = None
) -> np.ndarray:
    """(H, W) bool: the pixels under `allowed` in the bays of the `hair` mask up to BAY_WIDTH `d` wide (what closing
    it by a disk that wide adds) whose L*a*b* colour (`lab`) is the hair's: within HAIR_DISTANCE of the mask's, and
    nearer it than the colour of a `hat`'s (N, 3) pixels when there is one (white hair under a black cap has a broad
    colour, and its bays reached into the cap)."""
    # Closed at half the resolution (a bay is tens of pixels wide; at full resolution the closing took 19 ms), with the
    # border padded with no hair (a closing takes what lies beyond the frame for set, and filled the gap between the mask
    # and the frame's edge as a bay). What that adds back at full resolution is opened by a 3 px square: the halving's
    # rounding leaves a rim a pixel wide along the mask's whole edge, which is no bay (the mask's even size, the aligned
    # crop's 512 px, keeps the halving's 2x2 blocks aligned).
    hair = np.asarray(hair, bool)
    half = (cv2.resize(hair.astype(np.float32), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) >= 0.5).astype(np.uint8)
    size = int(round(BAY_WIDTH * d / 2)) | 1
    closed = closed_in_box(np.pad(half, size), size)[size:-size, size:-size]
    closed = cv2.resize(closed, hair.shape[::-1], interpolation=cv2.INTER_NEAREST)
    added = ((closed > 0) & ~hair).astype(np.uint8)
    bays = (cv2.morphologyEx(added, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0) & allowed
    found = np.zeros(hair.shape, bool)
    if bays.any() and hair.sum() > 3:  # a colour's Gaussian needs a few samples
        samples = lab[hair][:: max(1, int(hair.sum()) // BAY_COLOUR_SAMPLES)]
        distance = colour_distance(lab[bays], samples)
        like = distance < HAIR_DISTANCE
        if hat is not None and len(hat) > 3:
            like &= distance < colour_distance(lab[bays], hat)
        found[bays] = like
    return found


def hair_mask_and_tips(
    rgb: np.ndarray,
    person: np.ndarray,
    points: np.ndarray,
    keep_out: np.ndarray | None = None,
    monochrome: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """`hair_mask`, and (H, W) bool: the pixels of it that are a fringe's tips over the forehead (`fringe_tips`): hair
    over skin, each partly the one and partly the other (the hair stage reads how much of each from its colour).
    `monochrome`: `rgb` is a black-and-white photo (the caller tells), whose skin-light surfaces the mask's closings do
    not bridge."""
    shape = rgb.shape[:2]
    d = inter_ocular(points)
    face = face_hull(points, shape)
    grown_face = cv2.dilate(face, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    brows_top = points[[*RIGHT_BROW, *LEFT_BROW], 1].min()
    ys, xs = np.mgrid[: shape[0], : shape[1]]
    # outside the face oval, or inside it above the brows (a fringe): the colour test below keeps skin out
    open_face = (grown_face == 0) | (ys < brows_top - 0.15 * d)
    # and the hair's margin inside the outline (temples, sideburns), taken by the same tests and strands' texture and
    # joined to the mask at the end (`hair_margin`)
    # and deeper, where a margin that reaches the zone's inner line goes on (MARGIN_GROWTH)
    zone, deeper = margin_zones(rgb, points, keep_out, (MARGIN_REACH, MARGIN_GROWTH))
    zone &= ~open_face
    deeper &= ~open_face & ~zone
    candidate = (person > PERSON_THRESHOLD) & (open_face | zone | deeper)
    # the head's band: hair above the chin and at most 1.2 inter-ocular distances beside the face oval;
    # below the chin the person is mostly neck and clothes (long hair there is followed down apart: `long_hair_below`)
    oval = points[FACE_OVAL]
    band = (ys < band_bottom(points)) & (xs > oval[:, 0].min() - 1.2 * d) & (xs < oval[:, 0].max() + 1.2 * d)
    candidate &= band
    # colour: skin statistics from the cheeks and forehead inside the face oval; the colour tests look at the
    # candidate's pixels alone (nothing else can be hair)
    lab = to_lab(rgb)
    skin = lab[face > 0]
    where = np.nonzero(candidate)
    pixels = lab[where]
    skin_chroma = np.zeros(shape, bool)
    skin_chroma[where] = skin_chromaticity(pixels, skin)
    skin_coloured = np.zeros(shape, bool)
    skin_coloured[where] = skin_like(pixels, skin_chroma[where], skin)
    candidate &= ~skin_coloured
    # hair colour: what the candidate holds above the brows beside and over the face's outline, where it is almost
    # surely hair; clothes and background caught beside the face are kept out unless they share that colour. Not
    # from inside the outline: a shiny forehead taken in there became "hair colour" and kept itself in the mask
    outside = grown_face == 0
    crown = candidate & (ys < brows_top) & outside
    sides = candidate & outside & temples(points, shape)
    texture = photo_texture(rgb)  # `fine_texture` of `lab`'s lightness
    seeds, hat = hair_seeds(lab, crown, sides, texture)
    eye_line = float(points[[*RIGHT_EYE, *LEFT_EYE], 1].mean())
    # between the eyes and the mouth corners
    cheeks = face.astype(bool) & (ys > eye_line) & (ys < points[[RIGHT_MOUTH, LEFT_MOUTH], 1].mean())
    if seeds.sum() > 50:
        where = np.nonzero(candidate)
        pixels = lab[where]
        hair_distance = colour_distance(pixels, lab[seeds])
        kept = hair_distance < HAIR_DISTANCE
        # a sheen on the skin by the hairline: lighter than nearly all the hair, and smooth (see SHEEN_TEXTURE)
        lightest, strands = np.percentile(lab[..., 0][seeds], SHEEN_PERCENTILE), np.median(texture[seeds])
        kept &= ~((pixels[:, 0] > lightest) & (texture[where] < SHEEN_TEXTURE * strands))
        if hat:  # the hair's Gaussian is broad (white hair in shade, at a glasses' arm): nearer the hat's is hat
            kept &= hair_distance < colour_distance(pixels, lab[crown])
        # inside the face's outline (a fringe's place) a pixel nearer the cheeks' colour than the hair's is skin:
        # a shiny forehead (Obama's) or one in a cap's shade (Hopper's) passes the chroma test above. Not in a
        # black-and-white photo, where the two colours are two lightnesses and the cheeks' spread is the face's
        # shading: the camera operator's dark locks over his forehead (L 65 on average, his cheeks' L 83-196, his
        # hair's 27 +- 19) read nearer his cheeks, and a quarter of them stayed a dark clump among his greyed hair at
        # 70-80 (looked at 2x and 4x; the skin tests above still keep out what is as light as his skin)
        inside = grown_face[where] > 0
        if inside.any() and cheeks.sum() > 50 and not monochrome:
            kept[inside] &= hair_distance[inside] < colour_distance(pixels[inside], lab[cheeks])
        candidate[where] = kept
    # the margin's pixels: those with strands' texture (see SHEEN_TEXTURE); the rest of the mask is found without them
    margin = further = None
    if seeds.sum() > 50:
        textured = with_strands(texture, seeds)
        margin, further = candidate & zone & textured, candidate & deeper & textured
    candidate &= ~(zone | deeper)
    # the ears join the face's skin: its outline, or the skin beside it that FaceMesh's outline leaves out on a turned
    # face (between her outline and her ear, 0.3 d of a group photo's woman's cheek). Not in a black-and-white photo,
    # where "skin" is a lightness, which lit hair beside the face has too: the camera operator's sideburn joined his
    # ear through it, and a lock of it stayed dark in his greyed hair at 80 (looked at 2x)
    joined_skin = grown_face if monochrome else skin_beside_outline(grown_face, skin_coloured, d)
    # where an ear joins the head: below the oval's points level with its join (EAR_JOIN), above the jaw's angles (the
    # neck's skin below them, joined to the face's, is no ear's: light hair against it would be cut out with it)
    joins = side_rows(points, shape, EAR_JOIN) & ~side_rows(points, shape, (JAW_ANGLES[0], JAW_ANGLES[1]))
    ears = ear_like(lab, candidate, joined_skin, skin_chroma, joins, side_rows(points, shape, EAR_TOP))
    candidate &= ~ears
    mask = candidate.astype(np.uint8)
    speck = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, speck)
    # what the closings below must not bridge: in a black-and-white photo the colour tests tell skin by its lightness
    # alone, and a skin-light surface between dark hair and a shadow is skin, not a gap between locks (the rim of the
    # camera operator's ear, between his hair and the shadow in its fold, was taken in and turned white at 70-80:
    # looked at 3x). A surface: what the speck opening leaves of the skin-light pixels (a lit strand or two among the
    # locks is still bridged), and a skin-light region the hair encloses is still filled as a hole below; one that opens
    # out of the hair (a highlight at the crown's edge) is no longer bridged on such a photo. In colour, grey hair lit
    # warm reads as skin too (the packaged obama2's temple: left out, it stayed grey at 10), and is bridged as before
    unbridged = np.zeros(shape, bool)
    if monochrome:
        unbridged = cv2.morphologyEx(skin_coloured.astype(np.uint8), cv2.MORPH_OPEN, speck) > 0
    # close the gaps left by deep shadows between locks, within the person
    closed = closed_in_box(mask, LOCK_GAP) & ~unbridged
    mask = closed.astype(bool) & (person > PERSON_THRESHOLD) & open_face & band
    # holes: enclosed regions, and those opening out only through a gap narrower than HOLE_GAP inter-ocular
    # distances (a highlight on the crown's edge), within the person
    gap = int(round(HOLE_GAP * d)) | 1
    bridged = closed_in_box(mask.astype(np.uint8), gap) & ~unbridged
    allowed = (person > PERSON_THRESHOLD) & band & open_face
    mask = (fill_holes(mask.astype(np.uint8), top_closed=True) | (fill_holes(bridged, top_closed=True) & allowed)) & allowed
    mask = (mask > 0) | hair_coloured_bays(
        lab, mask > 0, allowed & (grown_face == 0) & ~unbridged & ~ears, d, lab[crown] if hat else None
    )
    untipped = mask > 0
    mask = fringe_tips(lab[..., 0], mask, grown_face > 0, int(round(brows_top - FRINGE_REACH * d)), int(round(brows_top)))
    if hat:  # what is left of it above the hair (a cap's white top) is no hair
        mask = below(mask, brows_top - 0.15 * d)
    mask = without_specks(mask.astype(np.uint8), eye_line)
    tips = (mask > 0) & ~untipped  # the fringe's tips: hair over the forehead's skin (the long hair below is hair in full)
    # long hair runs on below the band: followed down to the crop's edge (not in a black-and-white photo, where the
    # hair's colour is a lightness, which a dark jacket or the shade beside the neck has too)
    if not monochrome and runs_below_the_band(mask, points):
        mask = ((mask > 0) | long_hair_below(lab, person, mask, points, skin, texture)).astype(np.uint8)
    if mask.mean() < MIN_HAIR_SHARE:
        return np.zeros(shape, np.uint8), np.zeros(shape, bool)
    return (mask if margin is None or further is None else hair_margin(lab, mask, margin, zone, further, deeper)), tips


def margin_zones(
    rgb: np.ndarray, points: np.ndarray, keep_out: np.ndarray | None, reaches: tuple[float, ...]
) -> list[np.ndarray]:
    """For each of `reaches`: where the hair can lie inside the face's outline, below the forehead's top that
    `hair_mask` already reads: that many inter-ocular distances in from the outline (MARGIN_REACH, MARGIN_GROWTH), down
    to MARGIN_BELOW below the eyes (the temples, the sideburns, the forehead's edge), less the brows (`brow_mask`), the
    eyes (their outlines grown by EYE_GROWTH) and `keep_out` (a glasses' frame, found by the caller); the outline's
    depth and what is kept out found once."""
    shape = rgb.shape[:2]
    d = inter_ocular(points)
    inside = cv2.dilate(face_hull(points, shape), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    depth = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    eye_line = float(points[[*RIGHT_EYE, *LEFT_EYE], 1].mean())
    ys = np.arange(shape[0])[:, None]
    kept_out = grown_eyes(points, shape) | (brow_mask(rgb, points) != 0)
    if keep_out is not None:
        kept_out |= keep_out > 0
    zones = []
    for reach in reaches:
        zone = (inside > 0) & (depth <= reach * d) & (ys < eye_line + MARGIN_BELOW * d)
        zones.append(zone & ~kept_out)
    return zones


def grown_eyes(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: the eyes' outlines grown by EYE_GROWTH inter-ocular distances (lashes, the lids' shade)."""
    outlines = np.zeros(shape, np.uint8)
    for outline in (RIGHT_EYE, LEFT_EYE):
        cv2.fillConvexPoly(outlines, cv2.convexHull(np.round(points[outline]).astype(np.int32)), 1)
    size = max(3, int(round(2 * EYE_GROWTH * inter_ocular(points))) | 1)
    return cv2.dilate(outlines, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))) > 0


def hair_beside_face(rgb: np.ndarray, person: np.ndarray, points: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: where hair shows beside the face, whether or not `mask` (the hair mask) holds it: the person's
    pixels within MARGIN_REACH inter-ocular distances of FaceMesh's outline on either side of it, from the forehead's
    top that `hair_mask` reads (0.15 d above the brows) to MARGIN_BELOW below the eyes, beside the brows' outer ends
    (not the forehead between them), less the brows and the eyes (`grown_eyes`), with strands' fine texture
    (SHEEN_TEXTURE of the mask's median: skin, a sheen and a plain background have less). The hair stage compares the
    grey hair here with the grey hair its mask holds on each side of the face (hair.uncovered_side)."""
    shape = rgb.shape[:2]
    if not mask.any():
        return np.zeros(shape, bool)
    d = inter_ocular(points)
    hull = face_hull(points, shape)
    inside = cv2.distanceTransform(hull, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    outside = cv2.distanceTransform((hull == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ys, xs = np.mgrid[: shape[0], : shape[1]]
    brows = points[[*RIGHT_BROW, *LEFT_BROW]]
    eye_line = float(points[[*RIGHT_EYE, *LEFT_EYE], 1].mean())
    rows = (ys > float(brows[:, 1].min()) - 0.15 * d) & (ys < eye_line + MARGIN_BELOW * d)
    beside = (xs < float(brows[:, 0].min())) | (xs > float(brows[:, 0].max()))
    band = (inside <= MARGIN_REACH * d) & (outside <= MARGIN_REACH * d) & rows & beside & (person > PERSON_THRESHOLD)
    band &= ~grown_eyes(points, shape) & (brow_mask(rgb, points) == 0)
    texture = photo_texture(rgb)
    return band & with_strands(texture, mask > 0)


def local_hair_distance(lab: np.ndarray, mask: np.ndarray, reach: float) -> np.ndarray:
    """(H, W) float32: each pixel's distance in L*a*b* from the hair of `mask` around it: the offset from the local
    mean of the mask's pixels (weighted by a Gaussian of sigma `reach` px: the nearest ones count most) in units of
    their local spread per channel (with COVARIANCE_FLOOR added to each variance), as a Mahalanobis distance with a
    diagonal covariance; infinite where the Gaussian reaches no mask pixel."""
    inside = (mask > 0).astype(np.float32)
    weight = cv2.GaussianBlur(inside, (0, 0), reach)
    total = np.zeros(mask.shape, np.float32)
    for channel in range(3):
        values = lab[..., channel]
        mean = cv2.GaussianBlur(values * inside, (0, 0), reach) / np.maximum(weight, 1e-6)
        square = cv2.GaussianBlur(values * values * inside, (0, 0), reach) / np.maximum(weight, 1e-6)
        variance = np.maximum(square - mean * mean, 0) + COVARIANCE_FLOOR
        total += (values - mean) ** 2 / variance
    return np.where(weight > 1e-9, np.sqrt(total), np.inf).astype(np.float32)


def hair_margin(
    lab: np.ndarray,
    mask: np.ndarray,
    margin: np.ndarray,
    zone: np.ndarray,
    further: np.ndarray | None = None,
    deeper: np.ndarray | None = None,
) -> np.ndarray:
    """`mask` with the pixels of `margin` (the hair's margin inside the face's outline: `margin_zones`' pixels that
    pass `hair_mask`'s colour tests and have strands' texture) that have the colour of the mask's hair nearest them
    (within HAIR_DISTANCE: `local_hair_distance` over MARGIN_LOCAL px), with the gaps between them closed (MARGIN_GAP,
    within the margin's `zone`), joined to the mask through such pixels; and the pixels of `further` (the same
    pixels in `deeper`, the band beyond `zone` out to MARGIN_GROWTH) that pass the same test, joined to the margin
    where it reaches `zone`'s inner line (not to the mask by any other way).
    White hair over the temples goes on white, a dark sideburn dark; the face's side in shade beside dark hair, which
    the colour tests alone take for brown hair, is lighter than it."""
    further = np.zeros(mask.shape, bool) if further is None or deeper is None else further > 0
    deeper = np.zeros(mask.shape, bool) if deeper is None else deeper
    candidates = (margin > 0) | further
    # measured in the candidates' box only, grown by the Gaussian's reach: within it the same as over the whole image
    box = support_box(candidates, LOCAL_REACH)
    if box is None:
        return mask
    near = np.zeros(mask.shape, bool)
    near[box] = local_hair_distance(lab[box], mask[box], MARGIN_LOCAL) < HAIR_DISTANCE
    # the gaps between strands, within the zone and the band: a strand's shadow is hair too (the hair stage reads each
    # pixel's colour)
    gap = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (MARGIN_GAP, MARGIN_GAP))
    taken = (cv2.morphologyEx((candidates & near).astype(np.uint8), cv2.MORPH_CLOSE, gap) > 0) & (zone | deeper)
    inner = taken & zone
    count, labels = cv2.connectedComponents((inner | (mask > 0)).astype(np.uint8), connectivity=8)
    joined = np.unique(labels[mask > 0])
    inner &= np.isin(labels, joined[joined > 0])
    # the deeper band's parts, joined to that margin (through the band and the margin, never through the mask)
    beyond = taken & deeper
    count, labels = cv2.connectedComponents((inner | beyond).astype(np.uint8), connectivity=8)
    reached = np.unique(labels[inner])
    grown = beyond & np.isin(labels, reached[reached > 0])
    if grown.any():  # with its soft edge (MARGIN_SOFT_EDGE), within the band
        edge = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * MARGIN_SOFT_EDGE + 1, 2 * MARGIN_SOFT_EDGE + 1))
        grown = (cv2.dilate(grown.astype(np.uint8), edge) > 0) & deeper
    hair = (mask > 0) | inner | grown
    # a gap the margin and the mask enclose between them, narrower than MARGIN_GAP, is hair too: the mask is closed
    # before the margin joins it, and the margin only within itself, so a strand of the margin in deep shade (smooth,
    # without strands' texture) by the outline stayed a line of the hair's own colour between the two (the astronaut's
    # temple: 1-2 px wide, 48 px long, a dark line down her greyed hair at 70-80, looked at 3x)
    # narrow or wide as a whole hole (a wide one reaching into the zone has a narrow slice there: it stays as it is)
    holes = (fill_holes(hair.astype(np.uint8)) > 0) & ~hair
    count, labels = cv2.connectedComponents(holes.astype(np.uint8), connectivity=8)
    wide = np.unique(labels[cv2.morphologyEx(holes.astype(np.uint8), cv2.MORPH_OPEN, gap) > 0])  # a disk fits in them
    return (hair | (holes & ~np.isin(labels, wide) & (zone | deeper))).astype(np.uint8)


# Background replacement of training faces, as the lifespan method's published training data had
# them replaced (it used CarveKit's matting, whose weights no package ships). Fills: grey as the published training data loader pads (128, 128, 128), black, or
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
