"""What the training scripts share: YAML configs over dataclass defaults, labelled image folders,
checkpoint folders and their training state, the training loop, the command line."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import logging
import math
from pathlib import Path

import numpy as np
import torch
import yaml
from PIL import Image

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
# only resuming reads: accelerate's save_state files (optimizers, gradient scaler, random states;
# read back with weights_only=True), the step, and any training-only weights named here.
STEP_FILE = "trainer_state.json"
DISCRIMINATOR_FILE = "discriminator.safetensors"
# accelerate's save_state files (accelerate.utils.constants: optimizer*.bin, scaler.pt, random_states_*.pkl,
# sampler*.bin, dl_state_dict*.bin) and ours: never shared by train.push
TRAINING_STATE_FILES = (
    STEP_FILE,
    DISCRIMINATOR_FILE,
    "optimizer*.bin",
    "scaler.pt",
    "random_states_*.pkl",
    "sampler*.bin",
    "dl_state_dict*.bin",
)

# accelerate's mixed-precision names -> the dtype the frozen models run in. Trained parameters stay
# fp32 (diffusers' training scripts: cast_training_params), the forward runs under autocast.
PRECISIONS = {"no": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def check_precision(mixed_precision: str) -> None:
    if mixed_precision not in PRECISIONS:
        raise ValueError(f"mixed_precision must be one of {sorted(PRECISIONS)}, got {mixed_precision!r}")


def make_accelerator(mixed_precision: str):
    """accelerate's Accelerator for `mixed_precision` (no | fp16 | bf16).

    accelerate keeps one precision per process; a single-process run that asks for another one
    than an earlier run in the same process (a notebook, a test session) starts accelerate afresh.
    """
    from accelerate import Accelerator  # noqa: PLC0415 - accelerate loads only when a harness or trainer runs
    from accelerate.state import AcceleratorState, GradientState, PartialState  # noqa: PLC0415 - as above

    check_precision(mixed_precision)
    if AcceleratorState._shared_state and PartialState().num_processes == 1:
        if AcceleratorState().mixed_precision != mixed_precision:
            logger.info("accelerate restarts with mixed_precision=%s in this process", mixed_precision)
            AcceleratorState._reset_state()
            GradientState._reset_state()
    accelerator = Accelerator(mixed_precision=mixed_precision)
    if mixed_precision == "fp16" and accelerator.scaler is None:
        raise ValueError(
            f"mixed_precision fp16 needs a GPU: on {accelerator.device} accelerate runs without loss scaling, so "
            "overflowing half-precision gradients would reach the weights; use bf16 (or no) here"
        )
    return accelerator


def weight_dtype(accelerator) -> torch.dtype:
    """The dtype frozen models are cast to (diffusers' `weight_dtype`)."""
    return PRECISIONS[accelerator.mixed_precision]


def autocast(accelerator):
    """Autocast to the run's precision on its device (a no-op for "no")."""
    dtype = weight_dtype(accelerator)
    return torch.autocast(accelerator.device.type, dtype=dtype, enabled=dtype != torch.float32)


def freeze(modules, dtype: torch.dtype, device) -> None:
    """Frozen models: no gradients, in the run's half precision, on the device."""
    for module in modules:
        module.requires_grad_(False)
        module.to(device, dtype)


def trained_in_fp32(*modules) -> None:
    """Trained parameters (LoRA, heads, discriminator) in fp32, as the gradient scaler needs them."""
    from diffusers.training_utils import cast_training_params  # noqa: PLC0415 - diffusers loads on first use of a diffusion path

    cast_training_params(list(modules), dtype=torch.float32)


def clipped_parameters(optimizer) -> list[torch.nn.Parameter]:
    return [p for group in optimizer.param_groups for p in group["params"]]


def register_checkpoint_hooks(accelerator, save_weights, load_weights) -> None:
    """accelerate's save_state / load_state keep optimizers, gradient scaler and random states; the
    trained weights go through the trainer's own files instead of whole-model copies (the UNet
    would be gigabytes): save_weights(folder) writes them, load_weights(folder) reads them back."""

    def on_save(models, weights, output_dir):
        if accelerator.is_main_process:
            save_weights(Path(output_dir))
        weights.clear()

    def on_load(models, input_dir):
        load_weights(Path(input_dir))
        models.clear()

    accelerator.register_save_state_pre_hook(on_save)
    accelerator.register_load_state_pre_hook(on_load)


def save_checkpoint_state(accelerator, folder: Path, step: int) -> None:
    """The whole training state in `folder` (the hooks write the weights), and the step."""
    folder.mkdir(parents=True, exist_ok=True)
    accelerator.save_state(str(folder))
    if accelerator.is_main_process:
        (folder / STEP_FILE).write_text(json.dumps({"step": step}))


def load_checkpoint_state(accelerator, folder: Path) -> int:
    """Restore what save_checkpoint_state wrote; the step it was written at."""
    if not (folder / STEP_FILE).is_file():
        raise FileNotFoundError(f"{folder}: not a training checkpoint (no {STEP_FILE}); name a checkpoint-N folder or 'latest'")
    accelerator.load_state(str(folder))
    return int(json.loads((folder / STEP_FILE).read_text())["step"])


class EpochShuffle(torch.utils.data.Sampler):
    """A shuffled order that depends only on (seed, epoch), so a resumed run sees the batches an
    uninterrupted one would (accelerate's prepared loaders call set_epoch)."""

    def __init__(self, size: int, seed: int):
        self.size, self.seed, self.epoch = size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.size, generator=generator).tolist())


