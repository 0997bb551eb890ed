"""Age estimation with intervals for every face in a photo: the engine call behind the tab and the CLI.

The tab and the CLI build an `EstimateRequest` (checked once, on creation) and call `estimate`;
`estimate_ages(rgb, confidence)` is the same call on a bare array.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.age.calibration import load_calibration
from engine.age.conformal import central_interval, check_confidence
from engine.age.estimators import age_estimator
from engine.core.images import check_rgb
from engine.core.registry import get_cache
from engine.core.settings import Settings, get_settings
from engine.faces.detection import NoFaceError

UNCALIBRATED = "distribution (uncalibrated)"


@dataclass
class FaceAge:
    index: int
    box: list[float]  # [x0, y0, x1, y1] in original pixels
    age: float
    interval: tuple[float, float | None]
    confidence: float
    calibrated: bool
    method: str
    gender: str
    p_female: float
    ages: np.ndarray
    distribution: np.ndarray
    note: str = ""

    def to_json(self, image: str, scale: float = 1.0) -> dict:
        """The face as JSON; `scale` maps the box to the pixels of the photo as given, when the engine
        worked on a downscaled copy (engine.core.images.LoadedImage.scale)."""
        lo, hi = self.interval
        return {
            "image": image,
            "face": self.index,
            "box": [round(v * scale, 1) for v in self.box] if scale != 1.0 else self.box,
            "age": round(self.age, 1),
            "interval": [round(lo, 1), None if hi is None else round(hi, 1)],
            "confidence": self.confidence,
            "calibrated": self.calibrated,
            "method": self.method,
            "gender": self.gender,
            "p_female": round(self.p_female, 3),
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


def estimate(request: EstimateRequest, settings: Settings | None = None) -> AgeAnalysis:
    """Every face in the photo, largest first, with age, interval and gender."""
    rgb, confidence = request.rgb, request.confidence
    settings = settings or get_settings()
    cache = get_cache(settings)
    # 1. detect
    faces = cache.get("face_detector").detect(rgb)
    if not faces:
        raise NoFaceError("No face found: try a sharper, frontal photo where the face is at least 40 px wide.")
    # 2. estimate the age distribution and gender of each face
    estimator = age_estimator(settings)
    estimates = estimator.estimate(rgb, faces)
    # 3. intervals: conformal when an artefact for this estimator exists, else the distribution's own
    calibration, calibration_note = load_calibration(settings.calibration_path, estimator.estimator_id)
    warnings = [
        f"Face {i} is cut by the image border; its estimate may be less reliable." for i, f in enumerate(faces) if f.cut_by_border
    ]
    results = []
    for index, (face, estimate) in enumerate(zip(faces, estimates)):
        if calibration is not None:
            lo, hi, note = calibration.interval(estimate.age, estimate.ages, estimate.distribution, confidence)
            method = calibration.method
        else:
            low, high = central_interval(estimate.ages, estimate.distribution, confidence)
            lo, hi, note, method = float(low[0]), float(high[0]), "", UNCALIBRATED
        results.append(
            FaceAge(
                index=index,
                box=face.box_xyxy(),
                age=estimate.age,
                interval=(lo, hi),
                confidence=confidence,
                calibrated=calibration is not None,
                method=method,
                gender=estimate.gender,
                p_female=estimate.p_female,
                ages=estimate.ages,
                distribution=estimate.distribution,
                note=note,
            )
        )
    return AgeAnalysis(results, estimator.estimator_id, calibration_note, warnings)


def estimate_ages(rgb: np.ndarray, confidence: float = 0.9, settings: Settings | None = None) -> AgeAnalysis:
    """`estimate` on a bare photo array."""
    return estimate(EstimateRequest(rgb, confidence), settings)
