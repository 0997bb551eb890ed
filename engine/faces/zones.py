"""Facial aging zones as pure functions of MediaPipe FaceMesh landmarks (LDLA paper, sec. 4.1).

The paper's seven zone types (glabella, nasolabial folds, inter-ocular / nasal
bridge, upper lip, under-eye, lip corners / marionette lines, crow's feet) plus the
forehead; paired zones have a left and a right, meaning the person's left and
right (the person's left appears on the image's right in a frontal photo).

Each zone has a polygon mask, a square crop box and the direction its wrinkles
run. Sizes scale with the inter-ocular distance d. Masks stay inside the face
hull and never cover the eyes or the lips.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.core.errors import InputError

# FaceMesh indices (canonical 468-point topology).
FACE_OVAL = [
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
]

RIGHT_EYE = [33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7]

LEFT_EYE = [263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249]

RIGHT_LOWER_LID = [33, 7, 163, 144, 145, 153, 154, 155, 133]

LEFT_LOWER_LID = [263, 249, 390, 373, 374, 380, 381, 382, 362]

OUTER_LIPS = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185]

UPPER_LIP_TOP = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]

RIGHT_BROW = [70, 63, 105, 66, 107]  # outer -> inner, upper edge

LEFT_BROW = [300, 293, 334, 296, 336]

FOREHEAD_TOP = [54, 103, 67, 109, 10, 338, 297, 332, 284]  # image left -> right

RIGHT_EYE_OUTER, RIGHT_EYE_INNER, LEFT_EYE_INNER, LEFT_EYE_OUTER = 33, 133, 362, 263

NASION, BRIDGE = 168, 197

CHIN = 152  # the chin's lowest point on the face oval

SUBNASALE = 2

RIGHT_ALA, LEFT_ALA = 98, 327

RIGHT_MOUTH, LEFT_MOUTH = 61, 291

JAW_ANGLES = [172, 397]  # the face oval at the jaw's angles (right, left)

ZONE_TYPES = {
    "forehead": "forehead",
    "glabella": "glabella",
    "crows_feet_left": "crow's feet",
    "crows_feet_right": "crow's feet",
    "under_eye_left": "under-eye",
    "under_eye_right": "under-eye",
    "nasal_bridge": "inter-ocular",
    "nasolabial_left": "nasolabial",
    "nasolabial_right": "nasolabial",
    "upper_lip": "upper lip",
    "marionette_left": "lip corner",
    "marionette_right": "lip corner",
}

ZONES = tuple(ZONE_TYPES)


# How wrinkles run in each zone (used by the classical renderer).
DIRECTIONS = {
    "forehead": "horizontal",
    "glabella": "vertical",
    "nasal_bridge": "horizontal",
    "upper_lip": "vertical",
    "crows_feet_left": "radial",
    "crows_feet_right": "radial",
    "under_eye_left": "arc",
    "under_eye_right": "arc",
    "nasolabial_left": "axis",
    "nasolabial_right": "axis",
    "marionette_left": "axis",
    "marionette_right": "axis",
}


@dataclass(frozen=True)
class Zone:
    name: str
    polygon: np.ndarray  # (N, 2) float32 pixels
    box: tuple[int, int, int]  # x, y, side of the square crop
    direction: str  # horizontal | vertical | radial | arc | axis
    anchor: np.ndarray  # (2,) where radial lines start / the axis starts
    axis_end: np.ndarray  # (2,) where the axis ends (axis zones); else the anchor

    def in_box(self) -> Zone:
        """The zone in the frame of its square crop (`box`): what a renderer drawing on that crop reads (its polygon,
        the radial lines' start and the axis, in the crop's own pixels)."""
        origin = np.array(self.box[:2], np.float32)
        return dataclasses.replace(
            self, polygon=self.polygon - origin, anchor=self.anchor - origin, axis_end=self.axis_end - origin
        )


def zone_name(zone: str) -> str:
    """A zone as people read it (the zones tab's labels, the overlay, messages): "crows feet left" for "crows_feet_left"."""
    return zone.replace("_", " ")


def check_zone(name: str) -> str:
    if name not in ZONE_TYPES:
        raise InputError(f"unknown zone {name!r}; zones are: {', '.join(ZONES)}")
    return name


def inter_ocular(points: np.ndarray) -> float:
    right = points[[RIGHT_EYE_OUTER, RIGHT_EYE_INNER]].mean(0)
    left = points[[LEFT_EYE_OUTER, LEFT_EYE_INNER]].mean(0)
    return float(np.linalg.norm(left - right))


def _band(start: np.ndarray, end: np.ndarray, half_width: float, shift: np.ndarray) -> np.ndarray:
    """A quadrilateral of the given half width around the segment start-end, moved by `shift`."""
    direction = (end - start) / max(np.linalg.norm(end - start), 1e-6)
    normal = np.array([-direction[1], direction[0]])
    return (
        np.array([start + normal * half_width, end + normal * half_width, end - normal * half_width, start - normal * half_width])
        + shift
    )


def _ellipse(center: np.ndarray, rx: float, ry: float, count: int = 24) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, count, endpoint=False)
    return np.stack([center[0] + rx * np.cos(angles), center[1] + ry * np.sin(angles)], axis=1)