def shuffled_batches(dataset, config, what: str = "faces") -> torch.utils.data.DataLoader:
    """Seeded, shuffled full batches (the last partial batch is dropped); at least one batch or a clear error."""
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=config.batch_size,
        sampler=EpochShuffle(len(dataset), config.seed),
        drop_last=True,
        num_workers=config.num_workers,
    )
    if len(loader) == 0:
        raise ValueError(f"{config.data}: {len(dataset)} {what} is fewer than one batch of {config.batch_size}")
    return loader


def step_generator(seed: int, step: int) -> torch.Generator:
    """The random draws of one training step, a function of (seed, step) alone (identical on resume)."""
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


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


def run_steps(
    loader, step_fn, accelerator, output_dir: Path, step: int, max_steps: int, hooks=(), max_grad_norm: float | None = None
) -> tuple[int, list[dict]]:
    """The training loop the scripts share.

    step_fn(batch, step) -> ([(name, optimizer, loss), ...], parts) runs under autocast to the
    run's precision. Each optimizer steps on its loss in order: backward (scaled for fp16),
    gradients clipped to max_grad_norm, step. A loss may be a function, called after the
    updates before it (a discriminator on the generator's output, as the published script
    updates it); its value is logged under `name`. Every step's parts are checked finite and
    appended to output_dir/log.jsonl; hooks are (every, function(step), also_at_the_end).
    A resumed run continues the interrupted epoch where it stopped.
    """

    output_dir.mkdir(parents=True, exist_ok=True)
    history = []
    per_epoch = len(loader)
    while step < max_steps:
        epoch, skip = divmod(step, per_epoch)
        (loader if hasattr(loader, "set_epoch") else loader.sampler).set_epoch(epoch)
        for batch in itertools.islice(loader, skip, None):
            with autocast(accelerator):
                updates, parts = step_fn(batch, step)
            norms = {}
            for name, optimizer, loss in updates:
                if callable(loss):
                    with autocast(accelerator):
                        loss = loss()
                    parts[name] = float(loss.detach())
                if not all(math.isfinite(v) for v in parts.values()):
                    raise FloatingPointError(f"non-finite loss at step {step}: {parts}")
                optimizer.zero_grad(set_to_none=True)
                accelerator.backward(loss)
                if accelerator.sync_gradients:  # clip, fp16 gradients unscaled first; an infinite limit only measures
                    norm = float(accelerator.clip_grad_norm_(clipped_parameters(optimizer), max_grad_norm or math.inf))
                    norms[f"{name}_grad_norm"] = norm
                    if not math.isfinite(norm):
                        if accelerator.scaler is None:
                            raise FloatingPointError(
                                f"non-finite {name} gradients at step {step} (norm {norm}); lower the learning rate or use bf16"
                            )
                        logger.warning("step %d: %s gradients overflowed; the loss scaler skips this update", step, name)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            parts |= norms
            step += 1
            history.append(parts)
            if accelerator.is_main_process:
                with (output_dir / "log.jsonl").open("a") as log:
                    log.write(json.dumps({"step": step, **parts}) + "\n")
            for every, hook, at_end in hooks:
                if step % every == 0 or (at_end and step == max_steps):
                    hook(step)
            if step >= max_steps:
                break
    return step, history
