"""Small torch modules of this project whose parameter names match published checkpoints.

- `IResNet`: the ArcFace "arcface_torch" improved ResNet (iresnet100 = 3, 13, 30, 3
  blocks). `hidden_state()` is the 512x7x7 map after the last BatchNorm, flattened
  to 25088 values: the identity feature Cradle2Cane conditions on.
- `ProjectionMLP`: Cradle2Cane's face / CLIP projection to the UNet's 2048-d
  token space: 4 hidden blocks (Linear, BatchNorm1d, LeakyReLU(0.2), Dropout(0.3))
  whose widths halve from the input, never below the output, then `fc_out`.

Weights load only from safetensors or with torch.load(weights_only=True).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from torch import nn

logger = logging.getLogger(__name__)


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

    def __init__(self, layers=(3, 13, 30, 3), widths=(64, 128, 256, 512), embedding_size: int = 512):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0], eps=1e-5)
        self.prelu = nn.PReLU(widths[0])
        inplanes = widths[0]
        for index, (blocks, planes) in enumerate(zip(layers, widths), start=1):
            downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, 2, bias=False), nn.BatchNorm2d(planes, eps=1e-5)
            )
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
    """(B, 3, H, W) RGB in [0, 1] -> (B, 3, 112, 112) in [-1, 1], as ArcFace was trained."""
    resized = nn.functional.interpolate(images, size=(112, 112), mode="bilinear", align_corners=False, antialias=True)
    return resized * 2.0 - 1.0


def hidden_widths(input_dim: int, output_dim: int, blocks: int = 4) -> list[int]:
    """Widths of the hidden blocks: halving from the input, never below the output."""
    widths, width = [], input_dim
    for _ in range(blocks):
        width = max(width // 2, output_dim)
        widths.append(width)
    return widths


class ProjectionMLP(nn.Module):
    """Embedding (B, input_dim) -> one conditioning token (B, output_dim).

    `layers` is one flat list, four modules per hidden block (Linear, norm,
    LeakyReLU(0.2), Dropout(0.3)), as in the published checkpoints; their norm is
    BatchNorm1d in one release and LayerNorm in another, hence `norm`.
    """

    NORMS = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}

    def __init__(self, input_dim: int, output_dim: int = 2048, blocks: int = 4, dropout: float = 0.3, norm: str = "batch"):
        super().__init__()
        if norm not in self.NORMS:
            raise ValueError(f"norm must be one of {sorted(self.NORMS)}, got {norm!r}")
        self.config = {"input_dim": input_dim, "output_dim": output_dim, "blocks": blocks, "dropout": dropout, "norm": norm}
        layers, width = [], input_dim
        for next_width in hidden_widths(input_dim, output_dim, blocks):
            layers += [nn.Linear(width, next_width), self.NORMS[norm](next_width), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            width = next_width
        self.layers = nn.ModuleList(layers)
        self.fc_out = nn.Linear(width, output_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return self.fc_out(x)


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from safetensors, or from a torch file read with weights_only=True (never plain pickle)."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises UnpicklingError (and others) for anything but plain tensors
        raise ValueError(
            f"{path} is not a plain tensor checkpoint ({type(error).__name__}); refusing to unpickle it. "
            "Convert it to safetensors."
        ) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path} does not hold a state dict of tensors")
    return {key.removeprefix("module."): value for key, value in state.items()}


def load_projection(path: Path, output_dim: int = 2048) -> ProjectionMLP:
    """A ProjectionMLP from the published `*_project.bin` or this project's safetensors + JSON config."""
    state = read_state_dict(path)
    config_path = path.with_suffix(".json")
    if config_path.is_file():
        config = json.loads(config_path.read_text())
    else:  # the published layout has no config: read the sizes off the weights
        if "layers.0.weight" not in state or "fc_out.weight" not in state:
            raise ValueError(f"{path}: not a projection checkpoint (no layers.0.weight / fc_out.weight)")
        linear = [k for k in state if k.endswith(".weight") and state[k].ndim == 2 and k.startswith("layers.")]
        config = {
            "input_dim": state["layers.0.weight"].shape[1],
            "output_dim": state["fc_out.weight"].shape[0],
            "blocks": len(linear),
            "norm": "batch" if "layers.1.running_mean" in state else "layer",
        }
    model = _load_into(ProjectionMLP(**config), state, f"{path}: checkpoint does not match ProjectionMLP{config}")
    if model.config["output_dim"] != output_dim:
        raise ValueError(f"{path}: projects to {model.config['output_dim']} but the UNet expects {output_dim}")
    return model.eval()


def save_with_config(model: nn.Module, path: Path) -> None:
    """This project's checkpoint format: safetensors weights plus the module's JSON config beside them."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path.with_suffix(".safetensors")))
    path.with_suffix(".json").write_text(json.dumps(model.config))


def load_with_config(cls, path: Path, what: str) -> nn.Module:
    """A `cls` built from the JSON config beside `path` and loaded from its safetensors weights."""
    config_path = path.with_suffix(".json")
    if not config_path.is_file():
        raise ValueError(f"{path}: no {config_path.name} beside the weights")
    model = cls(**json.loads(config_path.read_text()))
    return _load_into(model, read_state_dict(path.with_suffix(".safetensors")), f"{path}: not a {what} checkpoint")


save_projection = save_with_config


def load_iresnet(path: Path, layers=None, widths=None) -> IResNet:
    """An IResNet from `backbone.pth`; blocks per stage and widths are read off the weights unless given."""
    state = read_state_dict(path)
    if layers is None or widths is None:
        try:
            layers = tuple(len({k.split(".")[1] for k in state if k.startswith(f"layer{i}.")}) for i in range(1, 5))
            widths = tuple(int(state[f"layer{i}.0.conv1.weight"].shape[0]) for i in range(1, 5))
        except KeyError:
            raise ValueError(f"{path}: not an ArcFace iresnet checkpoint (no layer1..layer4 blocks)") from None
    return _load_into(IResNet(layers, widths), state, f"{path}: not an iresnet{sum(layers) * 2 + 2} checkpoint")


def _load_into(model: nn.Module, state: dict[str, torch.Tensor], mismatch: str) -> nn.Module:
    """Load every weight or raise ValueError(mismatch + what differs); never a partial load."""
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as error:  # shape mismatches
        raise ValueError(f"{mismatch}: {str(error).splitlines()[1].strip()}") from None
    if missing or unexpected:
        raise ValueError(f"{mismatch}: missing {missing[:4]}, unexpected {unexpected[:4]}")
    return model.eval()


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
