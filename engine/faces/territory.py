"""Each face's own part of a photo with several people: a face's edits stay off its neighbours.

A pixel belongs to the face whose own box holds it, or else whose head it is nearest: its distance to each head's middle
measured across in that face's box widths and down in its box heights (a larger face's head reaches further), the head's
middle HEAD_RAISE of the box's height above the box's (the detector's box runs from the brows to the chin; the cranium and
its hair lie above). The aligned crop of one face takes in its neighbours' heads where they stand close, and the person
segmentation used for the hair does not tell two people apart: one face aged at 75 in a photo where its neighbour's head
touched it had whitened the neighbour's forehead and cheek, and aged at 10 had darkened his white hair. Outside its own
part a face's edit is undone; inside, it fades in over TERRITORY_FEATHER of its box width from the border, so that a
group photo's faces, aged one after another, never paste over each other.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from engine.core.memo import memo
from engine.core.pixels import to_uint8
from engine.faces.alignment import paste_back
from engine.faces.detection import Face, over_one_another

# share of the face's box width over which its edit fades out toward the border with a neighbour's part (from looking:
# about a hair lock's width at portrait scale, no seam where two heads' hair meet)
TERRITORY_FEATHER = 0.1
# share of the box's height the head's middle lies above the box's (from looking at two heads side by side: measured from
# the box's middle, the top of one man's head nearer his neighbour's face than his own, and stayed his neighbour's)
HEAD_RAISE = 0.2
# px: the weight is found over the changed box grown to whole tiles of this size, so that every target of a face, whose
# changed boxes differ by a few pixels, finds the same one (engine/core/memo.py)
TILE = 64


def others_than(face: Face, faces: Sequence[Face]) -> tuple[Face, ...]:
    """The faces of `faces` that are `face`'s neighbours: every other one but a detection over or inside its box (either
    box's centre in the other's: a second box on the same face, a false hit on an eye), which, nearer in its own box's
    measure, took most of the face's own pixels and undid its edit. A neighbour whose box only touches its box (a head
    lying beside it) stays one."""
    return tuple(other for other in faces if other is not face and not over_one_another(other, face))


def _distance(face: Face, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Each point's distance to `face`'s head's middle, across in its box widths and down in its box heights (`xs` and
    `ys` broadcast: a row and a column give the grid)."""
    x, y, width, height = face.box
    across = (xs - np.float32(x + width / 2)) / np.float32(max(width, 1.0))
    down = (ys - np.float32(y + height / 2 - HEAD_RAISE * height)) / np.float32(max(height, 1.0))
    return np.hypot(across, down)


def nearest_to(face: Face, others: Sequence[Face], xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Bool, the shape `xs` and `ys` (photo coordinates) broadcast to: `face`'s own box, and where its head is nearer
    than every one of `others`' (`_distance`)."""
    own = _distance(face, xs, ys)
    nearest = np.ones(np.broadcast_shapes(np.shape(xs), np.shape(ys)), bool)
    for other in others:
        nearest &= own < _distance(other, xs, ys)
    x, y, width, height = face.box
    nearest |= (xs >= x) & (xs <= x + width) & (ys >= y) & (ys <= y + height)
    return nearest


def territory_in_crop(face: Face, others: Sequence[Face], matrix: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """(H, W) bool in the aligned crop of `face` (`matrix`, 2 x 3: the photo to the crop): the crop's pixels that are the
    face's own part of the photo (`nearest_to`); None where the photo has no other face."""
    if not others:
        return None
    inverse = cv2.invertAffineTransform(np.asarray(matrix, np.float64)).astype(np.float32)
    cols, rows = np.meshgrid(np.arange(shape[1], dtype=np.float32), np.arange(shape[0], dtype=np.float32))
    xs = inverse[0, 0] * cols + inverse[0, 1] * rows + inverse[0, 2]
    ys = inverse[1, 0] * cols + inverse[1, 1] * rows + inverse[1, 2]
    return nearest_to(face, others, xs, ys)


def pasted_within_own(photo: np.ndarray, crop: np.ndarray, matrix: np.ndarray, face: Face, others: Sequence[Face]) -> np.ndarray:
    """A whole edited aligned `crop` (`matrix`: the photo to it) pasted back into `photo` (alignment.paste_back), within
    `face`'s own part of it (`kept_to_own`): a generated crop holds the neighbours it took in, redrawn."""
    return kept_to_own(photo, paste_back(photo, crop, matrix), face, others)


def kept_to_own(photo: np.ndarray, edited: np.ndarray, face: Face, others: Sequence[Face]) -> np.ndarray:
    """`edited` (the photo with `face` edited) with its changes outside the face's own part undone, faded in over
    TERRITORY_FEATHER of its box width inside it; `edited` itself where the photo has no other face or nothing changed
    outside that part."""
    if not others:
        return edited
    # any channel changed: the channels' saturated sum of the difference (numpy's any over the channels took 50 ms on a
    # 2048 px photo, for every target of every face)
    changed = cv2.transform(cv2.absdiff(edited, photo), np.ones((1, 3), np.float32)) > 0
    rows, cols = np.flatnonzero(changed.any(1)), np.flatnonzero(changed.any(0))
    if len(rows) == 0:
        return edited
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    # the weight over the changed box's tiles, found once for every target of a face (their boxes differ by a few pixels)
    height, width = photo.shape[:2]
    tiles = (x0 // TILE * TILE, y0 // TILE * TILE, min(-(-x1 // TILE) * TILE, width), min(-(-y1 // TILE) * TILE, height))
    key = (face.box, tuple(other.box for other in others), tiles)
    weight = memo("territory_weight", key, lambda: _own_weight(face, others, tiles))
    if weight is None:
        return edited
    weight = weight[y0 - tiles[1] : y1 - tiles[1], x0 - tiles[0] : x1 - tiles[0], None]
    result = edited.copy()
    before, after = photo[y0:y1, x0:x1].astype(np.float32), edited[y0:y1, x0:x1].astype(np.float32)
    result[y0:y1, x0:x1] = to_uint8(before + (after - before) * weight)
    return result


def _own_weight(face: Face, others: Sequence[Face], box: tuple[int, int, int, int]) -> np.ndarray | None:
    """(H, W) float32 over the photo's `box` (x0, y0, x1, y1): 0 outside `face`'s own part, rising to 1 over
    TERRITORY_FEATHER of its box width inside it; None where the box is the face's own throughout."""
    x0, y0, x1, y1 = box
    own = nearest_to(face, others, np.arange(x0, x1, dtype=np.float32)[None, :], np.arange(y0, y1, dtype=np.float32)[:, None])
    if own.all():
        return None
    feather = TERRITORY_FEATHER * max(float(face.box[2]), 1.0)
    # the distance to the border: the box's own edge is no border (the part runs on past it), so it is padded by the
    # feather's width with the part as it is at the edge
    pad = int(np.ceil(feather)) + 1
    padded = cv2.copyMakeBorder(own.astype(np.uint8), pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    inward = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[pad:-pad, pad:-pad]
    return np.clip(inward / feather, 0.0, 1.0).astype(np.float32)
