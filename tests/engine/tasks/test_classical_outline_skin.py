"""The skin beyond FaceMesh's outline, the forehead up to the hairline and the ears, changes with the face: its colour
older, its creases and tone younger (on the packaged portraits of Biden, 70, and Obama, 51)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.core.settings import Settings
from engine.methods.classical.aging import outline_skin
from engine.methods.classical.lifespan import age_face, hair_masks
from engine.methods.ldla.pipeline import locate, skin_mask
from evaluation.packaged_faces import cached_path, load, packaged_faces

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")


def _portrait(name: str):
    face = next(face for face in packaged_faces() if face.name == name)
    if not cached_path(face).exists():
        pytest.skip("needs the packaged benchmark photos: run `make benchmark-data`")
    image = load(face)
    located = locate(image, OFFLINE)
    masks = hair_masks(located, OFFLINE)
    skin = skin_mask(located)
    forehead, ears = outline_skin(located.crop, located.points, skin, masks.hair)
    return image, located, masks, skin > 0, forehead > 0, ears > 0


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)


def _creases(lightness: np.ndarray) -> np.ndarray:
    return np.abs(lightness - cv2.GaussianBlur(lightness, (0, 0), 3.0))


def test_the_forehead_above_the_outline_loses_its_creases_and_brightens_with_the_face():
    # Biden's high forehead runs on above FaceMesh's outline: its creases stayed there at 30 while the face's went, a
    # line across his brow between smooth skin and creased (looked at)
    image, located, masks, skin, forehead, _ = _portrait("biden")
    assert forehead.sum() > 10000  # about a third of his forehead's skin
    after = age_face(image, located, masks, 70, 30, 0, OFFLINE).after
    before, young = _lab(located.crop), _lab(after)
    for region in (skin, forehead):
        assert _creases(young[..., 0])[region].mean() < 0.8 * _creases(before[..., 0])[region].mean()
    face_lift = young[..., 0][skin].mean() - before[..., 0][skin].mean()
    assert young[..., 0][forehead].mean() - before[..., 0][forehead].mean() > 0.5 * face_lift > 0


def test_the_ears_and_upper_forehead_turn_sallow_with_the_face():
    # Obama at 80: his face turned less rosy and more yellow and his ears stayed pink, a mask between them (looked at)
    image, located, masks, skin, forehead, ears = _portrait("obama")
    assert forehead.sum() > 3000 and ears.sum() > 3000
    aged = age_face(image, located, masks, 51, 80, 0, OFFLINE)
    assert aged.stages["colour"].endswith("(face, neck, upper forehead and ears)")
    before, after = _lab(located.crop), _lab(aged.after)

    def shift(region: np.ndarray) -> float:  # the change of the region's mean a*b*
        return float(np.hypot(*(after[..., 1:][region].mean(0) - before[..., 1:][region].mean(0))))

    assert shift(skin) > 2.0
    assert shift(ears) > 0.4 * shift(skin) and shift(forehead) > 0.4 * shift(skin)
