"""The evaluation harness: run (or read) a method on a benchmark, score it, write a verified record.

    accelerate launch -m train.evaluate --method cradle2cane --benchmark offline
    python -m train.evaluate --method classical --benchmark offline [--out DIR]
    python -m train.evaluate --method folder:DIR --benchmark offline    # a researcher's outputs

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

import argparse
import datetime as dt
import json
import logging
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from leaderboard.records import ResultsRecord

logger = logging.getLogger(__name__)

OFFLINE_TARGETS = (10.0, 30.0, 50.0, 70.0)


@dataclass
class BenchmarkInput:
    name: str
    rgb: np.ndarray


@dataclass
class Benchmark:
    name: str
    input_set: str
    inputs: list[BenchmarkInput]
    targets: tuple[float, ...]


def offline_benchmark() -> Benchmark:
    import matplotlib
    from PIL import Image
    from skimage import data

    hopper = np.array(Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB"))
    return Benchmark(
        name="offline-portraits",
        input_set="public-domain portraits shipped in scikit-image (astronaut) and matplotlib (grace_hopper)",
        inputs=[BenchmarkInput("astronaut", data.astronaut()), BenchmarkInput("grace_hopper", hopper)],
        targets=OFFLINE_TARGETS,
    )


BENCHMARKS = {"offline": offline_benchmark}


def method_outputs(method: str, item: BenchmarkInput, targets: tuple[float, ...], seed: int, settings) -> tuple[list[np.ndarray | None], float, str]:
    """(one image per target or None where a submitted file is missing, seconds per image, method type)."""
    if method.startswith("folder:"):
        from engine.images import InputError, load_image

        folder = Path(method.partition(":")[2])
        images = []
        for target in targets:
            path = folder / f"{item.name}_{target:g}.png"
            try:
                images.append(load_image(path, max_pixels=settings.max_pixels, min_side=settings.min_side).rgb)
            except InputError as error:
                logger.warning("missing or unreadable output %s: %s", path, error)
                images.append(None)
        return images, float("nan"), "submitted"
    from engine.lifespan import age_photo

    renderer = {"classical": "classical", "cradle2cane": "diffusion"}.get(method)
    if renderer is None:
        raise ValueError(f"method must be classical, cradle2cane or folder:DIR, got {method!r}")
    start = time.perf_counter()
    output = age_photo(item.rgb, list(targets), seed=seed, renderer=renderer, settings=settings)
    seconds = (time.perf_counter() - start) / len(targets)
    return output.photos, seconds, "classical" if renderer == "classical" else "diffusion"


# Evaluator sets: the identity model each uses (the age model is the hub's: the Hub estimator named by
# HUB_AGE_ESTIMATOR in the full profile, else the packaged one; the record names it).
IDENTITY_MODELS = {"offline": "identity_offline", "full": "identity_arcface"}


def score_input(item: BenchmarkInput, images: list[np.ndarray | None], targets, settings, evaluators: str = "offline") -> list[dict]:
    """One row per (input, target): estimated age and identity x 100, None where no face was found."""
    from engine.estimation import age_estimator
    from engine.registry import get_cache

    cache = get_cache(settings)
    detector, identity = cache.get("face_detector"), cache.get(IDENTITY_MODELS[evaluators])
    estimator = age_estimator(settings)
    source_face = detector.detect(item.rgb)[0]
    source_embedding = identity.embed(item.rgb, source_face)
    rows = []
    for target, image in zip(targets, images):
        row = {"input": item.name, "target": float(target), "age": None, "identity": None}
        faces = detector.detect(image) if image is not None else []
        if faces:
            row["age"] = float(estimator.estimate(image, faces[:1])[0].age)
            row["identity"] = 100.0 * identity.similarity(source_embedding, identity.embed(image, faces[0]))
        rows.append(row)
    return rows


def summarise(rows: list[dict]) -> tuple[dict, dict]:
    """(metrics, counts): means over available values only; missing values are counted, not filled."""
    from leaderboard.tasks import AGE_BUCKETS

    errors = [abs(r["age"] - r["target"]) for r in rows if r["age"] is not None]
    identities = [r["identity"] for r in rows if r["identity"] is not None]
    metrics = {"age_mae": float(np.mean(errors)) if errors else None,
               "identity": float(np.mean(identities)) if identities else None,
               "image_quality": None, "fid": None}
    for low, high in AGE_BUCKETS:
        bucket = [abs(r["age"] - r["target"]) for r in rows if r["age"] is not None and low <= r["target"] <= high]
        metrics[f"age_mae_{low}_{high}"] = float(np.mean(bucket)) if bucket else None
    counts = {"n_outputs": len(rows), "n_missing_age": sum(r["age"] is None for r in rows),
              "n_missing_identity": sum(r["identity"] is None for r in rows),
              "image_quality": "missing: no offline quality model (use the VLM judge)",
              "fid": "missing: Inception weights are not available offline"}
    return metrics, counts


def hardware() -> str:
    try:
        import torch

        if torch.cuda.is_available():
            return f"{torch.cuda.device_count()} x {torch.cuda.get_device_name()}"
    except ImportError:
        pass
    return f"CPU {platform.processor() or platform.machine()}"


def judge_outputs(judge, pairs: list[tuple[dict, np.ndarray, np.ndarray]]) -> tuple[dict, dict]:
    """(metrics, report) from the VLM judge beside the model-based scores: age MAE, quality, identity.

    pairs: (row, output image, source image). Missing replies stay missing and are counted."""
    questions = []
    for _, image, source in pairs:
        questions += [("age", image), ("quality", image), ("identity", image, source)]
    answers = judge.ask_many(questions)
    ages, qualities, identities = answers[0::3], answers[1::3], answers[2::3]
    errors = [abs(a - row["target"]) for a, (row, _, _) in zip(ages, pairs) if a is not None]
    present = lambda values: [v for v in values if v is not None]  # noqa: E731
    report = {
        "model": judge.model,
        "age_mae": float(np.mean(errors)) if errors else None,
        "quality": float(np.mean(present(qualities))) if present(qualities) else None,
        "identity": float(np.mean(present(identities))) if present(identities) else None,
        "missing": {"age": ages.count(None), "quality": qualities.count(None), "identity": identities.count(None),
                    **judge.stats.missing},
        "retries": judge.stats.retries,
        "questions": len(questions),
    }
    return {"image_quality": report["quality"]}, report


def fid_against(reference: Path, images: list[np.ndarray]) -> tuple[float | None, str]:
    """(FID of the outputs against a folder of real faces, how it was computed) or (None, why it is missing)."""
    try:
        import torch
        from torchmetrics.image.fid import FrechetInceptionDistance
    except ImportError:
        return None, "missing: FID needs `pip install torchmetrics[image]` (Inception weights download on first use)"
    from engine.images import InputError, load_image

    real = []
    for path in sorted(Path(reference).glob("*")):
        try:
            real.append(load_image(path, max_pixels=40_000_000, min_side=16).rgb)
        except InputError:
            continue
    if len(real) < 2 or len(images) < 2:
        return None, f"missing: FID needs at least 2 real and 2 generated faces (have {len(real)} and {len(images)})"

    def batch(faces):
        import cv2

        return torch.from_numpy(np.stack([cv2.resize(f, (299, 299)) for f in faces])).permute(0, 3, 1, 2)

    try:
        metric = FrechetInceptionDistance(feature=2048)
        metric.update(batch(real), real=True)
        metric.update(batch(images), real=False)
        return float(metric.compute()), f"Inception-v3 pool features, {len(images)} outputs vs {len(real)} real faces in {reference}"
    except Exception as error:  # e.g. the Inception weights cannot be downloaded
        return None, f"missing: FID could not be computed ({type(error).__name__}: {error})"


def evaluate(method: str, benchmark_name: str, seed: int = 0, settings=None, method_type: str | None = None,
             judge=None, evaluators: str = "offline", fid_reference: Path | None = None) -> "ResultsRecord":
    from accelerate import PartialState
    from accelerate.utils import gather_object

    from engine.estimation import age_estimator
    from engine.registry import get_cache
    from engine.settings import get_settings
    from leaderboard.records import ResultsRecord

    settings = settings or get_settings()
    if evaluators not in IDENTITY_MODELS:
        raise ValueError(f"evaluators must be one of {sorted(IDENTITY_MODELS)}, got {evaluators!r}")
    if benchmark_name not in BENCHMARKS:
        raise ValueError(f"benchmark must be one of {sorted(BENCHMARKS)}, got {benchmark_name!r}")
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
    metrics["seconds_per_image"] = float(np.mean(seconds)) if seconds else None
    if fid_reference is not None:
        metrics["fid"], counts["fid"] = fid_against(fid_reference, [image for _, image, _ in gather_object(judged)])
    judge_report = None
    if judge is not None:  # beside the model-based scores, never instead of them
        judge_metrics, judge_report = judge_outputs(judge, judged)
        metrics.update(judge_metrics)
        counts["image_quality"] = "from the VLM judge" if judge_metrics["image_quality"] is not None else "missing: no judge reply parsed"
    estimator = age_estimator(settings)
    record = ResultsRecord.from_json({
        "task": "lifespan",
        "method": method if not method.startswith("folder:") else Path(method.partition(":")[2]).name,
        "method_type": method_type or kind,
        "provenance": "verified",
        "protocol": {"benchmark": benchmark.name, "input_set": benchmark.input_set,
                     "target_ages": list(benchmark.targets), "n_images": len(rows)},
        "evaluators": {"age_estimator": f"{estimator.estimator_id}@{estimator.version}",
                       "identity_model": get_cache(settings).get(IDENTITY_MODELS[evaluators]).name,
                       "judge_model": judge.model if judge is not None else None},
        "metrics": metrics,
        "run_config": {"method": method, "benchmark": benchmark_name, "seed": seed, "profile": settings.profile,
                       "processes": state.num_processes, "python": sys.version.split()[0]},
        "hardware": hardware(),
        "date": dt.date.today().isoformat(),
        "notes": {**counts, "rows": rows, **({"judge": judge_report} if judge_report else {})},
    })
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="train.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", required=True, help="classical, cradle2cane, or folder:DIR of outputs")
    parser.add_argument("--benchmark", required=True, choices=sorted(BENCHMARKS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--method-type", default=None, help="GAN, diffusion, classical (needed for folder:DIR)")
    parser.add_argument("--judge", action="store_true", help="also ask the VLM judge (HUB_JUDGE_BASE_URL, HUB_JUDGE_MODEL)")
    parser.add_argument("--evaluators", choices=sorted(IDENTITY_MODELS), default="offline",
                        help="offline: packaged age model + SFace; full: the Hub age estimator + ArcFace (insightface)")
    parser.add_argument("--fid-reference", type=Path, default=None, help="a folder of real faces for FID (needs torchmetrics)")
    parser.add_argument("--out", default=None, help="store folder (default: HUB_STORE_DIR)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from accelerate import PartialState

    from engine.models import ModelUnavailable
    from engine.settings import get_settings
    from leaderboard.store import ResultsStore

    settings = get_settings()
    try:
        if args.method.startswith("folder:") and not args.method_type:
            raise ValueError("a folder of outputs needs --method-type (GAN, diffusion or classical)")
        judge = None
        if args.judge:
            from leaderboard.judge import Judge

            judge = Judge(settings.judge_base_url, settings.judge_model, settings.judge_api_key,
                          cache_path=Path(settings.store_dir) / "judge_cache.json")
        record = evaluate(args.method, args.benchmark, args.seed, settings, args.method_type, judge, args.evaluators,
                          args.fid_reference)
    except (ValueError, ModelUnavailable) as error:
        print(f"evaluate: {error}", file=sys.stderr)
        return 2
    if PartialState().is_main_process:
        store = ResultsStore(Path(args.out)) if args.out else ResultsStore.from_settings(settings)
        path = store.add_result(record)
        summary = {k: (None if v is None else round(v, 3)) for k, v in record.metrics.items()}
        print(json.dumps({"record": str(path), "metrics": summary, "missing_age": record.notes["n_missing_age"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
