"""An old face made younger by the classical renderer: grey hair given its colour back (on the shipped astronaut
portrait with her hair whitened, as Grace Hopper's hair is under her hat), and fine skin texture that falls toward
young skin's with the gap (on the shipped Grace Hopper portrait, 80)."""

from __future__ import annotations

import re
from typing import cast

import cv2
import numpy as np
import pytest

from engine.core.settings import Settings
from engine.faces.zones import CHIN, LEFT_BROW, LEFT_EYE, RIGHT_BROW, RIGHT_EYE, face_hull, inter_ocular
from engine.methods.classical import shape
from engine.methods.classical.aging import BROW_LAG_YEARS, neck_skin, regained_pigment
from engine.methods.classical.hair import grey_hair, repigment_hair
from engine.methods.classical.lifespan import age_face, hair_masks
from engine.methods.classical.youth import (
    CREASE_LOAD_AT_80,
    crease_amount,
    fine_energy,
    fine_texture_left,
    fold_bands,
    glasses_lenses,
    rejuvenate,
    young_neck,
    young_skin_mask,
)
from engine.methods.ldla.curves import scores_for_age
from engine.methods.ldla.pipeline import locate, skin_mask
from evaluation.packaged_faces import load
from tests.conftest import astronaut, grace_hopper, needs_packaged, packaged

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")


@pytest.fixture(scope="module")
def hopper():
    image = grace_hopper()
    located = locate(image, OFFLINE)
    masks = hair_masks(located, OFFLINE)
    faces = {target: age_face(image, located, masks, 80, target, 0, OFFLINE) for target in (10, 30, 50, 80)}
    return located, masks, faces


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)


def _packaged_face(name: str):
    """A packaged benchmark photo, its located face and its hair masks."""
    image = load(packaged(name))
    located = locate(image, OFFLINE)
    return image, located, hair_masks(located, OFFLINE)


def test_her_hat_is_not_taken_for_grey_hair_and_her_white_temple_hair_is_not_coloured_in_part(hopper):
    # her hair mask holds her cap's rim; its white band and badge are not in it (giving them colour drew brown smudges
    # on the cap, looked at). Its margin inside the face's outline holds the white hair at her right temple above the
    # frame's arm but none of her left temple's: colouring what it holds drew a brown patch over one temple with white
    # hair beside and below it (looked at, 10 and 30), so her hair is left as it is and the manifest says why
    located, masks, faces = hopper
    points, d = located.points, inter_ocular(located.points)
    hull = face_hull(points, masks.hair.shape) > 0
    ys, xs = np.mgrid[: masks.hair.shape[0], : masks.hair.shape[1]]
    brows_top = float(points[[*RIGHT_BROW, *LEFT_BROW], 1].min())
    columns = np.flatnonzero(hull.any(0))
    cap = (ys < brows_top - 0.6 * d) & (xs > columns.min()) & (xs < columns.max())
    for target in (30, 50):  # (a child's face at 10 is warped whole, the cap with it)
        # no smudge on the cap (brown on it was tens of levels off; the lifted face's warp moves a few levels at most)
        change = np.abs(faces[target].after[cap].astype(int) - located.crop[cap].astype(int)).max()
        assert change <= 8, f"the cap changed by {change} levels at {target}"
    for target in (10, 30, 50):
        assert (
            faces[target]
            .stages["hair"]
            .startswith(
                "unchanged: light hair that reads as grey lies beside the face's left side, and none of it is in the hair found"
            )
        ), faces[target].stages["hair"]
    # the white temple hair inside her face's outline that the margin holds (below the forehead's top, above the eyes)
    # stays white at 30 and 50: no brown patch on one temple; her cheeks keep their colour (a* b*)
    eyes = float(points[[*RIGHT_EYE, *LEFT_EYE], 1].mean())
    temple = (masks.hair > 0) & hull & (ys > brows_top - 0.15 * d) & (ys < eyes)
    assert temple.sum() > 0.02 * d * d, f"{temple.sum()} px of her temple hair inside the face's outline are in the mask"
    source = _lab(located.crop)
    assert source[temple][:, 0].mean() > 100, "the mask inside her outline is not her white hair"
    cheeks = (
        hull & (ys > eyes + 0.5 * d) & (ys < eyes + 0.9 * d) & (np.abs(xs - points[[*RIGHT_EYE, *LEFT_EYE], 0].mean()) > 0.5 * d)
    )
    for target in (30, 50):
        young = _lab(faces[target].after)
        darker = source[temple][:, 0].mean() - young[temple][:, 0].mean()
        assert darker < 3, f"her white temple hair is {darker:.0f} levels darker at {target}"
        assert np.abs(np.median(young[cheeks][:, 1:], 0) - np.median(source[cheeks][:, 1:], 0)).max() < 3
    assert np.array_equal(faces[80].after[masks.hair > 0], located.crop[masks.hair > 0])


