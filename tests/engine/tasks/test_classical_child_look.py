"""An adult made a child by the classical renderer, on the astronaut (41): the neck under the raised chin, the
child's skin (rosier cheeks, fainter brows) where FaceMesh finds them on the output; and the neck where a photo ends
under the chin (the astronaut's, cut there) or beside the neck (Takeo's portrait, her portrait cut at her jaw)."""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np
import pytest

from engine.core.settings import Settings
from engine.faces.zones import CHIN, FACE_OVAL, LEFT_MOUTH, RIGHT_MOUTH, SUBNASALE, inter_ocular
from engine.methods.classical.aging import growth_strain
from engine.methods.classical.childskin import CHEEK_POINTS
from engine.methods.classical.youth import (
    EDGE_MARGIN,
    UNFOLDED_SQUEEZE,
    bounded_strain,
    child_scales,
    child_warp,
    frame_squeeze_per_strain,
    photo_below,
)
from engine.methods.ldla.pipeline import LocatedFace, locate
from engine.tasks.lifespan import LifespanRequest, age_photo, growth_warning
from evaluation.packaged_faces import load
from tests.conftest import astronaut, grace_hopper, needs_packaged, packaged

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")
SOURCE, CHILD = 41.0, 5.0
# Her chin and the neck under it at 5 are stretched at most this much along the chin's column. Within the aligned crop
# alone (the strain faded out in the 30 px under FaceMesh's chin) they are stretched about 4 times (vertical streaks);
# taking in the photo's neck below the crop, 1.6 at the fade's steepest.
NECK_STRETCH_AT_MOST = 1.7
# At 5 her cheeks are redder than at 41 by at least this much a* (OpenCV 8-bit Lab; the flush adds 4 at the
# cheeks' centre, the younger skin's colour evening takes a little of the source's own redness away).
CHEEKS_REDDER = 1.5
# The brows' hair at 5 is lighter than at 41 by at least this much lightness, and still this much darker than the
# cheeks (measured 148 -> 181 against cheeks at 202).
BROWS_LIGHTER = 10.0
# Re-landmarked at 5, the mouth's width, the nose's width and its height relative to the eyes are within this of
# child_scales (Farkas's ratios; measured 0.80, 0.93, 0.88 against 0.84, 0.90, 0.85): FaceMesh's re-landmarking
# noise is about 0.01 d a point, and the strain moves the eyes and features a little apart besides.
SCALE_TOLERANCE = 0.06
NOSE_WIDTH, NASION = (129, 358), 168
LOWER_LIP_BOTTOM = 17  # FaceMesh: the lower lip's lowest point on its outer outline
RIGHT_BROW_CORE, LEFT_BROW_CORE = [105, 66], [334, 296]  # FaceMesh points in the brows' middle


@pytest.fixture(scope="module")
def located() -> LocatedFace:
    return locate(astronaut(), OFFLINE)


def _neck_stretch(located: LocatedFace, below_rows: int) -> float:
    """The largest vertical stretch (output rows per source row) below the lips along the chin's column (the chin and
    the neck under it), when the child warp to CHILD works on the crop and `below_rows` rows of the photo below it: a
    ramp of row numbers warped."""
    size = located.crop.shape[0]
    height = size + below_rows
    ramp = np.repeat(np.arange(height, dtype=np.float32)[:, None], size, 1)
    frame = np.dstack([ramp] * 3)
    k = growth_strain(SOURCE, CHILD)
    moved = child_warp(frame, located.points, k, child_scales(SOURCE, CHILD))[..., 0]
    column = moved[:, int(round(located.points[CHIN, 0]))].astype(np.float64)
    neck = column[:-1] > located.points[LOWER_LIP_BOTTOM, 1]  # output rows showing what was under the lips
    slope = np.diff(column)[neck]  # source rows per output row
    return float(1.0 / slope.min())


