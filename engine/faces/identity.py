"""Identity embeddings for evaluation: SFace (OpenCV zoo), 128-d, on the detector's 5 points."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from engine.faces.detection import Face

# SFace's cosine threshold for "the same person" (OpenCV's face_recognition_sface sample and model card: 0.363,
# chosen on LFW); a similarity above it is a match.
SFACE_MATCH_COSINE = 0.363


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


def mean_pairwise_distance(embeddings: np.ndarray) -> float:
    """Mean over pairs of 1 - cosine similarity of (N, D) embeddings: a set's diversity in that embedding
    (0.0 for fewer than two)."""
    embeddings = np.asarray(embeddings, dtype=np.float64)
    count = len(embeddings)
    if count < 2:
        return 0.0
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=-1, keepdims=True), 1e-12)
    # a cosine past 1 by rounding (identical embeddings) is no distance below 0: eight identical futures read "-0.0000"
    cosine = np.minimum(unit @ unit.T, 1.0)
    return float((1 - cosine)[~np.eye(count, dtype=bool)].mean())


class ArcFaceIdentity:
    """ArcFace through insightface's buffalo_l pack (downloaded by insightface on first use): the
    full-profile identity evaluator. The face nearest the detector's box is used."""

    name = "ArcFace (insightface buffalo_l)"

    def __init__(self, device: str):
        from insightface.app import FaceAnalysis  # noqa: PLC0415 - optional: insightface is only needed for the full evaluators

        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if device == "cuda" else ["CPUExecutionProvider"]
        self._app = FaceAnalysis(name="buffalo_l", providers=providers)
        self._app.prepare(ctx_id=0 if device == "cuda" else -1, det_size=(640, 640))
        self._lock = threading.Lock()

    def embed(self, rgb: np.ndarray, face: Face) -> np.ndarray:
        with self._lock:
            found = self._app.get(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        if not found:
            raise ValueError("insightface found no face where the detector found one")
        x, y, w, h = face.box
        centre = np.array([x + w / 2, y + h / 2])
        nearest = min(found, key=lambda f: np.linalg.norm((f.bbox[:2] + f.bbox[2:]) / 2 - centre))
        return np.asarray(nearest.normed_embedding, dtype=np.float64)

    similarity = staticmethod(SFaceIdentity.similarity)
