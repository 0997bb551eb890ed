"""The data-free lifespan model's maths, checked against known values."""

from __future__ import annotations

import math
from statistics import NormalDist

import cv2
import numpy as np
import pytest

from engine.methods.classical.aging import (
    BROW_GREY_CEILING,
    BROW_LAG_YEARS,
    GREY_ONSET_SD_YEARS,
    GROWTH_END_YEARS,
    GROWTH_STRAIN_AT_BIRTH,
    added_grey,
    cardioidal_strain,
    grey_fraction,
    grey_hair,
    growth_strain,
    lentigo_share,
    lightness_only,
    regained_pigment,
    remaining_growth,
    skin_median,
    spot_places,
)

pytestmark = pytest.mark.unit


def test_grey_fraction_follows_the_survey_of_who_is_half_grey_at_50_and_the_mean_onset():
    # each person's curve is the mean one shifted by their onset's offset, spread GREY_ONSET_SD_YEARS: of people at 50,
    # 23 % are at least half grey (Panhard et al. 2012's most greying origin), not the "50-50-50" rule's half
    people = NormalDist(0.0, GREY_ONSET_SD_YEARS)
    shifts = [people.inv_cdf((i + 0.5) / 2000) for i in range(2000)]
    half_grey = sum(grey_fraction(50, onset_shift=shift) >= 0.5 for shift in shifts) / len(shifts)
    assert half_grey == pytest.approx(0.23, abs=0.001)
    assert grey_fraction(50) == pytest.approx(0.34, abs=0.01)  # the mean person a third grey at 50
    assert grey_fraction(34) == pytest.approx(0.1)  # mean onset 34 years (Tobin and Paus)
    assert grey_fraction(20) < 0.05 and 0.85 < grey_fraction(80) < 0.95
    assert grey_fraction(60, onset_shift=10) == pytest.approx(grey_fraction(50))  # a later greyer is the curve shifted
    with pytest.raises(ValueError, match="between 0 and 120"):
        grey_fraction(-1)


def test_added_grey_is_the_share_of_still_pigmented_hair_and_never_given_back():
    assert added_grey(30, 30) == 0.0
    assert added_grey(70, 20) == 0.0  # younger target: grey hair keeps its colour
    before, after = grey_fraction(40), grey_fraction(60)
    assert added_grey(40, 60) == pytest.approx((after - before) / (1 - before))
    assert added_grey(20, 80) > 0.85
    assert added_grey(40, 60, lag=10) < added_grey(40, 60)  # eyebrows grey later


def test_old_eyebrows_stay_partly_pigmented_and_regain_alike():
    # a brow dark at 20 is at most BROW_GREY_CEILING white at 80 and 90 (level 3 of PMC3907512: up to 2/3), well behind
    # the scalp's grey; grey brows still regain colour toward a younger target
    brow_80 = added_grey(20, 80, lag=BROW_LAG_YEARS, ceiling=BROW_GREY_CEILING)
    assert 0.5 < brow_80 < BROW_GREY_CEILING <= 2 / 3 and brow_80 < added_grey(20, 80) - 0.25
    assert added_grey(20, 90, lag=BROW_LAG_YEARS, ceiling=BROW_GREY_CEILING) < BROW_GREY_CEILING
    assert added_grey(80, 30, lag=BROW_LAG_YEARS, ceiling=BROW_GREY_CEILING) == 0.0
    assert regained_pigment(80, 30, lag=BROW_LAG_YEARS) > 0.5  # the ceiling leaves the colour given back as it was
    with pytest.raises(ValueError, match="ceiling must be in"):
        added_grey(20, 80, ceiling=0.0)