def _smooth_neck_stretch(located: LocatedFace, k: float) -> float:
    """The largest vertical stretch under the chin along its column when the child warp's strain is `k` (no feature
    moves) on the crop alone, each slope the mean over 8 output rows: cv2.remap's maps hold 1/32 px, which makes
    single-row slopes jitter by about 0.1 around their mean."""
    size = located.crop.shape[0]
    ramp = np.repeat(np.arange(size, dtype=np.float32)[:, None], size, 1)
    moved = child_warp(np.dstack([ramp] * 3), located.points, k, child_scales(SOURCE, SOURCE))[..., 0]
    column = moved[:, int(round(located.points[CHIN, 0]))].astype(np.float64)
    rows = np.flatnonzero(column > located.points[CHIN, 1])  # output rows showing what was under the chin
    slope = (column[rows[8:]] - column[rows[:-8]]) / 8.0  # source rows per output row
    return float(1.0 / slope.min())


def test_the_neck_under_a_childs_raised_chin_is_drawn_from_the_photos_neck_not_stretched(located):
    below = photo_below(located.rgb, located.matrix, located.crop.shape[0], located.points)
    assert len(below) > 60  # the photo holds her neck below the crop
    stretch = _neck_stretch(located, len(below))
    assert 1.0 < stretch < NECK_STRETCH_AT_MOST, stretch
    # within the crop alone the chin's rise has nowhere to go: the chin and the neck under it are stretched
    assert _neck_stretch(located, 0) > NECK_STRETCH_AT_MOST


def _cheeks_and_brows(photo: np.ndarray) -> tuple[float, float, float]:
    """(the cheeks' mean a*, their lightness, the brows' middle's lightness; OpenCV 8-bit Lab), where FaceMesh
    finds them on `photo`."""
    located = locate(photo, OFFLINE)
    p = located.points[:, :2]
    d = inter_ocular(p)
    lab = cv2.cvtColor(located.crop, cv2.COLOR_RGB2LAB).astype(np.float64)
    r = int(round(0.06 * d))

    def patch(x: float, y: float, channel: int, share: float = 50.0) -> float:
        col, row = int(round(x)), int(round(y))
        return float(np.percentile(lab[row - r : row + r, col - r : col + r, channel], share))

    cheeks = [(p[i, 0], p[i, 1] + 0.1 * d) for i in CHEEK_POINTS]
    brows = [(p[i, 0], p[i, 1] + 0.05 * d) for i in (*RIGHT_BROW_CORE, *LEFT_BROW_CORE)]  # just under the upper edge
    hair = 20.0  # the brows' hair: the darker fifth of a patch (the rest is the skin between the hairs)
    return (
        float(np.mean([patch(x, y, 1) for x, y in cheeks])),
        float(np.mean([patch(x, y, 0) for x, y in cheeks])),
        float(np.mean([patch(x, y, 0, hair) for x, y in brows])),
    )


def test_at_five_her_cheeks_are_rosier_and_her_brows_fainter():
    image = astronaut()
    settings = Settings(profile="offline", classical_child_skin=True)
    output = age_photo(LifespanRequest(image, [CHILD, SOURCE], source_age=SOURCE, renderer="classical"), settings)
    assert output.photos is not None
    child, same = output.photos
    assert "child skin" in output.stages[0] and "child skin" not in output.stages[1]
    plain = age_photo(LifespanRequest(image, [CHILD], source_age=SOURCE, renderer="classical"), OFFLINE)
    assert "child skin" not in plain.stages[0]  # off by default
    (red_child, skin_child, brow_child), (red_same, _, brow_same) = _cheeks_and_brows(child), _cheeks_and_brows(same)
    assert red_child > red_same + CHEEKS_REDDER, (red_child, red_same)
    assert brow_child > brow_same + BROWS_LIGHTER, (brow_child, brow_same)  # fainter
    assert brow_child < skin_child - BROWS_LIGHTER, (brow_child, skin_child)  # still a brow


