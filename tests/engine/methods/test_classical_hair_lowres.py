"""Hair greying on a small photo's face (upsampled into the aligned crop), its sheen and the mask's thin ends, on
synthetic hair patches."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.faces.alignment import FFHQ_TEMPLATE_512, NYQUIST_TENTH_SIGMA, alignment_matrix, upsampling
from engine.methods.classical.hair import (
    edge_hair_share,
    grey_hair,
    grey_strands,
    hairline_fringe,
    highlight_shoulder,
    nearest_outside,
)

pytestmark = pytest.mark.unit

SIZE = 128
DARK = (70, 45, 30)
FULL = np.ones((SIZE, SIZE), np.uint8)


def hair_patch(colour: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    """Straight horizontal hair: noise stretched along the strands, shading the colour by up to +-30 %."""
    noise: np.ndarray = np.random.default_rng(seed).standard_normal((SIZE, SIZE)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), sigmaX=8.0, sigmaY=0.7)
    shade = 1 + 0.3 * noise / noise.std()
    return np.clip(np.array(colour, np.float32) * shade[..., None], 0, 255).astype(np.uint8)


def lightness(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)


def above_nyquist(values: np.ndarray, factor: float, share: bool = True) -> float:
    """The share of `values`' energy (its mean taken out) above the Nyquist frequency of a photo `factor` times
    coarser than the image, 1 / (2 factor) cycles a pixel (`share` False: that energy itself)."""
    spectrum = np.abs(np.fft.fft2(values - values.mean())) ** 2
    fy, fx = np.fft.fftfreq(values.shape[0])[:, None], np.fft.fftfreq(values.shape[1])[None, :]
    above = float(spectrum[np.hypot(fx, fy) > 1 / (2 * factor)].sum())
    return above / float(spectrum.sum()) if share else above


def small_photo_hair(factor: int = 3) -> np.ndarray:
    """Hair photographed `factor` times coarser, then upsampled into the crop as the alignment does (bicubic)."""
    small = cv2.resize(hair_patch(DARK), (SIZE // factor, SIZE // factor), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)


def test_upsampling_is_crop_pixels_per_photo_pixel():
    # a face whose five points lie a third as far apart as the crop's template is upsampled 3 times
    points = FFHQ_TEMPLATE_512 / 3 + np.array([40.0, 25.0], np.float32)
    assert upsampling(alignment_matrix(points)) == pytest.approx(3.0, rel=1e-3)
    assert upsampling(alignment_matrix(FFHQ_TEMPLATE_512 * 2)) == pytest.approx(0.5, rel=1e-3)


@pytest.mark.parametrize("amount", [0.5, 0.9])
def test_greyed_hair_on_an_upsampled_face_has_no_detail_finer_than_the_photo(amount):
    # Takeo's 150 x 225 px portrait is upsampled about 3 times into the crop: strands drawn at the crop's own
    # resolution were sharp strokes the photo could not hold (a third of the strands' energy above its Nyquist)
    # (the energy itself, against the photo's own above its Nyquist: the share of the change's energy also falls and
    # rises with its broad part, which the white hair's unstretched locks made smaller)
    hair = small_photo_hair(3)
    photo_own = above_nyquist(lightness(hair), 3, share=False)
    greyed = grey_hair(hair, FULL, amount, np.random.default_rng(4), pattern=0.0, scale=3.0)
    change = lightness(greyed) - lightness(hair)
    assert above_nyquist(change, 3, share=False) < 3 * photo_own
    drawn_fine = grey_hair(hair, FULL, amount, np.random.default_rng(4), pattern=0.0)  # at the crop's resolution
    assert above_nyquist(lightness(drawn_fine) - lightness(hair), 3, share=False) > 10 * photo_own
    assert above_nyquist(lightness(drawn_fine) - lightness(hair), 3) > 3 * above_nyquist(lightness(hair), 3)
    # the share of white strands is still the grey amount
    strands = grey_strands(lightness(hair), FULL, amount, np.random.default_rng(4), pattern=0.0, scale=3.0)
    assert strands.mean() == pytest.approx(amount, abs=0.02)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_half_grey_hair_on_an_upsampled_face_is_salt_and_pepper_not_patches(seed):
    # greying dark hair at 50-60 on Takeo's and the camera operator's small photos (3.0 and 3.7 crop px a photo pixel)
    # was a leopard's pattern of white and dark patches, each several strands wide: the share of white strands that a
    # photo pixel holds departs from its mean no more than the strands it averages allow (here 0.065-0.075 of the
    # lightening at the photo's pixel; 0.17-0.19 before the mixing, 0.10-0.11 with it cut to 1 / sqrt(scale), which
    # still drew dark blots on Takeo's white hair at 60-70)
    hair = small_photo_hair(3)
    change = lightness(grey_hair(hair, FULL, 0.5, np.random.default_rng(seed), pattern=0.0, scale=3.0)) - lightness(hair)
    at_photo_pixels = cv2.GaussianBlur(change, (0, 0), 3.0)[16:-16, 16:-16]  # away from the patch's edge
    assert change.mean() > 60  # as light as before on the whole: the same share of white strands
    assert at_photo_pixels.std() < 0.09 * change.mean()
    assert at_photo_pixels.std() > 0.03 * change.mean()  # and not flat grey: the strands' mix still varies


def test_a_full_resolution_or_downsampled_face_greys_as_before():
    hair = hair_patch(DARK)
    at_crop = grey_hair(hair, FULL, 0.5, np.random.default_rng(4), pattern=0.0)
    for scale in (1.0, 0.6):
        assert np.array_equal(grey_hair(hair, FULL, 0.5, np.random.default_rng(4), pattern=0.0, scale=scale), at_crop)


def test_the_sheen_of_dark_hair_stays_below_white_and_lighter_than_the_rest():
    # dark hair (L about 30) with a lit band of sheen 2.5 times lighter: stretched by the dark hair's gain the sheen
    # went past white and clipped into a flat smear; it rolls off below white instead, keeping its profile
    hair = hair_patch((40, 28, 20)).astype(np.float32)
    hair[60:66] *= 2.5
    hair = np.clip(hair, 0, 255).astype(np.uint8)
    white = lightness(grey_hair(hair, FULL, 1.0, np.random.default_rng(0), pattern=0.0))
    sheen, rest = white[60:66], white[16:48]
    assert sheen.max() < 253  # nothing clipped to white (Biden's own white hair peaks at 246-253)
    assert np.ptp(sheen.mean(1)) > 10  # not a flat smear: the band's rows still differ
    assert sheen.mean() > rest.mean() + 20  # and the sheen still reads


def test_the_highlight_shoulder_keeps_what_is_below_its_knee_and_never_reaches_white():
    values = np.array([0.0, 100.0, 205.0, 205.0 + 50.0 * np.log(2.0), 260.0, 300.0], np.float32)
    rolled = highlight_shoulder(values, 205.0)
    np.testing.assert_allclose(rolled[:3], values[:3])  # at and below the knee: as it was
    assert rolled[3] == pytest.approx(230.0, abs=1e-3)  # half the room to white left after ln 2 of it
    assert rolled[-1] == pytest.approx(247.5, abs=0.1) and np.all(np.diff(rolled) > 0)  # still rising, short of white
    step = 1e-2  # no kink at the knee: the slope just above it is 1
    assert (highlight_shoulder(np.array([205.0 + step], np.float32), 205.0)[0] - 205.0) / step == pytest.approx(1.0, abs=1e-2)
    with pytest.raises(ValueError, match="knee"):
        highlight_shoulder(values, 255.0)


def curly_hair(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Dark hair in locks about 8 px across (between the strands' and the head's scales), their tops lit and the gaps
    between them shadowed alike: up to +-50 % of the hair's lightness; and the locks' field (standard units)."""
    field: np.ndarray = cv2.GaussianBlur(
        np.random.default_rng(seed).standard_normal((SIZE, SIZE)).astype(np.float32), (0, 0), 4.0
    )
    field /= field.std()
    shade = 1 + 0.25 * np.clip(field, -2, 2)
    return np.clip(np.array((50, 38, 30), np.float32) * shade[..., None], 0, 255).astype(np.uint8), field