def test_cardioidal_strain_grows_the_jaw_most_and_the_crown_not_at_all():
    origin = np.array([100.0, 100.0])
    k = 0.1
    up, side, down = np.array([100.0, 50.0]), np.array([150.0, 100.0]), np.array([100.0, 150.0])
    moved = cardioidal_strain(np.stack([up, side, down]), origin, k)
    np.testing.assert_allclose(moved[0], up)  # theta = 0: R' = R
    np.testing.assert_allclose(moved[1], [100 + 50 * (1 + k), 100])  # theta = pi/2: R' = R (1 + k)
    np.testing.assert_allclose(moved[2], [100, 100 + 50 * (1 + 2 * k)])  # theta = pi: R' = R (1 + 2k)
    np.testing.assert_allclose(cardioidal_strain(origin[None], origin, k), origin[None])


def test_growth_strain_runs_growth_backwards_for_a_child_and_is_zero_between_adults():
    assert remaining_growth(0) == 1.0 and remaining_growth(GROWTH_END_YEARS) == 0.0 and remaining_growth(40) == 0.0
    assert growth_strain(40, 0) == pytest.approx(-GROWTH_STRAIN_AT_BIRTH)
    assert growth_strain(40, 25) == 0.0 and growth_strain(30, 70) == 0.0
    assert growth_strain(40, 5) < growth_strain(40, 10) < 0  # the younger the child, the stronger
    assert growth_strain(5, 40) == pytest.approx(-growth_strain(40, 5))  # a child grown up: the same strain forward
    # at 5 the chin-to-brow distance is about 85 % of the adult's (Farkas): 1 + 2k
    assert 1 + 2 * growth_strain(40, 5) == pytest.approx(0.85, abs=0.03)


def test_lentigo_share_starts_at_40_and_is_full_at_80():
    assert lentigo_share(30) == 0.0 and lentigo_share(40) == 0.0
    assert lentigo_share(60) == pytest.approx(0.5) and lentigo_share(80) == 1.0


def test_age_spots_stay_in_place_when_the_skin_mask_changes_elsewhere():
    skin = np.zeros((512, 512), bool)
    skin[150:400, 120:390] = True  # a face's skin, about a quarter of the crop
    places = spot_places(skin, 14, np.random.default_rng(3))
    assert len(places) == 14 and all(skin[y, x] for x, y, _ in places)
    assert spot_places(skin, 14, np.random.default_rng(3)) == places  # the seed's places
    # a few pixels more of skin at its edge (the hair mask moved): every spot drawn before is drawn again, with its
    # number in the sequence (its shape's seed)
    grown = skin.copy()
    grown[148:150, 120:390] = True
    moved = [place for place in spot_places(grown, 14, np.random.default_rng(3)) if place not in places]
    assert len(moved) <= 1, f"{len(moved)} of 14 spots moved"
    # and no skin, no spots; a small patch of skin, as many as land on it, all on it
    assert spot_places(np.zeros((512, 512), bool), 14, np.random.default_rng(3)) == []
    patch = np.zeros((512, 512), bool)
    patch[200:240, 100:140] = True  # 1600 px: about 25 of the 4096 draws land on it
    found = spot_places(patch, 14, np.random.default_rng(3))
    assert len(found) == 14 and all(patch[y, x] for x, y, _ in found)
    assert len(spot_places(patch[:205, :], 14, np.random.default_rng(3))) < 14  # too small for 4096 draws to find 14


