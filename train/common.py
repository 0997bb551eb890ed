"""What the training scripts share: YAML configs over dataclass defaults, labelled image folders,
checkpoint folders and their training state, the training loop, the command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
from pathlib import Path

import numpy as np
import torch
import yaml
from PIL import Image

from engine.core.checkpoints import read_state_dict, write_state_dict

logger = logging.getLogger(__name__)


def config_from_yaml(cls, path: Path, overrides: dict | None = None):
    """A `cls` dataclass from a YAML file plus overrides; unknown keys are an error naming them."""
    values = yaml.safe_load(Path(path).read_text()) or {}
    values.update(overrides or {})
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{path}: unknown settings {unknown}; known: {sorted(known)}")
    return cls(**values)


# A checkpoint folder holds what serving loads (each trainer's own files) and the training state
# only resuming reads: these files, plus any extra training weights as `{name}.safetensors`.
OPTIMIZERS_FILE = "optimizers.pt"  # the optimizers' states, read back with weights_only=True
STEP_FILE = "trainer_state.json"
TRAINING_STATE_FILES = (OPTIMIZERS_FILE, STEP_FILE)


def save_training_state(folder: Path, step: int, optimizers, weights: dict | None = None) -> None:
    """The training state beside a checkpoint's serving files: weights {name: state dict} as
    `{name}.safetensors`, every optimizer's state and the step."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, state in (weights or {}).items():
        write_state_dict(state, folder / f"{name}.safetensors")
    torch.save([optimizer.state_dict() for optimizer in optimizers], folder / OPTIMIZERS_FILE)
    (folder / STEP_FILE).write_text(json.dumps({"step": step}))


def load_training_state(folder: Path, optimizers, weights: tuple[str, ...] = ()) -> tuple[int, dict]:
    """(step, {name: state dict} of the named weights) from save_training_state; the optimizers are restored in place."""
    states = torch.load(folder / OPTIMIZERS_FILE, weights_only=True)
    if len(states) != len(optimizers):
        raise ValueError(f"{folder}: {len(states)} optimizer states for {len(optimizers)} optimizers")
    for optimizer, state in zip(optimizers, states):
        optimizer.load_state_dict(state)
    step = int(json.loads((folder / STEP_FILE).read_text())["step"])
    return step, {name: read_state_dict(folder / f"{name}.safetensors") for name in weights}


def shuffled_batches(dataset, config, what: str = "faces") -> torch.utils.data.DataLoader:
    """Seeded, shuffled full batches (the last partial batch is dropped); at least one batch or a clear error."""
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=config.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=config.num_workers,
        generator=torch.Generator().manual_seed(config.seed),
    )
    if len(loader) == 0:
        raise ValueError(f"{config.data}: {len(dataset)} {what} is fewer than one batch of {config.batch_size}")
    return loader


def latest_checkpoint(output_dir: Path) -> Path | None:
    found = sorted(Path(output_dir).glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    return found[-1] if found else None


def resume_folder(output_dir: Path, resume_from: str | None) -> Path | None:
    if resume_from == "latest":
        return latest_checkpoint(output_dir)
    return Path(resume_from) if resume_from else None


def cli(prog: str, description: str, config_class, train_function, argv: list[str] | None = None):
    """`--config FILE [--set key=value ...]`, then train; returns the training result."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--config", required=True, help="YAML file of settings")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override settings (YAML values)")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set takes KEY=VALUE, got {item!r}")
        overrides[key] = yaml.safe_load(value)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return train_function(config_from_yaml(config_class, Path(args.config), overrides))


class NamedImages(torch.utils.data.Dataset):
    """Images whose file names carry their labels: labels(name) gives them as a dict, or None for a
    name not in `name_format` (reported, not used). An item is {"pixels": (3, R, R) in [0, 1], **labels}."""

    def __init__(self, folder: Path, resolution: int, labels, name_format: str):
        self.items, rejected = [], []
        for path in sorted(p for p in Path(folder).iterdir() if p.is_file()):
            found = labels(path.name)
            if found is None:
                rejected.append(path.name)
            else:
                self.items.append((path, found))
        if rejected:
            logger.warning(
                "%d files in %s are not named %s and are not used, e.g. %s", len(rejected), folder, name_format, rejected[:3]
            )
        if not self.items:
            raise ValueError(f"{folder}: no file named {name_format}")
        self.resolution = resolution

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        path, labels = self.items[index]
        image = Image.open(path).convert("RGB").resize((self.resolution, self.resolution), Image.LANCZOS)  # same size: a copy
        pixels = torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255.0
        return {"pixels": pixels, **{k: torch.tensor(v) if isinstance(v, float) else v for k, v in labels.items()}}


def check_profile_and_data(config, data_format: str) -> None:
    """The checks every training config shares: a known profile and a data folder."""
    if config.profile not in ("full", "tiny"):
        raise ValueError(f"profile must be full or tiny, got {config.profile!r}")
    if not config.data:
        raise ValueError(f"data: name a folder of {data_format}")


def run_steps(loader, step_fn, accelerator, output_dir: Path, step: int, max_steps: int, hooks=()) -> tuple[int, list[dict]]:
    """The training loop the scripts share.

    step_fn(batch) -> ([(optimizer, loss), ...], parts): each optimizer steps on its loss in
    order. Every step's parts are checked finite and appended to output_dir/log.jsonl;
    hooks are (every, function(step), also_at_the_end).
    """

    output_dir.mkdir(parents=True, exist_ok=True)
    history = []
    while step < max_steps:
        for batch in loader:
            updates, parts = step_fn(batch)
            if not all(math.isfinite(v) for v in parts.values()):
                raise FloatingPointError(f"non-finite loss at step {step}: {parts}")
            for optimizer, loss in updates:
                optimizer.zero_grad()
                accelerator.backward(loss)
                optimizer.step()
            step += 1
            history.append(parts)
            with (output_dir / "log.jsonl").open("a") as log:
                log.write(json.dumps({"step": step, **parts}) + "\n")
            for every, hook, at_end in hooks:
                if step % every == 0 or (at_end and step == max_steps):
                    hook(step)
            if step >= max_steps:
                break
    return step, history
