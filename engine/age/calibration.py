"""Conformal calibration of the age estimator on real labelled faces, in one command.

    python -m engine calibrate --data DIR|LABELS.csv|ORG/DATASET [--out FILE] [--push ORG/NAME]

The labelled faces (see engine/age/labelled.py for the three sources) are split
deterministically by a hash of each item's name into three parts: calibration
(both methods are fitted on it), selection (the method the hub uses is chosen on
it: the smaller mean width at valid 90 % coverage) and report (the chosen
method's coverage is measured on it, overall, per true-age bin, per predicted-age
bin and per gender). No part is used twice, so the coverage reported is that of
the artefact shipped, on faces it has never seen.

The artefact records the data's name, size and licence, the estimator, the date,
the split and every skipped file's count; never a path on this machine.

The gender decision threshold is chosen on the calibration part too (engine/age/gender.py:
the report's threshold tuning on its calibration set) and checked on the report part; the
artefact keeps it with its criterion and counts, and engine/tasks/estimate.py uses it. An
artefact without one (made earlier, or from data with one gender) still loads: 0.5 is used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from huggingface_hub import CommitOperationAdd, HfApi, ModelCard, ModelCardData, hf_hub_download

from engine.age import conformal
from engine.age import gender as gender_maths
from engine.age.conformal import Calibration
from engine.age.estimators import age_estimator
from engine.age.labelled import LabelledData
from engine.core.images import InputError, load_image
from engine.core.registry import get_cache
from engine.core.settings import Settings

logger = logging.getLogger(__name__)

ARTEFACT_VERSION = 2  # 2: cqr-level, three-way split, data provenance

ARTEFACT_NAME = "age_conformal.json"

REPORT_CONFIDENCES = (0.8, 0.9, 0.95)

SELECTION_CONFIDENCE = 0.9

SPLITS = ("calibration", "selection", "report")

# Where this calibration departs from the conformal age-estimation report (README, "Age intervals").
DEPARTURES = [
    "Mondrian bins by predicted age, not true age (unknown when predicting); coverage per true-age bin is reported",
    "three-way split calibration / selection / report, not the report's 80/20 with a calibration part of train",
]


@dataclass
class LabelledSet:
    y: list[float] = field(default_factory=list)
    predicted: list[float] = field(default_factory=list)
    distributions: list[np.ndarray] = field(default_factory=list)
    genders: list[str | None] = field(default_factory=list)
    p_female: list[float] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    def gender_labelled(self) -> tuple[np.ndarray, np.ndarray]:
        """(p_female, is_female) of the faces whose gender is labelled."""
        known = [i for i, g in enumerate(self.genders) if g in ("female", "male")]
        return np.array([self.p_female[i] for i in known]), np.array([self.genders[i] == "female" for i in known], dtype=bool)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.array(self.y), np.array(self.predicted), np.stack(self.distributions)


def split_of(name: str, report_fraction: float, selection_fraction: float) -> str:
    """'report', 'selection' or 'calibration', fixed by a hash of the name (stable across machines and runs)."""
    u = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big") / 2**64
    if u < report_fraction:
        return "report"
    return "selection" if u < report_fraction + selection_fraction else "calibration"


def calibrate(
    data: LabelledData,
    out: Path,
    settings: Settings,
    report_fraction: float = 0.25,
    selection_fraction: float = 0.25,
    min_bin_size: int = 30,
    gender_criterion: str = gender_maths.BALANCED_ACCURACY,
) -> dict:
    """Run the estimator over `data`, fit both methods, choose one, report it, write the artefact and plot."""
    if not (0.0 < report_fraction < 1.0 and 0.0 < selection_fraction < 1.0 and report_fraction + selection_fraction < 1.0):
        raise InputError(
            f"report and selection fractions must be in (0, 1) and leave room for calibration, "
            f"got {report_fraction} and {selection_fraction}"
        )
    if gender_criterion not in gender_maths.CRITERIA:
        raise InputError(f"gender criterion must be one of {', '.join(gender_maths.CRITERIA)}, got {gender_criterion!r}")
    estimator = age_estimator(settings)
    detector = get_cache(settings).get("face_detector")
    sets = {name: LabelledSet() for name in SPLITS}
    skipped: dict[str, list[str]] = {**data.skipped, "unreadable": [], "no face": []}
    several_faces = 0
    fingerprint = hashlib.sha256()
    ages: np.ndarray | None = None  # the estimator's class ages, from the first estimate
    for item in data.items:
        content = item.read()
        fingerprint.update(item.key.encode() + b"\0" + f"{item.age}".encode() + hashlib.sha256(content).digest())
        try:
            image = load_image(content, max_pixels=settings.max_pixels, min_side=settings.min_side)
        except InputError as error:
            skipped["unreadable"].append(f"{item.key}: {error}")
            continue
        faces = detector.detect(image.rgb)
        if not faces:
            skipped["no face"].append(item.key)
            continue
        several_faces += len(faces) > 1
        estimate = estimator.estimate(image.rgb, faces[:1])[0]  # the largest face is the labelled one
        ages = estimate.ages
        target = sets[split_of(item.key, report_fraction, selection_fraction)]
        target.y.append(item.age)
        target.predicted.append(estimate.age)
        target.distributions.append(estimate.distribution)
        target.genders.append(item.gender)
        target.p_female.append(estimate.p_female)
        target.keys.append(item.key)
    for name, labelled in sets.items():
        if len(labelled.y) < 2:
            raise InputError(
                f"only {len(labelled.y)} usable faces in the {name} part of {data.name} "
                f"({sum(map(len, skipped.values()))} skipped): calibration needs more labelled images"
            )
    assert ages is not None  # every part holds faces, so the estimator ran

    cal, sel, rep = sets["calibration"], sets["selection"], sets["report"]
    calibration = conformal.fit(*cal.arrays()[:2], ages, cal.arrays()[2], min_bin_size=min_bin_size)

    def evaluate(part: LabelledSet, confidence: float, method: str) -> conformal.Evaluation:
        y, predicted, distributions = part.arrays()
        return conformal.evaluate(calibration, y, predicted, ages, distributions, confidence, method, part.genders)

    selection = {method: evaluate(sel, SELECTION_CONFIDENCE, method) for method in conformal.METHODS}
    method, reason = conformal.choose_method(selection)
    calibration.method = method
    report = {confidence: evaluate(rep, confidence, method) for confidence in REPORT_CONFIDENCES}
    y_rep, predicted_rep, _ = rep.arrays()
    report_mae = float(np.mean(np.abs(y_rep - predicted_rep)))
    usable = len(cal.y) + len(sel.y) + len(rep.y)
    threshold = choose_gender_threshold(cal, rep, gender_criterion)
    calibration.meta = {
        "artefact_version": ARTEFACT_VERSION,
        "kind": "age-conformal-calibration",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "estimator": {"id": estimator.estimator_id, "version": estimator.version},
        "data": {
            "name": data.name,
            "source": data.source,
            "repo": data.repo,
            "revision": data.revision,
            "licence": data.licence,
            "size": usable,
            "n_calibration": len(cal.y),
            "n_selection": len(sel.y),
            "n_report": len(rep.y),
            "fractions": {"report": report_fraction, "selection": selection_fraction},
            "split": "sha256(name) as u in [0, 1): u < report -> report, < report + selection -> selection, else calibration",
            "fingerprint": "sha256:" + fingerprint.hexdigest(),
            "skipped": {reason_: len(names) for reason_, names in skipped.items()},
            "several_faces_used_largest": several_faces,
        },
        "selection": {
            "confidence": SELECTION_CONFIDENCE,
            "reason": reason,
            "evaluation": {method_: asdict(e) for method_, e in selection.items()},
        },
        "report": {f"{confidence:.2f}": asdict(e) for confidence, e in report.items()},
        "report_mae": report_mae,
        "gender_threshold": threshold,
        "departures_from_paper": DEPARTURES,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(calibration.to_json(), indent=1))
    plot_path = out.with_suffix(".png")
    plot_evaluation(report[SELECTION_CONFIDENCE], plot_path)
    return {
        "artefact": out,
        "plot": plot_path,
        "method": method,
        "reason": reason,
        "skipped": skipped,
        "selection": selection,
        "report": report,
        "report_mae": report_mae,
        "gender_threshold": threshold,
        "data": calibration.meta["data"],
    }


def choose_gender_threshold(calibration_part: LabelledSet, report_part: LabelledSet, criterion: str) -> dict:
    """The gender threshold chosen on the calibration part and checked on the report part, as the artefact keeps it.

    `threshold` is None (0.5 is then used) when the calibration part lacks labelled faces of either gender.
    """
    p, is_female = calibration_part.gender_labelled()
    try:
        chosen = gender_maths.choose_threshold(p, is_female, criterion)
    except ValueError as error:
        return {"threshold": None, "criterion": criterion, "reason": f"{error}; {gender_maths.DEFAULT_THRESHOLD} is used"}
    p_report, female_report = report_part.gender_labelled()
    report = None
    if female_report.any() and (~female_report).any():
        report = {
            "n": len(p_report),
            criterion: float(gender_maths.scores(p_report, female_report, [chosen.threshold], criterion)[0]),
            f"{criterion}_at_default": float(
                gender_maths.scores(p_report, female_report, [gender_maths.DEFAULT_THRESHOLD], criterion)[0]
            ),
        }
    return {
        **chosen.to_json(),
        "source": "calibration part (chosen), report part (checked)",
        "rule": "female when p(female) >= threshold",
        "report": report,
    }


def _rows(title: str, key: str, rows: list[dict]) -> list[str]:
    lines = [f"  {title}:"]
    for row in rows:
        coverage = "-" if row["coverage"] is None else f"{row['coverage']:.3f}"
        width = "-" if row["mean_width"] is None else f"{row['mean_width']:.2f}"
        lines.append(f"    {row[key]:>7}: n={row['n']:<5} coverage {coverage:>6}  width {width}")
    return lines


def format_report(report: dict) -> str:
    data = report["data"]
    lines = [
        f"data {data['name']} ({data['source']}, licence {data['licence'] or 'not stated'}): {data['size']} usable faces, "
        f"{data['n_calibration']} calibration / {data['n_selection']} selection / {data['n_report']} report"
    ]
    for method, evaluation in report["selection"].items():
        lines.append(
            f"selection part, {method} @ {evaluation.confidence:.0%}: coverage {evaluation.coverage:.3f}, "
            f"mean width {evaluation.mean_width:.2f} y"
        )
    lines.append(f"hub uses {report['method']}: {report['reason']}")
    for confidence, evaluation in report["report"].items():
        lines.append(
            f"report part (never used to fit or choose), {evaluation.method} @ {confidence:.0%}: coverage "
            f"{evaluation.coverage:.3f}, mean width {evaluation.mean_width:.2f} y, n={evaluation.n}, "
            f"open upper end {evaluation.open_upper:.1%}"
        )
        lines += _rows("by true age", "bin", evaluation.per_true_bin)
        lines += _rows("by predicted age", "bin", evaluation.per_bin)
        lines += _rows("by gender", "gender", evaluation.per_gender)
    for reason, names in report["skipped"].items():
        if names:
            lines.append(f"skipped ({reason}): {len(names)}, e.g. {names[0]}")
    lines.append(f"report MAE {report['report_mae']:.2f} y")
    threshold = report["gender_threshold"]
    if threshold["threshold"] is None:
        lines.append(f"gender threshold: none chosen ({threshold['reason']})")
    else:
        criterion = threshold["criterion"]
        checked = threshold["report"]
        on_report = (
            f"; report part {checked[criterion]:.3f} (at 0.5: {checked[criterion + '_at_default']:.3f})"
            if checked
            else "; the report part lacks one gender"
        )
        lines.append(
            f"gender threshold {threshold['threshold']:.3f} (max {criterion} on the calibration part: {threshold['score']:.3f}, "
            f"at 0.5: {threshold['score_at_default']:.3f}{on_report})"
        )
    lines.append(f"wrote {report['artefact']} and {report['plot']}")
    return "\n".join(lines)


def plot_evaluation(evaluation: conformal.Evaluation, path: Path) -> None:
    """Coverage and mean width per true-age bin on the report part."""
    import matplotlib  # noqa: PLC0415 - matplotlib loads only when a plot is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 - matplotlib loads only when a plot is drawn

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    labels = [row["bin"] for row in evaluation.per_true_bin]
    x = np.arange(len(labels))
    coverage = [np.nan if r["coverage"] is None else r["coverage"] for r in evaluation.per_true_bin]
    width = [np.nan if r["mean_width"] is None else r["mean_width"] for r in evaluation.per_true_bin]
    left.bar(x, coverage, width=0.6, label=evaluation.method)
    right.bar(x, width, width=0.6, label=evaluation.method)
    left.axhline(evaluation.confidence, color="black", linestyle="--", label=f"nominal {evaluation.confidence:.0%}")
    left.set(title="Report-part coverage by true-age bin", ylim=(0, 1.05), xticks=x, xticklabels=labels)
    right.set(title="Mean interval width (years)", xticks=x, xticklabels=labels)
    left.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def model_card(artefact: dict) -> ModelCard:
    """A model card for a calibration artefact: data, estimator, method, held-out coverage, intended use."""
    data = artefact["data"]
    licence = data.get("licence")
    card_data = ModelCardData(
        license=licence or "other",
        tags=["conformal-prediction", "age-estimation", "calibration"],
        datasets=[data["repo"]] if data.get("repo") else None,
    )

    def coverage(row: dict) -> str:
        return "-" if row["coverage"] is None else f"{row['coverage']:.3f}"

    report = artefact.get("report", {})
    rows = "\n".join(f"| {float(key):.0%} | {coverage(e)} | {e['mean_width']:.2f} | {e['n']} |" for key, e in report.items())
    main = report.get(f"{SELECTION_CONFIDENCE:.2f}", {})
    bins = "\n".join(f"| {row['bin']} | {row['n']} | {coverage(row)} |" for row in main.get("per_true_bin", []))
    genders = "\n".join(f"| {row['gender']} | {row['n']} | {coverage(row)} |" for row in main.get("per_gender", []))
    text = f"""---
{card_data.to_yaml()}
---

