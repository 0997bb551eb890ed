"""What multi-GPU training relies on, in 2 CPU processes (gloo) under `accelerate launch`: every
trained module goes through accelerator.prepare, so each process's own gradient is averaged
with the other's and the weights stay identical; only the main process writes the log and the
weights; save_state / resume works across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from engine.core.settings import ROOT
from tests.conftest import free_port

pytestmark = pytest.mark.pipelines

WORKER = ROOT / "tests" / "train" / "ddp_worker.py"
CONFIGS = ROOT / "train" / "configs"
TRAINERS = {"lifespan": "tiny.yaml", "zones": "zones-tiny.yaml", "pluralistic": "pluralistic-tiny.yaml"}


@pytest.fixture(scope="module")
def distinct_faces(tmp_path_factory):
    """4 different faces and 4 different zone crops: in batches of 2 over 2 processes each process
    trains on its own pair."""
    folder = tmp_path_factory.mktemp("distinct-faces")
    rng = np.random.default_rng(3)
    for index, (age, gender) in enumerate([(20, "female"), (35, "male"), (50, "female"), (65, "male")]):
        Image.fromarray((rng.random((64, 64, 3)) * 255).astype(np.uint8)).save(folder / f"{age}_{gender}_{index}.png")
    for index, (zone, score) in enumerate([("forehead", 10), ("glabella", 40), ("forehead", 70), ("crows_feet_left", 90)]):
        Image.fromarray((rng.random((64, 64, 3)) * 255).astype(np.uint8)).save(folder / f"{zone}_{score}_{index}.png")
    return folder


@pytest.fixture(scope="module")
def two_processes(distinct_faces, tmp_path_factory) -> dict:
    """Both trainers in one launch of 2 processes (starting them is most of the time); per trainer, both ranks' records."""
    work = tmp_path_factory.mktemp("two-processes")
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",  # torchrun's launcher; ACCELERATE_USE_CPU makes it gloo on the CPU (accelerate refuses --cpu with it)
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(free_port()),
        str(WORKER),
        str(distinct_faces),
        str(work),
        *(f"{trainer}:{CONFIGS / config}" for trainer, config in TRAINERS.items()),
    ]
    env = os.environ | {"ACCELERATE_USE_CPU": "1", "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-4000:]
    return {
        trainer: (work / trainer, [torch.load(work / f"{trainer}-rank{r}.pt", weights_only=True) for r in (0, 1)])
        for trainer in TRAINERS
    }


def check_synchronised(output, ranks) -> None:
    zero, one = ranks
    steps = [json.loads(line)["step"] for line in (output / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2]  # one line per step: the second process writes none
    assert (output / "checkpoint-1").is_dir() and (output / "checkpoint-2").is_dir()
    assert zero["steps"] == one["steps"] == [1, 2]  # the second run resumed at 1 in both processes
    assert (zero["saves"], one["saves"]) == (2, 0)  # the trained weights are written by the main process only
    assert len(zero["after_1"]) == len(one["after_1"]) > 0
    assert all(torch.equal(a, b) for a, b in zip(zero["prepared"], one["prepared"]))  # the same start
    assert all(local is not None for local in zero["local"] + one["local"])  # every trained parameter got a gradient
    # Every trained parameter ends the step the same, bit for bit, in both processes ...
    assert all(torch.equal(a, b) for a, b in zip(zero["after_1"], one["after_1"]))
    # ... although in every trained module some gradient that each process computed on its own data
    # points the other way than the other's (Adam's first step follows its sign): apart they would
    # have diverged; they were averaged.
    opposed = {
        module for module, a, b in zip(zero["modules"], zero["local"], one["local"]) if (torch.sign(a) * torch.sign(b) < 0).any()
    }
    assert opposed == set(zero["modules"]), f"no opposed gradients in {set(zero['modules']) - opposed}"
    moved = [not torch.equal(before, a) for before, a in zip(zero["prepared"], zero["after_1"])]
    assert sum(moved) > len(moved) // 2
    # the run resumed from the checkpoint trains on, still in step
    assert all(torch.equal(a, b) for a, b in zip(zero["after_2"], one["after_2"]))
    assert any(not torch.equal(a, b) for a, b in zip(zero["after_1"], zero["after_2"]))


def test_lifespan_trains_in_step_across_two_processes(two_processes):
    """LoRA, both MLPs and the discriminator (updated at step 1): each one prepared and synchronised."""
    output, ranks = two_processes["lifespan"]
    assert {module.split(":")[1] for module in ranks[0]["modules"]} == {
        "UNet2DConditionModel",
        "ProjectionMLP",
        "PatchDiscriminator",
    }
    check_synchronised(output, ranks)


def test_zone_trainer_trains_in_step_across_two_processes(two_processes):
    """The zone LoRA and ScoreNet."""
    output, ranks = two_processes["zones"]
    assert {module.split(":")[1] for module in ranks[0]["modules"]} == {"UNet2DConditionModel", "ScoreNet"}
    check_synchronised(output, ranks)


def test_pluralistic_trains_in_step_across_two_processes(two_processes):
    check_synchronised(*two_processes["pluralistic"])
