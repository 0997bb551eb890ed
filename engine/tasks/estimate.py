"""Age estimation with intervals for every upright face in a photo: the engine call behind the tab and the CLI.

The tab and the CLI build an `EstimateRequest` (checked once, on creation) and call `estimate`;
`estimate_ages(rgb, confidence)` is the same call on a bare array.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.age.calibration import load_calibration
from engine.age.conformal import POOLED_USED, UNKNOWN_UPPER, Calibration, check_confidence
from engine.age.estimators import age_estimator
from engine.age.gender import DEFAULT_THRESHOLD, gender_of
from engine.core.images import check_rgb
from engine.core.registry import get_cache
from engine.core.settings import Settings, get_settings
from engine.faces.alignment import check_face_upright, faces_or_why_not
from engine.faces.detection import AT_WORKING_SIZE, MIN_FACE_PX, Face, FaceDetector, UpsideDownError

UNCALIBRATED = "none (uncalibrated)"

NO_INTERVAL = (
    "uncalibrated: no interval. The estimator's own spread is overconfident on real faces, so it is not shown "
    "as a confidence interval; load a calibration (HUB_CALIBRATION) or run `python -m engine calibrate --data DIR`"
)

OPEN_AT_CAP = "cap"  # the upper end reaches the estimator's top class, which holds every older age
OPEN_UNKNOWN = "unknown"  # too few calibration faces for this confidence

THRESHOLD_FROM_CALIBRATION = "chosen on the calibration data"
THRESHOLD_DEFAULT = "the default (the calibration loaded has no gender threshold)"
THRESHOLD_UNCALIBRATED = "the default (no calibration loaded)"


def age_text(age: float, top_age: float) -> str:
    """The age as shown: whole years, or "80+" when it rounds to the estimator's top class."""
    return f"{top_age:.0f}+" if round(age) >= top_age else f"{age:.1f}"


@dataclass
class FaceAge:
    index: int
    box: list[float]  # [x0, y0, x1, y1] in original pixels
    age: float
    interval: tuple[float, float | None] | None  # None: uncalibrated, no interval; hi None: open upper end
    confidence: float
    calibrated: bool
    method: str
    gender: str
    p_female: float
    ages: np.ndarray
    distribution: np.ndarray
    note: str = ""
    upper_open: str | None = None  # OPEN_AT_CAP or OPEN_UNKNOWN when the interval's upper end is open
    gender_threshold: float = DEFAULT_THRESHOLD  # female when p_female >= this
    gender_threshold_from: str = THRESHOLD_UNCALIBRATED

    @property
    def top_age(self) -> float:
        return float(self.ages[-1])

    @property
    def at_cap(self) -> bool:
        """The estimate rounds to the estimator's top class: the person may be that age or older."""
        return round(self.age) >= self.top_age

    @property
    def age_text(self) -> str:
        return age_text(self.age, self.top_age)

    @property
    def interval_text(self) -> str:
        if self.interval is None:
            return "none (uncalibrated)"
        lo, hi = self.interval
        if hi is None:
            return f"{lo:.0f} - {self.top_age:.0f}+" if self.upper_open == OPEN_AT_CAP else f"{lo:.0f} - unknown"
        return f"{lo:.0f} - {hi:.0f}"

    def to_json(self, image: str, scale: float = 1.0) -> dict:
        """The face as JSON; `scale` maps the box to the pixels of the photo as given, when the engine
        worked on a downscaled copy (engine.core.images.LoadedImage.scale)."""
        interval = None
        if self.interval is not None:
            lo, hi = self.interval
            interval = [round(lo, 1), None if hi is None else round(hi, 1)]
        return {
            "image": image,
            "face": self.index,
            "box": [round(v * scale, 1) for v in self.box] if scale != 1.0 else self.box,
            "age": round(self.age, 1),
            "age_text": self.age_text,
            "at_cap": self.at_cap,
            "interval": interval,
            "interval_text": self.interval_text,
            "upper_open": self.upper_open,
            "confidence": self.confidence,
            "calibrated": self.calibrated,
            "method": self.method,
            "gender": self.gender,
            "p_female": round(self.p_female, 3),
            "gender_threshold": round(self.gender_threshold, 4),
            "gender_threshold_from": self.gender_threshold_from,
            **({"note": self.note} if self.note else {}),
        }


@dataclass
class AgeAnalysis:
    faces: list[FaceAge]
    estimator: str
    calibration: str  # what the intervals rest on, or why they are uncalibrated
    warnings: list[str] = field(default_factory=list)

    @property
    def calibrated(self) -> bool:
        return bool(self.faces) and self.faces[0].calibrated


@dataclass
class EstimateRequest:
    """One estimation request, checked on creation."""

    rgb: np.ndarray  # (H, W, 3) uint8
    confidence: float = 0.9  # of each interval, strictly between 0 and 1

    def __post_init__(self) -> None:
        check_rgb(self.rgb)
        self.confidence = check_confidence(self.confidence)


