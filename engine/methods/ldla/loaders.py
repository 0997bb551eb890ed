"""Loaders of the zone diffusion renderer and ScoreNet, named by the catalogue in engine/core/registry.py."""

from __future__ import annotations

from pathlib import Path

from engine.core.models import (
    GPU_LOCK,
    ModelSpec,
    ModelUnavailable,
    trained_file,
)
from engine.core.registry import (
    get_cache,
)
from engine.core.settings import Settings
from engine.methods import tiny
from engine.methods.ldla.renderers import ADAPTER, DiffusionRenderer
from engine.methods.ldla.scorenet import load_scorenet
from engine.methods.lora import LORA_FILE


def load_zone_diffusion(spec: ModelSpec, settings: Settings):

    if settings.profile == "tiny":
        pipe, resolution = tiny.sdxl_img2img(), 64
    else:
        pipe, resolution = get_cache(settings).get("sdxl_turbo"), 512
    folder = settings.model_dirs.get("ldla")  # a zone LoRA from train.zones
    if folder is None:
        return DiffusionRenderer(pipe, resolution)
    if not (Path(folder) / LORA_FILE).is_file():
        raise ModelUnavailable(f"zone_diffusion: HUB_MODEL_DIR_LDLA={folder} holds no {LORA_FILE}")
    with GPU_LOCK:
        pipe.load_lora_weights(str(folder), weight_name=LORA_FILE, adapter_name=ADAPTER)
    return DiffusionRenderer(pipe, resolution, adapter=ADAPTER)


def load_scorenet_model(spec: ModelSpec, settings: Settings):

    return load_scorenet(trained_file(spec, settings, "scorenet.safetensors"))
