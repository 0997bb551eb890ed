"""Dense landmarks: mediapipe FaceMesh (478 points) on an aligned face."""

from __future__ import annotations

import math
import threading

import cv2
import numpy as np

from engine.faces.alignment import (
    align_face,
)
from engine.faces.detection import (
    MIN_FACE_PX,
    TURNS,
    Face,
    FaceRefusal,
    NoFaceError,
    UpsideDownError,
    photo_turn,
)
from engine.faces.zones import LEFT_EYE_OUTER, RIGHT_EYE_OUTER

NO_LANDMARKS = "FaceMesh found no face for dense landmarks: try a frontal, well-lit photo."

# TURNS (detection.py) are tried on the aligned crop when FaceMesh finds no face upright. YuNet's five points do not
# tell a face lying on its side: on the astronaut turned 90 degrees they still lie level (eye line within 1 degree of
# horizontal), so the crop aligned from them lies on its side too, and FaceMesh finds the face only once it is turned.
# Turned the other way (90 degrees clockwise), FaceMesh does find the face on the crop lying on its side, with its
# eyes' outer corners one above the other (eye line 89 degrees from level on the astronaut) where the aligned crop
# puts them level: a face whose eye line is more than this far from level in the aligned crop is not upright.
MAX_EYE_LINE_DEGREES = 45.0


class FaceMesh:
    """mediapipe FaceMesh (478 points with iris refinement), one graph behind a lock."""

    def __init__(self):
        import mediapipe as mp  # noqa: PLC0415 - mediapipe loads with FaceMesh on first use

        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.5
        )
        self._lock = threading.Lock()

    def landmarks(self, rgb: np.ndarray) -> np.ndarray:
        """(478, 2) pixel coordinates of the most prominent face in `rgb`."""
        with self._lock:
            result = self._mesh.process(np.ascontiguousarray(rgb))
        if not result.multi_face_landmarks:
            raise NoFaceError(NO_LANDMARKS)
        height, width = rgb.shape[:2]
        points = result.multi_face_landmarks[0].landmark
        return np.array([[p.x * width, p.y * height] for p in points], dtype=np.float32)


def eye_line_tilt(points: np.ndarray) -> float:
    """Degrees (0-180) between FaceMesh's line through the eyes' outer corners (`points`, 478 x 2) and level."""
    across = points[LEFT_EYE_OUTER] - points[RIGHT_EYE_OUTER]
    return abs(float(np.degrees(np.arctan2(across[1], across[0]))))


def face_landmarks(mesh: FaceMesh, crop: np.ndarray, face: Face, matrix: np.ndarray | None = None) -> np.ndarray:
    """(478, 2) FaceMesh points on `crop`, the aligned crop of the detector's `face` (`matrix`, 2 x 3: the photo to the
    crop, which names the turn the photo needs; None: the crop's turn is named).

    Where FaceMesh finds no face, the message says what is wrong with the face the detector found: cut off by the
    photo's edge, too small (its size, and the width to aim for), or lying on its side or upside down (how to turn the
    photo); else that FaceMesh saw no face where the detector found one (its box and score). A face FaceMesh
    finds lying on its side (MAX_EYE_LINE_DEGREES) is refused too, with how far it is turned."""
    box = face.box_text()
    try:
        points = mesh.landmarks(crop)
    except NoFaceError:
        pass
    else:
        tilt = eye_line_tilt(points)
        if tilt <= MAX_EYE_LINE_DEGREES:
            return points
        raise UpsideDownError(f"The face found (box {box} px) is not upright: its eyes' line is {tilt:.0f} degrees from level.")
    # the size first: on a face under MIN_FACE_PX, enlarged into the crop, FaceMesh's finding a face turned says little
    # (the astronaut's 8 px face upright was "found" turned 90 degrees)
    width, height = face.box[2], face.box[3]
    if width < MIN_FACE_PX and face.cut_by_border:  # what was found is the part of a face inside the photo
        raise NoFaceError(
            f"The face found (box {box} px) runs past the photo's edge: only part of it is in the photo, too little for "
            f"dense landmarks. Use a photo with the whole face in it, at least {MIN_FACE_PX} px wide."
        )
    if width < MIN_FACE_PX:
        raise NoFaceError(
            f"The face found is {math.floor(width)}x{height:.0f} px, too small for dense landmarks: use a photo where the "
            f"face is at least {MIN_FACE_PX} px wide."
        )
    # the turn that shows the face upright: on a turned crop FaceMesh can find the face lying on its side too (an
    # upside-down Obama turned a quarter turn either way: eye lines 85-87 degrees from level), and that turn is no answer
    for turns, how in TURNS:
        try:
            turned = mesh.landmarks(np.ascontiguousarray(np.rot90(crop, turns)))
        except NoFaceError:
            continue
        if eye_line_tilt(turned) > MAX_EYE_LINE_DEGREES:
            continue
        # the crop's turn taken back to the photo's (where the alignment turned the face, the crop's own is named)
        how = dict(TURNS).get(photo_turn(turns, matrix), how) if matrix is not None else how
        finding = "looks upside down" if how == "180 degrees" else "is not upright"
        raise UpsideDownError(f"The face found (box {box} px) {finding}: FaceMesh finds it only with the photo turned {how}.")
    # a refusal: in a group photo the face's finding is said without the advice, which is for a photo of one face
    finding = (
        f"FaceMesh found no face for dense landmarks where the detector found one (box {box} px, detector score {face.score:.2f})"
    )
    if face.cut_by_border:
        raise FaceRefusal(f"{finding}: it runs past the photo's edge.", "Use a photo with the whole face in it.")
    raise FaceRefusal(f"{finding}.", "Try a frontal, well-lit photo.")


def dense_landmarks(mesh: FaceMesh, rgb: np.ndarray, face: Face, size: int = 512) -> np.ndarray:
    """(478, 2) FaceMesh points of `face` in original pixels, found on its aligned crop."""
    aligned = align_face(rgb, face, size)
    points = face_landmarks(mesh, aligned.crop, face, aligned.matrix)
    inverse = cv2.invertAffineTransform(aligned.matrix)
    return points @ inverse[:, :2].T + inverse[:, 2]
