"""The gender decision threshold, chosen on calibration data: pure maths, no model I/O.

The estimator gives p(female) per face and, untuned, calls a face female when p >= 0.5.
The conformal age-estimation report tunes its gender model's threshold on the
calibration set ("we made predictions on the calibration set and tested different
thresholds for the gender model to find the best F1 score and balanced accuracy", its
"Thresholds & Saving Results"). It names both criteria without saying which decided;
this hub maximises balanced accuracy by default (symmetric in the two genders, so the
share of each in the calibration data does not move the threshold) and offers F1 of
"female" (the report's sigmoid gives p(female)) as the other setting.

Every threshold that splits the calibration faces differently is tried: the midpoints
between consecutive distinct probabilities. Ties go to the threshold nearest 0.5, the
untuned rule, so the data move it only as far as they must.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

DEFAULT_THRESHOLD = 0.5  # the two-class argmax: female when p(female) >= 0.5 (the report's thr=0.5 before tuning)

BALANCED_ACCURACY = "balanced_accuracy"

F1 = "f1"

CRITERIA = (BALANCED_ACCURACY, F1)


def _counts(p_female: np.ndarray, is_female: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(true positives, false positives, positives, negatives) for each threshold; female = positive, p >= t."""
    female = np.sort(p_female[is_female])
    male = np.sort(p_female[~is_female])
    tp = len(female) - np.searchsorted(female, thresholds, side="left")  # females with p >= t
    fp = len(male) - np.searchsorted(male, thresholds, side="left")
    return tp.astype(np.float64), fp.astype(np.float64), float(len(female)), float(len(male))


def _check(p_female, is_female) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p_female, dtype=np.float64)
    labels = np.asarray(is_female, dtype=bool)
    if p.ndim != 1 or p.shape != labels.shape:
        raise ValueError(f"need matching 1-D probabilities and labels, got {p.shape} and {labels.shape}")
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p(female) must be probabilities in [0, 1]")
    return p, labels


def scores(p_female, is_female, thresholds, criterion: str = BALANCED_ACCURACY) -> np.ndarray:
    """The criterion at each threshold (a face is called female when p(female) >= threshold).

    Balanced accuracy: (TPR + TNR) / 2. F1 of "female": 2 TP / (2 TP + FP + FN), 0 when no
    face is called female and none is. A class absent from the labels gives NaN.
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
    p, labels = _check(p_female, is_female)
    thresholds = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    tp, fp, positives, negatives = _counts(p, labels, thresholds)
    if criterion == BALANCED_ACCURACY:
        if positives == 0 or negatives == 0:
            return np.full(len(thresholds), np.nan)
        return (tp / positives + (negatives - fp) / negatives) / 2.0
    fn = positives - tp
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.where(denominator > 0, denominator, 1.0), 0.0)


def candidate_thresholds(p_female) -> np.ndarray:
    """Midpoints between consecutive distinct probabilities: one threshold per distinct split of the faces."""
    values = np.unique(np.asarray(p_female, dtype=np.float64))
    if len(values) < 2:
        return np.array([DEFAULT_THRESHOLD])
    return (values[:-1] + values[1:]) / 2.0


@dataclass(frozen=True)
class GenderThreshold:
    """A threshold chosen on labelled faces, with what it rests on."""

    threshold: float
    criterion: str
    score: float  # the criterion at `threshold` on the faces it was chosen on
    score_at_default: float  # the criterion at 0.5 on the same faces
    n_female: int
    n_male: int

    def to_json(self) -> dict:
        return asdict(self)


def choose_threshold(p_female, is_female, criterion: str = BALANCED_ACCURACY) -> GenderThreshold:
    """The threshold that maximises `criterion` on these faces; ties go to the one nearest 0.5.

    Needs faces of both genders: with one, every threshold that calls all faces that gender
    is "best" and says nothing about the other.
    """
    p, labels = _check(p_female, is_female)
    n_female, n_male = int(labels.sum()), int((~labels).sum())
    if n_female == 0 or n_male == 0:
        raise ValueError(
            f"choosing a gender threshold needs labelled faces of both genders, got {n_female} female and {n_male} male"
        )
    thresholds = candidate_thresholds(p)
    values = scores(p, labels, thresholds, criterion)
    best = np.flatnonzero(values >= values.max() - 1e-12)
    chosen = float(thresholds[best[np.argmin(np.abs(thresholds[best] - DEFAULT_THRESHOLD))]])
    return GenderThreshold(
        threshold=chosen,
        criterion=criterion,
        score=float(scores(p, labels, [chosen], criterion)[0]),
        score_at_default=float(scores(p, labels, [DEFAULT_THRESHOLD], criterion)[0]),
        n_female=n_female,
        n_male=n_male,
    )


def gender_of(p_female: float, threshold: float = DEFAULT_THRESHOLD) -> str:
    """'female' when p(female) >= threshold, else 'male'."""
    return "female" if p_female >= threshold else "male"
