"""The results store: atomic writes, unreadable files, Hub sync through recorded HfApi calls."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path
from types import SimpleNamespace

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


def test_a_record_is_as_readable_as_a_file_written_with_open(tmp_path, monkeypatch):
    # mkstemp's own mode is 0600: a record in a store shared with others was unreadable to them
    import os

    import engine.core.files as files

    monkeypatch.setattr(files, "_UMASK", 0o022)  # the process's, as read when the module loaded
    umask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "record.json", "{}")
        (tmp_path / "plain.json").write_text("{}")
    finally:
        os.umask(umask)
    assert (tmp_path / "record.json").stat().st_mode & 0o777 == (tmp_path / "plain.json").stat().st_mode & 0o777 == 0o644


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


class FakeHub:
    """The HfApi calls the store makes (snapshot_download, create_repo, create_commit, run_as_future), in memory."""

    def __init__(self):
        self.repos: dict[str, dict[str, bytes]] = {}
        self.commits: list[tuple[str, list[str]]] = []
        self.down = False

    def _check(self):
        if self.down:
            raise ConnectionError("Hub unreachable")

    def create_repo(self, repo_id, repo_type=None, private=None, exist_ok=False):
        self.repos.setdefault(repo_id, {})
        return SimpleNamespace(repo_id=repo_id)

    def snapshot_download(self, repo_id, repo_type, local_dir, allow_patterns):
        self._check()
        assert repo_type == "dataset" and allow_patterns == ["*.json"]
        for name, data in self.repos.get(repo_id, {}).items():
            (Path(local_dir) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(local_dir) / name).write_bytes(data)
        return local_dir

    def create_commit(self, repo_id, repo_type, operations, commit_message, revision=None):
        self._check()
        assert repo_type == "dataset"
        for operation in operations:
            self.repos[repo_id][operation.path_in_repo] = operation.path_or_fileobj.read()
        self.commits.append((repo_id, sorted(op.path_in_repo for op in operations)))

    def run_as_future(self, function):
        future: Future = Future()
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)
        return future


def hub_store(root, api):
    from leaderboard.store import HubSync

    return ResultsStore(root, HubSync("org/results", "org/requests", api=api, every=60))


def test_the_store_lives_in_hub_datasets_and_a_restart_loses_nothing(tmp_path):
    api = FakeHub()
    first = hub_store(tmp_path / "first-disk", api)
    assert first.pull() == "synced with the Hub"
    first.add_result(ResultsRecord.from_json(valid()))
    first.add_request({"id": "req-1", "method": "MyAger"})
    first.set_status("req-1", "RUNNING")
    first.flush()
    assert len(api.repos["org/results"]) == 1 and list(api.repos["org/requests"]) == ["req-1.json"]
    commits = len(api.commits)
    first.flush()
    assert len(api.commits) == commits, "nothing changed: no new commit"

    restarted = hub_store(tmp_path / "fresh-disk", api)  # a Space restarts on an empty disk
    restarted.pull()
    assert [r.method for r in restarted.records()] == ["MyAger"]
    assert restarted.request("req-1")["status"] == "RUNNING"
    restarted.flush()
    assert len(api.commits) == commits, "what was pulled is not committed back"
    restarted.set_status("req-1", "FINISHED")
    restarted.flush()
    assert json.loads(api.repos["org/requests"]["req-1.json"])["status"] == "FINISHED"
    for store in (first, restarted):
        for scheduler in store.hub.schedulers.values():
            scheduler.stop()


def test_a_hub_outage_never_breaks_the_store(tmp_path):
    api = FakeHub()
    api.down = True
    store = hub_store(tmp_path, api)
    assert "Hub sync failed" in store.pull()
    path = store.add_result(ResultsRecord.from_json(valid()))
    store.flush()
    assert path.exists() and any("kept locally" in p for p in store.problems)
    assert [r.method for r in store.records()] == ["MyAger"]
    api.down = False
    store.flush()  # back up: what was written during the outage is committed
    assert len(api.repos["org/results"]) == 1
    for scheduler in store.hub.schedulers.values():
        scheduler.stop()


def test_request_states(tmp_path):
    store = ResultsStore(tmp_path)
    store.add_request({"id": "abc", "method": "X"})
    assert store.requests()[0]["status"] == "PENDING"
    store.set_status("abc", "RUNNING")
    done = store.set_status("abc", "FAILED", "no face in 3 outputs")
    assert done["status"] == "FAILED" and done["reason"] == "no face in 3 outputs"
    with pytest.raises(ValueError, match="status must be one of"):
        store.set_status("abc", "DONE")


def test_a_first_caller_never_reads_the_stores_key_half_written(tmp_path, monkeypatch):
    # the key that hashes client addresses is made by the first caller; another reading it while it was being written
    # got an empty key, and an address hashed with it is as good as unkeyed. A first caller is held here while it makes
    # its key: the other makes its own, and both end with the one key that was written whole
    import secrets  # noqa: PLC0415
    import threading  # noqa: PLC0415

    store = ResultsStore(tmp_path)
    made, real = threading.Event(), secrets.token_hex
    calls, keys = [], []

    def held_on_the_first_call(size):
        calls.append(size)
        if len(calls) == 1:
            made.wait(5)
        return real(size)

    monkeypatch.setattr(secrets, "token_hex", held_on_the_first_call)
    first = threading.Thread(target=lambda: keys.append(store.secret()))
    first.start()
    deadline = time.time() + 5
    while not calls and time.time() < deadline:
        time.sleep(0.01)
    second = store.secret()
    made.set()
    first.join(5)
    assert len(second) == 64 and keys == [second]


@pytest.mark.parametrize("bad", ["../results", "a/b", "", "x" * 81, "id.json"])
def test_a_request_id_that_is_not_letters_digits_and_dashes_names_no_file_or_folder(tmp_path, bad):
    # a stranger's request id never reaches outside the store's requests, work and unpacking folders
    store = ResultsStore(tmp_path)
    for path_of in (store.request_path, store.work_dir, store.unpacking_dir):
        with pytest.raises(ValueError, match="a request id is letters, digits and '-'"):
            path_of(bad)
    assert store.work_dir("ok-1") == tmp_path / "work" / "ok-1"
    assert store.unpacking_dir("ok-1") == tmp_path / "unpacking" / "ok-1"
