"""Tables and plots of the leaderboard, as pure functions of records (the tab only displays them)."""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter

import pandas as pd

from evaluation.records import ResultsRecord
from evaluation.tasks import TASKS, accuracy_from_mae

MISSING = "missing"


def labels(records: list[ResultsRecord]) -> dict[tuple, str]:
    """One label per comparable protocol (`ResultsRecord.comparable_key`), no two alike: the short label, or the
    detailed one (target ages, output count) where protocols that differ would share a short label, with a digest of
    the protocol where even those agree."""
    short: dict[tuple, str] = {}
    for record in records:
        short.setdefault(record.comparable_key(), record.protocol_label())
    clashes = {label for label in short.values() if list(short.values()).count(label) > 1}
    named = {}
    for record in records:
        key = record.comparable_key()
        if key not in named:
            named[key] = record.protocol_label(detailed=short[key] in clashes)
    # protocols whose labels still agree (their parts joined into the same text, or a detailed label that reads as
    # another's short one) are told apart by a digest of what makes them comparable: one label, one protocol, so the
    # table never ranks two protocols' rows together
    # (the whole digest, as often as it takes, where eight of its characters do not: a label written to read as
    # another's with its digest)
    length = 8
    while len(set(named.values())) < len(named):
        counts = Counter(named.values())
        for key, label in list(named.items()):
            if counts[label] > 1:
                named[key] = f"{label} [protocol {protocol_digest(key)[:length]}]"
        length = 64
    return named


def protocol_digest(key: tuple) -> str:
    """The sha256 of a comparable key, the same whatever record gave it (20 and 20.0 are one target age)."""

    def canonical(value: object) -> object:
        if isinstance(value, (tuple, list)):
            return [canonical(part) for part in value]
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    return hashlib.sha256(json.dumps(canonical(key), default=str).encode()).hexdigest()


def protocols(records: list[ResultsRecord], task: str) -> list[str]:
    """The protocol labels of a task, most rows first: each is its own table (rows are ranked
    together only under one protocol, evaluators included)."""
    mine = [r for r in records if r.task == task]
    named = labels(mine)
    counts: dict[str, int] = {}
    for record in mine:
        label = named[record.comparable_key()]
        counts[label] = counts.get(label, 0) + 1
    return sorted(counts, key=lambda label: (-counts[label], label))


def select(
    records, task: str, protocol: str | None, types=None, verified_only=False, search: str | None = ""
) -> list[ResultsRecord]:
    mine = [r for r in records if r.task == task]
    named = labels(mine)
    chosen = [r for r in mine if protocol is None or named[r.comparable_key()] == protocol]
    if types:
        chosen = [r for r in chosen if r.method_type in types]
    if verified_only:
        chosen = [r for r in chosen if r.provenance == "verified"]
    if search and search.strip():
        needle = search.strip().lower()
        chosen = [r for r in chosen if needle in r.method.lower()]
    return chosen


def table(records: list[ResultsRecord], task: str, columns: list[str] | None = None) -> tuple[pd.DataFrame, str]:
    """(display table sorted by the task's primary metric, missing last; a line on the aggregates).

    Missing metrics are shown as "missing" and left out of the means, with the count.
    """
    spec = TASKS[task]
    metrics = [m for m in spec.metrics if columns is None or m.key in columns]
    primary = spec.metric(spec.primary)

    def sort_key(record):
        # a row whose metrics leave out outputs that could not be scored (no face found in them) ranks after every
        # row scored on all of its outputs: leaving out the hard cases would otherwise rank a method higher
        value = record.metrics.get(primary.key)
        return (value is None, record.unscored() > 0, -(value or 0) if primary.higher_is_better else (value or 0))

    # the lifespan task's rows say how many of their outputs were scored, in view beside the metrics (a note at the
    # table's right end was out of sight on a narrow page); a paper's row does not state it
    scored = task == "lifespan"
    rows = []
    for record in sorted(records, key=sort_key):
        row: dict[str, object] = {"method": record.method, "type": record.method_type, "provenance": record.provenance}
        if scored:
            row[SCORED] = outputs_scored(record)
        for metric in metrics:
            value = record.metrics.get(metric.key)
            row[metric.title] = MISSING if value is None else round(value, 2)
        row["source"] = record.citation if record.provenance == "reported" else f"this harness ({record.date})"
        if record.notes.get("submitted_by"):  # a submission's row names who sent it (an account, or "anonymous")
            row["source"] = f"{row['source']}; submitted by {record.notes['submitted_by']}"
        notes = [record.notes[key] for key in ("hcs_check", "protocol") if record.notes.get(key)]
        if record.unscored():
            notes.append(unscored_note(record))
        note = "; ".join(notes)
        if note:
            row["note"] = note
        rows.append(row)
    # named columns even without a row: an empty frame showed a table headed "1 2 3"
    names = ["method", "type", "provenance", *([SCORED] if scored else []), *(metric.title for metric in metrics), "source"]
    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=names)
    parts = []
    for metric in metrics:
        values = [r.metrics.get(metric.key) for r in records]
        present = [v for v in values if v is not None]
        left_out = len(values) - len(present)
        if present:
            parts.append(
                f"{metric.title} mean {sum(present) / len(present):.2f} over {len(present)}"
                + (f" ({left_out} missing, left out)" if left_out else "")
            )
        elif values:
            parts.append(f"{metric.title} missing for all {left_out}")
    return frame, "; ".join(parts)


