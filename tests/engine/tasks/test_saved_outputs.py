"""What a saved result records: the same request and seed write byte-identical images (wall-clock timings
stay in manifest.json, out of the images), and what the loader did to the photo (transparency flattened
onto white) is among the warnings, in manifest.json and in each image's own manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngImageFile

from engine import cli
from engine.core.provenance import png_info
from tests.conftest import astronaut

pytestmark = pytest.mark.pipelines


def test_the_same_request_writes_identical_files_and_records_the_flattened_alpha(tmp_path, capsys):
    rgba = Image.fromarray(astronaut()).convert("RGBA")
    alpha = np.full((512, 512), 255, np.uint8)
    alpha[:, :256] = 128  # the left half, face included, half-transparent
    rgba.putalpha(Image.fromarray(alpha))
    photo = tmp_path / "half.png"
    rgba.save(photo)
    runs = []
    for run in ("a", "b"):
        out = tmp_path / run
        args = ["lifespan", str(photo), "--targets", "20,70", "--seed", "3", "--renderer", "classical", "--out", str(out)]
        assert cli.main(args) == 0
        runs.append(out)
    note = (
        f"{photo} has an alpha channel with transparency (50% of its pixels are transparent or half-transparent): "
        "they were flattened onto white, so a half-transparent face looks paler than it is. Upload the photo "
        "without transparency to keep its colours."
    )
    assert f"{photo}: warning: {note}" in capsys.readouterr().err.splitlines()
    files = sorted(path.name for path in runs[0].iterdir())
    assert sorted(path.name for path in runs[1].iterdir()) == files
    assert {name.rsplit(".", 1)[1] for name in files} == {"png", "gif", "mp4", "json"}
    for name in files:
        if name != "manifest.json":  # its timings differ from run to run, as they should
            assert (runs[0] / name).read_bytes() == (runs[1] / name).read_bytes(), name
    manifest = json.loads((runs[0] / "manifest.json").read_text())
    assert manifest["warnings"][0] == note and "total_s" in manifest["timings_s"]
    embedded = json.loads(cast(PngImageFile, Image.open(runs[0] / "half_70_photo.png")).text["Manifest"])
    assert embedded["warnings"][0] == note and "timings_s" not in embedded
    assert {k: v for k, v in manifest.items() if k not in ("timings_s", "files", "image")} == embedded


def test_png_info_leaves_the_timings_out(tmp_path):
    path = tmp_path / "one.png"
    Image.new("RGB", (4, 4)).save(path, pnginfo=png_info("m", "c", 1, {"seeds": [1], "timings_s": {"total_s": 1.23}}))
    assert json.loads(cast(PngImageFile, Image.open(path)).text["Manifest"]) == {"seeds": [1]}


def test_an_upload_with_a_long_name_gets_its_files_written(tmp_path):
    # an upload named with 249 bytes had its files refused by the file system after the aging was done
    from engine.core.settings import Settings  # noqa: PLC0415
    from engine.tasks.lifespan import LifespanRequest, age_photo, save_outputs  # noqa: PLC0415

    output = age_photo(LifespanRequest(astronaut(), [70], renderer="classical", read_ages=False), Settings(profile="offline"))
    files = save_outputs(output, tmp_path, "年" * 83)
    listed = [*files["faces"], *files["photos"], files["strip"], files["gif"], files["mp4"]]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(Path(str(path)).name for path in listed)
    assert all(Path(str(path)).parent == tmp_path and Path(str(path)).name.startswith("年" * 33 + "_") for path in listed)


def test_the_files_of_a_face_other_than_the_largest_name_it(tmp_path):
    # face 0's and face 1's futures of one photo were both "einstein_70_sample0_face.png": a second download replaced the first
    import dataclasses  # noqa: PLC0415

    from engine.core.settings import Settings  # noqa: PLC0415
    from engine.tasks import lifespan, pluralistic  # noqa: PLC0415

    settings = Settings(profile="offline")
    aged = lifespan.age_photo(lifespan.LifespanRequest(astronaut(), [70], renderer="classical", read_ages=False), settings)
    futures = pluralistic.pluralistic(pluralistic.PluralisticRequest(astronaut(), 70, samples=2, renderer="classical"), settings)
    assert Path(str(lifespan.save_outputs(aged, tmp_path / "0", "photo")["strip"])).name == "photo_strip.png"
    assert Path(pluralistic.save_outputs(futures, tmp_path / "0", "photo")["faces"][0]).name == "photo_70_sample0_face.png"
    second = lifespan.save_outputs(dataclasses.replace(aged, face_index=1), tmp_path / "1", "photo")
    assert Path(str(second["strip"])).name == "photo_face1_strip.png"
    assert [Path(str(path)).name for path in second["faces"]] == ["photo_face1_70_face.png"]
    futures.face_index = 1
    assert Path(pluralistic.save_outputs(futures, tmp_path / "1", "photo")["faces"][0]).name == "photo_face1_70_sample0_face.png"
