"""The hair mask's vectorised statistics give what the per-pixel and per-column definitions give, and its hat
and part tests decide as stated."""

from __future__ import annotations

from typing import cast

import numpy as np
import pytest

from engine.faces.segmentation import (
    BORDER_CONTEXT,
    HAT_LIGHTNESS,
    MARGIN_SOFT_EDGE,
    PersonSegmenter,
    _column_medians,
    _quadratic,
    below,
    candidate_seeds,
    colour_distance,
    fine_texture,
    hair_margin,
    hair_seeds,
    local_hair_distance,
    person_in_crop,
    wide_view,
)

pytestmark = pytest.mark.unit


def test_column_medians_equal_numpys_median_of_each_columns_inside_values_and_nan_where_none():
    rng = np.random.default_rng(0)
    for _ in range(30):
        values = (rng.integers(0, 256, (37, 61)) * 100 / 255).astype(np.float32)
        inside = rng.random((37, 61)) < rng.random()
        inside[:, :3] = False  # columns with nothing inside
        expected = np.array([np.median(c[o]) if o.any() else np.nan for c, o in zip(values.T, inside.T)], np.float32)
        np.testing.assert_array_equal(_column_medians(values, inside), expected)


def test_quadratic_form_is_the_squared_mahalanobis_distance():
    rng = np.random.default_rng(1)
    offset = rng.normal(size=(20, 30, 3)).astype(np.float32)
    spread = rng.normal(size=(3, 3))
    matrix = np.linalg.inv(spread @ spread.T + np.eye(3))
    expected = np.einsum("...i,ij,...j->...", offset.astype(np.float64), matrix, offset.astype(np.float64))
    np.testing.assert_allclose(_quadratic(offset, matrix), expected, rtol=1e-12)


def test_colour_distance_is_the_mahalanobis_distance_from_the_samples_gaussian_with_its_floor():
    rng = np.random.default_rng(2)
    sample = rng.normal([120, 130, 140], [20, 5, 8], size=(500, 3)).astype(np.float32)
    pixels = rng.normal([100, 128, 128], 30, size=(40, 3)).astype(np.float32)
    inverse = np.linalg.inv(np.cov(sample.T) + np.eye(3) * 4.0)
    offset = (pixels - sample.mean(0)).astype(np.float64)
    expected = np.sqrt(np.einsum("ni,ij,nj->n", offset, inverse, offset))
    np.testing.assert_allclose(colour_distance(pixels, sample), expected, rtol=1e-5)


