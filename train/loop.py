"""The end every trainer shares: the loop with its checkpoints, then the final checkpoint shared on the Hub."""

from __future__ import annotations

import json
from pathlib import Path

from train.common import latest_checkpoint, run_steps, save_checkpoint_state
from train.push import TRAINED_WITH, push


def train_and_share(loader, one_step, accelerator, output_dir: Path, step: int, config, hooks=(), models=()) -> dict:
    """Run `one_step` from `step` to `config.max_steps` (optimiser steps; `models` are the prepared
    trained modules gradient accumulation holds back from synchronising), checkpointing every `config.checkpoint_every` steps
    (and at the end); push the final checkpoint to `config.push_to_hub` from the main process only, its card naming
    `config.training_data`."""

    def checkpoint(at: int) -> None:
        folder = output_dir / f"checkpoint-{at}"
        save_checkpoint_state(accelerator, folder, at)
        if accelerator.is_main_process:  # the profile it ran: train.push refuses a tiny-profile smoke run's weights
            (folder / TRAINED_WITH).write_text(json.dumps({"profile": config.profile}))

    step, history = run_steps(
        loader,
        one_step,
        accelerator,
        output_dir,
        step,
        config.max_steps,
        [*hooks, (config.checkpoint_every, checkpoint, True)],
        config.max_grad_norm,
        models,
    )
    final = latest_checkpoint(output_dir)
    if final is None:  # the loop saves one at its last step; a resumed run has the one it resumed from
        raise RuntimeError(f"training ended without a checkpoint in {output_dir}")
    if getattr(config, "push_to_hub", None) and accelerator.is_main_process:
        push(final, config.push_to_hub, training_data=config.training_data)
    return {"step": step, "history": history, "checkpoint": str(final)}
