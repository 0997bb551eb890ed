"""Hair greying and the receding hairline option of the classical renderer on the shipped astronaut portrait."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.core.errors import InputError
from engine.core.settings import Settings
from engine.methods.classical.lifespan import age_face, hair_masks
from engine.methods.ldla.pipeline import locate
from engine.tasks.lifespan import LifespanRequest, age_photo
from tests.conftest import astronaut

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")


@pytest.fixture(scope="module")
def astronaut_hair():
    image = astronaut()
    located = locate(image, OFFLINE)
    masks = hair_masks(located, OFFLINE)
    faces = {target: age_face(image, located, masks, 41, target, 0, OFFLINE).after for target in (40, 70)}
    return located, masks, faces


def _lab(rgb: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)[mask > 0]
    return float(lab[:, 0].mean()), float(np.hypot(lab[:, 1] - 128, lab[:, 2] - 128).mean())


def test_blond_hair_is_lighter_and_less_saturated_at_70_than_at_40(astronaut_hair):
    _, masks, faces = astronaut_hair
    light_40, chroma_40 = _lab(faces[40], masks.hair)
    light_70, chroma_70 = _lab(faces[70], masks.hair)
    assert light_70 > light_40 + 15
    assert chroma_70 < 0.6 * chroma_40


def test_the_crown_has_no_large_pigmented_holes(astronaut_hair):
    located, masks, faces = astronaut_hair
    brows = located.points[[70, 63, 105, 66, 107, 300, 293, 334, 296, 336], 1].min()
    crown = masks.hair.copy()
    crown[int(brows) :] = 0
    # the mask: one piece over the crown, with no holes left in it
    count, labels, stats, _ = cv2.connectedComponentsWithStats(crown, connectivity=8)
    assert stats[1:, cv2.CC_STAT_AREA].max() > 0.97 * crown.sum()
    filled = crown.copy()
    contours, _ = cv2.findContours(crown, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(filled, contours, -1, 1, -1)
    assert (filled.sum() - crown.sum()) < 0.01 * crown.sum()
    # the greying: at 70 (about 90 % of the strands white) no patch of hair keeps its colour; unchanged
    # hair comes only as single strands, never as blotches
    unchanged = (np.abs(faces[70].astype(int) - located.crop.astype(int)).max(-1) < 4) & (crown > 0)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(unchanged.astype(np.uint8), connectivity=8)
    largest = stats[1:, cv2.CC_STAT_AREA].max() if count > 1 else 0
    assert largest < 0.002 * crown.sum()


def test_receding_hairline_is_an_option_named_in_the_manifest():
    image = astronaut()
    plain = age_photo(LifespanRequest(image, [70], source_age=40, renderer="classical"), OFFLINE)
    asked = age_photo(LifespanRequest(image, [70], source_age=40, renderer="classical", receding_hairline=True), OFFLINE)
    assert "hairline" not in plain.manifest()["classical_stages"]["70"]  # off by default
    # the astronaut's fringe hides her forehead: the option says why it did nothing, and changes nothing
    assert "fringe" in asked.manifest()["classical_stages"]["70"]["hairline"]
    assert np.array_equal(asked.faces[0], plain.faces[0])
    with pytest.raises(InputError, match="receding hairline option needs the classical renderer"):
        LifespanRequest(image, [70], renderer="diffusion", receding_hairline=True)
