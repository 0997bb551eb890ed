"""Mixed precision and resuming in all three trainers, on tiny models on the CPU.

Frozen models run in half precision, trained parameters stay fp32 under autocast: a half
tensor meeting an fp32 module outside autocast, or a half-precision LoRA, fails here as it
would on a GPU.
"""

from __future__ import annotations

import json
import math

import pytest
import torch
import yaml
from safetensors.torch import load_file

from engine.core.settings import ROOT
from engine.methods.lora import lora_parameters
from train import common, lifespan, pluralistic, zones
from train.common import config_from_yaml, cpu_fp16_supported, make_accelerator, shuffled_batches, step_generator
from train.losses import PatchDiscriminator, perceptual_model

pytestmark = pytest.mark.pipelines

CONFIGS = ROOT / "train" / "configs"


def cpu_fp16_autocast() -> bool:
    try:
        with torch.autocast("cpu", dtype=torch.float16):
            return torch.nn.Linear(4, 4)(torch.randn(2, 4)).dtype == torch.float16
    except RuntimeError:
        return False


HALF = [
    torch.bfloat16,
    pytest.param(
        torch.float16, marks=pytest.mark.skipif(not cpu_fp16_autocast(), reason="this torch build has no fp16 autocast on CPU")
    ),
]


def check_history(history, names):
    assert history and all(names <= set(parts) for parts in history)
    assert all(math.isfinite(v) for parts in history for v in parts.values())


def fp32_weights(path):
    weights = load_file(str(path))
    assert weights and {v.dtype for v in weights.values() if v.is_floating_point()} == {torch.float32}  # trained in fp32
    return weights


@pytest.mark.parametrize("dtype", HALF)
def test_a_lifespan_step_under_autocast_gives_fp32_gradients_to_the_trained_weights_only(faces, dtype):
    """The step a GPU run takes, in fp16 too: frozen models in half precision, the pass-2 output into
    the fp32 discriminator, LoRA / MLP / discriminator gradients in fp32 (what the loss scaler unscales)."""
    config = lifespan.TrainConfig.from_yaml(CONFIGS / "tiny.yaml", {"data": str(faces)})
    torch.manual_seed(0)
    model, age_model = lifespan.build_models(config)
    discriminator, perceptual = PatchDiscriminator(width=16), perceptual_model("vae", model.pipe.vae)
    lifespan.place_models(model, age_model, perceptual, discriminator, torch.device("cpu"), dtype)
    batch = next(iter(shuffled_batches(lifespan.face_dataset(config), config)))
    with torch.autocast("cpu", dtype=dtype):
        total, d_loss, parts = lifespan.training_step(
            model, model.pipe.unet, age_model, perceptual, discriminator, batch, config, step_generator(0, 0)
        )
        d_value = d_loss()
    assert total.dtype == torch.float32 and math.isfinite(float(total)) and math.isfinite(float(d_value))
    total.backward()
    trained = lora_parameters(model.pipe.unet) + list(model.face_mlp.parameters()) + list(model.clip_mlp.parameters())
    assert all(p.dtype == torch.float32 and p.grad is not None and p.grad.dtype == torch.float32 for p in trained)
    frozen = [p for name, p in model.pipe.unet.named_parameters() if "lora_" not in name]
    frozen += [*model.pipe.vae.parameters(), *model.arcface.parameters(), *age_model.parameters()]
    assert all(p.dtype == dtype and p.grad is None for p in frozen)
    d_value.backward()
    assert all(
        p.dtype == torch.float32 and p.grad is not None and p.grad.dtype == torch.float32 for p in discriminator.parameters()
    )


FP16 = pytest.mark.skipif(not cpu_fp16_supported(), reason="this torch build has no fp16 autocast or gradient scaler on the CPU")


@FP16
def test_fp16_on_a_cpu_trains_with_a_loss_scaler():
    accelerator = make_accelerator("fp16")
    assert accelerator.scaler is not None and accelerator.scaler.get_scale() == 2.0**16


