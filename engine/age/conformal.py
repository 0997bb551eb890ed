"""Conformal age intervals: pure maths, no model I/O.

Two split-conformal methods, both with the finite-sample quantile (the score at
rank ceil((n + 1)(1 - alpha)) of n calibration scores):

- Mondrian normalised residuals: score |y - yhat| / sqrt(yhat + 1), one quantile
  per 10-year bin of the *predicted* age (the true age is unknown when
  predicting); a bin with too few points falls back to the pooled quantile.
  Interval yhat -/+ q sqrt(yhat + 1).
- Conformalised quantiles from the estimator's own distribution (CQR-style): the
  central (alpha/2, 1 - alpha/2) quantiles of the predicted distribution, widened
  by the conformal quantile of max(lo - y, y - hi).

Without calibration the interval is the central interval of the predicted
distribution, and it is labelled uncalibrated.

Intervals are intersected with [0, inf): an age is never negative. An upper
bound that calibration cannot support (too few points for the confidence) is
None, never a made-up number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.core.errors import InputError

BIN_WIDTH = 10

N_BINS = 8  # 0-9, 10-19, ..., 60-69, 70-80 (80, the estimator's top class, joins the last bin)

MONDRIAN = "mondrian-normalised"

CQR = "cqr-distribution"

METHODS = (MONDRIAN, CQR)

CONFIDENCE_GRID = tuple(round(0.50 + 0.01 * i, 2) for i in range(50))  # 0.50 .. 0.99


def check_confidence(confidence: float) -> float:
    if not (isinstance(confidence, (int, float)) and 0.0 < confidence < 1.0) or math.isnan(confidence):
        raise InputError(f"confidence must be strictly between 0 and 1 (e.g. 0.9), got {confidence!r}")
    return float(confidence)


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


def age_bin(predicted: np.ndarray | float) -> np.ndarray:
    """10-year bin index of a predicted age; ages of 80 and over join the last bin."""
    return np.clip(np.floor(np.asarray(predicted, dtype=np.float64) / BIN_WIDTH), 0, N_BINS - 1).astype(int)


def bin_label(index: int) -> str:
    low = index * BIN_WIDTH
    return f"{low}-{low + BIN_WIDTH - 1}" if index < N_BINS - 1 else f"{low}+"


def distribution_quantile(ages: np.ndarray, distribution: np.ndarray, q: np.ndarray | float) -> np.ndarray:
    """Quantile(s) of a discrete age distribution, interpolated linearly between class ages.

    `distribution` is (K,) or (N, K); `q` a scalar or (N,). Returns (N,) or a scalar.
    """
    distribution = np.atleast_2d(np.asarray(distribution, dtype=np.float64))
    ages = np.asarray(ages, dtype=np.float64)
    q = np.broadcast_to(np.asarray(q, dtype=np.float64), (distribution.shape[0],))
    distribution = distribution / distribution.sum(axis=1, keepdims=True)
    # Each class's mass is centred on its age: the CDF passes through cdf - p/2 there.
    cdf = np.cumsum(distribution, axis=1) - distribution / 2
    rows = np.arange(len(cdf))
    top = np.minimum((cdf < q[:, None]).sum(axis=1), len(ages) - 1)  # first class at or above q
    below = np.maximum(top - 1, 0)
    c_low = cdf[rows, below]
    c_high = cdf[rows, top]
    t = np.where(c_high > c_low, (q - c_low) / np.where(c_high > c_low, c_high - c_low, 1.0), 1.0)
    return ages[below] + np.clip(t, 0.0, 1.0) * (ages[top] - ages[below])


def central_interval(ages: np.ndarray, distribution: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """The central `confidence` interval of each predicted distribution: (lo, hi), each (N,)."""
    alpha = 1.0 - check_confidence(confidence)
    return (
        distribution_quantile(ages, distribution, alpha / 2),
        distribution_quantile(ages, distribution, 1 - alpha / 2),
    )


def cqr_score(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    return np.maximum(lo - y, y - hi)


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
    cqr: dict[str, float | None]
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
            raise ValueError(
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
        """(lo, hi or None, note) for one face: the vectorised `intervals` on one row, with what it rests on."""
        method = method or self.method
        lo, hi = intervals(self, np.array([predicted]), ages, np.atleast_2d(distribution), confidence, method)
        if math.isinf(hi[0]):
            return 0.0, None, "too few calibration faces for this confidence: upper bound unknown"
        note = ""
        if method == MONDRIAN and self.mondrian_quantile(predicted, confidence)[1]:
            note = f"age bin {bin_label(int(age_bin(predicted)))} had too few calibration faces; pooled quantile used"
        return float(lo[0]), float(hi[0]), note

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
    scores = normalised_score(y, predicted)
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
        lo, hi = central_interval(ages, distributions, confidence)
        cqr[key] = _finite_or_none(conformal_quantile(cqr_score(y, lo, hi), alpha))
    return Calibration(method, [float(c) for c in confidences], mondrian_bins, mondrian_pooled, n_per_bin, min_bin_size, cqr)


def intervals(
    calibration: Calibration,
    predicted: np.ndarray,
    ages: np.ndarray,
    distributions: np.ndarray,
    confidence: float,
    method: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised intervals for many faces: (lo, hi), hi = inf where unknown."""
    key = calibration._check_grid(confidence)
    predicted = np.asarray(predicted, dtype=np.float64)
    if method == MONDRIAN:
        per_bin = np.array(
            [calibration.mondrian_pooled[key] if q is None else q for q in calibration.mondrian_bins[key]],
            dtype=object,
        )
        q = np.array([math.inf if v is None else v for v in per_bin[age_bin(predicted)]], dtype=np.float64)
        half = q * np.sqrt(predicted + 1.0)
        return np.maximum(0.0, predicted - half), predicted + half
    stored = calibration.cqr[key]
    correction = math.inf if stored is None else stored
    lo, hi = central_interval(ages, distributions, confidence)
    return np.maximum(0.0, lo - correction), hi + correction


