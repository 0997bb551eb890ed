"""Scores of a method's outputs: estimated age and identity per output, their summary, the VLM judge's, FID.

Offline evaluators: the packaged age model on each output's largest face (age MAE,
overall and per target-age bucket) and SFace identity similarity x 100 against the
input face. An output with no face gets missing age and identity, counted; nothing is
imputed and nothing is dropped.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engine.age.estimators import age_estimator
from engine.core.images import InputError, load_image
from engine.core.registry import get_cache
from evaluation.benchmarks import (
    BenchmarkInput,
)
from evaluation.tasks import AGE_BUCKETS, age_mae, mean_present

# Evaluator sets: the identity model each uses (the age model is the hub's: the Hub estimator named by
# HUB_AGE_ESTIMATOR in the full profile, else the packaged one; the record names it).
IDENTITY_MODELS = {"offline": "identity_offline", "full": "identity_arcface"}

# The evaluator families each method of this hub trains against (a method scored by one of them is
# scored by its own loss). Cradle2Cane: MiVOLO age loss and ArcFace (iresnet100) identity loss (paper
# sec. 3.4; its reference training code). The classical renderer trains nothing. Matched by name.
TRAINED_AGAINST = {"cradle2cane": ("mivolo", "arcface")}


def held_out(evaluators: dict[str, str | None]) -> dict[str, dict]:
    """Per evaluator: its name and the methods that train against it; an empty list means held out."""
    return {
        role: {
            "model": name,
            "trained_against_by": sorted(
                m for m, families in TRAINED_AGAINST.items() if any(f in (name or "").lower() for f in families)
            ),
        }
        for role, name in evaluators.items()
        if name
    }


def score_input(
    item: BenchmarkInput, images: list[np.ndarray | None], targets, settings, evaluators: str = "offline"
) -> list[dict]:
    """One row per (input, target): estimated age and identity x 100, None where no face was found."""

    cache = get_cache(settings)
    detector, identity = cache.get("face_detector"), cache.get(IDENTITY_MODELS[evaluators])
    estimator = age_estimator(settings)
    source_faces = detector.detect(item.rgb)
    # no face in the source: identity cannot be measured and stays missing
    source_embedding = identity.embed(item.rgb, source_faces[0]) if source_faces else None
    rows = []
    for target, image in zip(targets, images):
        row = {"input": item.name, "target": float(target), "age": None, "identity": None}
        faces = detector.detect(image) if image is not None else []
        if image is not None and faces:
            row["age"] = float(estimator.estimate(image, faces[:1])[0].age)
            if source_embedding is not None:
                row["identity"] = 100.0 * identity.similarity(source_embedding, identity.embed(image, faces[0]))
        rows.append(row)
    return rows


def summarise(rows: list[dict]) -> tuple[dict, dict]:
    """(metrics, counts): means over available values only; missing values are counted, not filled."""

    metrics = {
        "age_mae": age_mae([r["age"] for r in rows], [r["target"] for r in rows]),
        "identity": mean_present(r["identity"] for r in rows),
        "image_quality": None,
        "fid": None,
    }
    for low, high in AGE_BUCKETS:
        bucket = [r for r in rows if low <= r["target"] <= high]
        metrics[f"age_mae_{low}_{high}"] = age_mae([r["age"] for r in bucket], [r["target"] for r in bucket])
    counts = {
        "n_outputs": len(rows),
        "n_missing_age": sum(r["age"] is None for r in rows),
        "n_missing_identity": sum(r["identity"] is None for r in rows),
        "image_quality": "missing: no offline quality model (use the VLM judge)",
        "fid": "missing: Inception weights are not available offline",
    }
    return metrics, counts


def breakdown(rows: list[dict]) -> dict:
    """The scores per input image and per target age (means over available values; missing stays None):
    {"per_input": {name: {...}}, "per_target": {"10": {...}}} with age MAE, mean estimated age and identity,
    and per input the estimate at each target."""

    def summary(group: list[dict]) -> dict:
        return {
            "age_mae": age_mae([r["age"] for r in group], [r["target"] for r in group]),
            "mean_age": mean_present(r["age"] for r in group),
            "identity": mean_present(r["identity"] for r in group),
            "n": len(group),
            "n_missing_age": sum(r["age"] is None for r in group),
        }

    inputs = list(dict.fromkeys(r["input"] for r in rows))
    targets = sorted({r["target"] for r in rows})
    per_input = {}
    for name in inputs:
        group = [r for r in rows if r["input"] == name]
        per_input[name] = {**summary(group), "age_by_target": {f"{r['target']:g}": r["age"] for r in group}}
    per_target = {f"{t:g}": summary([r for r in rows if r["target"] == t]) for t in targets}
    return {"per_input": per_input, "per_target": per_target}


def judge_outputs(judge, pairs: list[tuple[dict, np.ndarray, np.ndarray]]) -> tuple[dict, dict]:
    """(metrics, report) from the VLM judge beside the model-based scores: age MAE, quality, identity.

    pairs: (row, output image, source image). Missing replies stay missing and are counted."""
    questions = []
    for _, image, source in pairs:
        questions += [("age", image), ("quality", image), ("identity", image, source)]

    answers = judge.ask_many(questions)
    ages, qualities, identities = answers[0::3], answers[1::3], answers[2::3]
    report = {
        "model": judge.model,
        "age_mae": age_mae(ages, [row["target"] for row, _, _ in pairs]),
        "quality": mean_present(qualities),
        "identity": mean_present(identities),
        "missing": {
            "age": ages.count(None),
            "quality": qualities.count(None),
            "identity": identities.count(None),
            **judge.stats.missing,
        },
        "retries": judge.stats.retries,
        "questions": len(questions),
    }
    return {"image_quality": report["quality"]}, report


def fid_against(reference: Path, images: list[np.ndarray]) -> tuple[float | None, str]:
    """(FID of the outputs against a folder of real faces, how it was computed) or (None, why it is missing)."""
    try:
        import torch  # noqa: PLC0415 - torch loads on first use, not at start-up
        from torchmetrics.image.fid import FrechetInceptionDistance  # noqa: PLC0415 - optional: FID needs torchmetrics
    except ImportError:
        return None, "missing: FID needs `pip install torchmetrics[image]` (Inception weights download on first use)"

    real = []
    for path in sorted(Path(reference).glob("*")):
        try:
            real.append(load_image(path, max_pixels=40_000_000, min_side=16).rgb)
        except InputError:
            continue
    if len(real) < 2 or len(images) < 2:
        return None, f"missing: FID needs at least 2 real and 2 generated faces (have {len(real)} and {len(images)})"

    def batch(faces):

        return torch.from_numpy(np.stack([cv2.resize(f, (299, 299)) for f in faces])).permute(0, 3, 1, 2)

    try:
        metric = FrechetInceptionDistance(feature=2048)
        metric.update(batch(real), real=True)
        metric.update(batch(images), real=False)
        return float(
            metric.compute()
        ), f"Inception-v3 pool features, {len(images)} outputs vs {len(real)} real faces in {reference}"
    except Exception as error:  # e.g. the Inception weights cannot be downloaded
        return None, f"missing: FID could not be computed ({type(error).__name__}: {error})"
