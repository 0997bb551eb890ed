"""Probabilistic aging embeddings (PAE, pluralistic aging paper, sec. 3.2): the age condition is a
Gaussian in CLIP space, e_age ~ N(mu, sigma^2 I), sampled once per future.

- text-driven (no training): mu = e_txt(target age), sigma = eps (the sampling intensity);
- image-guided: a trained `AgeEncoder` maps CLIP image features of a reference face of
  the target age (or the source face with the target age's text feature) to mu and sigma.

Pure maths and one small module; no model I/O.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn


def sample_gaussian(mu: torch.Tensor, sigma: torch.Tensor | float, count: int, generator: torch.Generator) -> torch.Tensor:
    """(count, P) draws of mu + sigma * eta, eta ~ N(0, I); mu (P,), sigma scalar or (P,)."""
    eta = torch.randn((count, mu.shape[-1]), generator=generator, dtype=torch.float64)
    return (mu.double() + torch.as_tensor(sigma, dtype=torch.float64) * eta).to(mu.dtype)


def text_pae(text_feature: torch.Tensor, intensity: float, count: int, generator: torch.Generator) -> torch.Tensor:
    """Text-driven PAE (sec. 3.2.1): e_age = e_txt(target) + eps * eta for `count` samples."""
    if intensity < 0 or math.isnan(intensity):
        raise ValueError(f"sampling intensity must be >= 0, got {intensity}")
    return sample_gaussian(text_feature, intensity, count, generator)


def kl_to_prior(mu: torch.Tensor, log_sigma: torch.Tensor, prior_mu: torch.Tensor, prior_sigma: float) -> torch.Tensor:
    """KL(N(mu, diag sigma^2) || N(prior_mu, prior_sigma^2 I)), closed form, summed over dims: (B,)."""
    prior_log = math.log(prior_sigma)
    variance = torch.exp(2 * log_sigma)
    return (prior_log - log_sigma + (variance + (mu - prior_mu) ** 2) / (2 * prior_sigma**2) - 0.5).sum(-1)


def mean_pairwise_distance(embeddings: torch.Tensor) -> float:
    """Mean over pairs of 1 - cosine similarity: the set's diversity in that embedding."""
    if len(embeddings) < 2:
        return 0.0
    unit = nn.functional.normalize(embeddings.double(), dim=-1)
    cosine = unit @ unit.T
    count = len(embeddings)
    return float((1 - cosine)[~torch.eye(count, dtype=torch.bool)].mean())


class AgeEncoder(nn.Module):
    """mu / sigma heads on frozen CLIP image features (plus, without a reference, the target age's text feature).

    (B, P) image features [, (B, P) text features] -> (mu (B, P), log_sigma (B, P)).
    """

    def __init__(self, dim: int, hidden: int = 512, with_text: bool = True, min_log_sigma: float = -6.0):
        super().__init__()
        self.config = {"dim": dim, "hidden": hidden, "with_text": with_text, "min_log_sigma": min_log_sigma}
        width = dim * (2 if with_text else 1)
        self.body = nn.Sequential(nn.Linear(width, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.mu = nn.Linear(hidden, dim)
        self.log_sigma = nn.Linear(hidden, dim)
        nn.init.zeros_(self.mu.weight)  # start at the text prior: mu = e_txt, sigma = 0.05
        nn.init.zeros_(self.mu.bias)
        nn.init.zeros_(self.log_sigma.weight)
        nn.init.constant_(self.log_sigma.bias, math.log(0.05))

    def forward(self, image_features: torch.Tensor, text_features: torch.Tensor | None = None):
        if self.config["with_text"]:
            if text_features is None:
                raise ValueError("this age encoder takes the target age's text feature beside the image feature")
            x = torch.cat([image_features, text_features], dim=-1)
        else:
            x = image_features
        hidden = self.body(x)
        mu = self.mu(hidden) + (text_features if text_features is not None else 0)  # a residual on the text prior
        return mu, self.log_sigma(hidden).clamp_min(self.config["min_log_sigma"])


def save_age_encoder(model: AgeEncoder, path: Path) -> None:
    from .nets import save_with_config

    save_with_config(model, path)


def load_age_encoder(path: Path) -> AgeEncoder:
    from .nets import load_with_config

    return load_with_config(AgeEncoder, path, "age encoder")
