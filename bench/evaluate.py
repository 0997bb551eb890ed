"""Offline evaluation throughput on CPU: output images scored per second (age + identity)."""

from __future__ import annotations

import json
import time

import numpy as np


def throughput(repeats: int = 5) -> dict:
    from engine.core.settings import Settings
    from engine.tasks.lifespan import LifespanRequest, age_photo
    from evaluation.benchmarks import BenchmarkInput, offline_benchmark
    from evaluation.scoring import score_input

    settings = Settings(profile="offline")
    benchmark = offline_benchmark()
    prepared: list[tuple[BenchmarkInput, list[np.ndarray | None]]] = []
    for item in benchmark.inputs:
        request = LifespanRequest(item.rgb, list(benchmark.targets), renderer="classical", read_ages=False)  # as the harness
        photos = age_photo(request, settings).photos
        if photos is None:
            raise RuntimeError(f"{item.name}: the lifespan task pasted no photos back; the benchmark scores pasted photos")
        prepared.append((item, list(photos)))
    score_input(*prepared[0], benchmark.targets, settings)  # warm-up
    start = time.perf_counter()
    scored = 0
    for _ in range(repeats):
        for item, images in prepared:
            scored += len(score_input(item, images, benchmark.targets, settings))
    seconds = time.perf_counter() - start
    return {"images_scored": scored, "seconds": round(seconds, 3), "images_per_second": round(scored / seconds, 1)}


if __name__ == "__main__":
    print(json.dumps(throughput(), indent=1))