def _sizes(photo: np.ndarray) -> np.ndarray:
    """The mouth's width, the nose's width (alae) and its height (nasion to subnasale), in inter-ocular distances,
    where FaceMesh finds them on `photo`."""
    p = locate(photo, OFFLINE).points[:, :2]
    return np.array(
        [
            abs(p[LEFT_MOUTH, 0] - p[RIGHT_MOUTH, 0]),
            abs(p[NOSE_WIDTH[1], 0] - p[NOSE_WIDTH[0], 0]),
            p[SUBNASALE, 1] - p[NASION, 1],
        ]
    ) / inter_ocular(p)


def test_at_five_her_mouth_and_nose_are_smaller_relative_to_her_eyes_as_child_scales_says():
    output = age_photo(LifespanRequest(astronaut(), [CHILD, SOURCE], source_age=SOURCE, renderer="classical"), OFFLINE)
    assert output.photos is not None
    measured = _sizes(output.photos[0]) / _sizes(output.photos[1])
    scales = child_scales(SOURCE, CHILD)
    expected = np.array([scales.mouth_width, scales.nose_width, scales.nose_height])
    assert np.all(measured < 1.0), measured  # every feature smaller relative to the eyes
    assert np.abs(measured - expected).max() < SCALE_TOLERANCE, (measured, expected)


def test_a_childs_photo_grows_up_toward_an_older_target_its_mouth_and_nose_larger_relative_to_its_eyes():
    # a child's photo (here the astronaut made 5 by this renderer) aged to 20: craniofacial growth runs forwards, as
    # Pittenger and Shaw's strain models it. Without it the face kept the child's proportions under an adult's skin and
    # hair (FaceMesh read the mouth 1.00, the nose 1.00 x 1.00 of the child's, width x height; with it 1.21, 1.06 x 1.11)
    child = age_photo(LifespanRequest(astronaut(), [CHILD], source_age=SOURCE, renderer="classical"), OFFLINE).photos
    assert child is not None
    output = age_photo(LifespanRequest(child[0], [CHILD, 20.0], source_age=CHILD, renderer="classical"), OFFLINE)
    assert output.photos is not None
    measured = _sizes(output.photos[1]) / _sizes(output.photos[0])
    scales = child_scales(CHILD, 20.0)
    expected = np.array([scales.mouth_width, scales.nose_width, scales.nose_height])
    # each grown by over 3 % (FaceMesh's noise is about 0.01 d a point; child_scales gives 11-20 %), the mouth as given
    assert np.all(measured > 1.03), (measured, expected)
    assert abs(measured[0] - expected[0]) < SCALE_TOLERANCE, (measured, expected)
    assert f"k = {growth_strain(CHILD, 20.0):.3f}, craniofacial growth run forwards" in output.stages[1]["shape"]
    assert "shape" not in output.stages[0]  # the child at its own age is left as it is


def _neck_squeeze(located: LocatedFace, k: float) -> float:
    """The most source rows one output row shows below the lips along the chin's column (each slope the mean over 4 rows)
    when the child warp's strain is `k` > 0 (no feature moves) on the crop alone: a grown child's chin and neck,
    squeezed."""
    size = located.crop.shape[0]
    ramp = np.repeat(np.arange(size, dtype=np.float32)[:, None], size, 1)
    moved = child_warp(np.dstack([ramp] * 3), located.points, k, child_scales(SOURCE, SOURCE))[..., 0]
    column = moved[:, int(round(located.points[CHIN, 0]))].astype(np.float64)
    rows = np.flatnonzero(column > located.points[LOWER_LIP_BOTTOM, 1])  # output rows showing what was under the lips
    return float(((column[rows[4:]] - column[rows[:-4]]) / 4.0).max())


