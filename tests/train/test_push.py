"""Sharing checkpoints: the push through recorded HfApi calls, and pulling a repo at a revision."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.methods.cradle2cane.nets import ProjectionMLP, save_projection
from evaluation.records import ResultsRecord
from leaderboard.store import ResultsStore
from tests.evaluation.test_records import valid
from train.push import push

pytestmark = pytest.mark.pipelines


class RecordingApi:
    def __init__(self):
        self.calls = []

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def upload_file(self, **kwargs):
        self.calls.append(("upload_file", kwargs["repo_id"], kwargs))

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs["repo_id"], kwargs))
        return type("Commit", (), {"oid": "abc123"})()


def test_push_uploads_weights_and_a_model_card(tmp_path):
    checkpoint = tmp_path / "checkpoint-4"
    save_projection(ProjectionMLP(8, 4), checkpoint / "Cradle2Cane" / "face_project")
    torch.save({}, checkpoint / "optimizer.bin")  # accelerate save_state's name
    store = ResultsStore(tmp_path / "store")
    verified = valid(provenance="verified", citation=None, method="my-c2c")
    store.add_result(ResultsRecord.from_json(verified))
    api = RecordingApi()
    assert push(checkpoint, "org/my-c2c", training_data="FFHQ 512", store_dir=tmp_path / "store", api=api) == "abc123"
    kinds = [call[0] for call in api.calls]
    assert kinds == ["create_repo", "upload_file", "upload_folder"]
    card = api.calls[1][2]["path_or_fileobj"].decode()
    assert "license: cc-by-nc-4.0" in card and "FFHQ 512" in card and "## Misuse" in card and "my-c2c" in card
    folder = api.calls[2][2]
    assert "optimizer*.bin" in folder["ignore_patterns"] and "*.safetensors" in folder["allow_patterns"]


def test_push_refuses_a_folder_that_is_no_checkpoint(tmp_path):
    with pytest.raises(ValueError, match="neither a Cradle2Cane checkpoint"):
        push(tmp_path, "org/x", api=RecordingApi())


def test_the_engine_pulls_a_checkpoint_at_a_revision(tmp_path, monkeypatch):
    import huggingface_hub

    from engine.core.models import hub_folder as _hub_folder
    from engine.core.registry import SPECS
    from engine.core.settings import Settings

    calls = []

    def fake_snapshot_download(repo_id, revision=None, allow_patterns=None):
        calls.append((repo_id, revision))
        return str(tmp_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    spec = next(s for s in SPECS if s.name == "cradle2cane")
    settings = Settings(profile="full", model_revisions={"cradle2cane": "v1.2"})
    assert _hub_folder(spec, settings) == Path(tmp_path)
    assert calls == [("byliutao/Cradle2Cane", "v1.2")]
