"""`make gpu-check` in its reduced CPU form: tiny models, both passes, one step of each trainer."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.gpu_check import run
from bench.lifespan import sdxl_turbo_architecture
from engine.methods import tiny
from engine.methods.sdxl import img2img_pipeline
from train.common import cpu_fp16_supported

pytestmark = pytest.mark.pipelines


def test_gpu_check_runs_both_passes_and_a_step_of_each_trainer_on_cpu(tmp_path):
    report = run("cpu", tiny_models=True, online=False, out=tmp_path)
    lifespan = report["lifespan"]
    assert lifespan["ages"] == 9 and lifespan["scheduler"] == "EulerAncestralDiscreteScheduler"
    assert lifespan["strengths"] == [0.25, 0.5, 0.75] and lifespan["unet_calls"] == 1 + 2 + 3 + 1
    assert {"pass1_s", "pass2_s", "strip_warm_s"} <= set(lifespan)
    assert report["probe"]["faces"] == 2 and report["probe"]["resolution"] == 64  # two prompted ages, different images
    assert set(report["training"]) == {"lifespan", "zones", "pluralistic"}
    assert all(result["step"] == 1 for result in report["training"].values())
    if cpu_fp16_supported():  # the fp16 path of a GPU run, loss scaler included
        assert all(result["mixed_precision"] == "fp16" for result in report["training"].values())
        assert all(result["loss_scaler"]["active"] for result in report["training"].values())
    assert "peak_memory_gib" not in report  # measured on CUDA only


def test_gpu_check_on_a_machine_without_cuda_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.raises(SystemExit, match="no CUDA device visible.*--device cpu --tiny"):
        run("cuda", tiny_models=False, online=False, out=tmp_path)


def test_the_full_size_architecture_has_sdxl_turbos_parameter_counts(tmp_path):
    """Built on the meta device (no memory): the UNet, VAE and second text encoder SDXL-Turbo ships."""
    pipe = img2img_pipeline(sdxl_turbo_architecture(), tiny.clip_tokenizers(Path(tmp_path)), "meta")
    counts = {name: sum(p.numel() for p in getattr(pipe, name).parameters()) for name in ("unet", "vae", "text_encoder_2")}
    assert counts == {"unet": 2_567_463_684, "vae": 83_653_863, "text_encoder_2": 694_659_840}
    assert type(pipe.scheduler).__name__ == "EulerAncestralDiscreteScheduler"