def zone_polygons(points: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """Zone name -> (polygon, anchor, axis end or None where the zone has no axis), before clipping to the
    face, in the points' frame."""
    p = np.asarray(points, dtype=np.float64)[:, :2]
    d = inter_ocular(p)
    down = np.array([0.0, 1.0])
    zones: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}
    brows = np.concatenate([p[RIGHT_BROW[::-1]][::-1], p[LEFT_BROW[::-1]]])  # image left -> right
    brows = brows[np.argsort(brows[:, 0])] - down * 0.13 * d  # meets the top of the glabella
    zones["forehead"] = (
        np.concatenate([brows, p[FOREHEAD_TOP][::-1] + down * 0.05 * d]),
        p[151] if len(p) > 151 else brows.mean(0),
        None,
    )
    inner = p[[107, 336]]
    top = inner[:, 1].min() - 0.12 * d
    zones["glabella"] = (
        np.array(
            [
                [inner[0, 0], top],
                [inner[1, 0], top],
                [inner[1, 0] - 0.05 * d, p[NASION, 1]],
                [inner[0, 0] + 0.05 * d, p[NASION, 1]],
            ]
        ),
        p[NASION],
        None,
    )
    eyes_inner = p[[RIGHT_EYE_INNER, LEFT_EYE_INNER]]
    zones["nasal_bridge"] = (
        np.array(
            [
                [eyes_inner[0, 0] + 0.08 * d, p[NASION, 1]],
                [eyes_inner[1, 0] - 0.08 * d, p[NASION, 1]],
                [eyes_inner[1, 0] - 0.1 * d, p[BRIDGE, 1]],
                [eyes_inner[0, 0] + 0.1 * d, p[BRIDGE, 1]],
            ]
        ),
        p[NASION],
        None,
    )
    for side, corner, sign in (("right", RIGHT_EYE_OUTER, -1.0), ("left", LEFT_EYE_OUTER, 1.0)):
        center = p[corner] + np.array([sign * 0.24 * d, 0.03 * d])
        zones[f"crows_feet_{side}"] = (_ellipse(center, 0.19 * d, 0.27 * d), p[corner], None)
    for side, lid in (("right", RIGHT_LOWER_LID), ("left", LEFT_LOWER_LID)):
        edge = p[lid]
        edge = edge[np.argsort(edge[:, 0])]
        zones[f"under_eye_{side}"] = (np.concatenate([edge + down * 0.07 * d, (edge + down * 0.3 * d)[::-1]]), edge.mean(0), None)
    for side, ala, mouth, sign in (("right", RIGHT_ALA, RIGHT_MOUTH, -1.0), ("left", LEFT_ALA, LEFT_MOUTH, 1.0)):
        start = p[ala] + np.array([sign * 0.06 * d, 0.0])
        end = p[mouth] + np.array([sign * 0.1 * d, 0.12 * d])
        zones[f"nasolabial_{side}"] = (_band(start, end, 0.09 * d, np.array([sign * 0.03 * d, 0.0])), start, end)
    lip_top = p[UPPER_LIP_TOP[2:-2]] - down * 0.04 * d
    level = p[SUBNASALE, 1] + 0.05 * d
    zones["upper_lip"] = (
        np.concatenate([[[lip_top[0, 0] - 0.05 * d, level], [lip_top[-1, 0] + 0.05 * d, level]], lip_top[::-1]]),
        p[SUBNASALE],
        None,
    )
    for side, mouth, sign in (("right", RIGHT_MOUTH, -1.0), ("left", LEFT_MOUTH, 1.0)):
        start = p[mouth] + np.array([sign * 0.05 * d, 0.04 * d])
        end = p[mouth] + np.array([sign * 0.14 * d, 0.45 * d])
        zones[f"marionette_{side}"] = (_band(start, end, 0.08 * d, np.zeros(2)), start, end)
    return zones


