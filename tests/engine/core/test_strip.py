"""The lifespan strip: labels sit in a band under the faces, never over them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from engine.core.media import BAND_GREY, GAP, MP4V_MAX_SIDE, strip, write_mp4

pytestmark = pytest.mark.unit


def test_labels_are_drawn_below_the_faces_and_every_face_pixel_is_kept():
    faces = [np.full((300, 300, 3), value, np.uint8) for value in (90, 200)]
    row = strip(faces, ["10 y", "70 y"], height=256)
    assert row.shape[1] == 512 + GAP and row.shape[0] > 256  # a caption band below the 256 px tiles, a gap between
    np.testing.assert_array_equal(row[:256, :256], 90)  # the face tiles are untouched: no label box over a head
    np.testing.assert_array_equal(row[:256, 256 + GAP :], 200)
    band = row[256:]
    assert (band > 200).any() and (band < 40).any()  # white text on a dark band


def test_a_narrow_tiles_label_fits_inside_it():
    # a very tall photo at its own framing: tiles about 70 px wide, whose labels ran into each other ("10305070")
    tall = [np.full((1200, 330, 3), 120, np.uint8) for _ in range(4)]
    row = strip(tall, ["10 y", "30 y", "50 y", "70 y"], height=256)
    width = (row.shape[1] - 3 * GAP) // 4
    assert 60 < width < 80
    for index in range(4):
        left = index * (width + GAP)
        caption = row[256:, left : left + width]
        lit = np.nonzero((caption > 128).any(axis=(0, 2)))[0]
        assert len(lit) and lit.min() >= 1 and lit.max() <= width - 2  # drawn, and inside its own tile
        np.testing.assert_array_equal(row[:, left + width : left + width + GAP] if index < 3 else row[:, :0], BAND_GREY)


def test_an_mp4_of_frames_wider_than_mpeg4_allows_is_written_shrunk_to_fit(tmp_path):
    # MPEG-4 Part 2 keeps a frame's sides in 13 bits: a wide photo's strip at its own framing (8000 x 306 px, a frame
    # 13,385 px wide) failed the whole request; its MP4 is now shrunk to 8191 px, its aspect kept
    frames = [Image.fromarray(np.full((300, 9000, 3), value, np.uint8)) for value in (40, 200)]
    path = write_mp4(frames, tmp_path / "wide.mp4")
    video = cv2.VideoCapture(str(path))
    width, height = int(video.get(cv2.CAP_PROP_FRAME_WIDTH)), int(video.get(cv2.CAP_PROP_FRAME_HEIGHT))
    ok, first = video.read()
    video.release()
    assert ok and width <= MP4V_MAX_SIDE and abs(width / height - 9000 / 300) < 0.5
    assert abs(float(first.mean()) - 40) < 3
