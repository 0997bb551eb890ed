"""The results store: atomic writes, unreadable files, Hub sync through recorded HfApi calls."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from engine.core.files import atomic_write_text
from engine.core.settings import ROOT
from evaluation.records import ResultsRecord
from leaderboard.store import ResultsStore
from tests.evaluation.test_records import valid

pytestmark = pytest.mark.unit


def test_a_writer_killed_mid_write_leaves_the_previous_file_intact(tmp_path):
    target = tmp_path / "results" / "record.json"
    atomic_write_text(target, json.dumps({"version": 1}))
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "import engine.core.files as store\n"
        "store.os.fsync = lambda fd: time.sleep(60)  # stall after writing, before the rename\n"
        f"store.atomic_write_text(Path({str(target)!r}), 'x' * 10_000_000)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    deadline = time.monotonic() + 30
    while not list(target.parent.glob(".record.json.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(target.parent.glob(".record.json.*.tmp")), "the writer never started"
    writer.send_signal(signal.SIGKILL)
    writer.wait(10)
    assert json.loads(target.read_text()) == {"version": 1}


def test_records_round_trip_and_unreadable_files_are_reported_not_fatal(tmp_path):
    store = ResultsStore(tmp_path)
    assert store.records() == [] and "no verified results yet" in store.age()
    path = store.add_result(ResultsRecord.from_json(valid()))
    (tmp_path / "results" / "broken.json").write_text("{not json")
    (tmp_path / "results" / "wrong.json").write_text(json.dumps({"task": "lifespan"}))
    records = store.records()
    assert [r.method for r in records] == ["MyAger"] and path.exists()
    assert len(store.problems) == 2 and any("broken.json" in p for p in store.problems)
    assert "min ago" in store.age()


class RecordingApi:
    def __init__(self, fail=False):
        self.calls, self.fail = [], fail

    def snapshot_download(self, **kwargs):
        self.calls.append(("snapshot_download", kwargs))
        if self.fail:
            raise ConnectionError("Hub unreachable")
        return kwargs["local_dir"]

    def upload_file(self, **kwargs):
        self.calls.append(("upload_file", kwargs))
        if self.fail:
            raise ConnectionError("Hub unreachable")


def test_hub_sync_pulls_both_repos_and_pushes_each_write(tmp_path):
    from leaderboard.store import HubSync

    api = RecordingApi()
    store = ResultsStore(tmp_path, HubSync("org/results", "org/requests", api=api))
    assert store.pull() == "synced with the Hub"
    pulled = {kw["repo_id"]: kw for name, kw in api.calls if name == "snapshot_download"}
    assert set(pulled) == {"org/results", "org/requests"}
    assert all(kw["repo_type"] == "dataset" for kw in pulled.values())
    store.add_result(ResultsRecord.from_json(valid()))
    store.add_request({"id": "req-1", "method": "MyAger"})
    uploads = [kw for name, kw in api.calls if name == "upload_file"]
    assert [(u["repo_id"], u["repo_type"]) for u in uploads] == [("org/results", "dataset"), ("org/requests", "dataset")]


def test_a_hub_outage_never_breaks_the_store(tmp_path):
    from leaderboard.store import HubSync

    store = ResultsStore(tmp_path, HubSync("org/results", "org/requests", api=RecordingApi(fail=True)))
    assert "Hub sync failed" in store.pull()
    path = store.add_result(ResultsRecord.from_json(valid()))
    assert path.exists() and any("kept locally" in p for p in store.problems)
    assert [r.method for r in store.records()] == ["MyAger"]


def test_request_states(tmp_path):
    store = ResultsStore(tmp_path)
    store.add_request({"id": "abc", "method": "X"})
    assert store.requests()[0]["status"] == "PENDING"
    store.set_status("abc", "RUNNING")
    done = store.set_status("abc", "FAILED", "no face in 3 outputs")
    assert done["status"] == "FAILED" and done["reason"] == "no face in 3 outputs"
    with pytest.raises(ValueError, match="status must be one of"):
        store.set_status("abc", "DONE")