@pytest.fixture(scope="module")
def white_haired_astronaut():
    # the shipped astronaut's blond hair whitened strand by strand (the renderer's own greying at 100 %): an
    # 80-year-old's white hair on a shipped portrait
    image = astronaut()
    located = locate(image, OFFLINE)
    masks = hair_masks(located, OFFLINE)
    crop = located.crop
    white = grey_hair(crop, masks.hair, 1.0, np.random.default_rng(0), 0.5, located.points, crop)
    return located, masks, white


def test_white_hair_running_on_past_the_mask_is_left_as_it_is(white_haired_astronaut):
    # white hair that goes on over the forehead, inside the face's outline the hair mask leaves out (as on a
    # receding white-haired man's portrait): colouring only the masked part drew a dark band around white hair
    located, masks, white = white_haired_astronaut
    d = inter_ocular(located.points)
    hull = face_hull(located.points, white.shape[:2]) > 0
    size = int(round(0.15 * d)) | 1
    beside = cv2.dilate((masks.hair > 0).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))) > 0
    over = hull & (masks.hair == 0) & beside  # a band of white hair just inside the face's outline
    assert over.sum() > 0.05 * d * d
    covered = white.copy()
    covered[over] = white[masks.hair > 0].reshape(-1, 3).mean(0).astype(np.uint8)  # the white hair's own colour
    out, used, done = repigment_hair(
        covered, masks.hair, regained_pigment(80, 30), np.random.default_rng([0, 2]), "#5f4632", 0.5, located.points, covered
    )
    assert not done and "runs on past the hair found" in used and np.array_equal(out, covered)
    # the same hair without the white over the forehead is given its colour back (the check is not a blanket refusal)
    assert repigment_hair(white, masks.hair, 0.5, np.random.default_rng([0, 2]), "#5f4632", 0.5, located.points, white)[2]


