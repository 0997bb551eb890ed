"""The one worker that owns the submission queue.

    python -m leaderboard.worker            # serve: recover, then run PENDING requests as they come
    python -m leaderboard.worker --once     # recover, run what is PENDING, exit

The app starts the same worker in a thread. At start-up, a RUNNING request whose
worker is gone goes back to PENDING with its attempt count (after MAX_ATTEMPTS it is
FAILED, with the reason), and leftovers are swept: work folders of requests that are
no longer queued, half-written temporary files, stale locks. A request is claimed by
creating its lock file exclusively (O_EXCL), so two workers, in threads or processes,
can never both run it. A verified record is written under a name fixed by the request,
so a request interrupted after its record was written still ends with one record.
After evaluation the request's outputs are deleted: only its record stays.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from engine.core.errors import SettingsError
from engine.core.settings import get_settings
from evaluation.harness import evaluate
from evaluation.judge import Judge
from evaluation.records import ResultsRecord
from leaderboard.store import Busy, ResultsStore
from leaderboard.submissions import method_key
from leaderboard.views import unscored_note

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
POLL_SECONDS = 10.0  # how often the serving worker looks for requests nobody woke it for
TEMP_MAX_AGE_SECONDS = 600.0  # a temporary file older than this has no live writer (writes take well under a second)
# a zip being unpacked before it is queued (ResultsStore.unpacking_dir): the largest the archive's limits allow unpacks in
# seconds, so a folder there this old was left by a submission that stopped (its process ended) and is removed
UNPACKING_MAX_AGE_SECONDS = 3600.0

Evaluate = Callable[[dict, Path], ResultsRecord]

_HELD: set[str] = set()  # requests held by a worker of this process (a lock naming this pid is live only if listed)


def result_name(request_id: str) -> str:
    return f"verified_{request_id}"


def supersede_earlier(store: ResultsStore, request: dict, record: ResultsRecord) -> list[str]:
    """The ids of the requests whose verified rows `record` (listed for `request`) replaces, each marked superseded by it
    (`ResultsStore.records` no longer lists it): rows of the same signed-in account, method (as names are told apart,
    `method_key`), task and protocol, submitted before `request`. One row per method and protocol, as the command line
    replaces a method's row when it is evaluated again: three zips of one submitter's "Foo" were three rows in one
    table, and a submitter could list variants until one ranked best.
    - An account only: an anonymous submitter's key is their address's, which everyone behind one NAT, VPN or proxy
      shares (a neighbour's zip would take the author's row off the list); their rows are added, as before.
    - Earlier submitted only, whichever run ends last: two of one account's runs finishing together each marked the
      other (neither listed), and a slow run of older outputs replaced newer ones."""
    key, wanted = request.get("rate_key"), method_key(record.method)
    replaced: list[str] = []
    if not (isinstance(key, str) and key.startswith("account:")):
        return replaced
    requests = {other["id"]: other for other in store.requests()}
    mine = (str(request.get("submitted", "")), request["id"])
    for other in store.records():
        earlier = requests.get(str(other.notes.get("request")))
        if (
            earlier is None
            or other.provenance != "verified"
            or earlier.get("rate_key") != key
            or (str(earlier.get("submitted", "")), earlier["id"]) >= mine
            or method_key(other.method) != wanted
            or other.comparable_key() != record.comparable_key()
        ):
            continue
        other.notes["superseded_by"] = request["id"]
        store.add_result(other, name=result_name(earlier["id"]))
        replaced.append(earlier["id"])
    return replaced


def replacing(replaced: list[str]) -> str:
    """What a finished request's status adds about the rows it replaced (`supersede_earlier`): "" where none."""
    return f"; it replaces the row of request {', '.join(replaced)}" if replaced else ""


def harness_evaluation(store: ResultsStore, settings) -> Evaluate:
    """The harness on a folder of outputs, with the VLM judge when one is configured."""

    def run(request: dict, folder: Path) -> ResultsRecord:
        judge = None
        if settings.judge_configured:
            judge = Judge.from_settings(settings, store.root)
        return evaluate(
            f"folder:{folder}", request["benchmark"], settings=settings, method_type=request["method_type"], judge=judge
        )

    return run


