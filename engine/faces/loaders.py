"""Loaders of the face models (detector, FaceMesh, identity), named by the catalogue in engine/core/registry.py."""

from __future__ import annotations

import importlib.util

from engine.core.models import (
    ModelSpec,
    ModelUnavailable,
    package_file,
)
from engine.core.settings import Settings
from engine.faces.detection import FaceDetector
from engine.faces.identity import ArcFaceIdentity, SFaceIdentity
from engine.faces.landmarks import FaceMesh
from engine.faces.segmentation import SelfieSegmenter


def load_face_detector(spec: ModelSpec, settings: Settings):

    return FaceDetector(str(package_file(spec)), settings.detect_threshold)


def load_face_mesh(spec: ModelSpec, settings: Settings):

    package_file(spec)  # says what to install if mediapipe (or its bundled model) is missing
    return FaceMesh()


def load_background_segmenter(spec: ModelSpec, settings: Settings):

    package_file(spec)  # says what to install if mediapipe (or its bundled model) is missing
    return SelfieSegmenter()


def load_identity(spec: ModelSpec, settings: Settings):

    return SFaceIdentity(str(package_file(spec)))


def load_arcface_identity(spec: ModelSpec, settings: Settings):
    if importlib.util.find_spec("insightface") is None:
        raise ModelUnavailable(f"identity_arcface: insightface is not installed. {spec.install}")

    return ArcFaceIdentity(settings.device)
