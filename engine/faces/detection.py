"""Face detection (YuNet) and the choice of face.

Coordinates are pixels of the original (EXIF-oriented) image, x to the right and
y down. Landmark order is YuNet's: the eye on the image's left, the other eye,
nose tip, the mouth corner on the image's left, the other mouth corner.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from engine.core.errors import InputError, UserError
from engine.core.limits import WORKING_SIDE

# Detection runs on the image padded by this fraction of its longer side on every
# edge (a tight crop has no context around the face otherwise), resized so the
# longer side is each of the sizes in turn: the larger finds the smaller faces (a small
# face beside a large one in a group photo, or a small photo's only face, upscaled: a 77x78
# px portrait), the smaller the faces too large for the detector's view at the larger.
DETECT_PAD = 0.25

DETECT_SIZES = (320, 640)
# Tried only where no size above finds a face and the padded photo is larger than the last of them: a face 40-60 px wide
# in a 2048 px photo is 8-12 px at 640, under what YuNet finds. It takes 55-110 ms on two CPUs (320 and 640: 15-30 ms)
LAST_RESORT_SIZE = 1280
# Boxes found at two sizes that overlap by this much (intersection over union) are the same face (YuNet's own
# non-maximum suppression threshold within one size is 0.3)
SAME_FACE_IOU = 0.3

# The face width (px) messages ask for, when the detector finds no face and when the face it found is too
# small for dense landmarks. A margin over what was seen to fail (the real models on the astronaut and
# Grace Hopper downscaled): FaceMesh landmarked faces down to about 11 px wide and missed several of 11 px and less.
MIN_FACE_PX = 40

# what a face's width in the messages is measured on
AT_WORKING_SIZE = (
    f"(a photo larger than {WORKING_SIDE} px is first shrunk to {WORKING_SIDE} px on its longer side, so its face must be "
    "wider in proportion)"
)
NO_FACE = f"No face found: try a sharper, frontal photo where the face is at least {MIN_FACE_PX} px wide {AT_WORKING_SIZE}."


# Turns of a photo (np.rot90's k, anticlockwise) and how the user must turn it for that view. Where YuNet finds no face,
# the photo is looked at a quarter turn each way (a photo saved lying on its side: YuNet finds no face on its side at
# all, and said only "no face found"); the landmarks try all three on an aligned crop (landmarks.py).
TURNS = ((3, "90 degrees clockwise"), (1, "90 degrees anticlockwise"), (2, "180 degrees"))
QUARTER_TURNS = TURNS[:2]

# An upside-down face: YuNet's five points and FaceMesh's mesh are both placed on it as on an upright face (its mouth
# taken for its eyes), so no check on them tells it. The detector's score does. The check reads the aligned crop shrunk to
# UPRIGHT_SIZE px, once each way at UPRIGHT_INPUT px: the face fills the crop's middle at a known size, so one small pass
# reads it in 3-4 ms (at the crop's 512 px with `detect`'s sizes it took 14-20 ms a face, 60-75 ms where the turned crop
# held no face and the larger size was tried too). On the nine packaged portraits, their 512 px crops shrunk or aligned at
# this size directly, an upright face scores 0.08-0.87 higher as it is than turned 180 degrees (Einstein's small face,
# aligned at this size directly, is found neither way: taken as it is); of the five the detector finds turned upside down
# (the other four it does not find at all), each scores 0.09-0.93 higher turned (at 128-320 px the closest were 0.07
# either side). A face that scores UPSIDE_DOWN_MARGIN or more higher turned is refused; nearer, it is taken as it is.
UPSIDE_DOWN_MARGIN = 0.05
UPRIGHT_SIZE = 96
UPRIGHT_INPUT = 128


class NoFaceError(UserError):
    """No face in the image; the message says what to try."""


class FaceRefusal(NoFaceError):
    """A face found but refused. `finding` says what is wrong with it without what to do: in a group photo the other
    faces may be fine, and the advice ("turn the photo", "use a larger photo") is no advice for them."""

    def __init__(self, finding: str, advice: str):
        super().__init__(f"{finding} {advice}")
        self.finding = finding


class UpsideDownError(FaceRefusal):
    """A face that looks upside down (see `FaceRefusal`)."""

    def __init__(self, finding: str, advice: str = "Turn the photo upright and try again."):
        super().__init__(finding, advice)


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]  # x, y, width, height in original pixels
    landmarks: np.ndarray  # (5, 2) original pixels
    score: float
    cut_by_border: bool  # the box reaches past the image edge

    @property
    def area(self) -> float:
        return self.box[2] * self.box[3]

    def box_xyxy(self) -> list[float]:
        x, y, w, h = self.box
        return [round(x, 1), round(y, 1), round(x + w, 1), round(y + h, 1)]

    def box_text(self) -> str:
        """The box as messages name it: "x0, y0, x1, y1" in whole pixels."""
        return ", ".join(f"{v:.0f}" for v in self.box_xyxy())


class FaceDetector:
    """YuNet through OpenCV. One detector object, so calls are serialised by a lock."""

    def __init__(self, model_path: str, score_threshold: float = 0.6):
        self._detector = cv2.FaceDetectorYN.create(model_path, "", (320, 320), score_threshold, 0.3, 5000)
        self._lock = threading.Lock()

    def detect_once(self, rgb: np.ndarray, size: int) -> list[Face]:
        """The faces found at one size: `rgb` padded by DETECT_PAD and resized so its longer side is `size`."""
        height, width = rgb.shape[:2]
        pad = int(round(DETECT_PAD * max(height, width)))
        scale = size / (max(height, width) + 2 * pad)
        # resize first, then pad: the same picture as padding then resizing, at a fraction of the work
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        small = cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=interpolation)
        small = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
        border = int(round(pad * scale))
        resized = cv2.copyMakeBorder(small, border, border, border, border, cv2.BORDER_CONSTANT, value=(127, 127, 127))
        scale_x, scale_y = small.shape[1] / width, small.shape[0] / height
        with self._lock:
            self._detector.setInputSize((resized.shape[1], resized.shape[0]))
            _, rows = self._detector.detect(resized)
        faces = []
        for row in [] if rows is None else rows:
            x, y, w, h = row[:4].tolist()
            x, y, w, h = (x - border) / scale_x, (y - border) / scale_y, w / scale_x, h / scale_y
            points = (row[4:14].reshape(5, 2) - border) / np.array([scale_x, scale_y])
            cut = x < 0 or y < 0 or x + w > width or y + h > height
            faces.append(Face((x, y, w, h), points.astype(np.float32), float(row[14]), cut))
        return faces

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """All faces found at any of DETECT_SIZES, largest first ([] if none); a face found at more than one size is
        kept as the first size found it (`same_face`). Stopping at the first size that found a face lost the small
        faces of a group photo that only the larger size finds (a 45 px face beside a 254 px one)."""
        faces: list[Face] = []
        for size in DETECT_SIZES:
            faces += [face for face in self.detect_once(rgb, size) if not any(same_face(face, kept) for kept in faces)]
        if not faces and (1 + 2 * DETECT_PAD) * max(rgb.shape[:2]) > DETECT_SIZES[-1]:
            faces = self.detect_once(rgb, LAST_RESORT_SIZE)
        return sorted(faces, key=lambda face: face.area, reverse=True)


def box_overlap(first: Face, second: Face) -> float:
    """How much two detections' boxes overlap: intersection over union, 0-1."""
    (x0, y0, w0, h0), (x1, y1, w1, h1) = first.box, second.box
    across = max(0.0, min(x0 + w0, x1 + w1) - max(x0, x1))
    down = max(0.0, min(y0 + h0, y1 + h1) - max(y0, y1))
    overlap = across * down
    union = w0 * h0 + w1 * h1 - overlap
    return overlap / union if union > 0 else 0.0


