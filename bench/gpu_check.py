"""`make gpu-check`: the first command to run on a machine with a CUDA GPU.

Nothing is downloaded (every architecture is built from the configs in bench/configs):

1. Cradle2Cane at full size (SDXL-Turbo UNet, both text encoders, the fp16-fix VAE, CLIP
   ViT-L/14, ArcFace iresnet100, both projection MLPs, a rank-40 LoRA) in fp16 with random
   weights, through both passes on a batched 9-age strip, with SDXL-Turbo's own scheduler;
   then the synthetic-face probe's text-to-image over the same models (two prompted ages);
2. one mixed-precision training step of each trainer (train.lifespan, train.zones,
   train.pluralistic) on their tiny configs and synthetic data, with the precision each asks for;
3. timings and peak GPU memory, printed as JSON; the whole check takes well under 5 minutes.

The training steps (their trainers' own train()) run in fp16 with the loss scaler, on the CPU
form too where torch supports it; the report says per trainer whether the scaler ran, its scale
after the step and which updates it skipped.

With ONLINE=1 (or --online) it then downloads the real weights (the full profile) and ages a
shipped public-domain portrait (scikit-image's astronaut) to 10, 40 and 70, saving the strip
under --out.

    make gpu-check                      # = python -m bench.gpu_check
    ONLINE=1 make gpu-check
    python -m bench.gpu_check --device cpu --tiny    # the reduced form the test suite runs
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from skimage import data

from bench.lifespan import SOURCE_AGE, STRIP, real_architecture
from bench.timing import random_face
from engine.core.registry import get_cache
from engine.core.settings import ROOT, Settings
from engine.methods.cradle2cane.pipeline import Cradle2Cane
from engine.methods.probe.faces import ProbeCell, TextToFace
from engine.tasks.lifespan import LifespanRequest, age_photo, save_outputs
from train import lifespan, pluralistic, zones
from train.common import config_from_yaml, cpu_fp16_supported

logger = logging.getLogger(__name__)

ONLINE_AGES = [10.0, 40.0, 70.0]


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def check_lifespan(device: str, tiny_models: bool) -> tuple[dict, Cradle2Cane]:
    """Both passes of a batched 9-age strip: the images are finite, the right size, and differ by age."""
    start = time.perf_counter()
    if tiny_models:
        model = get_cache(Settings(profile="tiny", testing=True)).get("lifespan")
    else:
        model = real_architecture(device, torch.float16)
    _sync(device)
    built = time.perf_counter() - start
    face = random_face(model.config.resolution)
    start = time.perf_counter()
    result = model(model.encode_source(face), SOURCE_AGE, "female", STRIP, seed=0)
    _sync(device)
    cold = time.perf_counter() - start
    model.clear_sources()
    start = time.perf_counter()
    result = model(model.encode_source(face), SOURCE_AGE, "female", STRIP, seed=0)
    _sync(device)
    warm = time.perf_counter() - start
    images = np.stack([item.image for item in result.items])
    resolution = model.config.resolution
    if images.shape != (len(STRIP), resolution, resolution, 3):
        raise RuntimeError(f"the strip has shape {images.shape}, expected ({len(STRIP)}, {resolution}, {resolution}, 3)")
    if np.all(images == images[0]):
        raise RuntimeError("every age of the strip is the same image: the passes did not run")
    return {
        "architecture": "tiny random (64 px)" if tiny_models else "SDXL-Turbo full size, random weights, fp16, 512 px",
        "scheduler": type(model.pipe.scheduler).__name__,
        "ages": len(STRIP),
        "strengths": sorted({item.strength for item in result.items}),
        "unet_calls": result.unet_calls,
        "build_s": round(built, 2),
        "strip_first_s": round(cold, 3),
        "strip_warm_s": round(warm, 3),
        **{k: round(v, 4) for k, v in result.timings.items()},
    }, model


def check_probe(device: str, model: Cradle2Cane) -> dict:
    """The synthetic-face probe's text-to-image over the lifespan model's SDXL (its LoRA left on by the strip):
    two prompted ages from one seed give two finite images of the right size that differ."""
    from diffusers import StableDiffusionXLPipeline  # noqa: PLC0415 - with the models, as the probe's loader

    resolution = model.config.resolution
    generator = TextToFace(StableDiffusionXLPipeline.from_pipe(model.pipe), resolution)
    generator.pipe.set_progress_bar_config(disable=True)
    start = time.perf_counter()
    faces = [generator.generate(ProbeCell(age, "female", "White", 0)) for age in (20, 80)]
    _sync(device)
    seconds = time.perf_counter() - start
    if any(face.shape != (resolution, resolution, 3) for face in faces):
        raise RuntimeError(f"probe faces have shapes {[face.shape for face in faces]}, expected ({resolution}, {resolution}, 3)")
    if np.array_equal(faces[0], faces[1]):
        raise RuntimeError("the probe drew the same image for prompted ages 20 and 80: the prompt does not reach the UNet")
    return {"faces": len(faces), "resolution": resolution, "steps": generator.steps, "seconds": round(seconds, 3)}


def _noise_images(folder: Path, names: list[str], seed: int) -> Path:
    """Random 64 px images under `names`: the file names carry the labels the trainers read."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in names:
        Image.fromarray((rng.random((64, 64, 3)) * 255).astype(np.uint8)).save(folder / name)
    return folder


