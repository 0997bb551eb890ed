"""A few real training steps of the LDLA zone model (LoRA + ScoreNet) on the tiny profile."""

from __future__ import annotations

import json
import math
import shutil

import pytest
import torch

from engine.core.models import ModelUnavailable
from engine.core.registry import get_cache
from engine.core.settings import ROOT, Settings
from engine.faces.zones import ZONES
from engine.methods.ldla.pipeline import locate, zone_scores_now
from tests.conftest import astronaut
from train.common import config_from_yaml
from train.zones import ZonesConfig, build, train

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")


def config(data, out, **changes):
    return config_from_yaml(
        ZonesConfig, ROOT / "train" / "configs" / "zones-tiny.yaml", {"data": str(data), "output_dir": str(out), **changes}
    )


def test_zone_training_updates_lora_and_scorenet_and_serving_reads_scores(crops, tmp_path):
    settings = config(crops, tmp_path / "run")
    _, fresh_scorenet, _ = build(settings)
    initial = {k: v.clone() for k, v in fresh_scorenet.state_dict().items()}
    result = train(settings)
    assert result["step"] == 3
    for parts in result["history"]:
        assert set(parts) == {"full", "zone", "cycle", "score", "total", "total_grad_norm"} and all(
            math.isfinite(v) for v in parts.values()
        )
    checkpoint = tmp_path / "run" / "checkpoint-3"
    from safetensors.torch import load_file

    trained = load_file(str(checkpoint / "scorenet.safetensors"))
    assert any(not torch.equal(trained[k], initial[k]) for k in initial)
    lora = load_file(str(checkpoint / "pytorch_lora_weights.safetensors"))
    assert any("lora_B" in k and v.abs().max() > 0 for k, v in lora.items())
    # serving: ScoreNet found through HUB_MODEL_DIR_SCORENET measures every zone
    serving = Settings(profile="offline", model_dirs={"scorenet": checkpoint})
    located = locate(astronaut(), serving)
    scores, source = zone_scores_now(astronaut(), located, 40, None, serving)
    # named by its folder's name and the setting, not its path
    assert source.startswith("measured by ScoreNet (local folder 'checkpoint-3' (HUB_MODEL_DIR_SCORENET)) for")
    assert "assumed" not in source and str(tmp_path) not in source
    assert all(0 <= scores[z] <= 100 for z in scores)


def test_zone_training_resumes(crops, tmp_path):
    out = tmp_path / "run"
    train(config(crops, out, max_steps=2))
    result = train(config(crops, out, max_steps=3, resume_from="latest"))
    assert result["step"] == 3 and len(result["history"]) == 1
    assert [json.loads(line)["step"] for line in (out / "log.jsonl").read_text().splitlines()] == [1, 2, 3]


def test_scorenet_is_missing_until_configured():
    from engine.core.models import ModelUnavailable

    with pytest.raises(ModelUnavailable, match="HUB_MODEL_DIR_SCORENET"):
        get_cache(OFFLINE).get("scorenet")


def test_a_scorenet_set_and_not_loadable_is_told_not_passed_over(tmp_path):
    # a wrong HUB_MODEL_DIR_SCORENET (a missing folder, another checkpoint) gave assumed scores as if none were set
    from engine.methods.ldla.pipeline import edit_zones

    wrong = Settings(profile="offline", model_dirs={"scorenet": tmp_path / "not-a-scorenet"})
    edit = edit_zones(astronaut(), {"glabella": 80}, "classical", 0, settings=wrong)
    told = "the ScoreNet the settings name could not be loaded (the server's log says why)"
    assert f"Current zone scores assumed from the age curves: {told}." in edit.warnings
    assert edit.current_source.endswith(f"for every zone; {told}") and str(tmp_path) not in edit.current_source
    every = edit_zones(astronaut(), {"glabella": 80}, "classical", 0, current={zone: 30 for zone in ZONES}, settings=wrong)
    assert not any("ScoreNet" in warning for warning in every.warnings)  # every score given: none was assumed
    plain = edit_zones(astronaut(), {"glabella": 80}, "classical", 0, settings=OFFLINE)
    assert not any("ScoreNet" in warning for warning in plain.warnings)  # none set: nothing to tell


def test_a_trained_zone_lora_serves_in_the_diffusion_renderer(crops, tmp_path):
    from engine.methods.ldla.pipeline import edit_zones

    train(config(crops, tmp_path / "run", max_steps=2))
    checkpoint = tmp_path / "run" / "checkpoint-2"
    plain = Settings(profile="tiny", testing=True)
    with_lora = Settings(profile="tiny", testing=True, model_dirs={"ldla": checkpoint})
    renderer = get_cache(with_lora).get("zone_diffusion")
    assert renderer.adapter == "ldla"
    # the outputs name the zone LoRA they were drawn with (their checkpoint read "diffusion")
    assert renderer.manifest()["checkpoint"] == "zone LoRA from local folder 'checkpoint-2' (HUB_MODEL_DIR_LDLA)"
    assert get_cache(plain).get("zone_diffusion").manifest()["checkpoint"].startswith("SDXL-Turbo without a zone LoRA")
    # a Cradle2Cane checkpoint's folder (its LoRA beside the projection MLPs) loaded as the zone LoRA without a word
    lifespan = tmp_path / "lifespan"
    lifespan.mkdir()
    shutil.copy(checkpoint / "pytorch_lora_weights.safetensors", lifespan)
    (lifespan / "face_project.safetensors").write_bytes(b"")
    with pytest.raises(
        ModelUnavailable,
        match="is a Cradle2Cane \\(lifespan\\) checkpoint, not a zone LoRA from train.zones; "
        "to serve it, set HUB_MODEL_DIR_CRADLE2CANE to the folder holding this one",
    ):
        get_cache(Settings(profile="tiny", testing=True, model_dirs={"ldla": lifespan})).get("zone_diffusion")
    # the checkpoint folder the lifespan trainer names (Cradle2Cane/ inside it) said only "holds no" the LoRA file
    (tmp_path / "outer").mkdir()
    shutil.move(lifespan, tmp_path / "outer" / "Cradle2Cane")
    with pytest.raises(ModelUnavailable, match="to serve it, set HUB_MODEL_DIR_CRADLE2CANE to this folder"):
        get_cache(Settings(profile="tiny", testing=True, model_dirs={"ldla": tmp_path / "outer"})).get("zone_diffusion")
    located = locate(astronaut(), OFFLINE)
    runs = [
        edit_zones(astronaut(), {"glabella": 90}, "diffusion", 1, source_age=30, located=located, settings=s).after
        for s in (plain, with_lora)
    ]
    assert not (runs[0] == runs[1]).all()
