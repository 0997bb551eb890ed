"""The zone evaluation: ScoreNet's error on each edited zone, and the change outside it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.core.models import ModelUnavailable
from engine.core.settings import Settings
from engine.faces.zones import ZONES
from engine.methods.ldla.scorenet import ScoreNet, save_scorenet
from evaluation import zones as Z

pytestmark = pytest.mark.pipelines


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scorenet")
    torch.manual_seed(0)
    save_scorenet(ScoreNet(width=8), folder / "scorenet")  # random weights: the plumbing, not a score
    return Settings(profile="offline", model_dirs={"scorenet": folder})


def test_each_zone_is_edited_alone_and_scored(settings):
    record = Z.evaluate_zones("classical", settings=settings, targets=(80.0,))
    rows = record.notes["rows"]
    assert record.task == "zones" and record.protocol.n_images == len(rows)
    run = record.run_config or {}
    assert set(run["inputs_sha256"]) == {"astronaut", "grace_hopper"} and "code" in run  # the photos and code, named
    # the published record names the ScoreNet by its folder's name and setting (it held the server's path)
    folder = settings.model_dirs["scorenet"]
    assert record.evaluators.zone_scorer == f"ScoreNet (local folder {folder.name!r} (HUB_MODEL_DIR_SCORENET))"
    assert {row["zone"] for row in rows} <= set(ZONES) and len(rows) + record.notes["unplaceable_edits"] == 2 * len(ZONES)
    score_mae = record.metrics["zone_score_mae"]
    assert score_mae is not None and 0 <= score_mae <= 1
    assert set(record.notes["per_zone_score_mae"]) == {row["zone"] for row in rows}
    # the classical renderer is local: the face outside each edited zone's blend is untouched
    outside = record.metrics["outside_change"]
    assert outside is not None and outside < 0.5


def test_a_renderer_that_repaints_the_face_shows_as_change_outside(settings, monkeypatch):
    real = Z.edit_zones

    def repaint(*args, **kwargs):
        edit = real(*args, **kwargs)
        edit.after = np.clip(edit.after.astype(int) + 20, 0, 255).astype(np.uint8)
        return edit

    monkeypatch.setattr(Z, "edit_zones", repaint)
    record = Z.evaluate_zones("classical", settings=settings, targets=(80.0,))
    outside = record.metrics["outside_change"]
    assert outside is not None and outside > 15


def test_without_scorenet_it_says_how_to_get_one():
    with pytest.raises(ModelUnavailable, match="train one with `python -m train.zones`"):
        Z.evaluate_zones("classical", settings=Settings(profile="offline"))