def training_precision(device: str) -> str:
    """fp16 with its loss scaler wherever it can run (CUDA; a CPU whose torch has fp16 autocast and
    a CPU gradient scaler), so both forms of the check take the fp16 path a GPU run takes; else bf16."""
    return "fp16" if device == "cuda" or cpu_fp16_supported() else "bf16"


def scaler_report(history: list[dict], checkpoint: Path) -> dict:
    """Whether the fp16 loss scaler ran (its state is in the checkpoint), its scale after the step,
    and which updates it skipped (overflowed gradients; common in the first steps at scale 2^16)."""
    state = checkpoint / "scaler.pt"
    if not state.is_file():
        return {"active": False}
    return {
        "active": True,
        "scale_after": float(torch.load(state, weights_only=True)["scale"]),
        "skipped_updates": sorted(
            k.removesuffix("_skipped") for parts in history for k, v in parts.items() if k.endswith("_skipped") and v
        ),
    }


def check_training(device: str) -> dict:
    """One step of each trainer (their own train(): the step code a real run takes) on its tiny
    config and synthetic data, in fp16 with the loss scaler where it can run."""
    precision = training_precision(device)
    results = {}
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as scratch:
        root = Path(scratch)
        # training faces named age_gender_index as the lifespan and pluralistic trainers read them; zone
        # crops named zone_score_index as train.zones reads them
        faces = _noise_images(root / "faces", [f"{20 + 15 * i}_{('female', 'male')[i % 2]}_{i}.png" for i in range(4)], 0)
        crops = _noise_images(root / "crops", [f"forehead_{20 * i}_{i}.png" for i in range(4)], 1)
        runs = [
            ("lifespan", lifespan.TrainConfig, "tiny.yaml", faces),
            ("zones", zones.ZonesConfig, "zones-tiny.yaml", crops),
            ("pluralistic", pluralistic.PluralisticConfig, "pluralistic-tiny.yaml", faces),
        ]
        trainers: dict[str, Callable[[Any], dict]] = {
            "lifespan": lifespan.train,
            "zones": zones.train,
            "pluralistic": pluralistic.train,
        }
        for name, config_class, config_file, data in runs:
            overrides = {
                "data": str(data),
                "output_dir": str(root / name),
                "max_steps": 1,
                "checkpoint_every": 1,
                "mixed_precision": precision,
            }
            if name == "lifespan":
                overrides["validate_every"] = 1
            config = config_from_yaml(config_class, ROOT / "train" / "configs" / config_file, overrides)
            start = time.perf_counter()
            outcome = trainers[name](config)
            _sync(device)
            history = outcome.get("history", [])
            finite = all(math.isfinite(v) for parts in history for v in parts.values())
            if not finite:
                raise RuntimeError(f"{name}: a loss is not finite after one step: {history}")
            results[name] = {
                "step": outcome.get("step"),
                "mixed_precision": config.mixed_precision,
                "loss_scaler": scaler_report(history, Path(outcome["checkpoint"])),
                "seconds": round(time.perf_counter() - start, 2),
            }
    return results


def check_online(out: Path) -> dict:
    """The real weights (full profile, downloaded): a shipped portrait aged to 10, 40 and 70."""
    settings = Settings.from_env().with_(profile="full")
    start = time.perf_counter()
    output = age_photo(LifespanRequest(data.astronaut(), ONLINE_AGES, renderer="diffusion"), settings)
    files = save_outputs(output, out, stem="astronaut")
    return {"seconds": round(time.perf_counter() - start, 2), "strip": files.get("strip"), "manifest": output.manifest()}


def run(device: str, tiny_models: bool, online: bool, out: Path) -> dict:
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit(
            "gpu-check: no CUDA device visible (check the driver and torch's CUDA build); --device cpu --tiny runs the reduced form"
        )
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    report: dict = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "torch": torch.__version__}
    report["lifespan"], model = check_lifespan(device, tiny_models)
    report["probe"] = check_probe(device, model)
    report["training"] = check_training(device)
    if online:
        report["online"] = check_online(out)
    if device == "cuda":
        report["peak_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    report["total_s"] = round(time.perf_counter() - start, 1)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.gpu_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--tiny", action="store_true", help="tiny random models in place of the full-size architecture")
    parser.add_argument("--online", action="store_true", help="also download the real weights and age a portrait (ONLINE=1)")
    parser.add_argument("--out", type=Path, default=Path("outputs/gpu-check"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    online = args.online or os.environ.get("ONLINE", "").strip() in ("1", "true", "yes")
    report = run(args.device, args.tiny, online, args.out)
    print(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