def _fill(shape: tuple[int, int], polygon: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    return mask


def exclusion_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Eyes and lips, slightly enlarged: no zone may cover them."""
    d = inter_ocular(points)
    mask = np.zeros(shape, np.uint8)
    for contour in (RIGHT_EYE, LEFT_EYE, OUTER_LIPS):
        mask |= _fill(shape, points[contour])
    size = max(3, int(round(0.06 * d)) | 1)
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))


def face_hull(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return _fill(shape, cv2.convexHull(np.round(points[FACE_OVAL]).astype(np.int32))[:, 0, :].astype(np.float64))


def build_zones(points: np.ndarray, shape: tuple[int, int]) -> tuple[dict[str, Zone], dict[str, np.ndarray]]:
    """(zones, binary masks (H, W) uint8) for an image of `shape` (H, W) with FaceMesh `points` (468+, 2)."""
    points = np.asarray(points, dtype=np.float64)[:, :2]
    hull = face_hull(points, shape)
    blocked = exclusion_mask(points, shape)
    allowed = hull & (1 - blocked)  # the face without its eyes and lips: every zone's mask lies in it
    zones, masks = {}, {}
    for name, (polygon, anchor, end) in zone_polygons(points).items():
        mask = _fill(shape, polygon) & allowed
        extent = support_box(mask)  # its rows and columns with pixels (no list of every pixel)
        if extent is None:
            masks[name] = mask
            zones[name] = Zone(
                name,
                polygon.astype(np.float32),
                (0, 0, 0),
                DIRECTIONS[name],
                np.asarray(anchor, np.float32),
                np.asarray(anchor if end is None else end, np.float32),
            )
            continue
        (y0, y1), (x0, x1) = (extent[0].start, extent[0].stop), (extent[1].start, extent[1].stop)
        side = int(max(x1 - x0, y1 - y0) * 1.2) + 8
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        box = (int(cx - side // 2), int(cy - side // 2), side)
        zones[name] = Zone(
            name,
            polygon.astype(np.float32),
            box,
            DIRECTIONS[name],
            np.asarray(anchor, np.float32),
            np.asarray(anchor if end is None else end, np.float32),
        )
        masks[name] = mask
    return zones, masks


def feathered(mask: np.ndarray, radius: float) -> np.ndarray:
    """A soft version of a binary mask that is exactly 0 beyond `radius` pixels outside it."""
    radius = max(2, int(round(radius)))

    def disk(r):
        return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))

    grown = cv2.dilate(mask, disk(radius))
    core = cv2.dilate(mask, disk(radius // 2)).astype(np.float32)
    soft = np.maximum(cv2.GaussianBlur(core, (0, 0), radius / 4), mask.astype(np.float32))
    return np.where(grown > 0, soft, 0.0).astype(np.float32)


# The overlay's labels: white text on a dark box edged in the zone's colour, LABEL_PX high on a 512 px face (the tab shows
# it about 360 px high). Drawn in the zone's colour at OpenCV's 0.32 scale, the names were about 7 px high over the skin,
# unreadable at the tab's size ("forehead", "upper lip" and the nasolabial ones not even at 512 px)
LABEL_PX = 13
LABEL_PAD = 2  # px around the text, on a 512 px face
ZONE_COLOURS = [(255, 99, 71), (255, 215, 0), (50, 205, 50), (30, 144, 255), (238, 130, 238), (0, 206, 209)]


def draw_zones(image: np.ndarray, zones: dict[str, Zone], masks: dict[str, np.ndarray]) -> np.ndarray:
    """The image with each zone outlined in its colour and named in a label over its middle (`label_boxes`)."""
    canvas = image.copy()
    scale = max(image.shape[:2]) / 512
    for index, name in enumerate(zones):
        contours, _ = cv2.findContours(masks[name], cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(canvas, contours, -1, ZONE_COLOURS[index % len(ZONE_COLOURS)], max(1, int(round(1.5 * scale))))
    picture = Image.fromarray(canvas).convert("RGBA")
    layer = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font, pad = _label_font(scale)
    colours = {name: ZONE_COLOURS[index % len(ZONE_COLOURS)] for index, name in enumerate(zones)}
    for name, box in label_boxes(masks, list(zones), picture.size).items():
        left, top, _, _ = draw.textbbox((0, 0), zone_name(name), font=font)
        draw.rectangle(box, fill=(0, 0, 0, 160), outline=(*colours[name], 255))
        draw.text((box[0] + pad - left, box[1] + pad - top), zone_name(name), font=font, fill=(255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(picture, layer).convert("RGB"))


def _label_font(scale: float) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, int]:
    return ImageFont.load_default(size=max(8, int(round(LABEL_PX * scale)))), max(1, int(round(LABEL_PAD * scale)))


def label_boxes(masks: dict[str, np.ndarray], names: list[str], size: tuple[int, int]) -> dict[str, tuple[int, int, int, int]]:
    """Each zone's label box (x0, y0, x1, y1) on an image of `size` (W, H): over the zone's middle, inside the image, moved
    down or up, alternately and a label's height at a time, clear of the labels placed before it where two zones'
    middles are close (the nasolabial and upper lip ones ran together); a zone without pixels has none."""
    font, pad = _label_font(max(size) / 512)
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    taken: dict[str, tuple[int, int, int, int]] = {}
    for name in names:
        ys, xs = np.nonzero(masks[name])
        if not len(xs):
            continue
        left, top, right, bottom = draw.textbbox((0, 0), zone_name(name), font=font)
        width, height = int(math.ceil(right - left)) + 2 * pad, int(math.ceil(bottom - top)) + 2 * pad
        x = int(min(max(xs.mean() - width / 2, 0), size[0] - width))
        y0 = int(min(max(ys.mean() - height / 2, 0), size[1] - height))
        box = (x, y0, x + width, y0 + height)
        for step in range(1, 9):
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in taken.values()):
                break
            shift = (step + 1) // 2 * (height + 1) * (1 if step % 2 else -1)
            y = int(min(max(y0 + shift, 0), size[1] - height))
            box = (x, y, x + width, y + height)
        taken[name] = box
    return taken


def support_box(weight: np.ndarray, margin: int = 0) -> tuple[slice, slice] | None:
    """(rows, columns) of the box holding every pixel where `weight` > 0, grown by `margin` px (kept inside the
    image), or None where there is none: a stage that changes only those pixels computes only in the box (plus
    the reach of its filters)."""
    inside = weight > 0
    rows, cols = np.flatnonzero(inside.any(1)), np.flatnonzero(inside.any(0))
    if len(rows) == 0:
        return None
    height, width = weight.shape[:2]
    return (
        slice(max(int(rows[0]) - margin, 0), min(int(rows[-1]) + 1 + margin, height)),
        slice(max(int(cols[0]) - margin, 0), min(int(cols[-1]) + 1 + margin, width)),
    )
