"""Submissions: a reported results record (JSON with a paper link), or a zip of outputs the harness verifies.

Checks, each with a message naming the problem: schema (through ResultsRecord), size
and file-count caps, zip entries that would escape the folder (zip-slip, absolute
paths, links), unexpected file names, duplicates, and a per-user rate limit. Queue
states: PENDING -> RUNNING -> FINISHED / FAILED, with the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

from evaluation.benchmarks import BENCHMARKS
from evaluation.records import RecordError, ResultsRecord
from leaderboard.store import ResultsStore

logger = logging.getLogger(__name__)

MAX_RECORD_BYTES = 256 * 1024
MAX_ZIP_BYTES = 200 * 1024 * 1024
MAX_ZIP_FILES = 2000
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
RATE_LIMIT = 5  # submissions per user per 24 hours
OUTPUT_NAME = re.compile(r"^([a-z0-9_]+)_(\d+(?:\.\d+)?)\.png$")


class SubmissionError(ValueError):
    """A refused submission; the message says why and what to fix."""


def _check_user(store: ResultsStore, user: str) -> str:
    user = (user or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9][\w.-]{0,63}", user):
        raise SubmissionError(f"user name must be 1-64 letters, digits, '.', '_' or '-', got {user!r}")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=24)

    def submitted(request) -> dt.datetime:
        try:
            return dt.datetime.fromisoformat(request["submitted"])
        except (KeyError, TypeError, ValueError):  # a request without a readable time counts as recent
            return dt.datetime.now(dt.UTC)

    recent = [r for r in store.requests() if r.get("user") == user and submitted(r) > since]
    if len(recent) >= RATE_LIMIT:
        raise SubmissionError(
            f"{user} has made {len(recent)} submissions in the last 24 hours (limit {RATE_LIMIT}); try again tomorrow"
        )
    return user


def _duplicate_of(store: ResultsStore, digest: str) -> str | None:
    for request in store.requests():
        if request.get("sha256") == digest and request.get("status") != "FAILED":
            return request["id"]
    return None


def submit_record(store: ResultsStore, user: str, content: bytes) -> dict:
    """A reported record: validated now, then FINISHED with the record stored (or refused)."""
    user = _check_user(store, user)
    if len(content) > MAX_RECORD_BYTES:
        raise SubmissionError(f"the record is {len(content)} bytes; the limit is {MAX_RECORD_BYTES}")
    try:
        data = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SubmissionError(f"the record is not valid JSON ({error})") from None
    try:
        record = ResultsRecord.from_json(data, submitted=True)
    except RecordError as error:
        raise SubmissionError(f"the record is malformed: {error}") from None
    digest = hashlib.sha256(json.dumps(record.to_json(), sort_keys=True).encode()).hexdigest()
    duplicate = _duplicate_of(store, digest)
    if duplicate:
        raise SubmissionError(f"the same record was already submitted (request {duplicate})")
    request_id = f"{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}-{digest[:8]}"
    store.add_request({"id": request_id, "user": user, "kind": "record", "method": record.method, "sha256": digest})
    store.set_status(request_id, "RUNNING")
    path = store.add_result(record)
    return store.set_status(request_id, "FINISHED", f"stored as {path.name}")


def safe_members(archive: zipfile.ZipFile, allowed: set[str]) -> list[zipfile.ZipInfo]:
    """The archive's files, refusing anything that could escape the folder or is not an expected output."""
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_ZIP_FILES:
        raise SubmissionError(f"the zip holds {len(members)} files; the limit is {MAX_ZIP_FILES}")
    total = 0
    for member in members:
        name = member.filename
        path = PurePosixPath(name)
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in path.parts or "\\" in name:
            raise SubmissionError(f"zip entry {name!r} points outside the submission folder; refused")
        if stat.S_ISLNK(member.external_attr >> 16):
            raise SubmissionError(f"zip entry {name!r} is a link; refused")
        if path.name not in allowed:
            raise SubmissionError(
                f"zip entry {name!r} is not an expected output; name files {{input}}_{{target}}.png, e.g. {sorted(allowed)[0]}"
            )
        total += member.file_size
        if total > MAX_UNPACKED_BYTES:
            raise SubmissionError(f"the zip unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB; refused")
    return members


def submit_outputs(
    store: ResultsStore, user: str, zip_path: Path, method: str, method_type: str, benchmark: str = "offline"
) -> dict:
    """A zip of outputs: checked, unpacked under the store and queued PENDING for the harness."""

    user = _check_user(store, user)
    if not re.fullmatch(r"[\w.+-]{1,64}", method or ""):
        raise SubmissionError(f"method name must be 1-64 letters, digits, '.', '_', '+' or '-', got {method!r}")
    if benchmark not in BENCHMARKS:
        raise SubmissionError(f"benchmark must be one of {sorted(BENCHMARKS)}, got {benchmark!r}")
    size = zip_path.stat().st_size
    if size > MAX_ZIP_BYTES:
        raise SubmissionError(f"the zip is {size // 2**20} MB; the limit is {MAX_ZIP_BYTES // 2**20} MB")
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    duplicate = _duplicate_of(store, digest)
    if duplicate:
        raise SubmissionError(f"the same outputs were already submitted (request {duplicate})")
    bench = BENCHMARKS[benchmark]()
    allowed = {f"{item.name}_{target:g}.png" for item in bench.inputs for target in bench.targets}
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile:
        raise SubmissionError("the file is not a zip archive") from None
    request_id = f"{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}-{digest[:8]}"
    folder = store.root / "submissions" / request_id
    with archive:
        members = safe_members(archive, allowed)
        folder.mkdir(parents=True, exist_ok=True)
        for member in members:
            (folder / PurePosixPath(member.filename).name).write_bytes(archive.read(member))
    missing = sorted(allowed - {p.name for p in folder.iterdir()})
    store.add_request(
        {
            "id": request_id,
            "user": user,
            "kind": "outputs",
            "method": method,
            "method_type": method_type,
            "benchmark": benchmark,
            "folder": str(folder),
            "sha256": digest,
            "missing_outputs": missing,
        }
    )
    return next(r for r in store.requests() if r["id"] == request_id)


def process_pending(store: ResultsStore, settings=None) -> list[dict]:
    """Run the harness on every PENDING outputs submission: FINISHED with a verified record, or FAILED with why."""
    from evaluation.harness import evaluate  # noqa: PLC0415 - pulls in torch: loads on the first request that needs it, not at start-up

    done = []
    for request in store.requests():
        if request.get("status") != "PENDING" or request.get("kind") != "outputs":
            continue
        store.set_status(request["id"], "RUNNING")
        try:
            record = evaluate(
                f"folder:{request['folder']}", request["benchmark"], settings=settings, method_type=request["method_type"]
            )
            record.method = request["method"]
            record.notes["submitted_by"] = request["user"]
            path = store.add_result(record)
            done.append(store.set_status(request["id"], "FINISHED", f"verified record {path.name}"))
        except Exception as error:  # the reason is shown to the submitter
            logger.exception("evaluation of %s failed", request["id"])
            done.append(store.set_status(request["id"], "FAILED", f"{type(error).__name__}: {error}"))
    return done
