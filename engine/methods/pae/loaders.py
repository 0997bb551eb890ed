"""Loader of a trained PAE age encoder, named by the catalogue in engine/core/registry.py."""

from __future__ import annotations

from engine.core.models import (
    ModelSpec,
    trained_file,
)
from engine.core.settings import Settings
from engine.methods.pae.encoder import load_age_encoder


def load_age_encoder_model(spec: ModelSpec, settings: Settings):

    return load_age_encoder(trained_file(spec, settings, "age_encoder.safetensors")).eval()