def _hair(rgb: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    lab = _lab(rgb)[mask > 0]
    return float(lab[:, 0].mean()), float(np.hypot(lab[:, 1] - 128, lab[:, 2] - 128).mean())


def test_white_hair_regains_colour_at_30_and_is_unchanged_at_80(white_haired_astronaut):
    located, masks, white = white_haired_astronaut
    rng = np.random.default_rng([0, 2])
    at_30, used, done = repigment_hair(white, masks.hair, regained_pigment(80, 30), rng, "#5f4632", 0.5, located.points, white)
    assert done and "a default pigment, #5f4632" in used and "guess" in used  # no pigmented strands left: the default, named
    light, chroma = _hair(white, masks.hair)
    light_30, chroma_30 = _hair(at_30, masks.hair)
    assert light_30 < light - 40 and chroma_30 > chroma + 1  # darker and more coloured: pigmented again

    # the strands keep their lightness detail: not a flat helmet of one colour
    def detail(rgb):
        lightness = _lab(rgb)[..., 0]
        return (lightness - cv2.GaussianBlur(lightness, (0, 0), 2.0))[masks.hair > 0].std()

    assert detail(at_30) > 0.5 * detail(white)
    at_80, _, done_80 = repigment_hair(white, masks.hair, regained_pigment(80, 80), rng, "#5f4632", 0.5, located.points, white)
    assert not done_80 and np.array_equal(at_80, white)  # at the source's own age: as it is


def test_the_fine_skin_texture_falls_with_the_gap(hopper):
    # the younger-skin stage itself (the later shape warps move the skin, and a child's shrinks the lower face)
    located, masks, faces = hopper
    d = inter_ocular(located.points)
    skin = skin_mask(located)
    young = young_skin_mask(skin, masks.hair, masks.brows, located.points)
    lenses = glasses_lenses(located.crop, skin, located.points)
    source = fine_energy(_lab(located.crop), young, d)
    assert source is not None
    energies = []
    for target in (50, 30, 10):
        creases = crease_amount(scores_for_age(80), scores_for_age(target))
        left = fine_texture_left(source, target, creases)
        energies.append(fine_energy(_lab(rejuvenate(located.crop, young, located.points, creases, lenses, left)), young, d))
    assert all(energy is not None for energy in energies)
    found = cast(list[float], energies)  # none is None: asserted above
    assert source > found[0] > found[1] > found[2]  # less fine texture the younger the target
    assert found[2] < 0.7 * source  # her crepey texture toward young skin's, beyond the old fixed 70 %
    assert found[2] > 0.35 * source  # pores kept: not plastic
    assert "fine texture kept at" in faces[10].stages["skin"]


def test_white_eyebrow_hairs_regain_colour_and_the_skin_between_them_stays(white_haired_astronaut):
    located, masks, _ = white_haired_astronaut
    crop = located.crop
    white = grey_hair(crop, masks.brows, 1.0, np.random.default_rng(0), 0.0, structure=crop, shading=False)
    rng = np.random.default_rng([0, 3])
    share = regained_pigment(80, 30, lag=BROW_LAG_YEARS)
    young, _, done = repigment_hair(white, masks.brows, share, rng, "#5f4632", 0.0, located.points, white, brows=True)
    assert done
    whitened = np.abs(white.astype(int) - crop.astype(int)).max(-1) > 10  # the brow hairs the greying whitened
    before, after = _lab(white)[..., 0], _lab(young)[..., 0]
    assert after[whitened].mean() < before[whitened].mean() - 20  # darker again
    skin = (masks.brows > 0) & ~cv2.dilate(whitened.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert np.abs(young[skin].astype(int) - white[skin].astype(int)).mean() < 3  # the skin between hairs barely moves


def test_her_neck_loses_its_crepe_with_her_face_and_keeps_the_shadow_under_her_jaw(hopper):
    # the younger-skin stage itself at 10 (the later child warp raises her chin over the neck); her neck below the
    # jaw had kept all its creases, so a young face sat on an 80-year-old's neck, and the mottled shadow where the
    # smoothing stopped read as a beard
    located, masks, faces = hopper
    points = located.points
    d = inter_ocular(points)
    skin = skin_mask(located)
    young = young_skin_mask(skin, masks.hair, masks.brows, points)
    lenses = glasses_lenses(located.crop, skin, points)
    found = neck_skin(located.crop, points, skin)
    neck = young_neck(found, points)
    assert np.all(neck[found > 0] > 0) and neck.sum() > 0.1 * (skin > 0).sum()  # her neck is found ...
    chin = np.round(points[CHIN, :2] + [0, 0.1 * d]).astype(int)
    assert found[chin[1], chin[0]] == 0 and neck[chin[1], chin[0]] > 0  # ... with the dark shadow under her chin
    assert not young_neck(np.zeros_like(found), points).any()  # no neck found (a black-and-white photo): none
    creases = crease_amount(scores_for_age(80), scores_for_age(10))
    left = fine_texture_left(fine_energy(_lab(located.crop), young, d), 10, creases)
    bands = fold_bands(shape.descent_share(80) - shape.descent_share(10), CREASE_LOAD_AT_80)
    done = rejuvenate(located.crop, young, points, creases, lenses, left, bands, neck)
    inner = (cv2.erode(neck, np.ones((5, 5), np.uint8)) > 0).astype(np.float32)
    none = np.zeros(neck.shape, np.float32)
    before, after = (fine_energy(_lab(face), inner, d, none) for face in (located.crop, done))
    assert before is not None and after is not None
    assert after < 0.5 * before  # her neck's fine band (crepe, the creases' edges) at most half the source's
    # its broad shading kept: the mean lightness within a quarter of d under her jaw moves by under 5 levels (2 CIELAB
    # L* units: the crease under the chin is filled, the shadow stays); the face's own bands carried onto the neck
    # lift it by about 10, a pale band under the chin
    below = cv2.distanceTransform((face_hull(points[:, :2], neck.shape) == 0).astype(np.uint8), cv2.DIST_L2, 5)
    under = (inner > 0) & (below < 0.25 * d)
    assert abs(_lab(done)[..., 0][under].mean() - _lab(located.crop)[..., 0][under].mean()) < 5.0
    # at 30 (no child warp) the whole renderer's neck is as smooth, and the manifest says what was done to it
    at_30 = fine_energy(_lab(faces[30].after), inner, d, none)
    assert at_30 is not None
    assert at_30 < 0.5 * before
    assert "the neck's creases and crepe taken out as the face's" in faces[10].stages["skin"]


def test_the_neck_a_childs_warp_raises_from_under_the_crop_is_as_smooth_as_the_neck_in_it(hopper):
    # at 10 the child warp raises her chin and pulls the photo's rows under the crop up into it: they came as the photo
    # holds them, so an 80-year-old's crepe rose under a child's chin (a seam where the crop's smoothed neck met them)
    located, _, faces = hopper
    points = located.points
    d = inter_ocular(points)
    skin = skin_mask(located)
    none = np.zeros(skin.shape, np.float32)
    source = (cv2.erode(young_neck(neck_skin(located.crop, points, skin), points), np.ones((5, 5), np.uint8)) > 0).astype(
        np.float32
    )
    before = fine_energy(_lab(located.crop), source, d, none)

    def lowest_neck(face: np.ndarray) -> float | None:  # the neck's skin in the crop's last 0.3 d of rows
        neck = neck_skin(face, points, skin)
        neck[: int(len(neck) - 0.3 * d)] = 0
        return fine_energy(_lab(face), (cv2.erode(neck, np.ones((5, 5), np.uint8)) > 0).astype(np.float32), d, none)

    at_10, at_30 = lowest_neck(faces[10].after), lowest_neck(faces[30].after)
    assert before is not None and at_10 is not None and at_30 is not None
    # 0.18 and 0.82 (the rows as the photo holds them: 0.41 and 1.9)
    assert at_10 < 0.3 * before and at_10 < 1.25 * at_30


@needs_packaged("obama2")
def test_a_greying_temple_lit_warm_turns_dark_again_with_his_own_pigment():
    # Obama's 2009 portrait: his right temple is salt and pepper, C*ab about 15 beside skin of 34 (the absolute
    # chroma test took it for pigment, and his hair was left as it was at every younger target)
    image, located, masks = _packaged_face("obama2")
    hair = masks.hair > 0
    lightness = _lab(located.crop)[..., 0]
    grey = hair & (lightness > np.percentile(lightness[hair], 90))  # the lightest tenth of his hair: the grey temple
    faces = {target: age_face(image, located, masks, 51, target, 0, OFFLINE) for target in (30, 51)}
    assert "the person's own pigment" in faces[30].stages["hair"]  # his own dark hair's, named
    young = _lab(faces[30].after)[..., 0]
    assert float(np.median(young[grey])) < float(np.median(lightness[grey])) - 25  # the grey temple is dark again
    assert faces[51].stages["hair"] == "unchanged"  # at his own age: as it is


@needs_packaged("obama2")
def test_a_greying_temple_regains_the_colour_of_his_hair_not_a_lighter_browner_patch():
    # the pigmented strands among his temple's grey ones are thin hair over skin: L* 27, C*ab 15.6 against his hair's
    # L* 19, 6.4. Given back as they were, the regained temple at 30 was 9.4 L* lighter and 7.1 C*ab more chromatic
    # than his hair left as it is: a brown patch beside his near-black hair (looked at 3x); now 4.7 and 1.4
    image, located, masks = _packaged_face("obama2")
    hair = masks.hair > 0
    before = _lab(located.crop)
    face = age_face(image, located, masks, 47, 30, 0, OFFLINE)
    assert "held to the hair's as a whole" in face.stages["hair"]
    after = _lab(face.after)
    regained = hair & (np.abs(after[..., 0] - before[..., 0]) > 8)  # what the hair stage gave colour back
    dark = hair & (np.abs(after - before).max(-1) == 0) & (before[..., 0] < 90)  # his pigmented hair, left as it is

    def lightness_and_chroma(pixels: np.ndarray) -> tuple[float, float]:
        median = np.median(pixels, axis=0)
        return float(median[0]) * 100 / 255, float(np.hypot(median[1] - 128, median[2] - 128))

    (regained_l, regained_c), (hair_l, hair_c) = lightness_and_chroma(after[regained]), lightness_and_chroma(before[dark])
    assert regained.sum() > 1000
    assert regained_l - hair_l < 7 and regained_c - hair_c < 4.5, (regained_l, regained_c, hair_l, hair_c)


@needs_packaged("obama")
def test_a_small_photos_grey_hair_turns_his_own_colour_not_a_default_brown():
    # Obama's 2012 portrait shrunk to 0.3 (his face 73 px wide, 3.9 crop pixels a photo pixel): his grey and dark strands
    # blur into patches, and in a neighbourhood of crop pixels no dark strand was among grey ones: no pigment was
    # measured and his hair at 10 came out the default brown (C*ab 11) around a patch of his own near-black
    image = load(packaged("obama"))
    chroma = {}
    for share in (1.0, 0.3):
        photo = image if share == 1 else cv2.resize(image, None, fx=share, fy=share, interpolation=cv2.INTER_AREA)
        located = locate(photo, OFFLINE)
        masks = hair_masks(located, OFFLINE)
        lab = _lab(located.crop)
        grey = (masks.hair > 0) & (lab[..., 0] > np.percentile(lab[..., 0][masks.hair > 0], 75))  # his lightest, greyest
        face = age_face(photo, located, masks, 50, 10, 0, OFFLINE)
        assert "the person's own pigment" in face.stages["hair"]
        young = _lab(face.after)
        chroma[share] = float(np.median(np.hypot(young[..., 1] - 128, young[..., 2] - 128)[grey]))
    assert chroma[0.3] < 6 and abs(chroma[0.3] - chroma[1.0]) < 2  # his own near-neutral black, as at full size


@needs_packaged("biden")
def test_thin_white_hair_the_margin_cannot_take_keeps_bidens_hair_as_it_is():
    # the margin takes in his white temple hair inside the face's outline, but not the thin white hair over his
    # temples' skin (its colour reads as skin): colouring the rest drew a flat brown cap with a white band between it
    # and his skin (looked at, 30), so the hair is left as it is and the manifest says why
    image, located, masks = _packaged_face("biden")
    face = age_face(image, located, masks, 70, 30, 0, OFFLINE)
    assert "runs on past the hair found, over the skin" in face.stages["hair"]
    # his white brows too, and the eyebrows' stage says it of the brows, not of the hair mask
    assert "grey brow hairs run on past the brows' outline" in face.stages["eyebrows"]


@needs_packaged("obama")
def test_the_whites_of_the_eyes_are_found_on_the_photo_not_on_the_lit_younger_skin():
    # the whites are what is lighter than the skin around the eye by SCLERA_LIGHTER; read after the younger skin had lit
    # that skin, Obama's 2012 right eye (whites in the brows' shade, 0.0028 d^2 of them in view) was left as it was at
    # 10, "too little in view", though the same eye's whites dull toward 80
    image, located, masks = _packaged_face("obama")
    younger = age_face(image, located, masks, 47, 10, 0, OFFLINE).stages["contrast"]
    assert re.search(r"the whites of the eyes L\* \+\d\.\d, a\* -\d\.\d, b\* -\d\.\d \(the right eye only\)", younger), younger


@needs_packaged("obama")
def test_the_creases_edges_go_with_the_creases_when_little_descent_is_taken_back():
    # Obama's 2012 portrait run as source 35 (the estimator's reading) made 10: every crease goes, but only 5 % of the
    # soft-tissue descent to 80 is taken back. With the creases' edges and ridges following the descent alone, his lower
    # lids' fine lines stayed as a net of light lines: their relief left at 0.36 of the source's (looked at, 1.6x)
    image, located, masks = _packaged_face("obama")
    face = age_face(image, located, masks, 35, 10, 0, OFFLINE)
    d = inter_ocular(located.points)
    under_eye = located.feathered_mask("under_eye_left", 0.05 * d) > 0.9

    def relief(rgb: np.ndarray) -> float:
        lightness = _lab(rgb)[..., 0]
        return float((lightness - cv2.GaussianBlur(lightness, (0, 0), 0.05 * d))[under_eye].std())

    assert relief(face.after) < 0.31 * relief(located.crop)  # 0.26 of the source's
    assert "100% of the creases removed" in face.stages["folds"] and "(in step with the creases removed)" in face.stages["folds"]


def test_fuller_lips_move_the_lower_lips_edge_as_one_smooth_curve_not_scalloped_at_each_landmark(hopper):
    """Toward 10 her thin lower lip is made fuller: the skin under it goes down with its border, as a smooth curve (with
    the skin's landmarks pinned, the edge bulged at each border point: a jagged, cut-out patch under her lip)."""
    located, _, _ = hopper
    points = located.points[:, :2].astype(np.float64)
    d = inter_ocular(points)
    descent = shape.descent_between(80, 10)
    assert descent.lips < 0  # fuller
    offsets = shape.descent_offsets(located.crop.shape[:2], points, shape.Descent(0.0, descent.lips))  # age_shape's map
    edge = points[shape.OUTER_LOWER_LIP]
    edge = edge[np.argsort(edge[:, 0])]  # along the lower lip, left to right in the image, corners left out
    xs = np.arange(int(edge[0, 0]) + 1, int(edge[-1, 0]))
    ys = np.interp(xs, edge[:, 0], edge[:, 1]) + 0.04 * d  # just under the lip's border
    drop = -offsets[np.round(ys).astype(int), xs, 1]  # how far down what is drawn there comes from
    assert drop.mean() > 0.02 * d  # the skin under the lip goes down with it
    curve = np.polyval(np.polyfit(xs, drop, 2), xs)
    assert np.sqrt(np.mean((drop - curve) ** 2)) < 0.45  # px: under half a pixel off one smooth curve (scalloped: 0.9)


def test_her_deep_nasolabial_creases_are_taken_out_at_10_and_30_not_kept_as_dark_lines(hopper):
    """Her nasolabial creases are darker than half the skin around them: outside the folds' zones the younger skin keeps
    such dark lines as features (a lash, a nostril); there they went on as two sharp dark lines at 10 and 30."""
    located, _, faces = hopper
    points = located.points[:, :2].astype(np.float64)
    d = inter_ocular(points)
    band = np.zeros(located.crop.shape[:2], np.uint8)
    for name, (line, _) in shape.crease_lines(points).items():
        if name.startswith("nasolabial"):
            cv2.polylines(band, [np.round(line).astype(np.int32)], False, 1, int(round(0.2 * d)))

    def darkest(face: np.ndarray) -> float:  # the darkest hundredth of the band, as a share of the skin around it
        lightness = _lab(face)[..., 0]
        around = cv2.GaussianBlur(lightness, (0, 0), 0.1 * d)
        return float(np.percentile((lightness / np.maximum(around, 1.0))[band > 0], 1))

    assert darkest(located.crop) < 0.4  # her creases, as the photo shows them
    assert darkest(faces[10].after) > 0.75 and darkest(faces[30].after) > 0.6
