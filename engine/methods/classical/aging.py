"""A data-free lifespan model: the signs of age people read, drawn on an aligned face from its landmarks.

What an observer reads as age is mostly texture and colour, so most of the work is there:
- hair and eyebrows grey along the published canities curve (greying fraction by age; the strands
  themselves are drawn in engine/methods/classical/hair.py);
- older skin gains age spots (solar lentigines) and uneven, less rosy pigmentation;
- younger skin is smoothed and evened, brightened, and the beard shadow is matched to the cheeks;
- a child's face takes the cardioidal strain of craniofacial growth run backwards, and a child's photo grown older
  the same growth run forwards (shape as support).

Pure maths (`grey_fraction`, `cardioidal_strain`, `growth_strain`) has no image I/O; the image
operations take and return (H, W, 3) uint8 RGB arrays in the aligned 512 px frame.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import cv2
import numpy as np

from engine.core.memo import memo
from engine.core.pixels import chosen, from_lab, to_lab, to_uint8
from engine.faces.segmentation import EAR_TOP, fill_holes, side_rows
from engine.faces.zones import (
    JAW_ANGLES,
    LEFT_BROW,
    LEFT_EYE,
    RIGHT_BROW,
    RIGHT_EYE,
    SUBNASALE,
    face_hull,
    inter_ocular,
    support_box,
)
from engine.methods.classical.hair import grey_hair as grey_hair  # strand greying lives in hair.py
from engine.methods.classical.hair import is_monochrome
from engine.methods.classical.shape import smoothstep

# Canities: the mean onset of greying at 34 +/- 9.6 years in people of European descent (Tobin and Paus 2001, Exp
# Gerontol 36:29), and how many people are half grey at 50: not half of them, as the "50-50-50" rule of thumb has it
# (Keogh and Walsh 1965), but 6-23 % by ethnic or geographical origin and natural hair colour in a survey of 4192 people
# (Panhard, Lozano and Loussouarn 2012, Br J Dermatol 167:865). The survey found people of Asian and African descent
# greyer later than Caucasians; which group is the 23 % its abstract does not say: the range's upper end is taken, an
# assumption for people of European descent, whose onset is the one above. Each person's curve is the mean one shifted
# by their onset's offset (spread GREY_ONSET_SD_YEARS, as the pluralistic futures draw it), so the mean curve's midpoint
# lies z years of that spread past 50, where Phi(-z) = 0.23: about 57 years. A logistic through 50 % there and 10 % at
# the mean onset of 34 years. It still greys more than the survey's mean, 27 % grey between 45 and 65 years among the
# 74 % of people with any.
HALF_GREY_AT_50 = 0.23
GREY_ONSET_YEARS = 34.0
GREY_ONSET_SD_YEARS = 9.6  # the spread of onset between people (Tobin and Paus 2001): pluralistic futures
GREY_MIDPOINT_YEARS = 50.0 + NormalDist().inv_cdf(1.0 - HALF_GREY_AT_50) * GREY_ONSET_SD_YEARS  # about 57.1
GREY_SCALE_YEARS = (GREY_MIDPOINT_YEARS - GREY_ONSET_YEARS) / math.log(9.0)  # 10 % at onset -> about 10.5 years
BROW_LAG_YEARS = 10.0  # eyebrows grey later than scalp hair (Tobin and Paus 2001); the lag itself from looking
# ... and seldom all the way: of 1545 patients graded for eyebrow whitening (Med Sci Monit 2014, PMC3907512: "eyebrow and eyelash
# whitening" as an age estimation parameter; mean age 42), none whitened before 41-50; the mean age was 63 at level 3 (10 strands
# up to 2/3 of the brow white) and 69 at level 4 (over 3/4 white), which only 0.8 % of the whole sample reached. A brow's white
# share follows the lagged canities curve up to level 3's bound, a chosen ceiling (the paper grades brows, it does
# not give their white share by age): old brows are white hairs among pigmented ones.
BROW_GREY_CEILING = 2.0 / 3.0

# Solar lentigines: rare before 40, present in over 90 % of fair-skinned people over 60 (Bastiaens et
# al. 2004, J Invest Dermatol 123:1079 report a strong rise with age). Count per face and size from looking.
LENTIGO_ONSET_YEARS = 40.0
LENTIGO_MAX_COUNT = 14  # spots on a face at 80
LENTIGO_RADIUS = (0.03, 0.08)  # in inter-ocular distances

# Craniofacial growth as cardioidal strain (Pittenger and Shaw 1975; Todd, Mark, Shaw and Pittenger
# 1980): in polar coordinates about the head's centre with theta = 0 straight up, R' = R (1 + k (1 - cos
# theta)). The lower face grows most (theta = pi), the cranium least. GROWTH_STRAIN_AT_BIRTH is the
# strain between a newborn's proportions and an adult's, set so that at 5 years the chin's distance
# from the brows is about 85 % of the adult's relative to the cranium (Farkas 1994 anthropometric
# tables: face height about 80 % of adult size at 5, head circumference about 93 %): 2k(5) = -0.15
# with 60 % of growth still to come -> k at birth about 0.12. The share of growth still to come
# follows the slowing of facial growth through childhood to adult size near 18 years (face height
# about 95 % of adult size by 14, Farkas).
GROWTH_STRAIN_AT_BIRTH = 0.12
GROWTH_END_YEARS = 18.0
GROWTH_POWER = 1.6  # share of growth left, (1 - age/18)^1.6: about 60 % at 5 years (as above), 27 % at 10, 9 % at 14

# Younger skin (from looking): brighter by a share of its light, and how far the lower face's low frequencies move
# toward the cheeks' (beard shadow). The share is 6 lightness levels (8-bit) on the astronaut's cheek (L* 71), where it
# was chosen by looking, taken as a gain in reflectance (linear luminance, every channel alike: `brighter`). As a fixed
# 6 levels of L* with a* and b* kept, it lifted darker skin twice as much in relative luminance (Obama's 2009 portrait,
# L* 54: +22 % against the astronaut's +9 %) and paled it, and his young targets read lighter-skinned. The direction:
# facial skin darkens with age in each of four groups, African-American, Caucasian, Chinese and Mexican women (de Rigal
# et al. 2010, Skin Res Technol 16:168, forehead and cheek, 19-87 years); the size is from looking.
YOUNG_REFLECTANCE_GAIN = 0.083
BEARD_MATCH = 0.85
# A lift toward white cannot take a colour past it: from this value (8-bit) of a colour's brightest sRGB channel the
# lift tapers off to none at 255 (`lift_taper`; younger skin's brightening, `highlight_lift`, and the teeth's
# lightening, teeth.py), and no colour is made darker. Lifted in full, the lit forehead of obama2 clipped in red at 10 (3 %
# of his face's skin, 2 % of the astronaut's): a flat orange patch without its shading; a quarter of the astronaut's
# teeth turned flat white at 5 (looked at). Where the taper starts is from looking; over it the highlights keep two
# thirds of their contrast or more (the skin's curve's slope is 0.65 at the least, at a gain of 1.083)
LIFT_TAPER_FROM = 220.0
# Stubble darkens the skin by a few lightness levels; a lower face much darker than the cheeks is in shadow
# (lighting from above, an open mouth), which lifting would turn into a pale patch: the lift stops here
# (from looking, on the packaged portraits of darker skin).
BEARD_MAX_LIFT = 10.0


def grey_fraction(age: float, onset_shift: float = 0.0) -> float:
    """Share of scalp hair that is grey at `age` (0-1), along the canities logistic; `onset_shift` years
    later (> 0) or earlier (< 0) for a person whose greying starts off the mean."""
    if not 0 <= age <= 120:
        raise ValueError(f"age must be between 0 and 120, got {age}")
    return 1.0 / (1.0 + math.exp(-(age - GREY_MIDPOINT_YEARS - onset_shift) / GREY_SCALE_YEARS))


def added_grey(source_age: float, target_age: float, onset_shift: float = 0.0, lag: float = 0.0, ceiling: float = 1.0) -> float:
    """Share of the hair still pigmented at `source_age` that is grey by `target_age` (0 for a younger target:
    `regained_pigment` gives grey hair its colour back). `ceiling` (0-1): the grey share the curve tends to late in
    life (the eyebrows': BROW_GREY_CEILING); `regained_pigment`, a ratio of two grey shares, does not depend on it."""
    if not 0 < ceiling <= 1:
        raise ValueError(f"the grey share's ceiling must be in (0, 1], got {ceiling}")
    before = ceiling * grey_fraction(source_age, onset_shift + lag)
    after = ceiling * grey_fraction(target_age, onset_shift + lag)
    if after <= before:
        return 0.0
    return (after - before) / (1.0 - before)


def regained_pigment(source_age: float, target_age: float, onset_shift: float = 0.0, lag: float = 0.0) -> float:
    """Share of the hair grey at `source_age` that is still pigmented at the younger `target_age` (0-1): the
    canities curve run backwards, 1 - g(target) / g(source) (0 for an older target, or no grey at the source)."""
    before = grey_fraction(source_age, onset_shift + lag)
    after = grey_fraction(target_age, onset_shift + lag)
    if after >= before or before <= 0:
        return 0.0
    return 1.0 - after / before


def remaining_growth(age: float) -> float:
    """Share of craniofacial growth still to come at `age` (1 at birth, 0 from GROWTH_END_YEARS)."""
    if age < 0:
        raise ValueError(f"age must be at least 0, got {age}")
    return max(0.0, 1.0 - age / GROWTH_END_YEARS) ** GROWTH_POWER


def growth_strain(source_age: float, target_age: float) -> float:
    """The cardioidal strain k taking a face at `source_age` to `target_age` (< 0 toward a child)."""
    return GROWTH_STRAIN_AT_BIRTH * (remaining_growth(source_age) - remaining_growth(target_age))


def cardioidal_strain(points: np.ndarray, origin: np.ndarray, k: float) -> np.ndarray:
    """Points moved by cardioidal strain about `origin` (image coordinates, y down; theta = 0 is straight up):
    R' = R (1 + k (1 - cos theta)), theta kept."""
    offset = np.asarray(points, np.float64) - origin
    radius = np.hypot(offset[..., 0], offset[..., 1])
    cos_theta = np.where(radius > 0, -offset[..., 1] / np.maximum(radius, 1e-12), 1.0)  # up is -y
    return origin + offset * (1.0 + k * (1.0 - cos_theta))[..., None]


def strain_origin(points: np.ndarray) -> np.ndarray:
    """The strain's centre on a frontal face: between the eyes, raised to the brows (about a third of the
    inter-ocular distance), so the cranium and forehead change least and the jaw most."""
    eyes = (points[RIGHT_EYE].mean(0) + points[LEFT_EYE].mean(0)) / 2
    return eyes - np.array([0.0, 0.35 * inter_ocular(points)])


def _low_pass(image: np.ndarray, sigma: float) -> np.ndarray:
    """A wide Gaussian blur computed at a quarter of the size (what it keeps has no fine detail) and resized back."""
    height, width = image.shape[:2]
    small = cv2.resize(image, (width // 4, height // 4), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma / 4), (width, height), interpolation=cv2.INTER_LINEAR)


def skin_weight(skin: np.ndarray, sigma: float) -> np.ndarray:
    """`skin` blurred by `sigma` px as float32 (read-only): the stages' feathered weight, computed once per mask
    (every target of a strip, and several stages, blur the same skin by the same amount)."""
    return memo("skin_weight", (skin, sigma), lambda: cv2.GaussianBlur(skin.astype(np.float32), (0, 0), sigma))


def lentigo_share(age: float) -> float:
    """Share (0-1) of their extent at 80 that age spots and uneven pigmentation have reached at `age`."""
    return min(max((age - LENTIGO_ONSET_YEARS) / (80.0 - LENTIGO_ONSET_YEARS), 0.0), 1.0)


SPOT_BLOCK = 64  # places drawn at a time
SPOT_TRIES = 64 * SPOT_BLOCK  # places drawn over the face for its spots at most: a face's skin, a tenth of the crop or
# more, takes 400 of them on average, far more than LENTIGO_MAX_COUNT


def spot_places(skin: np.ndarray, count: int, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """Up to `count` (x, y, n) places on `skin` (H, W, nonzero: skin): the first of a fixed sequence of places drawn
    uniformly over the whole frame (SPOT_BLOCK at a time, at most SPOT_TRIES) that fall on skin, each with its number n in
    that sequence (its spot's shape is drawn from it, `age_spots`): a mask that changes by a few pixels moves only the
    spots drawn on those pixels, and every other spot keeps its place and its shape. (Picking among the skin's pixels by
    index moved every spot when one pixel of the mask changed: the index then names another pixel.) Fewer than `count`
    where the skin is too small for SPOT_TRIES draws to find them."""
    height, width = skin.shape[:2]
    places: list[tuple[int, int, int]] = []
    for block in range(SPOT_TRIES // SPOT_BLOCK):
        if len(places) >= count:
            break
        xs, ys = rng.integers(0, width, SPOT_BLOCK), rng.integers(0, height, SPOT_BLOCK)
        places += [(int(x), int(y), block * SPOT_BLOCK + i) for i, (x, y) in enumerate(zip(xs, ys)) if skin[y, x]]
    return places[:count]


def age_spots(face: np.ndarray, skin: np.ndarray, points: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Solar lentigines and uneven pigmentation on the skin at `share` (0-1, see `lentigo_share`)."""
    if share <= 0:
        return face.copy()
    d = inter_ocular(points)
    height, width = face.shape[:2]
    pigment = np.zeros((height, width), np.float32)
    # uneven tone: low-frequency mottling (cells about a fifth of the inter-ocular distance), drawn at a
    # quarter of the size (it has no fine detail) and resized up
    small = rng.standard_normal((height // 4, width // 4)).astype(np.float32)
    mottle = np.asarray(
        cv2.resize(cv2.GaussianBlur(small, (0, 0), 0.05 * d), (width, height), interpolation=cv2.INTER_LINEAR), np.float32
    )
    mottle /= max(float(np.abs(mottle).max()), 1e-6)
    pigment += 0.35 * share * np.maximum(mottle, 0)
    # spots: irregular blobs (a few overlapping Gaussians), on sun-exposed skin (cheeks, temples, forehead)
    # the places from a stream of their own, and each spot's shape from its place's number in that stream's sequence
    where, shapes = rng.spawn(2)
    base = int(shapes.integers(2**62))
    for cx, cy, number in spot_places(skin, int(round(LENTIGO_MAX_COUNT * share)), where):
        spot = np.random.default_rng([base, number])
        radius = d * spot.uniform(*LENTIGO_RADIUS)
        half = int(np.ceil(2.5 * radius)) + 2  # the blob and its blur fit in this window
        x0, y0 = int(cx) - half, int(cy) - half
        blob = np.zeros((2 * half, 2 * half), np.float32)
        for _ in range(3):
            ox, oy = spot.normal(0, 0.5 * radius, 2)
            cv2.ellipse(
                blob,
                (int(round(cx + ox)) - x0, int(round(cy + oy)) - y0),
                (max(1, int(radius * spot.uniform(0.6, 1.0))), max(1, int(radius * spot.uniform(0.5, 0.9)))),
                float(spot.uniform(0, 180)),
                0,
                360,
                1.0,
                -1,
            )
        blob = cv2.GaussianBlur(blob, (0, 0), 0.4 * radius) * spot.uniform(0.5, 1.0) * share
        ys0, xs0 = max(y0, 0), max(x0, 0)
        ys1, xs1 = min(y0 + 2 * half, height), min(x0 + 2 * half, width)
        window = pigment[ys0:ys1, xs0:xs1]
        np.maximum(window, blob[ys0 - y0 : ys1 - y0, xs0 - x0 : xs1 - x0], out=window)
    pigment *= skin_weight(skin, 0.05 * d)
    box = support_box(pigment)  # the colour changes only where there is pigment: converted only there
    if box is None:
        return face.copy()
    region, pigment = face[box], pigment[box]
    lab = to_lab(region)
    # melanin darkens and warms: L down, a* and b* up (brown), amounts from looking
    lab[..., 0] -= 22.0 * pigment
    lab[..., 1] += 5.0 * pigment
    lab[..., 2] += 10.0 * pigment
    out = face.copy()
    out[box] = from_lab(lab, region, pigment)
    return out


MONOCHROME_NOTE = (  # the manifests' entry for a black-and-white photo
    "a black-and-white photo: every change acts on lightness only (age spots, creases and grey hair as shades of "
    "grey; the changes of hue alone, sallower skin, paler or redder lips, rosier cheeks, are left out)"
)
MONOCHROME_TONE_SIGMA = 4.0  # px: a toned black-and-white photo's tint is taken this smooth (the shape warps move a few px)


# The neck (from looking at the packaged portraits): skin below the face's outline, as far out as the jaw's angles,
# whose a*b* is within NECK_COLOUR_DISTANCE of the face's skin (a collar, a tie, a dark suit or the background is
# further) and at least NECK_MIN_LIGHTNESS of its lightness (the shadow under the chin is skin too), in parts touching
# the outline. Spots, sallowness and mottling reach it, so an aged face does not sit on a young neck.
NECK_COLOUR_DISTANCE = 10.0  # CIELAB a*b*, OpenCV 8-bit scale
NECK_MIN_LIGHTNESS = 0.45  # of the face skin's median L
# The skin beyond the outline above the jaw (`outline_skin`), from looking at the packaged portraits: the forehead above
# FaceMesh's outline runs up to the hairline, or on a bald head to the crown, about 2 d above the brows (hair.temple_lead);
# it is searched up to FOREHEAD_REACH d beyond the outline. The ears lie within EAR_REACH d beside it, below their tops
# as the hair mask's ear test reads them from the landmarks (segmentation.EAR_TOP); an ear is redder than the face (Obama's 2012
# portrait: a*b* 12-19 from his face's median, a* 11-19 higher), so its colour is taken within EAR_COLOUR_DISTANCE.
FOREHEAD_REACH = 2.0
# A lit forehead's highlight is the skin's colour mixed with the light's white: paler and less coloured than the
# skin, so the colour test above left it out, and it stayed a young patch in an aged forehead at 70-80 (the sheen on
# Obama's 2012 portrait; a young man's forehead blown out by a flash in a group photo; looked at). Above the outline a
# pixel HIGHLIGHT_SHARE of the way from the face skin's lightness to white, whose a*b* lie within NECK_COLOUR_DISTANCE of
# the line from neutral to the skin's median (a flash's clipping takes a highlight's colour nearer neutral than a linear
# mix with white would), is that skin where the skin, the face's outline and the hair enclose it: a sheen lies within
# the skin, a cap or a wall of that colour beyond it. (From looking: the sheens read 0.4-0.55 of the way; grey hair
# over Biden's temple, a little lighter than his skin, about 0.1: not a sheen.)
HIGHLIGHT_SHARE = (0.25, 0.75)
# On a black-and-white photo lightness is the forehead's only test: its floor there is MONOCHROME_FOREHEAD_LIGHTNESS of
# the face skin's median, not NECK_MIN_LIGHTNESS (a mid-grey hat, or hair the mask missed, at 0.55 of the skin's lightness
# passed that floor). Takeo's upper forehead (black and white, lit from the front): its darkest 1 % at 0.73 of his face
# skin's median, its darkest 0.1 % at 0.67 (measured); a forehead half in shade loses its shaded part, which is then
# left as it is.
MONOCHROME_FOREHEAD_LIGHTNESS = 0.65
EAR_REACH = 0.6
EAR_COLOUR_DISTANCE = 20.0


def below_jaw(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: the rows below the jaw's angles' higher one, in the columns between them: where a neck shows."""
    left, right = sorted(points[JAW_ANGLES, 0])
    inside = np.zeros(shape, bool)
    inside[int(np.ceil(points[JAW_ANGLES, 1].min())) :, max(int(left), 0) : int(np.ceil(right))] = True
    return inside


def skin_median(crop: np.ndarray, skin: np.ndarray) -> np.ndarray | None:
    """(3,) float32: the median CIELAB (`to_lab`'s scale) of the aligned `crop` under the face's `skin` (H, W, nonzero);
    None where no skin shows. Found once per face: the neck's, the forehead's and the ears' colour tests and the colour
    a crease's shadow shows (ldla.pipeline.skin_colour) all read it."""

    def median() -> np.ndarray | None:
        pixels = crop[np.asarray(skin) > 0]
        if not len(pixels):
            return None
        face = to_lab(pixels[None])[0]  # the skin's pixels alone converted (per pixel: the same)
        return np.median(face, axis=0).astype(np.float32)

    return memo("skin_median", (crop, skin), median)


def neck_skin(crop: np.ndarray, points: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """(H, W) uint8: the neck's skin seen below the face's outline in the aligned `crop` (see NECK_COLOUR_DISTANCE);
    empty when none shows (a collar up to the chin, a beard, the crop's edge) and on a black-and-white photo (skin
    cannot be told from a shirt by its colour there)."""
    p = np.asarray(points, np.float64)[:, :2]
    if is_monochrome(crop):
        return np.zeros(crop.shape[:2], np.uint8)
    hull, below = face_hull(p, crop.shape[:2]), below_jaw(p, crop.shape[:2])
    return _skin_beyond(to_lab(crop), hull, skin_median(crop, skin), below, NECK_COLOUR_DISTANCE)


def outline_skin(
    crop: np.ndarray, points: np.ndarray, skin: np.ndarray, hair: np.ndarray, person: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """((H, W) uint8 each) the skin seen beyond the face's outline above the jaw, within the `person` (bool: a wall
    of the skin's colour beside the head is not skin) and off the `hair` mask: the forehead above FaceMesh's outline up
    to the hairline or the crown (FOREHEAD_REACH), and the ears (EAR_REACH beside the outline, from their tops (EAR_TOP)
    down to the jaw's angles, their redder skin within EAR_COLOUR_DISTANCE); the neck's rules otherwise
    (`neck_skin`). On a black-and-white photo the forehead alone, and only beside a hair mask: a lightness at least
    MONOCHROME_FOREHEAD_LIGHTNESS of the skin's keeps out what is much darker than skin, the hair mask the hair, which is
    no other colour than the forehead there (without one, white hair as light as the skin would be taken for it); the ears
    are told by their colour, so none are. (A toned print whose chroma passes `is_monochrome`'s test is read in colour.)"""
    p = np.asarray(points, np.float64)[:, :2]
    shape = crop.shape[:2]
    monochrome = is_monochrome(crop)
    if monochrome and not np.any(hair):
        return np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
    d = inter_ocular(p)
    hull = face_hull(p, shape)
    near_hair = cv2.dilate((np.asarray(hair) > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    off_hair = ~near_hair & np.asarray(person, bool)
    reach = cv2.distanceTransform((hull == 0).astype(np.uint8), cv2.DIST_L2, 5) / d
    ys = np.arange(shape[0])[:, None]
    brows_top = float(p[[*RIGHT_BROW, *LEFT_BROW], 1].min())
    jaw = float(p[JAW_ANGLES, 1].min())
    forehead = off_hair & (reach <= FOREHEAD_REACH) & (ys < brows_top)
    ears = off_hair & (reach <= EAR_REACH) & side_rows(p, shape, EAR_TOP) & (ys < jaw)
    lab, median = to_lab(crop), skin_median(crop, skin)
    return (
        _skin_beyond(
            lab,
            hull,
            median,
            forehead,
            NECK_COLOUR_DISTANCE,
            hair=near_hair,
            least=MONOCHROME_FOREHEAD_LIGHTNESS if monochrome else NECK_MIN_LIGHTNESS,
        ),
        np.zeros(shape, np.uint8) if monochrome else _skin_beyond(lab, hull, median, ears, EAR_COLOUR_DISTANCE),
    )


def _skin_beyond(
    lab: np.ndarray,
    hull: np.ndarray,
    median: np.ndarray | None,
    inside: np.ndarray,
    distance: float,
    hair: np.ndarray | None = None,
    least: float = NECK_MIN_LIGHTNESS,
) -> np.ndarray:
    """(H, W) uint8: the pixels of `inside` beyond the face's outline (`hull`, the face's convex hull; `lab` the crop in
    CIELAB) whose a*b* is within `distance` of the face's skin (its `median`, `skin_median`; None: no skin shows, and
    nothing is found) and lightness at least `least` of it,
    in parts touching the outline (skin runs on from the face; a patch of background does not). With the `hair` mask
    (H, W bool), also the skin's highlights that it, the outline and that skin enclose (HIGHLIGHT_SHARE)."""
    shape = lab.shape[:2]
    if median is None:
        return np.zeros(shape, np.uint8)
    # the search is made in the box of `inside`, grown by the opening's reach (2 px), within which every pixel it keeps
    # is found as in the whole frame
    box = support_box(inside, 2)
    if box is None:
        return np.zeros(shape, np.uint8)
    part = lab[box]
    away = np.hypot(part[..., 1] - median[1], part[..., 2] - median[2])
    candidate = (away < distance) & (part[..., 0] >= least * median[0]) & (hull[box] == 0)
    if hair is not None:  # the skin's colour washed toward white by the light, within the skin (HIGHLIGHT_SHARE)
        toward_white = (part[..., 0] - median[0]) / max(255.0 - float(median[0]), 1.0)
        chroma = float(np.hypot(median[1] - 128.0, median[2] - 128.0))
        hue = (median[1:] - 128.0) / max(chroma, 1e-6)
        a, b = part[..., 1] - 128.0, part[..., 2] - 128.0
        # on the line from neutral to the skin's a*b* (as near neutral as the light makes it), no more coloured than it
        on_line = (np.abs(a * hue[1] - b * hue[0]) < distance) & (a * hue[0] + b * hue[1] > -distance)
        on_line &= np.hypot(a, b) < chroma + distance
        low, high = HIGHLIGHT_SHARE
        lit = (toward_white >= low) & (toward_white <= high) & on_line & (hull[box] == 0)
        held = (candidate & inside[box]) | (hull[box] > 0) | hair[box]
        candidate |= lit & (fill_holes(held.astype(np.uint8)) > 0) & ~held
    candidate &= inside[box]
    candidate = cv2.morphologyEx(candidate.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    count, labels = cv2.connectedComponents(candidate)
    touching = np.unique(labels[(cv2.dilate(hull, np.ones((5, 5), np.uint8))[box] > 0) & (candidate > 0)])
    found = np.zeros(shape, np.uint8)
    found[box] = np.isin(labels, touching[touching > 0])
    return found


def lightness_only(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """`after` (H, W, 3 uint8 RGB) as a change of grey level only, for a black-and-white photo `before` (the same
    frame; the shape warps may have moved `after`'s pixels a little): each changed pixel is its own luma plus
    `before`'s tint there (each channel's offset from the luma, smoothed: 0 on a neutral photo, a sepia print's
    toning on a toned one), so spots, sallowness and grey hair come out as shades of grey and a neutral photo's
    pixels stay exactly grey (a CIELAB round trip does not keep them so); unchanged pixels are returned exactly."""
    changed = np.any(after != before, axis=-1)
    box = support_box(changed, int(np.ceil(3 * MONOCHROME_TONE_SIGMA)))
    if box is None:
        return after.copy()
    old, new = before[box].astype(np.float32), after[box]
    offset = old - cv2.cvtColor(before[box], cv2.COLOR_RGB2GRAY).astype(np.float32)[..., None]
    tint = np.asarray(cv2.GaussianBlur(offset, (0, 0), MONOCHROME_TONE_SIGMA), np.float32)
    luma = cv2.cvtColor(new, cv2.COLOR_RGB2GRAY).astype(np.float32)[..., None]
    grey = to_uint8(luma + tint)
    out = after.copy()
    out[box] = chosen(changed[box], grey, new)
    return out


def beard_region(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 soft mask of the beard area: the face below the nose, feathered."""
    hull = face_hull(points, shape).astype(np.float32)
    top = points[SUBNASALE, 1]
    ys = np.arange(shape[0], dtype=np.float32)[:, None]
    below = np.clip((ys - top) / (0.3 * inter_ocular(points)), 0, 1)
    return _low_pass(hull * below, 0.1 * inter_ocular(points))


def brighter(lab: np.ndarray, gain: float | np.ndarray) -> np.ndarray:
    """(..., 3) CIELAB on OpenCV's 8-bit scale (L 0-255, a and b offset by 128) of colours whose reflectance (linear
    RGB, so XYZ) is `gain` times `lab`'s (one gain, or one per colour: an array of `lab`'s shape less its last axis):
    L* + 16, a* and b* each scaled by the cube root of the gain (CIE 1976 above its linear segment, L* 8 and up: any
    skin), so hue and saturation are kept and every skin is lifted by the same share of its light."""
    gain = np.asarray(gain, np.float64)
    if not np.all(gain > 0):
        raise ValueError(f"a reflectance gain must be positive, got {gain.min()}")
    root = (gain ** (1.0 / 3.0)).astype(np.float32)
    out = np.array(lab, np.float32, copy=True)
    out[..., 0] = ((out[..., 0] / 2.55 + 16.0) * root - 16.0) * 2.55
    out[..., 1:] = 128.0 + (out[..., 1:] - 128.0) * root[..., None]
    return out


def srgb_to_linear(encoded: np.ndarray) -> np.ndarray:
    """sRGB-encoded values (0-1) as linear light (IEC 61966-2-1's transfer function)."""
    encoded = np.asarray(encoded, np.float64)
    return np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light (0-1 and over) sRGB-encoded (IEC 61966-2-1's transfer function; over 1 stays over 1)."""
    linear = np.maximum(np.asarray(linear, np.float64), 0.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1.0 / 2.4) - 0.055)


def lift_taper(brightest: np.ndarray) -> np.ndarray:
    """The share (0-1) of a lift toward white that a colour whose brightest sRGB channel is `brightest` (8-bit) takes:
    1 up to LIFT_TAPER_FROM, falling to 0 at 255 along a smoothstep (the lifted curve meets white with slope 1)."""
    return smoothstep((255.0 - np.asarray(brightest, np.float64)) / (255.0 - LIFT_TAPER_FROM))


def highlight_lift(gain: float) -> np.ndarray:
    """(256,) for each 8-bit value of a colour's brightest sRGB channel, the reflectance gain `brighter` lifts it by:
    `gain` up to LIFT_TAPER_FROM, then a lift in encoded value tapering to none at 255 (a smoothstep: the curve
    meets white with slope 1, no kink, and never passes it), so no colour is driven into white and none is darkened."""
    if not gain >= 1:
        raise ValueError(f"a brightening gain must be 1 or more, got {gain}")
    values = np.arange(256, dtype=np.float64)
    linear = srgb_to_linear(values / 255.0)
    lifted = 255.0 * linear_to_srgb(linear * gain)
    out = values + (lifted - values) * lift_taper(values)
    return np.where(linear > 0, srgb_to_linear(out / 255.0) / np.maximum(linear, 1e-12), gain)


def gamut_gain(lab: np.ndarray, gain: float) -> np.ndarray:
    """(...) per colour of `lab` (`to_lab`'s scale, (..., 3)): the reflectance gain to lift it by (`highlight_lift` of
    its brightest sRGB channel)."""
    lift = highlight_lift(gain)
    image = lab if lab.ndim == 3 else lab.reshape(-1, 1, 3)  # OpenCV converts images
    rgb = cv2.cvtColor(to_uint8(image), cv2.COLOR_LAB2RGB)
    return lift[rgb.max(-1)].reshape(lab.shape[:-1])


def younger_skin(face: np.ndarray, skin: np.ndarray, points: np.ndarray, amount: float) -> np.ndarray:
    """Younger skin's colour (amount 0-1): tone evened and brightened, and the lower face's low frequencies
    matched to the cheeks' (beard and stubble shadow removed). Its creases are taken out before, by
    youth.rejuvenate."""
    if amount <= 0:
        return face.copy()
    d = inter_ocular(points)
    lab = to_lab(face)
    weight = skin_weight(skin, 0.05 * d)
    # only the skin weight's box changes (the weight is 0 beyond it): the colour is worked on there alone (the
    # low pass and the cheeks' colour still read the whole face)
    box = support_box(weight)
    if box is None:
        return face.copy()
    part, inside = lab[box], weight[box]
    smoothed = part.copy()
    # 1. beard shadow: the lower face's low-frequency colour moved toward the cheeks' median colour
    low = _low_pass(lab, 0.15 * d)
    beard = memo("beard_region", (np.asarray(points), face.shape[:2]), lambda: beard_region(points, face.shape[:2]))
    cheeks = (skin > 0) & (beard < 0.05)
    if cheeks.any():
        reference = np.median(lab[cheeks], axis=0)
        correction = (reference - low[box]) * beard[box][..., None] * BEARD_MATCH * amount
        correction[..., 0] = np.clip(correction[..., 0], 0, BEARD_MAX_LIFT)  # lighten a shadow, never darken
        smoothed = smoothed + correction
    # 2. even and brighter tone
    smoothed = brighter(smoothed, gamut_gain(smoothed, 1.0 + YOUNG_REFLECTANCE_GAIN * amount))
    out = face.copy()
    out[box] = from_lab(part + inside[..., None] * (smoothed - part), face[box], inside)
    return out
