"""One process of tests/train/test_multiprocess.py, started by `accelerate launch` with 2 CPU processes.

    ddp_worker.py DATA WORK_DIR TRAINER:CONFIG ...

DATA holds the faces and the zone crops (each trainer reports the other's files and skips them).

For each TRAINER (lifespan | zones | pluralistic) in turn: one step, then a second run resumes from that
checkpoint to step 2, in WORK_DIR/TRAINER. Writes WORK_DIR/TRAINER-rank{R}.pt: for every trained parameter (in optimiser
order) the module it belongs to, its value after `prepare`, the gradient this process computed itself at step 1 (before
any all-reduce) and its value after step 1; its value after the resumed step 2; the steps,
histories, and how often this process wrote the trained weights.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import torch
from accelerate import Accelerator

from engine.core.processes import end_process_group
from train import common, lifespan, pluralistic, zones
from train.common import config_from_yaml

TRAINERS: dict[str, tuple[type, Callable[..., dict]]] = {
    "lifespan": (lifespan.TrainConfig, lifespan.train),
    "zones": (zones.ZonesConfig, zones.train),
    "pluralistic": (pluralistic.PluralisticConfig, pluralistic.train),
}


class Trainer(Protocol):
    """A trainer's module, as far as this worker replaces what it registers its checkpoint hooks with."""

    register_checkpoint_hooks: Callable[..., None]


TRAINER_MODULES: tuple[Trainer, ...] = (lifespan, zones, pluralistic)


def run(trainer: str, config_file: str, data: str, work: Path) -> None:
    config_class, train = TRAINERS[trainer]
    output_dir = str(work / trainer)
    runs: list[list[torch.nn.Parameter]] = []
    prepared: list[list[torch.Tensor]] = []
    local: dict[int, torch.Tensor] = {}
    modules: list[list[str]] = []  # the prepared module (argument position and class) each parameter belongs to
    original_prepare = Accelerator.prepare

    def prepare(self, *args, **kwargs):
        """Each run's trained parameters (its optimisers'), and at the first run the first gradient each gets locally."""
        parameters = [p for a in args if isinstance(a, torch.optim.Optimizer) for p in common.clipped_parameters(a)]
        if not runs:
            for index, parameter in enumerate(parameters):
                parameter.register_hook(lambda g, index=index: local.setdefault(index, g.detach().clone()))
        runs.append(parameters)
        owner = {
            id(p): f"{i}:{type(a).__name__}" for i, a in enumerate(args) if isinstance(a, torch.nn.Module) for p in a.parameters()
        }
        modules.append([owner.get(id(p), "not prepared") for p in parameters])
        result = original_prepare(self, *args, **kwargs)
        prepared.append([p.detach().clone() for p in parameters])
        return result

    Accelerator.prepare = prepare
    saves = {"count": 0}
    original_register = common.register_checkpoint_hooks

    def counting_register(accelerator, save_weights, load_weights):
        def counted(folder):
            saves["count"] += 1
            save_weights(folder)

        original_register(accelerator, counted, load_weights)

    for module in TRAINER_MODULES:
        module.register_checkpoint_hooks = counting_register
    overrides = {"data": data, "output_dir": output_dir, "max_steps": 1, "checkpoint_every": 1, "num_workers": 0}
    if trainer == "lifespan":
        overrides |= {"background": "keep", "validate_every": 100}
    first = train(config_from_yaml(config_class, Path(config_file), overrides))
    after_1 = [p.detach().clone() for p in runs[0]]
    second = train(config_from_yaml(config_class, Path(config_file), overrides | {"max_steps": 2, "resume_from": "latest"}))
    torch.save(
        {
            "prepared": prepared[0],
            "modules": modules[0],
            "local": [local.get(i) for i in range(len(runs[0]))],
            "after_1": after_1,
            "after_2": [p.detach().clone() for p in runs[1]],
            "steps": [first["step"], second["step"]],
            "saves": saves["count"],
        },
        work / f"{trainer}-rank{Accelerator().process_index}.pt",
    )
    Accelerator.prepare = original_prepare
    for module in TRAINER_MODULES:
        module.register_checkpoint_hooks = original_register


def main() -> None:
    data, work = sys.argv[1], Path(sys.argv[2])
    for item in sys.argv[3:]:
        trainer, config_file = item.split(":")
        run(trainer, config_file, data, work)
    end_process_group()  # as the training command does (train.common.cli); the runs above share the group


if __name__ == "__main__":
    main()
