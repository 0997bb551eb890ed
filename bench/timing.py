"""What every benchmark times with: wall-clock runs, their median and percentiles, and a synthetic face."""

from __future__ import annotations

import statistics
import time

import numpy as np


def run_times(function, runs: int, sync=lambda: None) -> list[float]:
    """Seconds of each of `runs` calls of function(); sync() (e.g. torch.cuda.synchronize) before and after each."""
    times = []
    for _ in range(runs):
        sync()
        start = time.perf_counter()
        function()
        sync()
        times.append(time.perf_counter() - start)
    return times


def median_seconds(function, runs: int, sync=lambda: None) -> float:
    return statistics.median(run_times(function, runs, sync))


def percentiles(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2), "runs": len(ms)}


def random_face(resolution: int) -> np.ndarray:
    """A seeded (resolution, resolution, 3) uint8 noise image: speed does not depend on the pixels."""
    rng = np.random.default_rng(0)
    return (rng.random((resolution, resolution, 3)) * 255).astype(np.uint8)
