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


def load_zone_diffusion(spec: ModelSpec, settings: Settings):
    from engine.methods.ldla.renderers import DiffusionRenderer

    if settings.profile == "tiny":
        from engine.methods import tiny

        pipe, resolution = tiny.sdxl_img2img(), 64
    else:
        pipe, resolution = get_cache(settings).get("sdxl_turbo"), 512
    folder = settings.model_dirs.get("ldla")  # a zone LoRA from train.zones
    if folder is None:
        return DiffusionRenderer(pipe, resolution)
    if not (Path(folder) / "pytorch_lora_weights.safetensors").is_file():
        raise ModelUnavailable(f"zone_diffusion: HUB_MODEL_DIR_LDLA={folder} holds no pytorch_lora_weights.safetensors")
    with GPU_LOCK:
        pipe.load_lora_weights(str(folder), weight_name="pytorch_lora_weights.safetensors", adapter_name="ldla")
    return DiffusionRenderer(pipe, resolution, adapter="ldla")


def load_scorenet_model(spec: ModelSpec, settings: Settings):
    from engine.methods.ldla.scorenet import load_scorenet

    return load_scorenet(trained_file(spec, settings, "scorenet.safetensors"))
