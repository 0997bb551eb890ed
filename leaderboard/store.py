"""The results store: a local directory (the embedded default) that syncs with two Hub dataset repos.

    store/results/*.json   results records
    store/requests/*.json  submissions and their state: a claim AWAITING_REVIEW -> FINISHED / REJECTED;
                           outputs PENDING -> RUNNING -> FINISHED / FAILED (leaderboard/worker.py runs them)
    store/unpacking/       a submission's zip unpacked before it is admitted, moved to work/ when it is (never synced)
    store/work/            outputs of a queued submission, removed once it is evaluated (never synced)
    store/.admission.lock  held while a submission is checked against the queue and added to it (never synced)

Every write is atomic (a temporary file renamed over the old one), so a process
killed mid-write leaves the previous file intact. The Hub is optional: an outage,
an empty store or an unreadable file never breaks the page; it shows what it has
and how old it is.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout
from huggingface_hub import CommitScheduler, HfApi

from engine.core.files import atomic_write_text
from engine.core.limits import quote
from evaluation.records import ResultsRecord, read_records

logger = logging.getLogger(__name__)

STATES = ("AWAITING_REVIEW", "REJECTED", "PENDING", "RUNNING", "FINISHED", "FAILED")
# seconds a submission waits for another being admitted (checked against the queue and queued; its zip is unpacked
# before) before it is told to try again
ADMISSION_WAIT = 60.0


class Busy(RuntimeError):
    """Another submission is being admitted and did not finish within ADMISSION_WAIT."""


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-").lower()[:60] or "x"


class _Scheduler(CommitScheduler):
    """A CommitScheduler told which files the Hub already holds (just pulled), so they are not committed back."""

    def __init__(self, *, committed: dict[Path, float], **kwargs):
        self._committed = committed
        super().__init__(**kwargs)  # starts the thread, whose first push reads _committed

    def push_to_hub(self):
        with self.lock:
            for path, mtime in self._committed.items():
                self.last_uploaded.setdefault(path, mtime)
            self._committed = {}
        return super().push_to_hub()


class HubSync:
    """The store's two folders kept in Hub dataset repos: pulled at start-up, committed in the background.

    Writes go to the local folders (atomically) as always; a `huggingface_hub.CommitScheduler`
    per folder commits what changed every `every` minutes (and once more at exit), so a
    burst of submissions is a few commits, not one per file. `flush()` commits now.
    """

    def __init__(self, results_repo: str, requests_repo: str, api=None, every: float = 1.0):
        self.repos = {"results": results_repo, "requests": requests_repo}
        self.api = api or HfApi()
        self.every = every
        self.schedulers: dict[str, _Scheduler] = {}

    def pull(self, root: Path) -> None:
        for kind, repo in self.repos.items():
            self.api.snapshot_download(repo_id=repo, repo_type="dataset", local_dir=str(root / kind), allow_patterns=["*.json"])

    def start(self, root: Path) -> None:
        """Begin the background commits (once); files already on disk count as committed (they were just pulled)."""
        for kind, repo in self.repos.items():
            if kind in self.schedulers:
                continue
            folder = root / kind
            folder.mkdir(parents=True, exist_ok=True)
            self.schedulers[kind] = _Scheduler(
                committed={path.resolve(): path.stat().st_mtime for path in folder.glob("*.json")},
                repo_id=repo,
                repo_type="dataset",
                folder_path=folder,
                every=self.every,
                allow_patterns=["*.json"],
                hf_api=self.api,
            )

    def flush(self) -> None:
        """Commit what changed now, and wait for it."""
        for scheduler in self.schedulers.values():
            scheduler.trigger().result()


@dataclass
class ResultsStore:
    root: Path
    hub: HubSync | None = None
    problems: list[str] = field(default_factory=list)  # what could not be read or synced, for the page
    last_pull: float | None = None

    @classmethod
    def from_settings(cls, settings) -> ResultsStore:
        hub = None
        if settings.results_repo and settings.requests_repo:
            hub = HubSync(settings.results_repo, settings.requests_repo, every=settings.sync_minutes)
        return cls(Path(settings.store_dir), hub)

    def pull(self) -> str:
        """Refresh from the Hub when configured; never raises."""
        if self.hub is None:
            return "local store only (no Hub repos configured)"
        try:
            self.hub.pull(self.root)
        except Exception as error:  # an outage or a missing repo must not break the page
            message = f"Hub sync failed ({type(error).__name__}: {error}); showing the local store"
            logger.warning(message)
            self.problems.append(message)
            self.start_sync()  # what is written from now on still reaches the Hub
            return message
        self.last_pull = time.time()
        self.start_sync()
        return "synced with the Hub"

    def start_sync(self) -> None:
        """Start committing to the Hub in the background (after `pull`); never raises."""
        if self.hub is None:
            return
        try:
            self.hub.start(self.root)
        except Exception as error:
            message = f"Hub commits could not start ({type(error).__name__}: {error}); results are kept locally"
            logger.warning(message)
            self.problems.append(message)

    def flush(self) -> None:
        """Commit pending changes to the Hub now (at shutdown, in tests); a failure is reported, never raised."""
        if self.hub is None:
            return
        try:
            self.hub.flush()
        except Exception as error:
            message = f"could not commit to the Hub ({type(error).__name__}: {error}); the files are kept locally"
            logger.warning(message)
            self.problems.append(message)

    # ---- results -----------------------------------------------------------------------------

    def add_result(self, record: ResultsRecord, name: str | None = None) -> Path:
        """Write a record; `name` (a file stem) makes writing it again replace it instead of adding a second."""
        body = json.dumps(record.to_json(), indent=1, sort_keys=True)
        digest = hashlib.sha256(body.encode()).hexdigest()[:10]
        name = slug(name) if name else f"{slug(record.task)}_{slug(record.method)}_{record.date[:10]}_{digest}"
        path = self.root / "results" / f"{name}.json"
        atomic_write_text(path, body)
        return path

    def records(self) -> list[ResultsRecord]:
        """The listed records: every one read, less those a later run of the same account's method superseded (kept on
        file with `superseded_by`, the request that did: the store's Hub copy only ever adds and changes files) while
        that request's record is on file (a row whose replacement was removed is listed again)."""
        records, problems = read_records(self.root / "results")
        for message in problems:
            if message not in self.problems:
                logger.warning(message)
                self.problems.append(message)
        present = {record.notes.get("request") for record in records} - {None}
        return [record for record in records if record.notes.get("superseded_by") not in present]

    def version(self) -> str:
        """Changes whenever a result is added, replaced or removed (names and modification times)."""
        files = sorted((self.root / "results").glob("*.json"))
        stamp = "".join(f"{p.name}:{p.stat().st_mtime_ns};" for p in files if p.exists())
        return hashlib.sha256(stamp.encode()).hexdigest()[:16]

    def age(self) -> str:
        files = list((self.root / "results").glob("*.json"))
        if not files:
            return "the store holds no verified results yet"
        newest = max(p.stat().st_mtime for p in files)
        minutes = (time.time() - newest) / 60
        when = f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.0f} h"
        return f"newest result written {when} ago ({dt.datetime.fromtimestamp(newest).isoformat(timespec='minutes')})"

    # ---- requests (the submission queue) --------------------------------------------------------

    @contextmanager
    def admitting(self) -> Iterator[None]:
        """Held while one submission is checked against the queue (an earlier copy, the submitter's rate) and added to
        it: two checked at once each saw the queue without the other, and a burst of simultaneous submissions passed
        the rate limit together. A lock file in the store, so the Space's threads and a second process take turns.
        Raises Busy after ADMISSION_WAIT seconds."""
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            with FileLock(str(self.root / ".admission.lock"), timeout=ADMISSION_WAIT):
                yield
        except Timeout:
            raise Busy(f"another submission is being checked and took over {ADMISSION_WAIT:.0f} s; try again") from None

    def add_request(self, request: dict) -> Path:
        request = {"status": "PENDING", **request, "submitted": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        path = self.request_path(request["id"])
        atomic_write_text(path, json.dumps(request, indent=1, sort_keys=True))
        return path

    def request_path(self, request_id: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9-]{1,80}", request_id or ""):
            # quoted short: a 20 MB id was echoed whole, and logged, by every refusal
            raise ValueError(f"a request id is letters, digits and '-' (as shown when it was submitted), got {quote(request_id)}")
        return self.root / "requests" / f"{request_id}.json"

    def work_dir(self, request_id: str) -> Path:
        """Where a queued submission's outputs wait for the worker (removed after evaluation)."""
        return self._request_dir("work", request_id)

    def unpacking_dir(self, request_id: str) -> Path:
        """Where a submission's zip is unpacked before it is queued (moved to `work_dir` when it is): a folder the worker's
        sweep of unqueued outputs leaves alone while it is young (see worker.UNPACKING_MAX_AGE_SECONDS)."""
        return self._request_dir("unpacking", request_id)

    def _request_dir(self, folder: str, request_id: str) -> Path:
        """The request's own folder under `folder` of the store, its id checked as `request_path` checks it."""
        self.request_path(request_id)
        return self.root / folder / request_id

    def request(self, request_id: str) -> dict | None:
        """One request by id; None when there is none."""
        path = self.request_path(request_id)
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return None

    def set_status(self, request_id: str, status: str, reason: str | None = None, **changes) -> dict:
        if status not in STATES:
            raise ValueError(f"status must be one of {STATES}, got {status!r}")
        path = self.request_path(request_id)
        request = json.loads(path.read_text())
        request.update(changes)
        request.update(status=status, reason=reason, updated=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        atomic_write_text(path, json.dumps(request, indent=1, sort_keys=True))
        return request

    def secret(self) -> bytes:
        """A random key of this store (never synced), for keying client addresses before they are stored."""
        path = self.root / ".secret"
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            # written whole under another name, then linked into place (which fails where the key exists): two first
            # callers cannot write two keys, and no caller reads a key half written (an empty key hashed addresses
            # as good as unkeyed)
            handle, written = tempfile.mkstemp(dir=self.root, prefix=".secret.", suffix=".tmp")
            try:
                with os.fdopen(handle, "w") as stream:
                    stream.write(secrets.token_hex(32))
                with contextlib.suppress(FileExistsError):
                    os.link(written, path)
            finally:
                os.unlink(written)
        return path.read_text().strip().encode()

    def requests(self) -> list[dict]:
        found = []
        for path in sorted((self.root / "requests").glob("*.json")):
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError) as error:
                self.problems.append(f"skipped unreadable request {path.name}: {error}")
        return found
