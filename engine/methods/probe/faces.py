"""Probe faces drawn text-to-image by prompted age, gender and ethnicity.

The conformal age-estimation report checks its estimator on faces a diffusion model drew
from prompts built from UTKFace's labels (age, gender, race in words), one face per
prompt ("Checking CP Age Estimator on Generated Images By Diffusion Model"). Here:

- the generator is SDXL-Turbo text-to-image, run as its model card says (1 step, guidance
  0, 512 px), over the components of the hub's one cached SDXL-Turbo (diffusers
  `from_pipe`: no second copy of any weight), with every LoRA adapter off; the report
  fine-tuned Stable Diffusion v1.5 on UTKFace and sampled it at guidance 7.5;
- the grid is every prompted age x gender x ethnicity x seed (settings `probe_*`), where
  the report drew one face per age with one gender and race each;
- seed s of every cell starts from the same noise, so cells differ only by their prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from engine.core.models import GPU_LOCK, use_adapter

# The report builds each prompt from a face's UTKFace labels in words and, against images of
# several people, advises "solo portrait" / "one person" ("How to Get Only One Face per Image");
# the rest of the wording is this project's.
PROMPT_TEMPLATE = (
    "a solo portrait photo of one person, a {age} year old {ethnicity} {gender}, face centred, looking at the camera"
)

# stabilityai/sdxl-turbo model card: text-to-image in 1 step with guidance_scale=0.0, trained at 512 x 512.
TURBO_STEPS = 1
TURBO_GUIDANCE = 0.0
TURBO_RESOLUTION = 512


@dataclass(frozen=True)
class ProbeCell:
    """One probe face: what it is prompted to be, and its seed."""

    age: int
    gender: str  # "female" or "male"
    ethnicity: str
    seed: int

    @property
    def prompt(self) -> str:
        return PROMPT_TEMPLATE.format(age=self.age, ethnicity=self.ethnicity, gender=self.gender)

    @property
    def name(self) -> str:
        """A file name stem that sorts by age: age005_female_white_s0."""
        ethnicity = re.sub(r"[^a-z0-9]+", "-", self.ethnicity.lower()).strip("-") or "unnamed"
        return f"age{self.age:03d}_{self.gender}_{ethnicity}_s{self.seed}"


def probe_grid(ages, genders, ethnicities, seeds: int) -> list[ProbeCell]:
    """Every age x gender x ethnicity x seed 0..seeds-1, ages first."""
    return [
        ProbeCell(int(age), gender, ethnicity, seed)
        for age in ages
        for gender in genders
        for ethnicity in ethnicities
        for seed in range(seeds)
    ]


class FaceGenerator(Protocol):
    """Draws the face a probe cell prompts for: (H, W, 3) uint8."""

    model: str

    def generate(self, cell: ProbeCell) -> np.ndarray: ...


class TextToFace:
    """SDXL-Turbo text-to-image on a StableDiffusionXLPipeline that shares the cached img2img pipeline's models."""

    def __init__(
        self,
        pipe,
        resolution: int = TURBO_RESOLUTION,
        steps: int = TURBO_STEPS,
        guidance_scale: float = TURBO_GUIDANCE,
        model: str = "stabilityai/sdxl-turbo",
    ):
        self.pipe = pipe
        self.resolution = resolution
        self.steps = steps
        self.guidance_scale = guidance_scale
        self.model = model

    def generate(self, cell: ProbeCell) -> np.ndarray:
        import torch  # noqa: PLC0415 - torch loads on first use, not at start-up

        with GPU_LOCK:  # the models are shared with lifespan aging and the zone renderer, which switch LoRAs
            use_adapter(self.pipe, None)
            image = self.pipe(
                prompt=cell.prompt,
                height=self.resolution,
                width=self.resolution,
                num_inference_steps=self.steps,
                guidance_scale=self.guidance_scale,
                generator=torch.Generator().manual_seed(cell.seed),
                output_type="np",
            ).images[0]  # (H, W, 3) in [0, 1]
        return (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)

    def describe(self) -> dict:
        return {
            "model": self.model,
            "pipeline": type(self.pipe).__name__,
            "steps": self.steps,
            "guidance_scale": self.guidance_scale,
            "resolution": self.resolution,
            "prompt_template": PROMPT_TEMPLATE,
        }
