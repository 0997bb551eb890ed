"""The harness end to end offline, and submissions: records, zips (malicious, oversized), duplicates, rate limits."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

from engine.core.settings import ROOT, Settings
from evaluation.harness import evaluate
from leaderboard import submissions as S
from leaderboard.store import ResultsStore
from tests.evaluation.conftest import judge
from tests.evaluation.test_records import valid

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")


@pytest.fixture(scope="module")
def classical_record():
    from evaluation.harness import evaluate

    return evaluate("classical", "offline", settings=OFFLINE)


def test_harness_scores_the_classical_renderer_offline(classical_record):
    record = classical_record
    assert record.provenance == "verified" and record.method_type == "classical"
    assert record.protocol.benchmark == "offline-portraits" and record.protocol.n_images == 8
    assert record.evaluators.identity_model.startswith("SFace") and "age-v1.onnx" in record.evaluators.age_estimator
    metrics = record.metrics
    assert 0 < metrics["age_mae"] < 60 and 50 < metrics["identity"] <= 100
    assert metrics["hcs"] == pytest.approx(
        2
        * (1 - metrics["age_mae"] / 40)
        * 100
        * metrics["identity"]
        / ((1 - metrics["age_mae"] / 40) * 100 + metrics["identity"])
    )
    assert metrics["fid"] is None and metrics["image_quality"] is None  # missing, never filled in
    assert record.notes["n_missing_age"] == 0 and len(record.notes["rows"]) == 8


def test_cli_writes_a_verified_record_to_the_store(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "leaderboard.evaluate", "--method", "classical", "--benchmark", "offline", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "HUB_PROFILE": "offline"},
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    records = ResultsStore(tmp_path).records()
    assert [r.method for r in records] == ["classical"] and summary["metrics"]["hcs"] is not None


def outputs_zip(path, names, image=None):
    image = image if image is not None else np.full((64, 64, 3), 128, np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, buffer.getvalue())
    return path


def test_a_zip_of_outputs_is_verified_and_faceless_outputs_are_counted_missing(tmp_path):
    store = ResultsStore(tmp_path / "store")
    names = [f"{who}_{t}.png" for who in ("astronaut", "grace_hopper") for t in (10, 30, 50, 70)]
    request = S.submit_outputs(store, "alice", outputs_zip(tmp_path / "out.zip", names), "GreyBoxes", "GAN")
    assert request["status"] == "PENDING"
    done = S.process_pending(store, OFFLINE)
    assert [d["status"] for d in done] == ["FINISHED"]
    record = next(r for r in store.records() if r.method == "GreyBoxes")
    assert record.notes["n_missing_age"] == 8 and record.metrics["age_mae"] is None and record.metrics["hcs"] is None


@pytest.mark.parametrize(
    "name, message",
    [
        ("../escape.png", "points outside the submission folder"),
        ("/etc/passwd", "points outside the submission folder"),
        ("C:/windows/x.png", "points outside the submission folder"),
        ("notes.txt", "is not an expected output"),
    ],
)
def test_malicious_zip_entries_are_refused(tmp_path, name, message):
    store = ResultsStore(tmp_path / "store")
    with pytest.raises(S.SubmissionError, match=message):
        S.submit_outputs(store, "mallory", outputs_zip(tmp_path / "bad.zip", ["astronaut_10.png", name]), "X", "GAN")
    assert not (tmp_path / "escape.png").exists() and not list((tmp_path / "store").glob("submissions/*/*"))


def test_links_and_oversized_zips_are_refused(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path / "store")
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("astronaut_10.png")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(S.SubmissionError, match="is a link"):
        S.submit_outputs(store, "mallory", path, "X", "GAN")
    monkeypatch.setattr(S, "MAX_ZIP_BYTES", 100)
    with pytest.raises(S.SubmissionError, match="the limit is 0 MB|the limit is"):
        S.submit_outputs(store, "mallory", outputs_zip(tmp_path / "big.zip", ["astronaut_10.png"]), "X", "GAN")
    monkeypatch.setattr(S, "MAX_ZIP_BYTES", 10**9)
    monkeypatch.setattr(S, "MAX_UNPACKED_BYTES", 10)
    with pytest.raises(S.SubmissionError, match="unpacks to more than"):
        S.submit_outputs(store, "mallory", outputs_zip(tmp_path / "bomb.zip", ["astronaut_10.png"]), "X", "GAN")


def test_records_duplicates_and_rate_limit(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path)
    content = json.dumps(valid()).encode()
    request = S.submit_record(store, "bob", content)
    assert request["status"] == "FINISHED" and [r.method for r in store.records()] == ["MyAger"]
    with pytest.raises(S.SubmissionError, match="already submitted"):
        S.submit_record(store, "bob", content)
    with pytest.raises(S.SubmissionError, match="metrics.hcs: computed by the harness"):
        S.submit_record(store, "bob", json.dumps(valid(metrics={"age_mae": 5, "hcs": 90})).encode())
    with pytest.raises(S.SubmissionError, match="not valid JSON"):
        S.submit_record(store, "bob", b"{oops")
    monkeypatch.setattr(S, "RATE_LIMIT", 1)
    with pytest.raises(S.SubmissionError, match="limit 1"):
        S.submit_record(store, "bob", json.dumps(valid(method="Other")).encode())
    with pytest.raises(S.SubmissionError, match="user name must be"):
        S.submit_record(store, "../../root", content)


def test_full_evaluators_say_what_they_need(tmp_path):
    from engine.core.models import ModelUnavailable
    from evaluation.harness import evaluate

    with pytest.raises(ModelUnavailable, match="identity_arcface"):
        evaluate("classical", "offline", settings=OFFLINE, evaluators="full")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "leaderboard.evaluate",
            "--method",
            "classical",
            "--benchmark",
            "offline",
            "--evaluators",
            "full",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "HUB_PROFILE": "offline"},
    )
    assert result.returncode == 2 and "identity_arcface" in result.stderr


def test_fid_is_missing_with_its_reason_when_it_cannot_be_computed(tmp_path):
    from evaluation.harness import evaluate

    record = evaluate("classical", "offline", settings=OFFLINE, fid_reference=tmp_path)
    assert record.metrics["fid"] is None and record.notes["fid"].startswith("missing: FID needs")


def test_harness_reports_the_judge_beside_the_model_scores(server):
    url, script = server
    # 8 outputs x (age, quality, identity); one quality reply is prose: missing, not imputed
    replies = []
    for index in range(8):
        replies += [("ok", "age:50"), ("ok", "quality:80" if index else "looks fine"), ("ok", "similarity:70")]
    script.replies += replies
    record = evaluate("classical", "offline", settings=Settings(profile="offline"), judge=judge(url, concurrency=1))
    report = record.notes["judge"]
    assert report["missing"]["quality"] == 1 and report["missing"]["unparsed"] == 1
    assert record.metrics["image_quality"] == pytest.approx(80.0)  # the mean of the 7 that parsed
    assert record.evaluators.judge_model == "judge" and record.metrics["age_mae"] is not None  # model-based kept
    assert report["age_mae"] == pytest.approx(np.mean([abs(50 - r["target"]) for r in record.notes["rows"]]))
