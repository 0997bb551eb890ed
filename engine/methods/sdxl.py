"""An SDXL img2img pipeline built from architecture configs with random weights (nothing downloaded).

One builder for every size: the tiny profile's miniature models (engine.methods.tiny) and the
full SDXL-Turbo architecture the GPU benchmarks and `make gpu-check` time (bench/configs).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SDXLArchitecture:
    """Constructor configs: diffusers' UNet2DConditionModel and AutoencoderKL configs,
    transformers' CLIPTextConfig keyword arguments for both text encoders, a scheduler config
    (its `_class_name` names the diffusers scheduler)."""

    unet: dict
    vae: dict
    text_encoder: dict
    text_encoder_2: dict
    scheduler: dict


def img2img_pipeline(architecture: SDXLArchitecture, tokenizers, device: str | torch.device = "cpu"):
    """StableDiffusionXLImg2ImgPipeline at random weights, built on `device`, fp32, progress bar off.

    The random draws come from torch's global generator in a fixed order (UNet, VAE, text
    encoder, text encoder 2): seed it first for reproducible weights.
    """
    import diffusers  # noqa: PLC0415 - diffusers loads on first use of a diffusion path
    from diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl_img2img import (  # noqa: PLC0415 - as above
        StableDiffusionXLImg2ImgPipeline,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection  # noqa: PLC0415 - as above

    tokenizer, tokenizer_2 = tokenizers
    with torch.device(device):
        unet = diffusers.UNet2DConditionModel.from_config(architecture.unet)
        vae = diffusers.AutoencoderKL.from_config(architecture.vae)
        text_encoder = CLIPTextModel(CLIPTextConfig(**architecture.text_encoder))
        text_encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(**architecture.text_encoder_2))
    scheduler_class = getattr(diffusers, architecture.scheduler["_class_name"])
    pipe = StableDiffusionXLImg2ImgPipeline(
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer_2,
        unet=unet,
        scheduler=scheduler_class.from_config(architecture.scheduler),
        requires_aesthetics_score=False,
        force_zeros_for_empty_prompt=True,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe
