"""The synthetic-face probe's table (pure maths on the rows, no model I/O): one row per prompted age.

Per prompted age, over the faces drawn for it: how many, how many had no detectable face
(counted and named, never dropped), the mean predicted age and the MAE against the prompted
age over the faces read, the mean 90 % interval half-width (hi - lo) / 2 over the intervals
with a finite upper end (those open at the estimator's top class are counted apart), the
coverage of the prompted age (an open upper end holds every older age), and the share read
as the prompted gender. A mean over no value is missing (None), never 0.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from engine.methods.probe.faces import ProbeCell
from evaluation.tasks import mean_present

COLUMNS = [
    ("prompted_age", "prompted age"),
    ("n", "faces"),
    ("n_no_face", "no face"),
    ("mean_predicted", "mean predicted age"),
    ("mae", "MAE"),
    ("mean_half_width", "mean half-width ±"),
    ("n_open_upper", "open upper end"),
    ("coverage", "coverage of prompted age"),
    ("gender_accuracy", "prompted gender read"),
]


@dataclass(frozen=True)
class ProbeRow:
    """One probe face and what the estimator read in it (age None: no face detected)."""

    cell: ProbeCell
    file: str  # the face's PNG, relative to the output folder
    faces_found: int
    age: float | None = None
    interval: tuple[float, float | None] | None = None  # None: uncalibrated; hi None: open upper end
    gender: str | None = None
    p_female: float | None = None
    age_text: str | None = None  # the age as the hub shows it ("80+" at the estimator's top class)

    @property
    def half_width(self) -> float | None:
        """(hi - lo) / 2; missing without an interval or when its upper end is open."""
        if self.interval is None:
            return None
        lo, hi = self.interval
        return None if hi is None else (hi - lo) / 2.0

    @property
    def covered(self) -> bool | None:
        """The prompted age lies in the interval (an open upper end holds every older age); None without one."""
        if self.interval is None:
            return None
        lo, hi = self.interval
        return lo <= self.cell.age <= (math.inf if hi is None else hi)

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "prompted_age": self.cell.age,
            "prompted_gender": self.cell.gender,
            "ethnicity": self.cell.ethnicity,
            "seed": self.cell.seed,
            "prompt": self.cell.prompt,
            "faces_found": self.faces_found,
            "predicted_age": None if self.age is None else round(self.age, 2),
            "age_text": self.age_text,
            "interval": None if self.interval is None else [round(self.interval[0], 2), _round(self.interval[1])],
            "half_width": _round(self.half_width),
            "covered": self.covered,
            "predicted_gender": self.gender,
            "p_female": _round(self.p_female, 3),
        }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def group_row(label: int | str, rows: list[ProbeRow]) -> dict:
    """One row of the table over `rows`: every mean over the faces that have the value, with the counts left out."""
    read = [row for row in rows if row.age is not None]
    return {
        "prompted_age": label,
        "n": len(rows),
        "n_no_face": len(rows) - len(read),
        "no_face": [row.file for row in rows if row.age is None],
        "mean_predicted": mean_present([row.age for row in read]),
        "mae": mean_present([abs(row.age - row.cell.age) for row in read if row.age is not None]),
        "n_interval": sum(row.interval is not None for row in read),
        "mean_half_width": mean_present([row.half_width for row in read]),
        "n_open_upper": sum(row.interval is not None and row.interval[1] is None for row in read),
        "coverage": mean_present([None if row.covered is None else float(row.covered) for row in read]),
        "gender_accuracy": mean_present([float(row.gender == row.cell.gender) for row in read]),
    }


def probe_table(rows: list[ProbeRow]) -> list[dict]:
    """The report's table: one row per prompted age (ascending), then "all"."""
    ages = sorted({row.cell.age for row in rows})
    return [group_row(age, [row for row in rows if row.cell.age == age]) for age in ages] + [group_row("all", rows)]


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def table_markdown(table: list[dict]) -> str:
    lines = ["| " + " | ".join(title for _, title in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cell(row[key]) for key, _ in COLUMNS) + " |" for row in table]
    return "\n".join(lines)


def _csv(value) -> str:
    if value is None:
        return ""  # missing, not 0
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def write_csv(table: list[dict], path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([key for key, _ in COLUMNS] + ["no_face"])
        for row in table:
            writer.writerow([_csv(row[key]) for key, _ in COLUMNS] + [";".join(row["no_face"])])
