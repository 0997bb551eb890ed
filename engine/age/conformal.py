"""Conformal age intervals: pure maths, no model I/O.

Two split-conformal methods, both with the finite-sample quantile (the score at
rank ceil((n + 1)(1 - alpha)) of n calibration scores):

- Mondrian normalised residuals: score |y - yhat| / sqrt(yhat + 1), one quantile
  per 10-year bin of the *predicted* age (the true age is unknown when
  predicting); a bin with too few points falls back to the pooled quantile.
  Interval yhat -/+ q sqrt(yhat + 1).
- Conformalised quantile level of the estimator's own distribution
  (`cqr-level`): the score is the smallest central level of the predicted
  distribution whose interval holds the true age, |2 F(y) - 1| with F the
  predicted CDF, and the interval is the central interval at the conformal
  quantile of those scores. This is conformal calibration of a predictive
  distribution's level (Romano, Patterson & Candes, "Conformalized Quantile
  Regression", NeurIPS 2019, sec. 6 on calibrating the nominal level; Chernozhukov,
  Wuthrich & Zhu, "Distributional conformal prediction", PNAS 2021). Unlike the
  additive CQR correction max(lo - y, y - hi), which goes negative when the raw
  quantiles over-cover and then inverts narrow intervals, the level is in [0, 1]
  and the quantile function is non-decreasing, so lo <= hi by construction.

Without calibration there is no interval: the estimator's own spread is
overconfident on real faces, so it is never shown under a percentage.

Intervals are intersected with [0, inf): an age is never negative. The estimator
cannot tell ages above its top class (80 for the offline one) apart, so an upper
end that reaches the top class is open ("80+", inf here, None in JSON). An upper
bound that calibration cannot support (too few points for the confidence) is
also inf, and the caller is told which of the two it is; never a made-up number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.core.errors import InputError
from engine.core.limits import quote

BIN_WIDTH = 10

N_BINS = 8  # 0-9, 10-19, ..., 60-69, 70-80 (80, the estimator's top class, joins the last bin)

MONDRIAN = "mondrian-normalised"

CQR = "cqr-level"

METHODS = (MONDRIAN, CQR)

UNKNOWN_UPPER = "too few calibration faces for this confidence: upper bound unknown"

CONFIDENCE_GRID = tuple(round(0.50 + 0.01 * i, 2) for i in range(50))  # 0.50 .. 0.99


def check_confidence(confidence: float) -> float:
    if not (isinstance(confidence, (int, float)) and 0.0 < confidence < 1.0) or math.isnan(confidence):
        raise InputError(f"confidence must be strictly between 0 and 1 (e.g. 0.9), got {confidence!r}")
    return float(confidence)


# a Mondrian interval's note where its age bin had too few calibration faces and the quantile of every age was used
POOLED_USED = "pooled quantile used"


def on_grid(confidence: object) -> float:
    """`confidence` as the level of CONFIDENCE_GRID it is (0.50-0.99 in steps of 0.01, the tab's 50-99 %, the levels a
    calibration holds); InputError otherwise."""
    if isinstance(confidence, (int, float)) and not isinstance(confidence, bool):
        for level in CONFIDENCE_GRID:
            if abs(confidence - level) < 1e-9:
                return level
    raise InputError(
        f"confidence must be on the calibration grid, {CONFIDENCE_GRID[0]:.2f} to {CONFIDENCE_GRID[-1]:.2f} in steps of "
        f"0.01, got {quote(confidence)}"
    )


def conformal_rank(n: int, alpha: float) -> int:
    """1-based rank of the conformal quantile among n sorted scores: ceil((n + 1)(1 - alpha))."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    check_confidence(1.0 - alpha)
    return math.ceil((n + 1) * (1.0 - alpha) - 1e-9)  # the epsilon absorbs float error, e.g. 10 * 0.9


def conformal_quantile(scores: np.ndarray, alpha: float) -> float:
    """The finite-sample conformal quantile; inf when n is too small for this alpha."""
    scores = np.sort(np.asarray(scores, dtype=np.float64))
    rank = conformal_rank(len(scores), alpha)
    return float(scores[rank - 1]) if rank <= len(scores) else math.inf


