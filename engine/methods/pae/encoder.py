"""The PAE age encoder (image-guided mode): CLIP image features of a reference face and the
target age's text feature -> mu and log sigma of the age embedding.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from engine.core.checkpoints import load_with_config, save_with_config


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


save_age_encoder = save_with_config


def load_age_encoder(path: Path) -> AgeEncoder:
    return load_with_config(AgeEncoder, path, "age encoder")
