"""Train the PAE age encoder: mu / sigma heads on frozen CLIP image features (pluralistic aging paper, sec. 3.2).

    accelerate launch -m train.pluralistic --config train/configs/pluralistic.yaml
    python -m train.pluralistic --config train/configs/pluralistic-tiny.yaml --set data=DIR output_dir=DIR   # smoke run

Data: faces named `{age}_{gender}_*.png` (as for train.lifespan). For a face of age a,
the encoder maps its CLIP image feature and the text feature of "{a} years old" to
mu and log sigma; a reparameterised sample e ~ N(mu, sigma^2 I) is trained with
- age fidelity: e, read as a zero-shot classifier over the text features of ages
  0-80, must point at a (cross-entropy to a soft label around a);
- identity: Rotate-CLIP of the face toward e must keep the face's own feature
  (1 - cosine), so e carries age, not another identity;
- the text-guided KL to the age prior N(e_txt(a), prior_sigma^2 I), in closed form,
  which stops sigma from collapsing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.core.checkpoints import restore_weights
from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.methods import tiny
from engine.methods.cradle2cane.maths import rotate_clip
from engine.methods.cradle2cane.pipeline import (
    clip_age_features,
    clip_image_features,
)
from engine.methods.pae.encoder import (
    AgeEncoder,
    save_age_encoder,
)
from engine.methods.pae.maths import kl_to_prior
from train.common import (
    check_precision,
    check_profile_and_data,
    cli,
    freeze,
    load_checkpoint_state,
    make_accelerator,
    register_checkpoint_hooks,
    resume_folder,
    shuffled_batches,
    step_generator,
    trained_in_fp32,
    weight_dtype,
)
from train.lifespan import FaceFolder
from train.loop import train_and_share

logger = logging.getLogger(__name__)


@dataclass
class PluralisticConfig:
    data: str = ""
    output_dir: str = "outputs/pluralistic"
    profile: str = "full"  # full: CLIP ViT-L/14 from the Hub; tiny: a random tiny CLIP (smoke tests)
    hidden: int = 512
    learning_rate: float = 1e-4
    batch_size: int = 32
    max_steps: int = 5000
    seed: int = 0
    mixed_precision: str = "no"  # accelerate: no | fp16 | bf16 (the frozen CLIP in half precision)
    gradient_accumulation_steps: int = 1  # micro-batches of batch_size per optimiser step (diffusers' default)
    max_grad_norm: float | None = 1.0  # None: no clipping
    # Loss weights: the paper (PADA, sec. 3.3) names its losses but gives no weights; these are this
    # project's choices, not the paper's (the KL weight is untested between 0.001 and 0.1).
    w_age: float = 1.0
    w_identity: float = 0.5
    w_kl: float = 0.01
    prior_sigma: float = 0.05  # spread of the text-guided age prior in normalised CLIP space (this project's choice)
    temperature: float = 0.07  # of the zero-shot age classifier (CLIP's learned temperature at initialisation)
    age_label_sd: float = 3.0  # years: width of the soft age label
    checkpoint_every: int = 500
    resume_from: str | None = None
    num_workers: int = 2
    push_to_hub: str | None = None  # repo id for the final checkpoint (train.push, as every trainer)
    training_data: str = ""  # what the data is (name, size, licence): the pushed card states it (needed with push_to_hub)

    def __post_init__(self) -> None:
        check_profile_and_data(self, "faces named {age}_{gender}_*.png")
        check_precision(self.mixed_precision)


def load_clip(config: PluralisticConfig):
    if config.profile == "tiny":
        return tiny.clip(config.seed)

    return get_cache(Settings.from_env().with_(profile="full")).get("clip_vit_l14")


def losses(encoder, image_features, ages, all_age_text, config: PluralisticConfig, generator):

    text = all_age_text[ages.round().long().clamp(0, 80)]  # each face's own age prior, (B, P)
    mu, log_sigma = encoder(image_features, text)
    mu, log_sigma = mu.float(), log_sigma.float()  # the losses in fp32 whatever the autocast
    sample = mu + torch.exp(log_sigma) * torch.randn(mu.shape, generator=generator)
    logits = F.normalize(sample, dim=-1) @ all_age_text.T / config.temperature  # (B, 81)
    grid = torch.arange(81, dtype=torch.float32)
    soft = torch.softmax(-0.5 * ((grid[None] - ages[:, None]) / config.age_label_sd) ** 2, dim=-1)
    age = -(soft * logits.log_softmax(-1)).sum(-1).mean()
    identity = (1 - F.cosine_similarity(rotate_clip(image_features, text, sample), image_features, dim=-1)).mean()
    kl = kl_to_prior(mu, log_sigma, text, config.prior_sigma).mean()
    total = config.w_age * age + config.w_identity * identity + config.w_kl * kl
    return total, {
        "age": float(age.detach()),
        "identity": float(identity.detach()),
        "kl": float(kl.detach()),
        "total": float(total.detach()),
        "mean_sigma": float(torch.exp(log_sigma).mean().detach()),
    }


def train(config: PluralisticConfig) -> dict:
    """Mixed precision as diffusers' training scripts do it (see train.lifespan.train)."""

    accelerator = make_accelerator(config.mixed_precision, config.gradient_accumulation_steps)
    torch.manual_seed(config.seed)
    clip = load_clip(config)
    freeze([clip.model], weight_dtype(accelerator), accelerator.device)
    size = clip.processor.crop_size["height"] if isinstance(clip.processor.crop_size, dict) else 224
    dataset = FaceFolder(Path(config.data), size)
    with torch.no_grad():
        all_age_text = clip_age_features(clip.model, clip.tokenizer, list(range(81))).float()  # (81, P), frozen
    encoder = AgeEncoder(all_age_text.shape[-1], config.hidden).to(accelerator.device)
    trained_in_fp32(encoder)
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=config.learning_rate)
    encoder, optimizer, loader = accelerator.prepare(encoder, optimizer, shuffled_batches(dataset, config, "faces"))
    output_dir = Path(config.output_dir)
    register_checkpoint_hooks(
        accelerator,
        lambda folder: save_age_encoder(accelerator.unwrap_model(encoder), folder / "age_encoder"),
        lambda folder: restore_weights(accelerator.unwrap_model(encoder), folder / "age_encoder"),
    )
    step = 0
    resume = resume_folder(output_dir, config.resume_from)
    if resume is not None:
        step = load_checkpoint_state(accelerator, resume)

    def one_step(batch, at: int, micro: int):
        faces = [(p.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8) for p in batch["pixels"].float().cpu()]
        with torch.no_grad():
            features = clip_image_features(clip.model, clip.processor, faces).float().clone()  # not an inference tensor
        total, parts = losses(
            encoder, features, batch["age"].float().cpu(), all_age_text.clone(), config, step_generator(config.seed, at, micro)
        )
        return [("total", optimizer, total)], parts

    return train_and_share(loader, one_step, accelerator, output_dir, step, config, models=(encoder,))


def main(argv: list[str] | None = None) -> None:
    result = cli("train.pluralistic", __doc__.split("\n\n")[0], PluralisticConfig, train, argv)
    logger.info(
        "done at step %d; set HUB_MODEL_DIR_AGE_ENCODER=%s for the image-guided mode", result["step"], result["checkpoint"]
    )


if __name__ == "__main__":
    main()
