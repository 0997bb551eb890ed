"""Strand-by-strand greying and the hair mask's refinement, on synthetic hair patches."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.core import memo
from engine.faces.segmentation import fill_holes
from engine.faces.zones import (
    FACE_OVAL,
    LEFT_BROW,
    LEFT_EYE,
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    RIGHT_BROW,
    RIGHT_EYE,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
)
from engine.methods.classical.hair import (
    MONOCHROME_CHROMA,
    added_recession,
    grey_by_median,
    grey_hair,
    grey_strands,
    hair_alpha,
    hair_greyness,
    hair_wisps,
    is_monochrome,
    norwood_share,
    recede_hairline,
    temple_lead,
    uncovered_side,
)

pytestmark = pytest.mark.unit

SIZE = 128


def hair_patch(colour: tuple[int, int, int], vertical: bool = False, seed: int = 0) -> np.ndarray:
    """A patch of straight hair: noise stretched along the strands (horizontal unless `vertical`), shading
    the colour by up to +-30 %."""
    noise: np.ndarray = np.random.default_rng(seed).standard_normal((SIZE, SIZE)).astype(np.float32)
    along, across = 8.0, 0.7
    noise = cv2.GaussianBlur(noise, (0, 0), sigmaX=across if vertical else along, sigmaY=along if vertical else across)
    shade = 1 + 0.3 * noise / noise.std()
    return np.clip(np.array(colour, np.float32) * shade[..., None], 0, 255).astype(np.uint8)


def lightness(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)


def high_pass_energy(values: np.ndarray) -> float:
    return float(np.mean((values - cv2.GaussianBlur(values, (0, 0), 2.0)) ** 2))


FULL = np.ones((SIZE, SIZE), np.uint8)
DARK, BLOND = (70, 45, 30), (165, 130, 80)  # lightness about that of the astronaut's blond hair


@pytest.mark.parametrize("amount", [0.1, 0.5, 0.9])
def test_share_of_white_strands_is_the_grey_amount(amount):
    hair = hair_patch(DARK)
    strands = grey_strands(lightness(hair), FULL, amount, np.random.default_rng(1), pattern=0.0)
    assert strands.mean() == pytest.approx(amount, abs=0.02)
    # the temples' lead moves where the strands are, not how many
    led = grey_strands(lightness(hair), FULL, amount, np.random.default_rng(1), 1.0, temple_lead((SIZE, SIZE), None))
    assert led.mean() == pytest.approx(amount, abs=0.02)


def test_temples_grey_before_the_crown():
    hair = hair_patch(DARK)
    lead = temple_lead((SIZE, SIZE), None)
    strands = grey_strands(lightness(hair), FULL, 0.3, np.random.default_rng(1), 1.0, lead)
    assert strands[lead > 0.6].mean() > 2 * strands[lead < 0.2].mean()


@pytest.mark.parametrize("vertical", [False, True])
def test_white_strands_run_along_the_hair(vertical):
    hair = hair_patch(DARK, vertical)
    strands = grey_strands(lightness(hair), FULL, 0.5, np.random.default_rng(2), pattern=0.0)
    inner = strands[16:-16, 16:-16]

    def correlation(a, b):
        return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])

    along_x = correlation(inner[:, :-4], inner[:, 4:])
    along_y = correlation(inner[:-4], inner[4:])
    along, across = (along_y, along_x) if vertical else (along_x, along_y)
    assert along > 0.5 and across < 0.5 * along  # long along the strands, a pixel or two across


def coiled_patch(colour: tuple[int, int, int], seed: int) -> np.ndarray:
    """A patch of tightly coiled hair: its texture (noise a couple of pixels across) runs no way more than another."""
    noise: np.ndarray = np.random.default_rng(seed).standard_normal((SIZE, SIZE)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 1.5)
    shade = 1 + 0.3 * noise / noise.std()
    return np.clip(np.array(colour, np.float32) * shade[..., None], 0, 255).astype(np.uint8)


def test_coiled_hair_greys_in_specks_not_in_worms_along_the_tensors_direction():
    # the structure tensor still gives coiled hair a direction, smooth over its coils; strands drawn 12 px each way
    # along it were worms, crumpled foil over short black hair at 70. Their correlation 4 px along that direction:
    # 0.65-0.72 at full length, 0.09-0.35 as far as the texture runs one way
    from engine.methods.classical.hair import hair_flow  # noqa: PLC0415 - only this test needs it

    along = []
    for seed in range(3):
        hair = coiled_patch(DARK, seed)
        strands = grey_strands(lightness(hair), FULL, 0.5, np.random.default_rng(2), pattern=0.0)[16:-16, 16:-16]
        direction = hair_flow(lightness(hair))[0][16:-16, 16:-16]
        ys, xs = np.mgrid[: strands.shape[0], : strands.shape[1]].astype(np.float32)
        ahead = cv2.remap(strands, xs + 4 * direction[..., 0], ys + 4 * direction[..., 1], cv2.INTER_LINEAR)
        along.append(float(np.corrcoef(strands[8:-8, 8:-8].ravel(), ahead[8:-8, 8:-8].ravel())[0, 1]))
    assert max(along) < 0.45 and np.mean(along) < 0.3, along


@pytest.mark.parametrize("amount", [0.1, 0.3, 0.7, 0.9])
def test_coiled_hair_beside_straight_hair_greys_as_much(amount):
    # a coiled strand's short streamline averages fewer noise samples, so its noise spreads wider; ranked with the
    # straight hair beside it, the coiled half greyed first and kept its last pigmented strands longest (at 0.1: 0.13
    # of the coiled half against 0.06 of the straight one, before each streamline's mean was scaled to one spread)
    from engine.methods.classical.hair import hair_flow  # noqa: PLC0415 - only this test needs it

    shares: dict[str, list[float]] = {"straight": [], "coiled": []}
    for seed in range(4):
        hair = np.hstack([hair_patch(DARK, seed=seed), coiled_patch(DARK, seed + 10)])
        reach = hair_flow(lightness(hair))[1]
        assert np.median(reach[16:-16, 16 : SIZE - 16]) >= 9 and np.median(reach[16:-16, SIZE + 16 : -16]) <= 5
        strands = grey_strands(lightness(hair), np.ones(hair.shape[:2], np.uint8), amount, np.random.default_rng(seed))
        shares["straight"].append(strands[16:-16, 16 : SIZE - 16].mean())
        shares["coiled"].append(strands[16:-16, SIZE + 16 : -16].mean())
    for half, values in shares.items():
        assert abs(np.mean(values) - amount) < 0.03, (half, np.mean(values))


def test_a_streamline_runs_as_far_as_its_own_reach_whatever_the_others_reach(monkeypatch):
    # each pixel's mean along its streamline is the one a field of that reach everywhere gives it, whether the
    # streamlines are followed longest first in a mixed field or all alike (the strands' thinning left out: it mixes
    # neighbours)
    from engine.methods.classical import hair as strands_module  # noqa: PLC0415 - only this test needs it

    monkeypatch.setattr(strands_module, "STRAND_SHARPEN", 0.0)
    patch = lightness(hair_patch(DARK, seed=5))
    direction = strands_module.hair_flow(patch)[0]
    white = np.random.default_rng(5).standard_normal(patch.shape).astype(np.float32)
    wanted = np.zeros(patch.shape, bool)
    wanted[20:100, 10:120] = True
    mixed = np.random.default_rng(6).integers(0, 13, patch.shape).astype(np.uint8)
    field = strands_module._line_integral(direction, white, wanted, mixed)
    for level in (0, 3, 7, 12):
        alike = strands_module._line_integral(direction, white, wanted, np.full(patch.shape, level, np.uint8))
        at = wanted & (mixed == level)
        np.testing.assert_allclose(field[at], alike[at], atol=1e-5)
    assert np.all(field[~wanted] == 0)


def test_anisotropy_is_one_for_parallel_gradients_and_zero_for_none_or_every_way():
    from engine.methods.classical.hair import anisotropy  # noqa: PLC0415 - only this test needs it

    angle = np.float32(0.6)
    gx, gy = np.cos(angle), np.sin(angle)  # one gradient direction: l2 = 0
    parallel = anisotropy(np.array([gx * gx]), np.array([gx * gy]), np.array([gy * gy]))
    # gradients along x and y alike (l1 = l2), and no gradient at all (flat)
    every_way = anisotropy(np.array([1.0, 0.0]), np.array([0.0, 0.0]), np.array([1.0, 0.0]))
    # twice as strong one way as across it: (2 - 1) / (2 + 1)
    twice = anisotropy(np.array([2.0]), np.array([0.0]), np.array([1.0]))
    np.testing.assert_allclose(parallel, [1.0], atol=1e-6)
    np.testing.assert_allclose(every_way, [0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(twice, [1 / 3], atol=1e-6)


def test_no_low_frequency_blotches():
    # the old field made patches of grey and pigmented hair tens of pixels wide; strands average out
    hair = hair_patch(BLOND)
    strands = grey_strands(lightness(hair), FULL, 0.5, np.random.default_rng(3), pattern=0.0)
    blurred = cv2.GaussianBlur(strands, (0, 0), 16.0)[24:-24, 24:-24]
    assert blurred.std() < 0.05
    # a grey share drawn as patches (low-frequency noise over the threshold) fails the same check
    patches = cv2.GaussianBlur(np.random.default_rng(3).standard_normal((SIZE, SIZE)), (0, 0), 10.0) > 0
    assert cv2.GaussianBlur(patches.astype(np.float32), (0, 0), 16.0)[24:-24, 24:-24].std() > 0.1


@pytest.mark.parametrize("colour", [DARK, BLOND])
def test_grey_hair_keeps_the_strands_detail(colour):
    hair = hair_patch(colour)
    for amount in (0.5, 1.0):
        greyed = grey_hair(hair, FULL, amount, np.random.default_rng(4), pattern=0.0)
        assert high_pass_energy(lightness(greyed)) >= 0.8 * high_pass_energy(lightness(hair))


def test_dark_hair_turns_salt_and_pepper_then_white_and_light_hair_whitens():
    dark = hair_patch(DARK)
    half = lightness(grey_hair(dark, FULL, 0.5, np.random.default_rng(5), pattern=0.0))
    source = lightness(dark)
    # salt and pepper: about half the pixels much lighter than before, about half as they were
    lighter = half > source + 40
    assert 0.35 < lighter.mean() < 0.65 and np.mean(np.abs(half - source) < 3) > 0.25
    white = lightness(grey_hair(dark, FULL, 1.0, np.random.default_rng(5), pattern=0.0))
    assert white.mean() > source.mean() + 80
    blond = hair_patch(BLOND)
    whitened = grey_hair(blond, FULL, 1.0, np.random.default_rng(5), pattern=0.0)

    def chroma(rgb):
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
        return float(np.hypot(lab[..., 1] - 128, lab[..., 2] - 128).mean())

    assert lightness(whitened).mean() > lightness(blond).mean() + 10  # lighter, not grey
    assert chroma(whitened) < 0.5 * chroma(blond)  # and it loses its saturation


def test_pigmented_strands_left_in_grey_hair_have_width_not_outlines():
    # at 90 % grey the last pigmented strands were one-pixel lines (contour lines across white hair at 1:1): their
    # runs across the strands were 1.0 px on average, against 1.5-1.6 px for strands with width
    hair = hair_patch(DARK, vertical=True)
    change = lightness(grey_hair(hair, FULL, 0.9, np.random.default_rng(4), pattern=0.0)) - lightness(hair)
    white = lightness(grey_hair(hair, FULL, 1.0, np.random.default_rng(4), pattern=0.0)) - lightness(hair)
    pigmented = (change < 0.5 * white)[16:-16, 16:-16]  # less than half as whitened as the hair all white
    runs = []  # their widths across the (vertical) strands
    for row in pigmented:
        edges = np.flatnonzero(np.diff(np.concatenate([[0], row.astype(int), [0]])))
        runs += list(edges[1::2] - edges[::2])
    assert 0.03 < pigmented.mean() < 0.4 and np.mean(runs) > 1.3


SKIN = (225, 185, 160)


@pytest.mark.parametrize("colour", [DARK, BLOND])
def test_greyed_hair_has_no_pale_rim_where_it_meets_the_skin(colour):
    # a photographed hairline: hair fades into the forehead over 16 px, and the mask reaches 12 px into the fade
    x = np.arange(SIZE, dtype=np.float32)
    skin_share = np.clip((x - 56) / 16, 0, 1)[None, :, None]
    face = np.round(hair_patch(colour) * (1 - skin_share) + np.array(SKIN, np.float32) * skin_share).astype(np.uint8)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[:, :68] = 1
    greyed = lightness(grey_hair(face, mask, 1.0, np.random.default_rng(0), pattern=0.0))
    edge = greyed[16:-16, 56:68].mean(0)  # the mask's last pixels, column by column
    hair_side, skin_side = np.percentile(greyed[:, :48], 90), lightness(face)[:, 100].mean()
    assert edge.max() <= max(hair_side, skin_side) + 2  # no line lighter than both sides
    assert greyed[:, :48].mean() > lightness(face)[:, :48].mean() + 10  # and the hair itself did grey


def test_grey_hair_is_seeded_and_stays_inside_the_soft_mask():
    hair = hair_patch(DARK)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[:, : SIZE // 2] = 1
    first = grey_hair(hair, mask, 0.5, np.random.default_rng(6))
    assert np.array_equal(first, grey_hair(hair, mask, 0.5, np.random.default_rng(6)))
    assert not np.array_equal(first, grey_hair(hair, mask, 0.5, np.random.default_rng(7)))
    np.testing.assert_array_equal(first[:, SIZE // 2 + 8 :], hair[:, SIZE // 2 + 8 :])
    assert np.array_equal(grey_hair(hair, mask, 0.0, np.random.default_rng(6)), hair)
    with pytest.raises(ValueError, match="between 0 and 1, got 1.5"):
        grey_strands(lightness(hair), mask, 1.5, np.random.default_rng(6))


def test_hair_alpha_is_soft_only_at_the_boundary_and_follows_strands_past_it():
    guide = np.full((64, 64, 3), 200, np.uint8)
    guide[:, :32] = (60, 40, 30)  # dark hair on the left, a light background on the right
    guide[::4, 32:40] = (60, 40, 30)  # with strands sticking out past the binary mask
    mask = np.zeros((64, 64), np.uint8)
    mask[:, :32] = 1
    alpha = hair_alpha(guide, mask)
    assert np.all(alpha[:, :28] == 1)  # inside: exactly 1
    assert np.all(alpha[:, 37:] == 0)  # beyond the filter's reach: exactly 0
    strands, background = alpha[::4, 32:36], alpha[1::4, 32:36]
    assert strands.min() > 0.3 and background.max() < 0.05  # the edge follows the hair, not the mask's outline


def test_fill_holes_closes_a_crown_cut_by_the_top_of_the_crop():
    mask = np.zeros((40, 40), np.uint8)
    mask[:30, 5:35] = 1
    mask[:10, 15:25] = 0  # a highlight on the crown, open only to the top edge
    mask[15:20, 15:20] = 0  # a hole inside
    assert fill_holes(mask)[:10, 15:25].sum() == 0 and fill_holes(mask)[15:20, 15:20].all()
    assert fill_holes(mask, top_closed=True)[:10, 15:25].all()
    assert fill_holes(mask, top_closed=True)[35:, :].sum() == 0  # the background below stays out


def test_norwood_share_follows_norwoods_figures_and_never_gives_hair_back():
    assert norwood_share(24) == pytest.approx(0.16)  # 18-29 year olds (Norwood 1975)
    assert norwood_share(45) == pytest.approx(0.53)  # 40-49 year olds
    assert norwood_share(20) < norwood_share(40) < norwood_share(70)
    assert added_recession(50, 30) == 0.0 and added_recession(40, 40) == 0.0
    assert 0 < added_recession(30, 50) < added_recession(30, 70) < 1
    with pytest.raises(ValueError, match="between 0 and 120, got -3"):
        norwood_share(-3)


def frontal_points(eye_y: float = 150.0, brow_y: float = 125.0, d: float = 60.0, centre: float = 128.0) -> np.ndarray:
    """FaceMesh-shaped points with only the eyes and brows placed (what the hairline needs)."""
    points = np.zeros((478, 2), np.float32)
    for side, sign in ((RIGHT_EYE, -1), (LEFT_EYE, 1)):
        points[side] = (centre + sign * d / 2, eye_y)
    for brow, sign in ((RIGHT_BROW, -1), (LEFT_BROW, 1)):
        points[brow] = (centre + sign * d / 2, brow_y)
    points[[RIGHT_EYE_OUTER, RIGHT_EYE_INNER]] = (centre - d / 2, eye_y)
    points[[LEFT_EYE_OUTER, LEFT_EYE_INNER]] = (centre + d / 2, eye_y)
    return points


FOREHEAD_SKIN = np.array((220, 170, 140), np.float32)
HAIRLINE = 70  # the lowest row of the hair over the forehead in `_forehead`


def _forehead(size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(a face of textured skin, a hair mask over its forehead from row 20 down to HAIRLINE, columns 40-215)."""
    texture = np.random.default_rng(0).normal(0, 4, (size, size, 1)).astype(np.float32)
    face = np.clip(FOREHEAD_SKIN + texture, 0, 255).astype(np.uint8)
    hair = np.zeros((size, size), np.uint8)
    hair[20:HAIRLINE, 40:216] = 1
    return face, hair


