"""The papers' lifespan benchmark on a Hub-format dataset, offline: a tiny parquet dataset read from a
local folder and through a faked Hub listing, resumed after a kill, and split over two processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from engine.core.errors import InputError
from engine.core.settings import ROOT, Settings
from evaluation import harness
from evaluation import hub_benchmark as H
from evaluation.harness import evaluate_hub
from evaluation.hub_benchmark import HubBenchmarkConfig
from evaluation.records import ResultsRecord
from evaluation.runlog import RunLog
from leaderboard.store import ResultsStore
from leaderboard.views import protocols, select, unscored_note
from tests.conftest import free_port
from tests.evaluation.conftest import NAMES, face_outputs, judge, tiny_faces_dataset

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")
TARGETS = (10.0, 70.0)
CHOSEN = ["validation-000000", "validation-000002", "validation-000003", "validation-000004"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return tiny_faces_dataset(tmp_path_factory.mktemp("tiny-faces"))


def config(folder: Path | None, **changes) -> HubBenchmarkConfig:
    fields = dict(repo_id="test/tiny-faces", revision="0123abc", n_images=4, targets=TARGETS, data_dir=folder)
    return HubBenchmarkConfig(**{**fields, **changes})


@pytest.fixture(scope="module")
def record(dataset, tmp_path_factory):
    """One uninterrupted single-process run: the reference the other runs must reproduce."""
    return evaluate_hub("classical", config(dataset), settings=OFFLINE, run_dir=tmp_path_factory.mktemp("run"))


def comparable(record: ResultsRecord) -> tuple:
    """What must not depend on how the run was split or interrupted (timings aside)."""
    metrics = {k: v for k, v in record.metrics.items() if k != "seconds_per_image"}
    return record.comparable_key(), metrics, record.notes["rows"]


def test_every_chosen_face_gets_a_row_per_target_and_the_record_names_its_protocol(record):
    rows = record.notes["rows"]
    assert [(r["input"], r["target"]) for r in rows] == [(name, t) for name in CHOSEN for t in TARGETS]
    # the faceless gradient: its rows are there, missing, with the reason; the others are scored
    faceless = [r for r in rows if r["input"] == "validation-000003"]
    assert all(r["age"] is None and r["identity"] is None and "No face" in r["error"] for r in faceless)
    assert all(r["age"] is not None and 50 < r["identity"] <= 100 for r in rows if r["input"] != "validation-000003")
    assert record.notes["n_failed_inputs"] == 1 and record.notes["n_missing_age"] == 2
    assert record.notes["passed_over"] == {"gender label missing": 1}  # row 1 has no gender label: listed, not used
    protocol = record.protocol
    assert (protocol.dataset, protocol.revision, protocol.split) == ("test/tiny-faces", "0123abc", "validation")
    assert protocol.target_ages == TARGETS and protocol.n_images == 8
    assert "first 2 faces of each gender" in protocol.input_set
    held_out = record.notes["evaluators_held_out"]
    assert held_out["identity_model"]["model"].startswith("SFace") and held_out["identity_model"]["trained_against_by"] == []
    assert held_out["age_estimator"]["trained_against_by"] == []
    assert record.notes["source_labels"]["age"] == "estimated by the method"


def test_a_folders_missing_outputs_are_rows_unscored_with_the_reason(dataset, tmp_path):
    # a researcher's folder holding the first face's outputs only: each missing one is named in its row (it was
    # scored as an output without a face, with a log line alone), counted, and the row ranks after complete ones
    folder = face_outputs(tmp_path / "faces")
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    for target in TARGETS:
        (outputs / f"{CHOSEN[0]}_{target:g}.png").write_bytes((folder / NAMES[0]).read_bytes())
    record = evaluate_hub(f"folder:{outputs}", config(dataset), settings=OFFLINE, method_type="GAN", run_dir=tmp_path / "run")
    errors = {(row["input"], row["target"]): row.get("error") for row in record.notes["rows"]}
    assert errors[(CHOSEN[1], 10.0)] == f"output {CHOSEN[1]}_10.png missing or unreadable"
    assert errors[(CHOSEN[0], 10.0)] is None and record.method_type == "GAN"
    assert record.unscored() == 6 and "6 of 8 outputs not scored" in unscored_note(record)
    with pytest.raises(InputError, match="no folder of outputs at"):
        evaluate_hub(f"folder:{tmp_path / 'nowhere'}", config(dataset), settings=OFFLINE, method_type="GAN")


def test_the_paper_protocol_is_the_default():
    paper = HubBenchmarkConfig()
    assert (paper.repo_id, paper.split, paper.gender_column, paper.age_column) == (
        "mattymchen/celeba-hq",
        "validation",
        "label",
        None,
    )
    assert paper.n_images == 200 and paper.targets == tuple(float(a) for a in range(0, 81, 5))
    assert paper.name == "celeba-hq-200, targets 0-80 by 5"


def test_a_hub_record_is_never_ranked_with_offline_rows_or_another_protocol(record, tmp_path):
    offline = ResultsRecord.from_json(
        {**record.to_json(), "protocol": {"benchmark": record.protocol.benchmark, "input_set": record.protocol.input_set}}
    )
    other_targets = ResultsRecord.from_json(
        {**record.to_json(), "protocol": {**record.to_json()["protocol"], "target_ages": [20, 60]}}
    )
    other_revision = ResultsRecord.from_json(
        {**record.to_json(), "protocol": {**record.to_json()["protocol"], "revision": "fff"}}
    )
    records = [record, offline, other_targets, other_revision]
    labels = protocols(records, "lifespan")
    assert len(labels) == 4, labels  # four protocols, four tables
    for label in labels:
        assert len(select(records, "lifespan", label)) == 1
    assert any("test/tiny-faces@0123abc validation" in label and "targets 10, 70; 8 outputs" in label for label in labels)
    store = ResultsStore(tmp_path)
    store.add_result(record)
    assert ResultsStore(tmp_path).records()[0].comparable_key() == record.comparable_key()  # survives the round trip


class FakeHub:
    """HfApi / HfFileSystem / hf_hub_download over the local folder, recording what was asked for."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.opened: list[str] = []
        self.listed: list[tuple[str, str | None, str | None]] = []
        hub = self

        class Api:
            def list_repo_files(self, repo_id, repo_type=None, revision=None):
                hub.listed.append((repo_id, repo_type, revision))
                return [p.relative_to(hub.folder).as_posix() for p in hub.folder.rglob("*") if p.is_file()]

        class FileSystem:
            def open(self, path, mode="rb", revision=None):
                prefix = "datasets/test/tiny-faces/"
                assert path.startswith(prefix) and revision == "0123abc", (path, revision)
                hub.opened.append(path[len(prefix) :])
                return (hub.folder / path[len(prefix) :]).open(mode)

        self.Api, self.FileSystem = Api, FileSystem

    def download(self, repo_id, filename, repo_type=None, revision=None):
        assert (repo_id, filename, repo_type, revision) == ("test/tiny-faces", "README.md", "dataset", "0123abc")
        return str(self.folder / filename)


