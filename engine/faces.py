"""Face analysis shared by every tab: detection, 5-point alignment, paste-back, dense landmarks.

Coordinates are pixels of the original (EXIF-oriented) image, x to the right and
y down. Landmark order is YuNet's: the eye on the image's left, the other eye,
nose tip, the mouth corner on the image's left, the other mouth corner.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import cv2
import numpy as np

logger = logging.getLogger(__name__)

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

# Detection runs on the image padded by this fraction of its longer side on every
# edge (a tight crop has no context around the face otherwise), resized so the
# longer side is the first size; if nothing is found, the next sizes are tried
# (upscaling small photos, e.g. a 77x78 px portrait).
DETECT_PAD = 0.25
DETECT_SIZES = (320, 640)


class NoFaceError(ValueError):
    """No face in the image; the message says what to try."""


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


class FaceDetector:
    """YuNet through OpenCV. One detector object, so calls are serialised by a lock."""

    def __init__(self, model_path: str, score_threshold: float = 0.6):
        self._detector = cv2.FaceDetectorYN.create(model_path, "", (320, 320), score_threshold, 0.3, 5000)
        self._lock = threading.Lock()

    def _detect_once(self, rgb: np.ndarray, size: int) -> list[Face]:
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
        """All faces, largest first; [] if none at any size."""
        for size in DETECT_SIZES:
            faces = self._detect_once(rgb, size)
            if faces:
                return sorted(faces, key=lambda face: face.area, reverse=True)
        return []


def choose_face(faces: list[Face], index: int | None = None) -> tuple[Face, list[str]]:
    """The face at `index` (default: the largest), with warnings for the user."""
    if not faces:
        raise NoFaceError("No face found: try a sharper, frontal photo where the face is at least 40 px wide.")
    warnings = []
    if index is None:
        index = 0
        if len(faces) > 1:
            warnings.append(f"{len(faces)} faces found; using the largest (face 0).")
    if not 0 <= index < len(faces):
        raise ValueError(f"face index must be between 0 and {len(faces) - 1}, got {index}")
    face = faces[index]
    if face.cut_by_border:
        warnings.append(f"Face {index} is cut by the image border; results may be less reliable.")
    return face, warnings


@dataclass(frozen=True)
class AlignedFace:
    crop: np.ndarray  # (size, size, 3) uint8
    matrix: np.ndarray  # (2, 3) original -> crop


def alignment_matrix(landmarks: np.ndarray, size: int = 512) -> np.ndarray:
    """Similarity transform (rotation, uniform scale, shift) taking the 5 points to the FFHQ template."""
    template = FFHQ_TEMPLATE_512 * (size / 512.0)
    matrix, _ = cv2.estimateAffinePartial2D(
        np.asarray(landmarks, dtype=np.float32), template, method=cv2.LMEDS
    )
    if matrix is None:
        raise NoFaceError("The face's landmarks are degenerate: try a clearer, frontal photo.")
    return matrix


def align_face(rgb: np.ndarray, face: Face, size: int = 512) -> AlignedFace:
    """An FFHQ-style crop; parts outside the photo are filled by reflection."""
    matrix = alignment_matrix(face.landmarks, size)
    crop = cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
    return AlignedFace(crop=crop, matrix=matrix)


def feather_mask(size: int, margin: float = 0.06) -> np.ndarray:
    """(size, size) float mask in [0, 1]: 1 inside, falling smoothly to 0 at the crop's edge."""
    inset = max(2, int(round(margin * size)))
    mask = np.zeros((size, size), np.float32)
    mask[inset:-inset, inset:-inset] = 1.0
    blur = 2 * (inset // 2) + 1
    mask = cv2.GaussianBlur(mask, (blur, blur), 0)
    mask[: inset // 2, :] = mask[-(inset // 2):, :] = 0.0
    mask[:, : inset // 2] = mask[:, -(inset // 2):] = 0.0
    return mask


def paste_back(original: np.ndarray, edited_crop: np.ndarray, matrix: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Put an edited aligned crop back into the photo through a feathered mask.

    Pixels where the warped mask is 0 are returned exactly as they were.
    """
    height, width = original.shape[:2]
    size = edited_crop.shape[0]
    if mask is None:
        mask = feather_mask(size)
    inverse = cv2.invertAffineTransform(matrix)
    warped = cv2.warpAffine(edited_crop, inverse, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    weight = cv2.warpAffine(mask, inverse, (width, height), flags=cv2.INTER_LINEAR, borderValue=0.0)[..., None]
    blended = original.astype(np.float32) * (1.0 - weight) + warped.astype(np.float32) * weight
    result = np.clip(np.round(blended), 0, 255).astype(np.uint8)
    return np.where(weight > 0, result, original)


class FaceMesh:
    """mediapipe FaceMesh (478 points with iris refinement), one graph behind a lock."""

    def __init__(self):
        import mediapipe as mp

        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.5
        )
        self._lock = threading.Lock()

    def landmarks(self, rgb: np.ndarray) -> np.ndarray:
        """(478, 2) pixel coordinates of the most prominent face in `rgb`."""
        with self._lock:
            result = self._mesh.process(np.ascontiguousarray(rgb))
        if not result.multi_face_landmarks:
            raise NoFaceError("FaceMesh found no face for dense landmarks: try a frontal, well-lit photo.")
        height, width = rgb.shape[:2]
        points = result.multi_face_landmarks[0].landmark
        return np.array([[p.x * width, p.y * height] for p in points], dtype=np.float32)


def dense_landmarks(mesh: FaceMesh, rgb: np.ndarray, face: Face, size: int = 512) -> np.ndarray:
    """(478, 2) FaceMesh points of `face` in original pixels, found on its aligned crop."""
    aligned = align_face(rgb, face, size)
    points = mesh.landmarks(aligned.crop)
    inverse = cv2.invertAffineTransform(aligned.matrix)
    return points @ inverse[:, :2].T + inverse[:, 2]
