"""Which turn makes a photo upright, from the turn its aligned crop needs and the alignment between them."""

from __future__ import annotations

import numpy as np
import pytest

from engine.faces.alignment import FFHQ_TEMPLATE_512, alignment_matrix
from engine.faces.detection import TURNS, photo_turn

pytestmark = pytest.mark.unit

WIDTH, HEIGHT = 640, 480  # the upright photo


def turned_points(points: np.ndarray, turns: int) -> np.ndarray:
    """Where `points` (x, y) of the upright photo lie once it is turned as np.rot90(photo, turns) turns it (anticlockwise
    on screen): each turn takes (x, y) of an image `width` wide to (y, width - 1 - x)."""
    width, height = WIDTH, HEIGHT
    for _ in range(turns % 4):
        points = np.stack([points[:, 1], width - 1 - points[:, 0]], axis=1)
        width, height = height, width
    return points


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_a_turned_photo_whose_five_points_are_right_gets_the_turn_back(turns):
    face = FFHQ_TEMPLATE_512 * 0.4 + [180.0, 120.0]  # an upright face's five points in the upright photo
    matrix = alignment_matrix(turned_points(face, turns), 512)  # the crop is upright: it needs no turn of its own
    assert photo_turn(0, matrix) == (4 - turns) % 4
    # had the crop needed a turn, the photo needs that one more
    assert photo_turn(2, matrix) == (6 - turns) % 4


def test_five_points_placed_level_on_a_turned_face_leave_the_crop_turned_as_the_photo_is():
    # YuNet's points on a face on its side lie level: the alignment turns nothing, so the crop's turn is the photo's
    level = alignment_matrix(FFHQ_TEMPLATE_512 * 0.4 + [180.0, 120.0], 512)
    assert [photo_turn(turns, level) for turns in range(4)] == [0, 1, 2, 3]


def test_a_small_tilt_in_the_alignment_goes_to_the_nearest_quarter_turn():
    face = FFHQ_TEMPLATE_512 * 0.4 + [180.0, 120.0]
    centre = face.mean(0)
    for degrees, expected in ((30.0, 0), (-40.0, 0), (60.0, 3), (-60.0, 1)):  # the face tilted anticlockwise on screen
        angle = np.radians(degrees)
        rotation = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
        assert photo_turn(0, alignment_matrix((face - centre) @ rotation.T + centre, 512)) == expected


def test_every_turn_a_photo_can_need_has_words_for_the_user():
    assert {turns for turns, _ in TURNS} == {1, 2, 3}
