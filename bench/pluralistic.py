"""Pluralistic aging benchmarks: six samples at one target age, as one batch per pass.

Tiny profile on CPU, the classical (offline) path on CPU, and the real architecture in
fp16 on a GPU when CUDA is present (random weights from bench/configs).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import torch

from bench.timing import median_seconds, random_face

SAMPLES, TARGET, RUNS = 6, 60.0, 3


def _time(function, runs=RUNS, sync=lambda: None) -> float:
    function()  # warm-up
    return round(median_seconds(function, runs, sync), 4)


def _six(model) -> Callable[[], object]:
    from engine.methods.pae.sampling import age_embeddings

    source = model.encode_source(random_face(model.config.resolution))
    embeddings = age_embeddings(model, TARGET, 0.3, SAMPLES, seed=0)
    return lambda: model.sample(source, 30.0, "female", TARGET, embeddings, list(range(SAMPLES)))


def tiny_cpu() -> dict:
    from engine.core.registry import get_cache
    from engine.core.settings import Settings

    model = get_cache(Settings(profile="tiny", testing=True)).get("lifespan")
    return {"device": "cpu", "profile": "tiny (64 px)", "samples": SAMPLES, "seconds": _time(_six(model))}


def classical_cpu() -> dict:
    from skimage import data

    from engine.core.settings import Settings
    from engine.tasks.pluralistic import PluralisticRequest, pluralistic

    image, settings = data.astronaut(), Settings(profile="offline")
    return {
        "device": "cpu",
        "path": "classical (PAE over zone scores), with scoring",
        "samples": SAMPLES,
        "seconds": _time(lambda: pluralistic(PluralisticRequest(image, TARGET, SAMPLES, 0.3), settings)),
    }


def gpu_real() -> dict:
    if not torch.cuda.is_available():
        return {"skipped": "no CUDA device: run `python -m bench.pluralistic` on a GPU machine"}
    from bench.lifespan import real_architecture

    return {
        "device": torch.cuda.get_device_name(),
        "dtype": "float16",
        "resolution": 512,
        "samples": SAMPLES,
        "seconds": _time(_six(real_architecture()), sync=torch.cuda.synchronize),
    }


def main() -> None:
    print(json.dumps({"tiny_cpu": tiny_cpu(), "classical_cpu": classical_cpu(), "gpu_real_architecture": gpu_real()}, indent=1))


if __name__ == "__main__":
    main()
