"""The evaluation harness: run (or read) a method on a benchmark, score it, write a verified record.

    accelerate launch -m leaderboard.evaluate --method cradle2cane --benchmark offline
    python -m leaderboard.evaluate --method classical --benchmark offline [--out DIR]
    python -m leaderboard.evaluate --method folder:DIR --benchmark offline    # a researcher's outputs

Benchmark `offline`: the public-domain portraits that ship in packages (scikit-image's
astronaut, matplotlib's Grace Hopper), each aged to every target age, so the whole
loop runs on any machine. A submitted folder holds one image per (input, target)
named `{input}_{target}.png` (e.g. `astronaut_40.png`).

Scoring (offline evaluators): the packaged age model on each output's largest face
(age MAE, overall and per target-age bucket) and SFace identity similarity x 100
against the input face; HCS from the two. An output with no face gets missing age
and identity, counted in the record; nothing is imputed and nothing is dropped.
Inputs are split across processes with accelerate.
"""

from __future__ import annotations

import datetime as dt
import logging
import platform
import sys
import time
from pathlib import Path

import numpy as np

from engine.age.estimators import age_estimator
from engine.core.errors import InputError
from engine.core.images import load_image
from engine.core.registry import get_cache
from engine.core.settings import get_settings
from engine.tasks.lifespan import LifespanRequest, age_photo
from evaluation.benchmarks import (
    BENCHMARKS,
    BenchmarkInput,
)
from evaluation.records import ResultsRecord
from evaluation.scoring import (
    IDENTITY_MODELS,
    breakdown,
    fid_against,
    judge_outputs,
    score_input,
    summarise,
)
from evaluation.tasks import mean_present

logger = logging.getLogger(__name__)


def method_outputs(
    method: str, item: BenchmarkInput, targets: tuple[float, ...], seed: int, settings
) -> tuple[list[np.ndarray | None], float, str]:
    """(one image per target or None where a submitted file is missing, seconds per image, method type)."""
    if method.startswith("folder:"):
        folder = Path(method.partition(":")[2])
        images: list[np.ndarray | None] = []
        for target in targets:
            path = folder / f"{item.name}_{target:g}.png"
            try:
                images.append(load_image(path, max_pixels=settings.max_pixels, min_side=settings.min_side).rgb)
            except InputError as error:
                logger.warning("missing or unreadable output %s: %s", path, error)
                images.append(None)
        return images, float("nan"), "submitted"

    renderer = {"classical": "classical", "cradle2cane": "diffusion"}.get(method)
    if renderer is None:
        raise InputError(f"method must be classical, cradle2cane or folder:DIR, got {method!r}")
    start = time.perf_counter()
    output = age_photo(LifespanRequest(item.rgb, list(targets), seed=seed, renderer=renderer), settings)
    seconds = (time.perf_counter() - start) / len(targets)
    assert output.photos is not None  # the request pastes back (paste=True)
    return list(output.photos), seconds, "classical" if renderer == "classical" else "diffusion"


def hardware() -> str:
    try:
        import torch  # noqa: PLC0415 - torch loads on first use, not at start-up

        if torch.cuda.is_available():
            return f"{torch.cuda.device_count()} x {torch.cuda.get_device_name()}"
    except ImportError:
        pass
    return f"CPU {platform.processor() or platform.machine()}"


def evaluate(
    method: str,
    benchmark_name: str,
    seed: int = 0,
    settings=None,
    method_type: str | None = None,
    judge=None,
    evaluators: str = "offline",
    fid_reference: Path | None = None,
) -> ResultsRecord:
    from accelerate import PartialState  # noqa: PLC0415 - accelerate loads only when a harness or trainer runs
    from accelerate.utils import gather_object  # noqa: PLC0415 - accelerate loads only when a harness or trainer runs

    settings = settings or get_settings()
    if evaluators not in IDENTITY_MODELS:
        raise InputError(f"evaluators must be one of {sorted(IDENTITY_MODELS)}, got {evaluators!r}")
    if benchmark_name not in BENCHMARKS:
        raise InputError(f"benchmark must be one of {sorted(BENCHMARKS)}, got {benchmark_name!r}")
    benchmark = BENCHMARKS[benchmark_name]()
    state = PartialState()
    rows, seconds, kind, judged = [], [], "classical", []
    with state.split_between_processes(list(range(len(benchmark.inputs)))) as mine:
        for index in mine:
            item = benchmark.inputs[index]
            images, per_image, kind = method_outputs(method, item, benchmark.targets, seed, settings)
            scored = score_input(item, images, benchmark.targets, settings, evaluators)
            rows += scored
            seconds.append(per_image)
            judged += [(row, image, item.rgb) for row, image in zip(scored, images) if image is not None]
    rows = gather_object(rows)
    seconds = [s for s in gather_object(seconds) if s == s]  # NaN: not timed (submitted outputs)
    metrics, counts = summarise(rows)
    metrics["seconds_per_image"] = mean_present(seconds)
    if fid_reference is not None:
        metrics["fid"], counts["fid"] = fid_against(fid_reference, [image for _, image, _ in gather_object(judged)])
    judge_report = None
    if judge is not None:  # beside the model-based scores, never instead of them
        judge_metrics, judge_report = judge_outputs(judge, judged)
        metrics.update(judge_metrics)
        counts["image_quality"] = (
            "from the VLM judge" if judge_metrics["image_quality"] is not None else "missing: no judge reply parsed"
        )
    estimator = age_estimator(settings)
    record = ResultsRecord.from_json(
        {
            "task": "lifespan",
            "method": method if not method.startswith("folder:") else Path(method.partition(":")[2]).name,
            "method_type": method_type or kind,
            "provenance": "verified",
            "protocol": {
                "benchmark": benchmark.name,
                "input_set": benchmark.input_set,
                "target_ages": list(benchmark.targets),
                "n_images": len(rows),
            },
            "evaluators": {
                "age_estimator": f"{estimator.estimator_id}@{estimator.version}",
                "identity_model": get_cache(settings).get(IDENTITY_MODELS[evaluators]).name,
                "judge_model": judge.model if judge is not None else None,
            },
            "metrics": metrics,
            "run_config": {
                "method": method,
                "benchmark": benchmark_name,
                "seed": seed,
                "profile": settings.profile,
                "processes": state.num_processes,
                "python": sys.version.split()[0],
            },
            "hardware": hardware(),
            "date": dt.date.today().isoformat(),
            "notes": {**counts, **breakdown(rows), "rows": rows, **({"judge": judge_report} if judge_report else {})},
        }
    )
    return record