def test_white_curls_keep_their_lit_tops_as_well_as_the_shadows_between_them():
    # with only the sheen's light added to the tops, white curls were drawn by their shadows alone: dark cracks on a
    # flat grey (the camera operator at 70-80); in the source the tops stand as far above the shading as the gaps below
    hair, field = curly_hair()
    white = lightness(grey_hair(hair, FULL, 1.0, np.random.default_rng(0), pattern=0.0))
    inner = np.s_[16:-16, 16:-16]
    locks, white = field[inner], white[inner]
    middle = white[np.abs(locks) < 0.3].mean()
    tops, gaps = white[locks > 1.2].mean() - middle, middle - white[locks < -1.2].mean()
    assert gaps > 15  # the shadows between the locks are drawn
    assert tops > 0.7 * gaps  # and so are their lit tops


def test_greying_fades_down_a_thin_end_of_the_mask_instead_of_stopping_at_a_line():
    # a mask whose temple runs on as a thin sideburn (8 px wide, 50 px long) over hair of one colour: the sideburn's
    # tip read as background past the reach of the hair's mean, a straight cut across the hair
    hair = hair_patch(DARK)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[:60] = 1
    mask[60:110, 58:66] = 1
    change = lightness(grey_hair(hair, mask, 1.0, np.random.default_rng(0), pattern=0.0)) - lightness(hair)
    body, tip = change[20:50, 20:100].mean(), change[80:108, 60:64].mean()
    assert tip > 0.25 * body


