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

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from engine.core.checkpoints import restore_weights
from engine.core.media import strip
from engine.core.models import use_adapter
from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.faces.iresnet import arcface_input
from engine.methods import tiny
from engine.methods.cradle2cane.loaders import C2C_SUBFOLDER
from engine.methods.cradle2cane.maths import adani_strength, denoising_steps
from engine.methods.cradle2cane.nets import ProjectionMLP, save_projection
from engine.methods.cradle2cane.pipeline import ADAPTER, RELEASED_LORA_RANK, Cradle2Cane, Cradle2CaneConfig
from engine.methods.lora import add_lora, lora_parameters, lora_state, save_lora, set_lora_state
from train.common import (
    NamedImages,
    check_profile_and_data,
    cli,
    config_from_yaml,
    latest_checkpoint,
    load_training_state,
    resume_folder,
    run_steps,
    save_training_state,
    shuffled_batches,
)
from train.losses import (
    PatchDiscriminator,
    age_loss,
    age_loss_model,
    discriminator_loss,
    generator_gan_loss,
    identity_loss,
    perceptual_model,
)
from train.push import push

logger = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    data: str = ""  # folder of FFHQ-aligned faces named {age}_{gender}_*.png (gender: male/female or 0/1)
    output_dir: str = "outputs/lifespan"
    profile: str = "full"  # full: Hub weights on a GPU; tiny: random miniature models (smoke tests)
    resolution: int = Cradle2CaneConfig.resolution
    lora_rank: int = RELEASED_LORA_RANK
    lora_alpha: int = RELEASED_LORA_RANK
    learning_rate: float = 1e-4  # released: constant 1e-4
    discriminator_lr: float = 1e-4
    batch_size: int = 6  # released: 6 (paper: 4 per GPU on 8 GPUs)
    max_steps: int = 20000
    gradient_checkpointing: bool = True
    mixed_precision: str = "fp16"  # accelerate: no | fp16 | bf16
    seed: int = 0
    # Loss weights lambda1..6 (paper appendix); released config: 0.1, 2, 0.75, 0.75, 0.5, 0.04.
    w_ms_ssim: float = 0.25
    w_id: float = 1.2
    w_age_feature: float = 1.5
    w_age_l2: float = 1.5
    w_perceptual: float = 0.25
    w_gan: float = 0.1
    ssim_window: int = 11  # MS-SSIM needs a shorter side > (window - 1) * 16
    age_model: str = ""  # Hub id / folder of an age classifier (labels = ages); "tiny" for tests
    perceptual: str = "lpips"  # lpips (needs `pip install lpips torchvision`) or vae
    checkpoint_every: int = 1000
    validate_every: int = 500
    validation_ages: list[float] = field(default_factory=lambda: [10.0, 30.0, 50.0, 70.0])
    resume_from: str | None = None  # a checkpoint folder, or "latest"
    push_to_hub: str | None = None  # repo id for the final serving checkpoint
    num_workers: int = 2

    def __post_init__(self) -> None:
        check_profile_and_data(self, "faces named {age}_{gender}_*.png")
        if not self.age_model:
            raise ValueError("age_model: name a differentiable age estimator (a Hub id or folder), or 'tiny' for tests")
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be >= 2 (the MLPs use BatchNorm), got {self.batch_size}")

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
    """Aligned faces with age and gender in their names; unparseable names are reported, not used."""

    def __init__(self, folder: Path, resolution: int):
        super().__init__(folder, resolution, face_labels, "{age}_{gender}_*.png")


