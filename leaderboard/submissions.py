"""Submissions: a claim (a paper's numbers, reviewed by the maintainer) or a zip of outputs the harness verifies.

Who submits: a Hugging Face account when logged in, else the client's address (kept
only as a keyed hash). Rate limits count per account or per address, never per a name
typed in a box. A claim is checked against its schema (leaderboard/claims.py) and waits
AWAITING_REVIEW until the maintainer approves it (FINISHED, listed as a `reported` row)
or rejects it (REJECTED, with the reason). A zip is checked and unpacked into a folder of
its own (leaderboard/archive.py), then, checked against the queue, moved under the store's
work folder and queued PENDING for the worker (leaderboard/worker.py). A FAILED or REJECTED request can be submitted again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import re
import secrets
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.core.limits import quote
from evaluation.benchmarks import BENCHMARKS
from evaluation.harness import HARNESS_METHODS
from evaluation.records import ResultsRecord
from evaluation.tasks import METHOD_TYPES
from leaderboard.archive import ArchiveLimits, SubmissionError, unpack_outputs
from leaderboard.claims import METHOD_NAME, ClaimError, parse_claim
from leaderboard.seeds import seed_records
from leaderboard.store import Busy, ResultsStore

logger = logging.getLogger(__name__)

MAX_CLAIM_BYTES = 256 * 1024
MAX_JSON_DEPTH = 20  # a claim nests 3 levels; deeper JSON is refused before it is parsed
RATE_LIMIT = 5  # submissions per account (or per address when anonymous) per 24 hours
RATE_WINDOW = dt.timedelta(hours=24)
LIMITS = ArchiveLimits()
RETRYABLE = ("FAILED", "REJECTED")  # a request in one of these states does not block the same content

__all__ = [
    "RATE_LIMIT",
    "Submitter",
    "SubmissionError",
    "approve_claim",
    "is_maintainer",
    "reject_claim",
    "request_status",
    "submit_claim",
    "submit_outputs",
]


@dataclass(frozen=True)
class Submitter:
    """Who submits: a logged-in Hugging Face account, or (anonymous) the client's address."""

    account: str | None = None
    address: str | None = None

    @property
    def shown(self) -> str:
        return self.account or "anonymous"

    def rate_key(self, store: ResultsStore) -> str:
        if self.account:
            return f"account:{self.account}"
        if not self.address:
            raise SubmissionError("the client's address is unknown, so an anonymous submission cannot be rate-limited; log in")
        keyed = hmac.new(store.secret(), rate_address(self.address).encode(), hashlib.sha256).hexdigest()[:16]
        return f"address:{keyed}"


# An IPv6 client is counted by its /64: one subscriber is given a /64 at the least (RFC 6177; RFC 7934 hands a host a
# whole /64), so counted by its full address one client had as many daily quotas as addresses in its prefix.
IPV6_RATE_PREFIX = 64


def rate_address(address: str) -> str:
    """What an anonymous submitter's address is counted as: an IPv4 address itself (also written as IPv4-mapped IPv6),
    an IPv6 address its /64 network; anything else (not an address) as it is."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_RATE_PREFIX), strict=False))
    return str(parsed)


def is_maintainer(settings, account: str | None = None, token: str | None = None) -> bool:
    """The Space's owner logged in with Hugging Face, or (anywhere) whoever holds HUB_ADMIN_TOKEN."""
    if account and settings.space_owner and account == settings.space_owner:
        return True
    return bool(token and settings.admin_token and hmac.compare_digest(token.encode(), settings.admin_token.encode()))


def _check_rate(store: ResultsStore, requests: list[dict], submitter: Submitter) -> str:
    """The submitter's rate key, once `requests` (the queue, read once for the submission) hold fewer than RATE_LIMIT of
    theirs in RATE_WINDOW."""
    key = submitter.rate_key(store)
    since = dt.datetime.now(dt.UTC) - RATE_WINDOW

    def submitted(request) -> dt.datetime:
        try:
            return dt.datetime.fromisoformat(request["submitted"])
        except (KeyError, TypeError, ValueError):  # a request without a readable time counts as recent
            return dt.datetime.now(dt.UTC)

    recent = [r for r in requests if r.get("rate_key") == key and submitted(r) > since]
    if len(recent) >= RATE_LIMIT:
        who = submitter.account or "this address"
        raise SubmissionError(
            f"{who} has made {len(recent)} submissions in the last 24 hours (limit {RATE_LIMIT}); try again tomorrow"
        )
    return key