def test_a_spot_keeps_its_shape_when_another_spot_drops_out():
    from engine.methods.classical.aging import age_spots

    face = np.full((256, 256, 3), (200, 160, 140), np.uint8)
    points = np.zeros((478, 2))
    points[[33, 133, 362, 263]] = [[70, 120], [110, 120], [146, 120], [186, 120]]  # the eyes' corners: d = 76 px
    skin = np.zeros((256, 256), np.uint8)
    skin[60:220, 40:220] = 1
    seed = [5, 1]
    places = spot_places(skin, 14, np.random.default_rng(seed).spawn(2)[0])
    # take the first spot's pixel out of the skin: a 15th place takes its turn, the other 13 keep theirs
    fewer = skin.copy()
    fewer[places[0][1], places[0][0]] = 0
    again = spot_places(fewer, 14, np.random.default_rng(seed).spawn(2)[0])
    assert again[:13] == places[1:] and again[13] not in places
    before = age_spots(face, skin, points, 1.0, np.random.default_rng(seed))
    after = age_spots(face, fewer, points, 1.0, np.random.default_rng(seed))
    # away from the spot that went and the one that came, the same spots of the same shapes
    away = np.ones((256, 256), bool)
    for x, y, _ in (places[0], again[13]):
        away[max(y - 25, 0) : y + 25, max(x - 25, 0) : x + 25] = False
    changed = np.abs(after.astype(int) - before).max(-1) > 0
    assert changed.any() and not (changed & away).any()


def test_grey_hair_greys_only_the_mask_keeps_texture_and_whitens_light_hair():
    rng = np.random.default_rng(0)
    dark = np.clip(rng.normal(40, 12, (64, 64, 3)), 0, 255).astype(np.uint8)
    dark[..., 0] = np.clip(dark[..., 0].astype(int) + 15, 0, 255)  # brown-ish
    mask = np.zeros((64, 64), np.uint8)
    mask[:, :32] = 1
    grey = grey_hair(dark, mask, 1.0, np.random.default_rng(1))
    np.testing.assert_array_equal(grey[:, 40:], dark[:, 40:])  # outside the mask (and its soft edge): untouched
    hair, before = grey[:, :28].astype(float), dark[:, :28].astype(float)
    assert hair.mean() > before.mean() + 60  # dark hair turns light grey
    assert np.abs(hair[..., 0] - hair[..., 2]).mean() < np.abs(before[..., 0] - before[..., 2]).mean()  # less colour
    assert hair[..., 1].std() > 0.5 * before[..., 1].std()  # strand texture kept
    blond = np.full((64, 64, 3), (190, 160, 100), np.uint8)
    whitened = grey_hair(blond, mask, 1.0, np.random.default_rng(1))[:, :28].astype(float)
    assert whitened.mean() >= blond[:, :28].mean() - 1  # light hair is not darkened to grey
    assert (whitened[..., 0] - whitened[..., 2]).mean() < 0.5 * (190 - 100)  # it loses saturation
    assert grey_hair(dark, mask, 0.0, np.random.default_rng(1)).tobytes() == dark.tobytes()
    assert math.isclose(
        float(
            np.mean(grey_hair(dark, mask, 0.5, np.random.default_rng(3)) == grey_hair(dark, mask, 0.5, np.random.default_rng(3)))
        ),
        1.0,
    )


def test_pluralistic_futures_differ_in_greying_as_people_do():
    from engine.methods.classical.pluralistic import sample_variations  # noqa: PLC0415 - only this test needs it

    base = {"forehead": 40.0, "glabella": 10.0}
    still = sample_variations(base, 0.0, 3, seed=0)
    assert all(v.grey_onset_shift == 0 and v.grey_pattern == 0.5 and v.zone_scores == base for v in still)
    draws = sample_variations(base, 0.3, 400, seed=1)
    shifts = np.array([v.grey_onset_shift for v in draws])
    assert np.std(shifts) == pytest.approx(9.6, rel=0.15)  # the default draws the population's spread of onset
    assert all(0 <= v.grey_pattern <= 1 for v in draws)
    assert np.std([v.grey_pattern for v in draws]) == pytest.approx(0.21, abs=0.03)  # about 0.25 near the mean
    assert sample_variations(base, 0.3, 4, seed=2) == sample_variations(base, 0.3, 4, seed=2)  # seeded
    # at the top of the slider the pattern stays a spread, not cut to 0 or 1 (a cut normal made every future one or other)
    widest = [v.grey_pattern for v in sample_variations(base, 2.0, 200, seed=1)]
    assert all(0 < p < 1 for p in widest) and len(set(widest)) == len(widest)


