"""The commands a launcher runs end their process group before they exit: left to the interpreter's exit, gloo's
threads can abort the process after its work is done, and the launch fails (seen in a two-process evaluation)."""

from __future__ import annotations

import pytest
import torch.distributed as dist

from engine.core.processes import end_process_group
from leaderboard import evaluate
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


def test_the_evaluation_command_ends_the_group_when_it_refuses_its_input(group, tmp_path, capsys):
    assert evaluate.main(["--method", f"folder:{tmp_path}", "--benchmark", "offline"]) == 2
    assert "needs --method-type" in capsys.readouterr().err
    assert not dist.is_initialized()


def test_a_training_command_ends_the_group_when_training_fails(group, tmp_path):
    (tmp_path / "bad.yaml").write_text("learning_rat: 1.0e-4\n")
    with pytest.raises(ValueError, match=r"unknown settings \['learning_rat'\]"):
        common.cli("train.lifespan", "", lifespan.TrainConfig, lifespan.train, ["--config", str(tmp_path / "bad.yaml")])
    assert not dist.is_initialized()
