"""The skin beyond FaceMesh's outline, the forehead up to the hairline and the ears, changes with the face: its colour
older, its creases and tone younger (on the packaged portraits of Biden, 70, Obama, 51, and Takeo, 47, in black and white)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.core.settings import Settings
from engine.faces.segmentation import PERSON_THRESHOLD
from engine.faces.zones import face_hull, inter_ocular
from engine.methods.classical.aging import outline_skin
from engine.methods.classical.lifespan import age_face, hair_masks
from engine.methods.ldla.pipeline import locate, skin_mask
from evaluation.packaged_faces import cached_path, load, packaged_faces

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")


def _portrait(name: str):
    face = next(face for face in packaged_faces() if face.name == name)
    if not cached_path(face).exists():
        pytest.skip("needs the packaged benchmark photos: run `make benchmark-data`")
    image = load(face)
    located = locate(image, OFFLINE)
    masks = hair_masks(located, OFFLINE)
    skin = skin_mask(located)
    assert masks.person is not None
    forehead, ears = outline_skin(located.crop, located.points, skin, masks.hair, masks.person > PERSON_THRESHOLD)
    return image, located, masks, skin > 0, forehead > 0, ears > 0


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)


def _creases(lightness: np.ndarray) -> np.ndarray:
    return np.abs(lightness - cv2.GaussianBlur(lightness, (0, 0), 3.0))


def test_the_forehead_above_the_outline_loses_its_creases_and_brightens_with_the_face():
    # Biden's high forehead runs on above FaceMesh's outline: its creases stayed there at 30 while the face's went, a
    # line across his brow between smooth skin and creased (looked at)
    image, located, masks, skin, forehead, _ = _portrait("biden")
    assert forehead.sum() > 10000  # about a third of his forehead's skin
    after = age_face(image, located, masks, 70, 30, 0, OFFLINE).after
    before, young = _lab(located.crop), _lab(after)
    for region in (skin, forehead):
        assert _creases(young[..., 0])[region].mean() < 0.8 * _creases(before[..., 0])[region].mean()
    face_lift = young[..., 0][skin].mean() - before[..., 0][skin].mean()
    assert young[..., 0][forehead].mean() - before[..., 0][forehead].mean() > 0.5 * face_lift > 0


def test_a_black_and_white_photos_upper_forehead_changes_with_the_face_where_its_hair_is_found():
    # Takeo's black-and-white portrait made 10 from 47: his forehead above FaceMesh's outline kept its texture and shade
    # while the face's went smooth and bright, a band below his hairline (looked at, 2x). With the hair mask holding his
    # hair, the skin beyond the outline is what is as light as skin and not hair
    image, located, masks, skin, forehead, ears = _portrait("takeo")
    assert forehead.sum() > 8000 and not ears.any()  # 10,950 px, about a third of his forehead; no ears (told by colour)
    after = age_face(image, located, masks, 47, 10, 0, OFFLINE).after
    before, young = _lab(located.crop), _lab(after)
    assert _creases(young[..., 0])[forehead].mean() < 0.8 * _creases(before[..., 0])[forehead].mean()  # 0.64
    face_lift = young[..., 0][skin].mean() - before[..., 0][skin].mean()
    assert young[..., 0][forehead].mean() - before[..., 0][forehead].mean() > 0.5 * face_lift > 0
    # a mid-grey hat's rim over his upper forehead (0.55 of his face skin's median lightness; the neck's floor, 0.45, took
    # it in) is not skin: lightness is the only test in black and white
    hat = located.crop.copy()
    rows = np.nonzero(forehead.any(1))[0]
    brim = np.zeros_like(forehead)
    brim[rows[0] : (rows[0] + rows[-1]) // 2] = True
    hat[brim & forehead] = 60
    with_hat, _ = outline_skin(hat, located.points, skin.astype(np.uint8), masks.hair, masks.person > PERSON_THRESHOLD)
    assert (with_hat > 0)[~brim].sum() > 0.5 * forehead[~brim].sum() and not (with_hat > 0)[brim & forehead].any()
    # Einstein's white hair (a neutral print) is as light as his skin and no hair mask is found: his forehead stays the
    # outline's alone (without the mask his hair would be taken for skin)
    _, _, einstein_masks, _, einstein_forehead, _ = _portrait("einstein")
    assert not einstein_masks.hair.any() and not einstein_forehead.any()


def test_the_ears_and_upper_forehead_turn_sallow_with_the_face():
    # Obama at 80: his face turned less rosy and more yellow and his ears stayed pink, a mask between them (looked at)
    image, located, masks, skin, forehead, ears = _portrait("obama")
    assert forehead.sum() > 3000 and ears.sum() > 3000
    aged = age_face(image, located, masks, 51, 80, 0, OFFLINE)
    assert aged.stages["colour"].endswith("(face, neck, upper forehead and ears)")
    before, after = _lab(located.crop), _lab(aged.after)

    def shift(region: np.ndarray) -> float:  # the change of the region's mean a*b*
        return float(np.hypot(*(after[..., 1:][region].mean(0) - before[..., 1:][region].mean(0))))

    assert shift(skin) > 2.0
    assert shift(ears) > 0.4 * shift(skin) and shift(forehead) > 0.4 * shift(skin)


def test_the_wall_beside_the_face_keeps_its_colour():
    # the astronaut's pale wall is within the ears' colour range beside her face: it had turned sallow with her skin and
    # taken an age spot at 80 (its mean change 4.9 levels); only the person's skin changes (the sagging's warp and the
    # skin's feathered edge move the wall by about 1.2 levels at 80, as they did before the ears were aged)
    from tests.conftest import astronaut  # noqa: PLC0415 - only this test needs it

    image = astronaut()
    located = locate(image, OFFLINE)
    masks = hair_masks(located, OFFLINE)
    assert masks.person is not None
    hull = face_hull(located.points, masks.hair.shape) > 0
    near = cv2.distanceTransform((~hull).astype(np.uint8), cv2.DIST_L2, 5) < 0.6 * inter_ocular(located.points)
    wall = near & ~hull & (masks.person < 0.1)
    assert wall.sum() > 5000
    for target in (20, 80):
        after = age_face(image, located, masks, 41, target, 0, OFFLINE).after
        assert np.abs(after.astype(int) - located.crop.astype(int))[wall].mean() < 2.0


def test_without_a_person_segmenter_only_the_face_and_neck_change():
    # no segmenter: no hair mask, so "off the hair" would take the astronaut's fringe for forehead; the skin beyond the
    # outline is left alone
    import dataclasses  # noqa: PLC0415 - only this test needs them

    from tests.conftest import astronaut  # noqa: PLC0415

    image = astronaut()
    located = locate(image, OFFLINE)
    found = hair_masks(located, OFFLINE)
    masks = dataclasses.replace(found, hair=np.zeros_like(found.hair), person=None, note="no person segmenter (test)")
    old = age_face(image, located, masks, 41, 80, 0, OFFLINE)
    assert "upper forehead" not in old.stages["colour"] and "ears" not in old.stages["colour"]


def test_the_sheen_on_a_forehead_above_the_outline_ages_with_the_rest_of_it():
    # the lit sheen on Obama's upper forehead is paler and less coloured than his skin: the colour test left two thirds
    # of it out, and it stayed a young patch in a forehead sallowed at 80 (looked at)
    _, located, masks, skin, forehead, _ = _portrait("obama")
    lab = _lab(located.crop)
    ys = np.arange(skin.shape[0])[:, None]
    brows_top = located.points[:, 1][[70, 63, 105, 66, 107, 336, 296, 334, 293, 300]].min()
    above = (face_hull(located.points, skin.shape) == 0) & (ys < brows_top) & (masks.person > PERSON_THRESHOLD)
    off_hair = cv2.dilate((masks.hair > 0).astype(np.uint8), np.ones((15, 15), np.uint8)) == 0
    sheen = above & off_hair & (lab[..., 0] > np.median(lab[..., 0][skin]) + 30)
    assert sheen.sum() > 500
    assert forehead[sheen].mean() > 0.95  # 0.35 before


@pytest.mark.parametrize(
    "enclosed, pale_rgb, skin_there",
    [
        (True, (222, 219, 216), True),  # a sheen washed out by a flash: 0.6 of the way to white, nearly neutral
        (False, (222, 219, 216), False),  # a cap's band of that colour running on past the forehead
        (True, (180, 176, 174), False),  # grey hair a little lighter than the skin (0.1 of the way): no sheen
    ],
)
def test_a_pale_patch_above_the_outline_is_skin_only_where_the_skin_and_hair_enclose_it(enclosed, pale_rgb, skin_there):
    # a washed-out sheen lies within the forehead's skin, under the hair; a pale cap or wall of the same colour lies
    # beyond the skin, and grey hair (Biden's temple) is barely lighter than the skin
    from engine.methods.classical.aging import _skin_beyond  # noqa: PLC0415

    size = 120
    skin_rgb = (200, 160, 135)
    image = np.zeros((size, size, 3), np.uint8)
    image[:] = skin_rgb
    hull = np.zeros((size, size), np.uint8)
    hull[70:, 10:110] = 1  # the face below its outline
    hair = np.zeros((size, size), bool)
    image[40:70, 40:80] = pale_rgb  # the patch just above the outline
    if enclosed:
        hair[:20] = True  # hair above the forehead's skin, which runs round the patch
        image[:20] = (60, 45, 35)
    else:
        image[:70, 40:80] = pale_rgb  # a cap's band running up past the forehead, out of the crop
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    inside = np.zeros((size, size), bool)
    inside[:70, 10:110] = True
    inside &= ~hair
    found = _skin_beyond(lab, hull, np.median(lab[hull > 0], axis=0), inside, 10.0, hair=hair) > 0
    patch = found[45:65, 45:75]
    assert patch.all() if skin_there else not patch.any()
    assert found[30:60, 15:35].all()  # the skin beside it either way
