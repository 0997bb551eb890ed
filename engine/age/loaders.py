"""Loaders of the age estimators, named by the catalogue in engine/core/registry.py."""

from __future__ import annotations

from engine.age.estimators import HubAgeEstimator, OnnxAgeEstimator
from engine.core.models import (
    ModelSpec,
    ModelUnavailable,
    onnx_providers,
    package_file,
)
from engine.core.registry import (
    get_cache,
)
from engine.core.settings import Settings


def load_offline_age(spec: ModelSpec, settings: Settings):

    age_model = package_file(spec)
    folder = age_model.parent
    return OnnxAgeEstimator(
        age_model, folder / "gender-v1.onnx", folder / "shape_predictor_5_face_landmarks.dat", onnx_providers(settings)
    )


def load_hub_age(spec: ModelSpec, settings: Settings):

    if not settings.age_estimator_source:
        raise ModelUnavailable(f"age_hub: not configured. {spec.install}")
    offline = get_cache(settings).get("age_offline")
    return HubAgeEstimator(settings.age_estimator_source, offline, settings.device, settings.dtype_name)
