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

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from train.common import (
    check_profile_and_data,
    cli,
    config_from_yaml,
    latest_checkpoint,
    resume_folder,
    run_steps,
)

logger = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    data: str = ""  # folder of FFHQ-aligned faces named {age}_{gender}_*.png (gender: male/female or 0/1)
    output_dir: str = "outputs/lifespan"
    profile: str = "full"  # full: Hub weights on a GPU; tiny: random miniature models (smoke tests)
    resolution: int = 512  # paper: FFHQ 512
    lora_rank: int = 40  # released weights: rank 40, alpha 40
    lora_alpha: int = 40
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
    def from_yaml(cls, path: Path, overrides: dict | None = None) -> "TrainConfig":
        return config_from_yaml(cls, path, overrides)


NAME = re.compile(r"^(\d+(?:\.\d+)?)_(male|female|0|1)_.+\.(png|jpe?g)$", re.IGNORECASE)


class FaceFolder(torch.utils.data.Dataset):
    """Aligned faces with age and gender in their names; unparseable names are reported, not used."""

    def __init__(self, folder: Path, resolution: int):
        files = sorted(p for p in Path(folder).iterdir() if p.is_file())
        self.items, rejected = [], []
        for path in files:
            match = NAME.match(path.name)
            if match is None:
                rejected.append(path.name)
                continue
            gender = match.group(2).lower()
            gender = {"0": "male", "1": "female"}.get(gender, gender)  # UTKFace: 0 male, 1 female
            self.items.append((path, float(match.group(1)), gender))
        if rejected:
            logger.warning("%d files in %s are not named {age}_{gender}_*.png and are not used, e.g. %s",
                           len(rejected), folder, rejected[:3])
        if not self.items:
            raise ValueError(f"{folder}: no file named {{age}}_{{gender}}_*.png")
        self.resolution = resolution

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        path, age, gender = self.items[index]
        image = Image.open(path).convert("RGB")
        if image.size != (self.resolution, self.resolution):
            image = image.resize((self.resolution, self.resolution), Image.LANCZOS)
        pixels = torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255.0
        return {"pixels": pixels, "age": torch.tensor(age), "gender": gender}


def build_models(config: TrainConfig):
    """(Cradle2Cane pipeline with a fresh trainable LoRA and MLPs, the age loss model)."""
    from peft import LoraConfig

    from engine.methods.cradle2cane.nets import ProjectionMLP
    from engine.methods.cradle2cane.pipeline import (
        ADAPTER,
        Cradle2Cane,
        Cradle2CaneConfig,
    )
    from train.losses import age_loss_model

    if config.profile == "tiny":
        from engine.methods import tiny

        pipe = tiny.sdxl_img2img(config.seed)
        clip = tiny.clip(config.seed)
        arcface = tiny.arcface(config.seed)
    else:
        from engine.core.registry import get_cache
        from engine.core.settings import Settings

        cache = get_cache(Settings.from_env().with_(profile="full"))
        pipe, clip, arcface = cache.get("sdxl_turbo"), cache.get("clip_vit_l14"), cache.get("arcface_r100")
    pipe.unet.add_adapter(
        LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, init_lora_weights="gaussian",
                   target_modules=["to_q", "to_k", "to_v", "to_out.0"]),
        adapter_name=ADAPTER,
    )
    width = pipe.unet.config.cross_attention_dim
    face_mlp = ProjectionMLP(arcface.hidden_size, width)
    clip_mlp = ProjectionMLP(clip.model.config.projection_dim, width)
    for module in (pipe.vae, pipe.text_encoder, pipe.text_encoder_2, clip.model, arcface):
        module.requires_grad_(False)
    model = Cradle2Cane(pipe, clip.model, clip.processor, clip.tokenizer, arcface, face_mlp, clip_mlp,
                        Cradle2CaneConfig(resolution=config.resolution), checkpoint="training")
    return model, age_loss_model(config.age_model).requires_grad_(False)


