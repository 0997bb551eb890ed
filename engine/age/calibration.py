"""Conformal calibration of the age estimator on a labelled folder (UTKFace naming).

    python -m engine calibrate --data DIR [--out calibration/age_conformal.json]

Files named `{age}_{gender}_{race}_*.jpg` (UTKFace) are split deterministically
by a hash of the file name into calibration and test halves; both methods are
fitted on the first and judged on the second, and the artefact records which
one the hub uses (the smaller mean width at valid coverage).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from engine.age import conformal
from engine.age.conformal import Calibration
from engine.age.estimators import age_estimator
from engine.core.images import InputError, load_image
from engine.core.registry import get_cache
from engine.core.settings import Settings

logger = logging.getLogger(__name__)

ARTEFACT_VERSION = 1

NAME_PATTERN = re.compile(r"^(\d{1,3})_([01])_(\d+)_.+\.(jpe?g|png)$", re.IGNORECASE)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}

REPORT_CONFIDENCES = (0.8, 0.9, 0.95)

SELECTION_CONFIDENCE = 0.9


@dataclass
class LabelledSet:
    y: list[float] = field(default_factory=list)
    predicted: list[float] = field(default_factory=list)
    distributions: list[np.ndarray] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def split_of(name: str, test_fraction: float) -> str:
    """'test' or 'calibration', fixed by a hash of the file name (stable across machines and runs)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return "test" if int.from_bytes(digest[:8], "big") / 2**64 < test_fraction else "calibration"


def parse_name(name: str) -> float | None:
    match = NAME_PATTERN.match(name)
    return float(match.group(1)) if match else None


