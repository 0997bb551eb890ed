"""The classical renderer's younger targets on Grace Hopper (80, glasses): a clean chin and tinted lenses."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.core.settings import Settings
from engine.faces.zones import LEFT_EYE, LEFT_MOUTH, OUTER_LIPS, RIGHT_EYE, RIGHT_MOUTH, inter_ocular
from engine.methods.classical.youth import glasses_lenses
from engine.methods.ldla.pipeline import locate, skin_mask
from engine.tasks.lifespan import LifespanRequest, age_photo
from tests.conftest import astronaut, grace_hopper

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")
CHIN = 152
# The chin's skin below the mouth may be darker at 10 than at 80 by at most this much CIELAB lightness (OpenCV's
# 0-255 scale): the younger skin's creases are filled and it is brightened, so it comes out lighter (164 against 147).
CHIN_DARKER_AT_MOST = 3.0
# Seen through her lenses at 20 the tint (a*, b*) stays within this many levels of the source's, and the lightness
# rises only by the creases filled under the eyes: the milky lenses were 15.6 levels lighter and 1.3 less red.
LENS_TINT_LEVELS = 1.0
LENS_LIGHTER_AT_MOST = 12.0
# At 5 her lower lip to chin is shorter than at 80 by at least this many inter-ocular distances (the strain's
# 14 % at the chin is about 0.07 d there; FaceMesh's re-landmarking noise is about 0.01 d).
LOWER_FACE_SHORTER = 0.02


def _chin_lightness(photo: np.ndarray) -> float:
    """Mean CIELAB lightness of the skin between the lower lip and the chin, within the mouth's width, where
    FaceMesh finds them on `photo` (re-landmarked: a younger face's chin is higher)."""
    located = locate(photo, OFFLINE)
    p = located.points[:, :2]
    d = inter_ocular(p)
    lip_bottom = p[OUTER_LIPS, 1].max()
    x0, x1 = sorted((p[RIGHT_MOUTH, 0], p[LEFT_MOUTH, 0]))
    region = np.zeros(located.crop.shape[:2], np.uint8)
    top, bottom = int(round(lip_bottom + 0.05 * d)), int(round(p[CHIN, 1] - 0.03 * d))
    region[top:bottom, int(round(x0)) : int(round(x1))] = 1
    region &= skin_mask(located) > 0
    assert region.sum() > 500  # the chin is found and measured
    lightness = cv2.cvtColor(located.crop, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float64)
    return float(lightness[region > 0].mean())


def _lower_face(photo: np.ndarray) -> float:
    """The lower lip's bottom to the chin, in inter-ocular distances, where FaceMesh finds them on `photo`."""
    p = locate(photo, OFFLINE).points[:, :2]
    return float((p[CHIN, 1] - p[OUTER_LIPS, 1].max()) / inter_ocular(p))


def test_grace_hopper_as_a_child_has_a_short_clean_chin():
    image = grace_hopper()
    output = age_photo(LifespanRequest(image, [5, 10, 80], source_age=80, renderer="classical"), OFFLINE)
    assert output.photos is not None
    five, ten, same = output.photos
    young, old = _chin_lightness(ten), _chin_lightness(same)
    assert young > old - CHIN_DARKER_AT_MOST, (young, old)
    # a child's lower face is shorter: where the strain faded across the chin, the mouth rose and the chin
    # stayed (0.54 d at 5 against 0.52 d at 80, with the jaw's shadow stretched over the chin)
    assert _lower_face(five) < _lower_face(same) - LOWER_FACE_SHORTER, (_lower_face(five), _lower_face(same))


def test_grace_hoppers_lenses_keep_their_tint_at_20():
    image = grace_hopper()
    located = locate(image, OFFLINE)
    skin = skin_mask(located)
    lenses = glasses_lenses(located.crop, skin, located.points)
    assert lenses is not None  # her frames are found
    lens = (lenses > 0.5) & (skin > 0)
    eyes = np.zeros(lens.shape, np.uint8)
    for contour in (RIGHT_EYE, LEFT_EYE):
        cv2.fillPoly(eyes, [np.round(located.points[contour]).astype(np.int32)], 1)
    lens &= cv2.dilate(eyes, np.ones((15, 15), np.uint8)) == 0
    output = age_photo(LifespanRequest(image, [20], source_age=80, renderer="classical"), OFFLINE)
    before = cv2.cvtColor(located.crop, cv2.COLOR_RGB2LAB).astype(np.float64)[lens].mean(0)
    after = cv2.cvtColor(output.faces[0], cv2.COLOR_RGB2LAB).astype(np.float64)[lens].mean(0)
    assert np.abs(after[1:] - before[1:]).max() < LENS_TINT_LEVELS, (before, after)
    assert 0 <= after[0] - before[0] < LENS_LIGHTER_AT_MOST, (before, after)  # creases filled, not milky
    assert "lenses found" in output.stages[0]["glasses"]


def test_a_face_without_glasses_has_no_lenses():
    image = astronaut()
    located = locate(image, OFFLINE)
    assert glasses_lenses(located.crop, skin_mask(located), located.points) is None