def lora_parameters(unet):
    return [p for name, p in unet.named_parameters() if "lora_" in name]


def pass2_one_step(model, pass1: torch.Tensor, idemb: torch.Tensor, pooled: torch.Tensor, generator) -> torch.Tensor:
    """Pass 2 (sec. 3.3) as one differentiable Euler step to the clean image: (B, 3, R, R) in [0, 1].

    With strength 0.25 of 4 Turbo steps this is exactly the one step serving runs.
    """
    from engine.methods.cradle2cane.maths import denoising_steps

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
        noisy / (sigma**2 + 1) ** 0.5, timestep, encoder_hidden_states=idemb.to(latents.dtype),
        added_cond_kwargs={"text_embeds": pooled.to(latents.dtype), "time_ids": time_ids.to(latents.device)},
    ).sample
    clean = noisy - sigma * eps
    decoded = vae.decode(clean / vae.config.scaling_factor).sample
    return ((decoded + 1) / 2).clamp(0, 1)


def training_step(model, age_model, perceptual, discriminator, batch, config: TrainConfig, generator):
    """Losses for one batch: (generator total, discriminator loss, parts for the log)."""
    from engine.core.models import use_adapter
    from engine.faces.iresnet import arcface_input
    from engine.methods.cradle2cane.maths import adani_strength
    from engine.methods.cradle2cane.pipeline import ADAPTER
    from train.losses import (
        age_loss,
        discriminator_loss,
        generator_gan_loss,
        identity_loss,
    )

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
        generators = [torch.Generator().manual_seed(int(torch.randint(0, 2**31, (1,), generator=generator))) for _ in range(count)]
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
    age, age_parts = age_loss(pass1_features, final_features, final_ages, torch.tensor(targets).to(final), config.w_age_feature, config.w_age_l2)
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
    from diffusers import StableDiffusionXLImg2ImgPipeline
    from peft.utils import get_peft_model_state_dict

    from engine.methods.cradle2cane.nets import save_projection
    from engine.methods.cradle2cane.pipeline import ADAPTER, LORA_FILE

    target = folder / "Cradle2Cane"
    target.mkdir(parents=True, exist_ok=True)
    StableDiffusionXLImg2ImgPipeline.save_lora_weights(
        str(target), unet_lora_layers=get_peft_model_state_dict(model.pipe.unet, adapter_name=ADAPTER), weight_name=LORA_FILE
    )
    save_projection(model.face_mlp, target / "face_project")
    save_projection(model.clip_mlp, target / "clip_project")
    return target


def save_training_state(folder: Path, step: int, model, discriminator, optimizers) -> None:
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import save_file

    from engine.methods.cradle2cane.pipeline import ADAPTER

    folder.mkdir(parents=True, exist_ok=True)
    save_serving_checkpoint(model, folder)
    save_file({k: v.contiguous() for k, v in get_peft_model_state_dict(model.pipe.unet, adapter_name=ADAPTER).items()},
              str(folder / "lora.safetensors"))
    save_file({k: v.contiguous() for k, v in discriminator.state_dict().items()}, str(folder / "discriminator.safetensors"))
    torch.save([o.state_dict() for o in optimizers], folder / "optimizers.pt")
    (folder / "trainer_state.json").write_text(json.dumps({"step": step}))


def load_training_state(folder: Path, model, discriminator, optimizers) -> int:
    from peft.utils import set_peft_model_state_dict
    from safetensors.torch import load_file

    from engine.methods.cradle2cane.nets import load_projection
    from engine.methods.cradle2cane.pipeline import ADAPTER

    serving = folder / "Cradle2Cane"
    set_peft_model_state_dict(model.pipe.unet, load_file(str(folder / "lora.safetensors")), adapter_name=ADAPTER)
    width = model.pipe.unet.config.cross_attention_dim
    model.face_mlp.load_state_dict(load_projection(serving / "face_project.safetensors", width).state_dict())
    model.clip_mlp.load_state_dict(load_projection(serving / "clip_project.safetensors", width).state_dict())
    discriminator.load_state_dict(load_file(str(folder / "discriminator.safetensors")))
    for optimizer, state in zip(optimizers, torch.load(folder / "optimizers.pt", weights_only=True)):
        optimizer.load_state_dict(state)
    return int(json.loads((folder / "trainer_state.json").read_text())["step"])