def test_the_hub_path_reads_the_same_shards_as_a_local_folder(dataset, record, tmp_path, monkeypatch):
    hub = FakeHub(dataset)
    monkeypatch.setattr(H, "HfApi", hub.Api)
    monkeypatch.setattr(H, "HfFileSystem", hub.FileSystem)
    monkeypatch.setattr(H, "hf_hub_download", hub.download)
    online = evaluate_hub("classical", config(None), settings=OFFLINE, run_dir=tmp_path / "run")
    assert hub.listed == [("test/tiny-faces", "dataset", "0123abc")]
    assert set(hub.opened) == {"data/validation-00000-of-00002.parquet", "data/validation-00001-of-00002.parquet"}  # never train
    assert comparable(online)[1:] == comparable(record)[1:] and online.notes["read_from"] == "the Hub"


def test_a_hub_outage_and_a_missing_split_are_one_clear_message(dataset, monkeypatch):
    class Down:
        def list_repo_files(self, *args, **kwargs):
            raise ConnectionError("no route to host")

    monkeypatch.setattr(H, "HfApi", Down)
    with pytest.raises(InputError, match="test/tiny-faces@0123abc could not be listed on the Hub .*--data-dir"):
        H.Shards.open(config(None))
    with pytest.raises(InputError, match="no parquet shards for split 'test'"):
        H.Shards.open(config(dataset, split="test"))
    with pytest.raises(InputError, match=r"too few usable faces for 8 images .* found \{'female': 2, 'male': 3\}"):
        H.choose_faces(H.Shards.open(config(dataset, n_images=8)))
    with pytest.raises(InputError, match="no column 'portrait'"):
        H.choose_faces(H.Shards.open(config(dataset, image_column="portrait")))


