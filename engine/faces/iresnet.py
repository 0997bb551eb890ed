"""The ArcFace "arcface_torch" improved ResNet, with parameter names matching published checkpoints.

iresnet100 = 3, 13, 30, 3 blocks. `hidden_state()` is the 512x7x7 map after the last
BatchNorm, flattened to 25088 values: the identity feature Cradle2Cane conditions on.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from engine.core.checkpoints import (
    load_into,
    read_state_dict,
)


class IBasicBlock(nn.Module):
    """BN - conv3x3 - BN - PReLU - conv3x3(stride) - BN, plus the shortcut."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes, eps=1e-5)
        self.conv1 = nn.Conv2d(inplanes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, eps=1e-5)
        self.prelu = nn.PReLU(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes, eps=1e-5)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        shortcut = x if self.downsample is None else self.downsample(x)
        return out + shortcut


class IResNet(nn.Module):
    """ArcFace backbone on 112x112 RGB faces scaled to [-1, 1]."""

    # The four stages, set by name in __init__ (the published checkpoints' parameter names).
    layer1: nn.Sequential
    layer2: nn.Sequential
    layer3: nn.Sequential
    layer4: nn.Sequential

    def __init__(self, layers=(3, 13, 30, 3), widths=(64, 128, 256, 512), embedding_size: int = 512):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0], eps=1e-5)
        self.prelu = nn.PReLU(widths[0])
        inplanes = widths[0]
        for index, (blocks, planes) in enumerate(zip(layers, widths), start=1):
            downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, 2, bias=False), nn.BatchNorm2d(planes, eps=1e-5))
            stage = [IBasicBlock(inplanes, planes, 2, downsample)] + [IBasicBlock(planes, planes) for _ in range(blocks - 1)]
            setattr(self, f"layer{index}", nn.Sequential(*stage))
            inplanes = planes
        self.bn2 = nn.BatchNorm2d(inplanes, eps=1e-5)
        self.dropout = nn.Dropout(p=0.0)
        self.fc = nn.Linear(inplanes * 7 * 7, embedding_size)  # 112 px / 2^4 = 7
        self.features = nn.BatchNorm1d(embedding_size, eps=1e-5)
        nn.init.constant_(self.features.weight, 1.0)
        self.features.weight.requires_grad = False
        self.hidden_size = inplanes * 7 * 7

    def hidden_state(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, 112, 112) in [-1, 1] -> (B, C*7*7), the map before the embedding FC."""
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.bn2(x), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, 112, 112) -> (B, 512) identity embedding (not normalised)."""
        return self.features(self.fc(self.dropout(self.hidden_state(x))))


def arcface_input(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in [0, 1] -> (B, 3, 112, 112) in [-1, 1], as ArcFace was trained; same dtype.

    The resize runs in fp32: antialiased resizing has no half-precision CPU kernel.
    """
    resized = nn.functional.interpolate(images.float(), size=(112, 112), mode="bilinear", align_corners=False, antialias=True)
    return (resized * 2.0 - 1.0).to(images.dtype)


def load_iresnet(path: Path, layers=None, widths=None) -> IResNet:
    """An IResNet from `backbone.pth`; blocks per stage and widths are read off the weights unless given."""
    state = read_state_dict(path)
    if layers is None or widths is None:
        try:
            layers = tuple(len({k.split(".")[1] for k in state if k.startswith(f"layer{i}.")}) for i in range(1, 5))
            widths = tuple(int(state[f"layer{i}.0.conv1.weight"].shape[0]) for i in range(1, 5))
        except KeyError:
            raise ValueError(f"{path}: not an ArcFace iresnet checkpoint (no layer1..layer4 blocks)") from None
    return load_into(IResNet(layers, widths), state, f"{path}: not an iresnet{sum(layers) * 2 + 2} checkpoint")
