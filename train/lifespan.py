"""Train Cradle2Cane: a LoRA on the SDXL-Turbo UNet and both projection MLPs, both passes end to end.

    accelerate launch -m train.lifespan --config train/configs/lifespan.yaml
    python -m train.lifespan --config train/configs/tiny.yaml     # CPU smoke run, tiny profile

Each step (lifespan paper, sec. 3): pick a target age b for every face x_a; pass 1
(AdaNI, LoRA off, frozen) gives x^_b; pass 2 (LoRA on, identity tokens from the
MLPs) denoises it in one differentiable step to x_b; the identity, age and
quality losses (sec. 3.4) update the LoRA and the MLPs, and a discriminator
learns beside them. Checkpoints hold only trainable weights (safetensors) and
optimizer states (read back with weights_only=True); each one is also a serving
checkpoint (`Cradle2Cane/`) that the lifespan tab loads.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml
from PIL import Image

from engine.core.checkpoints import read_state_dict, restore_weights, write_state_dict
from engine.core.media import strip
from engine.core.models import use_adapter
from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.faces.iresnet import arcface_input
from engine.faces.segmentation import BACKGROUNDS, replace_background
from engine.methods import tiny
from engine.methods.cradle2cane.loaders import C2C_SUBFOLDER
from engine.methods.cradle2cane.maths import adani_strength, denoising_steps
from engine.methods.cradle2cane.nets import ProjectionMLP, save_projection
from engine.methods.cradle2cane.pipeline import ADAPTER, RELEASED_LORA_RANK, Cradle2Cane, Cradle2CaneConfig
from engine.methods.lora import add_lora, load_lora, lora_parameters, save_lora
from train.common import (
    DISCRIMINATOR_FILE,
    NamedImages,
    autocast,
    check_precision,
    check_profile_and_data,
    cli,
    config_from_yaml,
    freeze,
    load_checkpoint_state,
    make_accelerator,
    no_parameter_gradients,
    register_checkpoint_hooks,
    resume_folder,
    shuffled_batches,
    step_generator,
    trained_in_fp32,
    weight_dtype,
)
from train.loop import train_and_share
from train.losses import (
    AGE_TARGET_LOSSES,
    GAN_LOSSES,
    PatchDiscriminator,
    age_feature_loss,
    age_loss_model,
    age_target_loss,
    discriminator_loss,
    generator_gan_loss,
    identity_cosine_loss,
    ms_ssim_loss,
    perceptual_model,
    pixel_mse_loss,
)

logger = logging.getLogger(__name__)


TARGET_SAMPLINGS = ("batch_shift", "uniform")
AGE_SHIFTS = ("uniform", "normal")
STRENGTH_MODES = ("batch_mean", "per_face")


@dataclass
class TrainConfig:
    """Defaults are the published training script's (github.com/byliutao/Cradle2Cane: config/train.sh,
    which overrides config/train_config.yaml); each departure from it, and the paper's values, is a
    setting (train/configs/lifespan-paper.yaml gathers the paper's)."""

    data: str = ""  # folder of FFHQ-aligned faces named {age}_{gender}_*.png (gender: male/female or 0/1)
    output_dir: str = "outputs/lifespan"
    profile: str = "full"  # full: Hub weights on a GPU; tiny: random miniature models (smoke tests)
    resolution: int = Cradle2CaneConfig.resolution
    lora_rank: int = RELEASED_LORA_RANK
    lora_alpha: int = RELEASED_LORA_RANK
    # optimiser (train_config.yaml): AdamW, lr 1e-4 constant (its 500 warm-up steps do not apply to
    # diffusers' "constant" schedule), betas (0.9, 0.999), weight decay 1e-2, eps 1e-8; clip 1.0
    learning_rate: float = 1e-4
    adam_betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 1e-2
    max_grad_norm: float | None = 1.0  # None: no clipping
    # discriminator (train.py): Adam lr 1e-4, betas (0.5, 0.999), one update every 6 steps
    discriminator_lr: float = 1e-4
    discriminator_every: int = 6  # d_loss_update_step
    discriminator_weight: float = 1.0  # d_loss_weight
    gan_loss: str = "hinge"  # published: hinge; "non_saturating" is the other common choice
    batch_size: int = 6  # train_config.yaml: 6 (train.sh: 2; paper: 4 per GPU on 8 GPUs)
    max_steps: int = 20000
    gradient_checkpointing: bool = True
    mixed_precision: str = "fp16"  # accelerate launch --mixed_precision fp16 (also: bf16, no)
    # micro-batches of batch_size per optimiser step (train_config.yaml: 1; diffusers' pattern)
    gradient_accumulation_steps: int = 1
    seed: int = 0
    # Loss weights of train.sh; the paper's lambda1..6 are 0.25 (MS-SSIM), 1.2 (ID), 1.5 (age
    # feature), 1.5 (age), 0.25 (LPIPS), 0.1 (GAN) and it has no pixel term.
    w_id: float = 1.0  # id_cos_loss_weight
    w_age: float = 0.75  # age_loss_weight: estimated age of the output vs the target
    w_age_feature: float = 1.0  # age_loss_2_weight: age-estimator features, output vs pass 1
    w_pixel_mse: float = 0.05  # pixel_mse_loss_weight
    pixel_centre_weighted: bool = True  # pixel_mse_loss_use_weight
    w_ms_ssim: float = 0.1  # ssim_loss_weight
    w_perceptual: float = 1.0  # lpips_loss_weight
    w_gan: float = 0.01  # g_loss_weight
    age_loss: str = "smooth_l1"  # published: smooth L1 of ages / 100 (x 10); paper: "l2"
    ssim_window: int = 11  # MS-SSIM needs a shorter side > (window - 1) * 16
    # AdaNI thresholds of pass 1 during training: train.sh passes t1 10, t2 30 (paper 5, 20)
    t1: float = 10.0
    t2: float = 30.0
    # Target ages (train_utils.get_inputs_from_batch_ffhq_avg): with probability 1 - same_age_rate
    # one shift for the whole batch, uniform integer in [-3 age_scale, 3 age_scale] ("normal":
    # N(0, age_scale) cut at 3 age_scale); targets = source + shift kept in [min_age, max_age].
    # "uniform": each face its own target, uniform in [min_age, max_age].
    target_sampling: str = "batch_shift"
    age_shift: str = "uniform"  # age_sample_mode
    age_scale: float = 20.0
    same_age_rate: float = 0.01
    min_age: float = 1.0
    max_age: float = 80.0
    # Pass-1 strength from the batch's mean |target - source| (use_avg: true) or each face's own gap
    strength_from: str = "batch_mean"
    # Backgrounds replaced before training (the published data went through CarveKit); here with
    # mediapipe Selfie Segmentation (Apache-2.0), filled grey / black / noise, or "keep"
    background: str = "grey"
    age_model: str = ""  # Hub id / folder of an age classifier (labels = ages); "tiny" for tests
    perceptual: str = "lpips"  # lpips (needs `pip install lpips torchvision`) or vae
    checkpoint_every: int = 1000
    validate_every: int = 500
    validation_ages: list[float] = field(default_factory=lambda: [10.0, 30.0, 50.0, 70.0])
    resume_from: str | None = None  # a checkpoint folder, or "latest"
    push_to_hub: str | None = None  # repo id for the final serving checkpoint
    training_data: str = ""  # what the data is (name, size, licence): the pushed card states it (needed with push_to_hub)
    num_workers: int = 2

    def __post_init__(self) -> None:
        check_profile_and_data(self, "faces named {age}_{gender}_*.png")
        check_precision(self.mixed_precision)
        if not self.age_model:
            raise ValueError("age_model: name a differentiable age estimator (a Hub id or folder), or 'tiny' for tests")
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be >= 2 (the MLPs use BatchNorm), got {self.batch_size}")
        for name, value, allowed in (
            ("target_sampling", self.target_sampling, TARGET_SAMPLINGS),
            ("age_shift", self.age_shift, AGE_SHIFTS),
            ("strength_from", self.strength_from, STRENGTH_MODES),
            ("background", self.background, BACKGROUNDS),
            ("gan_loss", self.gan_loss, GAN_LOSSES),
            ("age_loss", self.age_loss, AGE_TARGET_LOSSES),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        if not 0 <= self.t1 <= self.t2:
            raise ValueError(f"AdaNI thresholds must satisfy 0 <= t1 <= t2, got t1={self.t1}, t2={self.t2}")
        if not 0 <= self.min_age < self.max_age:
            raise ValueError(f"target ages need 0 <= min_age < max_age, got {self.min_age}, {self.max_age}")
        if not 0 <= self.same_age_rate <= 1:
            raise ValueError(f"same_age_rate is a probability, got {self.same_age_rate}")
        if self.discriminator_every < 1:
            raise ValueError(f"discriminator_every must be >= 1, got {self.discriminator_every}")
        if len(self.adam_betas) != 2:
            raise ValueError(f"adam_betas must be two numbers (beta1, beta2), got {self.adam_betas}")
        beta1, beta2 = self.adam_betas  # a list when read from YAML
        self.adam_betas = (float(beta1), float(beta2))

    @classmethod
    def from_yaml(cls, path: Path, overrides: dict | None = None) -> TrainConfig:
        return config_from_yaml(cls, path, overrides)


NAME = re.compile(r"^(\d+(?:\.\d+)?)_(male|female|0|1)_.+\.(png|jpe?g)$", re.IGNORECASE)


def face_labels(name: str) -> dict | None:
    """{"age", "gender"} from a name {age}_{gender}_*.png, gender male/female or 0/1 (UTKFace: 0 male, 1 female)."""
    match = NAME.match(name)
    if match is None:
        return None
    gender = match.group(2).lower()
    return {"age": float(match.group(1)), "gender": {"0": "male", "1": "female"}.get(gender, gender)}


class FaceFolder(NamedImages):
    """Aligned faces with age and gender in their names; unparseable names are reported, not used.

    background (not "keep"): each face's background is replaced by `segmenter`'s person mask,
    filled grey, black or with noise (seeded by the face's index).
    """

    def __init__(self, folder: Path, resolution: int, background: str = "keep", segmenter=None):
        super().__init__(folder, resolution, face_labels, "{age}_{gender}_*.png")
        if background not in BACKGROUNDS:
            raise ValueError(f"background must be one of {BACKGROUNDS}, got {background!r}")
        if background != "keep" and segmenter is None:
            raise ValueError(f"background {background!r} needs a segmentation model")
        self.background, self.segmenter = background, segmenter

    def __getitem__(self, index: int) -> dict:
        item = super().__getitem__(index)
        if self.background != "keep":
            rgb = (item["pixels"].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            replaced = replace_background(rgb, self.segmenter.probability(rgb), self.background, np.random.default_rng(index))
            item["pixels"] = torch.from_numpy(replaced).permute(2, 0, 1).float() / 255.0
        return item


def face_dataset(config: TrainConfig) -> FaceFolder:
    """The training faces, their backgrounds replaced as config.background says."""
    segmenter = None
    if config.background != "keep":
        segmenter = get_cache(Settings.from_env().with_(profile="offline")).get("person_segmenter")
    return FaceFolder(Path(config.data), config.resolution, config.background, segmenter)


def sample_targets(source_ages: list[float], config: TrainConfig, generator: torch.Generator) -> list[float]:
    """Target ages for a batch (see TrainConfig: target_sampling, age_shift, age_scale, same_age_rate)."""
    low, high = config.min_age, config.max_age
    if config.target_sampling == "uniform":
        return [low + (high - low) * float(u) for u in torch.rand(len(source_ages), generator=generator)]
    shift = 0.0
    if float(torch.rand(1, generator=generator)) >= config.same_age_rate:
        limit = round(3 * config.age_scale)
        if config.age_shift == "uniform":
            shift = float(torch.randint(-limit, limit + 1, (1,), generator=generator))
        else:
            shift = float(round(float(torch.randn(1, generator=generator) * config.age_scale)))
            shift = max(-limit, min(limit, shift))
    return [min(high, max(low, age + shift)) for age in source_ages]


def pass1_strengths(source_ages: list[float], targets: list[float], config: TrainConfig) -> list[float]:
    """AdaNI strengths with the training thresholds: one for the batch (its mean gap) or one per face."""
    thresholds = (config.t1, config.t2)
    if config.strength_from == "batch_mean":
        gap = sum(abs(b - a) for a, b in zip(source_ages, targets)) / len(targets)
        return [adani_strength(0.0, gap, thresholds)] * len(targets)
    return [adani_strength(a, b, thresholds) for a, b in zip(source_ages, targets)]


def build_models(config: TrainConfig):
    """(Cradle2Cane pipeline with a fresh trainable LoRA and MLPs, the age loss model), in fp32 on the CPU."""

    if config.profile == "tiny":
        pipe = tiny.sdxl_img2img(config.seed)
        clip = tiny.clip(config.seed)
        arcface = tiny.arcface(config.seed)
    else:
        cache = get_cache(Settings.from_env().with_(profile="full"))
        pipe, clip, arcface = cache.get("sdxl_turbo"), cache.get("clip_vit_l14"), cache.get("arcface_r100")
    pipe.unet.requires_grad_(False)  # only the LoRA added next is trained
    add_lora(pipe.unet, ADAPTER, config.lora_rank, config.lora_alpha)
    width = pipe.unet.config.cross_attention_dim
    face_mlp = ProjectionMLP(arcface.hidden_size, width)
    projection_dim = clip.model.config.projection_dim
    if projection_dim is None:
        raise ValueError("the CLIP model's config names no projection_dim: the clip MLP's input size is unknown")
    clip_mlp = ProjectionMLP(projection_dim, width)
    for module in (pipe.vae, pipe.text_encoder, pipe.text_encoder_2, clip.model, arcface):
        module.requires_grad_(False)
    model = Cradle2Cane(
        pipe,
        clip.model,
        clip.processor,
        clip.tokenizer,
        arcface,
        face_mlp,
        clip_mlp,
        Cradle2CaneConfig(resolution=config.resolution, thresholds=(config.t1, config.t2)),
        checkpoint="training",
    )
    return model, age_loss_model(config.age_model).requires_grad_(False)


def pass2_one_step(model, unet, pass1: torch.Tensor, idemb: torch.Tensor, pooled: torch.Tensor, generator) -> torch.Tensor:
    """Pass 2 (sec. 3.3) as one differentiable Euler step to the clean image: (B, 3, R, R) in [0, 1], fp32.

    With strength 0.25 of 4 Turbo steps this is exactly the one step serving runs. `unet` is the
    trained UNet as accelerate prepared it (wrapped for multi-GPU gradient synchronisation).
    """

    pipe, config = model.pipe, model.config
    scheduler = pipe.scheduler
    scheduler.set_timesteps(config.num_inference_steps)
    start = config.num_inference_steps - denoising_steps(config.num_inference_steps, config.pass2_strength)
    timestep, sigma = scheduler.timesteps[start], scheduler.sigmas[start]
    vae = pipe.vae
    with torch.no_grad():
        latents = vae.encode((pass1 * 2 - 1).to(vae.device, vae.dtype)).latent_dist.sample(generator) * vae.config.scaling_factor
    noise = torch.randn(latents.shape, generator=generator).to(latents)
    noisy = latents + sigma * noise  # Euler: x_t = x_0 + sigma_t * eps
    size = config.resolution
    time_ids = torch.tensor([[size, size, 0, 0, size, size]], dtype=latents.dtype).repeat(len(latents), 1)
    eps = unet(
        noisy / (sigma**2 + 1) ** 0.5,
        timestep,
        encoder_hidden_states=idemb.to(latents.dtype),
        added_cond_kwargs={"text_embeds": pooled.to(latents.dtype), "time_ids": time_ids.to(latents.device)},
    ).sample
    clean = noisy - sigma * eps.to(noisy.dtype)
    decoded = vae.decode((clean / vae.config.scaling_factor).to(vae.dtype)).sample
    return ((decoded.float() + 1) / 2).clamp(0, 1)


def training_step(model, unet, age_model, perceptual, discriminator, batch, config: TrainConfig, generator):
    """One batch: (generator total, a function giving the discriminator loss, parts for the log)."""

    source = batch["pixels"].float()  # (B, 3, R, R) in [0, 1]
    source_ages = [float(a) for a in batch["age"].tolist()]
    genders = list(batch["gender"])
    count = len(source)
    targets = sample_targets(source_ages, config, generator)
    # pass 1: AdaNI with the LoRA off (frozen: no gradient)
    with torch.no_grad():
        vae = model.pipe.vae
        latents = vae.encode((source * 2 - 1).to(vae.device, vae.dtype)).latent_dist.mean * vae.config.scaling_factor
        strengths = pass1_strengths(source_ages, targets, config)
        generators = [
            torch.Generator().manual_seed(int(torch.randint(0, 2**31, (1,), generator=generator))) for _ in range(count)
        ]
        pass1, pooled, _ = model.pass1(latents, targets, genders, strengths, generators)
        arcface_hidden = model.arcface_hidden(source)
        clip_features = torch.cat([model.clip_image_feature(np.asarray(_to_image(x))) for x in source])
        face, clip = model.identity_inputs(arcface_hidden, clip_features, source_ages, targets, pass1)
    # IDEmb and pass 2: LoRA on, gradients through the MLPs and the LoRA
    idemb = model.project(face.clone(), clip.clone())
    use_adapter(model.pipe, ADAPTER)
    final = pass2_one_step(model, unet, pass1, idemb, pooled.clone(), generator)
    # losses (sec. 3.4 and the published script), each term unweighted in the log
    source = source.to(final.device)
    with torch.no_grad():
        source_id = model.arcface(arcface_input(source))
        pass1_features, _ = age_model(pass1.to(final))
    final_features, final_ages = age_model(final)
    parts = {
        "id_cos": identity_cosine_loss(source_id, model.arcface(arcface_input(final))),
        "age": age_target_loss(final_ages, torch.tensor(targets).to(final), config.age_loss),
        "age_feature": age_feature_loss(pass1_features, final_features),
        "pixel_mse": pixel_mse_loss(source, final, config.pixel_centre_weighted),
        "ms_ssim": ms_ssim_loss(source, final, config.ssim_window),
        "perceptual": perceptual(source, final).float(),
    }
    # The generator's GAN term reads the discriminator without training it: its parameters take no
    # gradient (they accumulate only the discriminator's own loss) and the multi-GPU wrapper is
    # bypassed (its gradients are all-reduced in the discriminator's update only).
    critic = getattr(discriminator, "module", discriminator)
    with no_parameter_gradients(critic):
        parts["gan"] = generator_gan_loss(critic, final, config.gan_loss)
    weights = {
        "id_cos": config.w_id,
        "age": config.w_age,
        "age_feature": config.w_age_feature,
        "pixel_mse": config.w_pixel_mse,
        "ms_ssim": config.w_ms_ssim,
        "perceptual": config.w_perceptual,
        "gan": config.w_gan,
    }
    total = sum(weights[name] * value for name, value in parts.items())

    def d_loss() -> torch.Tensor:
        return config.discriminator_weight * discriminator_loss(discriminator, source, final, config.gan_loss)

    log = {k: float(v.detach()) for k, v in parts.items()} | {"total": float(total.detach())}
    log |= {"target_age_mean": sum(targets) / count, "pass1_strength": sum(strengths) / count}
    return total, d_loss, log


def _to_image(pixels: torch.Tensor) -> Image.Image:
    return Image.fromarray((pixels.float().clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy())


HPARAMS_FILE = "hparams.yml"  # the published checkpoints' record of their training settings
LOCAL_SETTINGS = ("data", "output_dir", "resume_from", "push_to_hub", "num_workers")  # paths and plumbing: not recorded


def hparams(model, config: TrainConfig) -> dict:
    """The settings a checkpoint was trained with: the pass settings under the published config's
    key names (its inference reads them from hparams.yml), then every training setting."""
    method = model.config
    published = {
        "t1": config.t1,
        "t2": config.t2,
        "all_strength": [0.25, 0.5, 0.75],
        "infer_step": method.num_inference_steps,
        "id_strength": method.pass2_strength,
        "use_swr": method.use_svr,
        "swr_alpha": method.svr_alpha,
        "swr_beta": method.svr_beta,
        "clip_map_model": method.rotate_mode,
        "prompt_mode": "normal",
        "rank": config.lora_rank,
        "resolution": config.resolution,
    }
    training = {k: v for k, v in dataclasses.asdict(config).items() if k not in LOCAL_SETTINGS and k not in published}
    if Path(config.age_model).exists():  # a local folder: its name, not the trainer's path (hparams.yml is shared)
        training["age_model"] = f"local folder {Path(config.age_model).name!r}"
    return published | {k: list(v) if isinstance(v, tuple) else v for k, v in training.items()}


def save_serving_checkpoint(model, folder: Path, unwrap=lambda m: m, config: TrainConfig | None = None) -> Path:
    """The Cradle2Cane/ folder serving loads: LoRA (diffusers format), both MLPs (safetensors + JSON)
    and, given the config, hparams.yml with the settings it was trained with."""

    target = folder / C2C_SUBFOLDER
    target.mkdir(parents=True, exist_ok=True)
    save_lora(model.pipe.unet, ADAPTER, target)
    save_projection(unwrap(model.face_mlp), target / "face_project")
    save_projection(unwrap(model.clip_mlp), target / "clip_project")
    if config is not None:
        (target / HPARAMS_FILE).write_text(yaml.safe_dump(hparams(model, config), sort_keys=False))
    return target


def validate(model, dataset: FaceFolder, config: TrainConfig, step: int, output_dir: Path) -> Path:
    """A lifespan strip of the first face at the validation ages, saved as PNG."""

    model.face_mlp.eval(), model.clip_mlp.eval()
    example = dataset[0]
    face = np.asarray(_to_image(example["pixels"]))
    model.clear_sources()  # the encoders are frozen, but keep validation independent of the cache
    result = model(model.encode_source(face), float(example["age"]), example["gender"], config.validation_ages, seed=config.seed)
    model.face_mlp.train(), model.clip_mlp.train()
    path = output_dir / "validation" / f"step-{step:06d}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(
        strip([face] + [i.image for i in result.items], ["source"] + [f"{a:g} y" for a in config.validation_ages])
    ).save(path)
    return path


def place_models(model, age_model, perceptual, discriminator, device, dtype: torch.dtype) -> None:
    """Frozen models (VAE, text encoders, UNet base, CLIP, ArcFace, age and perceptual models) in
    `dtype` on the device; trained parameters (LoRA, MLPs, discriminator) in fp32 there."""
    model.pipe.to(device, dtype)
    freeze([model.clip_model, model.arcface, age_model, perceptual], dtype, device)
    for module in (model.face_mlp, model.clip_mlp, discriminator):
        module.to(device)
    trained_in_fp32(model.pipe.unet, model.face_mlp, model.clip_mlp, discriminator)


def train(config: TrainConfig) -> dict:
    """Mixed precision as diffusers' training scripts do it: frozen models in the run's half
    precision, trained parameters (LoRA, MLPs, discriminator) in fp32 under autocast, every trained
    module, optimiser and the data loader through accelerate, gradients clipped, accelerate's
    save_state / load_state for checkpoints."""

    output_dir = Path(config.output_dir)
    accelerator = make_accelerator(config.mixed_precision, config.gradient_accumulation_steps)
    torch.manual_seed(config.seed)
    dataset = face_dataset(config)
    model, age_model = build_models(config)
    if config.gradient_checkpointing and config.profile == "full":
        model.pipe.unet.enable_gradient_checkpointing()
    discriminator = PatchDiscriminator(width=16 if config.profile == "tiny" else 64)
    perceptual = perceptual_model(config.perceptual, model.pipe.vae)
    place_models(model, age_model, perceptual, discriminator, accelerator.device, weight_dtype(accelerator))
    trainable = lora_parameters(model.pipe.unet) + list(model.face_mlp.parameters()) + list(model.clip_mlp.parameters())
    optimizer = torch.optim.AdamW(
        trainable, lr=config.learning_rate, betas=config.adam_betas, weight_decay=config.weight_decay, eps=1e-8
    )
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=config.discriminator_lr, betas=(0.5, 0.999))
    unet, model.face_mlp, model.clip_mlp, discriminator, optimizer, d_optimizer, loader = accelerator.prepare(
        model.pipe.unet, model.face_mlp, model.clip_mlp, discriminator, optimizer, d_optimizer, shuffled_batches(dataset, config)
    )
    unwrap = accelerator.unwrap_model

    def save_weights(folder: Path) -> None:
        save_serving_checkpoint(model, folder, unwrap, config)
        write_state_dict(unwrap(discriminator).state_dict(), folder / DISCRIMINATOR_FILE)

    def load_weights(folder: Path) -> None:
        load_lora(model.pipe.unet, ADAPTER, folder / C2C_SUBFOLDER)
        restore_weights(unwrap(model.face_mlp), folder / C2C_SUBFOLDER / "face_project")
        restore_weights(unwrap(model.clip_mlp), folder / C2C_SUBFOLDER / "clip_project")
        unwrap(discriminator).load_state_dict(read_state_dict(folder / DISCRIMINATOR_FILE))

    register_checkpoint_hooks(accelerator, save_weights, load_weights)
    step = 0
    resume = resume_folder(output_dir, config.resume_from)
    if resume is not None:
        step = load_checkpoint_state(accelerator, resume)
        logger.info("resumed from %s at step %d", resume, step)
    model.face_mlp.train(), model.clip_mlp.train(), discriminator.train()

    def one_step(batch, at: int, micro: int):
        total, d_loss, parts = training_step(
            model, unet, age_model, perceptual, discriminator, batch, config, step_generator(config.seed, at, micro)
        )
        updates = [("total", optimizer, total)]
        if at % config.discriminator_every == 0:  # train.py: global_step % d_loss_update_step == 0
            updates.append(("discriminator", d_optimizer, d_loss))
        return updates, parts

    def validation(at: int) -> None:
        if accelerator.is_main_process:
            with autocast(accelerator):
                logger.info("step %d: validation strip %s", at, validate(model, dataset, config, at, output_dir))

    return train_and_share(
        loader,
        one_step,
        accelerator,
        output_dir,
        step,
        config,
        [(config.validate_every, validation, False)],
        (unet, model.face_mlp, model.clip_mlp, discriminator),
    )


def main(argv: list[str] | None = None) -> None:
    result = cli("train.lifespan", __doc__.split("\n\n")[0], TrainConfig, train, argv)
    # the folder holding Cradle2Cane/ is what the setting names (its Cradle2Cane/ subfolder printed before was one too deep)
    logger.info(
        "done at step %d; checkpoint in %s (set HUB_MODEL_DIR_CRADLE2CANE to it to serve it)",
        result["step"],
        result["checkpoint"],
    )


if __name__ == "__main__":
    main()
