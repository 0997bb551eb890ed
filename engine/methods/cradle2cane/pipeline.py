"""Cradle2Cane lifespan aging: two passes of SDXL-Turbo img2img (lifespan paper, sec. 3).

    pass 1, AdaNI (sec. 3.2): LoRA off, prompt "a face image of a {age} years old
        {gender}", strength by |source - target| (0.25 / 0.5 / 0.75 of 4 steps);
    pass 2, IDEmb (sec. 3.3): LoRA on, strength 0.25 on the pass-1 image, the text
        tokens replaced by [MLP_face(SVR-ArcFace), MLP_clip(Rotate-CLIP)] with the
        pass-1 pooled text embedding.

Many target ages run in as few UNet calls as possible: pass 1 once per AdaNI
strength (a batch each), pass 2 once for all. Every item has its own seeded
generator, so a batch gives what the same items give one by one.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch

from engine.core.checks import GENDERS
from engine.core.models import GPU_LOCK, use_adapter
from engine.faces.iresnet import IResNet, arcface_input
from engine.methods.cradle2cane.hparams import read_checkpoint_settings
from engine.methods.cradle2cane.maths import (
    ADANI_THRESHOLDS,
    ROTATE_LAMBDA,
    ROTATE_MODE,
    ROTATE_MODES,
    STRENGTHS,
    SVR_ALPHA,
    SVR_BETA,
    adani_strength,
    check_age,
    denoising_steps,
    normalise,
    rotate_clip,
    svr,
)
from engine.methods.cradle2cane.nets import ProjectionMLP, load_projection
from engine.methods.cradle2cane.seeds import item_seed as item_seed  # torch-free, for the task API
from engine.methods.lora import LORA_FILE


@dataclass(frozen=True)
class Cradle2CaneConfig:
    """Method settings; the one declaration of their defaults (the hub's Settings and the trainer
    override them). Defaults are the paper's unless noted; the maths constants say their sources."""

    num_inference_steps: int = 4  # SDXL-Turbo
    guidance_scale: float = 1.0  # no classifier-free guidance in either pass
    thresholds: tuple[float, float] = ADANI_THRESHOLDS  # AdaNI |gap| boundaries
    strengths: tuple[float, float, float] = STRENGTHS  # AdaNI pass-1 strengths z1, z2, z3
    one_threshold: bool = False  # in-the-wild photos: strength 0.25 or 0.5 only
    pass2_strength: float = 0.25
    # Pass-1 start latents: "sample" draws from the VAE's latent distribution with the item's
    # generator, as the published inference does (it hands the pipeline an image); "mean" takes
    # the distribution's mean, the same latents for every seed.
    pass1_latents: str = "sample"
    use_svr: bool = False  # off in the released weights (released config: use_swr false)
    svr_alpha: float = SVR_ALPHA
    svr_beta: float = SVR_BETA
    rotate_mode: str = ROTATE_MODE
    rotate_lambda: float = ROTATE_LAMBDA
    # CLIP image preprocessing for Rotate-CLIP. "rescaled": pixels scaled to [0, 1] before CLIP's
    # mean/std normalisation (values about -1.8 to 2.1), as the reference *training* fed the
    # projection MLP; the default, because the released clip_project MLP learned from exactly
    # those features. "unscaled": the reference *inference* (infer.py -> map_attr_single) calls
    # the processor with do_rescale=False on a uint8 image, so CLIP sees values in the hundreds (up to
    # about 950); select it to reproduce the published inference.
    clip_preprocess: str = "rescaled"
    # Pass-2 input: "float", the pass-1 decoding as computed (a batch then equals its items run one
    # by one); "8bit", rounded to 8 bits first, as the published inference hands pass 2 a PIL image.
    # Rounding differences only, but a random-weight VAE amplifies them to several grey levels.
    pass2_input: str = "float"
    resolution: int = 512  # FFHQ 512, as the paper trains
    prompt: str = "a face image of a {age} years old {gender}"
    clip_age_prompt: str = "{age} years old"

    def __post_init__(self) -> None:
        for strength in {*self.strengths, self.pass2_strength}:
            denoising_steps(self.num_inference_steps, strength)
        if self.pass1_latents not in PASS1_LATENTS:
            raise ValueError(f"pass-1 latents must be one of {PASS1_LATENTS}, got {self.pass1_latents!r}")
        if self.pass2_input not in PASS2_INPUT:
            raise ValueError(f"pass-2 input must be one of {PASS2_INPUT}, got {self.pass2_input!r}")
        if self.clip_preprocess not in CLIP_PREPROCESS:
            raise ValueError(f"CLIP preprocessing must be one of {CLIP_PREPROCESS}, got {self.clip_preprocess!r}")
        if self.rotate_mode not in ROTATE_MODES:
            raise ValueError(f"Rotate-CLIP mode must be one of {ROTATE_MODES}, got {self.rotate_mode!r}")
        if not 0.0 <= self.rotate_lambda <= 1.0:
            raise ValueError(f"Rotate-CLIP lambda must be in [0, 1], got {self.rotate_lambda}")
        if self.resolution % 8:
            raise ValueError(f"resolution must be a multiple of 8, got {self.resolution}")


