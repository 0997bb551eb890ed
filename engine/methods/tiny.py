"""The `tiny` profile: randomly initialised miniature models built from configs.

For tests only: they exercise the real pipelines and loading code in well under a
second on a CPU, and what they draw is noise, never a result to show a user.
Sizes follow the SDXL layout (two text encoders, text-time conditioning, VAE
scale factor 8) at a fraction of the width.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from engine.faces.iresnet import IResNet
from engine.methods.cradle2cane.nets import ProjectionMLP
from engine.methods.cradle2cane.pipeline import ADAPTER
from engine.methods.lora import add_lora
from engine.methods.sdxl import SDXLArchitecture, img2img_pipeline

if TYPE_CHECKING:  # transformers loads on first use of a path that needs it
    from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer

CROSS_ATTENTION_DIM = 64  # = 32 + 32 from the two text encoders (real SDXL: 2048)

TEXT_HIDDEN = 32

IRESNET_LAYERS = (1, 1, 1, 1)

IRESNET_WIDTHS = (8, 8, 8, 8)  # hidden state 8 * 7 * 7 = 392 (real: 25088)


def write_tokenizer(folder: Path) -> Path:
    """A byte-level BPE vocabulary small enough to write in a test: every byte, with and without </w>."""
    from tokenizers.pre_tokenizers import ByteLevel  # noqa: PLC0415 - loads with the tiny test models only

    folder.mkdir(parents=True, exist_ok=True)
    symbols = sorted(ByteLevel.alphabet())  # the 256 byte-level characters
    merges = ["a g", "ag e", "o l", "ol d", "y e", "ye a", "yea r", "year s"]
    vocab = symbols + [s + "</w>" for s in symbols]
    for merge in merges:
        joined = merge.replace(" ", "")
        vocab += [joined, joined + "</w>"]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    (folder / "vocab.json").write_text(json.dumps({token: i for i, token in enumerate(dict.fromkeys(vocab))}))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    return folder


def clip_tokenizers(folder: Path):
    """SDXL's two CLIP tokenizers (the second pads with "!") on the tiny vocabulary written to `folder`."""
    from transformers import CLIPTokenizer  # noqa: PLC0415 - transformers loads on first use of a path that needs it

    write_tokenizer(folder)
    return (
        CLIPTokenizer.from_pretrained(str(folder), model_max_length=77),
        CLIPTokenizer.from_pretrained(str(folder), model_max_length=77, pad_token="!"),
    )


# stabilityai/sdxl-turbo, scheduler/scheduler_config.json: the scheduler the model ships with.
TURBO_SCHEDULER = {
    "_class_name": "EulerAncestralDiscreteScheduler",
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "steps_offset": 1,
    "timestep_spacing": "trailing",
}


TEXT_ENCODER = {
    "hidden_size": TEXT_HIDDEN,
    "intermediate_size": 37,
    "num_attention_heads": 4,
    "num_hidden_layers": 3,
    "vocab_size": 1000,
    "max_position_embeddings": 77,
    "projection_dim": TEXT_HIDDEN,
    "bos_token_id": 0,
    "eos_token_id": 2,
}

# The SDXL layout at a fraction of the width (real: bench/configs).
ARCHITECTURE = SDXLArchitecture(
    unet={
        "block_out_channels": (32, 64),
        "layers_per_block": 1,
        "sample_size": 8,
        "in_channels": 4,
        "out_channels": 4,
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
        "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
        "attention_head_dim": (2, 4),
        "transformer_layers_per_block": (1, 2),
        "use_linear_projection": True,
        "cross_attention_dim": CROSS_ATTENTION_DIM,
        "addition_embed_type": "text_time",
        "addition_time_embed_dim": 8,
        "projection_class_embeddings_input_dim": 6 * 8 + TEXT_HIDDEN,
    },
    vae={
        "block_out_channels": (32, 32, 32, 32),
        "in_channels": 3,
        "out_channels": 3,
        "down_block_types": ("DownEncoderBlock2D",) * 4,
        "up_block_types": ("UpDecoderBlock2D",) * 4,
        "latent_channels": 4,
        "layers_per_block": 1,
        "sample_size": 64,
        "scaling_factor": 0.13025,
        "force_upcast": False,
    },
    text_encoder=TEXT_ENCODER,
    text_encoder_2=TEXT_ENCODER,
    scheduler=TURBO_SCHEDULER,
)


def sdxl_img2img(seed: int = 0):
    """A tiny StableDiffusionXLImg2ImgPipeline (about 1.8 M parameters), Turbo scheduler."""
    with tempfile.TemporaryDirectory(prefix="tiny-tokenizer-") as folder:  # read into memory; the folder is not kept
        tokenizers = clip_tokenizers(Path(folder))
    torch.manual_seed(seed)
    return img2img_pipeline(ARCHITECTURE, tokenizers)


def add_random_lora(pipe, rank: int = 4, seed: int = 0, adapter_name: str | None = None) -> None:
    """A LoRA on the UNet's attention projections with non-zero B, so on and off differ (default: Cradle2Cane's adapter)."""

    add_lora(pipe.unet, adapter_name or ADAPTER, rank)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in pipe.unet.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)


@dataclass
class TinyClip:
    """A CLIP model with its image processor and tokenizer (the tiny random one, or the real one: cradle2cane/loaders.py)."""

    model: CLIPModel
    processor: CLIPImageProcessor
    tokenizer: CLIPTokenizer


def clip(seed: int = 0) -> TinyClip:
    """A tiny CLIPModel (image and text towers) with its processor, 32 px images."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel  # noqa: PLC0415 - transformers loads on first use of a path that needs it

    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config=dict(
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=1000,
            bos_token_id=0,
            eos_token_id=2,
        ),
        vision_config=dict(
            hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2, image_size=32, patch_size=8
        ),
        projection_dim=32,
    )
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    with tempfile.TemporaryDirectory(prefix="tiny-clip-tokenizer-") as folder:
        tokenizer, _ = clip_tokenizers(Path(folder))
    return TinyClip(CLIPModel(config).eval(), processor, tokenizer)


def arcface(seed: int = 0):

    torch.manual_seed(seed)
    return IResNet(IRESNET_LAYERS, IRESNET_WIDTHS).eval()


def projections(seed: int = 0):
    """(face MLP, CLIP MLP) sized for the tiny ArcFace, CLIP and UNet."""

    torch.manual_seed(seed)
    face = ProjectionMLP(IRESNET_WIDTHS[-1] * 49, CROSS_ATTENTION_DIM).eval()
    clip_mlp = ProjectionMLP(32, CROSS_ATTENTION_DIM).eval()
    return face, clip_mlp