def validate(model, dataset: FaceFolder, config: TrainConfig, step: int, output_dir: Path) -> Path:
    """A lifespan strip of the first face at the validation ages, saved as PNG."""
    from engine.core.media import strip

    model.face_mlp.eval(), model.clip_mlp.eval()
    example = dataset[0]
    face = np.asarray(_to_image(example["pixels"]))
    model._sources.clear()  # the encoders are frozen, but keep validation independent of the cache
    result = model(model.encode_source(face), float(example["age"]), example["gender"], config.validation_ages, seed=config.seed)
    model.face_mlp.train(), model.clip_mlp.train()
    path = output_dir / "validation" / f"step-{step:06d}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(strip([face] + [i.image for i in result.items], ["source"] + [f"{a:g} y" for a in config.validation_ages])).save(path)
    return path


def train(config: TrainConfig) -> dict:
    from accelerate import Accelerator

    from train.losses import PatchDiscriminator, perceptual_model

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
    loader = torch.utils.data.DataLoader(dataset, batch_size=config.batch_size, shuffle=True, drop_last=True,
                                         num_workers=config.num_workers, generator=torch.Generator().manual_seed(config.seed))
    if len(loader) == 0:
        raise ValueError(f"{config.data}: {len(dataset)} faces is fewer than one batch of {config.batch_size}")
    device = accelerator.device
    for module in (model.pipe, model.clip_model, model.arcface, model.face_mlp, model.clip_mlp, age_model, discriminator, perceptual):
        module.to(device)
    optimizer, d_optimizer, loader = accelerator.prepare(optimizer, d_optimizer, loader)
    step = 0
    resume = resume_folder(output_dir, config.resume_from)
    if resume is not None:
        step = load_training_state(resume, model, discriminator, (optimizer, d_optimizer))
        logger.info("resumed from %s at step %d", resume, step)
    model.face_mlp.train(), model.clip_mlp.train()
    generator = torch.Generator().manual_seed(config.seed + step)

    def one_step(batch):
        total, d_loss, parts = training_step(model, age_model, perceptual, discriminator, batch, config, generator)
        return [(optimizer, total), (d_optimizer, d_loss)], parts

    def checkpoint(at: int) -> None:
        save_training_state(output_dir / f"checkpoint-{at}", at, model, discriminator, (optimizer, d_optimizer))

    def validation(at: int) -> None:
        logger.info("step %d: validation strip %s", at, validate(model, dataset, config, at, output_dir))

    step, history = run_steps(loader, one_step, accelerator, output_dir, step, config.max_steps,
                              [(config.validate_every, validation, False), (config.checkpoint_every, checkpoint, True)])
    final = latest_checkpoint(output_dir)
    if config.push_to_hub:
        from huggingface_hub import HfApi

        api = HfApi()
        api.create_repo(config.push_to_hub, exist_ok=True)
        api.upload_folder(repo_id=config.push_to_hub, folder_path=str(final / "Cradle2Cane"), path_in_repo="Cradle2Cane",
                          commit_message=f"Cradle2Cane checkpoint at step {step}")
    return {"step": step, "history": history, "checkpoint": str(final)}


def main(argv: list[str] | None = None) -> None:
    result = cli("train.lifespan", __doc__.split("\n\n")[0], TrainConfig, train, argv)
    logger.info("done at step %d; serving checkpoint in %s/Cradle2Cane", result["step"], result["checkpoint"])


if __name__ == "__main__":
    main()
