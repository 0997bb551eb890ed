"""A few real training steps of Cradle2Cane on the tiny profile."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from engine.core.registry import get_cache
from engine.core.settings import ROOT, Settings
from train.lifespan import TrainConfig, build_models, train

pytestmark = pytest.mark.pipelines


def tiny_config(data, out, **changes):
    return TrainConfig.from_yaml(ROOT / "train" / "configs" / "tiny.yaml", {"data": str(data), "output_dir": str(out), **changes})


def test_training_updates_lora_and_mlps_and_serving_loads_the_checkpoint(faces, tmp_path):
    config = tiny_config(faces, tmp_path / "run")
    torch.manual_seed(0)
    fresh, _ = build_models(config)  # the same seed gives the same initial weights as train() builds
    initial_face = fresh.face_mlp.state_dict()["fc_out.weight"].clone()
    result = train(config)
    assert result["step"] == 4
    for parts in result["history"]:
        assert all(math.isfinite(v) for v in parts.values())
        assert {"ms_ssim", "id_cos", "age", "age_feature", "pixel_mse", "perceptual", "gan"} <= set(parts)
    serving = tmp_path / "run" / "checkpoint-4"
    from safetensors.torch import load_file

    trained_face = load_file(str(serving / "Cradle2Cane" / "face_project.safetensors"))["fc_out.weight"]
    assert not torch.allclose(trained_face, initial_face)
    lora = load_file(str(serving / "Cradle2Cane" / "pytorch_lora_weights.safetensors"))
    b_weights = [v for k, v in lora.items() if "lora_B" in k]
    assert b_weights and any(v.abs().max() > 0 for v in b_weights)  # B starts at zero; training moved it
    assert len(list((tmp_path / "run" / "validation").glob("step-*.png"))) == 2
    # the serving pipeline loads the trained checkpoint and ages a face with it
    settings = Settings(profile="tiny", testing=True, model_dirs={"cradle2cane": serving})
    pipeline = get_cache(settings).get("lifespan")
    # outputs name it as what it is (they said "tiny random weights", as if none were loaded)
    assert (
        pipeline.checkpoint == "local folder 'checkpoint-4' (HUB_MODEL_DIR_CRADLE2CANE), trained on the tiny profile (tests only)"
    )
    crop = np.array(Image.open(sorted(faces.glob("*.png"))[0]))
    out = pipeline(pipeline.encode_source(crop), 42, "female", [20, 70], seed=0)
    assert [item.image.shape for item in out.items] == [(64, 64, 3)] * 2


def test_training_resumes_from_the_latest_checkpoint(faces, tmp_path):
    out = tmp_path / "run"
    train(tiny_config(faces, out, max_steps=2))
    result = train(tiny_config(faces, out, max_steps=4, resume_from="latest"))
    assert result["step"] == 4 and len(result["history"]) == 2
    steps = [json.loads(line)["step"] for line in (out / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]


def test_config_rejects_unknown_settings(tmp_path):
    with pytest.raises(ValueError, match="unknown settings \\['learning_rat'\\]"):
        TrainConfig.from_yaml(ROOT / "train" / "configs" / "tiny.yaml", {"learning_rat": 1, "data": "x"})
    with pytest.raises(ValueError, match="age_model: name a differentiable age estimator"):
        TrainConfig(data="x")
