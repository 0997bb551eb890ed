"""Hair beyond the aligned crop: the greying carried on into the photo where the hair runs past the crop's edge.

The renderer works on the aligned 512 px face. Big hair runs past the crop's top or sides, and there the pasted photo
kept the hair's own colour beside the greyed hair: a line across the astronaut's crown at 70, brown above it, grey
below. Beyond the crop, each pixel of the hair takes the colour change that the crop's hair of the same lightness
took (`colour_change`, the median change per lightness level), as far as it is the person's (the person segmenter),
of the hair's colour as the crop's edge shows it, and joined to the crop's hair. The hair there gets no strands of its
own: at the ages where most strands are white it reads as the hair beside it.

Image operations take and return (H, W, 3) uint8 RGB arrays.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.core.blurs import weighted_mean
from engine.core.memo import memo
from engine.core.pixels import channel_sum, chosen, to_uint8
from engine.faces.alignment import frame_border, photo_box, upsampling
from engine.faces.zones import LEFT_EYE, RIGHT_EYE, inter_ocular, support_box
from engine.methods.classical.aging import lightness_only
from engine.methods.classical.hair import EDGE_BAND, EDGE_MIN_CONTRAST, colour_line_share, is_monochrome
from engine.methods.classical.shape import smoothstep

# How far past the crop's footprint the hair is followed, in inter-ocular distances (the astronaut's crown runs about
# 0.4 d past the crop's top; big hair more, from looking at portraits)
BEYOND_REACH = 1.0
# A pixel is of the hair's colour in full within this Mahalanobis distance of the CIELAB of the crop's hair along the
# crop's edge (where the paste's feather falls), and less so out to a unit further (a soft edge, not a cut-out)
COLOUR_SPREAD = 3.0
LIGHTNESS_LEVELS = 12  # the colour change is the median at each of these quantiles of the hair's lightness
SAMPLED = 8000  # hair pixels read for the colour change (a regular sample of them; 500 and more a level)
MIN_EDGE_HAIR = 50  # px of hair along the crop's edge needed for its colour: fewer, and the hair is left as it is
PERSON = 0.5  # the segmenter's probability from which a pixel is the person's
CHROMA_FLOOR = 2.0  # C*ab units: below this a colour's chroma is noise (a grey photo's)
# the outline's band past the crop is EDGE_BAND crop px (the crop's own edge band) in photo px, and no narrower than this:
# the camera operator's crown blurs into the sky over 2-5 photo px (printed down columns)
FRINGE_MIN_BAND = 2.0
EYES_FADE = 0.3  # d: the hair past the crop is followed from this far above the eyes' line up, fading in below it


def _scaled(lab: np.ndarray) -> np.ndarray:
    """`_lab`'s CIELAB (L* 0-100) with L* on to_lab's 8-bit scale (0-255), the one EDGE_MIN_CONTRAST is stated in; a*
    and b* as they are (differences and projections only are read in it)."""
    return (np.asarray(lab, np.float32) * np.array([255.0 / 100.0, 1.0, 1.0], np.float32)).astype(np.float32)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (float32, L* 0-100) of an RGB uint8 image."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def _rgb(lab: np.ndarray) -> np.ndarray:
    return to_uint8(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255.0)


def colour_change(before_rgb: np.ndarray, after_rgb: np.ndarray, hair: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(levels (K,), changes (K, 4)): for the pixels of `hair` (bool) around each of LIGHTNESS_LEVELS quantiles of their
    lightness in `before_rgb` (the crop before the hair stage; `after_rgb`: after it, the same frame), from the darkest to
    the lightest, the median change of CIELAB lightness, the ratio of the median chroma after to before, and the median
    change of a* and b* (`changed` reads the ratio where the chroma falls, the change where it rises); None without hair
    or without a change."""
    rows, cols = np.nonzero(hair)
    if len(rows) < LIGHTNESS_LEVELS:
        return None
    step = max(1, len(rows) // SAMPLED)  # medians of a regular sample: the same levels, in a fraction of the time
    picked = (rows[::step], cols[::step])
    before = _lab(np.ascontiguousarray(before_rgb[picked][:, None]))[:, 0]
    after = _lab(np.ascontiguousarray(after_rgb[picked][:, None]))[:, 0]
    light = before[:, 0]
    lighter = after[:, 0] - before[:, 0]
    chroma_before = np.hypot(before[:, 1], before[:, 2])
    chroma_after = np.hypot(after[:, 1], after[:, 2])
    shift = after[:, 1:] - before[:, 1:]
    if not (np.abs(lighter).max() > 0 or np.abs(shift).max() > 0):
        return None
    order = np.argsort(light, kind="stable")
    parts = np.array_split(order, LIGHTNESS_LEVELS)
    levels = np.array([np.median(light[part]) for part in parts], np.float32)
    # the chroma's ratio with a couple of units added each side: a black-and-white photo's hair has next to none, and
    # its noise's ratio drew red and blue specks
    changes = np.array(
        [
            (
                np.median(lighter[part]),
                (np.median(chroma_after[part]) + CHROMA_FLOOR) / (np.median(chroma_before[part]) + CHROMA_FLOOR),
                *np.median(shift[part], axis=0),
            )
            for part in parts
        ],
        np.float32,
    )
    return levels, changes


def changed(lab: np.ndarray, lightness: np.ndarray, share: np.ndarray, levels: np.ndarray, changes: np.ndarray) -> np.ndarray:
    """`lab` (..., 3 CIELAB) changed by `share` (0-1) of the change its pixels' source `lightness` takes (between the
    levels, linear; the end levels' beyond them): the lightness moved; where the hair lost chroma (greying) the chroma
    scaled by its ratio, so a pixel part backdrop keeps its own hue instead of being pushed past neutral into the
    opposite one; where it gained chroma (grey hair given its colour back) a* and b* moved by the hair's own change (a
    ratio of a grey's little chroma scaled a bluish grey into saturated blue)."""
    at = [np.interp(lightness, levels, changes[:, column]).astype(np.float32) for column in range(4)]
    lighter, ratio, toward = at[0], at[1], np.stack(at[2:], axis=-1)
    out = lab.copy()
    out[..., 0] += share * lighter
    scaled = out[..., 1:] * (1.0 + share * (ratio - 1.0))[..., None]
    out[..., 1:] = np.where((ratio <= 1.0)[..., None], scaled, out[..., 1:] + share[..., None] * toward)
    return out


def edge_hair(hair: np.ndarray) -> np.ndarray:
    """(H, W) bool: the crop's `hair` mask where the paste's feather at the crop's border (alignment.frame_border) falls
    short of whole: the hair along the crop's edge, whose colour is the hair's beyond it."""
    return (hair > 0) & (frame_border(*hair.shape) < 0.999)


def reaches_edge(hair: np.ndarray) -> bool:
    """Whether the crop's `hair` mask runs into the crop's edge (`edge_hair`) by MIN_EDGE_HAIR px or more: only then can
    there be hair past the crop's edge to carry the change on to (`hair_beyond`)."""
    return int(np.count_nonzero(edge_hair(hair))) >= MIN_EDGE_HAIR


def hair_beyond(
    photo: np.ndarray,
    pasted: np.ndarray,
    matrix: np.ndarray,
    before: np.ndarray,
    hair: np.ndarray,
    weight: np.ndarray,
    change: tuple[np.ndarray, np.ndarray],
    points: np.ndarray,
    segmenter,
) -> np.ndarray:
    """`pasted` (the `photo` with the aged crop pasted through `weight`) with the hair past the crop's footprint given
    the hair stage's colour `change` (`colour_change`). `matrix`: photo -> crop; `before`: the crop (size x size RGB)
    before aging; `hair`: its hair mask; `weight`: the paste's weight over the crop; `points`: its landmarks;
    `segmenter`: the person segmenter (`probability`). Pixels that are not such hair are returned exactly."""
    found = beyond_fields(photo, matrix, before, hair, points, segmenter)
    if found is None:
        return pasted
    (x0, y0, x1, y1), shifted, fields = found
    if fields is None:
        return pasted
    lightness, hairy = fields
    footprint = cv2.warpAffine(np.asarray(weight, np.float32), shifted, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)
    share = hairy * (1.0 - footprint)
    if not (share > 0).any():
        return pasted
    levels, changes = change
    box = pasted[y0:y1, x0:x1]
    out = _rgb(changed(_lab(box), lightness, share, levels, changes))
    if is_monochrome(before):  # a black-and-white photo stays black and white: only the grey level changes
        out = lightness_only(box, out)
    result = pasted.copy()
    result[y0:y1, x0:x1] = chosen(share > 0, out, box)
    return result


def beyond_fields(
    photo: np.ndarray, matrix: np.ndarray, before: np.ndarray, hair: np.ndarray, points: np.ndarray, segmenter
) -> tuple[tuple[int, int, int, int], np.ndarray, tuple[np.ndarray, np.ndarray] | None] | None:
    """What `hair_beyond` reads that depends on the face alone, found once per face (every target of a strip, and work
    done ahead of the render, ask for the same): (the photo's box x0, y0, x1, y1 around the crop's footprint, the crop ->
    box transform, `_beyond_fields` on that box), or None where the box is empty."""
    size = before.shape[0]
    reach = int(np.ceil(BEYOND_REACH * inter_ocular(points) / upsampling(matrix)))  # photo px (crop px a photo px)
    # the photo's box: the crop's footprint grown by the reach
    around = photo_box((0, 0, size, size), matrix, photo.shape[:2], reach, reach)
    if around is None:
        return None
    x0, y0, x1, y1 = around
    inverse = cv2.invertAffineTransform(np.asarray(matrix, np.float64))
    shifted = inverse.copy()
    shifted[:, 2] -= (x0, y0)
    region = np.ascontiguousarray(photo[y0:y1, x0:x1])
    # the same for every target of a strip: found once (keyed on the box's pixels, not the whole photo's)
    fields = memo(
        "hair_beyond",
        (region, shifted, before, hair, points, reach),
        lambda: _beyond_fields(region, shifted, (x0, y0), matrix, before, hair, points, reach, segmenter),
    )
    return around, shifted, fields


def _beyond_fields(
    region: np.ndarray,
    shifted: np.ndarray,
    origin: tuple[int, int],
    matrix: np.ndarray,
    before: np.ndarray,
    hair: np.ndarray,
    points: np.ndarray,
    reach: int,
    segmenter,
) -> tuple[np.ndarray, np.ndarray] | None:
    """What `hair_beyond` reads that depends on the face alone (every target of a strip shares it), on the photo's
    `region` around the crop (its top-left at `origin`; `shifted`: crop -> region): (the region's source lightness, how
    much of each of its pixels is hair to carry the change on to), or None where the crop's hair does not run into its
    edge."""
    size = before.shape[0]
    inside = hair > 0
    edge = edge_hair(hair)
    if edge.sum() < MIN_EDGE_HAIR:
        return None
    colours = _lab(np.ascontiguousarray(before[edge][:, None]))[:, 0].astype(np.float64)
    spread = np.cov(colours.T) + np.eye(3) * 1.0  # a level's worth of noise: no colour is a point
    precision = np.linalg.inv(spread).astype(np.float32)
    box = (region.shape[1], region.shape[0])
    covered = cv2.warpAffine(np.ones((size, size), np.float32), shifted, box, flags=cv2.INTER_LINEAR)
    # hair where most of what the crop covers of a pixel is its hair: along the crop's edge a pixel is only partly
    # covered, and a share of the whole (> 0.5) left a dotted line of the crop's hair unchanged there (the camera
    # operator's crown at 80: dark pixels left in greyed hair along the crop's top edge)
    warped_hair = cv2.warpAffine(inside.astype(np.float32), shifted, box, flags=cv2.INTER_LINEAR) > 0.5 * covered
    source = _lab(region)
    offset = source - colours.mean(0).astype(np.float32)
    distance = np.sqrt(np.maximum(np.einsum("...i,ij,...j->...", offset, precision, offset), 0))
    colour = np.clip(COLOUR_SPREAD + 1.0 - distance, 0.0, 1.0)
    # within the reach of the crop's hair, fading out over its outer half (a hard stop drew a straight line across the
    # camera operator's hair behind his ear, which runs on far past the crop)
    away = cv2.distanceTransform((~warped_hair).astype(np.uint8), cv2.DIST_L2, 5)
    near = smoothstep(2.0 * (reach - away) / reach)
    person = segmenter.probability(region) > PERSON
    # above the eyes, as the crop's frame has them, fading in over EYES_FADE d: beside and below them, past the crop's
    # edge, the hair's colour is as often a dark collar or jacket joined to the hair (the camera operator's), and long
    # hair there is left as it is
    x0, y0 = origin
    xs, ys = np.meshgrid(np.arange(x0, x0 + box[0], dtype=np.float32), np.arange(y0, y0 + box[1], dtype=np.float32))
    rows = matrix[1, 0] * xs + matrix[1, 1] * ys + matrix[1, 2]
    eyes = float(np.asarray(points)[[*RIGHT_EYE, *LEFT_EYE], 1].mean())
    above = smoothstep((eyes - rows) / (EYES_FADE * inter_ocular(points)))
    # past the crop, and in its feather; within the crop, only what its hair mask holds (the mask tells the hair from a
    # background of its colour: a light window above Obama's grey hair, which his young targets darkened otherwise)
    candidate = (colour > 0) & (near > 0) & person & (above > 0) & ((covered < 0.5) | warped_hair)
    # joined to the crop's hair (through hair-coloured pixels), not a patch of the hair's colour elsewhere
    joined = (candidate | (warped_hair & (covered > 0.5))).astype(np.uint8)
    count, labels = cv2.connectedComponents(joined, connectivity=8)
    touching = np.unique(labels[warped_hair & (joined > 0)])
    candidate &= np.isin(labels, touching[touching > 0])
    hairy = np.where(candidate, colour * near * above, 0.0).astype(np.float32)
    lightness = source[..., 0].copy()
    # the hair's outline where this stage changes it (past the crop, and where the crop's hair is not pasted): each
    # pixel there part hair, part what lies beside it
    band = max(EDGE_BAND / upsampling(matrix), FRINGE_MIN_BAND)
    allowed = (near > 0) & (above > 0) & ((covered < 0.5) | warped_hair)
    outline = _outline(source, candidate | (warped_hair & (covered > 0.5)), band, allowed, colours.mean(0))
    if outline is not None:
        told, share, hair_lightness = outline
        lightness = np.where(told, hair_lightness, lightness)
        hairy = np.where(told, share * near * above, hairy).astype(np.float32)
    return lightness, hairy


def _outline(
    source: np.ndarray, hair: np.ndarray, band: float, allowed: np.ndarray, hair_colour_seen: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The pixels of `allowed` (bool) within `band` px inside the edge of `hair` (bool) and `band` / 2 outside it,
    read as a mix of the hair's colour and the colour beside it: (where they are read (bool), each one's hair share
    (0-1), the hair's CIELAB lightness near each pixel), or None where none is. `source`: the photo's CIELAB (L*
    0-100). As the crop's edge band is read (hair.edge_hair_share): a linear colour-line matte between the local means,
    over `band` / 2 px, of the hair deeper than `band` and of what lies more than `band` / 2 past it (weighed by how
    unlike `hair_colour_seen`, the crop's hair's CIELAB, it is), where the two differ by EDGE_MIN_CONTRAST. Taken by
    their own lightness, such pixels took the change of the crop's lighter hair: a white line along the camera
    operator's dark crown at 80, with the lighter pixels outside it (too light to pass the colour test) left dark above
    it, and a white rim where his hair meets his ear (looked at, 4x)."""
    inside = hair.astype(np.uint8)
    depth = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    away = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
    # the mixed pixels: within the band inside the hair's edge, within half of it outside (where a photo's blur spreads
    # the hair; further out a thin dark thing of the backdrop, a cable or a shadow's edge, read as hair too)
    ring = np.where(hair, depth <= band, away <= band / 2) & allowed
    if not ring.any():
        return None
    # the two colours from the pixels clear of the outline's mixed ones: the hair deeper than the band, and what lies
    # more than half the band past it (with those mixed pixels in its mean, the lightest of them read as no hair at all)
    deep = hair & (depth > band)
    clear = ~hair & (away > band / 2)
    lab = _scaled(source)
    # what lies beside the hair, each pixel weighed by the square of its colour's distance from the hair's, relative to
    # the farthest: a dark thing of the backdrop at the outline's edge (a cable, a stray lock) weighed as much as the
    # sky took the place of the sky's colour there, and the outline beside it read as no hair and stayed dark
    unlike = np.sqrt(channel_sum((lab - _scaled(hair_colour_seen)) ** 2)) * clear
    farthest = float(unlike.max())
    if farthest <= 0:
        return None
    # the means, as wide as the crop's edge band's (hair.edge_hair_share: half the band), are read at the outline only:
    # worked out in its box, grown by what the blur reads around a pixel (4 sigma, and the quarter-size blur's pixels)
    sigma = band / 2
    box = support_box(ring, int(np.ceil(4 * sigma)) + 8)
    if box is None:  # a ring with pixels has a box: said for the type checker
        return None
    rows, cols = box
    part = lab[rows, cols]
    (hair_colour, hair_near), (beside, beside_near) = (
        weighted_mean(part, deep[rows, cols].astype(np.float32), sigma),
        weighted_mean(part, ((unlike[rows, cols] / farthest) ** 2).astype(np.float32), sigma),
    )
    line = hair_colour - beside
    told_part = (
        ring[rows, cols] & (hair_near > 1e-3) & (beside_near > 1e-3) & (np.sqrt(channel_sum(line**2)) >= EDGE_MIN_CONTRAST)
    )
    if not told_part.any():
        return None
    told = np.zeros(ring.shape, bool)
    told[rows, cols] = told_part
    share = np.zeros(ring.shape, np.float32)
    share[rows, cols] = np.where(told_part, colour_line_share(part, beside, line), 0.0)
    hair_lightness = np.zeros(ring.shape, np.float32)
    hair_lightness[rows, cols] = hair_colour[..., 0] * (100.0 / 255.0)
    return told, share, hair_lightness
