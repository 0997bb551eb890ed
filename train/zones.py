"""Train the LDLA zone model: a LoRA on the SDXL-Turbo UNet and the ScoreNet (LDLA paper, sec. 3).

    accelerate launch -m train.zones --config train/configs/zones.yaml
    python -m train.zones --config train/configs/zones-tiny.yaml --set data=DIR output_dir=DIR   # CPU smoke run

Data: a folder of zone crops named `{zone}_{score}_*.png`, `zone` one of this hub's
zone names (forehead, glabella, crows_feet_left, ...) and `score` the crop's aging
score in percent of its atlas scale (0-100).

Losses (eq. 1-6): L_full and L_zone, noise regression under the full prompt
("image of {zone} wrinkles with an aging score of {s}%") and the zone prompt
("image of {zone}"); L_cycle, from z_0 to a random target score and back, each way
through the one-step estimate of eq. 4, compared with z_0; L_score, ScoreNet's
error on the target-score crop (and, so that ScoreNet learns real scores, on the
real crop).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from engine.core.checkpoints import restore_weights
from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.faces.zones import ZONE_TYPES, ZONES
from engine.methods import tiny
from engine.methods.ldla.renderers import ADAPTER, aging_prompt
from engine.methods.ldla.scorenet import ScoreNet, save_scorenet
from engine.methods.lora import add_lora, load_lora, lora_parameters, save_lora
from train.common import (
    NamedImages,
    check_precision,
    check_profile_and_data,
    cli,
    load_checkpoint_state,
    make_accelerator,
    register_checkpoint_hooks,
    resume_folder,
    shuffled_batches,
    step_generator,
    trained_in_fp32,
    weight_dtype,
)
from train.loop import train_and_share

logger = logging.getLogger(__name__)


@dataclass
class ZonesConfig:
    data: str = ""  # folder of {zone}_{score}_*.png crops
    output_dir: str = "outputs/zones"
    profile: str = "full"  # full: SDXL-Turbo from the Hub; tiny: random miniature models (smoke tests)
    resolution: int = 512
    lora_rank: int = 16  # the paper fine-tunes the whole UNet; a LoRA keeps the shared backbone intact
    learning_rate: float = 1e-5
    scorenet_lr: float = 1e-4
    batch_size: int = 8
    max_steps: int = 10000
    mixed_precision: str = "fp16"
    gradient_accumulation_steps: int = 1  # micro-batches of batch_size per optimiser step (diffusers' default)
    seed: int = 0
    w_full: float = 1.0  # lambda_full .. lambda_score of eq. 6 (the paper does not publish them)
    w_zone: float = 1.0
    w_cycle: float = 1.0
    w_score: float = 1.0
    cycle_max_timestep: int = 400  # eq. 4 divides by sqrt(alpha_bar_t): keep t where that is stable
    max_grad_norm: float | None = 1.0  # as diffusers' LoRA training scripts; None: no clipping
    checkpoint_every: int = 1000
    resume_from: str | None = None
    push_to_hub: str | None = None
    training_data: str = ""  # what the data is (name, size, licence): the pushed card states it (needed with push_to_hub)
    num_workers: int = 2

    def __post_init__(self) -> None:
        check_profile_and_data(self, "crops named {zone}_{score}_*.png")
        check_precision(self.mixed_precision)


NAME = re.compile(r"^(" + "|".join(sorted(ZONES, key=len, reverse=True)) + r")_(\d+(?:\.\d+)?)_.+\.(png|jpe?g)$", re.IGNORECASE)


def crop_labels(name: str) -> dict | None:
    """{"zone", "score"} from a name {zone}_{score}_*.png with a score of 0-100."""
    match = NAME.match(name)
    if match is None or not 0 <= float(match.group(2)) <= 100:
        return None
    return {"zone": match.group(1).lower(), "score": float(match.group(2))}


class ZoneCrops(NamedImages):
    def __init__(self, folder: Path, resolution: int):
        super().__init__(
            folder, resolution, crop_labels, f"{{zone}}_{{score}}_*.png with a score of 0-100 (zones: {', '.join(ZONES)})"
        )


def full_prompt(zone: str, score: float) -> str:
    """The serving renderer's prompt without ethnicity, so the LoRA learns what serving asks for."""

    return aging_prompt(zone, score)


def zone_prompt(zone: str) -> str:
    return f"image of {ZONE_TYPES[zone]}"


def build(config: ZonesConfig):
    from diffusers import DDPMScheduler  # noqa: PLC0415 - diffusers loads on first use of a diffusion path

    torch.manual_seed(config.seed)
    if config.profile == "tiny":
        pipe = tiny.sdxl_img2img(config.seed)
    else:
        pipe = get_cache(Settings.from_env().with_(profile="full")).get("sdxl_turbo")
    pipe.unet.requires_grad_(False)  # only the LoRA added next is trained
    add_lora(pipe.unet, ADAPTER, config.lora_rank)
    for module in (pipe.vae, pipe.text_encoder, pipe.text_encoder_2):
        module.requires_grad_(False)
    scorenet = ScoreNet(width=8 if config.profile == "tiny" else 32, size=32 if config.profile == "tiny" else 128)
    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    return pipe, scorenet, noise_scheduler


