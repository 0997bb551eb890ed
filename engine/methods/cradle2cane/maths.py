"""The pure maths of Cradle2Cane (lifespan paper, sec. 3.2-3.3): no model I/O.

- AdaNI strength from the age gap (sec. 3.2, eq. 3) and the up-front step check;
- SVR-ArcFace singular value reweighting (sec. 3.3.1, eqs. 4-7);
- slerp and Rotate-CLIP (sec. 3.3.2, eqs. 8-10).
"""

from __future__ import annotations

import torch

from engine.core.checks import check_age as check_age  # the pipeline checks its ages with the tasks' check

# Noise levels z1, z2, z3 of eq. 3 as img2img strengths: with 4 Turbo steps they
# run 1, 2 or 3 denoising steps.
STRENGTHS = (0.25, 0.5, 0.75)


# AdaNI |age gap| boundaries t1, t2 of eq. 3: the paper's (sec. 3.2); the released config
# (github.com/byliutao/Cradle2Cane, config/train_config.yaml) uses 5, 30.
ADANI_THRESHOLDS = (5.0, 20.0)


# SVR-ArcFace reweighting alpha, beta of eq. 6: the paper's (sec. 3.3.1); the released config uses
# beta 1.1, and the released weights were trained with SVR off.
SVR_ALPHA = 0.01

SVR_BETA = 1.2

# Rotate-CLIP modes: "angle" and "vector" are the reference implementation's (lib/model/age_map.py,
# map_attr_single: vector adds the whole text difference t_tgt - t_src); "difference" is eq. 8 scaled
# by the strength (with strength 0.5, half of "vector"'s shift).
ROTATE_MODES = ("angle", "vector", "difference")


# Rotate-CLIP: the released model's mode (angle; config clip_map_model) and interpolation strength.
ROTATE_MODE = "angle"

ROTATE_LAMBDA = 0.5


def adani_strength(
    source_age: float,
    target_age: float,
    thresholds: tuple[float, float] = ADANI_THRESHOLDS,
    one_threshold: bool = False,
    extra_prompt: bool = False,
    strengths: tuple[float, float, float] = STRENGTHS,
) -> float:
    """Pass-1 strength for an age gap: |gap| <= t1 -> 0.25, <= t2 -> 0.5, else 0.75.

    `one_threshold` (in-the-wild photos) uses only t1: 0.25 or 0.5. An extra
    attribute prompt needs the most freedom: 0.75.
    """
    low, high = thresholds
    if not 0 <= low <= high:
        raise ValueError(f"AdaNI thresholds must satisfy 0 <= t1 <= t2, got {thresholds}")
    if extra_prompt:
        return strengths[2]
    gap = abs(float(target_age) - float(source_age))
    if gap <= low:
        return strengths[0]
    if one_threshold or gap <= high:
        return strengths[1]
    return strengths[2]


def denoising_steps(num_inference_steps: int, strength: float) -> int:
    """Steps img2img actually runs, int(steps * strength); refuses settings that run none."""
    if num_inference_steps < 1:
        raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
    if not 0.0 < strength <= 1.0:
        raise ValueError(f"strength must be in (0, 1], got {strength}")
    steps = int(num_inference_steps * strength)
    if steps < 1:
        raise ValueError(
            f"strength {strength} with {num_inference_steps} inference steps runs 0 denoising steps: "
            f"use strength >= {1 / num_inference_steps:.3g} or more inference steps"
        )
    return steps


def svr(embeddings: torch.Tensor, alpha: float, beta: float) -> torch.Tensor:
    """SVR-ArcFace: reweight the singular values of U = [u_a, u_b1, ...] and return the refined u_a.

    embeddings: (D, n + 1), the source's embedding in column 0. Each singular value
    s becomes beta * exp(alpha * s) * s, so dominant (shared, identity) directions
    grow faster than the small (age-specific) ones.
    """
    if embeddings.ndim != 2 or embeddings.shape[1] < 1:
        raise ValueError(f"svr needs a (D, n + 1) matrix, got shape {tuple(embeddings.shape)}")
    if alpha < 0 or beta <= 0:
        raise ValueError(f"svr needs alpha >= 0 and beta > 0, got alpha={alpha}, beta={beta}")
    matrix = embeddings.double()
    u, s, vh = torch.linalg.svd(matrix, full_matrices=False)
    reweighted = beta * torch.exp(alpha * s) * s
    refined = u @ torch.diag(reweighted) @ vh
    return refined[:, 0].to(embeddings.dtype)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation along the last axis: t = 0 gives a, t = 1 gives b.

    Between unit vectors the result is a unit vector; nearly parallel inputs fall
    back to linear interpolation.
    """
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"slerp t must be in [0, 1], got {t}")
    a_unit = a / a.norm(dim=-1, keepdim=True).clamp_min(eps)
    b_unit = b / b.norm(dim=-1, keepdim=True).clamp_min(eps)
    cos = (a_unit * b_unit).sum(-1, keepdim=True).clamp(-1.0, 1.0)
    theta = torch.arccos(cos)
    sin = torch.sin(theta)
    linear = (1 - t) * a + t * b
    spherical = (torch.sin((1 - t) * theta) * a + torch.sin(t * theta) * b) / sin.clamp_min(eps)
    return torch.where(sin.abs() < 1e-4, linear, spherical)


def normalise(x: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True).clamp_min(eps)


def rotate_clip(
    image_feature: torch.Tensor,
    source_text: torch.Tensor,
    target_text: torch.Tensor,
    mode: str = ROTATE_MODE,
    strength: float = ROTATE_LAMBDA,
) -> torch.Tensor:
    """Rotate-CLIP: move the source's CLIP image feature toward the target age.

    angle (the released model's): mid = slerp(t_src, t_tgt, strength) of the
    normalised text features, result = normalise(i + mid - t_src).
    vector (the reference's other mode): result = normalise(i + t_tgt - t_src), strength unused.
    difference (eq. 8 scaled): result = normalise(i + strength * (t_tgt - t_src)).
    The same source and target age leave the (normalised) image feature unchanged.
    """
    if mode not in ROTATE_MODES:
        raise ValueError(f"Rotate-CLIP mode must be one of {ROTATE_MODES}, got {mode!r}")
    image_feature, source_text, target_text = map(normalise, (image_feature, source_text, target_text))
    if mode == "angle":
        shift = slerp(source_text, target_text, strength) - source_text
    elif mode == "vector":
        shift = target_text - source_text
    else:
        shift = strength * (target_text - source_text)
    return normalise(image_feature + shift)
