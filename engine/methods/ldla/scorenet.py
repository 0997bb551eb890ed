"""LDLA's ScoreNet (eq. 5), in this project's checkpoint format."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from engine.core.checkpoints import (
    load_with_config,
    save_with_config,
)


class ScoreNet(nn.Module):
    """LDLA's ScoreNet (eq. 5): a small CNN regressing a zone crop's aging score.

    (B, 3, S, S) RGB in [0, 1] -> (B,) score as a fraction of the scale's maximum (0-1).
    """

    def __init__(self, width: int = 32, size: int = 128):
        super().__init__()
        self.config = {"width": width, "size": size}
        layers, channels = [], 3
        for out in (width, width * 2, width * 4, width * 4):
            layers += [nn.Conv2d(channels, out, 3, 2, 1), nn.GroupNorm(8, out), nn.SiLU()]
            channels = out
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(channels, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        size = self.config["size"]
        x = nn.functional.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        return torch.sigmoid(self.head(self.features(x * 2 - 1))).squeeze(-1)


save_scorenet = save_with_config


def load_scorenet(path: Path) -> ScoreNet:
    return load_with_config(ScoreNet, path, "ScoreNet")
