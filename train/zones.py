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

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from engine.faces.zones import ZONE_TYPES, ZONES
from train.common import check_profile_and_data, cli, resume_folder, run_steps

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
    seed: int = 0
    w_full: float = 1.0  # lambda_full .. lambda_score of eq. 6 (the paper does not publish them)
    w_zone: float = 1.0
    w_cycle: float = 1.0
    w_score: float = 1.0
    cycle_max_timestep: int = 400  # eq. 4 divides by sqrt(alpha_bar_t): keep t where that is stable
    checkpoint_every: int = 1000
    resume_from: str | None = None
    push_to_hub: str | None = None
    num_workers: int = 2

    def __post_init__(self) -> None:
        check_profile_and_data(self, "crops named {zone}_{score}_*.png")


NAME = re.compile(r"^(" + "|".join(sorted(ZONES, key=len, reverse=True)) + r")_(\d+(?:\.\d+)?)_.+\.(png|jpe?g)$", re.IGNORECASE)


class ZoneCrops(torch.utils.data.Dataset):
    def __init__(self, folder: Path, resolution: int):
        self.items, rejected = [], []
        for path in sorted(Path(folder).iterdir()):
            match = NAME.match(path.name)
            if match is None or not 0 <= float(match.group(2)) <= 100:
                rejected.append(path.name)
                continue
            self.items.append((path, match.group(1).lower(), float(match.group(2))))
        if rejected:
            logger.warning("%d files in %s are not {zone}_{score}_*.png with a score of 0-100 and are not used, e.g. %s",
                           len(rejected), folder, rejected[:3])
        if not self.items:
            raise ValueError(f"{folder}: no file named {{zone}}_{{score}}_*.png (zones: {', '.join(ZONES)})")
        self.resolution = resolution

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        path, zone, score = self.items[index]
        image = Image.open(path).convert("RGB").resize((self.resolution, self.resolution), Image.LANCZOS)
        return {"pixels": torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255.0, "zone": zone, "score": torch.tensor(score)}


def full_prompt(zone: str, score: float) -> str:
    return f"image of {ZONE_TYPES[zone]} wrinkles with an aging score of {round(score)}%"


def zone_prompt(zone: str) -> str:
    return f"image of {ZONE_TYPES[zone]}"


def build(config: ZonesConfig):
    from diffusers import DDPMScheduler
    from peft import LoraConfig

    from engine.methods.ldla.scorenet import ScoreNet

    torch.manual_seed(config.seed)
    if config.profile == "tiny":
        from engine.methods import tiny

        pipe = tiny.sdxl_img2img(config.seed)
    else:
        from engine.core.registry import get_cache
        from engine.core.settings import Settings

        pipe = get_cache(Settings.from_env().with_(profile="full")).get("sdxl_turbo")
    pipe.unet.add_adapter(LoraConfig(r=config.lora_rank, lora_alpha=config.lora_rank, init_lora_weights="gaussian",
                                     target_modules=["to_q", "to_k", "to_v", "to_out.0"]), adapter_name="ldla")
    for module in (pipe.vae, pipe.text_encoder, pipe.text_encoder_2):
        module.requires_grad_(False)
    scorenet = ScoreNet(width=8 if config.profile == "tiny" else 32, size=32 if config.profile == "tiny" else 128)
    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    return pipe, scorenet, noise_scheduler


def one_step_clean(noisy, eps, alpha_bar):
    """Eq. 4: x_0 ~ (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)."""
    return (noisy - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()


def training_step(pipe, scorenet, noise_scheduler, batch, config: ZonesConfig, generator):
    pixels, zones, scores = batch["pixels"], list(batch["zone"]), batch["score"].float()
    count = len(zones)
    device = pipe.unet.device
    vae = pipe.vae
    with torch.no_grad():
        z0 = vae.encode((pixels * 2 - 1).to(device, vae.dtype)).latent_dist.sample(generator) * vae.config.scaling_factor
    targets = torch.randint(0, 101, (count,), generator=generator).float()

    def condition(prompts):
        with torch.no_grad():
            embeds, _, pooled, _ = pipe.encode_prompt(prompts, device=device, num_images_per_prompt=1,
                                                      do_classifier_free_guidance=False)
        size = config.resolution
        time_ids = torch.tensor([[size, size, 0, 0, size, size]], dtype=embeds.dtype, device=device).repeat(count, 1)
        return embeds, {"text_embeds": pooled, "time_ids": time_ids}

    def eps(latents, timesteps, cond):
        embeds, added = cond
        return pipe.unet(latents, timesteps, encoder_hidden_states=embeds, added_cond_kwargs=added).sample

    full = condition([full_prompt(z, s) for z, s in zip(zones, scores.tolist())])
    zone_only = condition([zone_prompt(z) for z in zones])
    target = condition([full_prompt(z, s) for z, s in zip(zones, targets.tolist())])
    # eq. 1-2: noise regression under the full and the zone prompt
    timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (count,), generator=generator).to(device)
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
    generated = ((vae.decode(to_target / vae.config.scaling_factor).sample + 1) / 2).clamp(0, 1)
    loss_score = F.mse_loss(scorenet(generated.float()), targets.to(device) / 100) + F.mse_loss(
        scorenet(pixels.to(device)), scores.to(device) / 100
    )
    total = config.w_full * loss_full + config.w_zone * loss_zone + config.w_cycle * loss_cycle + config.w_score * loss_score
    parts = {"full": loss_full, "zone": loss_zone, "cycle": loss_cycle, "score": loss_score, "total": total}
    return total, {k: float(v.detach()) for k, v in parts.items()}


