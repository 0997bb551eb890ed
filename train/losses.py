"""Training losses of the lifespan paper (sec. 3.4) and the pluggable models they need.

    identity: lambda1 (1 - MS-SSIM(x_a, x_b)) + lambda2 (1 - cos(ArcFace(x_a), ArcFace(x_b)))
    age:      lambda3 (1 - cos(f(x^_b), f(x_b))) + lambda4 ||g(x_b) - b||^2   (f, g: an age estimator)
    quality:  lambda5 LPIPS(x_a, x_b) + lambda6 GAN(x_b)

Images are (B, 3, H, W) in [0, 1]. The age estimator and the perceptual metric
are pluggable: training on the tiny profile uses random miniature stand-ins
(they check the plumbing, not the result).
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import nn

logger = logging.getLogger(__name__)


def identity_loss(source, generated, source_id, generated_id, w_ssim: float, w_id: float, ssim_window: int = 11):
    """(total, parts): MS-SSIM and ArcFace-embedding cosine terms."""
    from pytorch_msssim import ms_ssim  # noqa: PLC0415 - loads with training only

    ssim = ms_ssim(source.float(), generated.float(), data_range=1.0, win_size=ssim_window)
    cosine = F.cosine_similarity(source_id.float(), generated_id.float(), dim=-1).mean()
    parts = {"ms_ssim": 1 - ssim, "id_cos": 1 - cosine}
    return w_ssim * parts["ms_ssim"] + w_id * parts["id_cos"], parts


def age_loss(pass1_features, final_features, predicted_age, target_age, w_feature: float, w_l2: float, scale: float = 80.0):
    """(total, parts): estimator-feature cosine between pass 1 and final, and L2 to the target age.

    Ages are divided by `scale` so the squared error is of order 1.
    """
    cosine = F.cosine_similarity(pass1_features.float(), final_features.float(), dim=-1).mean()
    l2 = ((predicted_age.float() - target_age.float()) / scale).pow(2).mean()
    parts = {"age_feature": 1 - cosine, "age_l2": l2}
    return w_feature * parts["age_feature"] + w_l2 * parts["age_l2"], parts


class AgeLossModel(nn.Module):
    """Differentiable age estimator interface: images in [0, 1] -> (features (B, F), ages (B,))."""

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover - interface
        raise NotImplementedError


class TinyAgeNet(AgeLossModel):
    """A random miniature CNN over ages 0..80: tests only."""

    def __init__(self, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()
        )
        self.head = nn.Linear(16, 81)
        self.register_buffer("ages", torch.arange(81, dtype=torch.float32))

    def forward(self, images):
        features = self.body(images * 2 - 1)
        return features, self.head(features).softmax(-1) @ self.ages


class HubAgeLossModel(AgeLossModel):
    """A transformers image classifier whose labels are ages (the kind HUB_AGE_ESTIMATOR names), differentiable."""

    def __init__(self, source: str):
        super().__init__()
        from transformers import AutoImageProcessor, AutoModelForImageClassification  # noqa: PLC0415 - transformers loads on first use of a path that needs it

        self.model = AutoModelForImageClassification.from_pretrained(source, use_safetensors=True).eval()
        processor = AutoImageProcessor.from_pretrained(source)
        size = processor.size.get("height") or processor.size.get("shortest_edge")
        self.size = int(size)
        self.register_buffer("mean", torch.tensor(processor.image_mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(processor.image_std).view(1, 3, 1, 1))
        labels = self.model.config.id2label
        self.register_buffer("ages", torch.tensor([float(labels[i]) for i in range(len(labels))]))

    def forward(self, images):
        x = F.interpolate(images, size=(self.size, self.size), mode="bilinear", align_corners=False, antialias=True)
        out = self.model(pixel_values=(x - self.mean) / self.std, output_hidden_states=True)
        features = out.hidden_states[-1].flatten(2).mean(-1) if out.hidden_states[-1].ndim == 4 else out.hidden_states[-1].mean(1)
        return features, out.logits.softmax(-1) @ self.ages


def age_loss_model(name: str) -> AgeLossModel:
    if name == "tiny":
        return TinyAgeNet()
    return HubAgeLossModel(name)


class VaePerceptual(nn.Module):
    """Perceptual distance from the frozen VAE encoder's feature maps (unit-normalised per channel, as LPIPS does).

    Used where LPIPS cannot be loaded; it needs no extra weights.
    """

    def __init__(self, vae):
        super().__init__()
        self.blocks = vae.encoder.down_blocks
        self.conv_in = vae.encoder.conv_in

    def forward(self, a, b):
        x, y = self.conv_in(a * 2 - 1), self.conv_in(b * 2 - 1)
        total = 0.0
        for block in self.blocks:
            x, y = block(x), block(y)
            nx = x / (x.norm(dim=1, keepdim=True) + 1e-6)
            ny = y / (y.norm(dim=1, keepdim=True) + 1e-6)
            total = total + (nx - ny).pow(2).sum(1).mean()
        return total / len(self.blocks)


def perceptual_model(name: str, vae) -> nn.Module:
    """ "lpips" (the LPIPS package, AlexNet; `pip install lpips torchvision`) or "vae" (no extra weights)."""
    if name == "vae":
        return VaePerceptual(vae)
    if name == "lpips":
        try:
            import lpips  # noqa: PLC0415 - optional: LPIPS is only needed where it is installed
        except ImportError:
            raise RuntimeError("perceptual = lpips needs `pip install lpips torchvision`; or set perceptual: vae") from None
        metric = lpips.LPIPS(net="alex", verbose=False)
        return _LpipsWrapper(metric)
    raise ValueError(f"perceptual must be 'lpips' or 'vae', got {name!r}")


class _LpipsWrapper(nn.Module):
    def __init__(self, metric):
        super().__init__()
        self.metric = metric

    def forward(self, a, b):
        return self.metric(a * 2 - 1, b * 2 - 1).mean()


class PatchDiscriminator(nn.Module):
    """A small PatchGAN discriminator: (B, 3, H, W) in [0, 1] -> (B, 1, h, w) realness logits."""

    def __init__(self, width: int = 64, layers: int = 3):
        super().__init__()
        blocks, channels = [nn.Conv2d(3, width, 4, 2, 1), nn.LeakyReLU(0.2)], width
        for _ in range(layers - 1):
            blocks += [nn.Conv2d(channels, channels * 2, 4, 2, 1), nn.GroupNorm(8, channels * 2), nn.LeakyReLU(0.2)]
            channels *= 2
        blocks.append(nn.Conv2d(channels, 1, 3, 1, 1))
        self.net = nn.Sequential(*blocks)

    def forward(self, images):
        return self.net(images * 2 - 1)


def generator_gan_loss(discriminator, fake):
    """Non-saturating generator loss."""
    return F.softplus(-discriminator(fake)).mean()


def discriminator_loss(discriminator, real, fake):
    return F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake.detach())).mean()
