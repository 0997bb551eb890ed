"""LoRA adapters on the SDXL-Turbo UNet, as both methods here train and serve them (Cradle2Cane, LDLA zones).

One layout for every adapter: the UNet's attention projections, alpha = rank unless
given, Gaussian init (B starts at zero), saved in diffusers' LoRA file format.
"""

from __future__ import annotations

from pathlib import Path

import torch

from engine.core.checkpoints import read_state_dict

# The UNet's attention projections, as in the published Cradle2Cane training script
# (github.com/byliutao/Cradle2Cane, lib/utils/train_utils.py, load_and_setup_models), itself
# from diffusers' examples/text_to_image/train_text_to_image_lora_sdxl.py.
LORA_TARGET_MODULES = ("to_q", "to_k", "to_v", "to_out.0")

LORA_FILE = "pytorch_lora_weights.safetensors"  # diffusers' default LoRA weight name (save/load_lora_weights)


def add_lora(unet, adapter: str, rank: int, alpha: int | None = None) -> None:
    """A fresh trainable LoRA named `adapter` on the UNet's attention projections (alpha defaults to the rank)."""
    from peft import LoraConfig  # noqa: PLC0415 - peft loads on first use of a LoRA path

    unet.add_adapter(
        LoraConfig(
            r=rank,
            lora_alpha=rank if alpha is None else alpha,
            init_lora_weights="gaussian",
            target_modules=list(LORA_TARGET_MODULES),
        ),
        adapter_name=adapter,
    )


def lora_parameters(unet) -> list[torch.nn.Parameter]:
    """The trainable LoRA weights of every adapter on the UNet."""
    return [p for name, p in unet.named_parameters() if "lora_" in name]


def lora_state(unet, adapter: str) -> dict[str, torch.Tensor]:
    """The adapter's weights (peft names, no `unet.` prefix)."""
    from peft.utils import get_peft_model_state_dict  # noqa: PLC0415 - peft loads on first use of a LoRA path

    return get_peft_model_state_dict(unet, adapter_name=adapter)


def set_lora_state(unet, adapter: str, state: dict[str, torch.Tensor]) -> None:
    """Load weights from lora_state() or from a diffusers LoRA file (keys prefixed `unet.`) into the adapter."""
    from peft.utils import set_peft_model_state_dict  # noqa: PLC0415 - peft loads on first use of a LoRA path

    set_peft_model_state_dict(unet, {k.removeprefix("unet."): v for k, v in state.items()}, adapter_name=adapter)


def save_lora(unet, adapter: str, folder: Path) -> None:
    """The adapter as `folder/LORA_FILE`, the file serving loads with `pipe.load_lora_weights`."""
    from diffusers import StableDiffusionXLImg2ImgPipeline  # noqa: PLC0415 - diffusers loads on first use of a diffusion path

    StableDiffusionXLImg2ImgPipeline.save_lora_weights(
        str(folder), unet_lora_layers=lora_state(unet, adapter), weight_name=LORA_FILE
    )


def load_lora(unet, adapter: str, folder: Path) -> None:
    """Read `folder/LORA_FILE` (written by save_lora) back into an adapter added with add_lora."""

    set_lora_state(unet, adapter, read_state_dict(Path(folder) / LORA_FILE))