def test_receding_hairline_turns_the_temples_into_forehead_skin():
    hairline, skin = HAIRLINE, FOREHEAD_SKIN
    face, hair = _forehead()
    face[hair > 0] = (50, 35, 25)
    points = frontal_points()
    out, left, note = recede_hairline(face, hair, points, 1.0)
    assert note == ""
    gone = (hair > 0) & (left == 0)
    assert gone.any() and not (left & ~hair).any()  # hair only taken away
    # seen from the front the head's outline stays hair (OUTLINE_HAIR, 12 px here): no bare cap against the background
    np.testing.assert_array_equal(out[20:32, 60:196], face[20:32, 60:196])
    # the temples go back further than the middle (the M of Norwood II-III)
    depth = gone.sum(0)
    assert depth[128 + 42] > depth[128] + 15 and depth[128 - 42] > depth[128] + 15
    # what was hair is now the forehead's skin, with its texture
    new_skin = out[gone & (cv2.erode(gone.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0)].astype(np.float32)
    assert np.abs(new_skin.mean(0) - skin).max() < 12 and new_skin.std(0).mean() > 1.5
    # the forehead itself is untouched below the old hairline's soft edge (two HAIRLINE_MARGINs, 7 px here)
    np.testing.assert_array_equal(out[hairline + 8 :], face[hairline + 8 :])
    # nothing to do younger, and a fringe down to the brows leaves no skin to carry up
    assert recede_hairline(face, hair, points, 0.0)[2] == "no recession at these ages"
    fringe = hair.copy()
    fringe[20:120, 40:216] = 1
    assert "fringe" in recede_hairline(face, fringe, points, 1.0)[2]
    # short hair: all of it is the head's outline, and the note says so
    crew = np.zeros_like(hair)
    crew[60:hairline, 40:216] = 1
    assert recede_hairline(face, crew, points, 1.0)[2] == "the hair above the forehead is no deeper than the head's outline"
    crew[60:160, 40:60] = crew[60:160, 196:216] = 1  # with hair down the sides: still not a fringe
    assert recede_hairline(face, crew, points, 1.0)[2] == "the hair above the forehead is no deeper than the head's outline"


def test_the_receded_hairline_is_smooth_takes_the_old_edge_with_it_and_leaves_the_side_hair():
    hairline, skin = HAIRLINE, FOREHEAD_SKIN
    face, hair = _forehead()
    hair[20:160, 40:60] = hair[20:160, 196:216] = 1  # the hair at the sides, down past the brows to the ears
    hair[hairline : hairline + 15, 100:102] = 1  # a strand hanging lower than the rest
    face[hair > 0] = (50, 35, 25)
    edge = np.zeros_like(hair, bool)
    edge[hairline : hairline + 3, 60:196] = True  # the hairline's soft dark edge, just outside the hair mask
    edge &= hair == 0
    face[edge] = (120, 90, 70)
    out, left, note = recede_hairline(face, hair, frontal_points(), 1.0)
    assert note == ""
    # the side hair stays hair, as in Norwood's drawings (it became a band of skin at the brows' height)
    np.testing.assert_array_equal(out[80:160, 40:56], face[80:160, 40:56])
    assert left[80:160, 40:56].all()
    # beside it the recession rounds off (TEMPLE_CORNER, 24 px here), not a straight cut up the side hair's edge
    receded = (hair > 0).sum(0) - (left > 0).sum(0)
    assert 0 < receded[66] < 0.3 * receded[84], receded[60:90]
    # the new hairline follows the head, not the strand: no step in it where the strand hung
    lowest = np.array([np.flatnonzero(left[:, x]).max() for x in range(88, 114)])
    assert np.abs(np.diff(lowest)).max() <= 3, lowest
    # where the hairline recedes its old dark edge goes with it (it stayed, a dark line across the new skin)
    temples = out[hairline : hairline + 3, 70:90].reshape(-1, 3).astype(np.float32)
    assert np.abs(temples.mean(0) - skin).max() < 20, temples.mean(0)


def test_pluralistic_futures_of_men_recede_as_often_as_norwood_says():
    from engine.methods.classical.pluralistic import sample_variations  # noqa: PLC0415 - only this test needs it

    base = {"forehead": 40.0}
    draws = sample_variations(base, 0.3, 600, seed=1, receding_probability=norwood_share(45))
    assert np.mean([v.receding_hairline for v in draws]) == pytest.approx(0.53, abs=0.06)
    assert not any(v.receding_hairline for v in sample_variations(base, 0.3, 50, seed=1))  # women, or younger targets
    # the hairline draw leaves the greying draws as they were
    plain = sample_variations(base, 0.3, 4, seed=2)
    receding = sample_variations(base, 0.3, 4, seed=2, receding_probability=1.0)
    assert [v.grey_onset_shift for v in plain] == [v.grey_onset_shift for v in receding]
    assert all(v.receding_hairline for v in receding)
    with pytest.raises(ValueError, match="between 0 and 1, got 2"):
        sample_variations(base, 0.3, 4, seed=2, receding_probability=2)


def test_at_diversity_0_every_future_has_the_mean_futures_hairline():
    from engine.methods.classical.pluralistic import sample_variations  # noqa: PLC0415 - only this test needs it

    base = {"forehead": 40.0}
    # every sample is the mean future, the lifespan model's face: receding by the share of men who do (recession None),
    # at 45 (53 %, Norwood) and at 30 alike (before, all-or-none by whether most men of that age recede)
    for age in (45, 30):
        futures = sample_variations(base, 0.0, 8, seed=3, receding_probability=norwood_share(age))
        assert all(v.receding_hairline and v.recession is None for v in futures)
    # and the most diverse futures recede more evenly (toward one in two) than the population's share at 30
    share_30 = norwood_share(30)
    wide = np.mean([v.receding_hairline for v in sample_variations(base, 2.0, 600, seed=3, receding_probability=share_30)])
    assert share_30 + 0.05 < wide < 0.5 + 0.06


def test_a_reused_strand_field_is_the_one_computed_and_the_generator_moves_on_alike():
    from engine.methods.classical.hair import hair_flow, strand_noise  # noqa: PLC0415 - only this test needs them

    direction = hair_flow(lightness(hair_patch(DARK, seed=9)))[0]
    first_rng, again_rng = np.random.default_rng(11), np.random.default_rng(11)
    first = strand_noise(direction, first_rng)  # computed
    again = strand_noise(direction, again_rng)  # reused
    assert np.array_equal(first, again)
    assert first_rng.random() == again_rng.random()
    first[:] = 0  # the caller's copy, not the kept field
    assert np.array_equal(strand_noise(direction, np.random.default_rng(11)), again)
    assert not np.array_equal(strand_noise(direction, np.random.default_rng(12)), again)


def test_eyebrows_whiten_hair_by_hair_and_leave_the_skin_between_them():
    skin = np.full((48, 96, 3), (225, 185, 160), np.uint8)
    brow = skin.copy()
    brow[18:30:3, 10:86] = (120, 85, 60)  # dark hairs, one row in three
    band = np.zeros((48, 96), np.uint8)
    band[16:32, 8:88] = 1  # the brow region holds skin between the hairs
    grey = grey_hair(brow, band, 1.0, np.random.default_rng(0), 0.0, shading=False)
    hairs = np.zeros((48, 96), bool)
    hairs[18:30:3, 14:82] = True
    between = (band > 0) & ~cv2.dilate(hairs.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    between[:, :14] = between[:, 82:] = False
    assert np.abs(grey[between].astype(int) - brow[between].astype(int)).max() <= 2  # the skin stays skin
    hair_light, skin_light = lightness(grey)[hairs].mean(), lightness(skin).mean()
    assert lightness(brow)[hairs].mean() + 40 < hair_light <= skin_light + 10  # white hairs, not brighter than skin
    # which hairs whiten follows the seed, and only the seed
    half = grey_hair(brow, band, 0.5, np.random.default_rng(1), 0.0, shading=False)
    assert np.array_equal(half, grey_hair(brow, band, 0.5, np.random.default_rng(1), 0.0, shading=False))
    assert not np.array_equal(half, grey_hair(brow, band, 0.5, np.random.default_rng(2), 0.0, shading=False))


def striped_brow(skin_rgb: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(skin, a brow of brown hairs every third row on it, the brow's region, the hairs' pixels away from its ends)."""
    skin = np.full((48, 96, 3), skin_rgb, np.uint8)
    brow = skin.copy()
    brow[18:30:3, 10:86] = (120, 85, 60)
    band = np.zeros((48, 96), np.uint8)
    band[16:32, 8:88] = 1
    hairs = np.zeros((48, 96), bool)
    hairs[18:30:3, 14:82] = True
    return skin, brow, band, hairs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_half_grey_brow_has_white_hairs_among_pigmented_ones_not_a_grey_haze(seed):
    # a greying brow's white hairs come one by one among the rest: drawn as one grey share for every pixel, the
    # brow turned into a light strip with no dark hair left (the blue-grey strips of 70-80)
    skin, brow, band, hairs = striped_brow((225, 185, 160))
    lighter = (lightness(grey_hair(brow, band, 0.5, np.random.default_rng(seed), 0.0, shading=False)) - lightness(brow))[hairs]
    assert (lighter < 10).mean() > 0.2  # hairs that keep their pigment ...
    assert (lighter > 30).mean() > 0.3  # ... among ones gone white


def test_a_white_brow_on_fair_skin_stays_visible_as_hair_strokes_along_the_brow():
    skin = np.full((48, 96, 3), (235, 200, 180), np.uint8)  # fair skin
    brow: np.ndarray = skin.copy()
    brow[20:28, 10:86] = (150, 110, 85)
    brow = cv2.GaussianBlur(brow, (0, 0), 1.5)  # a brow whose hairs the photo does not resolve: a soft band
    band = np.zeros((48, 96), np.uint8)
    band[16:32, 8:88] = 1
    grey = lightness(grey_hair(brow, band, 0.94, np.random.default_rng(0), 0.0, shading=False))  # 80, from 41
    core = (slice(21, 27), slice(16, 80))
    # whitened, yet still a grey brow against the skin, not gone
    assert lightness(brow)[core].mean() + 20 < grey[core].mean() < lightness(skin).mean() - 15
    # it shows hairs: fine strokes (a flat band's detail is about 1.4 L levels) running along the brow
    detail = (grey - cv2.GaussianBlur(grey, (0, 0), 2.0))[core]
    along = np.corrcoef(detail[:, :-2].ravel(), detail[:, 2:].ravel())[0, 1]
    across = np.corrcoef(detail[:-2].ravel(), detail[2:].ravel())[0, 1]
    assert detail.std() > 4.0 and along > 0.5 > across + 0.3


def test_greyed_eyebrows_keep_the_skins_warmth_not_blue_grey():
    skin, brow, band, hairs = striped_brow(SKIN)
    for amount in (0.8, 1.0):
        lab = cv2.cvtColor(grey_hair(brow, band, amount, np.random.default_rng(0), 0.0, shading=False), cv2.COLOR_RGB2LAB)
        a, b = (lab[..., 1:][hairs].astype(np.float32) - 128).mean(0)
        skin_b = float(cv2.cvtColor(skin, cv2.COLOR_RGB2LAB)[0, 0, 2]) - 128
        hair_b = float(cv2.cvtColor(brow, cv2.COLOR_RGB2LAB)[18, 40, 2]) - 128
        # white hairs over warm skin: yellowish like the skin showing through (not neutral-to-blue), paler than the brown
        assert a >= 0 and 0.5 * skin_b <= b < hair_b


def test_an_ear_beside_the_face_is_not_hair_however_shaded():
    from engine.faces.segmentation import ear_like  # noqa: PLC0415 - only this test needs it

    # blond hair has the skin's chromaticity: only lightness and place tell the ear from it
    lightness = np.full((120, 120), 90.0, np.float32)  # hair beside the face
    face = np.zeros((120, 120), np.uint8)
    face[:, :60] = 1
    candidate = np.zeros((120, 120), bool)
    candidate[:100, 60:110] = True
    lightness[70:95, 60:75] = 140  # the earlobe below the hair, in shade, joined to the face's side
    lightness[10:30, 60:80] = 150  # a lit lock beside the temple, above the eyes
    lightness[60:70, 90:105] = 150  # a highlight in the hair, away from the face
    lab = np.stack([lightness, np.full_like(lightness, 136), np.full_like(lightness, 146)], -1)
    rows = np.arange(120)[:, None] > np.zeros((1, 120))
    joins = rows & (np.arange(120)[:, None] > 40)  # the ear joins the head below row 40 (EAR_JOIN)
    ear = ear_like(lab, candidate, face, np.ones((120, 120), bool), joins, rows)
    assert ear[70:95, 60:75].all()
    assert not ear[10:30].any() and not ear[60:70, 90:105].any() and not ear[:70, 75:].any()


def test_an_ear_is_found_by_where_it_joins_the_head_on_a_bowed_head_and_past_skin_the_outline_leaves_out():
    """A face looking down shows its ears above its eyes, and a turned face's outline (FaceMesh's) stops short of the
    cheek's edge: the ear test reads where the ears join and start from the face oval's own points on each side, and an
    ear joins the face's skin beside the outline, not only the outline."""
    from engine.faces.segmentation import EAR_GAP, EAR_JOIN, EAR_TOP, ear_like, side_rows, skin_beside_outline  # noqa: PLC0415

    points = np.zeros((478, 2), np.float32)
    points[:, 0] = 60.0  # the face's middle: column 60
    points[[EAR_TOP[0], EAR_JOIN[0]], 1] = (50.0, 70.0)  # the face's right side (the image's left): upright
    points[[EAR_TOP[1], EAR_JOIN[1]], 1] = (20.0, 30.0)  # its left: the head bowed and tilted, the ear higher
    points[[EAR_TOP[1], EAR_JOIN[1]], 0] = 100.0
    joins = side_rows(points, (120, 120), EAR_JOIN)
    assert joins[71:, :59].all() and not joins[:70, :59].any()
    assert joins[31:, 61:].all() and not joins[:30, 61:].any()  # each side by its own points, not the eye line
    # the face's outline ends at column 50; the cheek's skin goes on to 62, the ear from 62 to 80 (rows 25-60)
    face = np.zeros((120, 120), np.uint8)
    face[:, :50] = 1
    skin = np.zeros((120, 120), bool)
    skin[:, 50:62] = True
    skin[:, 100:110] = True  # skin-coloured, but further from the outline than EAR_GAP: a wall, not the face's
    d = 30.0  # the gap of 12 px is within EAR_GAP; the wall 50 px off is not
    assert EAR_GAP * d >= 12
    joined = skin_beside_outline(face, skin, d)
    assert joined[:, :62].all() and not joined[:, 62:].any()
    lightness = np.full((120, 120), 60.0, np.float32)  # dark hair
    lightness[25:60, 62:80] = 160  # the ear, light and skin-coloured
    candidate = np.zeros((120, 120), bool)
    candidate[:100, 62:100] = True
    lab = np.stack([lightness, np.full_like(lightness, 140), np.full_like(lightness, 150)], -1)
    below_top = side_rows(points, (120, 120), EAR_TOP)
    ear = ear_like(lab, candidate, joined, np.ones((120, 120), bool), joins, below_top)
    assert ear[25:60, 62:80][below_top[25:60, 62:80]].all() and not ear[:20].any()
    # by the outline alone (the skin beside it left out), the ear did not join the face and stayed hair
    assert not ear_like(lab, candidate, face, np.ones((120, 120), bool), joins, below_top).any()


def test_a_fringes_skin_coloured_tips_join_the_hair_but_not_the_forehead():
    from engine.faces.segmentation import fringe_tips  # noqa: PLC0415 - only this test needs it

    lightness = np.full((80, 60), 210.0, np.float32)  # the forehead
    lightness[:30] = 100  # the fringe, in the mask
    lightness[30:36, 10:50] = 170  # its tips, skin-coloured: left out by the colour tests
    lightness[45:48, 20:23] = 150  # a mole on the forehead, not joined to the hair
    lightness[36:44, 8:12] = 170  # a strand down the forehead from the tips, past the lowest a fringe is taken
    mask = np.zeros((80, 60), np.uint8)
    mask[:30] = 1
    face = np.ones((80, 60), bool)
    grown = fringe_tips(lightness, mask, face, lowest=40, brows_top=60)
    assert grown[30:36, 10:50].all()  # the tips
    assert grown[36:40, 8:12].all()  # the strand down to the lowest row only ...
    assert not grown[40:].any() and not grown[45:48, 20:23].any()  # ... never the mole or the forehead
    assert np.array_equal(fringe_tips(lightness, mask, face, lowest=60, brows_top=60), mask)  # no room: as it was


def _salt_and_pepper(share_white: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 128 px patch of vertical strands, `share_white` of them white and the rest auburn, all of it hair."""
    rng = np.random.default_rng(seed)
    lab = np.zeros((128, 128, 3), np.float32)
    white = rng.random(128) < share_white
    lab[:, white] = (210.0, 129.0, 132.0)  # white hair: light, nearly no chroma
    lab[:, ~white] = (70.0, 150.0, 150.0)  # auburn hair (redder than the default brown)
    lab[..., 0] += rng.normal(0, 4, (128, 128)).astype(np.float32)  # the strands' own lightness detail
    rgb = cv2.cvtColor(np.clip(np.round(lab), 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    return rgb, np.ones((128, 128), np.uint8)


def test_grey_strands_regain_the_persons_own_pigment_when_enough_is_left():
    from engine.methods.classical.hair import pigment_lab, repigment_hair  # noqa: PLC0415 - kept beside its test

    face, mask = _salt_and_pepper(0.6)
    young, used, done = repigment_hair(face, mask, 1.0, np.random.default_rng(0), "#5f4632", 0.0)
    assert done and used.startswith("the person's own pigment")
    lab = cv2.cvtColor(young, cv2.COLOR_RGB2LAB).astype(np.float32)
    white = cv2.cvtColor(face, cv2.COLOR_RGB2LAB)[..., 0] > 150
    # the white strands take her own auburn, not the default brown: within a few levels of her pigmented strands'
    assert abs(float(np.median(lab[..., 0][white])) - 70.0) < 15
    assert abs(float(np.median(lab[..., 1][white])) - 150.0) < 5
    assert pigment_lab("#5f4632")[1] < 140  # (the default is less red, so this is hers)
    # and nearly all white: the default, named as a guess; at share 0 nothing changes
    face, mask = _salt_and_pepper(0.98)
    _, used, done = repigment_hair(face, mask, 1.0, np.random.default_rng(0), "#5f4632", 0.0)
    assert done and "a default pigment, #5f4632" in used and "guess" in used
    same, _, done = repigment_hair(face, mask, 0.0, np.random.default_rng(0), "#5f4632", 0.0)
    assert not done and np.array_equal(same, face)


def test_the_strands_pigment_is_held_no_lighter_and_no_more_chromatic_than_the_hair_as_a_whole():
    from engine.methods.classical.hair import held_to_hair  # noqa: PLC0415 - kept beside its test

    hair = np.array([47.0, 133.0, 132.0], np.float32)  # near-black hair, C*ab 6.4
    temple = np.array([68.0, 140.0, 144.0], np.float32)  # thin temple hair over skin: lighter, C*ab 20, warmer
    held, said = held_to_hair(temple, hair)
    assert held[0] == 47.0 and np.hypot(held[1] - 128, held[2] - 128) == pytest.approx(np.hypot(5, 4), abs=1e-4)
    assert np.degrees(np.arctan2(held[2] - 128, held[1] - 128)) == pytest.approx(np.degrees(np.arctan2(16, 12)), abs=1e-3)
    assert said == "; its lightness and chroma held to the hair's as a whole"
    # darker and less chromatic than the hair already: kept as it is, and nothing said
    kept, said = held_to_hair(np.array([40.0, 130.0, 131.0], np.float32), hair)
    assert np.array_equal(kept, [40.0, 130.0, 131.0]) and said == ""


def _in_a_hats_band(share_white: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """`_salt_and_pepper` cut to `size` px, its mask ending 2 px in, and a black hat's band over its edge band."""
    from engine.methods.classical.hair import EDGE_BAND  # noqa: PLC0415 - kept beside its test

    face, mask = _salt_and_pepper(share_white)
    face, mask = np.ascontiguousarray(face[:size, :size]), np.ascontiguousarray(mask[:size, :size])
    mask[:2], mask[-2:], mask[:, :2], mask[:, -2:] = 0, 0, 0, 0
    band = int(EDGE_BAND)
    face[:band], face[-band:], face[:, :band], face[:, -band:] = 20, 20, 20, 20
    return cv2.cvtColor(face, cv2.COLOR_RGB2LAB).astype(np.float32), mask


def test_the_hairs_colour_that_bounds_the_pigment_is_read_inside_the_mask_not_on_a_hats_band_at_its_edge():
    from engine.methods.classical.hair import hair_colour_bound, hair_greyness  # noqa: PLC0415 - kept beside its test

    # a small mask of mostly auburn hair whose edge band is a black hat's: the pigmented pixels' median over the whole
    # mask is the hat's black (L 16), the core's is the auburn
    lab, mask = _in_a_hats_band(0.3, 48)
    bound = hair_colour_bound(lab, mask, hair_greyness(lab))
    assert bound is not None and bound[0] > 60 and abs(float(bound[1]) - 150) < 3
    # mostly white hair inside the hat's band: no bound (the strands' own pigment is all there is to go by)
    lab, mask = _in_a_hats_band(0.85, 128)
    assert hair_colour_bound(lab, mask, hair_greyness(lab)) is None


def test_hair_mostly_still_pigmented_gives_its_own_colour_where_few_strands_lie_among_the_grey():
    from engine.methods.classical.hair import OWN_DARKER, mostly_pigmented  # noqa: PLC0415

    lab = np.zeros((100, 100, 3), np.float32)
    lab[:] = (40.0, 131.0, 133.0)  # near-black hair
    greyness = np.zeros((100, 100), np.float32)
    lab[:25] = (150.0, 128.0, 128.0)  # a light, grey band (a sheen, or grey hair): a quarter of the hair
    greyness[:25] = 1.0
    mask = np.ones((100, 100), np.uint8)
    own = mostly_pigmented(lab, mask, greyness)
    assert own is not None
    np.testing.assert_allclose(own, (40.0, 131.0, 133.0))
    # under half of the hair pigmented: no colour to call the person's
    greyness[:60] = 1.0
    lab[:60] = (150.0, 128.0, 128.0)
    assert mostly_pigmented(lab, mask, greyness) is None
    # "pigment" as light as the grey hair, less OWN_DARKER, is light on it, not pigment
    greyness[:] = 0.0
    greyness[:25] = 1.0
    lab[25:] = (150.0 - OWN_DARKER + 1.0, 131.0, 133.0)
    assert mostly_pigmented(lab, mask, greyness) is None
    # and the half is counted on what is dark enough: a few dark pixels among light "pigment" do not make it
    lab[25:30] = (40.0, 131.0, 133.0)
    assert mostly_pigmented(lab, mask, greyness) is None


def test_light_hair_only_where_the_hair_is_lit_is_its_sheen_and_keeps_its_colour():
    """A dark head lit from above shows a light band of sheen where the light falls (the pigmented hair around it lit
    too); grey strands grow wherever they grow, in the shade as in the light."""
    from engine.methods.classical.hair import (  # noqa: PLC0415
        SHEEN_LIT,
        SHEEN_NOT_GREY,
        _grey_parts,
        lit_where_grey,
    )

    d = 100.0
    rows = np.arange(200, dtype=np.float32)[:, None]
    # the head's shading, from the light at row 60 to the shade at the bottom (black hair: L 70 lit, 15 in shade)
    light = (42.5 + 27.5 * np.cos(np.pi * (rows - 60.0) / 140.0)) * np.ones((1, 200), np.float32)
    inside = np.ones((200, 200), bool)
    sheen = np.zeros((200, 200), np.float32)
    sheen[50:70] = 1.0  # the band where the light falls
    lightness = np.where(sheen > 0, 150.0, light).astype(np.float32)
    assert lit_where_grey(lightness, sheen, sheen > 0.5, inside, d) > SHEEN_LIT
    parts, why = _grey_parts(sheen, sheen, inside, None, d, False, True, None, lightness)
    assert why == SHEEN_NOT_GREY
    # grey strands all over the same lit head: a fifth of its columns, from the shade to the light
    grey = np.zeros((200, 200), np.float32)
    grey[:, np.random.default_rng(0).random(200) < 0.2] = 1.0
    lightness = np.where(grey > 0, 150.0, light).astype(np.float32)
    assert lit_where_grey(lightness, grey, grey > 0.5, inside, d) < SHEEN_LIT
    assert _grey_parts(grey, grey, inside, None, d, False, True, None, lightness)[1] != SHEEN_NOT_GREY


def test_a_black_and_white_photo_keeps_its_grey_hair_and_says_why():
    from engine.methods.classical.hair import repigment_hair  # noqa: PLC0415 - kept beside its test

    face, mask = _salt_and_pepper(0.9)
    grey = np.repeat(cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)[..., None], 3, -1)
    out, used, done = repigment_hair(grey, mask, 1.0, np.random.default_rng(0), "#5f4632", 0.0)
    assert not done and "black-and-white" in used and np.array_equal(out, grey)


def _lab_patch(lightness: float, chroma: float, hue_degrees: float) -> np.ndarray:
    """A flat (16, 16) CIELAB patch on OpenCV's 8-bit scale."""
    hue = np.radians(hue_degrees)
    lab = np.empty((16, 16, 3), np.float32)
    lab[...] = (lightness, 128 + chroma * np.cos(hue), 128 + chroma * np.sin(hue))
    return lab


def test_white_hair_in_warm_light_is_grey_beside_saturated_skin_and_brown_hair_is_not():
    # Hopper's white temple hair, lit warm: L 125, C*ab 25 at her skin's hue, beside skin of C*ab 42
    warm_white = _lab_patch(125, 25, 48)
    assert hair_greyness(warm_white).max() < 0.1  # the absolute chroma test alone calls it pigmented
    assert hair_greyness(warm_white, skin_chroma=42.0).min() > 0.9  # beside her skin's chroma it is white hair
    # the astronaut's lit brown hair (L 125, C*ab 25) beside her fair skin (C*ab 21) stays pigmented
    assert hair_greyness(_lab_patch(125, 25, 83), skin_chroma=21.0).max() < 0.05
    # dark hair is low in chroma beside any skin, but dark: not grey
    assert hair_greyness(_lab_patch(50, 8, 50), skin_chroma=34.0).max() == 0.0
    # grey hair under neutral light is grey by either test
    assert hair_greyness(_lab_patch(150, 4, 60)).min() > 0.9
    assert hair_greyness(_lab_patch(150, 4, 60), skin_chroma=30.0).min() > 0.9


def test_a_photo_is_black_and_white_by_its_median_chroma_when_exactly_half_its_pixels_are_tinted_too():
    """Half grey pixels, half tinted: the median chroma is the mean of the two middle ones, as numpy's median has it
    (a faint tint leaves it under the line, a clear one over it), and more than half of either side decides alone."""

    def photo(tint: tuple[int, int, int], tinted: int) -> np.ndarray:
        pixels = np.full((8, 3), 128, np.uint8)
        pixels[:tinted] = tint
        return pixels.reshape(2, 4, 3)

    def median_chroma(rgb: np.ndarray) -> float:
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
        return float(np.median(np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)))

    faint, clear = (134, 128, 122), (150, 120, 100)  # a sepia tint of about 4 chroma levels, and a skin-like one
    # the faint tint is over the line by itself: only the median of the half-and-half photo (half of it) is under it
    assert median_chroma(photo(faint, 8)) > MONOCHROME_CHROMA > median_chroma(photo(faint, 4))
    assert median_chroma(photo(clear, 4)) > MONOCHROME_CHROMA
    assert grey_by_median(photo(faint, 4))  # the faint half: the median is half its chroma, under the line
    assert not grey_by_median(photo(clear, 4))
    assert grey_by_median(photo(clear, 3))  # more than half grey
    assert not grey_by_median(photo(clear, 5))  # more than half tinted


def test_a_colour_portrait_against_a_black_backdrop_in_a_dark_suit_is_not_taken_for_black_and_white():
    # an aligned crop (FFHQ template: eyes at y 240, mouth at 371) whose face is a fifth of its pixels, the rest black
    crop = np.full((512, 512, 3), 12, np.uint8)
    cv2.ellipse(crop, (256, 300), (110, 150), 0, 0, 360, (196, 146, 118), -1)
    grey = cv2.cvtColor(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    with memo.disabled():
        assert not is_monochrome(crop)  # its face has colour (the whole crop's median chroma is the backdrop's, 0)
        assert is_monochrome(grey)


def test_grey_hair_in_view_beside_one_temple_that_the_mask_misses_is_named():
    # white hair in view beside both temples of a face centred at column 100 (d = 100 px); the mask's grey hair
    # covers the right temple's (the image's left) and none of the left's
    greyness = np.zeros((200, 200), np.float32)
    beside = np.zeros((200, 200), bool)
    beside[60:120, 20:40] = beside[60:120, 160:180] = True
    greyness[60:120, 20:40] = greyness[60:120, 160:180] = 0.9
    parts = np.zeros((200, 200), bool)
    parts[60:120, 20:40] = True
    assert uncovered_side(greyness, parts, beside, 100.0, 100.0) == ("left", 0.0)
    parts[60:120, 160:180] = True  # both temples' grey hair in the mask: nothing to say
    assert uncovered_side(greyness, parts, beside, 100.0, 100.0) is None
    # a side where little grey hair is in view (under RUN_ON_AREA d^2: a few light pixels) does not count
    parts[60:120, 160:180] = False
    greyness[60:120, 160:180] = 0.0
    greyness[60:65, 160:165] = 0.9
    assert uncovered_side(greyness, parts, beside, 100.0, 100.0) is None
    # pigmented hair in view (under GREY_FULL) is not grey hair left out
    greyness[60:120, 160:180] = 0.2
    assert uncovered_side(greyness, parts, beside, 100.0, 100.0) is None


def _head_against(background: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Dark hair over a face outline on `background` (256 px), with 10 px of stray strands around the hair that the
    segmenter sees as background and the mask leaves out: (the photo, the hair mask, where the segmenter sees
    background, the points, the stray band)."""
    size = 256
    points = frontal_points()
    angles = np.linspace(0, 2 * np.pi, len(FACE_OVAL), endpoint=False)
    points[FACE_OVAL] = np.stack([128 + 70 * np.cos(angles), 175 + 80 * np.sin(angles)], 1)
    ys, xs = np.mgrid[:size, :size]
    radius = np.hypot(xs - 128.0, (ys - 120.0) * 1.3)
    hair = (radius < 90) & (ys < 130)
    stray = (radius >= 90) & (radius < 100) & (ys < 130)
    photo = background.copy()
    dark = np.resize(hair_patch(DARK), (size, size, 3)).astype(np.float32)
    photo[hair] = dark[hair].astype(np.uint8)
    # one pixel in three a strand, each running out from the head (diagonal lines across the band ran along it where
    # the band does, and those not touching the mask are, rightly, no stray hair): the band is a third hair
    angle = np.arctan2(ys - 120.0, xs - 128.0)
    strands = stray & (np.floor(angle * 95) % 3 == 0)
    photo[strands] = dark[strands].astype(np.uint8)
    return photo, hair.astype(np.uint8), ~hair, points, stray


def test_stray_hair_beyond_the_mask_greys_with_it_and_leaves_no_dark_halo():
    background = np.full((256, 256, 3), (200, 202, 208), np.uint8)  # a plain light backdrop (a sky)
    photo, mask, seen_as_background, points, stray = _head_against(background)
    wisps = hair_wisps(photo, mask, seen_as_background, points)
    assert wisps[stray].mean() > 0.15  # the band is read as part hair (a third of its pixels are strands)
    beyond = cv2.dilate((stray | (mask > 0)).astype(np.uint8), np.ones((5, 5), np.uint8)) == 0
    assert not wisps[beyond].any()  # the backdrop itself is not hair
    without = lightness(grey_hair(photo, mask, 1.0, np.random.default_rng(0), pattern=0.0, points=points))
    greyed = grey_hair(photo, mask, 1.0, np.random.default_rng(0), pattern=0.0, points=points, wisps=wisps)
    # without the stray hair the band stays a dark ring between white hair and the sky; with it the band is no darker
    # than the hair (seen at a distance: its mean) by more than about one just-noticeable step of lightness (1 L*, 2.55
    # levels of OpenCV's L). Since white hair keeps its locks' lit sides the hair's mean is lighter, and the band, whose
    # strands each read about 0.8 hair, lies just under it (by 0.8 levels) rather than between it and the sky
    hair_core = lightness(greyed)[cv2.erode(mask, np.ones((21, 21), np.uint8)) > 0].mean()
    assert without[stray].mean() < hair_core - 10
    assert lightness(greyed)[stray].mean() > hair_core - 2.55
    np.testing.assert_array_equal(greyed[beyond], photo[beyond])


def test_stray_hair_is_not_read_off_a_busy_or_dark_background():
    rng = np.random.default_rng(1)
    busy = rng.integers(0, 256, (256, 256, 3)).astype(np.uint8)  # a window, a flag: not one colour
    dark = np.full((256, 256, 3), (75, 75, 75), np.uint8)  # near the hair's own colour
    for background in (busy, dark):
        photo, mask, seen_as_background, points, _ = _head_against(background)
        assert not hair_wisps(photo, mask, seen_as_background, points).any()