def build_models(config: TrainConfig):
    """(Cradle2Cane pipeline with a fresh trainable LoRA and MLPs, the age loss model)."""

    if config.profile == "tiny":
        pipe = tiny.sdxl_img2img(config.seed)
        clip = tiny.clip(config.seed)
        arcface = tiny.arcface(config.seed)
    else:
        cache = get_cache(Settings.from_env().with_(profile="full"))
        pipe, clip, arcface = cache.get("sdxl_turbo"), cache.get("clip_vit_l14"), cache.get("arcface_r100")
    add_lora(pipe.unet, ADAPTER, config.lora_rank, config.lora_alpha)
    width = pipe.unet.config.cross_attention_dim
    face_mlp = ProjectionMLP(arcface.hidden_size, width)
    clip_mlp = ProjectionMLP(clip.model.config.projection_dim, width)
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
        Cradle2CaneConfig(resolution=config.resolution),
        checkpoint="training",
    )
    return model, age_loss_model(config.age_model).requires_grad_(False)


def pass2_one_step(model, pass1: torch.Tensor, idemb: torch.Tensor, pooled: torch.Tensor, generator) -> torch.Tensor:
    """Pass 2 (sec. 3.3) as one differentiable Euler step to the clean image: (B, 3, R, R) in [0, 1].

    With strength 0.25 of 4 Turbo steps this is exactly the one step serving runs.
    """

    pipe, config = model.pipe, model.config
    scheduler = pipe.scheduler
    scheduler.set_timesteps(config.num_inference_steps)
    start = config.num_inference_steps - denoising_steps(config.num_inference_steps, config.pass2_strength)
    timestep, sigma = scheduler.timesteps[start], scheduler.sigmas[start]
    vae, unet = pipe.vae, pipe.unet
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
    clean = noisy - sigma * eps
    decoded = vae.decode(clean / vae.config.scaling_factor).sample
    return ((decoded + 1) / 2).clamp(0, 1)


def training_step(model, age_model, perceptual, discriminator, batch, config: TrainConfig, generator):
    """Losses for one batch: (generator total, discriminator loss, parts for the log)."""

    source = batch["pixels"]  # (B, 3, R, R) in [0, 1]
    source_ages = batch["age"].tolist()
    genders = list(batch["gender"])
    count = len(source)
    targets = torch.randint(0, 81, (count,), generator=generator).float().tolist()
    # pass 1: AdaNI with the LoRA off (frozen: no gradient)
    with torch.no_grad():
        vae = model.pipe.vae
        latents = vae.encode((source * 2 - 1).to(vae.device, vae.dtype)).latent_dist.mean * vae.config.scaling_factor
        strengths = [adani_strength(a, b, model.config.thresholds) for a, b in zip(source_ages, targets)]
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
    final = pass2_one_step(model, pass1, idemb, pooled.clone(), generator)
    # losses (sec. 3.4)
    source = source.to(final.device, final.dtype)
    with torch.no_grad():
        source_id = model.arcface(arcface_input(source))
        pass1_features, _ = age_model(pass1.to(final))
    final_id = model.arcface(arcface_input(final))
    final_features, final_ages = age_model(final)
    identity, id_parts = identity_loss(source, final, source_id, final_id, config.w_ms_ssim, config.w_id, config.ssim_window)
    age, age_parts = age_loss(
        pass1_features, final_features, final_ages, torch.tensor(targets).to(final), config.w_age_feature, config.w_age_l2
    )
    perceptual_term = perceptual(source, final)
    gan = generator_gan_loss(discriminator, final)
    total = identity + age + config.w_perceptual * perceptual_term + config.w_gan * gan
    d_loss = discriminator_loss(discriminator, source, final)
    parts = {**id_parts, **age_parts, "perceptual": perceptual_term, "gan": gan, "total": total, "discriminator": d_loss}
    return total, d_loss, {k: float(v.detach()) for k, v in parts.items()}