def centre_in(face: Face, box_of: Face) -> bool:
    """Whether the centre of `face`'s box lies in `box_of`'s box."""
    (x, y, width, height), (left, top, box_width, box_height) = face.box, box_of.box
    return left <= x + width / 2 <= left + box_width and top <= y + height / 2 <= top + box_height


def over_one_another(first: Face, second: Face) -> bool:
    """Whether either detection's box has its centre in the other's: one face found twice, or a box on part of a face
    (a false hit on an eye), rather than two faces whose boxes touch."""
    return centre_in(first, second) or centre_in(second, first)


def same_face(first: Face, second: Face) -> bool:
    """Whether two detections' boxes overlap by SAME_FACE_IOU or more (`box_overlap`)."""
    return box_overlap(first, second) >= SAME_FACE_IOU


def choose_face(faces: list[Face], index: int | None = None) -> tuple[Face, list[str]]:
    """The face at `index` (default: the largest), with warnings for the user."""
    if not faces:
        raise NoFaceError(NO_FACE)
    warnings = []
    if index is None:
        index = 0
        if len(faces) > 1:
            warnings.append(f"{len(faces)} faces found; using the largest (face 0).")
    if not 0 <= index < len(faces):
        found = f"the photo has {len(faces)} faces, 0 to {len(faces) - 1}" if len(faces) > 1 else "the photo has one face, 0"
        raise InputError(f"face index {index}: {found} (numbered as the Age estimation tab numbers them, the largest first)")
    face = faces[index]
    if face.cut_by_border:
        warnings.append(f"Face {index} is cut by the image border; results may be less reliable.")
    return face, warnings


