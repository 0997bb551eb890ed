"""Tasks and metrics, declared once. Validation, table columns, aggregates and the page's
"how we evaluate" text all derive from these declarations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HCS_MAX_AGE_ERROR = 40.0  # M in the lifespan paper's appendix C.3


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    higher_is_better: bool
    unit: str = ""
    description: str = ""
    harness_only: bool = False  # computed here from other metrics; never accepted from a submitter
    low: float | None = None  # the range a value can take; a record outside it is refused
    high: float | None = None
    # on a 0-100 scale (a share or a cosine x 100): a claim's value of 1 or less in size is the fraction, unscaled
    # (papers report identity as a cosine, 0.62, and coverage as 0.9), which the table would list as 0.62 and 0.9 %
    hundred: bool = False

    def out_of_range(self, value: float) -> str | None:
        """Why `value` cannot be this metric, or None when it can."""
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            return f"{self.key} must be in [{self.low:g}, {self.high:g}]{' ' + self.unit if self.unit else ''}, got {value:g}"
        return None


@dataclass(frozen=True)
class Task:
    key: str
    title: str
    description: str
    metrics: tuple[Metric, ...]
    primary: str  # the metric tables sort by

    def metric(self, key: str) -> Metric:
        for metric in self.metrics:
            if metric.key == key:
                return metric
        raise KeyError(f"task {self.key!r} has no metric {key!r}; metrics: {[m.key for m in self.metrics]}")


AGE_BUCKETS = ((0, 19), (20, 39), (40, 59), (60, 80))

# Ranges (what a value can be, not what is plausible): ages and target ages are 0-120 (records.py),
# so an age error or interval width is too; cosine similarity x 100 is in [-100, 100]; quality and
# coverage are percentages. FID has no finite bound in theory; 1000 is far above any face set seen
# (noise against real faces scores a few hundred), so a larger value is a typing error.
MAX_AGE = 120.0
MAX_FID = 1000.0
MAX_SECONDS_PER_IMAGE = 3600.0

LIFESPAN = Task(
    key="lifespan",
    title="Lifespan aging",
    description="A face aged or rejuvenated to target ages; scored on the age reached and the identity kept.",
    metrics=(
        Metric("age_mae", "Age MAE", False, "years", "mean |estimated age of the output - target age|", low=0, high=MAX_AGE),
        *(
            Metric(
                f"age_mae_{lo}_{hi}", f"Age MAE {lo}-{hi}", False, "years", f"age MAE over targets {lo}-{hi}", low=0, high=MAX_AGE
            )
            for lo, hi in AGE_BUCKETS
        ),
        Metric(
            "identity",
            "Identity x100",
            True,
            "",
            "cosine similarity of identity embeddings, source vs output, x 100",
            low=-100,
            high=100,
            hundred=True,
        ),
        Metric("hcs", "HCS", True, "", "2AI/(A+I), A = (1 - MAE/40) x 100, I = identity x 100", harness_only=True),
        Metric(
            "image_quality",
            "Image quality",
            True,
            "",
            "0-100, from the protocol's quality model or judge",
            low=0,
            high=100,
            hundred=True,
        ),
        Metric("fid", "FID", False, "", "Frechet Inception Distance to real faces, when available", low=0, high=MAX_FID),
        Metric(
            "seconds_per_image",
            "s / image",
            False,
            "s",
            "wall time per output image on the stated hardware",
            low=0,
            high=MAX_SECONDS_PER_IMAGE,
        ),
    ),
    primary="hcs",
)

ZONES = Task(
    key="zones",
    title="Local zone aging",
    description="Facial zones aged to target wrinkle scores; scored on realism and on the score reached.",
    metrics=(
        Metric("fid", "FID", False, "", "Frechet Inception Distance to real faces", low=0, high=MAX_FID),
        Metric(
            "zone_score_mae",
            "Zone score MAE",
            False,
            "fraction",
            "mean |predicted - target zone score| (0-1 scale)",
            low=0,
            high=1,
        ),
        Metric(
            "outside_change",
            "Change outside",
            False,
            "grey levels",
            "mean |after - before| on the face outside the edited zone's blend (0-255)",
            low=0,
            high=255,
        ),
    ),
    primary="fid",
)

AGE_ESTIMATION = Task(
    key="age_estimation",
    title="Age estimation with intervals",
    description="Age estimates with prediction intervals; scored on error, coverage and interval width.",
    metrics=(
        Metric("mae", "MAE", False, "years", "mean absolute age error", low=0, high=MAX_AGE),
        Metric(
            "coverage_90",
            "Coverage @90%",
            True,
            "%",
            "share of true ages inside the 90 % interval",
            low=0,
            high=100,
            hundred=True,
        ),
        Metric("mean_width_90", "Mean width @90%", False, "years", "mean width of the 90 % interval", low=0, high=MAX_AGE),
    ),
    primary="mae",
)

TASKS = {task.key: task for task in (LIFESPAN, ZONES, AGE_ESTIMATION)}

METHOD_TYPES = ("GAN", "diffusion", "classical", "regression")


def mean_present(values) -> float | None:
    """The mean over the values that are present; None (missing) when none is. Nothing is imputed."""

    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def age_mae(ages, targets) -> float | None:
    """Age MAE: mean |estimated age - target age| over the outputs with an estimate (None: no estimate)."""
    return mean_present(None if age is None else abs(age - target) for age, target in zip(ages, targets))


def accuracy_from_mae(mae: float) -> float:
    """A = (1 - MAE / M) x 100 with M = 40 (lifespan paper, appendix C.3)."""
    return (1.0 - mae / HCS_MAX_AGE_ERROR) * 100.0


def hcs(age_mae: float | None, identity: float | None) -> float | None:
    """Harmonic consistency score 2AI / (A + I); missing when either input is missing. A and I are scores out of 100
    and are taken within 0-100 first: an age error past M (A below 0) or an identity similarity below 0 (a cosine)
    scores 0, not a harmonic mean of a negative number (an age error of 79.96 beside an identity of 100 gave -199,800,
    and an error of 120 beside -100 ranked above it)."""
    if age_mae is None or identity is None:
        return None
    accuracy = min(max(accuracy_from_mae(age_mae), 0.0), 100.0)
    identity = min(max(identity, 0.0), 100.0)
    if accuracy + identity <= 0:
        return 0.0
    return 2.0 * accuracy * identity / (accuracy + identity)


def evaluation_text() -> str:
    """The page's "how we evaluate" section, generated from the declarations."""
    lines = ["### How we evaluate", ""]
    for task in TASKS.values():
        lines += [f"**{task.title}**: {task.description} Ranked by {task.metric(task.primary).title}.", ""]
        for metric in task.metrics:
            arrow = "higher is better" if metric.higher_is_better else "lower is better"
            extra = " Computed by this harness, never taken from a submission." if metric.harness_only else ""
            lines.append(f"- {metric.title} ({arrow}{', ' + metric.unit if metric.unit else ''}): {metric.description}.{extra}")
        lines.append("")
    lines += [
        "Rows are compared only within one protocol (benchmark, input set, target ages) and one set of evaluators: "
        "numbers measured differently are never ranked in one table. `reported` rows are copied from papers with "
        "their citation; `verified` rows were computed by this harness. A missing metric is shown as missing and "
        "left out of every aggregate, with the number left out stated. A judge reply that does not parse is "
        "recorded as missing and counted; nothing is imputed and no sample is dropped.",
    ]
    return "\n".join(lines)