def save_checkpoint(folder: Path, step: int, pipe, scorenet, optimizer) -> None:
    from diffusers import StableDiffusionXLImg2ImgPipeline
    from peft.utils import get_peft_model_state_dict

    from engine.methods.ldla.scorenet import save_scorenet

    folder.mkdir(parents=True, exist_ok=True)
    StableDiffusionXLImg2ImgPipeline.save_lora_weights(
        str(folder), unet_lora_layers=get_peft_model_state_dict(pipe.unet, adapter_name="ldla"),
        weight_name="pytorch_lora_weights.safetensors",
    )
    save_scorenet(scorenet, folder / "scorenet")
    torch.save(optimizer.state_dict(), folder / "optimizer.pt")
    (folder / "trainer_state.json").write_text(json.dumps({"step": step}))


def load_checkpoint(folder: Path, pipe, scorenet, optimizer) -> int:
    from peft.utils import set_peft_model_state_dict
    from safetensors.torch import load_file

    from engine.methods.ldla.scorenet import load_scorenet

    lora = load_file(str(folder / "pytorch_lora_weights.safetensors"))
    set_peft_model_state_dict(pipe.unet, {k.removeprefix("unet."): v for k, v in lora.items()}, adapter_name="ldla")
    scorenet.load_state_dict(load_scorenet(folder / "scorenet.safetensors").state_dict())
    optimizer.load_state_dict(torch.load(folder / "optimizer.pt", weights_only=True))
    return int(json.loads((folder / "trainer_state.json").read_text())["step"])


def train(config: ZonesConfig) -> dict:
    from accelerate import Accelerator

    accelerator = Accelerator(mixed_precision=config.mixed_precision if torch.cuda.is_available() else "no")
    output_dir = Path(config.output_dir)
    dataset = ZoneCrops(Path(config.data), config.resolution)
    pipe, scorenet, noise_scheduler = build(config)
    lora = [p for name, p in pipe.unet.named_parameters() if "lora_" in name]
    optimizer = torch.optim.AdamW([{"params": lora, "lr": config.learning_rate},
                                   {"params": scorenet.parameters(), "lr": config.scorenet_lr}])
    loader = torch.utils.data.DataLoader(dataset, batch_size=config.batch_size, shuffle=True, drop_last=True,
                                         num_workers=config.num_workers, generator=torch.Generator().manual_seed(config.seed))
    if len(loader) == 0:
        raise ValueError(f"{config.data}: {len(dataset)} crops is fewer than one batch of {config.batch_size}")
    pipe.to(accelerator.device)
    scorenet.to(accelerator.device)
    optimizer, loader = accelerator.prepare(optimizer, loader)
    step = 0
    resume = resume_folder(output_dir, config.resume_from)
    if resume is not None:
        step = load_checkpoint(resume, pipe, scorenet, optimizer)
    generator = torch.Generator().manual_seed(config.seed + step)

    def one_step(batch):
        total, parts = training_step(pipe, scorenet, noise_scheduler, batch, config, generator)
        return [(optimizer, total)], parts

    def checkpoint(at: int) -> None:
        save_checkpoint(output_dir / f"checkpoint-{at}", at, pipe, scorenet, optimizer)

    step, history = run_steps(loader, one_step, accelerator, output_dir, step, config.max_steps,
                              [(config.checkpoint_every, checkpoint, True)])
    final = output_dir / f"checkpoint-{step}"
    if config.push_to_hub:
        from huggingface_hub import HfApi

        api = HfApi()
        api.create_repo(config.push_to_hub, exist_ok=True)
        api.upload_folder(repo_id=config.push_to_hub, folder_path=str(final), commit_message=f"LDLA zone model at step {step}",
                          ignore_patterns=["optimizer.pt", "trainer_state.json"])
    return {"step": step, "history": history, "checkpoint": str(final)}


def main(argv: list[str] | None = None) -> None:
    result = cli("train.zones", __doc__.split("\n\n")[0], ZonesConfig, train, argv)
    logger.info("done at step %d; checkpoint in %s (set HUB_MODEL_DIR_SCORENET to it for measured scores)",
                result["step"], result["checkpoint"])


if __name__ == "__main__":
    main()
