"""Each face's own part of a photo with several faces (engine/faces/territory.py)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.faces.detection import Face
from engine.faces.territory import (
    HEAD_RAISE,
    TERRITORY_FEATHER,
    kept_to_own,
    nearest_to,
    others_than,
    territory_in_crop,
)

pytestmark = pytest.mark.unit


def _face(x: float, y: float, width: float, height: float) -> Face:
    return Face((x, y, width, height), np.zeros((5, 2), np.float32), 0.9, False)


def test_two_faces_of_one_size_part_halfway_between_them_and_a_larger_face_reaches_further():
    left, right = _face(0, 100, 100, 100), _face(200, 100, 100, 100)
    xs = np.arange(0.0, 300.0)
    row = np.full_like(xs, 150 - HEAD_RAISE * 100)  # level with the heads' middles
    assert np.flatnonzero(~nearest_to(left, [right], xs, row))[0] == 150
    larger = _face(-50, 50, 200, 200)  # its middle at x 50, as the left face's; twice as wide
    assert np.flatnonzero(~nearest_to(larger, [right], xs, np.full_like(xs, 150 - HEAD_RAISE * 200)))[0] > 170
    assert nearest_to(left, [], xs, row).all()  # alone, the whole photo is its own


def test_the_top_of_a_head_is_its_own_face_s_not_its_larger_neighbour_s():
    # a larger face beside a smaller one: above the smaller face's box, level with the larger's middle, lies the smaller
    # one's cranium (from box centres, its hair there was taken for the larger face's)
    large, small = _face(0, 70, 190, 250), _face(190, 115, 165, 225)
    assert not nearest_to(large, [small], np.array([200.0, 195.0]), np.array([100.0, 130.0])).any()


def test_an_edit_is_undone_outside_its_face_s_part_and_kept_whole_inside_it():
    photo = np.full((100, 300, 3), 100, np.uint8)
    edited = photo.copy()
    edited[:, :200] = 180  # the left face's edit runs over into the right face's part
    left, right = _face(0, 40, 100, 40), _face(200, 40, 100, 40)
    kept = kept_to_own(photo, edited, left, [right])
    assert np.array_equal(kept[:, 151:], photo[:, 151:])  # the right face's part: as it was
    inner = int(150 - TERRITORY_FEATHER * 100) - 1
    assert np.array_equal(kept[:, :inner], edited[:, :inner])  # deep in its own part: the edit as it is
    ramp = kept[50, inner:151, 0].astype(int)
    assert (np.diff(ramp) <= 0).all() and ramp[0] > ramp[-1]  # faded out toward the border, no step
    assert kept_to_own(photo, edited, left, []) is edited


def test_the_crop_s_own_part_follows_the_alignment():
    left, right = _face(0, 40, 100, 40), _face(200, 40, 100, 40)
    shift = np.array([[1.0, 0.0, -100.0], [0.0, 1.0, 0.0]])  # the crop starts at the photo's x 100
    own = territory_in_crop(left, [right], shift, (10, 100))
    assert own is not None and own[:, :50].all() and not own[:, 50:].any()  # photo x 150 is crop x 50
    assert territory_in_crop(left, [], shift, (10, 100)) is None


def test_a_detection_over_or_inside_a_face_s_box_is_no_neighbour():
    # a second box around a face, or a false hit on its eye, nearer in its own box's measure, had taken most of the face's
    # own pixels and undone its edit
    face = _face(100, 100, 100, 120)
    around, on_the_eye, beside = _face(80, 70, 140, 170), _face(120, 130, 20, 15), _face(210, 100, 100, 120)
    touching = _face(180, 90, 110, 100)  # a head lying beside it, its box 20 px into the face's: another face
    assert others_than(face, [face, around, on_the_eye, beside, touching]) == (beside, touching)


def test_a_face_s_own_box_is_its_own_beside_a_much_larger_neighbour():
    small, large = _face(100, 100, 50, 50), _face(160, 0, 400, 400)  # not overlapping: a neighbour
    xs, ys = np.arange(100.0, 151.0)[None, :], np.arange(100.0, 151.0)[:, None]
    assert nearest_to(small, [large], xs, ys).all()
    assert not nearest_to(small, [large], np.array([[155.0]]), np.array([[150.0]])).any()  # past its box: the larger's
