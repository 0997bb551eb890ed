"""The end every trainer shares: the loop with its checkpoints, then the final checkpoint shared on the Hub."""

from __future__ import annotations

from pathlib import Path

from train.common import latest_checkpoint, run_steps, save_checkpoint_state
from train.push import push


def train_and_share(
    loader, one_step, accelerator, output_dir: Path, step: int, config, training_data: str, hooks=(), models=()
) -> dict:
    """Run `one_step` from `step` to `config.max_steps` (optimiser steps; `models` are the prepared
    trained modules gradient accumulation holds back from synchronising), checkpointing every `config.checkpoint_every` steps
    (and at the end); push the final checkpoint to `config.push_to_hub` from the main process only."""

    def checkpoint(at: int) -> None:
        save_checkpoint_state(accelerator, output_dir / f"checkpoint-{at}", at)

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
        push(final, config.push_to_hub, training_data=training_data)
    return {"step": step, "history": history, "checkpoint": str(final)}