def _to_image(pixels: torch.Tensor) -> Image.Image:
    return Image.fromarray((pixels.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy())


def save_serving_checkpoint(model, folder: Path) -> Path:
    """The Cradle2Cane/ folder serving loads: LoRA (diffusers format) and both MLPs (safetensors + JSON)."""

    target = folder / C2C_SUBFOLDER
    target.mkdir(parents=True, exist_ok=True)
    save_lora(model.pipe.unet, ADAPTER, target)
    save_projection(model.face_mlp, target / "face_project")
    save_projection(model.clip_mlp, target / "clip_project")
    return target


def save_checkpoint(folder: Path, step: int, model, discriminator, optimizers) -> None:
    """The serving folder, and the training state: the LoRA (peft names), the discriminator, optimizers, step."""

    save_serving_checkpoint(model, folder)
    save_training_state(
        folder, step, optimizers, {"lora": lora_state(model.pipe.unet, ADAPTER), "discriminator": discriminator.state_dict()}
    )


def load_checkpoint(folder: Path, model, discriminator, optimizers) -> int:

    step, weights = load_training_state(folder, optimizers, ("lora", "discriminator"))
    set_lora_state(model.pipe.unet, ADAPTER, weights["lora"])
    discriminator.load_state_dict(weights["discriminator"])
    restore_weights(model.face_mlp, folder / C2C_SUBFOLDER / "face_project")
    restore_weights(model.clip_mlp, folder / C2C_SUBFOLDER / "clip_project")
    return step


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


def train(config: TrainConfig) -> dict:
    from accelerate import Accelerator  # noqa: PLC0415 - accelerate loads only when a harness or trainer runs

    output_dir = Path(config.output_dir)
    accelerator = Accelerator(mixed_precision=config.mixed_precision if torch.cuda.is_available() else "no")
    torch.manual_seed(config.seed)
    dataset = FaceFolder(Path(config.data), config.resolution)
    model, age_model = build_models(config)
    if config.gradient_checkpointing and config.profile == "full":
        model.pipe.unet.enable_gradient_checkpointing()
    discriminator = PatchDiscriminator(width=16 if config.profile == "tiny" else 64)
    perceptual = perceptual_model(config.perceptual, model.pipe.vae)
    trainable = lora_parameters(model.pipe.unet) + list(model.face_mlp.parameters()) + list(model.clip_mlp.parameters())
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate)
    d_optimizer = torch.optim.AdamW(discriminator.parameters(), lr=config.discriminator_lr, betas=(0.5, 0.999))
    loader = shuffled_batches(dataset, config, "faces")
    device = accelerator.device
    for module in (
        model.pipe,
        model.clip_model,
        model.arcface,
        model.face_mlp,
        model.clip_mlp,
        age_model,
        discriminator,
        perceptual,
    ):
        module.to(device)
    optimizer, d_optimizer, loader = accelerator.prepare(optimizer, d_optimizer, loader)
    step = 0
    resume = resume_folder(output_dir, config.resume_from)
    if resume is not None:
        step = load_checkpoint(resume, model, discriminator, (optimizer, d_optimizer))
        logger.info("resumed from %s at step %d", resume, step)
    model.face_mlp.train(), model.clip_mlp.train()
    generator = torch.Generator().manual_seed(config.seed + step)

    def one_step(batch):
        total, d_loss, parts = training_step(model, age_model, perceptual, discriminator, batch, config, generator)
        return [(optimizer, total), (d_optimizer, d_loss)], parts

    def checkpoint(at: int) -> None:
        save_checkpoint(output_dir / f"checkpoint-{at}", at, model, discriminator, (optimizer, d_optimizer))

    def validation(at: int) -> None:
        logger.info("step %d: validation strip %s", at, validate(model, dataset, config, at, output_dir))

    step, history = run_steps(
        loader,
        one_step,
        accelerator,
        output_dir,
        step,
        config.max_steps,
        [(config.validate_every, validation, False), (config.checkpoint_every, checkpoint, True)],
    )
    final = latest_checkpoint(output_dir)
    if config.push_to_hub:
        push(final, config.push_to_hub, training_data=f"faces in {config.data}")
    return {"step": step, "history": history, "checkpoint": str(final)}


def main(argv: list[str] | None = None) -> None:
    result = cli("train.lifespan", __doc__.split("\n\n")[0], TrainConfig, train, argv)
    logger.info("done at step %d; serving checkpoint in %s/Cradle2Cane", result["step"], result["checkpoint"])


if __name__ == "__main__":
    main()
