"""Dense landmarks: mediapipe FaceMesh (478 points) on an aligned face."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from engine.faces.alignment import (
    align_face,
)
from engine.faces.detection import (
    Face,
    NoFaceError,
)


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