def gender_threshold(calibration: Calibration | None) -> tuple[float, str]:
    """(threshold, where it comes from): the calibration's chosen threshold, or 0.5 and why."""
    if calibration is None:
        return DEFAULT_THRESHOLD, THRESHOLD_UNCALIBRATED
    if calibration.gender_threshold is None:
        return DEFAULT_THRESHOLD, THRESHOLD_DEFAULT
    return calibration.gender_threshold, THRESHOLD_FROM_CALIBRATION


def estimate(request: EstimateRequest, settings: Settings | None = None) -> AgeAnalysis:
    """Every upright face in the photo, largest first, with age, interval and gender; one upside down or on its side is
    named in a warning (`upright_faces`)."""
    rgb, confidence = request.rgb, request.confidence
    settings = settings or get_settings()
    cache = get_cache(settings)
    # 1. detect
    detector = cache.get("face_detector")
    faces = faces_or_why_not(detector, rgb)
    # 2. a face upside down or on its side is given no age (the estimator reads it as an upright face, its mouth for its
    # eyes): named in a warning, or the photo refused when every face is so; the others keep the detector's numbers
    upright, turned = upright_faces(detector, rgb, faces)
    if not upright:
        first = turned[0]  # every face is turned, the first among them
        raise UpsideDownError(
            first.finding
            if len(turned) == 1
            else f"All {len(turned)} faces found look upside down or on their side. Face 0: {first.finding}"
        )
    warnings = [f"Face {index} is given no age: {error.finding}" for index, error in turned.items()]
    # 3. estimate the age distribution and gender of each face
    estimator = age_estimator(settings)
    estimates = estimator.estimate(rgb, [face for _, face in upright])
    # 4. intervals: conformal when an artefact for this estimator is loaded, else none
    calibration, calibration_note = load_calibration(settings, estimator.estimator_id)
    # 5. gender: the threshold chosen on the calibration data when the artefact has one, else 0.5
    threshold, threshold_from = gender_threshold(calibration)
    warnings += [
        f"Face {i} is cut by the image border; its estimate may be less reliable." for i, f in upright if f.cut_by_border
    ]
    # a face narrower than the size every message asks for: Biden's face read about 70 at 58 px wide and more, 37 and 46
    # at 17 and 14 px, each with an interval and nothing said
    warnings += [
        f"Face {i} is {math.floor(f.box[2])} px wide, under the {MIN_FACE_PX} px an estimate needs {AT_WORKING_SIZE}: its age "
        "is read from too few pixels to rely on"
        + (", and its interval's coverage, measured on larger faces, does not hold for it" if calibration is not None else "")
        + "."
        for i, f in upright
        if f.box[2] < MIN_FACE_PX
    ]
    results = []
    for (index, face), estimate in zip(upright, estimates):
        interval: tuple[float, float | None] | None = None
        upper_open = None
        if calibration is not None:
            lo, hi, note = calibration.interval(estimate.age, estimate.ages, estimate.distribution, confidence)
            interval, method = (lo, hi), calibration.method
            if hi is None:
                upper_open = OPEN_UNKNOWN if note == UNKNOWN_UPPER else OPEN_AT_CAP
        else:
            note, method = NO_INTERVAL, UNCALIBRATED
        results.append(
            FaceAge(
                index=index,
                box=face.box_xyxy(),
                age=estimate.age,
                interval=interval,
                confidence=confidence,
                calibrated=calibration is not None,
                method=method,
                gender=gender_of(estimate.p_female, threshold),
                p_female=estimate.p_female,
                ages=estimate.ages,
                distribution=estimate.distribution,
                note=note,
                upper_open=upper_open,
                gender_threshold=threshold,
                gender_threshold_from=threshold_from,
            )
        )
    # a thin age bin's interval rests on the quantile of every age: said where the faces are, not only in the JSON
    warnings += [
        f"Face {face.index}'s interval rests on the calibration's faces of every age: its age bin had too few, so its "
        f"{face.confidence:.0%} holds on average over all ages, not for faces of its age."
        for face in results
        if POOLED_USED in face.note
    ]
    return AgeAnalysis(results, estimator.estimator_id, calibration_note, warnings)


def upright_faces(
    detector: FaceDetector, rgb: np.ndarray, faces: list[Face]
) -> tuple[list[tuple[int, Face]], dict[int, UpsideDownError]]:
    """The detector's `faces` of `rgb` that are upright, each with its number (its place in `faces`), and, by number,
    `check_face_upright`'s refusal of each other face."""
    upright, turned = [], {}
    for index, face in enumerate(faces):
        try:
            check_face_upright(detector, rgb, face)
        except UpsideDownError as error:
            turned[index] = error
        else:
            upright.append((index, face))
    return upright, turned


def estimate_ages(rgb: np.ndarray, confidence: float = 0.9, settings: Settings | None = None) -> AgeAnalysis:
    """`estimate` on a bare photo array."""
    return estimate(EstimateRequest(rgb, confidence), settings)