def one_step_clean(noisy, eps, alpha_bar):
    """Eq. 4: x_0 ~ (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)."""
    return (noisy - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()


def training_step(pipe, unet, scorenet, noise_scheduler, batch, config: ZonesConfig, generator):
    """Losses of one batch: (total, parts). `unet` is the trained UNet as accelerate prepared it."""
    pixels, zones, scores = batch["pixels"].float(), list(batch["zone"]), batch["score"].float()
    count = len(zones)
    device = pipe.unet.device
    vae = pipe.vae
    with torch.no_grad():
        z0 = vae.encode((pixels * 2 - 1).to(device, vae.dtype)).latent_dist.sample(generator) * vae.config.scaling_factor
    targets = torch.randint(0, 101, (count,), generator=generator).float()

    def condition(prompts):
        with torch.no_grad():
            embeds, _, pooled, _ = pipe.encode_prompt(
                prompts, device=device, num_images_per_prompt=1, do_classifier_free_guidance=False
            )
        size = config.resolution
        time_ids = torch.tensor([[size, size, 0, 0, size, size]], dtype=embeds.dtype, device=device).repeat(count, 1)
        return embeds, {"text_embeds": pooled, "time_ids": time_ids}

    def eps(latents, timesteps, cond):
        embeds, added = cond
        return unet(latents, timesteps, encoder_hidden_states=embeds, added_cond_kwargs=added).sample.float()

    full = condition([full_prompt(z, s) for z, s in zip(zones, scores.tolist())])
    zone_only = condition([zone_prompt(z) for z in zones])
    target = condition([full_prompt(z, s) for z, s in zip(zones, targets.tolist())])
    # eq. 1-2: noise regression under the full and the zone prompt
    timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (count,), generator=generator).to(device)
    z0 = z0.float()  # the noise arithmetic in fp32; the UNet runs under autocast
    noise = torch.randn(z0.shape, generator=generator).to(z0)
    noisy = noise_scheduler.add_noise(z0, noise, timesteps)
    loss_full = F.mse_loss(eps(noisy, timesteps, full), noise)
    loss_zone = F.mse_loss(eps(noisy, timesteps, zone_only), noise)
    # eq. 3-4: to the target score and back, one step each way
    t_cycle = torch.randint(1, config.cycle_max_timestep, (count,), generator=generator).to(device)
    alpha_bar = noise_scheduler.alphas_cumprod.to(device)[t_cycle].view(-1, 1, 1, 1).to(z0.dtype)
    noisy = noise_scheduler.add_noise(z0, noise, t_cycle)
    to_target = one_step_clean(noisy, eps(noisy, t_cycle, target), alpha_bar)
    back_noise = torch.randn(z0.shape, generator=generator).to(z0)
    renoised = noise_scheduler.add_noise(to_target, back_noise, t_cycle)
    back = one_step_clean(renoised, eps(renoised, t_cycle, full), alpha_bar)
    loss_cycle = F.mse_loss(back, z0)
    # eq. 5: ScoreNet on the target-score crop, and on the real crop
    generated = ((vae.decode((to_target / vae.config.scaling_factor).to(vae.dtype)).sample.float() + 1) / 2).clamp(0, 1)
    loss_score = F.mse_loss(scorenet(generated).float(), targets.to(device) / 100) + F.mse_loss(
        scorenet(pixels.to(device)).float(), scores.to(device) / 100
    )
    total = config.w_full * loss_full + config.w_zone * loss_zone + config.w_cycle * loss_cycle + config.w_score * loss_score
    parts = {"full": loss_full, "zone": loss_zone, "cycle": loss_cycle, "score": loss_score, "total": total}
    return total, {k: float(v.detach()) for k, v in parts.items()}


def save_weights(folder: Path, pipe, scorenet) -> None:
    """What serving loads: the zone LoRA and ScoreNet."""

    folder.mkdir(parents=True, exist_ok=True)
    save_lora(pipe.unet, ADAPTER, folder)
    save_scorenet(scorenet, folder / "scorenet")


def load_weights(folder: Path, pipe, scorenet) -> None:

    load_lora(pipe.unet, ADAPTER, folder)
    restore_weights(scorenet, folder / "scorenet")


def train(config: ZonesConfig) -> dict:
    """Mixed precision as diffusers' training scripts do it (see train.lifespan.train)."""

    accelerator = make_accelerator(config.mixed_precision, config.gradient_accumulation_steps)
    output_dir = Path(config.output_dir)
    dataset = ZoneCrops(Path(config.data), config.resolution)
    pipe, scorenet, noise_scheduler = build(config)
    pipe.to(accelerator.device, weight_dtype(accelerator))  # frozen: VAE, text encoders, UNet base
    scorenet.to(accelerator.device)
    trained_in_fp32(pipe.unet, scorenet)
    optimizer = torch.optim.AdamW(
        [
            {"params": lora_parameters(pipe.unet), "lr": config.learning_rate},
            {"params": scorenet.parameters(), "lr": config.scorenet_lr},
        ]
    )
    unet, scorenet, optimizer, loader = accelerator.prepare(
        pipe.unet, scorenet, optimizer, shuffled_batches(dataset, config, "crops")
    )
    unwrap = accelerator.unwrap_model
    register_checkpoint_hooks(
        accelerator,
        lambda folder: save_weights(folder, pipe, unwrap(scorenet)),
        lambda folder: load_weights(folder, pipe, unwrap(scorenet)),
    )
    step = 0
    resume = resume_folder(output_dir, config.resume_from)
    if resume is not None:
        step = load_checkpoint_state(accelerator, resume)

    def one_step(batch, at: int, micro: int):
        generator = step_generator(config.seed, at, micro)
        total, parts = training_step(pipe, unet, scorenet, noise_scheduler, batch, config, generator)
        return [("total", optimizer, total)], parts

    return train_and_share(loader, one_step, accelerator, output_dir, step, config, models=(unet, scorenet))


def main(argv: list[str] | None = None) -> None:
    result = cli("train.zones", __doc__.split("\n\n")[0], ZonesConfig, train, argv)
    logger.info(
        "done at step %d; checkpoint in %s (set HUB_MODEL_DIR_SCORENET to it for measured scores)",
        result["step"],
        result["checkpoint"],
    )


if __name__ == "__main__":
    main()
