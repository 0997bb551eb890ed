"""The versioned results record: one method's metrics under one protocol and one set of evaluators."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final

from evaluation.tasks import METHOD_TYPES, TASKS, hcs

SCHEMA_VERSION: Final = 1

PROVENANCE = ("reported", "verified")

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _finite(value) -> float | None:
    """`value` as a finite float; None when it is not a number (text, a bool, NaN, an integer too large for a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


class RecordError(ValueError):
    """A malformed record; the message names every bad field."""


@dataclass(frozen=True)
class Protocol:
    benchmark: str  # e.g. "celeba-hq-200 (Face++)", "offline-portraits"
    input_set: str  # which faces
    target_ages: tuple[float, ...] | None = None
    n_images: int | None = None
    # A Hub dataset's protocol: its repo id, the revision read and the split (None for other benchmarks).
    dataset: str | None = None
    revision: str | None = None
    split: str | None = None


@dataclass(frozen=True)
class Evaluators:
    age_estimator: str | None = None  # "name@version"
    identity_model: str | None = None
    judge_model: str | None = None
    zone_scorer: str | None = None  # the zone evaluation's ScoreNet


@dataclass
class ResultsRecord:
    task: str
    method: str
    method_type: str
    protocol: Protocol
    evaluators: Evaluators
    metrics: dict[str, float | None]
    provenance: str
    date: str
    citation: str | None = None  # reported rows: where the numbers come from
    run_config: dict | None = None  # verified rows: how the harness ran
    checkpoint: dict | None = None  # {"repo": "org/name", "revision": "..."}
    code_link: str | None = None
    hardware: str | None = None
    train_set_size: str | None = None
    notes: dict = field(default_factory=dict)  # e.g. counts of missing values, printed values kept for checking
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def from_json(cls, data: dict, submitted: bool = False) -> ResultsRecord:
        """A validated record; `submitted` records may not carry harness-only metrics."""
        if not isinstance(data, dict):
            raise RecordError(f"a results record is a JSON object, got {type(data).__name__}")
        errors = []

        def need(key, kind, where=data, prefix=""):
            value = where.get(key)
            if value is None or not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
                errors.append(f"{prefix}{key}: required {kind.__name__ if isinstance(kind, type) else 'value'}, got {value!r}")
                return None
            return value

        version = data.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            errors.append(f"schema_version: this leaderboard reads version {SCHEMA_VERSION}, got {version!r}")
        task_key = need("task", str)
        task = TASKS.get(task_key) if task_key else None
        if task_key and task is None:
            errors.append(f"task: must be one of {sorted(TASKS)}, got {task_key!r}")
        method = need("method", str)
        method_type = need("method_type", str)
        if method_type and method_type not in METHOD_TYPES:
            errors.append(f"method_type: must be one of {METHOD_TYPES}, got {method_type!r}")
        provenance = need("provenance", str)
        if provenance and provenance not in PROVENANCE:
            errors.append(f"provenance: must be reported or verified, got {provenance!r}")
        if provenance == "reported" and not data.get("citation"):
            errors.append("citation: a reported record needs the paper it comes from")
        if provenance == "verified" and submitted:
            errors.append("provenance: submissions are 'reported' (with a citation) or a zip of outputs for the harness")
        protocol_data = need("protocol", dict) or {}
        benchmark = need("benchmark", str, protocol_data, "protocol.") if protocol_data else None
        input_set = need("input_set", str, protocol_data, "protocol.") if protocol_data else None
        targets = protocol_data.get("target_ages")
        if targets is not None and (
            not isinstance(targets, list) or not all(isinstance(t, (int, float)) and 0 <= t <= 120 for t in targets)
        ):
            errors.append(f"protocol.target_ages: a list of ages 0-120, got {targets!r}")
        n_images = protocol_data.get("n_images")
        if n_images is not None and (not isinstance(n_images, int) or n_images < 1):
            errors.append(f"protocol.n_images: a positive integer, got {n_images!r}")
        dataset_fields = {key: protocol_data.get(key) for key in ("dataset", "revision", "split")}
        for key, value in dataset_fields.items():
            if value is not None and (not isinstance(value, str) or not value.strip()):
                errors.append(f"protocol.{key}: text or null, got {value!r}")
        evaluators_data = data.get("evaluators") or {}
        if not isinstance(evaluators_data, dict):
            errors.append(f"evaluators: an object, got {evaluators_data!r}")
            evaluators_data = {}
        unknown_evaluators = set(evaluators_data) - {"age_estimator", "identity_model", "judge_model", "zone_scorer"}
        if unknown_evaluators:
            errors.append(f"evaluators: unknown keys {sorted(unknown_evaluators)}")
        metrics_data = need("metrics", dict) or {}
        metrics: dict[str, float | None] = {}
        for key, value in metrics_data.items():
            if task is None:
                break
            try:
                metric = task.metric(key)
            except KeyError:
                errors.append(f"metrics.{key}: not a metric of task {task.key!r} ({', '.join(m.key for m in task.metrics)})")
                continue
            if metric.harness_only and submitted:
                errors.append(f"metrics.{key}: computed by the harness from the other metrics; leave it out")
                continue
            number = _finite(value)
            if value is not None and number is None:
                errors.append(f"metrics.{key}: a finite number or null (missing), got {str(value)[:40]!r}")
                continue
            problem = None if number is None else metric.out_of_range(number)
            if problem:
                errors.append(f"metrics.{problem}")
                continue
            metrics[key] = number
        checkpoint = data.get("checkpoint")
        if checkpoint is not None:
            if not isinstance(checkpoint, dict) or not REPO_ID.match(str(checkpoint.get("repo", ""))):
                errors.append(f"checkpoint: {{'repo': 'org/name', 'revision': ...}}, got {checkpoint!r}")
        date = data.get("date") or dt.date.today().isoformat()
        try:
            dt.date.fromisoformat(str(date)[:10])
        except ValueError:
            errors.append(f"date: an ISO date (YYYY-MM-DD), got {date!r}")
        if errors:
            raise RecordError("; ".join(errors))
        # every field below was checked above: an error would have been raised
        assert task is not None and benchmark is not None and input_set is not None
        if task.key == "lifespan":
            metrics["hcs"] = hcs(metrics.get("age_mae"), metrics.get("identity"))
        return cls(
            task=task.key,
            method=method.strip(),
            method_type=method_type,
            provenance=provenance,
            protocol=Protocol(benchmark, input_set, tuple(targets) if targets else None, n_images, **dataset_fields),
            evaluators=Evaluators(**evaluators_data),
            metrics=metrics,
            date=str(date),
            citation=data.get("citation"),
            run_config=data.get("run_config"),
            checkpoint=checkpoint,
            code_link=data.get("code_link"),
            hardware=data.get("hardware"),
            train_set_size=None if data.get("train_set_size") is None else str(data["train_set_size"]),
            notes=dict(data.get("notes") or {}),
        )

    def to_json(self) -> dict:
        data = asdict(self)
        data["protocol"]["target_ages"] = list(self.protocol.target_ages) if self.protocol.target_ages else None
        return data

    def comparable_key(self) -> tuple:
        """Rows are ranked together only when this is equal: same task, protocol and evaluators."""
        return (
            self.task,
            self.protocol.benchmark,
            self.protocol.input_set,
            self.protocol.target_ages,
            self.protocol.n_images,
            self.protocol.dataset,
            self.protocol.revision,
            self.protocol.split,
            self.evaluators.age_estimator,
            self.evaluators.identity_model,
            self.evaluators.judge_model,
        )

    def unscored(self) -> int:
        """How many of a verified record's outputs the age estimator or the identity model could not score (no face
        found in them, or a file unreadable): its metrics are means over the rest. 0 for a reported row."""
        counts = [self.notes.get(key) for key in ("n_missing_age", "n_missing_identity")]
        return max((count for count in counts if isinstance(count, int) and not isinstance(count, bool)), default=0)

    def nothing_scored(self) -> bool:
        """Whether none of a verified record's outputs was scored by the age estimator or the identity model (no face
        found in any): its metrics are all missing, or only the judge (which reads any image) gave any."""
        outputs = self.notes.get("n_outputs")
        faceless = (
            bool(outputs) and self.notes.get("n_missing_age") == outputs and self.notes.get("n_missing_identity") == outputs
        )
        return faceless or all(value is None for value in self.metrics.values())

    def protocol_label(self, detailed: bool = False) -> str:
        """How the page names the protocol; `detailed` adds the target ages and output count, which
        tell apart protocols whose names agree (leaderboard.views uses it only then)."""
        evaluators = (
            ", ".join(
                v for v in (self.evaluators.age_estimator, self.evaluators.identity_model, self.evaluators.judge_model) if v
            )
            or "evaluators not stated"
        )
        parts = [self.protocol.benchmark, self.protocol.input_set]
        if self.protocol.dataset:
            revision = f"@{self.protocol.revision[:12]}" if self.protocol.revision else ""
            parts.append(f"{self.protocol.dataset}{revision} {self.protocol.split or ''}".strip())
        if detailed:
            targets = ", ".join(f"{t:g}" for t in self.protocol.target_ages or ()) or "not stated"
            parts.append(f"targets {targets}; {self.protocol.n_images or 'unknown number of'} outputs")
        return " | ".join([*parts, evaluators])

    def to_row(self) -> dict:
        task = TASKS[self.task]
        row: dict[str, str | float | None] = {"method": self.method, "type": self.method_type, "provenance": self.provenance}
        for metric in task.metrics:
            row[metric.key] = self.metrics.get(metric.key)
        row.update(
            {
                "hardware": self.hardware,
                "train data": self.train_set_size,
                "date": self.date,
                "source": self.citation if self.provenance == "reported" else "this harness",
                "checkpoint": f"{self.checkpoint['repo']}@{self.checkpoint.get('revision') or 'main'}"
                if self.checkpoint
                else (self.code_link or ""),
            }
        )
        return row


def read_records(folder: Path) -> tuple[list[ResultsRecord], list[str]]:
    """Every readable record in `folder/*.json`, and one message per file that is not (never silently skipped)."""
    records, problems = [], []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            records.append(ResultsRecord.from_json(json.loads(path.read_text())))
        except (OSError, ValueError, RecordError) as error:
            problems.append(f"skipped unreadable results file {path.name}: {error}")
    return records, problems
