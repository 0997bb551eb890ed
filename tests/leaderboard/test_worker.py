"""The worker that owns the queue: recovery after a crash, attempts, sweeping, claims that never double."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from engine.core.provenance import save_png
from engine.core.settings import ROOT, Settings
from evaluation.benchmarks import BENCHMARKS
from evaluation.records import ResultsRecord
from leaderboard.store import ResultsStore
from leaderboard.worker import MAX_ATTEMPTS, Worker
from tests.evaluation.test_records import valid

pytestmark = pytest.mark.unit

REQUEST_ID = "20260101000000-abcdef12"


def queued(store: ResultsStore, request_id: str = REQUEST_ID) -> None:
    store.work_dir(request_id).mkdir(parents=True)
    (store.work_dir(request_id) / "astronaut_10.png").write_bytes(b"png")
    store.add_request(
        {"id": request_id, "kind": "outputs", "method": "Mine", "method_type": "GAN", "benchmark": "offline", "attempts": 0}
    )


class Counting:
    def __init__(self):
        self.calls = []

    def __call__(self, request, folder):
        self.calls.append((request["id"], sorted(p.name for p in folder.iterdir())))
        return ResultsRecord.from_json(valid(provenance="verified", citation=None))


def test_a_worker_killed_mid_evaluation_is_recovered_and_the_request_finishes_exactly_once(tmp_path):
    store = ResultsStore(tmp_path)
    queued(store)
    started = tmp_path / "started"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from engine.core.settings import Settings\n"
        "from leaderboard.store import ResultsStore\n"
        "from leaderboard.worker import Worker\n"
        "def stalls(request, folder):\n"
        f"    Path({str(started)!r}).write_text(request['id'])\n"
        "    time.sleep(120)\n"
        f"Worker(ResultsStore(Path({str(tmp_path)!r})), Settings(), evaluate=stalls).serve()\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists(), "the worker never started the evaluation"
    request = store.request(REQUEST_ID)
    assert request is not None and request["status"] == "RUNNING"
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    request = store.request(REQUEST_ID)
    assert request is not None and request["status"] == "RUNNING"  # what a crash leaves behind

    evaluate = Counting()
    restarted = Worker(store, Settings(), evaluate=evaluate)
    (recovered,) = restarted.recover()
    assert recovered["status"] == "PENDING" and recovered["attempts"] == 1 and "interrupted" in recovered["reason"]
    done = restarted.drain()  # PENDING runs at start-up, no new upload needed
    assert [d["status"] for d in done] == ["FINISHED"] and done[0]["attempts"] == 2
    assert evaluate.calls == [(REQUEST_ID, ["astronaut_10.png"])]
    assert [r.notes["request"] for r in store.records()] == [REQUEST_ID]
    assert not store.work_dir(REQUEST_ID).exists(), "only the record stays"
    assert not list((tmp_path / "locks").glob("*")) and restarted.drain() == []


def test_after_three_interruptions_a_request_fails_with_the_reason(tmp_path):
    store = ResultsStore(tmp_path)
    queued(store)
    store.set_status(REQUEST_ID, "RUNNING", attempts=MAX_ATTEMPTS)
    (failed,) = Worker(store, Settings(), evaluate=Counting()).recover()
    assert failed["status"] == "FAILED" and f"interrupted {MAX_ATTEMPTS} times" in failed["reason"]
    assert not store.work_dir(REQUEST_ID).exists()


def test_a_request_is_never_claimed_twice(tmp_path):
    store = ResultsStore(tmp_path)
    queued(store)
    workers = [Worker(store, Settings(), evaluate=Counting()) for _ in range(8)]
    claims, barrier = [], threading.Barrier(len(workers))

    def claim(worker):
        barrier.wait()
        claims.append(worker.claim(REQUEST_ID))

    threads = [threading.Thread(target=claim, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(c is not None for c in claims) == 1
    # a second worker starting up leaves a live worker's request alone
    assert Worker(store, Settings(), evaluate=Counting()).recover() == []
    request = store.request(REQUEST_ID)
    assert request is not None and request["status"] == "RUNNING"


def test_a_record_written_before_a_crash_is_not_written_again(tmp_path):
    store = ResultsStore(tmp_path)
    queued(store)
    first = Worker(store, Settings(), evaluate=Counting())
    first.drain()
    store.set_status(REQUEST_ID, "RUNNING")  # as if killed after the record, before FINISHED
    evaluate = Counting()
    second = Worker(store, Settings(), evaluate=evaluate)
    second.recover()
    (done,) = second.drain()
    assert done["status"] == "FINISHED" and evaluate.calls == [] and len(store.records()) == 1


def test_failures_say_why_and_leftovers_are_swept(tmp_path):
    store = ResultsStore(tmp_path)
    queued(store)

    def broken(request, folder):
        raise ValueError("the benchmark changed")

    (failed,) = Worker(store, Settings(), evaluate=broken).drain()
    assert failed["status"] == "FAILED" and failed["reason"] == "ValueError: the benchmark changed"
    assert not store.work_dir(REQUEST_ID).exists()
    queued(store, "20260101000000-lost0000")
    (store.work_dir("20260101000000-orphan00")).mkdir()
    (tmp_path / "submissions" / "old-request").mkdir(parents=True)
    store.work_dir("20260101000000-lost0000").rename(tmp_path / "elsewhere")
    stale = tmp_path / "results" / ".x.json.123.tmp"
    stale.parent.mkdir(exist_ok=True)
    stale.write_text("half")
    os.utime(stale, (0, 0))
    worker = Worker(store, Settings(), evaluate=Counting())
    worker.recover()
    assert not store.work_dir("20260101000000-orphan00").exists() and not stale.exists()
    assert not (tmp_path / "submissions").exists()
    (lost,) = worker.drain()
    assert lost["status"] == "FAILED" and "submit the zip again" in lost["reason"]


def test_a_submission_being_admitted_keeps_its_outputs_while_a_worker_starts(tmp_path, monkeypatch):
    # a submission's outputs are moved into its work folder before its request is written; a worker starting then saw
    # the folder as no request's and removed it. The sweep waits for the submission being admitted, and, told it is busy,
    # leaves the folders for the next start
    from filelock import FileLock  # noqa: PLC0415

    from leaderboard import store as store_module  # noqa: PLC0415

    store = ResultsStore(tmp_path)
    unpacking = store.work_dir("20260101000000-unpack00")
    unpacking.mkdir(parents=True)
    monkeypatch.setattr(store_module, "ADMISSION_WAIT", 0.1)
    with FileLock(str(tmp_path / ".admission.lock")):  # the submission being admitted
        Worker(store, Settings(), evaluate=Counting()).recover()
        assert unpacking.exists()
    Worker(store, Settings(), evaluate=Counting()).recover()  # it never queued: swept at the next start
    assert not unpacking.exists()


def test_a_zip_left_half_unpacked_is_removed_and_one_being_unpacked_is_kept(tmp_path):
    # a zip is unpacked into its own folder before the submission is admitted; a submission whose process stopped there
    # left that folder behind for good. The worker's sweep removes it once it is an hour old, not one being unpacked now
    from leaderboard import worker as worker_module  # noqa: PLC0415

    store = ResultsStore(tmp_path)
    stopped, running = store.unpacking_dir("20260101000000-stopped0"), store.unpacking_dir("20260101000000-running0")
    for folder in (stopped, running):
        folder.mkdir(parents=True)
        (folder / "astronaut_10.png").write_bytes(b"png")
    hour_ago = time.time() - worker_module.UNPACKING_MAX_AGE_SECONDS - 5
    os.utime(stopped, (hour_ago, hour_ago))
    Worker(store, Settings(), evaluate=Counting()).recover()
    assert not stopped.exists() and (running / "astronaut_10.png").exists()


def test_a_running_worker_removes_a_zip_left_half_unpacked_after_it_started(tmp_path, monkeypatch):
    # the app that stopped mid-unpack starts again within minutes, when the folder is under an hour old: swept at the
    # start alone, it stayed until some later start. Each round of the queue sweeps them too
    from leaderboard import worker as worker_module  # noqa: PLC0415

    monkeypatch.setattr(worker_module, "POLL_SECONDS", 0.05)
    store = ResultsStore(tmp_path)
    stop = threading.Event()
    worker = Worker(store, Settings(), evaluate=Counting())
    started, drain = threading.Event(), worker.drain

    def first_round_seen():
        started.set()  # the start's sweep is over
        return drain()

    monkeypatch.setattr(worker, "drain", first_round_seen)
    thread = threading.Thread(target=worker.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        assert started.wait(10)
        stopped = store.unpacking_dir("20260101000000-stopped0")
        stopped.mkdir(parents=True)
        hour_ago = time.time() - worker_module.UNPACKING_MAX_AGE_SECONDS - 5
        os.utime(stopped, (hour_ago, hour_ago))
        deadline = time.time() + 10
        while stopped.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert not stopped.exists()
    finally:
        stop.set()
        worker.wake()
        thread.join(5)


def test_the_command_line_worker_drains_the_queue(tmp_path):
    # `python -m leaderboard.worker --once` evaluates what is queued (it stopped with a NameError on every request,
    # each crash taking one of the request's attempts); blank outputs are scored by the real harness and refused
    store = ResultsStore(tmp_path)
    store.work_dir(REQUEST_ID).mkdir(parents=True)
    benchmark = BENCHMARKS["offline"]()
    for item in benchmark.inputs:
        for target in benchmark.targets:
            save_png(np.full((256, 256, 3), 128, np.uint8), store.work_dir(REQUEST_ID) / f"{item.name}_{target:g}.png")
    store.add_request(
        {"id": REQUEST_ID, "kind": "outputs", "method": "Blank", "method_type": "GAN", "benchmark": "offline", "attempts": 0}
    )
    environment = {**os.environ, "HUB_PROFILE": "offline"}
    done = subprocess.run(
        [sys.executable, "-m", "leaderboard.worker", "--once", "--store", str(tmp_path)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (line,) = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert line["id"] == REQUEST_ID and line["status"] == "FAILED"
    assert line["reason"].startswith("no output could be scored, so nothing is listed"), line["reason"]
    assert store.records() == []


def test_outputs_none_of_which_can_be_scored_fail_with_the_reason_and_list_nothing(tmp_path):
    # a zip of blank grey images passed every check and was listed as a verified row of "missing" only
    store = ResultsStore(tmp_path)
    queued(store)

    def nothing_scored(request, folder):
        notes = {"n_outputs": 8, "n_missing_age": 8, "n_missing_identity": 8}
        return ResultsRecord.from_json(
            valid(provenance="verified", citation=None, metrics={"age_mae": None, "identity": None}, notes=notes)
        )

    finished = Worker(store, Settings(), evaluate=nothing_scored).run_one()
    assert finished is not None and finished["status"] == "FAILED"
    assert finished["reason"].startswith("no output could be scored, so nothing is listed (age missing for 8; identity ")
    assert store.records() == [] and not store.work_dir(REQUEST_ID).exists()
    # one scored output is enough to be listed (the rest counted as missing, as documented)
    queued(store, "20260101000000-abcdef13")
    listed = Worker(store, Settings(), evaluate=Counting()).run_one()
    assert listed is not None and listed["status"] == "FINISHED" and len(store.records()) == 1


def test_faceless_outputs_the_judge_alone_scored_are_not_listed(tmp_path):
    # the judge reads any image: a zip of grey boxes got an image quality and was listed as a verified row
    store = ResultsStore(tmp_path)
    queued(store)

    def judged_only(request, folder):
        notes = {"n_outputs": 8, "n_missing_age": 8, "n_missing_identity": 8}
        metrics = {"age_mae": None, "identity": None, "image_quality": 55.0}
        return ResultsRecord.from_json(valid(provenance="verified", citation=None, metrics=metrics, notes=notes))

    finished = Worker(store, Settings(), evaluate=judged_only).run_one()
    assert finished is not None and finished["status"] == "FAILED" and store.records() == []


def test_an_accounts_method_run_again_replaces_its_row_and_no_one_elses(tmp_path):
    # three zips of one submitter's "Foo" were three rows in one table (a submitter could list variants until one ranked
    # best); the command line replaces a method's row when it is evaluated again
    store = ResultsStore(tmp_path)
    ids = [f"2026010{day}000000-{letter * 8}" for day, letter in zip(range(1, 7), "abcdef")]
    owners = [
        ("Foo", "account:alice"),
        ("foo", "account:alice"),  # alice's again: replaces the first
        ("Foo", "account:bob"),  # another account's: its own row
        ("Bar", "account:alice"),  # another method: its own row
        ("Foo", "address:0123abcd"),  # anonymous, by address: a NAT's neighbours share it, so it replaces nothing
        ("Foo", "address:0123abcd"),
    ]
    for request_id, (method, key) in zip(ids, owners):
        queued(store, request_id)
        store.set_status(request_id, "PENDING", None, method=method, rate_key=key, submitted=request_id[:14])
    done = {d["id"]: d for d in Worker(store, Settings(), evaluate=Counting()).drain()}
    assert [done[i]["status"] for i in ids] == ["FINISHED"] * 6
    assert f"it replaces the row of request {ids[0]}" in done[ids[1]]["reason"]
    assert [i for i in ids if "replaces" in done[i]["reason"]] == [ids[1]]
    listed = sorted((r.method, r.notes["request"]) for r in store.records())
    assert listed == sorted([("foo", ids[1]), ("Foo", ids[2]), ("Bar", ids[3]), ("Foo", ids[4]), ("Foo", ids[5])])
    kept = json.loads((tmp_path / "results" / f"verified_{ids[0]}.json").read_text())
    assert kept["notes"]["superseded_by"] == ids[1]  # kept on file, not listed
    # its replacement removed, the row is listed again
    (tmp_path / "results" / f"verified_{ids[1]}.json").unlink()
    assert ("Foo", ids[0]) in [(r.method, r.notes["request"]) for r in store.records()]


def test_an_older_run_ending_last_does_not_replace_a_newer_row_and_a_resumed_run_does_replace(tmp_path):
    # whichever run ended last marked the other: two ending together hid both rows, a slow older one replaced a newer one
    from leaderboard.worker import result_name, supersede_earlier

    store = ResultsStore(tmp_path)
    old, new = "20260101000000-aaaaaaaa", "20260102000000-bbbbbbbb"
    for request_id in (old, new):
        queued(store, request_id)
        store.set_status(request_id, "PENDING", None, method="Foo", rate_key="account:alice", submitted=request_id[:14])
    records = {}
    for request_id in (new, old):  # both written before either marks the other, the newer first
        record = ResultsRecord.from_json(valid(provenance="verified", citation=None))
        record.method = "Foo"
        record.notes.update(request=request_id)
        store.add_result(record, name=result_name(request_id))
        records[request_id] = record
    asked = {request["id"]: request for request in store.requests()}
    assert supersede_earlier(store, asked[new], records[new]) == [old]
    assert supersede_earlier(store, asked[old], records[old]) == []  # the older replaces nothing
    assert [r.notes["request"] for r in store.records()] == [new]
    for request_id in (old, new):
        store.set_status(request_id, "FINISHED", "verified")
    # a run interrupted once its record was written marks what it replaces when the worker finishes it
    third = "20260103000000-cccccccc"
    queued(store, third)
    store.set_status(third, "PENDING", None, method="Foo", rate_key="account:alice", submitted=third[:14])
    record = ResultsRecord.from_json(valid(provenance="verified", citation=None))
    record.method = "Foo"
    record.notes.update(request=third)
    store.add_result(record, name=result_name(third))
    (finished,) = Worker(store, Settings(), evaluate=Counting()).drain()
    assert finished["id"] == third and f"it replaces the row of request {new}" in finished["reason"]
    assert [r.notes["request"] for r in store.records()] == [third]