# Conformal age-interval calibration

Calibration of the age estimator `{artefact["estimator"]["id"]}` (version {artefact["estimator"]["version"]})
for the Face Aging Hub: method `{artefact["method"]}`, made {artefact["created"]}.

## Data

{data["name"]} ({data["source"]}{f", revision {data['revision']}" if data.get("revision") else ""}): {data["size"]} usable faces,
{data["n_calibration"]} to fit, {data["n_selection"]} to choose the method, {data["n_report"]} to report coverage.
Licence of the data: {licence or "not stated by the data; check it before reuse"}.

## Coverage on the report part (faces never used to fit or choose)

| confidence | coverage | mean width (years) | n |
|---|---|---|---|
{rows}

At {SELECTION_CONFIDENCE:.0%}, by true age:

| true age | n | coverage |
|---|---|---|
{bins}

By gender:

| gender | n | coverage |
|---|---|---|
{genders}

## Gender threshold

{gender_line(artefact.get("gender_threshold"))}

## Use

Set `HUB_CALIBRATION` to this repo id. The intervals hold on average over faces like these
data (exchangeability); for other populations, cameras or ages outside the data they may not.
Not for decisions about a person (age verification, access, legal age).
"""
    return ModelCard(text)


def gender_line(threshold: dict | None) -> str:
    """The artefact's gender threshold in a sentence, for the model card."""
    if not threshold:
        return "None in this artefact: the hub uses 0.5."
    if threshold.get("threshold") is None:
        return f"None chosen: {threshold.get('reason', 'no reason recorded')}."
    return (
        f"Female when p(female) >= {threshold['threshold']:.3f}: the threshold with the highest {threshold['criterion']} "
        f"({threshold['score']:.3f}; 0.5 gives {threshold['score_at_default']:.3f}) on the calibration part's "
        f"{threshold['n_female']} women and {threshold['n_male']} men."
    )


