"""A child's skin and brows (engine/methods/classical/childskin.py) on synthetic faces: pure maths, no models."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.methods.classical.childskin import CHEEK_POINTS, child_share, child_skin

pytestmark = pytest.mark.unit

SIZE = 256


def _points() -> np.ndarray:
    """FaceMesh-shaped points: the eyes 64 px apart (inter-ocular distance), the cheek points below them."""
    points = np.full((478, 2), 128.0)
    points[[33, 133], 0] = (80.0, 112.0)  # the right eye's corners
    points[[362, 263], 0] = (144.0, 176.0)  # the left eye's corners
    points[[33, 133, 362, 263], 1] = 100.0
    points[CHEEK_POINTS[0]] = (88.0, 150.0)
    points[CHEEK_POINTS[1]] = (168.0, 150.0)
    return points


def _face() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A skin-coloured face with fine noise, a dark brow band, and a background outside the skin."""
    rng = np.random.default_rng(0)
    face = np.full((SIZE, SIZE, 3), (205, 160, 140), np.float64)
    face += rng.normal(0, 6, (SIZE, SIZE, 1))
    face[70:80, 70:120] = (90, 70, 60)  # a brow
    face = np.clip(np.round(face), 0, 255).astype(np.uint8)
    skin = np.zeros((SIZE, SIZE), np.float32)
    skin[40:230, 40:216] = 1.0
    skin[66:84, 66:124] = 0.0  # the brow's region is not skin
    brows = np.zeros((SIZE, SIZE), np.uint8)
    brows[64:86, 64:126] = 1
    return face, skin, brows


def test_child_share_is_whole_before_puberty_none_after_and_falls_between():
    assert child_share(5.0) == 1.0 and child_share(10.0) == 1.0
    assert child_share(16.0) == 0.0 and child_share(41.0) == 0.0
    shares = [child_share(age) for age in np.arange(10.0, 16.5, 0.5)]
    assert all(a > b for a, b in zip(shares[:-1], shares[1:]))
    with pytest.raises(ValueError, match="-1"):
        child_share(-1.0)


def test_child_skin_reddens_the_cheeks_and_fades_the_brows_only():
    face, skin, brows = _face()
    child = child_skin(face, skin, brows, _points(), 1.0)
    lab_before = cv2.cvtColor(face, cv2.COLOR_RGB2LAB).astype(np.float64)
    lab_after = cv2.cvtColor(child, cv2.COLOR_RGB2LAB).astype(np.float64)
    outside = (skin == 0) & (cv2.dilate(brows, np.ones((9, 9), np.uint8)) == 0)
    assert np.array_equal(child[outside], face[outside])  # the background is returned exactly
    cheek = np.s_[150:160, 84:94]
    assert lab_after[cheek][..., 1].mean() > lab_before[cheek][..., 1].mean() + 2.0  # redder
    forehead = np.s_[44:60, 100:160]  # far from the cheeks: about as red as before
    assert abs(lab_after[forehead][..., 1].mean() - lab_before[forehead][..., 1].mean()) < 0.5

    brow = np.s_[72:78, 80:110]
    darker_before = lab_before[forehead][..., 0].mean() - lab_before[brow][..., 0].mean()
    darker_after = lab_after[forehead][..., 0].mean() - lab_after[brow][..., 0].mean()
    assert 0.3 * darker_before < darker_after < 0.8 * darker_before  # fainter, still a brow
    assert np.array_equal(child_skin(face, skin, brows, _points(), 0.0), face)


def test_cheeks_already_redder_than_the_face_get_no_more_colour():
    face, skin, brows = _face()
    lab = cv2.cvtColor(face, cv2.COLOR_RGB2LAB).astype(np.float64)
    lab[120:190, 50:210, 1] += 12.0  # a ruddy lower face, 12 levels redder than the forehead
    ruddy = cv2.cvtColor(np.clip(np.round(lab), 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    child = child_skin(ruddy, skin, np.zeros_like(brows), _points(), 1.0)
    before = cv2.cvtColor(ruddy, cv2.COLOR_RGB2LAB).astype(np.float64)[150:160, 84:94, 1].mean()
    after = cv2.cvtColor(child, cv2.COLOR_RGB2LAB).astype(np.float64)[150:160, 84:94, 1].mean()
    assert abs(after - before) < 0.5, (before, after)
    assert np.array_equal(child[70:80, 70:120], ruddy[70:80, 70:120])  # brows left (an empty mask), exactly
