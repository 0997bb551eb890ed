"""What the training scripts share: YAML configs over dataclass defaults, labelled image folders,
checkpoint folders and their training state, the training loop, the command line."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import json
import logging
import math
from pathlib import Path

import numpy as np
import torch
import yaml
from huggingface_hub.utils import HFValidationError, validate_repo_id
from PIL import Image

from engine.core.processes import end_process_group

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


def cpu_fp16_supported() -> bool:
    """Whether this torch build runs fp16 autocast on a CPU and has a CPU gradient scaler (torch >= 2.3)."""
    try:
        torch.amp.GradScaler("cpu")
        with torch.autocast("cpu", dtype=torch.float16):
            return torch.nn.Linear(2, 2)(torch.ones(1, 2)).dtype == torch.float16
    except (RuntimeError, AttributeError, TypeError):
        return False


def make_accelerator(mixed_precision: str, gradient_accumulation_steps: int = 1):
    """accelerate's Accelerator for `mixed_precision` (no | fp16 | bf16) and gradient accumulation.

    fp16 always trains with dynamic loss scaling. On a GPU accelerate attaches its own
    GradScaler. On a CPU accelerate (1.15) attaches none, so here, where torch has CPU fp16
    autocast and `torch.amp.GradScaler("cpu")`, the accelerator gets that scaler before any
    `prepare` (so each AcceleratedOptimizer steps through it: `scaler.step` skips an update
    whose gradients overflowed, `scaler.update` halves the scale) and `native_amp` on (so
    `clip_grad_norm_` unscales the gradients first, `backward` scales the loss, prepared
    models run under fp16 autocast, `save_state` writes the scaler's state). A torch without
    either is refused with the alternative (bf16 needs no scaler).

    accelerate keeps one precision per process; a single-process run that asks for another one
    than an earlier run in the same process (a notebook, a test session) starts accelerate afresh.
    """
    from accelerate import Accelerator  # noqa: PLC0415 - accelerate loads only when a harness or trainer runs
    from accelerate.state import AcceleratorState, GradientState, PartialState  # noqa: PLC0415 - as above

    check_precision(mixed_precision)
    if gradient_accumulation_steps < 1:
        raise ValueError(f"gradient_accumulation_steps must be >= 1, got {gradient_accumulation_steps}")
    if AcceleratorState._shared_state and PartialState().num_processes == 1:
        if AcceleratorState().mixed_precision != mixed_precision:
            logger.info("accelerate restarts with mixed_precision=%s in this process", mixed_precision)
            AcceleratorState._reset_state()
            GradientState._reset_state()
    accelerator = Accelerator(mixed_precision=mixed_precision, gradient_accumulation_steps=gradient_accumulation_steps)
    if mixed_precision == "fp16" and accelerator.scaler is None:
        if accelerator.device.type != "cpu" or not cpu_fp16_supported():
            raise ValueError(
                f"mixed_precision fp16 needs loss scaling, which neither accelerate nor torch {torch.__version__} "
                f"offers on {accelerator.device}; use bf16 (or no) here"
            )
        accelerator.scaler = torch.amp.GradScaler("cpu")
        accelerator.native_amp = True
    return accelerator


def loss_scale(accelerator) -> float | None:
    """The fp16 loss scale now (None without a scaler)."""
    return None if accelerator.scaler is None else float(accelerator.scaler.get_scale())


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


@contextlib.contextmanager
def no_parameter_gradients(module):
    """Inside, `module`'s parameters take no gradient (inputs still do); afterwards as they were."""
    parameters = [p for p in module.parameters() if p.requires_grad]
    for parameter in parameters:
        parameter.requires_grad_(False)
    try:
        yield module
    finally:
        for parameter in parameters:
            parameter.requires_grad_(True)


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


def step_generator(seed: int, step: int, micro: int = 0) -> torch.Generator:
    """The random draws of one micro-batch (`micro` of a step's gradient_accumulation_steps), a
    function of (seed, step, micro) alone (identical on resume)."""
    return torch.Generator().manual_seed(seed * 1_000_003 + step + micro * 2**40)


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
    result = train_function(config_from_yaml(config_class, Path(args.config), overrides))
    end_process_group()
    return result


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
        image = (
            Image.open(path).convert("RGB").resize((self.resolution, self.resolution), Image.Resampling.LANCZOS)
        )  # same size: a copy
        pixels = torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255.0
        return {"pixels": pixels, **{k: torch.tensor(v) if isinstance(v, float) else v for k, v in labels.items()}}


def check_profile_and_data(config, data_format: str) -> None:
    """The checks every training config shares: a known profile, a data folder, and a push that can be made (checked
    before training: a bad repo id ended a whole run in a traceback, and the card named a local data path)."""
    if config.profile not in ("full", "tiny"):
        raise ValueError(f"profile must be full or tiny, got {config.profile!r}")
    if not config.data:
        raise ValueError(f"data: name a folder of {data_format}")
    if config.push_to_hub:
        try:
            validate_repo_id(config.push_to_hub)
        except HFValidationError as error:
            raise ValueError(f"push_to_hub: {error}") from None
        if config.profile == "tiny":
            raise ValueError("push_to_hub: a tiny-profile run trains random miniature models (for tests), not a model to share")
        if not isinstance(config.training_data, str) or not config.training_data.strip():  # --set reads YAML: null, a mapping
            raise ValueError(
                "training_data: name the data (its name, size and licence, as text: quote it if it holds ': ') for the model "
                f"card push_to_hub writes, got {config.training_data!r}"
            )


def clip_and_measure(accelerator, optimizer, max_grad_norm: float | None) -> float:
    """Unscale this optimizer's gradients (fp16) and clip them to max_grad_norm; their norm before clipping.

    Per optimizer: accelerate's clip_grad_norm_ unscales every prepared optimizer, which, with
    gradient accumulation, would unscale the discriminator's half-accumulated gradients in the
    generator's update. An infinite limit only measures.
    """
    accelerator.unscale_gradients(optimizer=optimizer)
    norm = torch.nn.utils.clip_grad_norm_(clipped_parameters(optimizer), max_grad_norm or math.inf)
    return float(norm)


def _mean_parts(micro_parts: list[dict]) -> dict:
    keys = dict.fromkeys(k for parts in micro_parts for k in parts)
    return {k: sum(p[k] for p in micro_parts if k in p) / sum(k in p for p in micro_parts) for k in keys}


def run_steps(
    loader,
    step_fn,
    accelerator,
    output_dir: Path,
    step: int,
    max_steps: int,
    hooks=(),
    max_grad_norm: float | None = None,
    models=(),
) -> tuple[int, list[dict]]:
    """The training loop the scripts share; `step` counts optimiser steps.

    step_fn(batch, step, micro) -> ([(name, optimizer, loss), ...], parts) runs under autocast to
    the run's precision, once per micro-batch (micro = 0 .. gradient_accumulation_steps - 1),
    inside accelerator.accumulate(*models) (the prepared trained modules: no gradient all-reduce
    before the last micro-batch). Each loss in order: backward (divided by the accumulation
    steps, scaled for fp16); on the last micro-batch the gradients are unscaled, clipped to
    max_grad_norm and the optimizer steps (with fp16, the loss scaler skips a step whose
    gradients overflowed: logged as `{name}_skipped`, the weights left as they were). A loss
    may be a function, called after the updates before it (a discriminator on the generator's
    output, as the published script updates it); its value is logged under `name`. Every
    micro-batch's parts are checked finite; each optimiser step appends their mean over its
    micro-batches, with the gradient norms, to output_dir/log.jsonl (main process only); hooks
    are (every, function(step), also_at_the_end). A resumed run continues the interrupted epoch
    where it stopped. An epoch is len(loader) // accumulation optimiser steps; the micro-batches
    left over at its end are not used.
    """

    output_dir.mkdir(parents=True, exist_ok=True)
    history: list[dict] = []
    accumulation = accelerator.gradient_accumulation_steps
    per_epoch = len(loader) // accumulation
    if per_epoch == 0:
        raise ValueError(
            f"{len(loader)} batches per epoch (per process) are fewer than gradient_accumulation_steps={accumulation}"
        )
    while step < max_steps:
        epoch, skip = divmod(step, per_epoch)
        (loader if hasattr(loader, "set_epoch") else loader.sampler).set_epoch(epoch)
        micro_parts: list[dict] = []
        norms: dict = {}
        for batch in itertools.islice(loader, skip * accumulation, per_epoch * accumulation):
            with accelerator.accumulate(*models):
                micro = len(micro_parts)
                with autocast(accelerator):
                    updates, parts = step_fn(batch, step, micro)
                for name, optimizer, loss in updates:
                    if callable(loss):
                        with autocast(accelerator):
                            loss = loss()
                        parts[name] = float(loss.detach())
                    if not all(math.isfinite(v) for v in parts.values()):
                        raise FloatingPointError(f"non-finite loss at step {step}: {parts}")
                    accelerator.backward(loss)
                    if not accelerator.sync_gradients:
                        continue  # AcceleratedOptimizer steps and zeroes only on the last micro-batch
                    norm = clip_and_measure(accelerator, optimizer, max_grad_norm)
                    if math.isfinite(norm):
                        norms[f"{name}_grad_norm"] = norm
                    elif accelerator.scaler is None:
                        raise FloatingPointError(
                            f"non-finite {name} gradients at step {step} (norm {norm}); lower the learning rate or use bf16"
                        )
                    optimizer.step()
                    optimizer.zero_grad(set_to_none=True)
                    if accelerator.scaler is not None:
                        norms[f"{name}_skipped"] = bool(optimizer.step_was_skipped)
                        if optimizer.step_was_skipped:
                            logger.warning(
                                "step %d: %s gradients overflowed in fp16 (norm %s); the loss scaler skipped this update "
                                "and lowers its scale to %g",
                                step,
                                name,
                                norm,
                                loss_scale(accelerator),
                            )
                micro_parts.append(parts)
            if not accelerator.sync_gradients:
                continue
            record = _mean_parts(micro_parts) | norms
            micro_parts, norms = [], {}
            step += 1
            history.append(record)
            if accelerator.is_main_process:
                with (output_dir / "log.jsonl").open("a") as log:
                    log.write(json.dumps({"step": step, **record}) + "\n")
            for every, hook, at_end in hooks:
                if step % every == 0 or (at_end and step == max_steps):
                    hook(step)
            if step >= max_steps:
                break
    return step, history