def push_calibration(artefact_path: Path, repo_id: str, api: HfApi | None = None, private: bool = False) -> str:
    """Upload the artefact, its plot and a model card to a Hub model repo in one commit; return the commit URL."""
    artefact = json.loads(artefact_path.read_text())
    api = api or HfApi()
    api.create_repo(repo_id, repo_type="model", exist_ok=True, private=private)
    operations = [
        CommitOperationAdd(path_in_repo=ARTEFACT_NAME, path_or_fileobj=artefact_path.read_bytes()),
        CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=str(model_card(artefact)).encode()),
    ]
    plot = artefact_path.with_suffix(".png")
    if plot.is_file():
        operations.append(CommitOperationAdd(path_in_repo="coverage.png", path_or_fileobj=plot.read_bytes()))
    data = artefact["data"]
    commit = api.create_commit(
        repo_id,
        operations,
        repo_type="model",
        commit_message=f"Age calibration ({artefact['method']}) on {data['name']}, {data['size']} faces",
    )
    return str(getattr(commit, "commit_url", commit))


_calibrations: dict[tuple[str, float], Calibration] = {}

_downloads: dict[tuple[str, str | None], Path] = {}

_calibration_lock = threading.Lock()


def provenance(calibration: Calibration) -> str:
    """What the intervals rest on, for the page: method, data, size, licence, date, and what the calibration measured on
    its held-out report faces at SELECTION_CONFIDENCE where it holds that (the badge said "Calibrated" whatever it
    measured: a calibration neither of whose methods held its coverage is still kept, the closer one); never a path."""
    data = calibration.meta.get("data", {})
    created = str(calibration.meta.get("created", "?"))[:10]
    licence = data.get("licence") or "licence not stated"
    said = f"{calibration.method} on {data.get('size', '?')} faces of {data.get('name', '?')} ({licence}), {created}"
    held = calibration.meta.get("report", {}).get(f"{SELECTION_CONFIDENCE:.2f}")
    if isinstance(held, dict) and isinstance(held.get("coverage"), (int, float)) and isinstance(held.get("n"), int):
        said += f"; on {held['n']} held-out faces, {held['coverage']:.1%} inside their {SELECTION_CONFIDENCE:.0%} interval"
    return said