def _duplicate_of(requests: list[dict], digest: str, field: str = "sha256") -> str | None:
    """The id of one of `requests` whose `field` (the content's digest: "sha256", or "pixels_sha256" for outputs) is
    `digest` and that still blocks the same content (not FAILED or REJECTED), or None."""
    for request in requests:
        if request.get(field) == digest and request.get("status") not in RETRYABLE:
            return request["id"]
    return None


# ASCII characters that read alike in a sans-serif font, as written, each as the one it is compared as: "CradIe2Cane" (a
# capital I for the l) passed as a name of its own. A lower-case i (its dot) and l are told apart, as are "RN" and "M"
LOOK_ALIKE = str.maketrans({"I": "l", "1": "l", "0": "O"})


def method_key(name: str) -> str:
    """A method's name as names are told apart: its letters, digits and '+', case folded once the look-alikes (LOOK_ALIKE,
    "rn" for "m", "vv" for "w") are one ("Cradle2Cane", "cradle-2-cane", "CRADLE2CANE" and "CradIe2Cane" are one name;
    "HRFAE+" is not "HRFAE")."""
    alike = name.translate(LOOK_ALIKE).replace("rn", "m").replace("vv", "w")
    return "".join(char for char in alike.casefold() if char.isalnum() or char == "+")


def listed_elsewhere(method: str) -> str | None:
    """Why `method` cannot name someone's outputs whoever submits them, or None: it reads as (`method_key`) a method the
    project runs itself (the evaluation harness's, HARNESS_METHODS: "classical" was free until the maintainer's own run
    listed it, and a stranger's outputs then had the row "classical | verified" first) or one the table lists from its
    paper (leaderboard/seeds.py)."""
    wanted = method_key(method)
    for record in seed_records():
        if method_key(record.method) == wanted:
            return f"{record.method!r} is listed ({record.provenance}) in the {record.task} table"
    for own in HARNESS_METHODS:
        if method_key(own) == wanted:
            return f"{own!r} is the project's own method, which its evaluation harness runs"
    return None


def _check_name(store: ResultsStore, queue: list[dict], method: str, key: str) -> None:
    """Refuse a zip's method name that is another's: a method the table lists from its paper (or the project lists),
    or one another submitter's verified row, or outputs of theirs still in the queue, bear. A stranger's outputs were
    listed as verified under a paper's method's name ("Cradle2Cane"), and read as that method's. The submitter's own
    name (their account, or their address's key) stays theirs to submit under again."""
    reserved = listed_elsewhere(method)
    if reserved is not None:
        raise SubmissionError(
            f"the method name {method!r} is taken: {reserved}. Give yours a name of its own (for a reproduction, e.g. "
            f"'{method}-repro')"
        )
    wanted = method_key(method)
    owners = {request["id"]: request.get("rate_key") for request in queue}
    for record in store.records():
        if method_key(record.method) != wanted:
            continue
        # a verified row's name is its submitter's; a reported row's (a paper's numbers, approved by the maintainer,
        # whoever sent the claim) is no submitter's: a claim's sender listed their own outputs under it before
        request = record.notes.get("request") if record.provenance == "verified" else None
        if request is None or owners.get(request) != key:
            listed = "another submitter's verified row" if request is not None else f"listed ({record.provenance})"
            owner = (
                "; if the row is yours, submit from the account or address that listed it, or ask the maintainer"
                if request is not None
                else ""
            )
            raise SubmissionError(
                f"the method name {method!r} is taken: {record.method!r} is {listed} in the {record.task} table. Give "
                f"yours a name of its own (for a reproduction, e.g. '{method}-repro'){owner}"
            )
    for request in queue:
        if (
            request.get("kind") == "outputs"
            and request.get("status") not in RETRYABLE
            and request.get("rate_key") != key
            and method_key(str(request.get("method", ""))) == wanted
        ):
            raise SubmissionError(
                f"the method name {method!r} is taken: another submitter's outputs under {request['method']!r} are "
                f"{str(request.get('status', 'queued')).lower()}; give yours a name of its own"
            )


