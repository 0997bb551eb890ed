"""Training data the trainer tests share: labelled faces and zone crops cut from public-domain photos."""

from __future__ import annotations

import cv2
import pytest
from PIL import Image

from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.faces.alignment import align_face
from engine.methods.ldla.pipeline import crop_box as _crop
from engine.methods.ldla.pipeline import locate
from tests.conftest import astronaut, grace_hopper

OFFLINE = Settings(profile="offline")


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faces")
    detector = get_cache(OFFLINE).get("face_detector")
    for index, (image, age, gender) in enumerate([(astronaut(), 42, "female"), (grace_hopper(), 77, "male")] * 2):
        crop = align_face(image, detector.detect(image)[0], 64).crop
        Image.fromarray(crop).save(folder / f"{age}_{gender}_{index}.png")
    (folder / "notes.txt").write_text("not a face")
    return folder


@pytest.fixture(scope="module")
def crops(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crops")
    for who, image, score in (("a", astronaut(), 10), ("g", grace_hopper(), 80)):
        located = locate(image, OFFLINE)
        for zone in ("forehead", "glabella", "crows_feet_left"):
            crop = cv2.resize(_crop(located.crop, located.zones[zone].box), (64, 64), interpolation=cv2.INTER_AREA)
            Image.fromarray(crop).save(folder / f"{zone}_{score}_{who}.png")
    Image.new("RGB", (64, 64)).save(folder / "chin_50_x.png")  # an unknown zone: reported, not used
    return folder