def normalised_score(y: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    predicted = np.asarray(predicted, dtype=np.float64)
    return np.abs(np.asarray(y, dtype=np.float64) - predicted) / np.sqrt(predicted + 1.0)


def age_bin(age: np.ndarray | float) -> np.ndarray:
    """10-year bin index of an age; ages of 70 and over share the last bin."""
    return np.clip(np.floor(np.asarray(age, dtype=np.float64) / BIN_WIDTH), 0, N_BINS - 1).astype(int)


def bin_label(index: int) -> str:
    low = index * BIN_WIDTH
    return f"{low}-{low + BIN_WIDTH - 1}" if index < N_BINS - 1 else f"{low}+"


def _class_cdf(distribution: np.ndarray) -> np.ndarray:
    """(N, K) CDF at each class age: each class's mass is centred on its age, so the CDF there is cumsum - p/2."""
    distribution = np.atleast_2d(np.asarray(distribution, dtype=np.float64))
    distribution = distribution / distribution.sum(axis=1, keepdims=True)
    return np.cumsum(distribution, axis=1) - distribution / 2


def distribution_quantile(ages: np.ndarray, distribution: np.ndarray, q: np.ndarray | float) -> np.ndarray:
    """Quantile(s) of a discrete age distribution, interpolated linearly between class ages.

    `distribution` is (K,) or (N, K); `q` a scalar or (N,). Returns (N,). Levels below the
    first class's CDF give the first class age, above the last class's CDF the last.
    """
    cdf = _class_cdf(distribution)
    ages = np.asarray(ages, dtype=np.float64)
    q = np.broadcast_to(np.asarray(q, dtype=np.float64), (cdf.shape[0],))
    rows = np.arange(len(cdf))
    top = np.minimum((cdf < q[:, None]).sum(axis=1), len(ages) - 1)  # first class at or above q
    below = np.maximum(top - 1, 0)
    c_low = cdf[rows, below]
    c_high = cdf[rows, top]
    t = np.where(c_high > c_low, (q - c_low) / np.where(c_high > c_low, c_high - c_low, 1.0), 1.0)
    return ages[below] + np.clip(t, 0.0, 1.0) * (ages[top] - ages[below])


def predicted_cdf(ages: np.ndarray, distribution: np.ndarray, y: np.ndarray | float) -> np.ndarray:
    """F(y) of each predicted distribution: linear between class ages, the first (last) class's
    CDF below (above) the class range; the inverse of `distribution_quantile`. Returns (N,)."""
    cdf = _class_cdf(distribution)
    ages = np.asarray(ages, dtype=np.float64)
    y = np.broadcast_to(np.asarray(y, dtype=np.float64), (cdf.shape[0],))
    return np.array([np.interp(value, ages, row) for value, row in zip(y, cdf)])


def central_interval(ages: np.ndarray, distribution: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """The raw central `confidence` interval of each predicted distribution: (lo, hi), each (N,).

    Only for analysis: it is never shown as an interval, because it is not calibrated.
    """
    alpha = 1.0 - check_confidence(confidence)
    return (
        distribution_quantile(ages, distribution, alpha / 2),
        distribution_quantile(ages, distribution, 1 - alpha / 2),
    )


def level_score(y: np.ndarray, ages: np.ndarray, distribution: np.ndarray) -> np.ndarray:
    """The smallest central level whose interval holds y: |2 F(y) - 1|, in [0, 1]."""
    return np.abs(2.0 * predicted_cdf(ages, distribution, y) - 1.0)


def level_interval(ages: np.ndarray, distribution: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The central interval at `level` in [0, 1] (inf: the whole age line), (lo, hi) each (N,).

    lo is 0 where the lower level falls below the first class's CDF; hi is inf where the
    upper level reaches the last class's CDF (the estimator's open top class). With these
    ends, y lies in the interval exactly when level_score(y) <= level, and lo <= hi always,
    because the quantile function is non-decreasing and (1 - level)/2 <= (1 + level)/2.
    """
    cdf = _class_cdf(distribution)
    if not level >= 0.0:
        raise ValueError(f"level must be >= 0, got {level}")
    low_level, high_level = (1.0 - level) / 2.0, (1.0 + level) / 2.0
    if math.isinf(level):
        return np.zeros(len(cdf)), np.full(len(cdf), math.inf)
    lo = np.where(low_level <= cdf[:, 0], 0.0, distribution_quantile(ages, distribution, low_level))
    hi = np.where(high_level >= cdf[:, -1], math.inf, distribution_quantile(ages, distribution, high_level))
    return lo, hi


def _finite_or_none(value: float) -> float | None:
    return None if math.isinf(value) else value


@dataclass
class Calibration:
    """Quantiles for both methods on a grid of confidences; `method` is the one the hub uses."""

    method: str
    confidences: list[float]
    # Mondrian: per confidence, one quantile per bin (None: the bin fell back to pooled)
    mondrian_bins: dict[str, list[float | None]]
    mondrian_pooled: dict[str, float | None]
    n_per_bin: list[int]
    min_bin_size: int
    cqr: dict[str, float | None]  # the conformal quantile of the level score; None: too few points
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"calibration method must be one of {METHODS}, got {self.method!r}")

    @staticmethod
    def key(confidence: float) -> str:
        return f"{confidence:.2f}"

    def _check_grid(self, confidence: float) -> str:
        key = self.key(check_confidence(confidence))
        if abs(float(key) - confidence) > 1e-9 or key not in self.cqr:
            raise InputError(  # a request's confidence, named to the caller (a ValueError was a traceback in the CLI)
                f"confidence {confidence} is not on the calibration grid: use {self.confidences[0]:.2f} to "
                f"{self.confidences[-1]:.2f} in steps of 0.01"
            )
        return key

    def mondrian_quantile(self, predicted: float, confidence: float) -> tuple[float | None, bool]:
        """(quantile, fell back to pooled) for one predicted age."""
        key = self._check_grid(confidence)
        value = self.mondrian_bins[key][int(age_bin(predicted))]
        if value is None:
            return self.mondrian_pooled[key], True
        return value, False

    def interval(
        self, predicted: float, ages: np.ndarray, distribution: np.ndarray, confidence: float, method: str | None = None
    ) -> tuple[float, float | None, str]:
        """(lo, hi or None, note) for one face: the vectorised `intervals` on one row, with what it rests on.

        hi is None when the upper end is open; the note says whether the estimator's top class
        or too few calibration faces left it open.
        """
        method = method or self.method
        found = intervals(self, np.array([predicted]), ages, np.atleast_2d(distribution), confidence, method)
        if found.unknown[0]:
            return 0.0, None, UNKNOWN_UPPER
        notes = []
        if method == MONDRIAN and self.mondrian_quantile(predicted, confidence)[1]:
            notes.append(f"age bin {bin_label(int(age_bin(predicted)))} had too few calibration faces; {POOLED_USED}")
        hi: float | None = float(found.hi[0])
        if math.isinf(found.hi[0]):
            hi = None
            notes.append(f"upper end open: the estimator does not tell ages above {np.asarray(ages)[-1]:.0f} apart")
        return float(found.lo[0]), hi, "; ".join(notes)

    @property
    def gender_threshold(self) -> float | None:
        """The gender decision threshold chosen on this calibration's data (engine/age/gender.py); None when the
        artefact has none (made before thresholds were chosen, or its data lacked one gender)."""
        chosen = self.meta.get("gender_threshold") or {}
        return chosen.get("threshold")

    def to_json(self) -> dict:
        return {
            "method": self.method,
            "confidences": self.confidences,
            "mondrian": {
                "bins": self.mondrian_bins,
                "pooled": self.mondrian_pooled,
                "n_per_bin": self.n_per_bin,
                "min_bin_size": self.min_bin_size,
                "bin_labels": [bin_label(i) for i in range(N_BINS)],
            },
            "cqr": self.cqr,
            **self.meta,
        }

    @classmethod
    def from_json(cls, data: dict) -> Calibration:
        known = {"method", "confidences", "mondrian", "cqr"}
        missing = known - data.keys()
        if missing:
            raise ValueError(f"calibration artefact lacks {sorted(missing)}: re-run `python -m engine calibrate`")
        if data["method"] not in METHODS:
            raise ValueError(
                f"calibration artefact uses method {data['method']!r}, which this hub no longer serves "
                f"(it serves {', '.join(METHODS)}): re-run `python -m engine calibrate`"
            )
        threshold = (data.get("gender_threshold") or {}).get("threshold")
        if threshold is not None and not (isinstance(threshold, (int, float)) and 0.0 <= threshold <= 1.0):
            raise ValueError(f"calibration artefact's gender threshold must be a probability in [0, 1], got {threshold!r}")
        mondrian = data["mondrian"]
        return cls(
            method=data["method"],
            confidences=list(data["confidences"]),
            mondrian_bins=mondrian["bins"],
            mondrian_pooled=mondrian["pooled"],
            n_per_bin=list(mondrian["n_per_bin"]),
            min_bin_size=int(mondrian["min_bin_size"]),
            cqr=data["cqr"],
            meta={k: v for k, v in data.items() if k not in known},
        )


def fit(
    y: np.ndarray,
    predicted: np.ndarray,
    ages: np.ndarray,
    distributions: np.ndarray,
    confidences: tuple[float, ...] = CONFIDENCE_GRID,
    min_bin_size: int = 30,
    method: str = MONDRIAN,
) -> Calibration:
    """Calibrate both methods on (true age, predicted age, predicted distribution) triples."""
    y = np.asarray(y, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    if y.shape != predicted.shape or y.ndim != 1 or len(y) == 0:
        raise ValueError(f"need matching 1-D true and predicted ages, got {y.shape} and {predicted.shape}")
    if np.any(~np.isfinite(y)) or np.any(y < 0):
        raise ValueError("true ages must be finite and >= 0")
    bins = age_bin(predicted)
    # a true age past the estimator's top class is scored as the top class: an interval that reaches it is open there
    # (`intervals`), so it holds that face exactly when it holds the top class, and the full distance to a true age of 90
    # only widened every interval of the last bin
    reached = np.minimum(y, float(np.asarray(ages)[-1]))
    scores = normalised_score(reached, predicted)
    levels = level_score(reached, ages, distributions)
    n_per_bin = [int(np.sum(bins == b)) for b in range(N_BINS)]
    mondrian_bins: dict[str, list[float | None]] = {}
    mondrian_pooled: dict[str, float | None] = {}
    cqr: dict[str, float | None] = {}
    for confidence in confidences:
        alpha = 1.0 - confidence
        key = Calibration.key(confidence)
        mondrian_pooled[key] = _finite_or_none(conformal_quantile(scores, alpha))
        per_bin: list[float | None] = []
        for b in range(N_BINS):
            n = n_per_bin[b]
            # A thin bin, or one too small for this alpha's rank, uses the pooled quantile.
            if n < min_bin_size or conformal_rank(n, alpha) > n:
                per_bin.append(None)
            else:
                per_bin.append(conformal_quantile(scores[bins == b], alpha))
        mondrian_bins[key] = per_bin
        cqr[key] = _finite_or_none(conformal_quantile(levels, alpha))
    return Calibration(method, [float(c) for c in confidences], mondrian_bins, mondrian_pooled, n_per_bin, min_bin_size, cqr)


@dataclass(frozen=True)
class Intervals:
    lo: np.ndarray  # (N,) >= 0
    hi: np.ndarray  # (N,) inf where the upper end is open
    unknown: np.ndarray  # (N,) bool: calibration too thin for this confidence (no finite quantile)


def intervals(
    calibration: Calibration,
    predicted: np.ndarray,
    ages: np.ndarray,
    distributions: np.ndarray,
    confidence: float,
    method: str,
) -> Intervals:
    """Vectorised intervals for many faces; an upper end at or above the top class age is open (inf)."""
    key = calibration._check_grid(confidence)
    predicted = np.asarray(predicted, dtype=np.float64)
    top = float(np.asarray(ages)[-1])
    if method == MONDRIAN:
        per_bin = [calibration.mondrian_pooled[key] if q is None else q for q in calibration.mondrian_bins[key]]
        q = np.array([math.inf if per_bin[b] is None else per_bin[b] for b in age_bin(predicted)], dtype=np.float64)
        half = q * np.sqrt(predicted + 1.0)
        lo, hi, unknown = np.maximum(0.0, predicted - half), predicted + half, np.isinf(q)
    elif method == CQR:
        stored = calibration.cqr[key]
        lo, hi = level_interval(ages, distributions, math.inf if stored is None else stored)
        unknown = np.full(len(lo), stored is None)
    else:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    hi = np.where(hi >= top, math.inf, hi)
    return Intervals(lo, hi, unknown)


@dataclass
class Evaluation:
    """Coverage and width on labelled faces, overall and per group.

    Widths are measured up to the estimator's top class age (an open end counts to
    the top class); `mean_width` is inf when any interval's upper bound is unknown.
    Groups: `per_bin` by predicted age (what the Mondrian taxonomy uses),
    `per_true_bin` by true age (what a user of a given age gets), `per_gender`
    by the labelled gender ("unknown" where the label is missing).
    """

    confidence: float
    method: str
    coverage: float
    mean_width: float
    n: int
    per_bin: list[dict]  # {"bin", "n", "coverage", "mean_width"}; coverage None where n = 0
    per_true_bin: list[dict] = field(default_factory=list)
    per_gender: list[dict] = field(default_factory=list)  # {"gender", "n", "coverage", "mean_width"}
    open_upper: float = 0.0  # share of intervals whose upper end is open at the top class


def _group_rows(key: str, labels: list[str], groups: np.ndarray, covered: np.ndarray, width: np.ndarray) -> list[dict]:
    rows = []
    for index, label in enumerate(labels):
        mask = groups == index
        n = int(mask.sum())
        rows.append(
            {
                key: label,
                "n": n,
                "coverage": float(covered[mask].mean()) if n else None,
                "mean_width": float(width[mask].mean()) if n else None,
            }
        )
    return rows


def evaluate(
    calibration: Calibration,
    y: np.ndarray,
    predicted: np.ndarray,
    ages: np.ndarray,
    distributions: np.ndarray,
    confidence: float,
    method: str,
    genders: list[str | None] | None = None,
) -> Evaluation:
    """Coverage and mean width on held-out faces: overall, per predicted-age bin, per true-age bin, per gender."""
    y = np.asarray(y, dtype=np.float64)
    found = intervals(calibration, predicted, ages, distributions, confidence, method)
    covered = (y >= found.lo) & (y <= found.hi)
    top = float(np.asarray(ages)[-1])
    width = np.where(found.unknown, math.inf, np.minimum(found.hi, top) - found.lo)
    labels = [bin_label(b) for b in range(N_BINS)]
    gender_labels = ["female", "male", "unknown"]
    gender_of = np.array([gender_labels.index(g if g in ("female", "male") else "unknown") for g in (genders or [None] * len(y))])
    present = [label for i, label in enumerate(gender_labels) if np.any(gender_of == i)]
    per_gender = [row for row in _group_rows("gender", gender_labels, gender_of, covered, width) if row["gender"] in present]
    return Evaluation(
        confidence,
        method,
        float(covered.mean()),
        float(width.mean()),
        len(y),
        _group_rows("bin", labels, age_bin(predicted), covered, width),
        _group_rows("bin", labels, age_bin(y), covered, width),
        per_gender,
        float(np.mean(np.isinf(found.hi) & ~found.unknown)),
    )


def coverage_tolerance(confidence: float, n: int) -> float:
    """Two binomial standard errors of a coverage measured on n faces."""
    return 2.0 * math.sqrt(confidence * (1.0 - confidence) / max(n, 1))


def coverage_is_valid(evaluation: Evaluation) -> bool:
    """Held-out coverage within two binomial standard errors below nominal (or above it)."""
    return evaluation.coverage >= evaluation.confidence - coverage_tolerance(evaluation.confidence, evaluation.n)


def choose_method(evaluations: dict[str, Evaluation]) -> tuple[str, str]:
    """(method, reason): the smaller mean width among methods with valid coverage."""
    valid = {m: e for m, e in evaluations.items() if coverage_is_valid(e) and math.isfinite(e.mean_width)}
    if valid:
        best = min(valid, key=lambda m: valid[m].mean_width)
        return best, f"smallest mean width ({valid[best].mean_width:.2f} y) among methods with valid coverage"
    best = max(evaluations, key=lambda m: evaluations[m].coverage)
    return best, "no method reached valid coverage; the one with the highest coverage is used"
