"""The classical lifespan model's older face on the shipped astronaut portrait: shape, skin, identity."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.faces.zones import LEFT_EYE, OUTER_LIPS, RIGHT_ALA, RIGHT_EYE, RIGHT_LOWER_LID, RIGHT_MOUTH, ZONES, inter_ocular
from engine.methods.classical.aging import neck_skin
from engine.methods.classical.lifespan import hair_masks
from engine.methods.classical.shape import (
    CHEEK_DROP,
    CHEEK_IN,
    INNER_LOWER_LIP,
    INNER_UPPER_LIP,
    JOWL_DROP,
    JOWL_OUT,
    LID_CHEEK_DROP,
    LIP_SKIN_REACH,
    NASOLABIAL_BOW,
    OUTER_LOWER_LIP,
    OUTER_UPPER_LIP,
    Descent,
    crease_lines,
    descent_between,
    descent_displacements,
    fold_shading,
)
from engine.methods.ldla.pipeline import edit_zones, locate, skin_mask
from engine.tasks.lifespan import LifespanRequest, age_photo
from tests.conftest import astronaut, fine_detail, grey_astronaut

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")
SOURCE_AGE = 41.0  # the offline estimator's reading of the astronaut
LOWER_CONTOUR = [172, 136, 150, 149, 397, 365, 379, 378]  # FaceMesh's face oval below the mouth corners, beside the chin


@pytest.fixture(scope="module")
def source():
    return locate(astronaut(), OFFLINE)


@pytest.fixture(scope="module")
def aged():
    request = LifespanRequest(astronaut(), [70, 80], source_age=SOURCE_AGE, renderer="classical")
    return age_photo(request, OFFLINE), age_photo(request, OFFLINE.with_(classical_texture=False))


def test_the_lower_face_contour_below_the_mouth_corners_moves_down_at_70(source, aged):
    with_texture, _ = aged
    mesh = get_cache(OFFLINE).get("face_mesh")
    points = mesh.landmarks(with_texture.faces[0])  # the aged face in the source's aligned frame
    d = inter_ocular(source.points)
    drop = (points[LOWER_CONTOUR, 1] - source.points[LOWER_CONTOUR, 1]) / d
    eyes = (points[RIGHT_EYE + LEFT_EYE, 1] - source.points[RIGHT_EYE + LEFT_EYE, 1]) / d
    assert drop.mean() > 0.004 and abs(eyes.mean()) < 0.004  # the jaw line sags; the eyes stay
    assert "further along their descent" in with_texture.stages[0]["descent"]


def test_older_skin_holds_no_detail_finer_than_the_photo_and_names_its_prototype(source, aged):
    # the astronaut's face is her 512 px photo upsampled 3.2 times into the crop: nothing in it is finer than the photo's
    # pixels. The wrinkles, the prototype's texture and the spots drawn at the crop's own resolution put detail finer
    # than that on her cheeks and forehead (1.9 times the source's at 70): a crackle of sharp lines at 70-80, and on a
    # small face in a group photo a network of cracks. Drawn as the photo resolves them, the skin's detail finer than
    # 2 crop px stays about the source's
    with_texture, without = aged
    rows = np.arange(source.crop.shape[0])[:, None]
    cheeks = skin_mask(source) * (rows > source.points[2, 1])  # the skin below the nose
    # the forehead zone's skin: the astronaut's fringe covers most of the zone, and no crease is drawn on hair
    forehead = source.masks["forehead"] * (hair_masks(source, OFFLINE).hair == 0)
    for face in (with_texture.faces[0], without.faces[0]):
        for mask in (cheeks, forehead):
            assert fine_detail(face, mask) < 1.15 * fine_detail(source.crop, mask)
    assert "Grace Hopper" in with_texture.stages[0]["texture"] and "one face" in with_texture.stages[0]["texture"]
    assert "texture" not in without.stages[0]
    assert "no finer than the photo's pixels (the photo is upsampled 3.2 times" in with_texture.stages[0]["resolution"]
    # HUB_CLASSICAL_PHOTO_RESOLUTION=0: drawn at the crop's own resolution (the prototype transfer's paper's one)
    request = LifespanRequest(astronaut(), [70], source_age=SOURCE_AGE, renderer="classical")
    crisp = age_photo(request, OFFLINE.with_(classical_photo_resolution=False))
    assert (
        fine_detail(crisp.faces[0], forehead) > 1.5 * fine_detail(source.crop, forehead) and "resolution" not in crisp.stages[0]
    )
    # and there the prototype's texture is what roughens the lower face
    plain = age_photo(request, OFFLINE.with_(classical_photo_resolution=False, classical_texture=False))
    assert fine_detail(crisp.faces[0], cheeks) > 1.4 * fine_detail(plain.faces[0], cheeks)


def test_identity_is_kept_at_70_and_80(aged):
    with_texture, _ = aged
    cache = get_cache(OFFLINE)
    detector, identity = cache.get("face_detector"), cache.get("identity_offline")
    image = astronaut()
    reference = identity.embed(image, detector.detect(image)[0])
    for photo in with_texture.photos:
        similarity = identity.similarity(reference, identity.embed(photo, detector.detect(photo)[0]))
        assert similarity >= 0.5  # SFace: the same person (different people score about 0.18)


def test_descent_moves_only_the_lower_face_within_its_bounds_and_thins_the_lips(source):
    points = source.points[:, :2]
    d = inter_ocular(points)
    full = descent_displacements(points, Descent(1.0, 0.3))
    bound = max(np.hypot(JOWL_DROP, JOWL_OUT), np.hypot(CHEEK_DROP, CHEEK_IN), LID_CHEEK_DROP) * d
    tissue = np.delete(np.arange(len(points)), OUTER_UPPER_LIP + OUTER_LOWER_LIP)
    lips = descent_displacements(points, Descent(0.0, 0.3))  # the lips' own part (the skin near them follows their border)
    assert np.linalg.norm((full - lips)[tissue], axis=1).max() <= bound + 1e-6
    border_move = np.linalg.norm(lips[OUTER_UPPER_LIP + OUTER_LOWER_LIP], axis=1).max()
    assert np.linalg.norm(lips[tissue], axis=1).max() <= border_move + 1e-6  # no follower goes further than the border
    still = [10, 151, 9, 168, 1, 152, 61, 291, *RIGHT_EYE[:8], *LEFT_EYE[:8]]  # forehead, nose, chin, corners, upper lids
    np.testing.assert_allclose(full[still], 0.0, atol=0.01)  # within a hundredth of a pixel
    for outer, inner in ((OUTER_UPPER_LIP, INNER_UPPER_LIP), (OUTER_LOWER_LIP, INNER_LOWER_LIP)):
        before = np.linalg.norm(points[outer] - points[inner], axis=1)
        after = np.linalg.norm(points[outer] + full[outer] - points[inner], axis=1)
        np.testing.assert_allclose(after, 0.7 * before, rtol=1e-6)  # the vermilion 30 % lower
    older, younger = descent_between(SOURCE_AGE, 70), descent_between(70, SOURCE_AGE)
    back = (descent_displacements(points, replace(older, lips=0.0)) + descent_displacements(points, replace(younger, lips=0.0)))[
        tissue
    ]
    np.testing.assert_allclose(back, 0.0, atol=1e-9)  # a younger target lifts the tissue back the same way


@pytest.mark.parametrize("share", [0.3, -0.43])  # thinner (to 80) and fuller (Grace Hopper's at 10)
def test_the_skin_around_the_lips_follows_their_border_and_no_lip_ring_crosses_the_mouths_opening(source, share):
    points = source.points[:, :2].astype(np.float64)
    d = inter_ocular(points)
    border, opening = OUTER_UPPER_LIP + OUTER_LOWER_LIP, INNER_UPPER_LIP + INNER_LOWER_LIP
    moved = descent_displacements(points, Descent(0.0, share))  # the lips alone
    outline = points[OUTER_LIPS].astype(np.float32)
    inside = np.array([cv2.pointPolygonTest(outline, (float(x), float(y)), False) > 0 for x, y in points])
    distance = np.linalg.norm(points[:, None] - points[None, border], axis=2)
    nearest, gap = distance.argmin(1), distance.min(1) / d
    corners = [61, 291, 78, 308]
    skin = np.setdiff1d(np.flatnonzero(~inside), border + opening + corners)
    near = skin[gap[skin] < 0.1]
    assert len(near) >= 5  # the landmarks just outside the lips
    along = np.einsum("ij,ij->i", moved[near], moved[[border[j] for j in nearest[near]]])
    border_move = np.linalg.norm(moved[[border[j] for j in nearest[near]]], axis=1)
    assert np.all(along >= 0.25 * border_move**2)  # each goes the way its border point goes
    far = skin[gap[skin] >= LIP_SKIN_REACH]
    np.testing.assert_array_equal(moved[far], 0.0)  # the nose, the chin, the eyes: pinned where they were
    np.testing.assert_array_equal(moved[opening + corners], 0.0)  # the mouth's opening and corners kept
    assert 1 in far and 152 in far  # the nose's tip and the chin
    # the red lip's rings fill or thin with it, each staying on its own side of the opening (none crosses it)
    rings = np.setdiff1d(np.flatnonzero(inside), border + opening + corners)
    assert len(rings) >= 20
    inside_opening = points[opening + [78, 308]]  # the opening's contour and its corners
    closest = inside_opening[np.linalg.norm(points[rings, None] - inside_opening[None], axis=2).argmin(1)]
    assert np.all(np.einsum("ij,ij->i", points[rings] + moved[rings] - closest, points[rings] - closest) > 0)
    # the rings at each end of the lips stay between the outer corner and the opening's
    for outer, inner, ends in ((61, 78, [76, 62]), (291, 308, [306, 292])):
        axis = points[inner] - points[outer]
        along = (points[ends] + moved[ends] - points[outer]) @ axis / (axis @ axis)
        assert np.all((along > 0) & (along < 1))
    assert np.linalg.norm(moved[rings], axis=1).max() <= np.linalg.norm(moved[border], axis=1).max() + 1e-9


def test_fold_shading_darkens_the_folds_and_under_the_eyes_and_a_younger_target_lightens_them(source):
    points = source.points[:, :2]
    d = inter_ocular(points)
    older = fold_shading(source.crop.shape[:2], points, 0.8)
    younger = fold_shading(source.crop.shape[:2], points, -0.8)

    def at(point):
        x, y = np.round(point).astype(int)
        return older[y, x], younger[y, x]

    middle = (points[RIGHT_ALA] + points[RIGHT_MOUTH]) / 2
    fold = middle + np.array([-0.06 * d, 0.06 * d])  # on the line a younger target lifts the fold along
    crease = middle + np.array([-NASOLABIAL_BOW * d, 0.0])  # the crease an older target deepens, bowed out from it
    junction = points[RIGHT_LOWER_LID].mean(0) + np.array([0.0, 0.2 * d])  # the lid-cheek junction
    assert at(crease)[0] < 0.97 and at(fold)[1] > 1.03
    darker, lighter = at(junction)
    assert darker < 0.97 and lighter > 1.03
    np.testing.assert_allclose(older[:100], 1.0, atol=1e-5)  # the forehead and above: untouched


def test_an_older_nasolabial_crease_rolls_off_into_the_cheek_and_is_cut_sharply_against_the_lip(source):
    # a crease, as on the old portraits measured: the shadow fades over about 0.13 d on the cheek's side and within
    # about 0.03 d on the lip's, not a line of shadow the same on both sides
    points = source.points[:, :2]
    d = inter_ocular(points)
    older = fold_shading(source.crop.shape[:2], points, 1.0)
    line, sign = crease_lines(points)["nasolabial_right"]

    def darkening(centre: np.ndarray, normal: np.ndarray, offset: float) -> float:  # offset in d: > 0 the cheek's side
        x, y = np.round(centre + offset * d * normal).astype(int)
        return 1.0 - float(older[y, x])

    for start, end in zip(line[:-1], line[1:]):  # across the middle of each of its two segments
        along = (end - start) / np.linalg.norm(end - start)
        normal = np.array([-along[1], along[0]])
        normal = normal if normal[0] * sign > 0 else -normal  # toward the cheek
        centre = (start + end) / 2
        assert darkening(centre, normal, 0.0) > 0.15  # the crease itself, at 80
        assert darkening(centre, normal, 0.07) > 0.1  # the cheek rolling into it, still shaded ...
        assert darkening(centre, normal, -0.07) < 0.02  # ... where the lip's side is already as it was


def _chroma(rgb: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    return np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)


def test_a_black_and_white_photo_stays_black_and_white_at_80_and_the_manifest_says_so():
    grey = grey_astronaut()
    out = age_photo(LifespanRequest(grey, [80], source_age=SOURCE_AGE, renderer="classical"), OFFLINE)
    assert out.photos is not None
    face, photo = out.faces[0], out.photos[0]
    # it aged (wrinkles, texture, grey hair and spots in lightness) ...
    source = locate(grey, OFFLINE).crop
    assert np.abs(face.astype(int) - source.astype(int)).mean() > 2.0
    # ... without a tint anywhere: no brown spots, no sallow skin, no warm grey hair (CIELAB rounding aside)
    assert float(_chroma(face).max()) <= 1.5 and float(_chroma(photo).max()) <= 1.5
    assert "lightness only" in out.stages[0]["monochrome"]
    # the same photo in colour does take colour (spots, sallowness): what the grey one is kept from
    colour = age_photo(LifespanRequest(astronaut(), [80], source_age=SOURCE_AGE, renderer="classical"), OFFLINE)
    assert "monochrome" not in colour.stages[0]
    # the zone editor (the LDLA tab) on it: deeper wrinkles and the skin's tone, no yellowing either
    edit = edit_zones(grey, dict.fromkeys(ZONES, 95.0), "classical", 0, source_age=SOURCE_AGE, settings=OFFLINE, skin=0.8)
    assert np.abs(edit.after.astype(int) - edit.before.astype(int)).max() > 20
    assert edit.photo is not None
    assert float(_chroma(edit.after).max()) <= 1.5 and float(_chroma(edit.photo).max()) <= 1.5
    assert "lightness only" in edit.manifest()["renderer_settings"]["monochrome"]


def test_a_black_and_white_photos_stages_claim_no_change_of_hue_alone():
    """Sallower skin, a child's rosy cheeks, paler old lips, redder young lips and yellower teeth are hue alone: on a
    black-and-white photo, whose changes keep their grey level only, the stage texts say they were not made (they had
    said they were)."""
    grey = grey_astronaut()
    child = Settings(profile="offline", classical_child_skin=True)  # a child's skin is a setting, off by default
    young, old = age_photo(LifespanRequest(grey, [5, 80], source_age=SOURCE_AGE, renderer="classical"), child).stages
    assert old["colour"].startswith("unchanged: a black-and-white photo") and "rosy" not in old["colour"]
    assert old["contrast"].startswith("eyebrows (the lips kept: a black-and-white photo)")
    assert "lightness only" in old["teeth"] and "b*" not in old["teeth"] and "b*" not in young["teeth"]
    drawn, left_out = old["monochrome"].split("are left out")[0].split("the changes of hue alone")
    assert "spots" in drawn and "sallower skin" in left_out and "lips" in left_out  # not said as drawn in grey
    assert "a*" not in old["contrast"] and "a*" not in young["contrast"]  # the whites of the eyes: lightness alone
    assert young["child skin"].startswith("cheeks kept (a black-and-white photo") and "brows fainter" in young["child skin"]
    assert young["contrast"].startswith("the lips kept (a black-and-white photo") and "redness apart" not in young["contrast"]
    young, old = age_photo(LifespanRequest(astronaut(), [5, 80], source_age=SOURCE_AGE, renderer="classical"), child).stages
    assert old["colour"].startswith("less rosy, more yellow") and young["child skin"].startswith("cheeks rosier")
    assert old["contrast"].startswith("lips and eyebrows") and "b* +" in old["teeth"] and "a*" in old["contrast"]
    assert young["contrast"].startswith("the lips' redness apart from the skin's grown by")


def test_the_neck_below_the_face_ages_with_it_at_80(source, aged):
    with_texture, _ = aged
    neck = neck_skin(source.crop, source.points, skin_mask(source)) > 0
    neck[: int(source.points[:, 1].max()) + 5] = False  # well below the chin: the face's own stages never reach it
    assert neck.sum() > 500  # the astronaut's neck shows between her chin and her collar
    before = cv2.cvtColor(source.crop, cv2.COLOR_RGB2LAB).astype(np.float32)[neck]
    after = cv2.cvtColor(with_texture.faces[1], cv2.COLOR_RGB2LAB).astype(np.float32)[neck]
    # yellower (sallow, and the spots' brown) like the face above it
    assert after[:, 2].mean() > before[:, 2].mean() + 1.5


def test_a_deepened_fold_over_pale_washed_out_skin_shows_the_skins_colour(source):
    # eye bags and folds deepened over skin the flash washed out (pale, nearly neutral) read grey-green on an orange
    # face when darkened with the pale pixels' own colour: given the face's skin colour, their shadow shows it
    from engine.methods.classical.shape import age_shape  # noqa: PLC0415

    points = source.points[:, :2]
    skin = skin_mask(source) > 0
    pale = np.empty_like(source.crop)
    pale[:] = cv2.cvtColor(np.array([[[215, 128, 131]]], np.uint8), cv2.COLOR_LAB2RGB)
    orange = np.array([140.0, 158.0], np.float32)
    descent = descent_between(SOURCE_AGE, 80)
    own = cv2.cvtColor(age_shape(pale, points, skin, descent), cv2.COLOR_RGB2LAB).astype(np.float32)
    shown = cv2.cvtColor(age_shape(pale, points, skin, descent, orange), cv2.COLOR_RGB2LAB).astype(np.float32)
    shadow = own[..., 0] < 215 * 0.88  # the folds' and bags' shadows
    assert shadow.sum() > 200
    chroma = lambda lab: np.hypot(lab[..., 1] - 128.0, lab[..., 2] - 128.0)[shadow]  # noqa: E731
    assert np.median(chroma(own)) < 5
    assert np.median(chroma(shown)) > 0.3 * np.hypot(*(orange - 128.0))
