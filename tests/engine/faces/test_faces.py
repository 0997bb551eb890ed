"""Face detection, alignment, paste-back and dense landmarks on real portraits."""

from __future__ import annotations

import re
from typing import cast

import cv2
import numpy as np
import pytest
from PIL import Image

from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.faces.alignment import (
    FFHQ_TEMPLATE_512,
    align_face,
    change_at_photo_resolution,
    faces_or_why_not,
    feather_mask,
    paste_back,
)
from engine.faces.detection import NO_FACE, NoFaceError, choose_face
from engine.faces.landmarks import dense_landmarks
from engine.tasks.estimate import estimate_ages
from evaluation.packaged_faces import load
from tests.conftest import astronaut, grace_hopper, needs_packaged, packaged, small_portrait

pytestmark = pytest.mark.pipelines

SETTINGS = Settings(profile="offline")


def test_small_tight_portrait_is_found_by_padding_and_upscaling():
    image = small_portrait()
    assert image.shape[:2] == (78, 77)
    found = get_cache(SETTINGS).get("face_detector").detect(image)
    assert len(found) == 1
    x, y, w, h = found[0].box
    assert w > 50 and h > 50  # the face fills the crop
    assert 15 <= estimate_ages(image, 0.9, SETTINGS).faces[0].age <= 60


def test_alignment_puts_the_five_points_on_the_ffhq_template():
    image = astronaut()
    face = get_cache(SETTINGS).get("face_detector").detect(image)[0]
    aligned = align_face(image, face, 512)
    moved = face.landmarks @ aligned.matrix[:, :2].T + aligned.matrix[:, 2]
    assert aligned.crop.shape == (512, 512, 3)
    assert np.abs(moved - FFHQ_TEMPLATE_512).max() < 12  # a similarity fit of 5 points, not exact