DEFAULT_ARTEFACT = Settings().calibration_path  # where `python -m engine calibrate` writes when HUB_CALIBRATION is unset
_missing_told: set[Path] = set()  # HUB_CALIBRATION paths already logged as missing (once per process)


def _artefact_file(settings: Settings) -> tuple[Path | None, str]:
    """(local file or None, its name for messages): HUB_CALIBRATION's path, or its Hub repo's artefact."""
    if settings.calibration_repo is None:
        return settings.calibration_path, settings.calibration_path.name
    label = settings.calibration_repo + (f"@{settings.calibration_revision}" if settings.calibration_revision else "")
    key = (settings.calibration_repo, settings.calibration_revision)
    with _calibration_lock:
        if key not in _downloads:
            try:
                _downloads[key] = Path(
                    hf_hub_download(settings.calibration_repo, ARTEFACT_NAME, revision=settings.calibration_revision)
                )
            except Exception as error:  # noqa: BLE001 - any Hub failure leaves the page working, uncalibrated
                logger.warning("calibration %s could not be fetched: %s", label, error)
                return None, label
    return _downloads[key], label


def load_calibration(settings: Settings, estimator_id: str) -> tuple[Calibration | None, str]:
    """(calibration or None, a sentence saying which); cached until the file changes."""
    path, label = _artefact_file(settings)
    if path is None:
        return None, f"the calibration {label} could not be fetched from the Hub"
    if not path.is_file():
        if path != DEFAULT_ARTEFACT:  # HUB_CALIBRATION names a file that is not there: said, not passed over
            if path not in _missing_told:
                _missing_told.add(path)
                logger.warning("HUB_CALIBRATION names %s, which is not a file: no interval is given", path)
            # the page names no server path: the log does
            return None, "no calibration loaded: the file HUB_CALIBRATION names is not there (the log names it; fix the path)"
        return None, "no calibration loaded (set HUB_CALIBRATION, or run `python -m engine calibrate --data DIR`)"
    key = (str(path), path.stat().st_mtime)
    with _calibration_lock:
        if key not in _calibrations:
            try:
                _calibrations[key] = Calibration.from_json(json.loads(path.read_text()))
            except (ValueError, KeyError, TypeError) as error:
                logger.warning("calibration artefact %s unreadable: %s", path, error)
                return None, f"the calibration {label} is unreadable ({error})"
    calibration = _calibrations[key]
    made_for = calibration.meta.get("estimator", {}).get("id")
    if made_for != estimator_id:
        return None, f"the calibration {label} was made for estimator {made_for!r}, not {estimator_id!r}: recalibrate"
    version = calibration.meta.get("artefact_version")
    if version != ARTEFACT_VERSION:
        return None, f"the calibration {label} has artefact version {version!r}, this hub reads {ARTEFACT_VERSION}: recalibrate"
    return calibration, provenance(calibration)
