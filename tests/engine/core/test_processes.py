"""The commands a launcher runs end their process group once their work is done: left to the interpreter's exit, gloo's
threads can abort the process afterwards, and the launch fails (seen in a two-process evaluation)."""

from __future__ import annotations

import pytest
import torch.distributed as dist

from engine.core.processes import end_process_group
from engine.core.settings import ROOT
from leaderboard import evaluate
from tests.evaluation.conftest import face_outputs
from train import common, lifespan

pytestmark = pytest.mark.unit


@pytest.fixture()
def group():
    """A one-process gloo group, as `accelerate launch` leaves each process it starts in one."""
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


def test_the_group_is_ended_and_a_process_without_one_is_left_as_it_is(group):
    end_process_group()
    assert not dist.is_initialized()
    end_process_group()  # nothing to end: no error
    assert not dist.is_initialized()


def test_the_evaluation_command_ends_the_group_once_its_record_is_stored(group, tmp_path, command):
    folder = face_outputs(tmp_path / "outputs")  # the offline benchmark's outputs, as a researcher submits them
    result = command(
        evaluate.main,
        *("--method", f"folder:{folder}", "--method-type", "GAN", "--benchmark", "offline", "--out", str(tmp_path / "store")),
        env={"HUB_PROFILE": "offline"},
    )
    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "store" / "results").glob("*.json")) and not dist.is_initialized()


def test_a_refused_evaluation_leaves_the_group_to_the_launcher(group, tmp_path, command):
    """A failing process exits at once with its error: ending a NCCL group while the others wait in a collective
    operation can hang instead."""
    result = command(evaluate.main, "--method", f"folder:{tmp_path}", "--benchmark", "offline")
    assert result.returncode == 2 and "needs --method-type" in result.stderr
    assert dist.is_initialized()


def test_a_training_command_ends_the_group_once_training_is_done(group, tmp_path):
    trained = []

    def train(config):  # the training itself is tested in tests/train; here what the command does around it
        trained.append(config.max_steps)
        return {"step": 1}

    argv = ["--config", str(ROOT / "train/configs/tiny.yaml"), "--set", f"data={tmp_path}", "max_steps=1"]
    assert common.cli("train.lifespan", "", lifespan.TrainConfig, train, argv) == {"step": 1}
    assert trained == [1] and not dist.is_initialized()