def test_paste_back_leaves_pixels_outside_the_mask_unchanged():
    image = astronaut()
    face = get_cache(SETTINGS).get("face_detector").detect(image)[0]
    aligned = align_face(image, face, 512)
    edited = 255 - aligned.crop  # an edit nobody could miss
    result = paste_back(image, edited, aligned.matrix)
    inverse = cv2.invertAffineTransform(aligned.matrix)
    weight = cv2.warpAffine(feather_mask(512), inverse, image.shape[1::-1])
    outside = weight == 0
    assert outside.mean() > 0.5
    assert np.array_equal(result[outside], image[outside])
    x0, y0, x1, y1 = map(int, face.box_xyxy())
    centre = result[(y0 + y1) // 2, (x0 + x1) // 2].astype(int)
    assert np.abs(centre - (255 - image[(y0 + y1) // 2, (x0 + x1) // 2].astype(int))).max() <= 3


def test_dense_landmarks_cover_the_face():
    image = astronaut()
    cache = get_cache(SETTINGS)
    face = cache.get("face_detector").detect(image)[0]
    points = dense_landmarks(cache.get("face_mesh"), image, face)
    assert points.shape == (478, 2)
    x, y, w, h = face.box
    inside = (
        (points[:, 0] > x - 0.2 * w) & (points[:, 0] < x + 1.2 * w) & (points[:, 1] > y - 0.3 * h) & (points[:, 1] < y + 1.2 * h)
    )
    assert inside.mean() > 0.95


def test_choose_face_warns_when_several():
    image = np.concatenate([astronaut(), np.array(Image.fromarray(grace_hopper()).resize((400, 512)))], axis=1)
    found = get_cache(SETTINGS).get("face_detector").detect(image)
    face, warnings = choose_face(found)
    assert face is found[0] and warnings == ["2 faces found; using the largest (face 0)."]
    with pytest.raises(ValueError, match="face index 5: the photo has 2 faces, 0 to 1"):
        choose_face(found, 5)
    with pytest.raises(ValueError, match=r"face index 1: the photo has one face, 0 \(numbered as the Age estimation tab"):
        choose_face(found[:1], 1)


def test_a_small_face_beside_a_large_one_is_found():
    # a group photo: a face about 250 px wide and one about 45 px wide; the smaller detection size finds only the large
    # face, the larger one finds both (stopping at the first size that found a face lost the small one)
    canvas = np.full((900, 1400, 3), 200, np.uint8)
    canvas[100:612, 50:562] = np.array(Image.fromarray(astronaut()).resize((512, 512)))
    canvas[400:550, 1000:1128] = np.array(Image.fromarray(grace_hopper()).resize((128, 150), Image.Resampling.LANCZOS))
    found = get_cache(SETTINGS).get("face_detector").detect(canvas)
    assert len(found) == 2
    large, little = found
    assert large.box[0] < 562 < 1000 <= little.box[0] + little.box[2] / 2 <= 1128
    assert little.box[2] < 60 < large.box[2]


def test_a_small_face_in_a_large_photo_is_found():
    # a face about 46 px wide in a 2048 px photo: about 10 px at the detector's 640 px view of it (padded), under what
    # YuNet finds; the last-resort size finds it, so the message's "at least 40 px wide" holds for the working size
    canvas = np.full((2048, 2048, 3), 200, np.uint8)
    canvas[900:1156, 900:1156] = np.array(Image.fromarray(astronaut()).resize((256, 256), Image.Resampling.LANCZOS))
    found = get_cache(SETTINGS).get("face_detector").detect(canvas)
    assert len(found) == 1 and 35 < found[0].box[2] < 60 and 900 < found[0].box[0] < 1156


@pytest.mark.parametrize("turns, how", [(1, "90 degrees clockwise"), (3, "90 degrees anticlockwise")])
def test_a_photo_on_its_side_is_told_which_way_to_turn(turns, how):
    # Grace Hopper's portrait saved lying on its side: YuNet finds no face; turned the wrong way it shows her upside down
    lying = np.ascontiguousarray(np.rot90(grace_hopper(), turns))
    detector = get_cache(SETTINGS).get("face_detector")
    assert detector.detect(lying) == []
    with pytest.raises(NoFaceError, match=f"one is found with the photo turned {how}: turn the photo upright"):
        faces_or_why_not(detector, lying)
    with pytest.raises(NoFaceError, match=f"turned {how}"):
        estimate_ages(lying, 0.9, SETTINGS)


def test_an_upright_photo_whose_face_is_missed_is_not_told_to_turn():
    # the astronaut's portrait overexposed three times: YuNet misses her face upright (its score falls under the
    # threshold) and finds one turned clockwise at 0.82, upside down in that view. Turning the photo is wrong advice
    overexposed = np.clip(astronaut().astype(np.int32) * 3, 0, 255).astype(np.uint8)
    detector = get_cache(SETTINGS).get("face_detector")
    assert detector.detect(overexposed) == []
    assert detector.detect(np.ascontiguousarray(np.rot90(overexposed, 3)))  # what the old check took for her face
    with pytest.raises(NoFaceError) as refused:
        faces_or_why_not(detector, overexposed)
    assert str(refused.value) == NO_FACE


def _tiny_astronaut() -> np.ndarray:
    return np.array(Image.fromarray(astronaut()).resize((48, 48), Image.Resampling.LANCZOS))


def _coffee() -> np.ndarray:
    from skimage import data  # noqa: PLC0415 - only this test needs it

    return data.coffee()


@pytest.mark.parametrize(
    "photo, message",
    [
        # YuNet finds the face, 8x10 px: too small for FaceMesh
        (
            _tiny_astronaut,
            "The face found is 8x10 px, too small for dense landmarks: use a photo where the face is at least 40 px wide.",
        ),
        # the photo cut through the face: what YuNet finds is the part inside it, 36 px wide, and that is not "too small"
        (
            lambda: np.ascontiguousarray(astronaut()[:, :200]),
            "The face found (box 174, 67, 210, 144 px) runs past the photo's edge: only part of it is in the photo, too "
            "little for dense landmarks. Use a photo with the whole face in it, at least 40 px wide.",
        ),
        # cut a little wider, FaceMesh places its points, but the detector scores the part in the photo higher turned
        # over than upright: that is no upside-down face
        (
            lambda: np.ascontiguousarray(astronaut()[:, :215]),
            "The face found (box 178, 70, 227, 153 px) runs past the photo's edge, and the detector cannot tell which way "
            "up the part in the photo is (surer of it turned 180 degrees (score 0.70, against 0.00 as it is)). Use a photo "
            "with the whole face in it.",
        ),
        # YuNet finds the face lying on its side (its five points level all the same); FaceMesh finds it turned back
        (
            lambda: np.ascontiguousarray(np.rot90(astronaut())),
            "The face found (box 94, 245, 170, 329 px) is not upright: FaceMesh finds it only with the photo turned "
            "90 degrees clockwise. Turn the photo upright and try again.",
        ),
        # turned the other way, FaceMesh finds the face on its side: its eyes one above the other
        (
            lambda: np.ascontiguousarray(np.rot90(astronaut(), 3)),
            "The face found (box 351, 170, 439, 270 px) is not upright: its eyes' line is 89 degrees from level. "
            "Turn the photo upright and try again.",
        ),
        # upside down, YuNet's points and FaceMesh's mesh are both placed on it as on an upright face: the detector's
        # score tells it (it is surer of the face turned back)
        (
            lambda: np.ascontiguousarray(astronaut()[::-1, ::-1]),
            "The face found (box 240, 343, 333, 453 px) looks upside down: the detector is surer of it with the photo "
            "turned 180 degrees (score 0.94, against 0.65 as it is). Turn the photo upright and try again.",
        ),
        # upside down, where FaceMesh finds no face as it is, but finds one lying on its side in the crop turned a quarter
        # turn either way before it finds it upright turned 180 degrees: that face lying on its side is no answer
        # (the photo turned 90 degrees, as the message had said, left the face on its side)
        pytest.param(
            lambda: np.ascontiguousarray(load(packaged("obama2"))[::-1, ::-1]),
            "The face found (box 134, 568, 436, 966 px) looks upside down: FaceMesh finds it only with the photo turned 180 "
            "degrees. Turn the photo upright and try again.",
            marks=needs_packaged("obama2"),
        ),
        # a false hit of YuNet on a cup of coffee: nothing more to say than where it was
        (
            _coffee,
            "FaceMesh found no face for dense landmarks where the detector found one (box 136, 92, 411, 348 px, "
            "detector score 0.68). Try a frontal, well-lit photo.",
        ),
    ],
)
def test_a_face_without_landmarks_is_told_what_is_wrong_with_it(photo, message):
    from engine.faces.detection import NoFaceError  # noqa: PLC0415 - only this test needs it
    from engine.methods.ldla.pipeline import locate  # noqa: PLC0415 - the classical renderer's face

    with pytest.raises(NoFaceError) as caught:
        locate(photo(), SETTINGS)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "cut, advice",
    [(True, "): it runs past the photo's edge. Use a photo with the whole face in it."), (False, "). Try a frontal")],
)
def test_a_face_facemesh_misses_is_told_whether_the_photo_cuts_it(cut, advice):
    # a face wide enough for landmarks that FaceMesh misses: cut by the photo's edge, the advice is the whole face
    from engine.faces.detection import Face  # noqa: PLC0415 - only this test needs it
    from engine.faces.landmarks import FaceMesh, face_landmarks  # noqa: PLC0415 - only this test needs it

    class Blind:
        def landmarks(self, rgb):
            raise NoFaceError("no face")

    face = Face((-20.0, 40.0, 90.0, 110.0), np.zeros((5, 2), np.float32), 0.8, cut)
    with pytest.raises(NoFaceError, match=re.escape(f"detector score 0.80{advice}")):
        face_landmarks(cast(FaceMesh, Blind()), np.zeros((512, 512, 3), np.uint8), face)


def test_an_upside_down_face_is_refused_for_the_diffusion_renderer_too():
    from engine.faces.detection import NoFaceError  # noqa: PLC0415 - only this test needs it
    from engine.tasks.renderers import find_face  # noqa: PLC0415 - the face as each renderer needs it

    upright = find_face(astronaut(), "diffusion", None, SETTINGS)  # the detector alone: no diffusion model is loaded
    assert upright.located is None and upright.face.score > 0.9
    with pytest.raises(NoFaceError, match="looks upside down"):
        find_face(np.ascontiguousarray(astronaut()[::-1, ::-1]), "diffusion", None, SETTINGS)


def test_a_change_is_kept_as_the_photo_resolves_it():
    before = np.full((64, 64, 3), 120, np.uint8)
    after = before.copy()
    after[16:48, 16:48] += 20  # a broad change: kept
    after[20:44:2, 20:44] += 30  # lines a crop pixel apart: finer than a photo pixel at 3 crop pixels a photo pixel
    low = change_at_photo_resolution(before, after, 3.0).astype(np.float32)
    inner = low[22:42, 22:42, 0]
    assert abs(float(inner.mean()) - (120 + 20 + 15)) < 1.5  # the lines' mean is kept, their stripes are gone
    assert float(inner.std()) < 2.0 < float(after[22:42, 22:42, 0].std())
    assert (low[:8] == 120).all() and (low[:, :8] == 120).all()  # unchanged pixels stay exactly as they were
    assert change_at_photo_resolution(before, after, 1.0) is after  # a face the crop does not upsample: as drawn


def test_a_pixel_whose_changes_summed_to_nothing_takes_the_change_around_it():
    # a darkened patch whose noise left one pixel at its old value: kept as it was, that pixel stood out as a light speck
    # 5-7 levels above the low-passed patch (the camera operator's cheek at 80)
    before = np.full((64, 64, 3), 150, np.uint8)
    after = before.copy()
    after[16:48, 16:48] -= 6
    holes = [(31, 31), (40, 20), (40, 21), (40, 22), (22, 40), (22, 41), (23, 40), (23, 41)]  # one pixel, 1 x 3, 2 x 2
    for row, column in holes:
        after[row, column] = 150  # its net change: none
    after[8:26, 44] = 150  # a strand of hair reaching into the change, left alone by it
    low = change_at_photo_resolution(before, after, 3.0).astype(np.float32)
    for row, column in holes:
        assert abs(float(low[row, column, 0]) - float(np.median(low[row - 3 : row + 4, column - 3 : column + 4, 0]))) <= 1
    assert (low[:8] == 150).all()  # what nothing changed around stays exactly as it was
    assert (low[8:26, 44] == 150).all()  # the strand to its tip


def test_a_face_whose_five_points_fit_no_alignment_is_refused_by_its_box():
    # a refusal (FaceRefusal), so that a group photo names the face by its box without advice meant for a single face
    from engine.faces.detection import Face, FaceRefusal  # noqa: PLC0415 - only this test needs them

    flat = Face((10.0, 20.0, 40.0, 50.0), np.full((5, 2), 30.0, np.float32), 0.7, False)
    with pytest.raises(FaceRefusal) as refused:
        align_face(astronaut(), flat)
    assert (
        refused.value.finding
        == "The face found (box 10, 20, 50, 70 px) has degenerate landmarks: its five points fit no alignment."
    )


@pytest.mark.parametrize("turns", [1, 3])
def test_a_face_found_in_the_photo_turned_is_put_back_where_it_lies(turns):
    from engine.faces.alignment import turned_back  # noqa: PLC0415 - only this test needs it

    upright = np.ascontiguousarray(astronaut()[:, :400])  # not square: height and width are not mixed up
    lying = np.ascontiguousarray(np.rot90(upright, 4 - turns))  # the photo turned `turns` times is upright
    face = get_cache(SETTINGS).get("face_detector").detect(upright)[0]
    back = turned_back(face, turns, lying.shape[:2])
    # where the face lies: the upright photo's pixels turned back, as np.rot90 moves them
    corners = np.zeros(upright.shape[:2], np.uint8)
    x0, y0, x1, y1 = (int(round(v)) for v in face.box_xyxy())
    corners[y0:y1, x0:x1] = 1
    rows, cols = np.nonzero(np.rot90(corners, 4 - turns))
    assert np.allclose(back.box_xyxy(), [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], atol=1.5)