def test_regained_pigment_runs_the_canities_curve_backwards():

    # at 50 a third of the hair is grey, at 80 nine tenths: going back from 80 to 50, the rest of the grey hair
    # regains colour
    assert regained_pigment(80, 50) == pytest.approx(1 - grey_fraction(50) / grey_fraction(80))
    assert 0.6 < regained_pigment(80, 50) < 0.65
    assert regained_pigment(80, 10) > 0.98 and regained_pigment(80, 30) > 0.9
    assert regained_pigment(50, 70) == 0.0 and regained_pigment(60, 60) == 0.0  # older or same: nothing given back
    assert regained_pigment(80, 30) > regained_pigment(80, 50) > regained_pigment(80, 70) > 0  # more with the gap


def test_lightness_only_keeps_a_grey_photo_grey_and_a_toned_one_toned():
    rng = np.random.default_rng(0)
    grey = np.repeat(rng.integers(40, 220, (64, 64, 1), dtype=np.uint8), 3, axis=2)
    spotted = grey.copy()
    spotted[20:40, 20:40] = (grey[20:40, 20:40] * np.array([0.8, 0.65, 0.5])).astype(np.uint8)  # a brown spot
    out = lightness_only(grey, spotted)
    assert np.all(out[..., 0] == out[..., 1]) and np.all(out[..., 1] == out[..., 2])  # exactly grey
    assert out[20:40, 20:40].mean() < grey[20:40, 20:40].mean() - 20  # the spot is still there, darker
    np.testing.assert_array_equal(out[:16], grey[:16])  # unchanged pixels exactly
    sepia = np.clip(grey.astype(np.int16) + np.array([12, 0, -12]), 0, 255).astype(np.uint8)  # a toned print
    toned = lightness_only(sepia, np.clip(sepia.astype(np.int16) + np.array([0, -10, 10]), 0, 255).astype(np.uint8))
    inside = toned[8:56, 8:56].astype(np.int16)
    assert np.abs((inside[..., 0] - inside[..., 2]).mean() - 24) < 3  # its own toning, not the edit's blue


def test_srgb_transfer_functions_match_the_standard_and_invert_each_other():
    from engine.methods.classical.aging import linear_to_srgb, srgb_to_linear  # noqa: PLC0415

    # IEC 61966-2-1: mid-grey 0.5 encoded is 21.4 % of the light; the linear segment below 0.04045
    assert srgb_to_linear(np.array(0.5)) == pytest.approx(0.2140, abs=1e-4)
    assert srgb_to_linear(np.array(0.04)) == pytest.approx(0.04 / 12.92)
    values = np.linspace(0, 1, 257)
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(values)), values, atol=1e-9)
    assert linear_to_srgb(np.array(1.2)) > 1  # light past white stays past it (the caller rolls it off)