def test_a_grown_childs_chin_lowers_over_a_short_neck_squeezed_at_most_the_settings_times_and_says_so():
    # the astronaut's portrait cut 8 px under her chin, as a 5-year-old's photo grown to 20: the chin lowered in full
    # over the few rows left squeezed 8 rows of neck into one, against a hard line at the crop's edge
    image = np.ascontiguousarray(astronaut()[:185])
    located = locate(image, OFFLINE)
    full = growth_strain(CHILD, 20.0)
    strain = bounded_strain(full, located.points, located.crop.shape[:2], OFFLINE.classical_neck_stretch)[0]
    assert 0 < strain < full
    assert bounded_strain(full, located.points, located.crop.shape[:2], OFFLINE.classical_neck_stretch) == (strain, "neck")
    assert _neck_squeeze(located, full) > 3.0
    assert _neck_squeeze(located, strain) < OFFLINE.classical_neck_stretch + 0.1
    # with the setting off, still short of folding the frame over anywhere
    unlimited = bounded_strain(full, located.points, located.crop.shape[:2], 0.0)[0]
    frame = frame_squeeze_per_strain(located.points, located.crop.shape[:2])
    assert strain <= unlimited and 1.0 - unlimited * frame >= 1.0 / UNFOLDED_SQUEEZE - 1e-9
    child = age_photo(LifespanRequest(image, [CHILD], source_age=SOURCE, renderer="classical"), OFFLINE).photos
    assert child is not None
    # a strip both ways from the child's photo: each weakened strain told with its own reason
    grown = age_photo(LifespanRequest(child[0], [0.0, 20.0], source_age=CHILD, renderer="classical"), OFFLINE)
    assert (
        "(weakened from" in grown.stages[1]["shape"]
        and "the neck would be squeezed more than 2 times" in grown.stages[1]["shape"]
    )
    told = [warning for warning in grown.warnings if "head shape is drawn weaker" in warning]
    assert len(told) == 2, grown.warnings
    assert told[0].startswith("The child's head shape") and " 0 (" in told[0] and " 20 (" not in told[0]
    assert (
        told[1].startswith("The grown-up head shape") and " 20 (" in told[1] and "squeeze the neck more than 2 times" in told[1]
    )
    # the setting off: only a fold weakens it, and the words say so (not "squeeze the neck more than 0 times")
    unset = age_photo(
        LifespanRequest(child[0], [20.0], source_age=CHILD, renderer="classical"), OFFLINE.with_(classical_neck_stretch=0)
    )
    text = unset.stages[0]["shape"]
    assert f", craniofacial growth run forwards from the child's photo (weakened from {full:.3f}: the frame would" in text
    assert "be squeezed more than 10 times where it fades out, folding it over)" in text
    assert any("squeeze the frame where the strain fades out more than 10 times" in warning for warning in unset.warnings)
    assert not any("more than 0 times" in warning for warning in unset.warnings), unset.warnings


def test_a_grown_childs_head_is_never_folded_over_beside_the_neck():
    # the astronaut made 2, grown to 20 with the photo's neck below the crop: the frame's worst squeeze lies where the
    # fade's blend by angle meets the crop's side, a cusp; read every 5 degrees it was missed, and the
    # strain allowed folded the frame there (the warp's map down to -1.06 in area from 2, a tear on a sharp photo)
    child = age_photo(LifespanRequest(astronaut(), [2.0], source_age=SOURCE, renderer="classical"), OFFLINE).photos
    assert child is not None
    located = locate(child[0], OFFLINE)
    below = photo_below(child[0], located.matrix, located.crop.shape[0], located.points)
    shape = (located.crop.shape[0] + len(below), located.crop.shape[1])
    for source in (2.0, 5.0):
        k = bounded_strain(growth_strain(source, 20.0), located.points, shape, OFFLINE.classical_neck_stretch)[0]
        ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
        drawn = child_warp(np.dstack([xs, ys, np.zeros_like(xs)]), located.points, k, child_scales(source, 20.0))
        sx, sy = drawn[..., 0].astype(np.float64), drawn[..., 1].astype(np.float64)
        area = np.diff(sx, axis=1)[:-1] * np.diff(sy, axis=0)[:, :-1] - np.diff(sy, axis=1)[:-1] * np.diff(sx, axis=0)[:, :-1]
        assert area.min() > 0.1, (source, k, area.min())  # every output pixel shows the photo of one place, in order


