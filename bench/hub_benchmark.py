"""The hub benchmark's throughput: rows (image x target) per second on a tiny local parquet dataset,
one process against two (`accelerate launch --multi_gpu --num_processes 2`, gloo on a CPU machine),
the same run configuration, the whole command timed (start-up and model loading included)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.core.settings import ROOT

TARGETS = [str(age) for age in range(0, 81, 5)]  # the paper's 17 targets
N_IMAGES = 4  # the tiny dataset's 2 faces per gender


def _run(launcher: list[str], data: Path, work: Path) -> dict:
    command = [
        *launcher, "-m", "leaderboard.evaluate", "--method", "classical", "--benchmark", "hub", "--dataset", "test/tiny-faces",
        "--data-dir", str(data), "--n-images", str(N_IMAGES), "--targets", *TARGETS,
        "--run-dir", str(work / "run"), "--out", str(work / "store"),
    ]  # fmt: skip
    env = {**os.environ, "HUB_PROFILE": "offline", "HUB_STORE_DIR": str(work / "store")}
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        return {"error": result.stderr[-2000:]}
    rows = N_IMAGES * len(TARGETS)
    return {"rows": rows, "seconds": round(seconds, 1), "rows_per_second": round(rows / seconds, 2)}


def processes_1_vs_2() -> dict:
    from tests.evaluation.conftest import tiny_faces_dataset

    with tempfile.TemporaryDirectory() as folder:
        data = tiny_faces_dataset(Path(folder) / "data")
        one = _run([sys.executable], data, Path(folder) / "one")
        launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2"]
        two = _run(
            [*launch, "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"], data, Path(folder) / "two"
        )
    return {"1 process": one, "2 processes": two}