def calibrate(data: Path, out: Path, settings: Settings, test_fraction: float = 0.5, min_bin_size: int = 30) -> dict:
    """Run the estimator over `data`, fit both methods, write the artefact and plot; return the report."""
    if not data.is_dir():
        raise InputError(f"--data {data} is not a folder of images named {{age}}_{{gender}}_{{race}}_*.jpg")
    if not 0.0 < test_fraction < 1.0:
        raise InputError(f"test fraction must be in (0, 1), got {test_fraction}")
    estimator = age_estimator(settings)
    detector = get_cache(settings).get("face_detector")
    sets = {"calibration": LabelledSet(), "test": LabelledSet()}
    skipped: dict[str, list[str]] = {"name not {age}_{gender}_{race}_*": [], "unreadable": [], "no face": []}
    several_faces = 0
    fingerprint = hashlib.sha256()
    ages: np.ndarray | None = None  # the estimator's class ages, from the first estimate
    files = sorted(p for p in data.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    for path in files:
        age = parse_name(path.name)
        if age is None:
            skipped["name not {age}_{gender}_{race}_*"].append(path.name)
            continue
        content = path.read_bytes()
        fingerprint.update(path.name.encode() + b"\0" + hashlib.sha256(content).digest())
        try:
            image = load_image(content, max_pixels=settings.max_pixels, min_side=settings.min_side)
        except InputError as error:
            skipped["unreadable"].append(f"{path.name}: {error}")
            continue
        faces = detector.detect(image.rgb)
        if not faces:
            skipped["no face"].append(path.name)
            continue
        several_faces += len(faces) > 1
        estimate = estimator.estimate(image.rgb, faces[:1])[0]  # the largest face is the labelled one
        ages = estimate.ages
        target = sets[split_of(path.name, test_fraction)]
        target.y.append(age)
        target.predicted.append(estimate.age)
        target.distributions.append(estimate.distribution)
        target.files.append(path.name)
    for name, labelled in sets.items():
        if len(labelled.y) < 2:
            raise InputError(
                f"only {len(labelled.y)} usable faces in the {name} split of {data} "
                f"({sum(map(len, skipped.values()))} files skipped): calibration needs more labelled images"
            )

    cal, test = sets["calibration"], sets["test"]
    assert ages is not None  # both splits hold faces, so the estimator ran
    calibration = conformal.fit(
        np.array(cal.y), np.array(cal.predicted), ages, np.stack(cal.distributions), min_bin_size=min_bin_size
    )
    evaluations = {
        confidence: {
            method: conformal.evaluate(
                calibration,
                np.array(test.y),
                np.array(test.predicted),
                ages,
                np.stack(test.distributions),
                confidence,
                method,
            )
            for method in conformal.METHODS
        }
        for confidence in REPORT_CONFIDENCES
    }
    method, reason = conformal.choose_method(evaluations[SELECTION_CONFIDENCE])
    calibration.method = method
    test_mae = float(np.mean(np.abs(np.array(test.y) - np.array(test.predicted))))
    calibration.meta = {
        "artefact_version": ARTEFACT_VERSION,
        "kind": "age-conformal-calibration",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "estimator": {"id": estimator.estimator_id, "version": estimator.version},
        "data": {
            "folder": str(data),
            "fingerprint": "sha256:" + fingerprint.hexdigest(),
            "n_calibration": len(cal.y),
            "n_test": len(test.y),
            "test_fraction": test_fraction,
            "split": "sha256(file name) < test_fraction -> test",
            "skipped": {reason_: len(names) for reason_, names in skipped.items()},
            "several_faces_used_largest": several_faces,
        },
        "selection": {"confidence": SELECTION_CONFIDENCE, "reason": reason},
        "evaluation": {
            f"{confidence:.2f}": {method_: asdict(e) for method_, e in by_method.items()}
            for confidence, by_method in evaluations.items()
        },
        "test_mae": test_mae,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(calibration.to_json(), indent=1))
    plot_path = out.with_suffix(".png")
    plot_evaluation(evaluations[SELECTION_CONFIDENCE], plot_path)
    return {
        "artefact": str(out),
        "plot": str(plot_path),
        "method": method,
        "reason": reason,
        "skipped": skipped,
        "evaluations": evaluations,
        "test_mae": test_mae,
    }


def format_report(report: dict) -> str:
    lines = []
    for confidence, by_method in report["evaluations"].items():
        for method, evaluation in by_method.items():
            lines.append(
                f"{method} @ {confidence:.0%}: coverage {evaluation.coverage:.3f}, mean width "
                f"{evaluation.mean_width:.2f} y, n={evaluation.n}"
            )
            for row in evaluation.per_bin:
                coverage = "-" if row["coverage"] is None else f"{row['coverage']:.3f}"
                width = "-" if row["mean_width"] is None else f"{row['mean_width']:.2f}"
                lines.append(f"    bin {row['bin']:>6}: n={row['n']:<5} coverage {coverage:>6}  width {width}")
    for reason, names in report["skipped"].items():
        if names:
            lines.append(f"skipped ({reason}): {len(names)}, e.g. {names[0]}")
    lines.append(f"test MAE {report['test_mae']:.2f} y")
    lines.append(f"hub uses {report['method']}: {report['reason']}")
    lines.append(f"wrote {report['artefact']} and {report['plot']}")
    return "\n".join(lines)


def plot_evaluation(by_method: dict[str, conformal.Evaluation], path: Path) -> None:
    import matplotlib  # noqa: PLC0415 - matplotlib loads only when a plot is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 - matplotlib loads only when a plot is drawn

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    labels = [conformal.bin_label(i) for i in range(conformal.N_BINS)]
    x = np.arange(len(labels))
    for offset, (method, evaluation) in zip((-0.2, 0.2), by_method.items()):
        coverage = [np.nan if r["coverage"] is None else r["coverage"] for r in evaluation.per_bin]
        width = [np.nan if r["mean_width"] is None else r["mean_width"] for r in evaluation.per_bin]
        left.bar(x + offset, coverage, width=0.4, label=method)
        right.bar(x + offset, width, width=0.4, label=method)
    nominal = next(iter(by_method.values())).confidence
    left.axhline(nominal, color="black", linestyle="--", label=f"nominal {nominal:.0%}")
    left.set(title="Held-out coverage by predicted-age bin", ylim=(0, 1.05), xticks=x, xticklabels=labels)
    right.set(title="Mean interval width (years)", xticks=x, xticklabels=labels)
    left.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


_calibrations: dict[tuple[str, float], Calibration] = {}

_calibration_lock = threading.Lock()


def load_calibration(path: Path, estimator_id: str) -> tuple[Calibration | None, str]:
    """(calibration or None, a sentence saying which); cached until the file changes.

    The sentence reaches pages and API responses, so it names the artefact by its file name only; the log
    has the full path.
    """
    if not path.is_file():
        logger.info("no calibration artefact at %s", path)
        return None, f"no calibration artefact {path.name} (run `python -m engine calibrate --data DIR`, or set HUB_CALIBRATION)"
    key = (str(path), path.stat().st_mtime)
    with _calibration_lock:
        if key not in _calibrations:
            try:
                _calibrations[key] = Calibration.from_json(json.loads(path.read_text()))
            except (ValueError, KeyError, TypeError) as error:
                logger.warning("calibration artefact %s unreadable: %s", path, error)
                return None, f"calibration artefact {path.name} is unreadable ({error}): recalibrate"
    calibration = _calibrations[key]
    made_for = calibration.meta.get("estimator", {}).get("id")
    if made_for != estimator_id:
        return None, f"{path.name} was made for estimator {made_for!r}, not {estimator_id!r}: recalibrate"
    n = calibration.meta.get("data", {}).get("n_calibration", "?")
    return calibration, f"{calibration.method} on {n} faces ({path.name})"
