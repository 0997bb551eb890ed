"""Older skin on the shipped astronaut portrait: the prototype's texture energy arrives where her glasses hide
her skin, and the lips and brows lose contrast with the skin."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.core.settings import Settings
from engine.faces.segmentation import brow_mask
from engine.faces.zones import inter_ocular
from engine.methods.classical.contrast import (
    contrast_between,
    describe_whites,
    eye_openings,
    eye_regain,
    fade_eyes,
    fade_features,
    lip_contrast,
    lip_mask,
    lip_regain,
    restore_eyes,
    restore_lips,
    whites_of_eyes,
)
from engine.methods.classical.texture import _hidden_band, detail_bands, local_energy, prototype, transfer_texture
from engine.methods.ldla.pipeline import locate, skin_mask
from tests.conftest import astronaut, grace_hopper

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")


@pytest.fixture(scope="module")
def source():
    return locate(astronaut(), OFFLINE)


def _band_energy(face: np.ndarray, region: np.ndarray, d: float) -> np.ndarray:
    """(K,) each detail band's mean local energy (as texture.py measures it) over `region`."""
    lightness = cv2.cvtColor(face, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    bands, _ = detail_bands(lightness, d)
    return local_energy(bands, d)[:, region].mean(1)


def test_skin_under_the_glasses_band_grows_toward_the_prototypes_texture_and_keeps_its_tone(source):
    points = source.points[:, :2]
    d = inter_ocular(points)
    skin = skin_mask(source)
    proto = prototype(OFFLINE)
    # the band the prototype's glasses hide: under the eyes, the cheeks, the nose (well inside the weight)
    hidden = _hidden_band(skin, points, d) > 0.99
    assert hidden.sum() > 0.03 * hidden.size  # a real part of the face, not a sliver
    # her typical energy per band, measured on her own photo's skin the same way
    theirs = _band_energy(proto.crop, proto.skin > 0, inter_ocular(proto.points))
    before = _band_energy(source.crop, hidden, d)
    mid = _band_energy(transfer_texture(source.crop, points, skin, 0.3, proto), hidden, d)
    full = _band_energy(transfer_texture(source.crop, points, skin, 0.6, proto), hidden, d)
    # the young face's wrinkle-scale bands are weaker than the old face's, and move toward hers with the amount
    assert np.all(before[1:] < theirs[1:]), (before, theirs)
    assert np.all(before[1:] < mid[1:]) and np.all(mid[1:] < full[1:]), (before, mid, full)
    assert np.all(full <= 1.1 * np.maximum(before, theirs)), (full, theirs)  # never rougher than the prototype
    # identity's low frequencies kept: the broad lightness under the band moves by less than one CIELAB L* unit
    # (2.55 levels on OpenCV's 8-bit scale), about the smallest difference a viewer sees
    aged = transfer_texture(source.crop, points, skin, 0.6, proto)
    low = [
        cv2.GaussianBlur(cv2.cvtColor(f, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32), (0, 0), 0.1 * d)
        for f in (source.crop, aged)
    ]
    assert np.abs(low[1] - low[0])[hidden].mean() < 2.55


def test_the_lips_lose_redness_against_the_skin_with_age_and_nothing_else_changes(source):
    points = source.points[:, :2]
    skin = skin_mask(source)
    brows = brow_mask(source.crop, source.points)
    young = lip_contrast(source.crop, points, skin)
    at_70 = fade_features(source.crop, points, skin, brows, contrast_between(41, 70))
    at_80 = fade_features(source.crop, points, skin, brows, contrast_between(41, 80))
    # Porcheron et al. 2013's contrast (negative: the lips redder than the skin) falls toward 0 with age
    assert young < lip_contrast(at_70, points, skin) < lip_contrast(at_80, points, skin) < 0, young
    # 41 -> 80 is 65 % of the loss at 80 (45 % of the redness difference): about a fifth of the contrast goes once
    # the feathered edge of the lips is counted in
    assert abs(lip_contrast(at_80, points, skin)) < 0.85 * abs(young)
    # the lips' own fine lines kept: their high-pass detail within 5 %
    lips = lip_mask(points, skin.shape) > 0

    def detail(face: np.ndarray) -> float:
        lightness = cv2.cvtColor(face, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
        return float(np.abs(lightness - cv2.GaussianBlur(lightness, (0, 0), 1.5))[lips].mean())

    assert detail(at_80) == pytest.approx(detail(source.crop), rel=0.05)
    # far from the lips and brows the face is returned exactly
    near = cv2.dilate(((lips | (brows > 0)) * 255).astype(np.uint8), np.ones((41, 41), np.uint8)) > 0
    np.testing.assert_array_equal(at_80[~near], source.crop[~near])
    assert np.array_equal(fade_features(source.crop, points, skin, brows, contrast_between(70, 41)), source.crop)


def test_the_lips_regain_redness_toward_a_younger_target_keeping_their_own_pattern(source):
    points = source.points[:, :2]
    skin = skin_mask(source)
    before = lip_contrast(source.crop, points, skin)
    younger = restore_lips(source.crop, points, skin, lip_regain(41, 10))
    # Porcheron et al.'s contrast run backwards: the lips further from the skin's redness (more negative)
    assert lip_contrast(younger, points, skin) < before < 0
    # one shift for the whole of the lips: their fine lines and their own pattern (upper against lower lip) kept
    lips = lip_mask(points, skin.shape) > 0

    def lightness(face: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(face, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)

    def detail(face: np.ndarray) -> float:
        return float(np.abs(lightness(face) - cv2.GaussianBlur(lightness(face), (0, 0), 1.5))[lips].mean())

    assert detail(younger) == pytest.approx(detail(source.crop), rel=0.05)
    redness = [cv2.cvtColor(f, cv2.COLOR_RGB2LAB)[..., 1].astype(np.float32)[lips] for f in (source.crop, younger)]
    assert np.corrcoef(redness[0], redness[1])[0, 1] > 0.9
    near = cv2.dilate((lips * 255).astype(np.uint8), np.ones((41, 41), np.uint8)) > 0
    np.testing.assert_array_equal(younger[~near], source.crop[~near])  # far from the lips: exactly as it was
    assert np.array_equal(restore_lips(source.crop, points, skin, lip_regain(41, 70)), source.crop)  # older: nothing
    with pytest.raises(ValueError, match="lip regain"):
        restore_lips(source.crop, points, skin, np.array([0.0, -0.2, 0.0]))


def _whites(face: np.ndarray, source) -> np.ndarray:
    """(3,) the whites of the eyes' mean CIELAB on `face` (the source's alignment, weighed as on the source), as L*,
    a*, b*."""
    weight = _weight(source)
    lab = cv2.cvtColor(face, cv2.COLOR_RGB2LAB).astype(np.float64)
    mean = (lab * weight[..., None]).sum((0, 1)) / weight.sum()
    return np.array([mean[0] * 100 / 255, mean[1] - 128, mean[2] - 128])


def _weight(source) -> np.ndarray:
    lab = cv2.cvtColor(source.crop, cv2.COLOR_RGB2LAB).astype(np.float32)
    return np.sum([eye.weight for eye in whites_of_eyes(lab, source.points, skin_mask(source))], axis=0)


def test_the_whites_of_the_eyes_grow_darker_redder_and_yellower_with_age_and_nothing_else_changes(source):
    skin = skin_mask(source)
    before = _whites(source.crop, source)
    at_60 = fade_eyes(source.crop, source.points, skin, contrast_between(41, 60))
    at_80 = fade_eyes(source.crop, source.points, skin, contrast_between(41, 80))
    assert at_80.sides == ("right", "left")
    middle, old = _whites(at_60.face, source), _whites(at_80.face, source)
    # Russell et al. 2014: darker, redder, yellower, more so the older (her whites are 2.7 a* from her skin: at 60 the
    # redder step is under one 8-bit level); yellower by a step a viewer sees (over 2 b*)
    assert old[0] < middle[0] < before[0] and old[1] > middle[1] >= before[1] and old[2] > middle[2] > before[2]
    assert old[2] - before[2] > 2.0, (before, old)
    # the manifest's figures are the change made
    assert at_80.change is not None
    np.testing.assert_allclose(at_80.change, old - before, atol=0.3)
    assert describe_whites(at_80).startswith("the whites of the eyes L* -") and "(both eyes)" in describe_whites(at_80)
    # only the whites: the irises, the lids and the skin are returned exactly
    openings = np.maximum(*eye_openings(source.points, skin.shape)) > 0
    np.testing.assert_array_equal(at_80.face[~openings], source.crop[~openings])
    # one shift for each eye's whites: their vessels and shading kept (the lightness pattern within them)
    full = _weight(source) >= 1
    lightness = [cv2.cvtColor(f, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)[full] for f in (source.crop, at_80.face)]
    assert np.corrcoef(lightness[0], lightness[1])[0, 1] > 0.95 and not np.array_equal(lightness[0], lightness[1])


def test_the_whites_of_the_eyes_turn_whiter_toward_a_younger_target_and_no_pixel_past_white(source):
    skin = skin_mask(source)
    before = _whites(source.crop, source)
    younger = restore_eyes(source.crop, source.points, skin, eye_regain(80, 10))
    after = _whites(younger.face, source)
    assert younger.sides == ("right", "left") and after[0] > before[0] and after[2] < before[2] - 2.0, (before, after)
    assert 0 <= after[1] < before[1]  # less red
    # no pixel of the whites has its a* or b* taken past neutral, or further from it (white is as white as an eye gets)
    whites = _weight(source) > 0
    chroma = [cv2.cvtColor(f, cv2.COLOR_RGB2LAB)[..., 1:].astype(np.float32)[whites] - 128 for f in (source.crop, younger.face)]
    # 8-bit rounding: a channel at neutral may land a level either side of it
    assert np.all((chroma[0] * chroma[1] >= 0) | (np.abs(chroma[1]) <= 1)), "a white pixel's chroma crossed neutral"
    assert np.all(np.abs(chroma[1]) <= np.abs(chroma[0]) + 1), "a white pixel's chroma grew"
    assert np.array_equal(restore_eyes(source.crop, source.points, skin, eye_regain(41, 70)).face, source.crop)


def test_an_eye_without_whites_in_view_is_left_as_it_is_and_named(source):
    skin = skin_mask(source)
    # her left eye's opening darkened to her skin's shade: no whites there, the right eye still changes
    right, left = eye_openings(source.points, skin.shape)
    shut = source.crop.copy()
    shut[left > 0] = (0.3 * shut[left > 0]).astype(np.uint8)
    older = fade_eyes(shut, source.points, skin, 1.0)
    assert older.sides == ("right",) and older.change is not None and np.isfinite(older.change).all()
    np.testing.assert_array_equal(older.face[left > 0], shut[left > 0])
    assert not np.array_equal(older.face[right > 0], shut[right > 0])
    assert "(the right eye only)" in describe_whites(older)
    # Grace Hopper's hooded eyes show no whites lighter than the skin around them: nothing to darken or whiten
    hopper = locate(grace_hopper(), OFFLINE)
    none = fade_eyes(hopper.crop, hopper.points, skin_mask(hopper), 1.0)
    assert none.sides == () and np.array_equal(none.face, hopper.crop)
    assert describe_whites(none) == "the whites of the eyes too little in view to change"


def test_a_far_eye_the_landmarks_put_on_something_else_is_not_taken_for_an_eye():
    # the camera operator's far eye, which FaceMesh puts on his camera in a three-quarter view
    from skimage.data import camera

    operator = locate(np.repeat(camera()[..., None], 3, axis=2), OFFLINE)
    lab = cv2.cvtColor(operator.crop, cv2.COLOR_RGB2LAB).astype(np.float32)
    assert [eye.side for eye in whites_of_eyes(lab, operator.points, skin_mask(operator))] == ["right"]


def test_younger_skin_keeps_a_lit_forehead_below_white():
    # brightened by a share of its light, her lit forehead and nose would pass white in red (2 % of her skin): rolled
    # off below it, no skin pixel is driven into white
    from engine.methods.classical.aging import younger_skin

    source = locate(astronaut(), OFFLINE)
    skin = skin_mask(source) > 0
    younger = younger_skin(source.crop, skin_mask(source), source.points, 1.0)
    assert (source.crop[skin].max(1) >= 254).mean() == 0
    assert (younger[skin].max(1) >= 254).mean() < 0.001
    assert younger[skin].astype(float).mean() > source.crop[skin].mean() + 3  # still brighter