class Worker:
    def __init__(self, store: ResultsStore, settings=None, evaluate: Evaluate | None = None):
        self.store = store
        self.settings = settings or get_settings()
        self.evaluate = evaluate or harness_evaluation(store, self.settings)
        self.owner = f"{socket.gethostname()} {os.getpid()}"
        self._wake = threading.Event()

    # ---- locks ----------------------------------------------------------------------------------

    def _lock_path(self, request_id: str) -> Path:
        return self.store.root / "locks" / f"{request_id}.lock"

    def _lock(self, request_id: str) -> bool:
        path = self._lock_path(request_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        with os.fdopen(handle, "w") as stream:
            stream.write(self.owner)
        _HELD.add(request_id)
        return True

    def _unlock(self, request_id: str) -> None:
        self._lock_path(request_id).unlink(missing_ok=True)
        _HELD.discard(request_id)

    def _lock_is_live(self, request_id: str) -> bool:
        """Someone alive holds this request: this worker, or another process on this machine."""
        try:
            host, pid = self._lock_path(request_id).read_text().split()
        except (FileNotFoundError, ValueError):
            return False
        if host != socket.gethostname():
            return False  # the locks folder is never synced: another host's lock was left by a previous machine
        if int(pid) == os.getpid():
            return request_id in _HELD
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    # ---- start-up ---------------------------------------------------------------------------------

    def recover(self) -> list[dict]:
        """Interrupted requests back to PENDING (or FAILED after MAX_ATTEMPTS); leftovers swept."""
        changed = []
        requests = self.store.requests()
        for request in requests:
            if request.get("status") != "RUNNING" or self._lock_is_live(request["id"]):
                continue
            self._unlock(request["id"])
            attempts = int(request.get("attempts") or 0)
            if attempts >= MAX_ATTEMPTS:
                changed.append(
                    self._fail(request["id"], f"the evaluation was interrupted {attempts} times (the worker stopped); resubmit")
                )
            else:
                changed.append(
                    self.store.set_status(
                        request["id"], "PENDING", f"interrupted after attempt {attempts} of {MAX_ATTEMPTS}; queued again"
                    )
                )
                logger.warning("request %s was interrupted (attempt %d); queued again", request["id"], attempts)
        # with no submission being admitted: one being admitted has its work folder and no request yet, and was swept as
        # not queued (its request then pointed at outputs that were gone)
        try:
            with self.store.admitting():
                self.sweep({r["id"]: r.get("status") for r in self.store.requests()})
        except Busy as error:
            logger.warning("leftovers not swept this time (at the next start): %s", error)
        return changed

    def sweep(self, statuses: dict[str, str | None]) -> None:
        queued = {request_id for request_id, status in statuses.items() if status in ("PENDING", "RUNNING")}
        work = self.store.root / "work"
        for folder in work.iterdir() if work.is_dir() else []:
            if folder.name not in queued:
                logger.info("removing the outputs of %s: it is no longer queued", folder.name)
                shutil.rmtree(folder, ignore_errors=True)
        legacy = self.store.root / "submissions"  # where earlier versions unpacked zips and never removed them
        if legacy.is_dir():
            logger.info("removing %d unpacked submissions left by an earlier version", len(list(legacy.iterdir())))
            shutil.rmtree(legacy, ignore_errors=True)
        locks = self.store.root / "locks"
        for lock in locks.glob("*.lock") if locks.is_dir() else []:
            if statuses.get(lock.stem) != "RUNNING" and not self._lock_is_live(lock.stem):
                lock.unlink(missing_ok=True)
        self.sweep_unpacking()
        now = time.time()
        for temporary in self.store.root.glob("*/.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                if now - temporary.stat().st_mtime > TEMP_MAX_AGE_SECONDS:
                    temporary.unlink()

    def sweep_unpacking(self) -> None:
        """Removes the zips left half unpacked by a submission that stopped (an unpacking folder an hour old): at the
        start and every round, as the app that stopped mid-unpack starts again within minutes (no lock: a live
        submission's folder is never that old)."""
        now = time.time()
        unpacking = self.store.root / "unpacking"
        for folder in unpacking.iterdir() if unpacking.is_dir() else []:
            with contextlib.suppress(FileNotFoundError):
                if now - folder.stat().st_mtime > UNPACKING_MAX_AGE_SECONDS:
                    logger.info("removing %s: its submission stopped while its zip was unpacked", folder.name)
                    shutil.rmtree(folder, ignore_errors=True)

    # ---- the queue ----------------------------------------------------------------------------------

    def claim(self, request_id: str) -> dict | None:
        """The request, now RUNNING and held by this worker; None when it is not PENDING or someone else has it."""
        if not self._lock(request_id):
            return None
        request = self.store.request(request_id)
        if request is None or request.get("status") != "PENDING":
            self._unlock(request_id)
            return None
        attempts = int(request.get("attempts") or 0) + 1
        return self.store.set_status(request_id, "RUNNING", f"attempt {attempts} of {MAX_ATTEMPTS}", attempts=attempts)

    def _fail(self, request_id: str, reason: str) -> dict:
        shutil.rmtree(self.store.work_dir(request_id), ignore_errors=True)
        return self.store.set_status(request_id, "FAILED", reason)

    def run_one(self) -> dict | None:
        """Run the oldest PENDING request; what it ended as, or None when nothing was waiting."""
        pending = sorted(
            (r for r in self.store.requests() if r.get("status") == "PENDING" and r.get("kind") == "outputs"),
            key=lambda r: r.get("submitted", ""),
        )
        for candidate in pending:
            request = self.claim(candidate["id"])
            if request is not None:
                try:
                    return self._run(request)
                finally:
                    self._unlock(request["id"])
        return None

    def _run(self, request: dict) -> dict:
        request_id = request["id"]
        name = result_name(request_id)
        if (self.store.root / "results" / f"{name}.json").exists():  # written before an interruption
            shutil.rmtree(self.store.work_dir(request_id), ignore_errors=True)
            # what the run would have done next: the rows it replaces are marked (left listed, two rows of one method)
            written = [record for record in self.store.records() if record.notes.get("request") == request_id]
            replaced = supersede_earlier(self.store, request, written[0]) if written else []
            return self.store.set_status(request_id, "FINISHED", f"verified record {name}{replacing(replaced)}")
        folder = self.store.work_dir(request_id)
        if not folder.is_dir():
            return self._fail(request_id, "the outputs were lost (the server's disk was reset); submit the zip again")
        try:
            record = self.evaluate(request, folder)
        except Exception as error:  # the reason is shown to the submitter
            logger.exception("evaluation of %s failed", request_id)
            return self._fail(request_id, f"{type(error).__name__}: {error}")
        if record.nothing_scored():  # a row of "missing" only, or scored by the judge alone, is not listed
            missing = "; ".join(
                f"{key.removeprefix('n_missing_')} missing for {value}"
                for key, value in record.notes.items()
                if key.startswith("n_missing_")
            )
            return self._fail(
                request_id,
                f"no output could be scored, so nothing is listed ({missing} of {record.notes.get('n_outputs', 'the')} "
                "outputs): no face was found in them, or they are not the benchmark's faces. Check the outputs and submit "
                "them again",
            )
        record.method = request["method"]
        record.notes.update(submitted_by=request.get("user"), request=request_id)
        self.store.add_result(record, name=name)
        replaced = supersede_earlier(self.store, request, record)
        shutil.rmtree(folder, ignore_errors=True)
        # outputs no face was found in are not scored: the submitter is told, as the table's note tells everyone
        partial = f"; {unscored_note(record)}" if record.unscored() else ""
        return self.store.set_status(request_id, "FINISHED", f"verified record {name}{replacing(replaced)}{partial}")

    def drain(self) -> list[dict]:
        done = []
        while (finished := self.run_one()) is not None:
            done.append(finished)
        return done

    def wake(self) -> None:
        self._wake.set()

    def serve(self, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        self.recover()
        while not stop.is_set():
            try:
                self.sweep_unpacking()
                self.drain()
            except Exception:  # a bug in one round must not stop the queue
                logger.exception("the submission worker failed a round; it goes on")
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()


_background: Worker | None = None
_background_lock = threading.Lock()


def start_background(store: ResultsStore, settings=None) -> Worker:
    """The app's worker thread (one per process)."""
    global _background
    with _background_lock:
        if _background is None:
            _background = Worker(store, settings)
            threading.Thread(target=_background.serve, name="submission-worker", daemon=True).start()
        return _background


def wake_background() -> None:
    if _background is not None:
        _background.wake()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="leaderboard.worker", description=__doc__.split("\n\n")[0])
    parser.add_argument("--once", action="store_true", help="run what is PENDING, then exit")
    parser.add_argument("--store", type=Path, default=None, help="store folder (default: HUB_STORE_DIR)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = get_settings()
    except SettingsError as error:  # an environment variable it cannot take: named in one line
        print(f"leaderboard.worker: {error}", file=sys.stderr)
        return 2
    store = ResultsStore(args.store) if args.store else ResultsStore.from_settings(settings)
    worker = Worker(store, settings)
    if args.once:
        worker.recover()
        for request in worker.drain():
            print(json.dumps({key: request.get(key) for key in ("id", "status", "reason")}))
        return 0
    worker.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
