"""Loader of the probe's text-to-face generator, named by the catalogue in engine/core/registry.py."""

from __future__ import annotations

from engine.core.models import ModelSpec
from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.methods import tiny
from engine.methods.probe.faces import TURBO_RESOLUTION, TextToFace

TINY_RESOLUTION = 64  # the tiny VAE's sample size


def load_probe_faces(spec: ModelSpec, settings: Settings) -> TextToFace:
    """SDXL-Turbo text-to-image over the cached img2img pipeline's models (full), or over a tiny random one (tiny)."""
    from diffusers import StableDiffusionXLPipeline  # noqa: PLC0415 - diffusers loads on first use of a diffusion path

    if settings.profile == "tiny":
        pipe, resolution, model = (
            StableDiffusionXLPipeline.from_pipe(tiny.sdxl_img2img()),
            TINY_RESOLUTION,
            "tiny random SDXL (tests only)",
        )
    else:
        cache = get_cache(settings)
        # the same UNet, VAE, text encoders, tokenizers and scheduler objects as the cached img2img pipeline
        pipe = StableDiffusionXLPipeline.from_pipe(cache.get("sdxl_turbo"))
        resolution, model = TURBO_RESOLUTION, cache.spec("sdxl_turbo").source.partition(":")[2]
    pipe.set_progress_bar_config(disable=True)
    return TextToFace(pipe, resolution, model=model)