PASS1_LATENTS = ("sample", "mean")

CLIP_PREPROCESS = ("rescaled", "unscaled")

PASS2_INPUT = ("float", "8bit")

# Settings field (HUB_* variable) -> the Cradle2CaneConfig field it overrides.
SETTINGS_OVERRIDES = {
    "adani_thresholds": "thresholds",
    "adani_one_threshold": "one_threshold",
    "svr": "use_svr",
    "svr_alpha": "svr_alpha",
    "svr_beta": "svr_beta",
    "rotate_mode": "rotate_mode",
    "rotate_lambda": "rotate_lambda",
    "pass1_latents": "pass1_latents",
    "clip_preprocess": "clip_preprocess",
    "pass2_input": "pass2_input",
}


def lifespan_config(
    settings, resolution: int = Cradle2CaneConfig.resolution, checkpoint: dict | None = None
) -> tuple[Cradle2CaneConfig, dict[str, str]]:
    """The effective settings and where each came from ("default", "checkpoint" or "setting").

    Cradle2CaneConfig's defaults, then the checkpoint's own settings (its hparams.yml, as the
    published inference reads them), then what the user set in the hub's Settings (None: not set).
    """
    user = {
        field_name: getattr(settings, name)
        for name, field_name in SETTINGS_OVERRIDES.items()
        if getattr(settings, name) is not None
    }
    if "thresholds" in user:
        user["thresholds"] = tuple(user["thresholds"])
    values = {"resolution": resolution, **(checkpoint or {}), **user}
    sources = {
        f.name: "setting" if f.name in user else "checkpoint" if f.name in (checkpoint or {}) else "default"
        for f in fields(Cradle2CaneConfig)
    }
    return Cradle2CaneConfig(**values), sources


@dataclass
class SourceFace:
    """What one input face costs to encode; computed once and reused across targets and requests."""

    key: str
    pixels: torch.Tensor  # (1, 3, R, R) in [0, 1]
    latent_mean: torch.Tensor  # (1, 4, R/8, R/8), the VAE posterior's mean (unscaled)
    latent_std: torch.Tensor  # (1, 4, R/8, R/8), its standard deviation
    arcface: torch.Tensor  # (1, D) ArcFace hidden state (D = 25088 for iresnet100)
    clip: torch.Tensor  # (1, P) normalised CLIP image feature


@dataclass
class AgedFace:
    target_age: float
    strength: float
    seed: int
    image: np.ndarray  # (R, R, 3) uint8, the aligned aged face
    pass1: np.ndarray  # (R, R, 3) uint8, the AdaNI intermediate


@dataclass
class LifespanResult:
    items: list[AgedFace]
    unet_calls: int
    timings: dict[str, float] = field(default_factory=dict)