def test_fp16_where_no_loss_scaler_exists_is_refused_with_the_alternative(monkeypatch):
    monkeypatch.setattr(common, "cpu_fp16_supported", lambda: False)
    if torch.cuda.is_available():
        pytest.skip("on a GPU accelerate attaches its own loss scaler")
    with pytest.raises(ValueError, match="fp16 needs loss scaling.*use bf16"):
        make_accelerator("fp16")


def check_scaled_fp16_run(history, checkpoint):
    """One fp16 step went through the loss scaler (each update logs whether it skipped), every loss
    finite, and the scaler's state saved with the checkpoint."""
    check_history(history, {"total", "total_skipped"})
    assert (checkpoint / "scaler.pt").is_file()
    state = torch.load(checkpoint / "scaler.pt", weights_only=True)
    skipped = sum(value is True for name, value in history[0].items() if name.endswith("_skipped"))
    assert state["scale"] == 2.0**16 / 2**skipped  # one shared scaler, halved by each skipped update


@FP16
def test_lifespan_trains_a_step_in_fp16_with_the_loss_scaler(faces, tmp_path):
    """The GPU recipe on the CPU: frozen models in fp16, LoRA / MLPs / discriminator in fp32, the loss
    scaled and the gradients unscaled before clipping (an fp16 LoRA would fail with "Attempting to
    unscale FP16 gradients"; an fp16 pass-2 output into the fp32 discriminator with a dtype error)."""
    config = lifespan.TrainConfig.from_yaml(
        CONFIGS / "tiny.yaml",
        {"data": str(faces), "output_dir": str(tmp_path), "mixed_precision": "fp16", "max_steps": 1, "checkpoint_every": 1},
    )
    history = lifespan.train(config)["history"]
    check_scaled_fp16_run(history, tmp_path / "checkpoint-1")
    assert {"gan", "discriminator", "discriminator_skipped"} <= set(history[0])
    fp32_weights(tmp_path / "checkpoint-1" / "Cradle2Cane" / "pytorch_lora_weights.safetensors")
    fp32_weights(tmp_path / "checkpoint-1" / "discriminator.safetensors")


@FP16
def test_zone_trainer_trains_a_step_in_fp16_with_the_loss_scaler(crops, tmp_path):
    config = config_from_yaml(
        zones.ZonesConfig,
        CONFIGS / "zones-tiny.yaml",
        {"data": str(crops), "output_dir": str(tmp_path), "mixed_precision": "fp16", "max_steps": 1},
    )
    history = zones.train(config)["history"]
    check_scaled_fp16_run(history, tmp_path / "checkpoint-1")
    fp32_weights(tmp_path / "checkpoint-1" / "pytorch_lora_weights.safetensors")
    fp32_weights(tmp_path / "checkpoint-1" / "scorenet.safetensors")


@FP16
def test_pluralistic_trainer_trains_a_step_in_fp16_with_the_loss_scaler(faces, tmp_path):
    history = pluralistic.train(pluralistic_config(faces, tmp_path, mixed_precision="fp16", max_steps=1))["history"]
    check_scaled_fp16_run(history, tmp_path / "checkpoint-1")
    fp32_weights(tmp_path / "checkpoint-1" / "age_encoder.safetensors")


def test_accumulation_counts_optimiser_steps_and_logs_once_per_step(faces, tmp_path):
    """4 faces in batches of 2, accumulation 2: one optimiser step per epoch; 3 steps = 3 epochs,
    3 log lines, a checkpoint at step 2 that resumes."""
    result = pluralistic.train(
        pluralistic_config(faces, tmp_path, gradient_accumulation_steps=2, max_steps=2, checkpoint_every=2)
    )
    assert result["step"] == 2 and len(result["history"]) == 2
    resumed = pluralistic.train(
        pluralistic_config(faces, tmp_path, gradient_accumulation_steps=2, max_steps=3, resume_from="latest")
    )
    assert resumed["step"] == 3 and len(resumed["history"]) == 1
    steps = [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]


