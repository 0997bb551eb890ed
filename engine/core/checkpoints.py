"""Checkpoint files: reading state dicts safely, and this project's one format (safetensors + JSON config).

Weights load only from safetensors or with torch.load(weights_only=True); a load is
whole or it fails naming what differs, never partial.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

import torch
from torch import nn

ModuleT = TypeVar("ModuleT", bound=nn.Module)


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from safetensors, or from a torch file read with weights_only=True (never plain pickle)."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file  # noqa: PLC0415 - loads with the first checkpoint

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


def write_state_dict(state: dict[str, torch.Tensor], path: Path) -> None:
    """A state dict as a safetensors file, the only format weights are written in."""
    from safetensors.torch import save_file  # noqa: PLC0415 - loads with the first checkpoint

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))


def save_with_config(model: nn.Module, path: Path) -> None:
    """This project's checkpoint format: safetensors weights plus the module's JSON config beside them."""
    write_state_dict(model.state_dict(), path.with_suffix(".safetensors"))
    path.with_suffix(".json").write_text(json.dumps(model.config))


def load_with_config(cls: type[ModuleT], path: Path, what: str) -> ModuleT:
    """A `cls` built from the JSON config beside `path` and loaded from its safetensors weights."""
    config_path = path.with_suffix(".json")
    if not config_path.is_file():
        raise ValueError(f"{path}: no {config_path.name} beside the weights")
    model = cls(**json.loads(config_path.read_text()))
    return load_into(model, read_state_dict(path.with_suffix(".safetensors")), f"{path}: not a {what} checkpoint")


def restore_weights(model: ModuleT, path: Path) -> ModuleT:
    """Load a save_with_config checkpoint into an existing `model` (resuming training), keeping its train/eval mode."""
    training = model.training
    load_into(
        model, read_state_dict(path.with_suffix(".safetensors")), f"{path}: not a checkpoint of this {type(model).__name__}"
    )
    return model.train(training)


def load_into(model: ModuleT, state: dict[str, torch.Tensor], mismatch: str) -> ModuleT:
    """`model` with every weight loaded, in eval mode, or ValueError(mismatch + what differs); never a partial load."""
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as error:  # shape mismatches
        raise ValueError(f"{mismatch}: {str(error).splitlines()[1].strip()}") from None
    if missing or unexpected:
        raise ValueError(f"{mismatch}: missing {missing[:4]}, unexpected {unexpected[:4]}")
    return model.eval()