def test_a_grown_childs_older_skin_fades_out_with_the_crop_not_at_a_seam_in_the_lowered_neck():
    # Grace Hopper made 5, then grown to 70: her neck's older colour (sallower, b* up) was cut at the crop's old bottom
    # edge, which the lowered chin pushed 20 rows down into the photo's unaged neck (b* 2.5 to 0.1 in three rows)
    child = age_photo(LifespanRequest(grace_hopper(), [CHILD], source_age=80.0, renderer="classical"), OFFLINE).photos
    assert child is not None
    output = age_photo(LifespanRequest(child[0], [20.0, 70.0], source_age=CHILD, renderer="classical"), OFFLINE)
    assert output.photos is not None
    located = locate(child[0], OFFLINE)
    back = cv2.invertAffineTransform(located.matrix)
    x, bottom = back @ np.array([located.points[CHIN, 0], located.crop.shape[0] - 1.0, 1.0])  # the crop's bottom edge
    yellower = [cv2.cvtColor(photo, cv2.COLOR_RGB2LAB)[..., 2].astype(np.float64) for photo in output.photos]
    band = (yellower[1] - yellower[0])[:, int(x) - 40 : int(x) + 40].mean(1)
    # 10-20 rows below the crop's edge: the change faded out there as the paste's feather fades it (1.3-2.0 before)
    assert np.abs(band[int(bottom) + 10 : int(bottom) + 20]).max() < 0.5, band[int(bottom) - 10 : int(bottom) + 30]


def test_a_photo_ending_under_the_chin_keeps_the_childs_neck_a_neck_and_says_the_strain_was_weakened():
    # the astronaut's portrait cut 8 px under her chin: the chin's full rise toward a child, faded out in the padding's
    # strip under it, stretched her chin and neck into vertical streaks (about 4.8 times at 0)
    image = np.ascontiguousarray(astronaut()[:185])
    located = locate(image, OFFLINE)
    assert len(photo_below(image, located.matrix, located.crop.shape[0], located.points)) == 0
    full = growth_strain(SOURCE, 0.0)
    strain = bounded_strain(full, located.points, located.crop.shape[:2], OFFLINE.classical_neck_stretch)[0]
    assert full < strain < 0  # weaker, still toward a child
    # along the chin's column, each slope over 8 rows (the stretch's peak is narrower: the rays' own measure is 4.8 and 2)
    assert _smooth_neck_stretch(located, full) > 2.5
    assert _smooth_neck_stretch(located, strain) < 1.5
    output = age_photo(LifespanRequest(image, [0.0, 10.0, 30.0], source_age=SOURCE, renderer="classical"), OFFLINE)
    assert (
        f"k = {strain:.3f} (weakened from {full:.3f}: the neck would be stretched more than 2 times)" in output.stages[0]["shape"]
    )
    assert "weakened from" in output.stages[1]["shape"]  # at 10 too, by too little to be told of
    told = [warning for warning in output.warnings if "drawn weaker than its age asks" in warning]
    assert len(told) == 1 and f"at 0 ({math.floor(100 * strain / full):d}% of it): the photo ends 0.1" in told[0], told
    assert " 10 (" not in told[0] and " 30 " not in told[0]
    # the growth model's strain in full is a setting
    paper = age_photo(
        LifespanRequest(image, [0.0], source_age=SOURCE, renderer="classical"), OFFLINE.with_(classical_neck_stretch=0)
    )
    assert f"k = {full:.3f};" in paper.stages[0]["shape"]
    assert not any("drawn weaker" in warning for warning in paper.warnings)


