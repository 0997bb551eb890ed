"""What the training scripts share: YAML configs over dataclass defaults, checkpoint folders, the command line."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

import yaml


def config_from_yaml(cls, path: Path, overrides: dict | None = None):
    """A `cls` dataclass from a YAML file plus overrides; unknown keys are an error naming them."""
    values = yaml.safe_load(Path(path).read_text()) or {}
    values.update(overrides or {})
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{path}: unknown settings {unknown}; known: {sorted(known)}")
    return cls(**values)


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
    import json
    import math

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
