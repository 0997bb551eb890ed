"""Probabilistic aging embeddings (PAE, pluralistic aging paper, sec. 3.2): the sampling maths.

The age condition is a Gaussian in CLIP space, e_age ~ N(mu, sigma^2 I), sampled once
per future. Text-driven (no training): mu = e_txt(target age), sigma = eps (the
sampling intensity). Pure maths; no model I/O.

Departure from the paper, which writes e_age = e_txt + eps * eta with eps an absolute
hyperparameter (value not given): here eps is relative to the embedding's norm, the
expected norm of the noise being eps * |mu| in both modes, so one eps means the same
amount of change whether mu comes from text or from the age encoder. On a 768-d unit
CLIP vector the absolute reading of eps = 0.3 gives noise of norm about 8.3 and a cosine
of about 0.12 to mu: the age signal drowns; the relative reading gives about 0.96.
"""

from __future__ import annotations

import math

import torch

from engine.faces import identity


def sample_gaussian(mu: torch.Tensor, sigma: torch.Tensor | float, count: int, generator: torch.Generator) -> torch.Tensor:
    """(count, P) draws of mu + sigma * eta, eta ~ N(0, I); mu (P,), sigma scalar or (P,)."""
    eta = torch.randn((count, mu.shape[-1]), generator=generator, dtype=torch.float64)
    return (mu.double() + torch.as_tensor(sigma, dtype=torch.float64) * eta).to(mu.dtype)


def relative_sigma(mu: torch.Tensor, intensity: float, spread: torch.Tensor | None = None) -> torch.Tensor:
    """Per-dimension sigma (P,) whose noise sigma * eta has expected squared norm (intensity * |mu|)^2.

    spread: a learned per-dimension sigma (image-guided mode) whose shape is kept and whose size is
    set by `intensity`; None: isotropic (text-driven mode).
    """
    if intensity < 0 or math.isnan(intensity):
        raise ValueError(f"sampling intensity must be >= 0, got {intensity}")
    mu = mu.double()
    shape = torch.ones_like(mu) if spread is None else spread.double()
    return intensity * mu.norm() * shape / shape.norm()


def text_pae(text_feature: torch.Tensor, intensity: float, count: int, generator: torch.Generator) -> torch.Tensor:
    """Text-driven PAE (sec. 3.2.1): e_age = e_txt(target) + sigma * eta for `count` samples, with
    |sigma * eta| about intensity * |e_txt| (relative_sigma)."""
    return sample_gaussian(text_feature, relative_sigma(text_feature, intensity), count, generator)


def image_pae(mu: torch.Tensor, sigma: torch.Tensor, intensity: float, count: int, generator: torch.Generator) -> torch.Tensor:
    """Image-guided PAE (sec. 3.2.2): the age encoder's mu (P,) and learned sigma (P,); the noise keeps
    the learned per-dimension shape, its size set by `intensity` relative to |mu| as in text mode."""
    return sample_gaussian(mu, relative_sigma(mu, intensity, sigma), count, generator)


def kl_to_prior(mu: torch.Tensor, log_sigma: torch.Tensor, prior_mu: torch.Tensor, prior_sigma: float) -> torch.Tensor:
    """KL(N(mu, diag sigma^2) || N(prior_mu, prior_sigma^2 I)), closed form, summed over dims: (B,)."""
    prior_log = math.log(prior_sigma)
    variance = torch.exp(2 * log_sigma)
    return (prior_log - log_sigma + (variance + (mu - prior_mu) ** 2) / (2 * prior_sigma**2) - 0.5).sum(-1)


def mean_pairwise_distance(embeddings: torch.Tensor) -> float:
    """Mean over pairs of 1 - cosine similarity: the set's diversity in that embedding (engine/faces/identity.py)."""
    return identity.mean_pairwise_distance(embeddings.detach().double().cpu().numpy())
