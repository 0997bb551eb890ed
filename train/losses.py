"""Training losses of the lifespan paper (sec. 3.4) and its published training script, and the
pluggable models they need.

    identity: lambda1 (1 - MS-SSIM(x_a, x_b)) + lambda2 (1 - cos(ArcFace(x_a), ArcFace(x_b)))
    age:      lambda3 (1 - cos(f(x^_b), f(x_b))) + lambda4 d(g(x_b), b)   (f, g: an age estimator)
    quality:  lambda5 LPIPS(x_a, x_b) + lambda6 GAN(x_b) [+ centre-weighted pixel MSE, script only]

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


def ms_ssim_loss(source, generated, window: int = 11) -> torch.Tensor:
    """1 - MS-SSIM, in fp32 whatever the autocast around it (its Gaussian filters are convolutions)."""
    from pytorch_msssim import ms_ssim  # noqa: PLC0415 - loads with training only

    with torch.autocast(source.device.type, enabled=False):
        return 1 - ms_ssim(source.float(), generated.float(), data_range=1.0, win_size=window)


def identity_cosine_loss(source_id, generated_id) -> torch.Tensor:
    """1 - cosine between the ArcFace embeddings of the source and the generated face."""
    return 1 - F.cosine_similarity(source_id.float(), generated_id.float(), dim=-1).mean()


def age_feature_loss(pass1_features, final_features) -> torch.Tensor:
    """1 - cosine between the age estimator's features of the pass-1 and the final image."""
    return 1 - F.cosine_similarity(pass1_features.float(), final_features.float(), dim=-1).mean()


AGE_TARGET_LOSSES = ("smooth_l1", "l2")


def age_target_loss(predicted_age, target_age, kind: str = "smooth_l1") -> torch.Tensor:
    """The estimated age of the final image against the target age.

    smooth_l1 (published script, common_utils.age_loss): ages / 100, smooth L1 with beta 1, x 10.
    l2 (paper, eq. of sec. 3.4): squared error of ages / 80, so it is of order 1.
    """
    predicted, target = predicted_age.float(), target_age.float()
    if kind == "smooth_l1":
        return F.smooth_l1_loss(predicted / 100, target / 100, beta=1.0) * 10
    if kind == "l2":
        return ((predicted - target) / 80).pow(2).mean()
    raise ValueError(f"age target loss must be one of {AGE_TARGET_LOSSES}, got {kind!r}")


# The published script's pixel-loss weight map (lib/utils/common_utils.py, create_weight_mask):
# a Gaussian of the distance from the image centre on a [-1, 1] grid, sigma 0.5, scaled from
# 0.5 at the far corners' limit to 2.0 at the centre, so the face counts more than its surround.
CENTRE_WEIGHT, EDGE_WEIGHT, WEIGHT_SIGMA = 2.0, 0.5, 0.5


def centre_weights(height: int, width: int) -> torch.Tensor:
    y, x = torch.meshgrid(torch.linspace(-1, 1, height), torch.linspace(-1, 1, width), indexing="ij")
    gaussian = torch.exp(-(x**2 + y**2) / (2 * WEIGHT_SIGMA**2))
    return gaussian * (CENTRE_WEIGHT - EDGE_WEIGHT) + EDGE_WEIGHT


def pixel_mse_loss(source, generated, centre_weighted: bool = True) -> torch.Tensor:
    """Mean squared pixel error, weighted toward the centre (published: pixel_mse_loss_use_weight true)."""
    error = (source.float() - generated.float()).pow(2)
    if centre_weighted:
        error = error * centre_weights(*error.shape[-2:]).to(error.device)
    return error.mean()


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

    # buffers, registered in __init__: the processor's normalisation and the age of each label
    mean: torch.Tensor
    std: torch.Tensor
    ages: torch.Tensor

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
    """A PatchGAN discriminator: (B, 3, H, W) in [0, 1] -> (B, 1, h, w) realness logits.

    As the published script's (lib/model/gan_loss.py): `layers` stride-2 4x4 convolutions doubling
    the width, instance norm (affine) after all but the first, LeakyReLU 0.2, then a 4x4
    convolution without padding to one channel. Needs a side >= 2 ** (layers + 2).
    """

    def __init__(self, width: int = 64, layers: int = 4):
        super().__init__()
        blocks, channels = [nn.Conv2d(3, width, 4, 2, 1), nn.LeakyReLU(0.2)], width
        for _ in range(layers - 1):
            blocks += [
                nn.Conv2d(channels, channels * 2, 4, 2, 1),
                nn.InstanceNorm2d(channels * 2, affine=True),
                nn.LeakyReLU(0.2),
            ]
            channels *= 2
        blocks.append(nn.Conv2d(channels, 1, 4, 1, 0))
        self.net = nn.Sequential(*blocks)

    def forward(self, images):
        return self.net(images * 2 - 1)


GAN_LOSSES = ("hinge", "non_saturating")


def generator_gan_loss(discriminator, fake, kind: str = "hinge") -> torch.Tensor:
    """hinge (published script): -mean D(fake); non_saturating: mean softplus(-D(fake))."""
    logits = discriminator(fake).float()
    if kind == "hinge":
        return -logits.mean()
    if kind == "non_saturating":
        return F.softplus(-logits).mean()
    raise ValueError(f"GAN loss must be one of {GAN_LOSSES}, got {kind!r}")


def discriminator_loss(discriminator, real, fake, kind: str = "hinge") -> torch.Tensor:
    """Real and (detached) fake in one forward pass (one pass per update keeps multi-GPU gradient
    synchronisation simple; instance norm makes it the same as two)."""
    logits = discriminator(torch.cat([real, fake.detach().to(real.dtype)])).float()
    real_logits, fake_logits = logits[: len(real)], logits[len(real) :]
    if kind == "hinge":
        return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
    if kind == "non_saturating":
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    raise ValueError(f"GAN loss must be one of {GAN_LOSSES}, got {kind!r}")
