"""Every bad or odd input, through the engine and through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from engine import cli
from engine.core.images import InputError, load_image
from engine.core.settings import ROOT, Settings
from engine.faces.detection import NoFaceError
from engine.tasks.estimate import estimate_ages
from tests.conftest import synthetic_artefact

pytestmark = pytest.mark.pipelines

SETTINGS = Settings(profile="offline")

# name -> a phrase the refusal must contain
REFUSED = {
    "not_image": "not an image",
    "truncated": "truncated or corrupt",
    "empty": "empty (0 bytes)",
    "one_pixel": "only 1x1 px",
    "bomb": "900 MP, over the 40 MP limit",
}
# odd but valid: each must come out as RGB uint8 with the face found
ACCEPTED = ["gray16", "cmyk", "palette", "rgba", "grayscale", "animated", "exif_rotated"]


def load(path):
    return load_image(path, max_pixels=SETTINGS.max_pixels, min_side=SETTINGS.min_side)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_bad_files_are_refused_with_the_reason(images, name):
    with pytest.raises(InputError) as caught:
        load(images[name])
    assert REFUSED[name] in str(caught.value)
    assert images[name].name in str(caught.value)


def test_size_limit_is_checked_on_the_header(images, tmp_path):
    # 9000x9000 (81 MP) is below PIL's own bomb guard but above our 40 MP limit; the
    # file holds 64 bytes of data, so a refusal naming its size came from the header
    from tests.conftest import png_header_only

    path = tmp_path / "big.png"
    path.write_bytes(png_header_only(9000, 9000))
    with pytest.raises(InputError, match="9000x9000 px \\(81 MP\\), over the 40 MP limit"):
        load(path)


@pytest.mark.parametrize("name", ACCEPTED)
def test_odd_formats_decode_to_rgb_and_the_face_is_found(images, name):
    loaded = load(images[name])
    assert loaded.rgb.dtype == np.uint8 and loaded.rgb.ndim == 3 and loaded.rgb.shape[2] == 3
    analysis = estimate_ages(loaded.rgb, 0.9, SETTINGS)
    assert len(analysis.faces) >= 1
    assert 15 <= analysis.faces[0].age <= 70


def test_sixteen_bit_keeps_its_tonal_range(images):
    loaded = load(images["gray16"])
    # scaled to 8 bits, not clipped to white
    assert 60 < loaded.rgb.mean() < 200 and loaded.rgb.max() <= 255 and loaded.rgb.min() < 50


def test_transparency_is_flattened_onto_white_and_said(images, tmp_path):
    loaded = load(images["rgba"])
    assert (loaded.rgb[:, :60] == 255).all()
    assert loaded.warnings == [
        f"{images['rgba']} has an alpha channel with transparency (12% of its pixels are transparent or "
        "half-transparent): they were flattened onto white, so a half-transparent face looks paler than it is. "
        "Upload the photo without transparency to keep its colours."
    ]
    # an alpha channel that is opaque everywhere changes nothing, and nothing is said
    from PIL import Image  # noqa: PLC0415 - only this test writes an image

    opaque = tmp_path / "opaque.png"
    Image.open(images["astronaut"]).convert("RGBA").save(opaque)
    assert load(opaque).warnings == []


def test_animated_gif_uses_first_frame_with_a_warning(images):
    loaded = load(images["animated"])
    assert any("animated (2 frames)" in w for w in loaded.warnings)
    assert loaded.rgb.std() > 20  # the portrait, not the flat second frame


def test_exif_orientation_is_honoured(images):
    upright = estimate_ages(load(images["astronaut"]).rgb, 0.9, SETTINGS).faces[0]
    rotated_file = load(images["exif_rotated"])
    assert rotated_file.rgb.shape[:2] == (512, 512)
    rotated = estimate_ages(rotated_file.rgb, 0.9, SETTINGS).faces[0]
    assert np.allclose(upright.box, rotated.box, atol=12)


def test_no_face_is_a_clear_error(images):
    with pytest.raises(NoFaceError, match="No face found"):
        estimate_ages(load(images["no_face"]).rgb, 0.9, SETTINGS)


def test_many_faces_come_largest_first(images):
    analysis = estimate_ages(load(images["two_faces"]).rgb, 0.9, SETTINGS)
    assert len(analysis.faces) == 2
    areas = [(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]) for f in analysis.faces]
    assert areas[0] > areas[1]
    assert sorted(f.box[0] >= 512 for f in analysis.faces) == [False, True]  # one face in each half


def test_face_cut_by_border_is_found_with_a_warning(images):
    analysis = estimate_ages(load(images["cut_by_border"]).rgb, 0.9, SETTINGS)
    assert len(analysis.faces) == 1
    assert any("cut by the image border" in w for w in analysis.warnings)


@pytest.fixture()
def run_cli(command):
    return lambda *args, env=None: command(cli.main, *args, env=env)


def test_cli_prints_one_json_object_per_face(images, tmp_path, run_cli):
    result = run_cli("age", str(images["two_faces"]), str(images["astronaut"]), "--confidence", "0.8")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["image"].rsplit("/", 1)[-1], r["face"]) for r in rows] == [
        ("two_faces.jpg", 0),
        ("two_faces.jpg", 1),
        ("astronaut.png", 0),
    ]
    for row in rows:
        assert set(row) >= {"image", "face", "box", "age", "interval", "confidence", "calibrated", "gender", "p_female"}
        # uncalibrated: no interval, and the record says why
        assert row["interval"] is None and row["interval_text"] == "none (uncalibrated)" and "no interval" in row["note"]
        assert row["confidence"] == 0.8 and row["calibrated"] is False
        assert row["gender"] in ("female", "male") and 0 <= row["p_female"] <= 1
        # an age at the estimator's top class (80, which holds every older age) is open-ended, never a number
        assert (row["age_text"], row["at_cap"]) == (("80+", True) if row["age"] >= 79.5 else (f"{row['age']:.1f}", False))
    # with a calibration named by HUB_CALIBRATION the same faces get intervals around their ages
    artefact = synthetic_artefact(tmp_path / "age.json")
    result = run_cli("age", str(images["astronaut"]), "--confidence", "0.8", env={"HUB_CALIBRATION": str(artefact)})
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout.splitlines()[0])
    assert row["calibrated"] is True and row["interval"][0] <= row["age"] <= row["interval"][1]


def test_cli_reports_each_bad_file_and_goes_on(images, run_cli):
    bad = sorted(REFUSED) + ["no_face"]
    result = run_cli("age", *(str(images[name]) for name in bad), str(images["astronaut"]))
    assert result.returncode == 2
    assert [json.loads(line)["image"] for line in result.stdout.splitlines()] == [str(images["astronaut"])]
    errors = [line for line in result.stderr.splitlines() if not line.startswith(("W0000", "INFO:"))]
    for name in bad:
        assert sum(str(images[name]) in line for line in errors) == 1, (name, errors)


def test_cli_warns_about_animation(images):
    """Started as `python -m engine`, as a user runs it (the other tests here run its main in the test's process)."""
    result = subprocess.run(
        [sys.executable, "-m", "engine", "age", str(images["animated"])], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0
    assert "animated (2 frames)" in result.stderr and len(result.stdout.splitlines()) == 1


def test_cli_says_only_the_first_frame_was_read_before_refusing_it(images, run_cli, tmp_path):
    """An animation whose first frame has no face: the lifespan command says that only its first frame was read (as the
    age command and the tabs do as it opens), then refuses it for want of a face."""
    from PIL import Image

    path = tmp_path / "faceless_first.gif"
    Image.new("RGB", (512, 512), (90, 90, 90)).save(
        path, save_all=True, append_images=[Image.open(images["astronaut"]).convert("RGB")], duration=200
    )
    result = run_cli("lifespan", str(path), "--targets", "60", "--renderer", "classical", "--out", str(tmp_path / "out"))
    errors = [line for line in result.stderr.splitlines() if not line.startswith(("W0000", "INFO:"))]
    assert result.returncode == 2
    assert sum("animated (2 frames): only the first frame is used" in line for line in errors) == 1, errors
    assert any("No face found" in line for line in errors), errors


@pytest.mark.parametrize(
    "asked",
    [("lifespan", "--targets", "60", "--renderer", "classical"), ("zones", "--score", "forehead=70", "--renderer", "classical")],
    ids=["lifespan", "zones"],
)
def test_cli_says_the_loaders_note_once_and_keeps_it_in_the_manifest(images, run_cli, tmp_path, asked):
    """An animation whose first frame has a face: the note that only its first frame is read is printed as it opens,
    once (the result's warnings repeat it, and were printed again), and the manifest keeps it."""
    out = tmp_path / "out"
    result = run_cli(asked[0], str(images["animated"]), *asked[1:], "--out", str(out))
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "animated (2 frames): only the first frame is used" in line]
    assert len(said) == 1, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert any("animated (2 frames): only the first frame is used" in warning for warning in manifest["warnings"])


def test_cli_rejects_a_bad_confidence(images, run_cli):
    result = run_cli("age", str(images["astronaut"]), "--confidence", "90")
    assert (
        result.returncode == 2
        and "confidence must be on the calibration grid, 0.50 to 0.99 in steps of 0.01, got 90" in result.stderr
    )


@pytest.fixture(scope="module")
def big_photos(tmp_path_factory):
    """The astronaut at 36 MP (7360x4912, as a full-frame camera writes) as JPEG, and the same upright photo
    stored rotated with an EXIF tag; plus a 3000x2000 PNG, a format without reduced-scale decoding."""
    from PIL import Image

    from tests.conftest import astronaut

    folder = tmp_path_factory.mktemp("big")
    photo = Image.fromarray(astronaut()).resize((7360, 4912), Image.Resampling.BILINEAR)
    photo.save(folder / "camera_36mp.jpg", quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 clockwise to display
    photo.transpose(Image.Transpose.ROTATE_90).save(folder / "rotated_36mp.jpg", quality=90, exif=exif)
    photo.resize((3000, 2000)).save(folder / "big.png")
    return folder


def test_a_strip_too_thin_for_a_face_at_the_working_size_is_refused_saying_so(tmp_path):
    """A 16x200000 px strip is within the pixel limit, but shrunk to the working size its shorter side is 1 px, under the
    minimum side: refused for its shape before it is decoded, not later as a photo without a face. A strip the shrinking
    keeps at the minimum is kept (Pillow rounds a landscape strip's 15.5 px to 16)."""
    from PIL import Image

    from engine.core.limits import WORKING_SIDE

    assert SETTINGS.min_side == 16
    Image.new("RGB", (16, 200000), (120, 100, 90)).save(tmp_path / "strip.png")
    Image.new("RGB", (2116, 16), (120, 100, 90)).save(tmp_path / "band.png")
    with pytest.raises(InputError) as refused:
        load_image(tmp_path / "strip.png", max_pixels=SETTINGS.max_pixels, min_side=SETTINGS.min_side, working_side=WORKING_SIDE)
    assert str(refused.value) == (
        f"{tmp_path / 'strip.png'} is 16x200000 px: shrunk to the working size (2048 px on its longer side), its shorter "
        "side would be 1 px at most, under the 16 px a face needs. Crop it to the part with the face and try again."
    )
    band = load_image(
        tmp_path / "band.png", max_pixels=SETTINGS.max_pixels, min_side=SETTINGS.min_side, working_side=WORKING_SIDE
    )
    assert band.rgb.shape == (16, 2048, 3)  # 16 * 2048 / 2116 = 15.5, as Pillow's thumbnail keeps it


def test_a_large_photo_is_downscaled_to_the_working_size_while_decoding(big_photos):
    from engine.core.limits import WORKING_SIDE

    loaded = load_image(big_photos / "camera_36mp.jpg", max_pixels=SETTINGS.max_pixels, min_side=16, working_side=WORKING_SIDE)
    assert loaded.rgb.shape == (1367, 2048, 3)  # aspect kept: 4912 * 2048 / 7360 = 1366.8
    assert loaded.original_size == (7360, 4912) and loaded.scale == pytest.approx(7360 / 2048)
    assert loaded.note.endswith("camera_36mp.jpg is 7360x4912 px: processed at 2048x1367 px (the working size).")
    rotated = load_image(big_photos / "rotated_36mp.jpg", max_pixels=SETTINGS.max_pixels, min_side=16, working_side=WORKING_SIDE)
    assert rotated.original_size == (7360, 4912) and rotated.rgb.shape == (1367, 2048, 3)  # as displayed
    assert np.abs(rotated.rgb.astype(int) - loaded.rgb.astype(int)).mean() < 3  # the same picture, upright
    png = load_image(big_photos / "big.png", max_pixels=SETTINGS.max_pixels, min_side=16, working_side=WORKING_SIDE)
    assert png.rgb.shape == (1365, 2048, 3) and png.original_size == (3000, 2000)
    small = load_image(big_photos / "big.png", max_pixels=SETTINGS.max_pixels, min_side=16, working_side=4000)
    assert small.original_size is None and small.scale == 1.0 and small.note == "" and small.rgb.shape == (2000, 3000, 3)


def test_the_cli_gives_boxes_in_the_pixels_of_the_photo_it_was_given(big_photos, tmp_path, run_cli):
    """The engine works on the downscaled photo; the box is mapped back, so it frames the face in the 36 MP file."""
    from PIL import Image

    from tests.conftest import ASTRONAUT_FACE

    result = run_cli("age", str(big_photos / "camera_36mp.jpg"))
    assert result.returncode == 0, result.stderr
    assert "camera_36mp.jpg is 7360x4912 px: processed at 2048x1367 px (the working size)" in result.stderr
    face = json.loads(result.stdout.splitlines()[0])
    x, y, w, h = ASTRONAUT_FACE  # in the 512 px original, which the 36 MP photo enlarges 14.375 x horizontally
    sx, sy = 7360 / 512, 4912 / 512
    x0, y0, x1, y1 = face["box"]
    assert abs((x0 + x1) / 2 - (x + w / 2) * sx) < 0.25 * w * sx and abs((y0 + y1) / 2 - (y + h / 2) * sy) < 0.25 * h * sy
    assert 0.6 * w * sx < x1 - x0 < 1.6 * w * sx
    assert Image.open(big_photos / "camera_36mp.jpg").size == (7360, 4912)


def test_a_downscaled_photos_note_is_kept_with_the_outputs_warnings(big_photos):
    from engine.core.images import keep_photo_notes
    from engine.core.limits import WORKING_SIDE

    loaded = load_image(big_photos / "big.png", max_pixels=SETTINGS.max_pixels, min_side=16, working_side=WORKING_SIDE)
    warnings = ["a renderer's own warning"]
    keep_photo_notes(warnings, loaded, None)
    # the manifest records that the outputs are at the working size, not the photo's (3000x2000)
    assert warnings == [loaded.note, "a renderer's own warning"] and "processed at 2048x1365 px" in loaded.note
    keep_photo_notes(warnings, loaded)
    assert warnings.count(loaded.note) == 1  # kept once