def _admissible(store: ResultsStore, queue: list[dict], submitter: Submitter, digest: str, what: str) -> str:
    """The submitter's rate key, once `queue` (the requests, read once) holds no copy of the content `digest` still
    blocking it (`_duplicate_of`; `what`: "claim was" or "outputs were", for the message) and fewer than RATE_LIMIT of
    theirs (`_check_rate`)."""
    duplicate = _duplicate_of(queue, digest)
    if duplicate:
        raise SubmissionError(f"the same {what} already submitted (request {duplicate})")
    return _check_rate(store, queue, submitter)


def _depth(text: str) -> int:
    """The deepest nesting of brackets outside strings, without parsing."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped = not escaped and char == "\\"
            if char == '"' and not escaped:
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _request_id(digest: str) -> str:
    """Time, content and a random part: a resubmission in the same second still gets its own id."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}-{digest[:8]}-{secrets.token_hex(3)}"


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object whose keys are each given once: a key given twice is refused by name (read as JSON reads it, the
    last value won silently: a claim's method "X" then "Y Y" was submitted as "Y Y")."""
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise SubmissionError(f"the claim gives {quote(key)} twice in one object; give each field once")
        seen[key] = value
    return seen


def submit_claim(store: ResultsStore, submitter: Submitter, content: bytes) -> dict:
    """A claim: checked now, then AWAITING_REVIEW in the public list (or refused, naming every bad field)."""
    if len(content) > MAX_CLAIM_BYTES:
        raise SubmissionError(f"the claim is {len(content)} bytes; the limit is {MAX_CLAIM_BYTES} bytes")
    try:
        text = content.decode("utf-8-sig")  # a byte-order mark (Windows Notepad's UTF-8) is not part of the JSON
    except UnicodeDecodeError as error:
        raise SubmissionError(f"the claim is not UTF-8 text ({error})") from None
    if _depth(text) > MAX_JSON_DEPTH:
        raise SubmissionError(f"the claim nests deeper than {MAX_JSON_DEPTH} levels; see leaderboard/claim.schema.json")
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except SubmissionError:
        raise
    except ValueError as error:
        if "integer string conversion" in str(error):  # Python's own words name its internals
            raise SubmissionError(
                f"the claim holds an integer of over {sys.get_int_max_str_digits()} digits; no field takes one that long"
            ) from None
        raise SubmissionError(f"the claim is not valid JSON ({error})") from None
    try:
        claim = parse_claim(data)
        record = claim.to_record()  # as approval makes it: a claim accepted here can be approved
    except ClaimError as error:
        raise SubmissionError(f"the claim is malformed: {error}") from None
    listed = seed_records() + store.records()
    alike = reads_as_listed(record, listed)
    if alike:
        raise SubmissionError(f"the claim is malformed: {alike}")
    unmatched = protocol_note(record, listed)
    body = claim.model_dump(mode="json", exclude_none=True)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    with _admitting(store):  # checked and queued as one step (see ResultsStore.admitting)
        key = _admissible(store, store.requests(), submitter, digest, "claim was")
        request_id = _request_id(digest)
        store.add_request(
            {
                "id": request_id,
                "user": submitter.shown,
                "rate_key": key,
                "kind": "claim",
                "method": claim.method,
                "sha256": digest,
                "claim": body,
                "status": "AWAITING_REVIEW",
                **({"protocol_note": unmatched} if unmatched else {}),
            }
        )
    return store.request(request_id) or {}


# how many of a task's listed protocols a claim matching none of them is shown (most rows first)
PROTOCOLS_SHOWN = 3


def protocol_note(record: ResultsRecord, listed: list[ResultsRecord]) -> str:
    """Nothing ("") when a claim's protocol (benchmark, input set, target ages, output count, evaluators) is one a listed row of
    its task has, else what it will be ranked beside (nothing: a table of its own) and the protocols listed, most rows
    first: a claim written after the schema's example matched none of the paper's rows, and nothing said so."""
    # a claim states no dataset, revision or split (a verified Hub benchmark row's): those rows it cannot match
    mine = [other for other in listed if other.task == record.task and other.protocol.dataset is None]
    if not mine or any(other.comparable_key() == record.comparable_key() for other in mine):
        return ""
    rows = Counter(other.comparable_key() for other in mine)
    named = {other.comparable_key(): other.protocol_label(detailed=True) for other in mine}
    shown = "; ".join(f"'{named[key]}' ({count} rows)" for key, count in rows.most_common(PROTOCOLS_SHOWN))
    return (
        f"its protocol matches none listed for the task {record.task!r}, so once approved it is ranked in a table of its "
        f"own; listed: {shown}. To be ranked beside one, give its benchmark, input set, target ages, image count and "
        "evaluators (age estimator, identity model, judge, in that order there) as written there"
    )


def reads_as_listed(record: ResultsRecord, listed: list[ResultsRecord]) -> str:
    """ "" or why `record`'s benchmark or input set reads as a listed row's of its task without being it: the same letters,
    digits and '+' once case and ASCII look-alikes are set aside (`method_key`: "ceIeba-hq-200" with a capital I, "CelebA
    HQ 200"), another text. Listed, it made a protocol whose label read as the listed one's."""
    for field in ("benchmark", "input_set"):
        mine = getattr(record.protocol, field)
        for other in listed:
            theirs = getattr(other.protocol, field)
            if other.task == record.task and theirs != mine and method_key(theirs) == method_key(mine):
                return (
                    f"protocol.{field} {mine!r} reads as the listed {theirs!r} but is not it: give it as written there to be "
                    "ranked beside those rows, or a name that reads apart"
                )
    return ""


def review_notes(request: dict, listed: list[ResultsRecord]) -> str:
    """What the maintainer reviewing a claim should know that its fields do not show, in words ("" when nothing): its
    protocol matches none listed now (`protocol_note`: the submitter is told, the reviewer was not, and a look-alike of
    a listed protocol read as it), and its method's name is one a listed row bears (`method_key`: claims are not refused
    a listed name, a paper's authors claiming their own later figures; "Cradle2Cane" with an age error of 0.5 read as the
    paper's row). `listed`: the seeds' and the store's records, read once for every claim the reviewer is shown."""
    claim = request.get("claim") or {}
    try:
        record = parse_claim(claim).to_record()
    except ClaimError as error:  # stored before a rule it breaks: the reviewer reads why
        return f"it no longer passes the claim's checks: {error}"
    notes = (
        ["a new protocol: it matches none listed, and is ranked in a table of its own"] if protocol_note(record, listed) else []
    )
    wanted = method_key(record.method)
    bearing = sorted(
        {f"{other.method!r} ({other.provenance}, {other.task})" for other in listed if method_key(other.method) == wanted}
    )
    if bearing:
        notes.append(f"its method's name is listed: {', '.join(bearing)}")
    return "; ".join(notes)


@contextmanager
def _admitting(store: ResultsStore) -> Iterator[None]:
    """`store.admitting()`, its Busy told to the submitter as a SubmissionError."""
    try:
        with store.admitting():
            yield
    except Busy as error:
        raise SubmissionError(str(error)) from None


def _claim_request(store: ResultsStore, request_id: str) -> dict:
    request = store.request(request_id)
    if request is None or request.get("kind") != "claim":
        raise SubmissionError(f"no claim with id {request_id!r}")
    if request["status"] != "AWAITING_REVIEW":
        raise SubmissionError(f"claim {request_id} is {request['status']}, not awaiting review")
    return request


def approve_claim(store: ResultsStore, request_id: str, reviewer: str) -> dict:
    """The maintainer approves: the claim becomes a `reported` row."""
    request = _claim_request(store, request_id)
    notes = {"approved_by": reviewer, "request": request_id, "submitted_by": request.get("user")}
    try:
        record = parse_claim(request["claim"]).to_record(notes=notes)
    except ClaimError as error:  # queued under an earlier version of the checks: reject it, saying this
        raise SubmissionError(f"claim {request_id} cannot be listed: {error}; reject it with this reason") from None
    path = store.add_result(record)
    return store.set_status(request_id, "FINISHED", f"approved by {reviewer}; listed as {path.stem}")


def reject_claim(store: ResultsStore, request_id: str, reviewer: str, reason: str) -> dict:
    if not (reason or "").strip():
        raise SubmissionError("say why the claim is rejected; the submitter sees the reason")
    _claim_request(store, request_id)
    return store.set_status(request_id, "REJECTED", f"rejected by {reviewer}: {reason.strip()[:500]}")


def submit_outputs(
    store: ResultsStore,
    submitter: Submitter,
    zip_path: Path,
    method: str,
    method_type: str,
    benchmark: str = "offline",
    settings=None,
    limits: ArchiveLimits | None = None,
) -> dict:
    """A zip of outputs: checked and unpacked (`ResultsStore.unpacking_dir`), then checked against the queue, moved under
    the store's work folder and queued PENDING for the worker, as one step."""
    # ASCII only: `\w` took any script's letters, so a look-alike of a listed method's name (a Cyrillic "С") passed; no
    # spaces (a claim's may have inner ones), and a letter, digit or '_' first (claims.METHOD_NAME: "-1+1" was a formula
    # in a spreadsheet the table was copied into)
    if not isinstance(method, str) or " " in method or len(method) > 64 or not re.fullmatch(METHOD_NAME, method):
        raise SubmissionError(
            f"method name must be 1-64 ASCII letters, digits, '.', '_', '+' or '-', starting with a letter, a digit or '_', "
            f"got {quote(method)}"
        )
    if method_type not in METHOD_TYPES:
        raise SubmissionError(f"method type must be one of {', '.join(METHOD_TYPES)}, got {method_type!r}")
    if benchmark not in BENCHMARKS:
        raise SubmissionError(f"benchmark must be one of {sorted(BENCHMARKS)}, got {benchmark!r}")
    limits = limits or LIMITS
    size = zip_path.stat().st_size
    if size > limits.zip_bytes:
        raise SubmissionError(f"the zip is {size / 2**20:.1f} MB; the limit is {limits.zip_bytes / 2**20:.1f} MB")
    with zip_path.open("rb") as stream:
        sha = hashlib.file_digest(stream, "sha256").hexdigest()
    bench = BENCHMARKS[benchmark]()
    inputs = {f"{item.name}_{target:g}.png": item.rgb for item in bench.inputs for target in bench.targets}
    max_pixels = settings.max_pixels if settings is not None else 40_000_000
    min_side = settings.min_side if settings is not None else 16
    # a first look at the queue, before the zip is unpacked: a copy already queued or a submitter over the limit is
    # refused without the work. The zip is unpacked outside the admission (a refused zip held it for its seconds of
    # unpacking, and every other submission waited), into a folder of its own the worker's sweep leaves alone; only the
    # checks against the queue and the queueing itself are one step (see ResultsStore.admitting)
    early = store.requests()
    _check_name(store, early, method, _admissible(store, early, submitter, sha, "outputs were"))
    request_id = _request_id(sha)
    staging = store.unpacking_dir(request_id)
    unpacked = unpack_outputs(zip_path, inputs, staging, max_pixels=max_pixels, min_side=min_side, limits=limits)
    queued = store.work_dir(request_id)
    try:
        with _admitting(store):
            queue = store.requests()  # read again: others may have been queued while this zip unpacked
            key = _admissible(store, queue, submitter, sha, "outputs were")
            _check_name(store, queue, method, key)  # another's, queued meanwhile under the same name
            # the same images in another zip (zipped again, or saved with another PNG compression)
            repacked = _duplicate_of(queue, unpacked.pixels_sha256, "pixels_sha256")
            if repacked:
                raise SubmissionError(f"the same outputs, zipped again, were already submitted (request {repacked})")
            queued.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(queued)
            store.add_request(
                {
                    "id": request_id,
                    "user": submitter.shown,
                    "rate_key": key,
                    "kind": "outputs",
                    "method": method,
                    "method_type": method_type,
                    "benchmark": benchmark,
                    "sha256": sha,
                    "pixels_sha256": unpacked.pixels_sha256,
                    "attempts": 0,
                }
            )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if store.request(request_id) is None:
            shutil.rmtree(queued, ignore_errors=True)
        raise
    return store.request(request_id) or {}


def request_status(store: ResultsStore, request_id: str) -> dict:
    """What a submitter sees of a request: its state, reason, attempts and times (no internal keys)."""
    try:
        request = store.request((request_id or "").strip())
    except ValueError as error:
        raise SubmissionError(str(error)) from None
    if request is None:
        raise SubmissionError(f"no request with id {request_id.strip()!r}; the id is shown when you submit")
    shown = ("id", "kind", "method", "user", "status", "reason", "attempts", "submitted", "updated")
    return {key: request[key] for key in shown if key in request}
