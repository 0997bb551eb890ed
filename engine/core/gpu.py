"""GPU scopes: on a ZeroGPU Space every GPU call runs inside `spaces.GPU`, lent a GPU for as long as
the work asked needs; elsewhere (no `spaces` package, or not on ZeroGPU) the function runs as it is.

ZeroGPU asks three things (Hub docs, "Spaces ZeroGPU"): `spaces` is imported before torch, CUDA is
never initialised in the main process (models are built at start-up and moved with `.to("cuda")`,
which ZeroGPU intercepts until a GPU is attached), and each GPU function says how long it needs.
Asking for less than the default 60 s puts a call earlier in the queue; asking for too little ends
it. So each task computes its duration from its request with `gpu_seconds`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any, TypeVar

try:  # on every Space; imports no torch (it patches torch only on ZeroGPU, so it must come first)
    import spaces
except ImportError:  # a machine without the package: every scope is a plain call
    spaces = None

F = TypeVar("F", bound=Callable[..., Any])

# Per-unit GPU time. Not measured on this project's machines (they have no GPU): derived from the
# published SDXL-Turbo timing on one A100 in fp16 at 512x512 (Stability AI's SDXL-Turbo release,
# Nov 2023): 207 ms per image for prompt encoding, one denoising step and VAE decoding, of which
# 67 ms is the one UNet evaluation. ZeroGPU lends H200s, which are faster than an A100.
UNET_STEP_S = 0.067  # one UNet evaluation of one 512 px image
IMAGE_S = 0.207 - 0.067  # prompt encoding + VAE decoding of one 512 px image
# The published figure leaves out the VAE encoding of the input, the CLIP and ArcFace encoders
# and batching effects: three times the published cost covers them.
MARGIN = 3.0
# Lending the GPU and moving the resident fp16 weights (SDXL-Turbo, CLIP ViT-L/14, ArcFace: about
# 7 GB) onto it, once per call: an allowance, to be replaced by a measurement on a ZeroGPU Space.
ATTACH_S = 10.0


def on_zero_gpu() -> bool:
    """True on a ZeroGPU Space (the platform sets SPACES_ZERO_GPU), where the GPU is lent per call."""
    return os.environ.get("SPACES_ZERO_GPU", "").strip().lower() in ("1", "true", "yes")


def gpu_seconds(unet_steps: int, images: int) -> int:
    """Seconds of GPU to ask for: `unet_steps` UNet evaluations of one 512 px image each and `images`
    images encoded and decoded, with the margin and the attach allowance, rounded up."""
    if unet_steps < 0 or images < 0:
        raise ValueError(f"work must be counted from 0, got {unet_steps} UNet steps and {images} images")
    return math.ceil(ATTACH_S + MARGIN * (unet_steps * UNET_STEP_S + images * IMAGE_S))


def gpu_scope(duration: Callable[..., int]) -> Callable[[F], F]:
    """Decorator: the function runs inside `spaces.GPU`, which calls `duration` with the function's own
    arguments for the seconds to lend; without `spaces`, or off ZeroGPU, the function is returned as it is."""

    def wrap(function: F) -> F:
        if spaces is None:
            return function
        return spaces.GPU(function, duration=duration)  # itself a no-op off ZeroGPU

    return wrap