@needs_packaged("takeo")
def test_the_neck_is_taken_from_under_the_crop_where_the_photo_holds_it_under_the_neck_not_across_the_crop():
    # Takeo's portrait runs on 117 rows under his neck but not past the crop's right edge: none of them was taken, and
    # his neck was stretched in the crop's last 30 rows (4.7 times at 0)
    image = load(packaged("takeo"))
    located = locate(image, OFFLINE)
    size = located.crop.shape[0]
    below = photo_below(image, located.matrix, size, located.points)
    assert len(below) > 100
    # past the photo's right edge the rows are padded as the crop is: they go on from the crop's own padding above them
    # (within a level or two, as the photo's columns do)
    padded = located.inside[-1] < 1.0 if located.inside is not None else np.zeros(size, bool)
    assert padded.sum() > 40
    assert np.abs(located.crop[-1][padded].astype(float) - below[0][padded].astype(float)).mean() < 3.0
    full = growth_strain(47.0, 0.0)
    assert bounded_strain(full, located.points, (size + len(below), size), OFFLINE.classical_neck_stretch)[0] == full


def test_a_photo_whose_side_cuts_between_the_jaws_angles_still_gives_its_neck():
    # the astronaut's portrait cut at her right jaw's angle: the columns past the cut are padding in every row, and
    # taking the whole span between the jaw's angles found no neck under the crop and weakened the strain to 28 % at 0
    image = np.ascontiguousarray(astronaut()[:, :260])
    located = locate(image, OFFLINE)
    size = located.crop.shape[0]
    below = photo_below(image, located.matrix, size, located.points)
    assert len(below) > 100
    full = growth_strain(SOURCE, 0.0)
    assert bounded_strain(full, located.points, (size + len(below), size), OFFLINE.classical_neck_stretch)[0] == full


def test_a_photo_with_the_neck_below_the_crop_keeps_the_childs_full_strain():
    output = age_photo(LifespanRequest(astronaut(), [0.0], source_age=SOURCE, renderer="classical"), OFFLINE)
    assert f"k = {growth_strain(SOURCE, 0.0):.3f};" in output.stages[0]["shape"]
    assert not any("drawn weaker" in warning for warning in output.warnings)


def test_the_necks_stretch_setting_is_read_from_the_environment_and_checked(monkeypatch, located):
    monkeypatch.setenv("HUB_CLASSICAL_NECK_STRETCH", "3")
    assert Settings.from_env().classical_neck_stretch == 3.0
    monkeypatch.setenv("HUB_CLASSICAL_NECK_STRETCH", "0.5")
    with pytest.raises(ValueError, match=r"HUB_CLASSICAL_NECK_STRETCH must be 0 .* or more \(e.g. 2\), got 0.5"):
        Settings.from_env()
    with pytest.raises(ValueError, match="must be 0 .no limit. or at least 1, got 0.5"):
        bounded_strain(-0.1, located.points, located.crop.shape[:2], 0.5)
    with pytest.raises(ValueError, match="must be 0 .no limit. or at least 1, got nan"):
        bounded_strain(-0.1, located.points, located.crop.shape[:2], float("nan"))
    # a child's photo grown older (k > 0) is checked as well: the lifespan reads its strain and why from bounded_strain
    with pytest.raises(ValueError, match="must be 0 .no limit. or at least 1, got 0.5"):
        bounded_strain(0.05, located.points, located.crop.shape[:2], 0.5)


