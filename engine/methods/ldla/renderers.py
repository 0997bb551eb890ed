"""Renderers that move one zone crop from its current aging score to a target score.

- `ClassicalRenderer` (CPU, no weights): procedural aging signs (on a black-and-white photo the pipeline keeps only
  their grey level). Glabellar lines are folds (a soft shadow lit on both sides). Wrinkles are
  creases, a thin dark valley with a broader lit shoulder beside it, that follow the
  zone's direction, taper to nothing at their ends and vary in depth along their
  length; their count, depth and length grow with the score; they are irregular and
  seeded, and multiplied into luminance only (CIELAB L) so skin tone is kept, with
  fine skin texture and a slight tone change. A target below the
  current score fills the creases and flattens the folds (engine/methods/classical/youth.py),
  keeping what is not skin-coloured (glasses frames, brows) sharp.
- `DiffusionRenderer`: img2img on the shared SDXL-Turbo with the LDLA paper's
  prompt template (`aging_prompt`, the one template training and serving share):
  "image of {zone} wrinkles with an aging score of {score}%", plus "for a person
  of {ethnicity} ethnicity" only where the checkpoint was trained with it.
  Zone crops are rendered at the renderer's resolution (512 px on the full
  profile; the paper's crops are 128 x 128, sec. 5.1, which it names as a cause
  of blur) and resized back to the crop's size in the face.
  The refiner (sec. 3.4) is a setting: the paper runs the SDXL refiner model at a
  very small strength; the default here is the same SDXL-Turbo, zone LoRA off.

Scores are percentages, 0-100.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from engine.core.memo import memo
from engine.core.models import GPU_LOCK, use_adapter
from engine.core.pixels import to_lab, to_uint8
from engine.core.settings import LDLA_REFINERS, REFINER_LABELS
from engine.faces.zones import ZONE_TYPES, Zone
from engine.methods.classical.shape import skin_in_shadow
from engine.methods.cradle2cane.maths import denoising_steps

MAX_LINES = {"horizontal": 6, "vertical": 3, "radial": 6, "arc": 3, "axis": 3}


# Per wrinkle kind: furrow width (in inter-ocular distances) and depth relative to the maximum.
PROFILE = {
    "horizontal": (0.016, 0.8),
    # glabellar and upper-lip lines are fine: at 0.018 d wide, the deeper creases of 70-80 drew the short
    # glabellar ones as dark smudges between the brows (from looking)
    "vertical": (0.012, 0.65),
    "radial": (0.012, 0.9),
    "arc": (0.016, 0.8),
    # the nasolabial and marionette creases: the crease in a fold's valley, as thin as the arcs; the fold's broad shading
    # and its lit cheek are the soft-tissue descent's (classical/shape.py, fold_shading). At 0.04 d and full depth they
    # were dark bands 15 px wide down from the mouth's corners at 80, read as smudges (looked at 2x, the astronaut)
    "axis": (0.016, 0.8),
}

ZONE_DEPTH = {"nasal_bridge": 0.5, "upper_lip": 0.6}
# Glabellar (frown) lines are folds of skin between the brows, not creases: at the vertical kind's width they read as
# thin dark strokes drawn between the brows at 70-80 (looked at, astronaut at 1:1). A fold: a soft shadow about 2.5 mm
# wide, of an interpupillary distance (d) of about 63 mm (Dodgson 2004, Proc SPIE 5291:36), so 0.03-0.04 d, shallower as it
# is wider, with the skin lit on both sides of it (the bulges the corrugators push up). Width and depth from looking.
ZONE_PROFILE = {"glabella": (0.03, 0.6)}
FOLD_ZONES = frozenset({"glabella"})  # zones whose lines are folds: a lit shoulder on both sides of the valley
# Glabellar lines come as a pair, one beside each brow's head (the corrugators draw the brows together and the skin
# folds between them: the "11"), not one down the middle: drawn as the vertical kind's three lines from the middle out,
# short and low in the zone, they read as two dark smudges between the eyes at 70-80 (looked at 2x on the astronaut
# and Obama). Both lines come at every score, equally deep. Each line's offset from the middle in zone widths (about
# 0.14 d either side, by the brows' heads) and its length in zone heights (0.2-0.3 d at a full score), from looking.
GLABELLA_LINES = 2
GLABELLA_PAIR = 0.3
GLABELLA_LENGTH = (0.6, 0.9)


def _rng(seed: int, zone: str) -> np.random.Generator:
    """One generator per (seed, zone): a zone looks the same whatever else is edited."""
    digest = hashlib.sha256(f"{seed}:{zone}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


@dataclass
class Line:
    points: np.ndarray  # (K, 2) float pixels in crop coordinates
    depth: float  # relative depth in (0.5, 1]
    highlight: np.ndarray  # (2,) unit offset toward the lit side of the furrow


def _wobbly(start: np.ndarray, end: np.ndarray, rng: np.random.Generator, amplitude: float, count: int = 12) -> np.ndarray:
    t = np.linspace(0, 1, count)[:, None]
    base = start + (end - start) * t
    direction = (end - start) / max(np.linalg.norm(end - start), 1e-6)
    normal = np.array([-direction[1], direction[0]])
    phase, frequency = rng.uniform(0, 2 * np.pi), rng.uniform(0.6, 1.6)
    bend = amplitude * (np.sin(np.pi * frequency * t + phase) + 0.35 * rng.standard_normal((count, 1)).cumsum(0) / count)
    return base + normal * bend


def candidate_lines(zone: Zone, polygon: np.ndarray, rng: np.random.Generator, d: float) -> list[Line]:
    """The zone's possible wrinkles, most prominent first; a higher score uses more of them."""
    x0, y0 = polygon.min(0)
    x1, y1 = polygon.max(0)
    width, height = x1 - x0, y1 - y0
    kind = zone.direction
    lines = []
    glabella = zone.name == "glabella" and kind == "vertical"
    count = GLABELLA_LINES if glabella else MAX_LINES[kind]
    for index in range(count):
        depth = 1.0 if glabella else 1.0 - 0.5 * index / count * rng.uniform(0.6, 1.0)
        if kind == "horizontal":
            y = y0 + height * np.clip(
                0.5 + (index % 2 * 2 - 1) * (index + 1) // 2 / (MAX_LINES[kind] + 1) + rng.normal(0, 0.03), 0.1, 0.9
            )
            span = width * rng.uniform(0.45, 0.85)
            cx = x0 + width * rng.uniform(0.35, 0.65)
            points = _wobbly(np.array([cx - span / 2, y]), np.array([cx + span / 2, y]), rng, 0.04 * d)
            lines.append(Line(points, depth, np.array([0.0, -1.0])))
        elif glabella:
            # one line beside each brow's head
            across = GLABELLA_PAIR * (1 - 2 * (index % 2))
            x = x0 + width * np.clip(0.5 + across + rng.normal(0, 0.02), 0.15, 0.85)
            length = height * rng.uniform(*GLABELLA_LENGTH)
            top = y0 + (height - length) * rng.uniform(0.1, 0.5)
            points = _wobbly(np.array([x, top]), np.array([x + rng.normal(0, 0.02 * d), top + length]), rng, 0.01 * d)
            lines.append(Line(points, depth, np.array([-1.0, 0.0])))
        elif kind == "vertical":
            x = x0 + width * np.clip(0.5 + (index % 2 * 2 - 1) * (index + 1) // 2 * 0.14 + rng.normal(0, 0.03), 0.15, 0.85)
            length = height * rng.uniform(0.35, 0.75)
            top = y0 + (height - length) * rng.uniform(0.2, 0.8)
            points = _wobbly(np.array([x, top]), np.array([x + rng.normal(0, 0.03 * d), top + length]), rng, 0.015 * d)
            lines.append(Line(points, depth, np.array([-1.0, 0.0])))
        elif kind == "radial":
            centre = (x0 + x1) / 2
            outward = 1.0 if centre > zone.anchor[0] else -1.0  # away from the eye
            angle = np.radians((index - (MAX_LINES[kind] - 1) / 2) * 17 + rng.normal(0, 4))
            direction = np.array([outward * math.cos(angle), math.sin(angle)])
            start = zone.anchor + direction * d * rng.uniform(0.06, 0.12)
            end = start + direction * d * rng.uniform(0.14, 0.26)
            points = _wobbly(start, end, rng, 0.01 * d, 8)
            lines.append(Line(points, depth, np.array([-direction[1], direction[0]])))
        elif kind == "arc":
            offset = 0.3 + 0.45 * index / MAX_LINES[kind] + rng.normal(0, 0.04)
            xs = np.linspace(x0 + 0.15 * width, x1 - 0.15 * width, 12)
            sag = 0.25 * height * np.sin(np.linspace(0, np.pi, 12))
            points = np.stack([xs, y0 + offset * height + sag * rng.uniform(0.5, 1.0)], 1)
            lines.append(Line(points, depth, np.array([0.0, -1.0])))
        else:  # axis: a fold along the zone's axis, then finer lines beside it
            side = (index % 2 * 2 - 1) * ((index + 1) // 2) * 0.05 * d
            direction = (zone.axis_end - zone.anchor) / max(np.linalg.norm(zone.axis_end - zone.anchor), 1e-6)
            normal = np.array([-direction[1], direction[0]])
            start = zone.anchor + normal * side + direction * d * rng.uniform(0.0, 0.06)
            end = zone.axis_end + normal * side - direction * d * rng.uniform(0.0, 0.06)
            points = _wobbly(start, end, rng, 0.02 * d)
            lines.append(Line(points, depth if index else 1.0, normal))
    return lines


def _lines_and_state(zone: Zone, polygon: np.ndarray, seed: int, d: float) -> tuple[list[Line], Mapping[str, Any]]:
    """(the zone's candidate lines, the state of its generator after drawing them)."""
    rng = _rng(seed, zone.name)
    lines = candidate_lines(zone, polygon, rng, d)
    return lines, rng.bit_generator.state


@dataclass(frozen=True)
class ClassicalSettings:
    # share of the skin's lightness a score-100 crease's valley takes (multiplied in); from looking beside the
    # 77-year-old prototype (texture.py) and at 2x on the packaged portraits: at 0.2 a 70-80 target's forehead
    # lines and crow's feet read as faint drawn lines, at 0.32 still faint on darker skin (Obama at 70), at 0.45
    # as creases
    max_depth: float = 0.45
    highlight: float = 0.35  # the lit shoulder's strength relative to the valley
    # the fine skin texture's scale at a full step, in L levels: it scales unit noise blurred by 0.7 px, whose standard
    # deviation is 1 / (2 sqrt(pi) 0.7), about 0.4, so the texture's is about 2 levels
    texture: float = 5.0
    smoothing: float = 1.4  # how fast lowering the score smooths


def crease_profile(count: int, rng: np.random.Generator) -> np.ndarray:
    """(count,) depth along a crease, 0-1: tapered to nothing at both ends (a crease fades into the skin, it
    does not stop), deepest somewhere in its middle third, and uneven along its length (from looking)."""
    t = np.linspace(0.0, 1.0, count)
    peak = rng.uniform(0.35, 0.65)
    taper = np.where(t < peak, t / peak, (1 - t) / (1 - peak)) ** 0.7
    uneven = 0.75 + 0.25 * np.sin(2 * np.pi * rng.uniform(1.0, 2.5) * t + rng.uniform(0, 2 * np.pi))
    return taper * uneven


class ClassicalRenderer:
    name = "classical"
    label = "classical renderer (procedural, CPU)"

    def __init__(self, settings: ClassicalSettings = ClassicalSettings()):
        self.settings = settings

    def render(
        self,
        crop: np.ndarray,
        zone: Zone,
        polygon: np.ndarray,
        d: float,
        current: float,
        target: float,
        seed: int,
        younger: np.ndarray | None = None,
        skin_colour: np.ndarray | None = None,
    ) -> np.ndarray:
        """`crop` (S, S, 3) uint8 of the zone; `zone` and its `polygon` in crop pixels (`Zone.in_box`: the lines start at
        its anchor and follow its axis there); scores 0-100. Returns the new crop.
        `younger` (S, S, 3): the crop of the face made young in full (pipeline.young_face); a lower score goes its
        share of the way to it, with glasses' lenses and frames, brows and nostrils kept as that keeps them (creases
        filled in the zone crop alone smeared a tinted lens and its rim over the cheek). `skin_colour` ((2,) a*, b* on
        OpenCV's 8-bit scale): the face's skin colour, which a crease's valley shows (`skin_in_shadow`); None: the
        valley keeps each pixel's own."""
        lab = to_lab(crop)
        luminance = lab[..., 0]
        rng = _rng(seed, zone.name)
        settings = self.settings
        if target > current:
            amount = (target - current) / 100.0
            # the candidate lines depend on the zone and the seed alone (every target of a strip draws the same):
            # drawn once, with the generator's state after them, so what is drawn next is drawn as before
            key = (seed, zone.name, zone.direction, np.asarray(polygon), np.asarray(zone.anchor), np.asarray(zone.axis_end), d)
            lines, state = memo("zone_lines", key, lambda: _lines_and_state(zone, polygon, seed, d))
            rng.bit_generator.state = state
            # more lines as the score rises; the glabella's pair together
            used = lines if zone.name == "glabella" else lines[: max(1, math.ceil(amount * len(lines)))]
            relative_width, kind_depth = ZONE_PROFILE.get(zone.name, PROFILE[zone.direction])
            sides = (1.0, -1.0) if zone.name in FOLD_ZONES else (1.0,)
            # an older crease is wider as well as deeper: the fold of skin over it grows (from looking)
            width = max(1.0, relative_width * d * (0.6 + 0.9 * amount))
            depth = settings.max_depth * kind_depth * ZONE_DEPTH.get(zone.name, 1.0)
            furrow: np.ndarray = np.zeros(luminance.shape, np.float32)  # cv2 hands back its own array type below
            light: np.ndarray = np.zeros(luminance.shape, np.float32)
            thickness = max(1, round(width))
            for line in used:
                length = max(2, math.ceil(len(line.points) * (0.55 + 0.45 * amount)))
                points = line.points[:length]
                # drawn segment by segment so the depth varies along the crease (the blur below smooths the steps)
                profile = crease_profile(length, rng) * line.depth * amount
                valley_at = np.round(points * 8).astype(np.int32).tolist()  # 3 fractional bits
                shoulders_at = [
                    np.round((points + side * line.highlight * 1.2 * width) * 8).astype(np.int32).tolist() for side in sides
                ]
                depths = (0.5 * (profile[:-1] + profile[1:])).tolist()
                for k in range(length - 1):
                    depth_here = depths[k]
                    cv2.line(furrow, valley_at[k], valley_at[k + 1], depth_here, thickness, cv2.LINE_AA, shift=3)
                    for shoulder_at in shoulders_at:
                        cv2.line(light, shoulder_at[k], shoulder_at[k + 1], depth_here, thickness, cv2.LINE_AA, shift=3)
            # a crease: a thin dark valley, a broader lit shoulder beside it
            furrow = cv2.GaussianBlur(furrow, (0, 0), width * 0.6)
            light = cv2.GaussianBlur(light, (0, 0), width * 1.5)
            texture = cv2.GaussianBlur(rng.standard_normal(luminance.shape).astype(np.float32), (0, 0), 0.7)
            # the blur spreads a thin line's peak to about 0.6 of its drawn value: 1.6 restores it; shading is
            # multiplied into the lightness, so a crease darkens dark and light skin alike
            lit = luminance.copy()
            luminance *= 1.0 - np.clip(1.6 * depth * furrow, 0.0, 0.6)  # (a view of lab's lightness)
            if skin_colour is not None:
                skin_in_shadow(lab, lit, skin_colour)
            luminance *= 1.0 + 1.6 * settings.highlight * depth * light
            luminance += settings.texture * amount * texture - 2.0 * amount
            lab[..., 2] += 2.0 * amount  # a touch more yellow (b*), as older skin reads
        elif target < current:
            amount = min(1.0, (current - target) / 100.0 * settings.smoothing)
            if younger is None:
                raise ValueError("a lower score needs the crop of the face made young (pipeline.young_face)")
            lab += amount * (to_lab(younger) - lab)
        lab[..., 0] = luminance
        return cv2.cvtColor(to_uint8(lab), cv2.COLOR_LAB2RGB)


# The paper's zone crops: 128 x 128 px (sec. 5.1). Here crops render at the renderer's resolution.
PAPER_CROP_PX = 128

# The paper's full prompt P_full (sec. 3.2): zone, aging score in percent, self-reported ethnicity.
PROMPT = "image of {zone} wrinkles with an aging score of {score}%"

ETHNICITY_CLAUSE = " for a person of {ethnicity} ethnicity"


def aging_prompt(zone_name: str, score: float, ethnicity: str | None = None) -> str:
    """The one prompt template of training (train.zones) and serving: the paper's P_full, with the
    ethnicity clause only when given (a checkpoint trained without it is served without it)."""
    text = PROMPT.format(zone=ZONE_TYPES[zone_name], score=round(score))
    return text + ETHNICITY_CLAUSE.format(ethnicity=ethnicity) if ethnicity else text


@dataclass(frozen=True)
class DiffusionSettings:
    strength: float = 0.2  # paper (SD, 40 steps)
    num_inference_steps: int = 5  # Turbo: 5 x 0.2 = 1 denoising step (paper: 40 steps on SD)
    guidance_scale: float = 0.8  # paper; Turbo runs without classifier-free guidance below 1
    refiner_strength: float = 0.1
    refiner_steps: int = 10  # 10 x 0.1 = 1 step
    refiner_prompt: str = "Ultra realistic image of a human face"  # paper, sec. 3.4 (its "Utra" typo fixed)
    # The ethnicity clause in serving prompts: off, as train.zones trains (its data names no
    # ethnicity); on, the paper's P_full, for a checkpoint trained with it.
    prompt_ethnicity: bool = False


NO_ZONE_LORA = "SDXL-Turbo without a zone LoRA (the paper's prompts alone)"
ADAPTER = "ldla"  # the zone LoRA's adapter name: train.zones trains it, HUB_MODEL_DIR_LDLA serves it


class DiffusionRenderer:
    name = "diffusion"
    label = "diffusion renderer (SDXL-Turbo img2img)"

    def __init__(
        self,
        pipe,
        resolution: int,
        settings: DiffusionSettings = DiffusionSettings(),
        adapter: str | None = None,
        refiner=None,
        refiner_name: str = "turbo",
        checkpoint: str = NO_ZONE_LORA,
    ):

        denoising_steps(settings.num_inference_steps, settings.strength)
        denoising_steps(settings.refiner_steps, settings.refiner_strength)
        if refiner_name not in LDLA_REFINERS:  # turbo: the shared pipe; sdxl-refiner: the paper's zone_refiner model
            raise ValueError(f"refiner must be one of {LDLA_REFINERS}, got {refiner_name!r}")
        self.pipe, self.resolution, self.settings = pipe, resolution, settings
        self.adapter = adapter  # a zone LoRA trained with train.zones, when one is loaded
        self.refiner = refiner  # a separate refiner pipeline (the paper's), or None: the same pipe
        self.refiner_name = refiner_name
        self.checkpoint = checkpoint  # what outputs name: the zone LoRA's checkpoint, or none

    @property
    def refiner_label(self) -> str:
        return REFINER_LABELS[self.refiner_name]

    def manifest(self) -> dict:
        """What the renderer runs with: the prompt template, the crop size, the refiner."""
        return {
            "prompt_template": PROMPT + (ETHNICITY_CLAUSE if self.settings.prompt_ethnicity else ""),
            "render_px": self.resolution,
            "paper_crop_px": PAPER_CROP_PX,
            "refiner": self.refiner_label,
            "checkpoint": self.checkpoint,
        }

    def prompt(self, zone: Zone, target: float, ethnicity: str | None) -> str:
        return aging_prompt(zone.name, target, ethnicity if self.settings.prompt_ethnicity else None)

    def _img2img(
        self, image: np.ndarray, prompt: str, strength: float, steps: int, seed: int, pipe=None, adapter: str | None = None
    ) -> np.ndarray:
        import torch  # noqa: PLC0415 - torch loads on first use, not at start-up

        size = image.shape[0]
        resized = cv2.resize(
            image, (self.resolution, self.resolution), interpolation=cv2.INTER_AREA if size > self.resolution else cv2.INTER_CUBIC
        )
        pixels = torch.from_numpy(resized).permute(2, 0, 1)[None].float() / 255.0
        pipe = pipe or self.pipe
        with GPU_LOCK:  # the pipeline may be shared with lifespan aging, which switches its LoRA
            use_adapter(pipe, adapter)
            out = pipe(
                prompt=prompt,
                image=pixels,
                strength=strength,
                num_inference_steps=steps,
                guidance_scale=self.settings.guidance_scale,
                generator=torch.Generator().manual_seed(seed),
                output_type="np",
            ).images[0]
        result = (np.clip(out, 0, 1) * 255).round().astype(np.uint8)
        return cv2.resize(result, (size, size), interpolation=cv2.INTER_CUBIC)

    def render(self, crop, zone, polygon, d, current, target, seed, ethnicity: str | None = None) -> np.ndarray:
        settings = self.settings
        prompt = self.prompt(zone, target, ethnicity)
        return self._img2img(crop, prompt, settings.strength, settings.num_inference_steps, seed, adapter=self.adapter)

    def refine(self, face: np.ndarray, seed: int) -> np.ndarray:
        """The whole-face refiner pass: a pre-trained model at a very small strength, never the zone LoRA."""
        settings = self.settings
        return self._img2img(
            face, settings.refiner_prompt, settings.refiner_strength, settings.refiner_steps, seed, pipe=self.refiner
        )