def to_uint8(images: torch.Tensor) -> list[np.ndarray]:
    """(B, 3, H, W) in [0, 1] -> list of (H, W, 3) uint8."""
    array = (images.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    return list(array)


class Cradle2Cane:
    """The two-pass lifespan pipeline over a shared SDXL img2img pipeline with a LoRA adapter.

    Calls are serialised by a lock: pass 1 and pass 2 toggle the shared LoRA.
    """

    def __init__(
        self,
        pipe,  # diffusers StableDiffusionXLImg2ImgPipeline, LoRA loaded on its UNet
        clip_model,  # transformers CLIPModel
        clip_processor,  # its image processor
        clip_tokenizer,
        arcface: IResNet,
        face_mlp: ProjectionMLP,
        clip_mlp: ProjectionMLP,
        config: Cradle2CaneConfig = Cradle2CaneConfig(),
        checkpoint: str = "unknown",
        cache_size: int = 16,
        settings_from: dict[str, str] | None = None,
    ):
        self.pipe = pipe
        self.clip_model = clip_model
        self.clip_processor = clip_processor
        self.clip_tokenizer = clip_tokenizer
        self.arcface = arcface
        self.face_mlp = face_mlp
        self.clip_mlp = clip_mlp
        self.config = config
        self.checkpoint = checkpoint
        self.settings_from = settings_from or {f.name: "default" for f in fields(Cradle2CaneConfig)}
        self._lock = GPU_LOCK  # shared with every user of the same pipeline
        self._sources: OrderedDict[str, SourceFace] = OrderedDict()
        self._cache_size = cache_size

    def with_config(self, config: Cradle2CaneConfig) -> Cradle2Cane:
        """The same models run with other method settings (e.g. one published behaviour against another)."""
        return Cradle2Cane(
            self.pipe,
            self.clip_model,
            self.clip_processor,
            self.clip_tokenizer,
            self.arcface,
            self.face_mlp,
            self.clip_mlp,
            config,
            checkpoint=self.checkpoint,
            settings_from=dict(self.settings_from),
        )

    @property
    def device(self) -> torch.device:
        return self.pipe.unet.device

    @property
    def dtype(self) -> torch.dtype:
        return self.pipe.unet.dtype

    def manifest(self) -> dict:
        """The effective method settings, where each came from, and the scheduler that runs them."""
        settings = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.config).items()}
        return {
            "settings": settings,
            "settings_from": dict(self.settings_from),
            "scheduler": type(self.pipe.scheduler).__name__,
        }

    def clear_sources(self) -> None:
        """Forget the encoded source faces, so the next request encodes again."""
        self._sources.clear()

    # ---- encoders -------------------------------------------------------------------------

    @torch.inference_mode()
    def arcface_hidden(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, R, R) in [0, 1] -> (B, D) ArcFace hidden state of the whole aligned face."""
        weight = next(self.arcface.parameters())
        return self.arcface.hidden_state(arcface_input(images.to(weight.device, weight.dtype))).float()

    def clip_image_feature(self, face: np.ndarray) -> torch.Tensor:
        return clip_image_features(self.clip_model, self.clip_processor, [face], self.config.clip_preprocess == "rescaled")

    def clip_text_features(self, ages: list[float]) -> torch.Tensor:
        return clip_age_features(self.clip_model, self.clip_tokenizer, ages, self.config.clip_age_prompt)

    @torch.inference_mode()
    def encode_source(self, face: np.ndarray) -> SourceFace:
        """Encode an aligned face crop once; later calls with the same pixels reuse it."""
        resolution = self.config.resolution
        if face.shape != (resolution, resolution, 3) or face.dtype != np.uint8:
            raise ValueError(f"source face must be a ({resolution}, {resolution}, 3) uint8 crop, got {face.shape} {face.dtype}")
        key = hashlib.sha256(face.tobytes()).hexdigest()
        if key in self._sources:
            self._sources.move_to_end(key)
            return self._sources[key]
        pixels = torch.from_numpy(face).permute(2, 0, 1)[None].float() / 255.0  # (1, 3, R, R)
        vae = self.pipe.vae
        posterior = vae.encode((pixels * 2 - 1).to(vae.device, vae.dtype)).latent_dist
        source = SourceFace(
            key, pixels, posterior.mean, posterior.std, self.arcface_hidden(pixels), self.clip_image_feature(face)
        )
        self._sources[key] = source
        while len(self._sources) > self._cache_size:
            self._sources.popitem(last=False)
        return source

    # ---- the method --------------------------------------------------------------------------

    def check_inputs(self, source_age: float, gender: str, targets: list[float], extra_prompt: str | None) -> None:
        check_age(source_age, "source age")
        if gender not in GENDERS:
            raise ValueError(f"gender must be one of {GENDERS}, got {gender!r}")
        if not targets:
            raise ValueError("give at least one target age")
        for target in targets:
            check_age(target, "target age")
        repeated = sorted({t for t in targets if list(targets).count(t) > 1})
        if repeated:
            raise ValueError(f"target ages given more than once: {', '.join(f'{t:g}' for t in repeated)}; give each age once")
        if extra_prompt is not None and not extra_prompt.strip():
            raise ValueError("the extra prompt is empty: leave it out or describe the attribute")

    def prompts(self, targets: list[float], genders: list[str], extra_prompt: str | None) -> list[str]:
        base = [self.config.prompt.format(age=_age_text(t), gender=g) for t, g in zip(targets, genders)]
        return [f"{p}, {extra_prompt.strip()}" for p in base] if extra_prompt else base

    def generators(self, seeds: list[int]) -> list[torch.Generator]:
        return [torch.Generator(device="cpu").manual_seed(s) for s in seeds]

    def start_latents(self, source: SourceFace, generators: list[torch.Generator]) -> torch.Tensor:
        """(B, 4, r, r) pass-1 start latents, scaled for the UNet: one draw from the VAE posterior per
        item with its generator (as the VAE encoding inside img2img draws it), or the mean."""
        from diffusers.utils.torch_utils import randn_tensor  # noqa: PLC0415 - diffusers loads on first use of a diffusion path

        scale = self.pipe.vae.config.scaling_factor
        if self.config.pass1_latents == "mean":
            return (source.latent_mean * scale).expand(len(generators), -1, -1, -1)
        mean, std = source.latent_mean, source.latent_std
        draws = [mean + std * randn_tensor(mean.shape, generator=g, device=mean.device, dtype=mean.dtype) for g in generators]
        return torch.cat(draws) * scale

    @torch.inference_mode()
    def pass1(
        self,
        latents: torch.Tensor,
        targets: list[float],
        genders: list[str],
        strengths: list[float],
        generators: list[torch.Generator],
        extra_prompt: str | None = None,
        report=None,
    ) -> tuple[torch.Tensor, torch.Tensor, int]:
        """AdaNI (sec. 3.2), LoRA off, one batch per strength.

        latents: (B, 4, r, r) source latents, one row per item. Returns the pass-1
        images (B, 3, R, R) in [0, 1], their pooled text embeddings (B, P) and the
        number of UNet evaluations.
        """
        count = len(targets)
        images = torch.empty(count, 3, latents.shape[-2] * 8, latents.shape[-1] * 8)
        pooled: dict[int, torch.Tensor] = {}  # item -> its pooled text embedding, as its strength's batch runs
        unet_calls = 0
        use_adapter(self.pipe, None)
        groups = sorted(set(strengths))
        for number, strength in enumerate(groups):
            if report:
                report(0.05 + 0.45 * number / len(groups), f"pass 1 (AdaNI), strength {strength}")
            index = [i for i, s in enumerate(strengths) if s == strength]
            embeds, _, pooled_embeds, _ = self.pipe.encode_prompt(
                self.prompts([targets[i] for i in index], [genders[i] for i in index], extra_prompt),
                device=self.device,
                num_images_per_prompt=1,
                do_classifier_free_guidance=False,
            )
            out = self.pipe(
                prompt_embeds=embeds,
                pooled_prompt_embeds=pooled_embeds,
                image=latents[index],
                strength=strength,
                num_inference_steps=self.config.num_inference_steps,
                guidance_scale=self.config.guidance_scale,
                generator=[generators[i] for i in index],
                output_type="pt",
            ).images  # (b, 3, R, R) in [0, 1]
            unet_calls += denoising_steps(self.config.num_inference_steps, strength)
            for row, i in enumerate(index):
                images[i] = out[row].float().cpu()
                pooled[i] = pooled_embeds[row]
        return images, torch.stack([pooled[i] for i in range(count)]), unet_calls

    @torch.inference_mode()
    def __call__(
        self,
        source: SourceFace,
        source_age: float,
        gender: str,
        targets: list[float],
        seed: int = 0,
        extra_prompt: str | None = None,
        progress: Callable[[float, str], None] | None = None,
    ) -> LifespanResult:
        """One aged face per target age; each target's seed is fixed by (seed, target)."""
        self.check_inputs(source_age, gender, targets, extra_prompt)
        return self._generate(
            source, source_age, gender, list(targets), [item_seed(seed, t) for t in targets], extra_prompt, None, progress
        )

    @torch.inference_mode()
    def sample(
        self,
        source: SourceFace,
        source_age: float,
        gender: str,
        target: float,
        age_embeddings: torch.Tensor,
        seeds: list[int],
        progress: Callable[[float, str], None] | None = None,
    ) -> LifespanResult:
        """Several futures at one target age (pluralistic aging): sample i conditions Rotate-CLIP on
        age_embeddings[i] (B, P) in place of the target age's text feature, with its own seed."""
        self.check_inputs(source_age, gender, [target], None)
        if len(age_embeddings) != len(seeds) or not len(seeds):
            raise ValueError(f"one age embedding per seed: got {len(age_embeddings)} embeddings and {len(seeds)} seeds")
        return self._generate(source, source_age, gender, [target] * len(seeds), list(seeds), None, age_embeddings, progress)

    def _generate(self, source, source_age, gender, targets, seeds, extra_prompt, age_embeddings, progress) -> LifespanResult:
        config = self.config
        report = progress or (lambda fraction, message: None)
        timings: dict[str, float] = {}
        # 1. every strength's step count is known before any work
        strengths = [
            adani_strength(source_age, t, config.thresholds, config.one_threshold, extra_prompt is not None, config.strengths)
            for t in targets
        ]
        for strength in set(strengths) | {config.pass2_strength}:
            denoising_steps(config.num_inference_steps, strength)
        generators = self.generators(seeds)
        count = len(targets)
        with self._lock:
            # 2. pass 1, AdaNI (sec. 3.2): age and gender prompt, LoRA off, one batch per strength
            start = time.perf_counter()
            pass1, pooled, unet_calls = self.pass1(
                self.start_latents(source, generators), targets, [gender] * count, strengths, generators, extra_prompt, report
            )
            if config.pass2_input == "8bit":  # as the published inference hands pass 2 a PIL image
                pass1 = (pass1.clamp(0, 1) * 255).round() / 255
            timings["pass1_s"] = time.perf_counter() - start

            # 3. IDEmb (sec. 3.3): SVR-ArcFace and Rotate-CLIP tokens, projected to the text width
            start = time.perf_counter()
            report(0.55, "identity embeddings (SVR-ArcFace, Rotate-CLIP)")
            face, clip = self.identity_inputs(
                source.arcface.expand(count, -1),
                source.clip.expand(count, -1),
                [source_age] * count,
                targets,
                pass1,
                age_embeddings,
            )
            idemb = self.project(face, clip)  # (B, 2, C)
            timings["idemb_s"] = time.perf_counter() - start

            # 4. pass 2 (sec. 3.3): LoRA on, identity tokens and pass-1 pooled embedding, strength 0.25
            start = time.perf_counter()
            report(0.65, "pass 2 (IDEmb)")
            use_adapter(self.pipe, ADAPTER)
            final = self.pipe(
                prompt_embeds=idemb.to(self.device, self.dtype),
                pooled_prompt_embeds=pooled.to(self.device, self.dtype),
                image=pass1,
                strength=config.pass2_strength,
                num_inference_steps=config.num_inference_steps,
                guidance_scale=config.guidance_scale,
                generator=generators,
                output_type="pt",
            ).images
            unet_calls += denoising_steps(config.num_inference_steps, config.pass2_strength)
            timings["pass2_s"] = time.perf_counter() - start
        report(1.0, "done")
        items = [
            AgedFace(t, s, sd, img, p1)
            for t, s, sd, img, p1 in zip(targets, strengths, seeds, to_uint8(final.float()), to_uint8(pass1))
        ]
        return LifespanResult(items, unet_calls, timings)

    @torch.inference_mode()
    def identity_inputs(
        self,
        arcface: torch.Tensor,
        clip: torch.Tensor,
        source_ages: list[float],
        targets: list[float],
        pass1: torch.Tensor,
        age_embeddings: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(SVR-ArcFace (B, D), Rotate-CLIP (B, P)) for each item; no trainable weights involved.

        arcface: (B, D) source hidden states; clip: (B, P) normalised source image features;
        age_embeddings: (B, P) sampled PAE conditions that replace the target ages' text features.
        """
        config = self.config
        face = arcface
        if config.use_svr:
            aged = self.arcface_hidden(pass1)  # (B, D)
            face = torch.stack(
                [svr(torch.stack([arcface[i], aged[i]], dim=1), config.svr_alpha, config.svr_beta) for i in range(len(targets))]
            )
        count = len(targets)
        if age_embeddings is None:
            text = self.clip_text_features([*source_ages, *targets])  # (2B, P)
            source_text, target_text = text[:count], text[count:]
        else:
            source_text = self.clip_text_features(list(source_ages))
            target_text = age_embeddings.to(source_text)
        rotated = rotate_clip(clip, source_text, target_text, config.rotate_mode, config.rotate_lambda)
        return face, rotated

    def project(self, face: torch.Tensor, clip: torch.Tensor) -> torch.Tensor:
        """(B, 2, C): [MLP_face(face), MLP_clip(clip)], differentiable for training."""
        weight = next(self.face_mlp.parameters())
        face_token = self.face_mlp(face.to(weight.device, weight.dtype))
        clip_token = self.clip_mlp(clip.to(weight.device, weight.dtype))
        return torch.stack([face_token, clip_token], dim=1)


ADAPTER = "cradle2cane"


# The released LoRA's rank (github.com/byliutao/Cradle2Cane, config/train_config.yaml: rank 40;
# lib/utils/train_utils.py sets lora_alpha = rank).
RELEASED_LORA_RANK = 40

PROJECTIONS = ("face_project", "clip_project")


def projection_file(folder, name: str):
    """`{name}.safetensors` (this project's format) or the published `{name}.bin`, whichever exists."""

    folder = Path(folder)
    for suffix in (".safetensors", ".bin"):
        path = Path(folder) / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def checkpoint_missing(folder) -> list[str]:
    """What a Cradle2Cane checkpoint folder (LoRA + both MLPs) lacks; empty when it is whole."""

    missing = [name for name in PROJECTIONS if projection_file(folder, name) is None]
    return missing + ([] if (Path(folder) / LORA_FILE).is_file() else [LORA_FILE])


def load_checkpoint(pipe, folder) -> tuple[ProjectionMLP, ProjectionMLP]:
    """Load a Cradle2Cane checkpoint folder (LoRA + both MLPs) onto `pipe`; return the MLPs."""

    folder = Path(folder)
    missing = checkpoint_missing(folder)
    if missing:
        raise FileNotFoundError(f"{folder} lacks {missing}")
    read_checkpoint_settings(folder)  # refuse a checkpoint whose settings cannot run before loading weights
    pipe.load_lora_weights(str(folder), weight_name=LORA_FILE, adapter_name=ADAPTER)
    width = pipe.unet.config.cross_attention_dim
    weight = next(pipe.unet.parameters())
    face_mlp, clip_mlp = (
        load_projection(projection_file(folder, name), width).to(weight.device, weight.dtype) for name in PROJECTIONS
    )
    return face_mlp, clip_mlp


@torch.inference_mode()
def clip_image_features(model, processor, faces: list[np.ndarray], rescale: bool = True) -> torch.Tensor:
    """(N, P) normalised CLIP image features of uint8 RGB faces; `rescale=False` skips the /255
    before CLIP's normalisation, as the published inference does (Cradle2CaneConfig.clip_preprocess)."""
    pixels = processor(images=faces, return_tensors="pt", do_rescale=rescale)["pixel_values"].to(model.device, model.dtype)
    return normalise(_features(model.get_image_features(pixel_values=pixels)).float())


@torch.inference_mode()
def clip_age_features(model, tokenizer, ages: list[float], template: str = "{age} years old") -> torch.Tensor:
    """(N, P) normalised CLIP text features of "{age} years old" prompts."""
    prompts = [template.format(age=_age_text(age)) for age in ages]
    tokens = tokenizer(prompts, padding="max_length", truncation=True, return_tensors="pt")
    tokens = {k: v.to(model.device) for k, v in tokens.items() if k in ("input_ids", "attention_mask")}
    return normalise(_features(model.get_text_features(**tokens)).float())


def _features(output) -> torch.Tensor:
    """get_*_features returns a tensor, or in newer transformers an output with `pooler_output`."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


def _age_text(age: float) -> str:
    return str(int(age)) if float(age).is_integer() else f"{age:g}"
