"""Cradle2Cane's face / CLIP projection MLPs, with parameter names matching the published checkpoint.

4 hidden blocks (Linear, BatchNorm1d, LeakyReLU(0.2), Dropout(0.3)) whose widths halve
from the input, never below the output, then `fc_out` into the UNet's 2048-d token space.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from engine.core.checkpoints import (
    load_into,
    load_with_config,
    read_state_dict,
    save_with_config,
)


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


def load_projection(path: Path, output_dim: int = 2048) -> ProjectionMLP:
    """A ProjectionMLP from this project's format (save_projection: safetensors + JSON config) or the published `*_project.bin`."""
    if path.with_suffix(".json").is_file():
        model = load_with_config(ProjectionMLP, path, "ProjectionMLP")
    else:  # the published layout has no config: read the sizes off the weights
        state = read_state_dict(path)
        if "layers.0.weight" not in state or "fc_out.weight" not in state:
            raise ValueError(f"{path}: not a projection checkpoint (no layers.0.weight / fc_out.weight)")
        linear = [k for k in state if k.endswith(".weight") and state[k].ndim == 2 and k.startswith("layers.")]
        built = ProjectionMLP(
            input_dim=state["layers.0.weight"].shape[1],
            output_dim=state["fc_out.weight"].shape[0],
            blocks=len(linear),
            norm="batch" if "layers.1.running_mean" in state else "layer",
        )
        model = load_into(built, state, f"{path}: checkpoint does not match ProjectionMLP{built.config}")
    if model.config["output_dim"] != output_dim:
        raise ValueError(f"{path}: projects to {model.config['output_dim']} but the UNet expects {output_dim}")
    return model.eval()


save_projection = save_with_config