def refuse_small_face(face: Face, too_small_for: str) -> None:
    """Refuses (FaceRefusal) a face the detector found narrower than MIN_FACE_PX, the width every size message asks for.
    FaceMesh landmarks faces down to about 11 px wide, but the methods that change a face work on it enlarged to a large
    crop, where one this small is a blur; `too_small_for`: the method and what it makes of such a face, the message's
    middle ("too small for ...")."""
    width, height = face.box[2], face.box[3]
    if width < MIN_FACE_PX:
        # its width rounded down: a face 39.6 px wide is "39", not the "40" it is refused for falling short of
        raise FaceRefusal(
            f"The face found (box {face.box_text()} px) is {math.floor(width)}x{height:.0f} px: too small for {too_small_for}.",
            f"Use a photo where the face is at least {MIN_FACE_PX} px wide {AT_WORKING_SIZE}.",
        )


def _middle_score(faces: list[Face], size: tuple[int, int]) -> float:
    """The detector's score of the face whose box's centre is nearest the middle of an image of `size` (H, W); 0: none."""
    if not faces:
        return 0.0
    middle = np.array([size[1] / 2, size[0] / 2])
    face = min(faces, key=lambda f: float(np.hypot(*(np.array(f.box[:2]) + np.array(f.box[2:]) / 2 - middle))))
    return face.score


def check_upright(detector: FaceDetector, crop: np.ndarray, face: Face, matrix: np.ndarray, quarter_turns: bool = False) -> None:
    """Refuses the detector's `face` (UpsideDownError) when its aligned `crop` (square, UPRIGHT_SIZE px or more; `matrix`,
    2 x 3, took the photo to it) is upside down: the face in the crop's middle scores UPSIDE_DOWN_MARGIN or more higher
    turned 180 degrees than as it is; with `quarter_turns`, or turned a quarter turn either way (a face lying on its side:
    for the paths that read no landmarks of their own, whose FaceMesh would tell it). The message names the turn the
    photo needs (`photo_turn`)."""
    height, width = crop.shape[:2]
    if height != width or height < UPRIGHT_SIZE:
        raise ValueError(f"the upside-down check needs a square aligned crop of {UPRIGHT_SIZE} px or more, got {height}x{width}")
    small = crop if height == UPRIGHT_SIZE else cv2.resize(crop, (UPRIGHT_SIZE, UPRIGHT_SIZE), interpolation=cv2.INTER_AREA)

    def score(turns: int) -> float:
        turned = small if turns == 0 else np.ascontiguousarray(np.rot90(small, turns))
        return _middle_score(detector.detect_once(turned, UPRIGHT_INPUT), small.shape[:2])

    as_is = score(0)
    scores = {turns: score(turns) for turns in ((2, 1, 3) if quarter_turns else (2,))}
    if max(scores.values()) < as_is + UPSIDE_DOWN_MARGIN:
        return
    # refused: the crop's other turns are read too (only now, where they were not), and its surest turn is taken back
    # through the alignment to the photo's (a photo on its side aligns to a crop upside down or on its side)
    scores.update({turns: score(turns) for turns in (1, 3) if turns not in scores})
    best = max(scores, key=lambda turns: scores[turns])
    # where the alignment itself turned the face (the photo upright by its five points), the crop's own turn is named
    how = dict(TURNS).get(photo_turn(best, matrix)) or dict(TURNS)[best]
    score_text = f"(score {scores[best]:.2f}, against {as_is:.2f} as it is)"
    if face.cut_by_border:  # part of a face: the astronaut's portrait cut through her face "looked upside down"
        raise UpsideDownError(
            f"The face found (box {face.box_text()} px) runs past the photo's edge, and the detector cannot tell which way "
            f"up the part in the photo is (surer of it turned {how} {score_text}).",
            "Use a photo with the whole face in it.",
        )
    finding = "looks upside down" if how == "180 degrees" else "looks turned on its side"
    raise UpsideDownError(
        f"The face found (box {face.box_text()} px) {finding}: the detector is surer of it with the photo turned {how} "
        f"{score_text}."
    )


def photo_turn(crop_turns: int, matrix: np.ndarray) -> int:
    """The quarter turns (np.rot90's k, anticlockwise; 0-3) that make a photo upright, where its aligned crop (`matrix`,
    2 x 3, the photo to the crop) is upright after `crop_turns` of them: the face's up in the crop (up after the turns)
    taken to the photo by the alignment's inverse, to the nearest quarter turn."""
    # np.rot90 by k turns the picture anticlockwise: the crop's up after k turns pointed, in the crop (x right, y down),
    # up for k = 0, right for 1, down for 2, left for 3
    up = {0: (0.0, -1.0), 1: (1.0, 0.0), 2: (0.0, 1.0), 3: (-1.0, 0.0)}[crop_turns % 4]
    x, y = np.linalg.solve(np.asarray(matrix, np.float64)[:, :2], np.array(up))
    # the photo's face points up along (x, y): k anticlockwise turns bring it to (0, -1)
    angle = np.degrees(np.arctan2(x, -y))  # clockwise from up: 90 when the face's up points right
    return int(round(angle / 90.0)) % 4
