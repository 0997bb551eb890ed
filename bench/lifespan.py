"""Lifespan benchmarks: a 9-age strip batched vs one target at a time.

- CPU, tiny profile: the ratio batched / sequential (on 2 cores batching only saves
  per-call overhead);
- GPU (when CUDA is present): the real SDXL-Turbo UNet and VAE architectures, both
  text encoders, CLIP ViT-L/14, ArcFace iresnet100, the projection MLPs and a
  rank-40 LoRA, all built from the configs in bench/configs with random weights
  (nothing downloaded), fp16 at 512 px. Target on one H100: a 9-age strip in
  <= 1.5 s end to end.

    .venv/bin/python -m bench.lifespan [--gpu-only]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from bench.timing import median_seconds, random_face

CONFIGS = Path(__file__).parent / "configs"
STRIP = [5, 10, 20, 30, 40, 50, 60, 70, 80]
SOURCE_AGE = 30


def batched_vs_sequential(model, runs: int, sync=lambda: None) -> dict:
    source = model.encode_source(random_face(model.config.resolution))
    model(source, SOURCE_AGE, "female", STRIP, seed=0)  # warm-up
    batched = median_seconds(lambda: model(source, SOURCE_AGE, "female", STRIP, seed=0), runs, sync)
    sequential = median_seconds(lambda: [model(source, SOURCE_AGE, "female", [t], seed=0) for t in STRIP], runs, sync)
    return {
        "batched_s": round(batched, 4),
        "sequential_s": round(sequential, 4),
        "ratio_batched_over_sequential": round(batched / sequential, 3),
    }


def cpu_tiny(runs: int = 5) -> dict:
    from engine.core.registry import get_cache
    from engine.core.settings import Settings

    model = get_cache(Settings(profile="tiny", testing=True)).get("lifespan")
    return {"device": "cpu", "profile": "tiny (64 px)", "ages": len(STRIP), **batched_vs_sequential(model, runs)}


def sdxl_turbo_architecture():
    """SDXL-Turbo's UNet, the fp16-fix VAE and both text encoders at full size, from bench/configs."""
    from engine.methods import tiny
    from engine.methods.sdxl import SDXLArchitecture

    texts = json.loads((CONFIGS / "text_encoders.json").read_text())
    return SDXLArchitecture(
        unet=json.loads((CONFIGS / "sdxl_turbo_unet.json").read_text()),
        vae=json.loads((CONFIGS / "sdxl_vae_fp16_fix.json").read_text()),
        text_encoder=texts["text_encoder"],
        text_encoder_2=texts["text_encoder_2"],
        scheduler=tiny.TURBO_SCHEDULER,  # the one SDXL-Turbo ships
    )


def real_architecture(device: str = "cuda", dtype=torch.float16):
    """Cradle2Cane at full size with random weights, from the configs kept in the repository."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    from engine.faces.iresnet import IResNet
    from engine.methods import tiny
    from engine.methods.cradle2cane.nets import ProjectionMLP
    from engine.methods.cradle2cane.pipeline import RELEASED_LORA_RANK, Cradle2Cane, Cradle2CaneConfig
    from engine.methods.sdxl import img2img_pipeline

    texts = json.loads((CONFIGS / "text_encoders.json").read_text())
    tokenizers = tiny.clip_tokenizers(Path("/tmp/bench-tokenizer"))  # ids only; speed does not depend on the vocabulary
    pipe = img2img_pipeline(sdxl_turbo_architecture(), tokenizers, device)
    with torch.device(device):
        clip = CLIPModel(CLIPConfig(**texts["clip_vit_l14"]))
        arcface = IResNet()
        face_mlp, clip_mlp = ProjectionMLP(arcface.hidden_size, 2048), ProjectionMLP(768, 2048)
    tiny.add_random_lora(pipe, rank=RELEASED_LORA_RANK)
    pipe.to(device, dtype)
    modules: list[torch.nn.Module] = [clip, arcface, face_mlp, clip_mlp]
    for module in modules:
        module.to(device, dtype).eval()
    processor = CLIPImageProcessor()  # 224 px, CLIP's mean and std
    return Cradle2Cane(pipe, clip, processor, tokenizers[0], arcface, face_mlp, clip_mlp, Cradle2CaneConfig(resolution=512))


def gpu_real(runs: int = 5) -> dict:
    if not torch.cuda.is_available():
        return {"skipped": "no CUDA device: run `python -m bench.lifespan --gpu-only` on a GPU machine"}
    sync = torch.cuda.synchronize
    model = real_architecture()
    face = random_face(512)
    first = time.perf_counter()
    source = model.encode_source(face)
    model(source, SOURCE_AGE, "female", STRIP, seed=0)
    sync()
    cold = time.perf_counter() - first

    def end_to_end():  # a new photo each time: encoders, both passes, decoding
        model.clear_sources()
        model(model.encode_source(face), SOURCE_AGE, "female", STRIP, seed=0)

    result = {
        "device": torch.cuda.get_device_name(),
        "dtype": "float16",
        "resolution": 512,
        "ages": len(STRIP),
        "first_call_s": round(cold, 3),
        "strip_end_to_end_s": round(median_seconds(end_to_end, runs, sync), 4),
        **batched_vs_sequential(model, runs, sync),
        "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
        "target_strip_s": 1.5,
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.lifespan")
    parser.add_argument("--gpu-only", action="store_true")
    args = parser.parse_args()
    results = {} if args.gpu_only else {"cpu_tiny": cpu_tiny()}
    results["gpu_real_architecture"] = gpu_real()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
