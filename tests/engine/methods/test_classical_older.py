"""The older face's maths: soft-tissue descent curves, the landmark warp, prototype texture transfer."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.methods.classical.shape import (
    DESCENT_ONSET_YEARS,
    VERMILION_LOSS_AT_80,
    descent_between,
    descent_share,
    vermilion_loss,
    warp_landmarks,
)
from engine.methods.classical.texture import (
    PROTOTYPE_AGE_YEARS,
    TAUT_STRETCH,
    TEXTURE_STRENGTH,
    Prototype,
    detail_bands,
    sallow_share,
    sallow_skin,
    taut_share,
    texture_amount,
    transfer_texture,
    warp_distortion,
)

pytestmark = pytest.mark.unit

AGES = np.arange(0, 81, 1.0)


def test_descent_curves_are_monotone_start_at_their_onset_and_stay_within_their_bounds():
    shares = [descent_share(age) for age in AGES]
    losses = [vermilion_loss(age) for age in AGES]
    assert np.all(np.diff(shares) >= 0) and np.all(np.diff(losses) >= 0)
    assert descent_share(DESCENT_ONSET_YEARS) == 0.0 and descent_share(20) == 0.0 and descent_share(80) == 1.0
    assert 0.0 < descent_share(55) < 0.5  # accelerating: less than half the descent by the midpoint of 30-80
    assert vermilion_loss(25) == 0.0 and vermilion_loss(80) == pytest.approx(VERMILION_LOSS_AT_80)
    assert max(losses) <= VERMILION_LOSS_AT_80 and min(shares) == 0.0 and max(shares) == 1.0
    with pytest.raises(ValueError, match="between 0 and 120, got -3"):
        descent_share(-3)


def test_descent_is_zero_at_the_source_age_and_reversed_for_a_younger_target():
    assert descent_between(41, 41).zero and descent_between(18, 24).zero  # before both onsets nothing moves
    older, younger = descent_between(41, 70), descent_between(70, 41)
    assert older.tissue > 0 and older.lips > 0
    assert younger.tissue == pytest.approx(-older.tissue)  # the same way back
    # the lips thinned from 41 to 70 and thickened back from 70 to 41 end at their height at 41
    assert (1 - older.lips) * (1 - younger.lips) == pytest.approx(1.0)
    assert descent_between(41, 80).tissue > older.tissue  # further for an older target


def test_warp_with_zero_displacement_returns_the_image_exactly():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    points = rng.uniform(20, 108, (30, 2))
    np.testing.assert_array_equal(warp_landmarks(image, points, points), image)


def test_warp_moves_a_marked_point_to_its_destination_and_pins_the_border():
    image = np.zeros((256, 256), np.uint8)
    cv2.circle(image, (100, 120), 3, 255, -1)
    fixed = np.array([[60.0, 60.0], [190.0, 60.0], [60.0, 190.0], [190.0, 190.0]])
    sources = np.concatenate([[[100.0, 120.0]], fixed])
    destinations = np.concatenate([[[110.0, 128.0]], fixed])
    warped = warp_landmarks(image, sources, destinations)
    ys, xs = np.nonzero(warped > 127)
    assert xs.mean() == pytest.approx(110, abs=1.0) and ys.mean() == pytest.approx(128, abs=1.0)
    assert warped[:2].max() == 0 and warped[:, -2:].max() == 0  # nothing moves at the crop's border


def test_texture_amount_grows_with_the_gap_and_is_zero_younger_and_for_the_prototype_herself():
    amounts = [texture_amount(41, age) for age in AGES]
    assert np.all(np.diff(amounts) >= 0) and texture_amount(41, 41) == 0.0
    assert texture_amount(41, 30) == 0.0  # a younger target: the younger-skin stage, not this one
    assert texture_amount(20, PROTOTYPE_AGE_YEARS) == pytest.approx(TEXTURE_STRENGTH)
    assert texture_amount(PROTOTYPE_AGE_YEARS, 80) == 0.0 and texture_amount(79, 80) == 0.0
    assert 0 < texture_amount(41, 70) < texture_amount(41, 80) <= TEXTURE_STRENGTH


def _face_points(size: int) -> np.ndarray:
    """468 points spread over a square face with its eye corners where FaceMesh puts them (indices)."""
    rng = np.random.default_rng(5)
    points = rng.uniform(0.25 * size, 0.75 * size, (468, 2))
    points[[33, 133]] = [[0.30 * size, 0.45 * size], [0.42 * size, 0.45 * size]]
    points[[362, 263]] = [[0.58 * size, 0.45 * size], [0.70 * size, 0.45 * size]]
    return points


def _lightness(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)


def test_detail_bands_add_back_up_to_the_image():
    lightness = _lightness(np.random.default_rng(1).integers(0, 256, (128, 128, 3), dtype=np.uint8))
    bands, base = detail_bands(lightness, 60.0)
    np.testing.assert_allclose(base * (1 + bands.sum(0)), lightness, atol=1e-3)


def test_texture_transfer_brings_the_prototypes_detail_and_is_a_no_op_on_the_prototype_herself():
    size = 256
    points = _face_points(size)
    skin = np.zeros((size, size), np.uint8)
    skin[40:216, 40:216] = 1
    rng = np.random.default_rng(2)
    wrinkled = np.clip(170 + 25 * cv2.GaussianBlur(rng.standard_normal((size, size)), (0, 0), 1.2), 0, 255)
    old = np.dstack([wrinkled, 0.8 * wrinkled, 0.7 * wrinkled]).astype(np.uint8)
    smooth = np.dstack([np.full((size, size), v, np.uint8) for v in (200, 160, 140)])
    proto = Prototype(old, points, skin)
    # the prototype aged with herself: her texture stays as it is (up to rounding through CIELAB)
    same = transfer_texture(old, points, skin, 1.0, proto)
    assert np.abs(same.astype(int) - old.astype(int)).max() <= 2

    def detail(rgb):  # relative to the skin's lightness: a crease darkens light and dark skin by the same share
        lightness = _lightness(rgb)[64:192, 64:192]
        return float(np.abs(lightness - cv2.GaussianBlur(lightness, (0, 0), 3)).mean() / lightness.mean())

    half = transfer_texture(smooth, points, skin, 0.5, proto)
    full = transfer_texture(smooth, points, skin, 1.0, proto)
    assert detail(smooth) < 0.003 < detail(half) < detail(full)  # detail arrives, more with the amount
    assert detail(full) <= 1.05 * detail(old)  # never rougher than the prototype
    np.testing.assert_array_equal(full[:8], smooth[:8])  # off the skin: untouched
    centre = _lightness(full)[64:192, 64:192].mean()
    assert centre == pytest.approx(_lightness(smooth)[64:192, 64:192].mean(), abs=2)  # the subject's own tone kept
    with pytest.raises(ValueError, match="between 0 and 1, got 1.5"):
        transfer_texture(smooth, points, skin, 1.5, proto)


def test_warp_distortion_is_one_for_an_even_scale_and_the_stretch_ratio_for_an_uneven_one():
    ys, xs = np.mgrid[0:64, 0:64].astype(np.float32)
    even = np.dstack([0.5 * xs + 3, 0.5 * ys - 2])  # a uniform zoom and shift: texture keeps its shape
    np.testing.assert_allclose(warp_distortion(even), 1.0, rtol=1e-4)
    squeezed = np.dstack([xs, 2.5 * ys])  # her rows squeezed 2.5x onto the subject's (a closed mouth on an open one)
    np.testing.assert_allclose(warp_distortion(squeezed), 2.5, rtol=1e-4)
    sheared = np.dstack([xs + ys, ys])  # a shear of 1: singular values (sqrt(5) +/- 1) / 2, ratio their quotient
    np.testing.assert_allclose(warp_distortion(sheared), (np.sqrt(5) + 1) / (np.sqrt(5) - 1), rtol=1e-4)
    shares = taut_share(np.array([1.0, TAUT_STRETCH[0], np.mean(TAUT_STRETCH), TAUT_STRETCH[1], 4.0]))
    np.testing.assert_allclose(shares, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-6)


def test_older_skin_turns_less_rosy_and_more_yellow_only_on_the_skin():
    assert sallow_share(41, 41) == 0.0 and sallow_share(41, 20) == 0.0 and sallow_share(25, 80) == 1.0
    face = np.dstack([np.full((64, 64), v, np.uint8) for v in (210, 150, 130)])
    skin = np.zeros((64, 64), np.uint8)
    skin[:, :24] = 1
    points = _face_points(64)
    sallow = sallow_skin(face, skin, points, 1.0)
    before, after = (cv2.cvtColor(x, cv2.COLOR_RGB2LAB).astype(float)[:, :8] for x in (face, sallow))
    assert after[..., 1].mean() < before[..., 1].mean() - 1 and after[..., 2].mean() > before[..., 2].mean() + 1
    np.testing.assert_array_equal(sallow[:, 48:], face[:, 48:])


def test_contrast_loss_grows_linearly_over_adult_life_and_a_younger_target_loses_none():
    from engine.methods.classical.contrast import CONTRAST_ONSET_YEARS, contrast_between, contrast_share, fade_features

    assert contrast_share(CONTRAST_ONSET_YEARS) == 0.0 and contrast_share(10) == 0.0 and contrast_share(80) == 1.0
    assert contrast_share(50) == pytest.approx(0.5)  # halfway from 20 to 80
    assert contrast_between(41, 80) == pytest.approx(contrast_share(80) - contrast_share(41))
    assert contrast_between(70, 41) == 0.0  # a younger target: not this stage's
    with pytest.raises(ValueError, match="got 130"):
        contrast_share(130)
    face = np.full((32, 32, 3), 128, np.uint8)
    with pytest.raises(ValueError, match="got 1.5"):
        fade_features(face, np.zeros((468, 2)), np.ones((32, 32), np.uint8), np.zeros((32, 32), np.uint8), 1.5)


def test_lip_contrast_given_back_is_the_decline_run_backwards():
    from engine.methods.classical.contrast import LIP_CONTRAST_LOSS, contrast_share, lip_regain

    loss = np.array(LIP_CONTRAST_LOSS)
    # from 80 to 20 or younger the whole loss is given back: the difference grows by 1 / (1 - loss) - 1
    np.testing.assert_allclose(lip_regain(80, 10), 1 / (1 - loss) - 1)
    np.testing.assert_allclose(lip_regain(80, 20), lip_regain(80, 5))  # no contrast is lost before 20
    np.testing.assert_allclose(lip_regain(50, 20), 1 / (1 - loss * contrast_share(50)) - 1)
    assert lip_regain(80, 10)[1] > lip_regain(80, 50)[1] > lip_regain(60, 50)[1] > 0  # more the further back
    assert not lip_regain(41, 70).any() and not lip_regain(41, 41).any()  # older or the same age: nothing


def test_whites_of_the_eyes_given_back_is_their_decline_run_backwards_and_needs_the_iris_points():
    from engine.methods.classical.contrast import EYE_CONTRAST_LOSS, eye_openings, eye_regain, restore_eyes

    loss = np.array(EYE_CONTRAST_LOSS)
    np.testing.assert_allclose(eye_regain(80, 10), 1 / (1 - loss) - 1)  # 0.18 in lightness, 1.0 in a* and b*
    assert eye_regain(80, 10)[2] > eye_regain(60, 30)[2] > 0 and not eye_regain(30, 60).any()
    # FaceMesh without its iris refinement (468 points) cannot tell the whites from the iris: said, not guessed
    with pytest.raises(ValueError, match="478 points .* got 468"):
        eye_openings(np.zeros((468, 2)), (32, 32))
    face = np.full((32, 32, 3), 128, np.uint8)
    with pytest.raises(ValueError, match="eye regain"):
        restore_eyes(face, np.zeros((478, 2)), np.ones((32, 32), np.uint8), np.array([0.1, -0.5, 0.0]))


def test_the_fold_above_each_upper_lid_descends_most_at_its_outer_end_and_the_lid_margin_stays(monkeypatch):
    from engine.faces.zones import inter_ocular
    from engine.methods.classical import shape

    points = _face_points(512)
    d, full = inter_ocular(points), shape.LID_HOOD_DROP
    full_descent = shape.Descent(1.0, 0.0, 0.0, 1.0)
    moved = shape.descent_displacements(points, full_descent)
    monkeypatch.setattr(shape, "LID_HOOD_DROP", 0.0)
    hood = (moved - shape.descent_displacements(points, full_descent)) / d  # hooding's own part
    upper_margins = [246, 161, 160, 159, 158, 157, 173, 466, 388, 387, 386, 385, 384, 398]
    assert np.all(hood[upper_margins] == 0) and np.all(hood[:, 0] == 0)  # the lid opening kept; nothing sideways
    for crease, above in (shape.RIGHT_UPPER_RINGS, shape.LEFT_UPPER_RINGS):
        assert hood[crease[0], 1] == pytest.approx(full)  # the outer end at a full share (80): LID_HOOD_DROP d
        assert np.all(np.diff(hood[crease, 1]) < 0)  # less and less toward the nose
        assert hood[crease[-1], 1] == pytest.approx(full * shape.HOOD_MEDIAL_SHARE)
        np.testing.assert_allclose(hood[above, 1], 0.5 * hood[crease, 1])  # the skin toward the brow follows half as far
    # with the tissue's descent, and back toward a younger target
    older, younger = shape.descent_between(41, 80), shape.descent_between(80, 41)
    assert older.hooding > 0 and older.hooding == pytest.approx(older.tissue)
    assert younger.hooding == pytest.approx(-older.hooding)
    assert shape.descent_between(41, 41).zero and shape.Descent(0.0, 0.0, 0.0, 0.5).zero is False
    assert "upper lids 100% further hooded" in shape.describe(shape.Descent(1.0, 0.0, 0.0, 1.0))


def test_brow_contrast_given_back_is_the_decline_run_backwards():
    from engine.methods.classical.contrast import BROW_CONTRAST_LOSS, brow_regain, contrast_share

    # from 80 to 20 or younger the whole loss is given back: the brows' darkness grows by 1 / (1 - loss) - 1 (43 %)
    assert brow_regain(80, 10) == pytest.approx(1 / (1 - BROW_CONTRAST_LOSS) - 1)
    assert brow_regain(80, 20) == brow_regain(80, 5)  # no contrast is lost before 20
    assert brow_regain(50, 20) == pytest.approx(1 / (1 - BROW_CONTRAST_LOSS * contrast_share(50)) - 1)
    assert brow_regain(80, 10) > brow_regain(80, 50) > brow_regain(60, 50) > 0
    assert brow_regain(41, 70) == 0 and brow_regain(15, 10) == 0  # older, or both younger than 20: nothing


def test_brows_regain_darkness_hair_by_hair_and_the_skin_between_stays():
    from engine.methods.classical.contrast import restore_brows

    # skin of L about 170 with dark strokes (hairs, L about 90) across a brow-shaped band
    lab = np.full((80, 160, 3), (170, 140, 145), np.uint8)
    region = np.zeros((80, 160), np.uint8)
    region[30:50, 20:140] = 1
    for x in range(24, 136, 6):
        cv2.line(lab, (x, 33), (x + 4, 46), (90, 135, 138), 2)
    face = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    younger = restore_brows(face, region, 0.43)
    before, after = (cv2.cvtColor(f, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32) for f in (face, younger))
    hairs = (before < 120) & (region > 0)
    skin = (before > 160) & (region > 0)
    # the hairs about 0.43 of their 80 levels darker against the skin; the skin between them and beyond the brows kept
    assert np.median(before[hairs] - after[hairs]) == pytest.approx(0.43 * 80, abs=6)
    assert np.abs(after[skin] - before[skin]).max() <= 1
    np.testing.assert_array_equal(younger[region == 0], face[region == 0])
    assert np.array_equal(restore_brows(face, region, 0.0), face)
    with pytest.raises(ValueError, match="brow regain"):
        restore_brows(face, region, -0.1)


def test_past_the_hairline_is_the_face_outline_and_all_above_the_eyes():
    from engine.faces.zones import face_hull
    from engine.methods.classical.hair import past_hairline

    points = _face_points(512)
    region = past_hairline(points, (512, 512))
    hull = face_hull(points, (512, 512)) > 0
    eyes = int(0.45 * 512)  # the eyes' corners' row
    assert region[:eyes].all()  # above the eyes: the forehead, the temples, the ears' tops and beside the head
    np.testing.assert_array_equal(region[eyes + 1 :], hull[eyes + 1 :])  # below them: the face's outline only


def test_a_shadow_on_skin_shows_the_skins_own_colour_in_proportion_to_its_darkening():
    from engine.methods.classical.shape import SHADOW_SHOWS_SKIN, skin_in_shadow  # noqa: PLC0415

    orange = np.array([140.0, 160.0], np.float32)  # a*, b* of warm skin
    pale = np.array([200.0, 128.0, 132.0], np.float32)  # a blown-out, nearly neutral highlight
    lab = np.tile(pale, (4, 1))
    before = lab[:, 0].copy()
    lab[0, 0] = 200.0  # not darkened
    lab[1, 0] = 200.0 * (1 - SHADOW_SHOWS_SKIN / 2)  # darkened half the way
    lab[2, 0] = 200.0 * (1 - SHADOW_SHOWS_SKIN)  # darkened the full share
    lab[3, 0] = 220.0  # lit (a crease's shoulder)
    skin_in_shadow(lab, before, orange)
    assert np.array_equal(lab[0, 1:], pale[1:]) and np.array_equal(lab[3, 1:], pale[1:])
    assert np.allclose(lab[1, 1:], (pale[1:] + orange) / 2)
    assert np.allclose(lab[2, 1:], orange)
    assert lab[2, 0] == pytest.approx(200.0 * (1 - SHADOW_SHOWS_SKIN))  # the lightness is the caller's