def test_brightening_tapers_off_below_white_keeping_hue_and_never_darkens():
    import cv2  # noqa: PLC0415 - only this test converts colours

    from engine.methods.classical.aging import (  # noqa: PLC0415
        LIFT_TAPER_FROM,
        brighter,
        gamut_gain,
        highlight_lift,
        linear_to_srgb,
        srgb_to_linear,
    )

    gain = 1.083
    # the curve of the brightest channel: the full lift below the knee, white only at white, rising all the way
    values = np.arange(256.0)
    out = 255 * linear_to_srgb(srgb_to_linear(values / 255) * highlight_lift(gain))
    knee = int(LIFT_TAPER_FROM)
    np.testing.assert_allclose(out[:knee], 255 * linear_to_srgb(srgb_to_linear(values[:knee] / 255) * gain), atol=1e-9)
    assert out.max() == pytest.approx(255) and np.all(out[:255] < 255) and np.all(out >= values - 1e-9)
    assert np.all(np.diff(out) > 0.6)  # a brighter colour stays brighter, its highlights keep their gradation
    # skin from mid-tone to a lit forehead's highlights (sRGB), brightest channel rising
    colours = np.array([[[178, 113, 84], [200, 168, 143], [236, 190, 160], [245, 205, 180], [252, 228, 210]]], np.uint8)
    lab = cv2.cvtColor(colours, cv2.COLOR_RGB2LAB).astype(np.float32)
    gains = gamut_gain(lab, gain)
    assert gains.shape == (1, 5) and gamut_gain(lab[0], gain).shape == (5,)
    lifted = cv2.cvtColor(np.clip(np.round(brighter(lab, gains)), 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB).astype(int)
    assert gains[0, 0] == pytest.approx(gain) and gains[0, 1] == pytest.approx(gain)  # mid-tones: the full lift
    assert np.all(gains[0, 2:] < gain) and np.all(gains >= 1)  # highlights: less, and none darkened
    assert np.all(lifted[0].max(1) < 255), lifted  # no channel driven into white (a full lift clips the last in red)
    # a highlight still lifted keeps its hue: every channel by one factor (a clipped red channel turned lit skin orange)
    ratios = lifted[0, 2] / colours[0, 2].astype(float)
    assert ratios.min() > 1.005 and np.ptp(ratios) < 0.02, ratios
    with pytest.raises(ValueError, match="1 or more, got 0.9"):
        gamut_gain(lab, 0.9)


def test_younger_skin_is_brighter_by_a_share_of_its_light_keeping_its_hue():
    import cv2  # noqa: PLC0415 - only this test converts colours

    from engine.methods.classical.aging import YOUNG_REFLECTANCE_GAIN, brighter  # noqa: PLC0415

    def lab8(rgb):
        lab = cv2.cvtColor(np.array([[rgb]], np.float32) / 255, cv2.COLOR_RGB2LAB)[0, 0]
        return np.array([lab[0] * 2.55, lab[1] + 128, lab[2] + 128], np.float32)

    def rgb(lab):
        back = np.array([[[lab[0] / 2.55, lab[1] - 128, lab[2] - 128]]], np.float32)
        return cv2.cvtColor(back, cv2.COLOR_LAB2RGB)[0, 0] * 255

    fair, dark = (200, 168, 143), (178, 113, 84)  # the astronaut's cheek, Obama's 2009 cheek (means, sRGB)
    gain = 1 + YOUNG_REFLECTANCE_GAIN
    # on the fair cheek, the 6 lightness levels the lift was chosen as, by looking
    assert brighter(lab8(fair), gain)[0] - lab8(fair)[0] == pytest.approx(6.0, abs=0.1)
    for skin in (fair, dark):
        lifted = rgb(brighter(lab8(skin), gain))
        ratios = lifted / np.array(skin, np.float32)
        assert np.ptp(ratios) < 0.004  # every channel by one factor: hue and saturation kept (a fixed L* lift paled it)
        assert ratios.mean() == pytest.approx(gain ** (1 / 2.2), abs=0.006)  # the same share of light on either skin
    with pytest.raises(ValueError, match="a reflectance gain must be positive, got 0"):
        brighter(lab8(fair), 0)


def test_the_skins_median_colour_is_none_where_no_skin_shows_and_the_skins_own_otherwise():
    crop = np.zeros((8, 8, 3), np.uint8)
    crop[2:6, 2:6] = (200, 150, 120)
    crop[0, 0] = (10, 200, 10)  # not skin
    skin = np.zeros((8, 8), np.uint8)
    skin[2:6, 2:6] = 1
    median = skin_median(crop, skin)
    assert median is not None
    np.testing.assert_allclose(median, cv2.cvtColor(crop[2:3, 2:3], cv2.COLOR_RGB2LAB)[0, 0], atol=0.5)
    assert skin_median(crop, np.zeros((8, 8), np.uint8)) is None  # a face whose skin mask is empty: no colour to test