def test_a_face_the_estimator_reads_as_a_child_is_grown_toward_older_targets_and_the_user_is_told_how_to_stop_it(
    monkeypatch,
):
    # a young-looking adult read at 12 is grown as a child's photo (chin lowered, nose and mouth enlarged) toward 30:
    # the user is told so, and that giving the source age stops it; a child's younger target grows nothing
    import engine.tasks.lifespan as lifespan_task  # noqa: PLC0415 - the estimator the task calls, replaced here
    import engine.tasks.pluralistic as pluralistic_task  # noqa: PLC0415
    from engine.age.estimators import SourceAgeGender  # noqa: PLC0415
    from engine.tasks.pluralistic import PluralisticRequest, pluralistic  # noqa: PLC0415

    read_as_child = SourceAgeGender(12.0, "female", "estimated", "estimated")
    monkeypatch.setattr(lifespan_task, "source_age_gender", lambda *args, **kwargs: read_as_child)
    monkeypatch.setattr(pluralistic_task, "source_age_gender", lambda *args, **kwargs: read_as_child)
    told = [
        w for w in age_photo(LifespanRequest(astronaut(), [5.0, 30.0], renderer="classical"), OFFLINE).warnings if "grown" in w
    ]
    assert told == [
        "The face's age was estimated at 12, under 18: at 30 its head is grown as a child's grows (the chin lowered, the "
        "nose and mouth up to 5% larger). If the person is 18 or older, give the source age."
    ]
    # another face of a group photo is chosen by its number before its age can be given
    (other,) = growth_warning(read_as_child, [30.0, 5.0, 40.0], chosen=False)
    assert "at 30 and 40 its head is grown" in other and other.endswith("choose this face by its number and give its source age.")
    # an adult read at 15-17 (a common misreading) is grown by under GROWTH_TOLD: about FaceMesh's noise, not told of
    for age, told_of in ((14.0, True), (15.0, False), (17.0, False)):
        read = dataclasses.replace(read_as_child, age=age)
        assert bool(growth_warning(read, [30.0, 80.0])) == told_of, age
    futures = pluralistic(PluralisticRequest(astronaut(), target=30.0, samples=2, renderer="classical"), OFFLINE)
    assert any("estimated at 12" in w for w in futures.warnings), futures.warnings
    # the same age given, or only younger targets: nothing to warn of
    monkeypatch.undo()
    given = age_photo(LifespanRequest(astronaut(), [30.0], source_age=12.0, renderer="classical"), OFFLINE)
    assert not [w for w in given.warnings if "estimated at" in w]


def test_the_background_beside_a_newborns_ear_is_stretched_less_than_three_times_where_the_crop_has_room(located):
    # made 0 (the strongest strain), her face narrows by about 20 px at eye level, which the background between her head
    # and the crop's side takes up: with the strain full 1.8 d out it was pulled in whole and then stretched 3.7 times into
    # the last 0.2 d before the crop's edge (a straight curtain beside Obama's ear bent into a streaked wedge). Beside her
    # right ear (the image's left) the crop leaves 0.7 d; beside her left, under half a d, still stretched 3.7 times
    size = located.crop.shape[0]
    columns = np.repeat(np.arange(size, dtype=np.float32)[None, :], size, 0)
    k = growth_strain(SOURCE, 0.0)
    moved = child_warp(np.dstack([columns] * 3), located.points, k, child_scales(SOURCE, SOURCE))[..., 0]
    eyes = located.points[[33, 263]]  # the eyes' outer corners
    row = int(round(eyes[:, 1].mean()))
    outline = int(np.floor(located.points[FACE_OVAL][:, 0].min()))  # her face's outline on the image's left
    margin = int(EDGE_MARGIN * size)
    beside = moved[row, margin:outline].astype(np.float64)  # what each output column shows, the crop's edge to the face
    assert abs(beside[0] - margin) < 1.0  # (next to) nothing moves at the crop's edge
    stretch = 1.0 / np.diff(beside).min()  # output columns per source column
    assert 1.0 < stretch < 3.0


def test_a_face_near_profile_is_made_a_newborn_without_folding_what_lies_beside_it():
    # the camera operator's face oval folds in on its far side, 0.2 d from the strain's origin: read as his outline, the
    # full strain ended inside his face there and jumped back out to the chin's within 15 degrees, and the camera beside
    # his chin was sheared into a doubled edge (a row's mapping ran backwards)
    from skimage import data  # noqa: PLC0415

    photo = np.ascontiguousarray(np.repeat(data.camera()[..., None], 3, axis=2))
    operator = locate(photo, OFFLINE)
    size = operator.crop.shape[0]
    columns = np.repeat(np.arange(size, dtype=np.float32)[None, :], size, 0)
    moved = child_warp(np.dstack([columns] * 3), operator.points, growth_strain(20.0, 0.0), child_scales(20.0, 20.0))
    slopes = np.diff(moved[..., 0].astype(np.float64), axis=1)  # source columns per output column, along every row
    assert slopes.min() > 0.1