SCORED = "outputs scored"


def outputs_scored(record: ResultsRecord) -> str:
    """ "6 of 8" for a record that counts its outputs (the harness's), else "not stated" (a paper's numbers)."""
    outputs = record.notes.get("n_outputs")
    if not isinstance(outputs, int) or isinstance(outputs, bool):
        return "not stated"
    return f"{outputs - record.unscored()} of {outputs}"


def unscored_count(record: ResultsRecord) -> str:
    """ "4 of 8": how many of a record's outputs were not scored, of how many (the count alone where it gives none)."""
    outputs = record.notes.get("n_outputs")
    return f"{record.unscored()}{f' of {outputs}' if outputs else ''}"


def unscored_note(record: ResultsRecord) -> str:
    """The table's note on a row some of whose outputs could not be scored."""
    return (
        f"{unscored_count(record)} outputs not scored (no face found in them, or an input the method refused): its "
        "metrics are over the rest, and it ranks after the rows scored on every output"
    )


# The trade-off plot's axes reach this far beyond its points (on the 0-100 scales of identity and A), so the method
# named beside each point stays inside, and a single point has axes around it (from looking)
PLOT_MARGIN = 5.0


def axis_range(values: list[float], top: float | None = 100.0) -> tuple[float, float] | None:
    """(low, high) of a trade-off axis holding `values`, PLOT_MARGIN beyond them on each side, and not past `top`, the
    most the axis's measure can be (identity and age accuracy: 100; a row at 99.9 drew the identity axis to 105); None
    without values."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    high = max(finite) + PLOT_MARGIN
    return min(finite) - PLOT_MARGIN, high if top is None else max(min(high, top), max(finite))


def point_labels(methods: list[str], xs: list[float], ys: list[float], places: int = 1) -> list[tuple[str, float, float]]:
    """One label per place on the trade-off plot: the methods whose points coincide (to `places` decimals) named together,
    "A, B", once; drawn one over another, their names could not be read."""
    names: dict[tuple[float, float], list[str]] = {}
    for method, x, y in zip(methods, xs, ys):
        names.setdefault((round(x, places), round(y, places)), []).append(method)
    return [(", ".join(dict.fromkeys(named)), x, y) for (x, y), named in names.items()]


def tradeoff(records: list[ResultsRecord]) -> pd.DataFrame:
    """Age accuracy A = (1 - MAE/40) x 100 against identity, one point per row with both; a row some of whose outputs
    were not scored is named with how many (its point is the mean of the rest, as its table row's note says)."""
    points = []
    for r in records:
        identity, mae = r.metrics.get("identity"), r.metrics.get("age_mae")
        if identity is not None and mae is not None and math.isfinite(identity):
            named = f"{r.method} ({unscored_count(r)} not scored)" if r.unscored() else r.method
            points.append(
                {"method": named, "identity": identity, "age accuracy (A)": accuracy_from_mae(mae), "provenance": r.provenance}
            )
    return pd.DataFrame(points, columns=["method", "identity", "age accuracy (A)", "provenance"])