def test_white_hair_on_an_upsampled_face_does_not_stretch_detail_the_photo_cannot_hold():
    # Takeo's black hair whitened at 70-80: the detail finer than his photo's pixels (the crop's interpolation of them,
    # stepped by its 8-bit levels) was stretched by white hair's gain into cells across the hair, a beaten-metal helmet.
    # Whitened in full, hair upsampled 3 times keeps about the photo's own energy above its Nyquist frequency; at the
    # crop's own resolution (a full-size photo, whose fine detail is strands) the detail is still stretched
    hair = small_photo_hair(3)
    core = (slice(16, 112), slice(16, 112))
    source = above_nyquist(lightness(hair)[core], 3, share=False)

    def fine(scale: float) -> float:
        white = lightness(grey_hair(hair, FULL, 1.0, np.random.default_rng(0), pattern=0.0, scale=scale))
        assert white[core].mean() > lightness(hair)[core].mean() + 100  # whitened either way
        return above_nyquist(white[core], 3, share=False) / source

    assert fine(3.0) < 1.5
    assert fine(1.0) > 2.0


def blurred_hairline(
    hair: float = 40.0, skin: float = 170.0, start: int = 50, blur: int = 20, mask_rows: int = 64, b: float = 140.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dark hair (L `hair`) above a forehead (L `skin`; a* 140, b* `b`), the hairline blurred over `blur` rows from row
    `start` (a small photo's), as OpenCV's 8-bit CIELAB and as RGB; and a mask of the first `mask_rows` rows (the
    segmenter's edge). By default black hair above a light forehead, the mask taking in 14 rows of a 20-row blur and
    stopping 6 rows short of its end."""
    rows = np.concatenate([np.full(start, hair), np.linspace(hair, skin, blur), np.full(SIZE - start - blur, skin)])
    lab = np.dstack(
        [np.repeat(rows.astype(np.float32)[:, None], SIZE, 1), np.full((SIZE, SIZE), 140.0), np.full((SIZE, SIZE), b)]
    )
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[:mask_rows] = 1
    return lab.astype(np.float32), cv2.cvtColor(lab.round().astype(np.uint8), cv2.COLOR_LAB2RGB), mask


def test_a_fringes_tips_past_the_edge_band_are_read_from_their_colour():
    # dark hair above a forehead, the hairline blurred over 20 rows (a small photo's); the mask takes in 14 rows of the
    # blur as a fringe's tips. Past the edge band they were counted as hair in full: whitened over skin
    lab, rgb, mask = blurred_hairline()
    tips = np.zeros((SIZE, SIZE), bool)
    tips[50:64] = True
    row = 53  # 11 rows inside the mask's edge (past EDGE_BAND), 3 rows into the blur
    assert edge_hair_share(lab, mask)[row, 64] == 1.0
    read = edge_hair_share(lab, mask, tips)
    assert 0.5 < read[row, 64] < 0.95  # mostly hair, not all of it
    assert read[62, 64] < read[row, 64]  # and less of it further down the blur
    assert read[30, 64] == 1.0  # the hair above the tips is hair in full
    # greyed in full, the tips are not whitened past both the white hair above them and the skin below them
    rims = []
    for marked in (None, tips):
        grey = lightness(grey_hair(rgb, mask, 1.0, np.random.default_rng(0), pattern=0.0, tips=marked))
        rims.append(grey[50:64, 16:112].max() - max(grey[40:50, 16:112].mean(), grey[-20:, 16:112].mean()))
    assert rims[1] < 12  # marked: the tips within a few levels of the white hair above them (10.5)
    assert rims[0] > rims[1] + 10  # unmarked, a white rim (23.5)


def test_a_blurred_hairlines_ramp_is_not_read_as_light_on_the_hair():
    # the hair's broad shading read the mask's last rows too, where the hairline's blur rises into the forehead: its
    # lit level was set by that ramp, so black hair turned white came out darker than the forehead (L 152 beside 170:
    # grey, not white), and the ramp was stretched into a pale line 50 levels over the white hair above it (Takeo's
    # and the camera operator's hairlines at 70-80, looked at 1.6x)
    _, rgb, mask = blurred_hairline()
    grey = lightness(grey_hair(rgb, mask, 1.0, np.random.default_rng(0), pattern=0.0))[:, 16:112].mean(axis=1)
    white = grey[40:50].mean()
    assert white > 170 + 10  # white hair, lighter than the skin it meets
    assert grey[50:64].max() - white < 30  # what is left of the pale line: 17 levels (24 while the core's weight stepped)


def test_a_hairline_blurred_past_the_edge_band_does_not_light_the_white_hair_beside_it():
    # the camera operator's hairline runs about 25 px from hair to skin: past the edge band the ramp lies in the core,
    # and read at full weight there it set the white hair's shading by the band: a pale line along the hairline at 70, and
    # black hair turned a grey barely lighter than the forehead
    _, rgb, mask = blurred_hairline(blur=28, mask_rows=68)  # the mask takes in 18 rows of the blur, 10 past the band
    grey = lightness(grey_hair(rgb, mask, 1.0, np.random.default_rng(0), pattern=0.0))[:, 16:112].mean(axis=1)
    white = grey[30:45].mean()
    assert white > 170 + 10  # 173 before: grey beside skin of 170
    assert grey[50:68].max() - white < 38  # 44 before, 33 now


def test_a_thin_strand_off_the_hair_greys_without_a_seam_where_the_hairs_core_stops_reaching_it():
    # the broad shading reads the hair deeper than the edge band; a strand 10 px wide, too thin for a core of its own,
    # read the core's lightness near it and its own beyond the core's reach: switched at once, its white stepped by 15
    # levels from one row to the next there, a line across the strand
    lab = np.dstack([np.full((SIZE, SIZE), 40.0), np.full((SIZE, SIZE), 134.0), np.full((SIZE, SIZE), 138.0)])
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[:40] = 1
    mask[40:, 59:69] = 1
    lab[40:, 59:69, 0] = 60.0  # the strand a little lighter than the hair it hangs from
    lab[mask == 0, 0] = 200.0
    rgb = cv2.cvtColor(lab.round().astype(np.uint8), cv2.COLOR_LAB2RGB)  # OpenCV's 8-bit CIELAB
    strand = lightness(grey_hair(rgb, mask, 1.0, np.random.default_rng(0), pattern=0.0))[45:125, 62:66].mean(axis=1)
    assert np.abs(np.diff(strand)).max() < 5


def test_greyed_eyebrows_on_an_upsampled_face_are_drawn_no_finer_than_the_photo():
    # a soft brow band (the photo does not resolve its hairs) on a face upsampled 3 times: the white hairs drawn in at
    # the crop's resolution were strokes under a pixel wide, fine scratches beside the photo's own detail
    skin = np.full((48, 96, 3), (235, 200, 180), np.uint8)
    brow: np.ndarray = skin.copy()
    brow[20:28, 10:86] = (150, 110, 85)
    brow = cv2.GaussianBlur(brow, (0, 0), 1.5)
    band = np.zeros((48, 96), np.uint8)
    band[16:32, 8:88] = 1
    core = (slice(21, 27), slice(16, 80))

    def fine(grey: np.ndarray) -> float:  # the greyed brow's detail above the photo's Nyquist frequency, in L levels
        change = lightness(grey) - lightness(brow)
        return float((change - cv2.GaussianBlur(change, (0, 0), NYQUIST_TENTH_SIGMA * 3))[core].std())

    at_crop = grey_hair(brow, band, 0.94, np.random.default_rng(0), 0.0, shading=False)
    at_photo = grey_hair(brow, band, 0.94, np.random.default_rng(0), 0.0, shading=False, scale=3.0)
    assert fine(at_photo) < 0.4 * fine(at_crop)
    # still whitened, and still a grey brow against the skin
    grey = lightness(at_photo)[core].mean()
    assert lightness(brow)[core].mean() + 20 < grey < lightness(skin).mean() - 15


@pytest.mark.parametrize("scale", [0.0, -2.0, float("nan"), float("inf")])
def test_an_upsampling_that_is_not_a_positive_number_is_refused_by_name(scale):
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 1
    lightness = np.full((64, 64), 80.0, np.float32)
    with pytest.raises(ValueError, match="upsampling"):
        grey_strands(lightness, mask, 0.5, np.random.default_rng(0), scale=scale)


def test_strands_on_an_upsampled_face_follow_curled_hair():
    """On a small photo's face the hair direction's tensor is blurred at half the size: the strands drawn along it
    still run round a curl (here within 0.2 degrees at the median, 1.5 at the 95th percentile; 0.2 and 1.2 with the
    full-size blur), on a patch whose sides are odd."""
    from engine.methods.classical.hair import HALF_SIZE_SIGMA, TENSOR_SIGMA, hair_flow  # noqa: PLC0415

    height, width, factor = 149, 163, 3.0
    assert TENSOR_SIGMA * factor >= HALF_SIZE_SIGMA  # the half-size path is the one tested
    ys, xs = np.mgrid[:height, :width].astype(np.float32)
    centre = np.array([width * 0.4, height * 0.55], np.float32)
    radius = np.hypot(xs - centre[0], ys - centre[1])
    small = 128 + 60 * np.sin(2 * np.pi * cv2.resize(radius, (width // 3, height // 3), interpolation=cv2.INTER_AREA) / 12)
    curls = cv2.resize(small.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)  # rings 12 px apart
    direction = hair_flow(curls, factor)[0]
    # the strands run round the centre: across the radius
    ring = (radius > 20) & (radius < 55)
    radial = np.stack([xs - centre[0], ys - centre[1]], -1) / np.maximum(radius, 1e-6)[..., None]
    off = np.degrees(np.arcsin(np.clip(np.abs((direction * radial).sum(-1)), 0, 1)))[ring]
    assert np.median(off) < 1.0
    assert np.percentile(off, 95) < 4.0


def test_the_hairlines_last_hairs_count_their_whole_share_within_the_reach():
    # a hairline blurred over 16 rows, the mask stopping 7 rows short of its end: the two rows just past the mask (within
    # the reach's first photo pixel at 3 crop px a photo pixel) are read at the hair share their colour says (0.40 and
    # 0.33 here); tapered from the mask's edge they counted 0.32 and 0.21, a dark line along Takeo's hairline at 80
    lab, rgb, mask = blurred_hairline(hair=20.0, skin=100.0, start=51, blur=16, mask_rows=60, b=138.0)
    fringe = hairline_fringe(rgb, mask, np.ones((SIZE, SIZE), bool), 3.0)
    mixed = (100.0 - lab[60:62, 64, 0]) / 80.0  # each row's hair share as the blur mixed it
    assert np.abs(fringe[60:62, 64] - mixed).max() < 0.02
    assert fringe[60:66, 64].min() >= 0 and fringe[66:, 64].max() == 0  # nothing past the reach


def test_a_blurred_hairlines_last_hairs_past_the_mask_whiten_with_it():
    # a small photo's hairline blurred over 14 rows from black hair (L 20) to skin (L 100), the mask stopping 4 rows
    # short of its end (the segmenter's edge): those rows, a quarter of hair and less, were left as they were, a dark
    # line between white hair and the skin (Takeo's portrait at 70-80, 3.05 crop px a photo pixel)
    skin = 100.0
    _, rgb, mask = blurred_hairline(hair=20.0, skin=skin, start=51, blur=14, mask_rows=61, b=138.0)
    forehead = np.ones((SIZE, SIZE), bool)
    fringe = hairline_fringe(rgb, mask, forehead, 3.0)
    assert fringe[61:64, 64].min() > 0.02  # the last hairs

    def column(wisps):
        grey = grey_hair(rgb, mask, 1.0, np.random.default_rng(0), pattern=0.0, scale=3.0, wisps=wisps)
        return lightness(grey)[:, 16:112].mean(axis=1)

    for greyed in (column(fringe), column(None)):
        assert greyed[61:65].max() <= skin + 40  # no pale rim past the mask either way
    dark_line = lambda greyed: skin - greyed[55:80].min()  # noqa: E731
    assert dark_line(column(None)) > 15  # left as it was: darker than the skin below it
    assert dark_line(column(fringe)) < 3
    # a full-size photo's hairline is left to the mask's own edge (its strands are the photo's own)
    assert not hairline_fringe(rgb, mask, forehead, 1.0).any()


def test_each_pixel_inside_reads_the_value_at_the_nearest_pixel_outside():
    inside = np.zeros((5, 7), np.uint8)
    inside[1:4, 1:6] = 1
    values = np.zeros((5, 7), np.float32)
    values[:, 0] = 0.25  # left of the block
    values[:, 6] = 0.75  # right of it
    read = nearest_outside(values, inside)
    assert read[2, 1] == 0.25 and read[2, 5] == 0.75  # beside each side, that side's value
    assert read[1, 3] == 0.0  # nearer the top's zeros
    assert np.array_equal(read[inside == 0], values[inside == 0])  # outside, the values themselves
    assert not nearest_outside(values, np.ones((5, 7), np.uint8)).any()  # nothing outside: nothing to read


@pytest.mark.parametrize("shadow_rows, shadow", [(6, 50.0), (8, 58.0)])
def test_the_masks_edge_band_greys_in_full_where_the_hair_runs_on_past_it_into_a_greyed_fringe(shadow_rows, shadow):
    # a small photo's sideburn: black hair (L 20) running 4 rows past the mask's edge, then a shadow and skin (L 100).
    # The shadow pulls the skin's colour too close to the hair's to tell them apart in the band (6 rows of L 50), or
    # there and in the first row past the edge (8 rows of L 58), while the rows beyond are told (hair) and greyed in
    # full: the band faded in over its depth, and the untold row past it was left black, a dark notch between greyed
    # hair and greyed fringe (the camera operator's sideburn at 70-80)
    rows = np.full(SIZE, 100.0, np.float32)
    rows[:68], rows[68 : 68 + shadow_rows] = 20.0, shadow
    lab = np.dstack([np.repeat(rows[:, None], SIZE, 1), np.full((SIZE, SIZE), 140.0), np.full((SIZE, SIZE), 138.0)])
    rgb = cv2.cvtColor(lab.round().astype(np.uint8), cv2.COLOR_LAB2RGB)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[:64] = 1
    fringe = hairline_fringe(rgb, mask, np.ones((SIZE, SIZE), bool), 3.0)
    assert fringe[64:66, 64].min() > 0.9  # the hair past the edge is read as hair
    greyed = lightness(grey_hair(rgb, mask, 1.0, np.random.default_rng(0), pattern=0.0, scale=3.0, wisps=fringe))
    column = greyed[40:66, 16:112].mean(axis=1)
    assert column.max() - column.min() < 10  # one white across the edge, no darker band


def test_a_slit_in_the_mask_over_skin_that_cannot_be_told_from_the_hair_is_not_filled_as_hair():
    # light hair (L 120) over skin (L 150), too alike to tell apart (under FRINGE_CONTRAST), and a 1 px slit of skin in
    # the mask: with the mask on both sides of it and no fringe beside it, the slit is no fringe's (closed as hair, it
    # turned white at 80 and the band beside it with it)
    rows = np.full(SIZE, 150.0, np.float32)
    rows[:64] = 120.0
    lab = np.dstack([np.repeat(rows[:, None], SIZE, 1), np.full((SIZE, SIZE), 140.0), np.full((SIZE, SIZE), 138.0)])
    lab[50:64, 64, 0] = 150.0
    rgb = cv2.cvtColor(lab.round().astype(np.uint8), cv2.COLOR_LAB2RGB)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[:64] = 1
    mask[50:64, 64] = 0
    assert not hairline_fringe(rgb, mask, np.ones((SIZE, SIZE), bool), 3.0).any()


def test_the_value_read_inside_is_from_a_nearest_pixel_outside():
    rng = np.random.default_rng(0)
    inside = (cv2.GaussianBlur(rng.random((60, 70)).astype(np.float32), (0, 0), 3) > 0.5).astype(np.uint8)
    assert 0.2 < inside.mean() < 0.8
    ys, xs = np.mgrid[:60, :70]
    values = (ys * 70 + xs).astype(np.float32)  # each pixel's own index: which pixel was read
    read = nearest_outside(values, inside).astype(np.int64)
    outside = np.argwhere(inside == 0)
    for y, x in np.argwhere(inside > 0)[::7]:
        exact = np.sqrt(((outside - (y, x)) ** 2).sum(1)).min()
        chosen = np.hypot(read[y, x] // 70 - y, read[y, x] % 70 - x)
        assert inside[read[y, x] // 70, read[y, x] % 70] == 0 and chosen <= exact + 0.5
