"""Identity embeddings for evaluation: SFace (OpenCV zoo), 128-d, on the detector's 5 points."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from .faces import Face


class SFaceIdentity:
    name = "SFace 2021dec int8 (OpenCV zoo)"

    def __init__(self, model_path: str):
        self._recognizer = cv2.FaceRecognizerSF.create(model_path, "")
        self._lock = threading.Lock()

    def embed(self, rgb: np.ndarray, face: Face) -> np.ndarray:
        """(128,) unit-length embedding of `face` in `rgb`."""
        x, y, w, h = face.box
        row = np.array([x, y, w, h, *face.landmarks.reshape(-1), face.score], dtype=np.float32)[None]
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        with self._lock:
            aligned = self._recognizer.alignCrop(bgr, row)
            feature = self._recognizer.feature(aligned)[0].astype(np.float64)
        return feature / max(np.linalg.norm(feature), 1e-12)

    @staticmethod
    def similarity(a: np.ndarray, b: np.ndarray) -> float:
        """Cosine similarity of two embeddings."""
        return float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