@dataclass
class Evaluation:
    confidence: float
    method: str
    coverage: float
    mean_width: float
    n: int
    per_bin: list[dict]  # {"bin", "n", "coverage", "mean_width"}; coverage None where n = 0


def evaluate(
    calibration: Calibration,
    y: np.ndarray,
    predicted: np.ndarray,
    ages: np.ndarray,
    distributions: np.ndarray,
    confidence: float,
    method: str,
) -> Evaluation:
    """Coverage and mean width on held-out faces, overall and per predicted-age bin."""
    y = np.asarray(y, dtype=np.float64)
    lo, hi = intervals(calibration, predicted, ages, distributions, confidence, method)
    covered = (y >= lo) & (y <= hi)
    width = hi - lo
    bins = age_bin(predicted)
    per_bin = []
    for b in range(N_BINS):
        mask = bins == b
        n = int(mask.sum())
        per_bin.append(
            {
                "bin": bin_label(b),
                "n": n,
                "coverage": float(covered[mask].mean()) if n else None,
                "mean_width": float(width[mask].mean()) if n else None,
            }
        )
    return Evaluation(confidence, method, float(covered.mean()), float(width.mean()), len(y), per_bin)


def coverage_is_valid(evaluation: Evaluation) -> bool:
    """Held-out coverage within two binomial standard errors below nominal (or above it)."""
    nominal = evaluation.confidence
    tolerance = 2.0 * math.sqrt(nominal * (1.0 - nominal) / max(evaluation.n, 1))
    return evaluation.coverage >= nominal - tolerance


def choose_method(evaluations: dict[str, Evaluation]) -> tuple[str, str]:
    """(method, reason): the smaller mean width among methods with valid coverage."""
    valid = {m: e for m, e in evaluations.items() if coverage_is_valid(e) and math.isfinite(e.mean_width)}
    if valid:
        best = min(valid, key=lambda m: valid[m].mean_width)
        return best, f"smallest mean width ({valid[best].mean_width:.2f} y) among methods with valid coverage"
    best = max(evaluations, key=lambda m: evaluations[m].coverage)
    return best, "no method reached valid coverage on held-out data; the one with the highest coverage is used"
