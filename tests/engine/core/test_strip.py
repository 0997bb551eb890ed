"""The lifespan strip: labels sit in a band under the faces, never over them."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.media import strip

pytestmark = pytest.mark.unit


def test_labels_are_drawn_below_the_faces_and_every_face_pixel_is_kept():
    faces = [np.full((300, 300, 3), value, np.uint8) for value in (90, 200)]
    row = strip(faces, ["10 y", "70 y"], height=256)
    assert row.shape[1] == 512 and row.shape[0] > 256  # a caption band below the 256 px tiles
    np.testing.assert_array_equal(row[:256, :256], 90)  # the face tiles are untouched: no label box over a head
    np.testing.assert_array_equal(row[:256, 256:], 200)
    band = row[256:]
    assert (band > 200).any() and (band < 40).any()  # white text on a dark band