def test_an_interrupted_run_resumes_without_evaluating_any_output_twice(dataset, record, tmp_path, monkeypatch):
    generated: Counter = Counter()
    real_outputs = harness.method_outputs
    seconds_per_image = {"now": 5.0}  # what the method reports: 5 s per image before the kill, 1 s after it

    def counting(method, item, targets, *args, **kwargs):
        generated.update((item.name, t) for t in targets)
        images, _, kind = real_outputs(method, item, targets, *args, **kwargs)
        return images, seconds_per_image["now"], kind

    real_append = RunLog.append
    written: list[dict] = []

    def killed_after_three(self, row):
        if len(written) == 3:  # mid-way through the second image: one of its two rows is on disk
            raise KeyboardInterrupt
        written.append(row)
        real_append(self, row)

    monkeypatch.setattr(harness, "method_outputs", counting)
    monkeypatch.setattr(RunLog, "append", killed_after_three)
    with pytest.raises(KeyboardInterrupt):
        evaluate_hub("classical", config(dataset), settings=OFFLINE, run_dir=tmp_path / "run")
    assert len((tmp_path / "run" / "rows-0.jsonl").read_text().splitlines()) == 3
    monkeypatch.setattr(RunLog, "append", real_append)
    seconds_per_image["now"] = 1.0
    resumed = evaluate_hub("classical", config(dataset), settings=OFFLINE, run_dir=tmp_path / "run")
    assert comparable(resumed) == comparable(record)
    # the speed covers every image, those made before the kill too: 3 rows at 5 s, 3 at 1 s (the faceless
    # input's two rows are not timed)
    assert resumed.metrics["seconds_per_image"] == pytest.approx(3.0)
    # every output produced once, the one cut off by the kill included (its row had not been written)
    scored_twice = {key: n for key, n in generated.items() if n > 1 and key != ("validation-000002", 70.0)}
    assert scored_twice == {} and generated[("validation-000002", 10.0)] == 1
    assert len((tmp_path / "run" / "rows-0.jsonl").read_text().splitlines()) == 8

    again = evaluate_hub("classical", config(dataset), settings=OFFLINE, run_dir=tmp_path / "run")
    assert comparable(again) == comparable(record) and generated[("validation-000000", 10.0)] == 1  # nothing left to run
    assert again.metrics["seconds_per_image"] == pytest.approx(3.0)  # a finished run still says how fast it was
    with pytest.raises(InputError, match=r"another configuration \(seed: 0 in the run, 1 now\)"):
        evaluate_hub("classical", config(dataset), seed=1, settings=OFFLINE, run_dir=tmp_path / "run")


def test_two_processes_give_the_one_process_record_and_the_judge_sees_every_output(dataset, record, tmp_path, server):
    url, script = server
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port()),
        "-m", "leaderboard.evaluate", "--method", "classical", "--benchmark", "hub", "--dataset", "test/tiny-faces",
        "--revision", "0123abc", "--data-dir", str(dataset), "--n-images", "4", "--targets", "10", "70",
        "--run-dir", str(tmp_path / "run"), "--out", str(tmp_path / "store"), "--judge",
    ]  # fmt: skip
    env = {**os.environ, "HUB_PROFILE": "offline", "HUB_STORE_DIR": str(tmp_path / "store"), "OMP_NUM_THREADS": "1"}
    env.update(HUB_JUDGE_BASE_URL=url, HUB_JUDGE_MODEL="judge", HUB_JUDGE_API_KEY="key")
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    (two,) = ResultsStore(tmp_path / "store").records()  # written once, by the main process
    assert two.run_config is not None and two.run_config["processes"] == 2
    for rank in (0, 1):  # both processes scored their half
        assert (tmp_path / "run" / f"rows-{rank}.jsonl").read_text().count("\n") == 4
    key, metrics, rows = comparable(two)
    reference_key, reference_metrics, reference_rows = comparable(record)
    assert [(r["input"], r["target"], r.get("error")) for r in rows] == [
        (r["input"], r["target"], r.get("error")) for r in reference_rows
    ]
    for mine, reference in zip(rows, reference_rows):
        for field in ("age", "identity"):
            assert (mine[field] is None) == (reference[field] is None)
            assert mine[field] is None or mine[field] == pytest.approx(reference[field], abs=1e-6)
    assert key[:-1] == reference_key[:-1] and two.evaluators.judge_model == "judge"  # the key ends with the judge
    del metrics["image_quality"], reference_metrics["image_quality"]  # the judge's, only in the judged run
    assert metrics == pytest.approx(reference_metrics)
    # 6 outputs with an image (the faceless input has none) x 3 questions, every one asked once
    assert script.calls == 18 and two.notes["judge"]["questions"] == 18
    assert sorted(json.loads(line)["input"] for line in (tmp_path / "run" / "rows-1.jsonl").read_text().splitlines()) == [
        CHOSEN[2],
        CHOSEN[2],
        CHOSEN[3],
        CHOSEN[3],
    ]


def test_outputs_missing_from_the_run_folder_are_named_not_silently_left_unjudged(dataset, tmp_path, server, monkeypatch):
    """On several machines without a shared run folder, the main process cannot read the others' outputs:
    simulated by one input's outputs never reaching the folder."""
    url, script = server
    real_save = harness.save_png

    def elsewhere(rgb, path):
        if not path.name.startswith(CHOSEN[0]):  # as if another machine wrote them to its own disk
            real_save(rgb, path)

    monkeypatch.setattr(harness, "save_png", elsewhere)
    record = evaluate_hub("classical", config(dataset), settings=OFFLINE, judge=judge(url), run_dir=tmp_path / "run")
    assert record.notes["outputs_not_judged"]["count"] == 2  # its two targets
    assert "not on a filesystem every machine shares" in record.notes["outputs_not_judged"]["why"]
    # the judge saw the other 4 outputs with an image (the faceless input has none), 3 questions each
    assert script.calls == 12 and record.notes["judge"]["questions"] == 12
