"""The zone evaluation (LDLA): each zone edited alone to each target score, then measured.

    from evaluation.zones import evaluate_zones
    record = evaluate_zones("classical")   # or "diffusion"; a ResultsRecord of task "zones"

Per edit, on the aligned face:
- the zone's score error: |ScoreNet's score of the edited zone - target| on a 0-1 scale
  (ScoreNet from HUB_MODEL_DIR_SCORENET; without it the evaluation says how to get one);
- the change outside the edited zone: mean |after - before| in grey levels over the face
  pixels the zone's feathered blend weight does not reach. A local editor should leave
  them as they were; a renderer that repaints the face shows up here.
Benchmark `offline`: the packaged public-domain portraits. Nothing is imputed: a zone that
cannot be placed on a face is counted in the record, not scored.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import replace

import numpy as np

from engine.core.errors import InputError
from engine.core.models import checkpoint_name
from engine.core.registry import get_cache
from engine.core.settings import Settings, get_settings
from engine.faces.zones import ZONES, feathered, inter_ocular
from engine.methods.ldla.pipeline import FEATHER, edit_zones, locate, measure_scores
from evaluation.benchmarks import BENCHMARKS
from evaluation.harness import code_version, hardware, input_digests
from evaluation.records import ResultsRecord
from evaluation.tasks import mean_present

# Target scores each zone is edited to: a light and a strong aging score (percent).
ZONE_TARGETS = (20.0, 80.0)


def outside_change(before: np.ndarray, after: np.ndarray, weight: np.ndarray) -> float | None:
    """Mean |after - before| (grey levels, all channels) where the blend `weight` is 0; None if nowhere."""
    outside = weight <= 0
    if not outside.any():
        return None
    difference = np.abs(after.astype(np.float64) - before.astype(np.float64))
    return float(difference[outside].mean())


def evaluate_zones(
    renderer: str = "classical",
    benchmark_name: str = "offline",
    seed: int = 0,
    settings: Settings | None = None,
    targets: tuple[float, ...] = ZONE_TARGETS,
) -> ResultsRecord:
    settings = settings or get_settings()
    if benchmark_name not in BENCHMARKS:
        raise InputError(f"benchmark must be one of {sorted(BENCHMARKS)}, got {benchmark_name!r}")
    benchmark = BENCHMARKS[benchmark_name]()
    scorenet = get_cache(settings).get("scorenet")  # ModelUnavailable says how to train one
    rows, unplaceable = [], 0
    code = code_version()  # the code as the run starts
    for item in benchmark.inputs:
        located = locate(item.rgb, settings)
        d = inter_ocular(located.points)
        for zone in ZONES:
            if zone in located.unplaceable:
                unplaceable += len(targets)
                continue
            weight = feathered(located.masks[zone], FEATHER * d)
            for target in targets:
                edit = edit_zones(item.rgb, {zone: target}, renderer, seed, located=located, settings=settings)
                measured = measure_scores(replace(located, crop=edit.after), scorenet)[zone]
                rows.append(
                    {
                        "input": item.name,
                        "zone": zone,
                        "target": target,
                        "measured": round(measured, 2),
                        "score_error": abs(measured - target) / 100.0,
                        "outside_change": outside_change(edit.before, edit.after, weight),
                    }
                )
    per_zone = {
        zone: mean_present([row["score_error"] for row in rows if row["zone"] == zone])
        for zone in ZONES
        if any(row["zone"] == zone for row in rows)
    }
    metrics = {
        "zone_score_mae": mean_present([row["score_error"] for row in rows]),
        "outside_change": mean_present([row["outside_change"] for row in rows]),
    }
    return ResultsRecord.from_json(
        {
            "task": "zones",
            "method": f"ldla-{renderer}",
            "method_type": "classical" if renderer == "classical" else "diffusion",
            "provenance": "verified",
            "protocol": {
                "benchmark": benchmark.name,
                "input_set": benchmark.input_set,
                "target_scores": list(targets),
                "n_images": len(rows),
            },
            # named as outputs name it: a repo with its revision, a local folder by its name (the record is published)
            "evaluators": {"zone_scorer": f"ScoreNet ({checkpoint_name('scorenet', settings, 'unnamed')})"},
            "metrics": metrics,
            "run_config": {
                "renderer": renderer,
                "benchmark": benchmark_name,
                "seed": seed,
                "profile": settings.profile,
                "python": sys.version.split()[0],
                "code": code,
                "inputs_sha256": input_digests(benchmark.inputs),
            },
            "hardware": hardware(),
            "date": dt.date.today().isoformat(),
            "notes": {"per_zone_score_mae": per_zone, "unplaceable_edits": unplaceable, "rows": rows},
        }
    )
