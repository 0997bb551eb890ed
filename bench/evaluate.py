"""Offline evaluation throughput on CPU: output images scored per second (age + identity)."""

from __future__ import annotations

import json
import time


def throughput(repeats: int = 5) -> dict:
    from engine.core.settings import Settings
    from engine.tasks.lifespan import LifespanRequest, age_photo
    from evaluation.benchmarks import offline_benchmark
    from evaluation.scoring import score_input

    settings = Settings(profile="offline")
    benchmark = offline_benchmark()
    prepared = [
        (item, age_photo(LifespanRequest(item.rgb, list(benchmark.targets), renderer="classical"), settings).photos)
        for item in benchmark.inputs
    ]
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