def test_lifespan_trains_a_step_in_bf16(faces, tmp_path):
    precision = "bf16"
    config = lifespan.TrainConfig.from_yaml(
        CONFIGS / "tiny.yaml",
        {"data": str(faces), "output_dir": str(tmp_path), "mixed_precision": precision, "max_steps": 1, "checkpoint_every": 1},
    )
    result = lifespan.train(config)
    # step 0 also updates the discriminator; both updates are clipped to max_grad_norm, their norms logged
    check_history(result["history"], {"total", "gan", "discriminator", "total_grad_norm", "discriminator_grad_norm"})
    serving = tmp_path / "checkpoint-1" / "Cradle2Cane"
    lora = fp32_weights(serving / "pytorch_lora_weights.safetensors")
    assert any("lora_B" in k and v.abs().max() > 0 for k, v in lora.items())  # B starts at zero: the step moved it
    fp32_weights(serving / "face_project.safetensors")
    fp32_weights(tmp_path / "checkpoint-1" / "discriminator.safetensors")
    recorded = yaml.safe_load((serving / "hparams.yml").read_text())  # what the checkpoint was trained with
    assert (recorded["t1"], recorded["t2"], recorded["mixed_precision"], recorded["rank"]) == (10.0, 30.0, "bf16", 4)
    assert "data" not in recorded and recorded["background"] == "grey"


def test_zone_trainer_trains_a_step_in_bf16(crops, tmp_path):
    precision = "bf16"
    config = config_from_yaml(
        zones.ZonesConfig,
        CONFIGS / "zones-tiny.yaml",
        {"data": str(crops), "output_dir": str(tmp_path), "mixed_precision": precision, "max_steps": 1},
    )
    result = zones.train(config)
    check_history(result["history"], {"full", "zone", "cycle", "score"})
    lora = fp32_weights(tmp_path / "checkpoint-1" / "pytorch_lora_weights.safetensors")
    assert any("lora_B" in k and v.abs().max() > 0 for k, v in lora.items())
    fp32_weights(tmp_path / "checkpoint-1" / "scorenet.safetensors")


def pluralistic_config(faces, out, **changes):
    return config_from_yaml(
        pluralistic.PluralisticConfig, CONFIGS / "pluralistic-tiny.yaml", {"data": str(faces), "output_dir": str(out), **changes}
    )


def test_pluralistic_trainer_trains_a_step_in_bf16(faces, tmp_path):
    result = pluralistic.train(pluralistic_config(faces, tmp_path, mixed_precision="bf16", max_steps=1))
    check_history(result["history"], {"age", "identity", "kl"})
    fp32_weights(tmp_path / "checkpoint-1" / "age_encoder.safetensors")


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(faces, tmp_path):
    """2 steps, stop, resume to 5 (across an epoch boundary of 2 batches) == 5 steps straight:
    the data order, the random draws, the optimiser state and the weights all carry over."""
    straight = pluralistic.train(pluralistic_config(faces, tmp_path / "straight", max_steps=5, checkpoint_every=5))
    pluralistic.train(pluralistic_config(faces, tmp_path / "resumed", max_steps=2, checkpoint_every=2))
    resumed = pluralistic.train(
        pluralistic_config(faces, tmp_path / "resumed", max_steps=5, checkpoint_every=5, resume_from="latest")
    )
    assert resumed["step"] == 5 and len(resumed["history"]) == 3
    assert resumed["history"] == straight["history"][2:]
    a = load_file(str(tmp_path / "straight" / "checkpoint-5" / "age_encoder.safetensors"))
    b = load_file(str(tmp_path / "resumed" / "checkpoint-5" / "age_encoder.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    steps = [json.loads(line)["step"] for line in (tmp_path / "resumed" / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5]


def test_resuming_from_a_folder_that_is_not_a_checkpoint_says_so(faces, tmp_path):
    with pytest.raises(FileNotFoundError, match="not a training checkpoint"):
        pluralistic.train(pluralistic_config(faces, tmp_path / "run", resume_from=str(tmp_path)))
