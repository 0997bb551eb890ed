"""Sharing checkpoints: the push through recorded HfApi calls, and pulling a repo at a revision."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
import torch
from huggingface_hub import ModelCard, ModelCardData
from safetensors.torch import save_file

from engine.methods.cradle2cane.nets import ProjectionMLP, save_projection
from evaluation.records import ResultsRecord
from leaderboard.store import ResultsStore
from tests.evaluation.test_records import valid
from train.push import TRAINED_WITH, push
from train.push import main as push_command

pytestmark = pytest.mark.pipelines


class RecordingApi:
    def __init__(self):
        self.calls = []

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def create_commit(self, repo_id, operations, **kwargs):
        self.calls.append(("create_commit", repo_id, {"operations": list(operations), **kwargs}))
        return type("Commit", (), {"oid": "abc123"})()


def committed(api) -> dict[str, object]:
    """path in repo -> what the one commit uploads there"""
    (commit,) = [call for call in api.calls if call[0] == "create_commit"]
    return {op.path_in_repo: op.path_or_fileobj for op in commit[2]["operations"]}


def weights(path: Path) -> None:
    """A small safetensors file (a LoRA's, for these tests)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"lora.weight": torch.zeros(2, 2)}, str(path))


def lifespan_checkpoint(folder: Path) -> Path:
    """What train.lifespan saves: the serving folder (both MLPs, the LoRA) and the training state beside it."""
    for name in ("face_project", "clip_project"):
        save_projection(ProjectionMLP(8, 4), folder / "Cradle2Cane" / name)
    weights(folder / "Cradle2Cane" / "pytorch_lora_weights.safetensors")
    torch.save({}, folder / "optimizer.bin")  # accelerate save_state's name
    return folder


def test_push_uploads_weights_and_a_model_card(tmp_path):
    checkpoint = lifespan_checkpoint(tmp_path / "checkpoint-4")
    store = ResultsStore(tmp_path / "store")
    # its own results: outputs made with it and submitted as a folder of its name, and the harness serving it from its repo
    verified = valid(provenance="verified", citation=None, method="my-c2c", run_config={"method": "folder:/work/outputs"})
    store.add_result(ResultsRecord.from_json(verified))
    served = {"method": "cradle2cane", "checkpoint": {"repo": "org/my-c2c", "revision": "abc"}, "metrics": {"age_mae": 7.25}}
    store.add_result(ResultsRecord.from_json(valid(provenance="verified", citation=None) | served))
    # another method's verified row, a paper's reported numbers and the published weights' harness row are not
    for other in (
        valid(provenance="verified", citation=None, method="classical", metrics={"age_mae": 3.0}),
        valid(method="SomePaperGAN", metrics={"age_mae": 4.5}),
        valid(provenance="verified", citation=None, method="cradle2cane", metrics={"age_mae": 5.5}),
    ):
        store.add_result(ResultsRecord.from_json(other))
    api = RecordingApi()
    assert push(checkpoint, "org/my-c2c", training_data="FFHQ 512", store_dir=tmp_path / "store", api=api) == "abc123"
    kinds = [call[0] for call in api.calls]
    assert kinds == ["create_repo", "create_commit"]  # the card and the weights in one commit
    files = committed(api)
    card = cast(bytes, files.pop("README.md")).decode()  # the card is uploaded as bytes
    assert "license: other" in card and "sai-nc-community" in card and "ArcFace" in card
    assert "FFHQ 512" in card and "## Misuse" in card and "my-c2c" in card
    assert "SomePaperGAN" not in card and "| classical |" not in card and "3.00" not in card and "5.50" not in card
    assert "age_mae 7.25" in card  # the harness's row of it, served from its repo
    # the serving folder where the engine reads it; the training state stays local
    assert sorted(files) == [
        f"Cradle2Cane/{name}" for name in ("clip_project.json", "clip_project.safetensors", "face_project.json")
    ] + ["Cradle2Cane/face_project.safetensors", "Cradle2Cane/pytorch_lora_weights.safetensors"]
    metadata = cast(ModelCardData, ModelCard(card).data)  # a model card's data, typed as the base class's
    assert metadata.base_model == "stabilityai/sdxl-turbo" and metadata.pipeline_tag == "image-to-image"
    assert metadata.eval_results is not None
    assert {(r.metric_name, r.dataset_name) for r in metadata.eval_results} >= {
        (name, verified["protocol"]["benchmark"]) for name, value in verified["metrics"].items() if value is not None
    }


def test_every_trainer_pushes_through_the_same_path_with_its_own_licence(tmp_path):
    zones, pluralistic = tmp_path / "zones", tmp_path / "pluralistic"
    zones.mkdir()
    pluralistic.mkdir()
    for path in (
        zones / "scorenet.safetensors",
        zones / "pytorch_lora_weights.safetensors",
        pluralistic / "age_encoder.safetensors",
    ):
        weights(path)
    (zones / "scorenet.json").write_text("{}")
    (pluralistic / "age_encoder.json").write_text("{}")
    (pluralistic / "trainer_state.json").write_text("{}")
    for folder in (zones, pluralistic):  # what the trainers record beside a checkpoint: the push's check, not serving's
        (folder / TRAINED_WITH).write_text('{"profile": "full"}')
    cards: dict[str, ModelCardData] = {}
    for folder in (zones, pluralistic):
        api = RecordingApi()
        push(folder, f"org/{folder.name}", training_data="zone crops", api=api)
        files = committed(api)
        cards[folder.name] = cast(ModelCardData, ModelCard(cast(bytes, files.pop("README.md")).decode()).data)
        assert "trainer_state.json" not in files and f"{'scorenet' if folder is zones else 'age_encoder'}.safetensors" in files
        assert TRAINED_WITH not in files
    assert (cards["zones"].license, cards["zones"].license_name) == ("other", "sai-nc-community")
    assert cards["zones"].license_link is not None
    assert cards["zones"].license_link.startswith("https://huggingface.co/stabilityai/sdxl-turbo")
    assert (cards["pluralistic"].license, cards["pluralistic"].base_model) == ("cc-by-nc-4.0", "openai/clip-vit-large-patch14")


def test_push_refuses_a_folder_that_is_no_checkpoint(tmp_path):
    with pytest.raises(ValueError, match="neither a Cradle2Cane checkpoint"):
        push(tmp_path, "org/x", training_data="faces", api=RecordingApi())


@pytest.mark.parametrize(
    "spoil, message",
    [
        # each was uploaded with exit code 0: a checkpoint the engine cannot load, or a smoke run's random weights
        (lambda c: (c / "Cradle2Cane" / "clip_project.json").unlink(), "clip_project.json is missing"),
        (lambda c: (c / "Cradle2Cane" / "pytorch_lora_weights.safetensors").write_bytes(b"\x08"), "does not open as safetensors"),
        (lambda c: (c / TRAINED_WITH).write_text('{"profile": "tiny"}'), "trained on the tiny profile"),
        (lambda c: (c / "Cradle2Cane" / "hparams.yml").write_text("profile: tiny\n"), "trained on the tiny profile"),
    ],
)
def test_push_refuses_a_checkpoint_the_engine_could_not_serve(tmp_path, spoil, message):
    checkpoint = lifespan_checkpoint(tmp_path / "checkpoint-4")
    spoil(checkpoint)
    api = RecordingApi()
    with pytest.raises(ValueError, match=f"cannot be shared: .*{message}"):
        push(checkpoint, "org/x", training_data="FFHQ 512", api=api)
    assert api.calls == []  # nothing created or uploaded


def test_push_needs_the_training_data_named(tmp_path):
    # "not stated" was published by default
    with pytest.raises(ValueError, match="name the training data"):
        push(lifespan_checkpoint(tmp_path / "checkpoint-4"), "org/x", api=RecordingApi())
    with pytest.raises(SystemExit):
        push_command(["--checkpoint", str(tmp_path / "checkpoint-4"), "--repo", "org/x"])


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