def _head(crown_lightness: float, crown_strands: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A Lab image whose crown (top rows) has `crown_lightness` and, with `crown_strands`, strand-like detail,
    and whose temples (lower rows) are light hair with strands; the crown and temples masks."""
    rng = np.random.default_rng(3)
    lab = np.full((120, 100, 3), 128, np.float32)
    lab[:60, :, 0] = crown_lightness + (rng.normal(0, 12, (60, 100)) if crown_strands else 0)
    lab[60:, :, 0] = 170 + rng.normal(0, 12, (60, 100))
    crown, sides = np.zeros((120, 100), bool), np.zeros((120, 100), bool)
    crown[5:55], sides[65:115] = True, True
    return lab, crown, sides


def test_a_smooth_crown_far_from_the_temples_lightness_is_a_hat_and_the_hair_colour_comes_from_the_temples():
    lab, crown, sides = _head(20.0, crown_strands=False)
    seeds, hat = hair_seeds(lab, crown, sides, fine_texture(lab[..., 0]))
    assert hat
    assert not (seeds & crown).any() and seeds[sides].mean() > 0.95


def test_a_crown_with_strands_or_near_the_temples_lightness_is_hair():
    for crown_lightness, strands in ((20.0, True), (170.0 - HAT_LIGHTNESS / 2, False)):
        lab, crown, sides = _head(crown_lightness, strands)
        seeds, hat = candidate_seeds(lab, crown, sides, fine_texture(lab[..., 0]))
        assert not hat
        np.testing.assert_array_equal(seeds, crown | sides)
    # the hair's colour is taken from the seeds with strands' texture: the crown's, as it has strands
    lab, crown, sides = _head(20.0, True)
    np.testing.assert_array_equal(hair_seeds(lab, crown, sides, fine_texture(lab[..., 0]))[0], crown | sides)


def test_smooth_skin_or_background_among_the_seeds_gives_the_hair_no_colour():
    """A pale forehead above the face's outline, or a wall the person segmenter took in, lies among the crown's and
    temples' pixels: without strands' texture, it is left out of the seeds."""
    lab, crown, sides = _head(20.0, True)
    lab[5:55, 20:80] = (200.0, 140.0, 145.0)  # a smooth, skin-coloured patch in the crown
    seeds, hat = hair_seeds(lab, crown, sides, fine_texture(lab[..., 0]))
    # inside the patch, past where its step's detail reaches (fine_texture's blur: 3 of its sigmas)
    assert not hat and not seeds[17:43, 32:68].any()
    assert seeds[sides].all() and seeds[5:55, :8].all()


def test_below_keeps_the_parts_that_reach_under_the_row_whole_and_drops_the_others():
    mask = np.zeros((50, 40), np.uint8)
    mask[2:10, 5:15] = 1  # above row 20 only (a cap's top)
    mask[5:30, 25:35] = 1  # reaches below it (hair beside the face)
    kept = below(mask, 20)
    assert not kept[2:10, 5:15].any()
    np.testing.assert_array_equal(kept[5:30, 25:35], 1)


def test_the_hair_margin_takes_what_goes_on_from_the_hair_in_its_colour_and_nothing_else():
    # white hair (the mask) over a skin-coloured face; inside the margin's zone: white strands joined to the hair, a
    # skin-coloured strip joined to it, and white pixels not joined to it (a highlight on the forehead)
    lab = np.zeros((60, 90, 3), np.float32)
    lab[...] = (160.0, 150.0, 155.0)  # skin
    lab[:, :20] = (200.0, 130.0, 133.0)  # white hair
    lab[10:50, 20:32] = (198.0, 131.0, 134.0)  # its strands over the temple
    lab[10:50, 60:70] = (200.0, 130.0, 133.0)  # a light patch apart from it
    mask = np.zeros((60, 90), np.uint8)
    mask[:, :20] = 1
    zone = np.zeros((60, 90), bool)
    zone[:, 20:80] = True
    candidate = zone & (lab[..., 0] > 180)  # what the colour tests pass
    candidate[10:50, 32:40] = True  # and a strip of skin beside the strands that they passed too
    grown = hair_margin(lab, mask, candidate, zone)
    assert grown[:, :20].all() and grown[12:48, 22:30].all()  # the mask and the strands
    assert not grown[10:50, 34:40].any()  # not the skin: it is not the colour of the hair beside it
    assert not grown[10:50, 60:70].any()  # not what is not joined to the hair


def test_a_margin_that_reaches_the_zones_inner_line_goes_on_deeper_with_its_soft_edge_and_nothing_else_does():
    # a dark sideburn (the mask beside the face, x < 20) running on through the zone (x 20-40) and past its inner
    # line into the deeper band (x 40-70), where it ends at row 40 in a soft edge; a dark patch in the band that
    # touches neither the margin nor the mask's sideburn (only the mask, above) is not taken
    lab = np.zeros((80, 90, 3), np.float32)
    lab[...] = (120.0, 128.0, 128.0)  # skin
    lab[:, :20] = (25.0, 128.0, 128.0)  # the sideburn beside the outline (the mask)
    lab[:40, 20:55] = (25.0, 128.0, 128.0)  # going on inside it
    lab[40:44, 20:55] = (80.0, 128.0, 128.0)  # its soft edge: the colour tests read it as skin
    lab[60:70, 60:70] = (25.0, 128.0, 128.0)  # a dark patch apart from it
    mask = np.zeros((80, 90), np.uint8)
    mask[:, :20] = 1
    zone = np.zeros((80, 90), bool)
    zone[:, 20:40] = True
    deeper = np.zeros((80, 90), bool)
    deeper[:, 40:70] = True
    hair = lab[..., 0] < 60  # what the colour tests pass
    grown = hair_margin(lab, mask, hair & zone, zone, hair & deeper, deeper)
    assert grown[:40, 20:55].all()  # the sideburn through the zone and past its inner line
    assert grown[40 : 40 + MARGIN_SOFT_EDGE, 40:50].all()  # with its soft edge, for the edge matte to grade
    assert not grown[41 + MARGIN_SOFT_EDGE : 58, 40:70].any()  # and no more of the skin below it
    assert not grown[60:70, 60:70].any()  # not the patch apart from it
    assert not grown[:, 70:].any()  # nothing past the band
    # without the deeper band the margin stops at the zone's inner line, as before
    assert not hair_margin(lab, mask, hair & zone, zone)[:, 40:].any()


def test_a_narrow_gap_the_margin_and_the_mask_enclose_is_hair_and_a_wide_one_is_not():
    # dark hair beside the face (the mask, x < 20) going on inside the outline (the margin's zone, x >= 20): at rows
    # 10-50 a strand by the outline in deep shade (x 20-21: smooth, so not among the margin's candidates) between the
    # two, enclosed by the margin above, below and beside it; at rows 60-110 a 9 px strip of skin enclosed the same way
    lab = np.zeros((120, 60, 3), np.float32)
    lab[...] = (25.0, 128.0, 128.0)  # the hair
    lab[64:107, 20:29] = (150.0, 150.0, 155.0)  # the skin strip
    mask = np.zeros((120, 60), np.uint8)
    mask[:, :20] = 1
    zone = np.zeros((120, 60), bool)
    zone[:, 20:50] = True
    candidate = np.zeros((120, 60), bool)
    candidate[10:51, 20:36] = True
    candidate[14:47, 20:22] = False  # the strand in shade
    candidate[60:111, 20:41] = True
    candidate[64:107, 20:29] = False  # the skin
    grown = hair_margin(lab, mask, candidate, zone)
    assert grown[10:51, 20:36].all()  # the strand is hair: no line of the hair's own colour left down the greyed hair
    assert not grown[64:107, 20:26].any()  # the skin is not (its corners by the margin are its closing's, as before)
    assert grown[60:64, 20:41].all() and grown[107:111, 20:41].all()
    # a wide hole of skin mostly outside the zone (the mask's own, x 5-22) keeps its slice inside the zone as skin too
    mask = np.ones((40, 60), np.uint8)
    mask[10:30, 5:23] = 0
    zone = np.zeros((40, 60), bool)
    zone[:, 20:50] = True
    grown = hair_margin(lab[:40], mask, zone & (mask > 0), zone)
    assert not grown[12:28, 5:23].any()  # (its two corners by the margin are the margin's own closing's, as above)


def test_local_hair_distance_measures_against_the_nearest_hair():
    lab = np.zeros((40, 80, 3), np.float32)
    lab[...] = (128.0, 128.0, 128.0)
    lab[:, :10] = (30.0, 128.0, 128.0)  # dark hair on the left
    lab[:, 70:] = (220.0, 128.0, 128.0)  # white hair on the right
    mask = np.zeros((40, 80), np.uint8)
    mask[:, :10] = mask[:, 70:] = 1
    probe = lab.copy()
    probe[:, 12] = (30.0, 128.0, 128.0)  # dark beside the dark hair
    probe[:, 67] = (30.0, 128.0, 128.0)  # dark beside the white hair
    distance = local_hair_distance(probe, mask, 8.0)
    assert distance[20, 12] < 1.0 and distance[20, 67] > 10.0


def test_hair_regions_wholly_below_the_eyes_are_not_hair():
    from engine.faces.segmentation import without_specks  # noqa: PLC0415

    mask = np.zeros((100, 100), np.uint8)
    mask[10:60, 10:40] = 1  # hair from the crown down past the eyes (row 50): kept
    mask[70:90, 60:80] = 1  # a patch wholly below them, joined to nothing above: a collar or the neck's shadow
    kept = without_specks(mask, eye_line=50)
    assert kept[10:60, 10:40].all() and not kept[70:90, 60:80].any()
    assert without_specks(mask)[70:90, 60:80].all()  # without an eye line, only the size rule
    alone = np.zeros((100, 100), np.uint8)
    alone[70:90, 60:80] = 1
    assert not without_specks(alone, eye_line=50).any()  # also when it is the mask's only region

    # a large region below the eyes does not make the hair above them a speck by comparison (nothing was kept)
    collar = np.zeros((200, 200), np.uint8)
    collar[40:55, 10:30] = 1  # 300 px of hair above the eyes (row 60)
    collar[80:200, 60:130] = 1  # 8400 px below them
    kept = without_specks(collar, eye_line=60)
    assert kept[40:55, 10:30].all() and not kept[80:, :].any()


class _TwoViews:
    """A segmenter that reads the crop as `crop_reading` and the wide view as `wide_reading`; it records the views."""

    def __init__(self, crop_reading: np.ndarray, wide_reading: np.ndarray | float):
        self.crop_reading, self.wide_reading = crop_reading, wide_reading
        self.views: list[np.ndarray] = []

    def probability(self, rgb: np.ndarray) -> np.ndarray:
        self.views.append(rgb)
        if len(self.views) == 1:
            return self.crop_reading
        return np.broadcast_to(np.asarray(self.wide_reading, np.float32), rgb.shape[:2]).copy()


def _person(crop_reading: np.ndarray, wide_reading: np.ndarray | float):
    segmenter = _TwoViews(crop_reading, wide_reading)
    photo, crop = np.zeros((200, 200, 3), np.uint8), np.zeros((100, 100, 3), np.uint8)
    matrix = np.array([[1.0, 0.0, -50.0], [0.0, 1.0, -50.0]])  # the crop: the photo's middle 100 px
    return person_in_crop(cast(PersonSegmenter, segmenter), photo, crop, matrix), segmenter


def test_a_crop_unsure_by_its_edge_takes_the_wide_views_sure_reading_there_only():
    reading = np.full((100, 100), 0.4, np.float32)  # unsure everywhere
    reading[:, 60:] = 0.95  # sure of the person on the right
    person, segmenter = _person(reading, 0.9)
    band = int(BORDER_CONTEXT * 100)
    assert len(segmenter.views) == 2
    np.testing.assert_allclose(person[:band, :60], 0.9, atol=1e-6)  # unsure by the edge: the wide view's sure reading
    np.testing.assert_array_equal(person[band:-band, band:60], reading[band:-band, band:60])  # inside: the crop's own
    np.testing.assert_array_equal(person[:, 60:], reading[:, 60:])  # sure: kept
    # a wide view as unsure changes nothing, and a sure background is taken too
    assert (_person(reading, 0.6)[0] == reading).all()
    np.testing.assert_allclose(_person(reading, 0.1)[0][:band, :60], 0.1, atol=1e-6)


def test_the_wide_views_reading_comes_back_to_the_crop_pixel_it_was_read_at():
    # the wide view's pixel x is the crop's 50 + (x - 50) / 1.5: its left 30 columns are the crop's left 20
    wide = np.full((100, 100), 0.1, np.float32)
    wide[:, :30] = 0.9
    person, _ = _person(np.full((100, 100), 0.4, np.float32), wide)
    top = person[2]  # a row of the edge band
    assert (top[:19] > 0.75).all() and (top[21:] < 0.25).all()


def test_the_wide_view_is_the_crops_alignment_zoomed_out_about_its_centre():
    photo = np.zeros((200, 200, 3), np.uint8)
    photo[40:160, 40:160] = 255  # a square 120 px wide around the crop's middle 100 px
    matrix = np.array([[1.0, 0.0, -50.0], [0.0, 1.0, -50.0]])  # the crop: the photo's middle 100 px
    wide = wide_view(photo, matrix, 100)[..., 0]
    # 1.5 times as wide: the square's 120 px are 80 of its 100, centred (10 px of the photo's black on each side)
    lit = np.flatnonzero(wide[50] > 127)
    assert (lit.min(), lit.max()) == (10, 89)
    # past the photo's edge the view is padded as the crop is, not black: the wide view of the photo's corner
    corner = wide_view(np.full((200, 200, 3), 200, np.uint8), np.array([[1.0, 0.0, 60.0], [0.0, 1.0, 60.0]]), 100)
    assert corner[:5, :5].min() > 100


def test_a_crop_sure_by_its_edge_is_not_asked_again():
    reading = np.full((100, 100), 0.4, np.float32)
    reading[:10], reading[-10:], reading[:, :10], reading[:, -10:] = 1.0, 0.0, 1.0, 0.0
    person, segmenter = _person(reading, 0.9)
    assert len(segmenter.views) == 1 and (person == reading).all()


def test_a_bay_in_the_hair_of_its_colour_and_narrower_than_bay_width_is_hair_and_no_other_is():
    """A strawberry blonde's lit strands read as skin and left round gaps in her mask that kept their colour among the
    greyed hair: a gap narrower than BAY_WIDTH d in the hair's own colour is taken in; one in another colour, one wider,
    and one where the caller does not allow it (the face) are not."""
    from engine.faces.segmentation import BAY_WIDTH, hair_coloured_bays

    d = 100.0
    rng = np.random.default_rng(0)
    hair_colour, skin_colour = np.array([150.0, 150.0, 170.0]), np.array([200.0, 145.0, 150.0])
    lab = hair_colour + rng.normal(0, 3, (300, 400, 3))
    hair = np.zeros((300, 400), bool)
    hair[20:280, 20:380] = True
    ys, xs = np.mgrid[:300, :400]
    narrow = (ys - 100) ** 2 + (xs - 80) ** 2 < (0.35 * d / 2) ** 2  # a round gap, hair-coloured
    other = (ys - 200) ** 2 + (xs - 80) ** 2 < (0.35 * d / 2) ** 2  # as round, in the skin's colour
    lab[other] = skin_colour + rng.normal(0, 3, (other.sum(), 3))
    wide = (ys - 150) ** 2 + (xs - 300) ** 2 < (1.3 * BAY_WIDTH * d / 2) ** 2  # hair-coloured, too wide
    forbidden = (ys - 100) ** 2 + (xs - 200) ** 2 < (0.35 * d / 2) ** 2  # hair-coloured, where it is not allowed
    notch = (ys - 280) ** 2 + (xs - 200) ** 2 < (0.35 * d / 2) ** 2  # a bay opening out of the mask's lower edge
    hair &= ~(narrow | other | wide | forbidden | notch)
    allowed = ~forbidden
    found = hair_coloured_bays(lab.astype(np.float32), hair, allowed, d)
    assert found[narrow].mean() > 0.95
    assert found[notch & (ys < 280)].mean() > 0.5  # a closing fills a shallow bay but for its mouth
    assert not found[other].any() and not found[forbidden].any()
    assert found[wide].mean() < 0.1  # a closing reaches only its rim
    # and nothing else: not the 20 px between the mask and the frame's edge (of the hair's colour too), nor the notch's
    # outer half, outside the mask's outline
    assert not found[~(narrow | wide | notch)].any() and not found[notch & (ys > 282)].any()
    # under a hat, a bay nearer the hat's colour than the hair's is the hat's (a cap's black by white hair)
    lab[narrow] = hair_colour + [-8.0, 0.0, 0.0] + rng.normal(0, 1, (narrow.sum(), 3))
    hat = hair_colour + [-8.0, 0.0, 0.0] + rng.normal(0, 1, (500, 3))
    assert hair_coloured_bays(lab.astype(np.float32), hair, allowed, d)[narrow].mean() > 0.95
    under_hat = hair_coloured_bays(lab.astype(np.float32), hair, allowed, d, hat.astype(np.float32))
    assert under_hat[narrow].mean() < 0.02  # (a pixel in the tails of both colours' Gaussians may be either's)
