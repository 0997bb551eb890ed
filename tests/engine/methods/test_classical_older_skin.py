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
    eye_openings,
    eye_regain,
    eye_whites_colour,
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
    """(3,) the whites of the eyes' mean CIELAB on `face` (the source's alignment), as L*, a*, b*."""
    colour = eye_whites_colour(face, source.points, skin_mask(source))
    assert colour is not None
    return np.array([colour[0] * 100 / 255, colour[1] - 128, colour[2] - 128])


def test_the_whites_of_the_eyes_grow_darker_redder_and_yellower_with_age_and_nothing_else_changes(source):
    skin = skin_mask(source)
    before = _whites(source.crop, source)
    at_60, seen = fade_eyes(source.crop, source.points, skin, contrast_between(41, 60))
    at_80, _ = fade_eyes(source.crop, source.points, skin, contrast_between(41, 80))
    assert seen
    middle, old = _whites(at_60, source), _whites(at_80, source)
    # Russell et al. 2014: darker, redder, yellower, more so the older; yellower by a step a viewer sees (over 2 b*)
    assert old[0] < middle[0] < before[0] and old[1] > middle[1] > before[1] and old[2] > middle[2] > before[2]
    assert old[2] - before[2] > 2.0, (before, old)
    # only the whites: the irises, the lids and the skin are returned exactly
    openings = sum(eye_openings(source.points, skin.shape)) > 0
    np.testing.assert_array_equal(at_80[~openings], source.crop[~openings])
    # one shift for each eye's whites: their vessels and shading kept (the lightness pattern within them)
    weight = sum(
        w for w, _ in whites_of_eyes(cv2.cvtColor(source.crop, cv2.COLOR_RGB2LAB).astype(np.float32), source.points, skin)
    )
    full = weight >= 1
    lightness = [cv2.cvtColor(f, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)[full] for f in (source.crop, at_80)]
    assert np.corrcoef(*lightness)[0, 1] > 0.95


def test_the_whites_of_the_eyes_turn_whiter_toward_a_younger_target_and_never_past_white(source):
    skin = skin_mask(source)
    before = _whites(source.crop, source)
    younger, seen = restore_eyes(source.crop, source.points, skin, eye_regain(80, 10))
    after = _whites(younger, source)
    assert seen and after[0] > before[0] and after[2] < before[2] - 2.0, (before, after)
    assert 0 <= after[1] < before[1] and after[2] >= 0  # less red and yellow, toward neutral and not past it
    # whites already neutral keep their chroma: white is as white as an eye gets
    grey = source.crop.copy()
    openings = sum(eye_openings(source.points, skin.shape)) > 0
    lab = cv2.cvtColor(grey, cv2.COLOR_RGB2LAB)
    lab[openings, 1:] = 128
    grey = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    whiter, _ = restore_eyes(grey, source.points, skin, eye_regain(80, 10))
    assert np.abs(_whites(whiter, source)[1:] - _whites(grey, source)[1:]).max() < 1.0
    assert _whites(whiter, source)[0] > _whites(grey, source)[0]
    assert np.array_equal(restore_eyes(source.crop, source.points, skin, eye_regain(41, 70))[0], source.crop)


def test_eyes_whose_whites_are_hidden_are_left_as_they_are():
    # Grace Hopper's hooded eyes show no whites lighter than the skin around them: nothing to darken or whiten
    hopper = locate(grace_hopper(), OFFLINE)
    skin = skin_mask(hopper)
    older, seen = fade_eyes(hopper.crop, hopper.points, skin, 1.0)
    assert not seen and np.array_equal(older, hopper.crop)
    # the camera operator's far eye, which FaceMesh puts on his camera in a three-quarter view, is not taken for an eye
    from skimage.data import camera

    operator = locate(np.repeat(camera()[..., None], 3, axis=2), OFFLINE)
    eyes = whites_of_eyes(cv2.cvtColor(operator.crop, cv2.COLOR_RGB2LAB).astype(np.float32), operator.points, skin_mask(operator))
    assert len(eyes) == 1
