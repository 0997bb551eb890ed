"""Tab "Leaderboard": results per task and protocol, the age-identity trade-off, claims, verified submissions."""

from __future__ import annotations

import ipaddress
import logging
import threading
from pathlib import Path

import gradio as gr
import pandas as pd

from demos.common import CheckboxGroupField, DropdownField, RadioField, literal_markdown, user_errors
from engine.core.checks import check_flag
from engine.core.settings import get_settings
from evaluation.records import ResultsRecord
from evaluation.tasks import METHOD_TYPES, TASKS, evaluation_text
from leaderboard import submissions as S
from leaderboard.claims import SCHEMA_PATH
from leaderboard.seeds import seed_records
from leaderboard.store import ResultsStore
from leaderboard.views import axis_range, point_labels, protocols, select, table, tradeoff
from leaderboard.worker import start_background, wake_background

logger = logging.getLogger(__name__)

TITLE = "Leaderboard"
# The tables' column headers wrap between words only: with a dozen columns Gradio's wrapping broke them mid-word
# ("provenanc-e", "Identi-ty"); a column is as wide as its longest header word instead.
# The protocol's name ends short of the list's arrow, with an ellipsis where it is longer than the box: it ran under the
# arrow ("Face++ AP▾I"); the list open shows each name whole.
CSS = (
    ".leaderboard-table th span.header { word-break: normal; overflow-wrap: normal; }\n"
    "#leaderboard-protocol input { padding-right: 2em; text-overflow: ellipsis; }"
)
API_NAME = "leaderboard"
REFRESH_SECONDS = 30  # how often an open page looks for new results (and new protocols)
_store: ResultsStore | None = None
_store_lock = threading.Lock()


def store() -> ResultsStore:
    global _store
    with _store_lock:
        if _store is None:
            _store = ResultsStore.from_settings(get_settings())
        return _store


def all_records() -> list[ResultsRecord]:
    return seed_records() + store().records()


def task_key(title: str) -> str:
    for key, task in TASKS.items():
        if task.title == title:
            return key
    raise gr.Error(f"task must be one of {', '.join(t.title for t in TASKS.values())}, got {title!r}", print_exception=False)


def status_text() -> str:
    current = store()
    where = "synced with Hub datasets" if current.hub is not None else "a local store"
    lines = [f"Results from {where}; {current.age()}. {len(seed_records())} reported rows from papers."]
    lines += [f"- {problem}" for problem in current.problems[-5:]]
    return "\n".join(lines)


def protocol_choices(task_title: str, current: str | None = None):
    """The task's protocols as they are now (new ones included), keeping the selection when it still exists."""
    labels = protocols(all_records(), task_key(task_title))
    return gr.Dropdown(choices=labels, value=current if current in labels else (labels[0] if labels else None))


def show(task_title, protocol, columns, types, verified_only, search):
    """Main action (API `/leaderboard`): the table for one task and protocol, the summary line and the trade-off plot."""
    key = task_key(task_title)
    with user_errors():
        verified_only = check_flag(verified_only, "verified_only")  # "no" was read as on
    records = all_records()
    known = protocols(records, key)
    # rows of different protocols are never ranked together: an API call that names none is refused where there are any
    if protocol is None and known:
        raise gr.Error(
            f"choose a protocol: {task_title}'s rows are ranked per protocol; protocols: {known}", print_exception=False
        )
    if protocol is not None and protocol not in known:
        shown = repr(protocol) if len(str(protocol)) <= 200 else f"{str(protocol)[:200]!r}... ({len(str(protocol))} characters)"
        raise gr.Error(f"protocol {shown} has no rows for {task_title}; protocols: {known}", print_exception=False)
    titles = [m.title for m in TASKS[key].metrics]
    foreign = [title for title in columns or [] if title not in titles]
    if foreign:  # another task's column was left out, and every column shown
        raise gr.Error(f"columns for {task_title} are some of {titles}, got {foreign}", print_exception=False)
    return _shown(records, key, protocol, columns, types, verified_only, search)


def show_selection(task_title, protocol, columns, types, verified_only, search):
    """`show` for the tab's own controls: a filter changed just after the task, before the protocol list followed it,
    sends the task before's protocol; the table is then the new task's first protocol's, as the list is about to show
    (the API's `/leaderboard` refuses a protocol the task has not). The store's records are read once."""
    key = task_key(task_title)
    records = all_records()
    known = protocols(records, key)
    chosen = protocol if protocol in known or not known else known[0]
    return _shown(records, key, chosen, columns, types, verified_only, search)


def _shown(records, key: str, protocol, columns, types, verified_only, search):
    """The table, the summary line and the trade-off plot of task `key`'s rows of `records` under `protocol`."""
    chosen = select(records, key, protocol, types, verified_only, search)
    task = TASKS[key]
    column_keys = [m.key for m in task.metrics if m.title in (columns or [])] or None
    frame, summary = table(chosen, key, column_keys)
    note = summary or "No numbers to aggregate for this selection."
    if frame.empty:
        note = "No rows match this selection."
    return frame, note, tradeoff_figure(tradeoff(chosen) if key == "lifespan" else tradeoff([]))


def tradeoff_figure(points: pd.DataFrame):
    """The age-identity trade-off of the selection's rows, drawn on the server: each row a point named by its method,
    reported and verified rows marked apart. (Gradio's own scatter plot kept the first selection's points and colours
    when the protocol changed: another protocol's rows were shown, or none.)"""
    from matplotlib.figure import Figure  # noqa: PLC0415 - drawn when the page asks, not when it is built

    figure = Figure(figsize=(8, 4.2), layout="constrained")
    axes = figure.subplots()
    if points.empty:
        axes.text(0.5, 0.5, "No row of this selection has both an age MAE and an identity", ha="center", transform=axes.transAxes)
        axes.set_axis_off()
        return figure
    x, y = points["identity"], points["age accuracy (A)"]
    for provenance, marker in (("reported", "o"), ("verified", "s")):
        part = points["provenance"] == provenance
        if part.any():
            axes.scatter(x[part], y[part], marker=marker, s=36, label=provenance)
    for method, at_x, at_y in point_labels(list(points["method"]), list(x), list(y)):
        axes.annotate(method, (at_x, at_y), xytext=(4, 4), textcoords="offset points", fontsize=8)
    axes.set_xlim(axis_range(list(x)))
    axes.set_ylim(axis_range(list(y)))
    axes.set_xlabel("identity (x100)")
    axes.set_ylabel("age accuracy A = (1 - MAE/40) x 100")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left", fontsize=8)
    return figure


def submitter(profile: gr.OAuthProfile | None, request: gr.Request | None) -> S.Submitter:
    """The logged-in account, else the client's address: on a Space, the X-Forwarded-For entry the Hub's proxies
    added (`forwarded_address`), elsewhere the connection's own."""
    address = None
    if request is not None:
        settings = get_settings()
        # every X-Forwarded-For line, in order: a proxy may append a line of its own rather than an entry
        lines = getattr(request.headers, "getlist", None)
        header = ",".join(lines("x-forwarded-for")) if lines else (request.headers.get("x-forwarded-for") or "")
        forwarded = forwarded_address(header, settings.proxy_hops)
        on_space = settings.space_owner is not None
        address = forwarded if on_space and forwarded else (request.client.host if request.client else None)
    return S.Submitter(account=profile.username if profile else None, address=address)


def forwarded_address(header: str, hops: int) -> str | None:
    """The client address in an X-Forwarded-For `header` behind `hops` proxies that each append the address they saw
    connect: the `hops`-th entry from the right (the leftmost where there are fewer); None for an empty header. The
    entries further left are the client's own words."""
    entries = [entry.strip() for entry in header.split(",") if entry.strip()]
    return _host(entries[-min(hops, len(entries))]) if entries else None


def _host(entry: str) -> str:
    """An X-Forwarded-For entry's address without a port ("203.0.113.5:5555", "[2001:db8::1]:443"), written as
    `ipaddress` writes it; an entry that is no address is kept as it is (it is only hashed). A port changes with each
    connection, and kept, it gave a client a new rate limit with each."""
    host = entry[1 : entry.index("]")] if entry.startswith("[") and "]" in entry else entry
    if host.count(":") == 1:  # IPv4 with a port (an IPv6 address has two colons or more)
        host = host.split(":")[0]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return entry


def submit(claim_file, zip_file, method, method_type, profile: gr.OAuthProfile | None = None, request: gr.Request | None = None):
    """API `/submit`: a claim (.json) or a zip of outputs; the request's id and state."""
    with user_errors():
        who = submitter(profile, request)
        if claim_file and zip_file:
            raise S.SubmissionError("submit either a claim (.json) or a zip of outputs, not both")
        if claim_file:
            result = S.submit_claim(store(), who, Path(claim_file).read_bytes())
        elif zip_file:
            result = S.submit_outputs(store(), who, Path(zip_file), method, method_type, settings=get_settings())
            wake_background()
        else:
            raise S.SubmissionError("attach a claim (.json) or a zip of outputs")
    note = f" Note: {literal_markdown(result['protocol_note'])}." if result.get("protocol_note") else ""
    told = f"Request `{result['id']}`: **{result['status']}**. Look it up by this id below.{note}"
    return told, queue_table(), review_table()


def request_status(request_id: str):
    """API `/request_status`: a request's state by its id."""
    with user_errors():
        return S.request_status(store(), request_id)


def approve(request_id, token, reason, profile: gr.OAuthProfile | None = None):
    """The maintainer lists a claim awaiting review as a reported row."""
    return review(request_id, token, "approve", reason, profile)


def reject(request_id, token, reason, profile: gr.OAuthProfile | None = None):
    """The maintainer rejects a claim awaiting review, with the reason the submitter sees."""
    return review(request_id, token, "reject", reason, profile)


def review(request_id, token, decision, reason, profile) -> tuple:
    with user_errors():
        settings = get_settings()
        account = profile.username if profile else None
        if not S.is_maintainer(settings, account=account, token=token):
            raise S.SubmissionError(
                "only the maintainer reviews claims: the Space's owner logged in with Hugging Face, or with HUB_ADMIN_TOKEN"
            )
        reviewer = account or "maintainer"
        request_id = (request_id or "").strip()
        if decision == "approve":
            result = S.approve_claim(store(), request_id, reviewer)
        else:
            result = S.reject_claim(store(), request_id, reviewer, reason)
    return f"Claim `{result['id']}`: **{result['status']}** ({result['reason']})", review_table(), queue_table()


def queue_table() -> pd.DataFrame:
    rows = [
        [r["id"], r.get("user"), r.get("method"), r.get("status"), r.get("attempts", ""), r.get("reason") or ""]
        for r in store().requests()
        if r.get("kind") == "outputs"
    ]
    return pd.DataFrame(rows, columns=["request", "user", "method", "status", "attempts", "reason"])


def review_table() -> pd.DataFrame:
    rows = []
    listed = seed_records() + store().records()  # what each claim is checked against (`S.review_notes`), read once
    for request in store().requests():
        if request.get("kind") != "claim" or request.get("status") != "AWAITING_REVIEW":
            continue
        claim = request.get("claim") or {}
        protocol = claim.get("protocol") or {}
        metrics = ", ".join(f"{k} {v:g}" for k, v in (claim.get("metrics") or {}).items() if isinstance(v, (int, float)))
        # what the reviewer checks against the paper: every field the claim gives, as its row would list it
        ages = ", ".join(f"{age:g}" for age in protocol.get("target_ages") or [] if isinstance(age, (int, float)))
        protocol_text = "; ".join(
            part for part in (protocol.get("benchmark"), protocol.get("input_set"), ages and f"target ages {ages}") if part
        )
        evaluators = ", ".join(f"{k} {v}" for k, v in (claim.get("evaluators") or {}).items() if v)
        checkpoint = claim.get("checkpoint") or {}
        details = "; ".join(
            f"{name} {value}"
            for name, value in (
                ("checkpoint", "@".join(str(v) for v in (checkpoint.get("repo"), checkpoint.get("revision")) if v)),
                ("hardware", claim.get("hardware")),
                ("training set", claim.get("train_set_size")),
            )
            if value
        )
        rows.append(
            [
                request["id"],
                request.get("user"),
                claim.get("method"),
                claim.get("method_type"),
                claim.get("task"),
                protocol_text,
                evaluators,
                metrics,
                claim.get("citation"),
                claim.get("link"),
                claim.get("date"),
                details,
            ]
        )
        # beside the method: the table is wider than a screen
        rows[-1].insert(3, S.review_notes(request, listed))
    columns = ["request", "user", "method", "to check", "type", "task", "protocol", "evaluators", "metrics", "citation"]
    return pd.DataFrame(rows, columns=[*columns, "link", "date", "details"])


def results_version() -> str:
    return store().version()


def refresh_if_changed(seen, task_title, protocol, columns, types, verified_only, search):
    """Every REFRESH_SECONDS: when the results changed, the protocol list and the table are rebuilt."""
    version = results_version()
    if version == seen:
        return seen, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
    dropdown = protocol_choices(task_title, protocol)
    frame, note, plot = show(task_title, dropdown.value, columns, types, verified_only, search)
    return version, dropdown, frame, note, plot, status_text()


def trade_off_shown(task_title: str) -> bool:
    """Whether the tab shows the age-identity trade-off for the task: the lifespan task's rows alone have both an age
    error and an identity (for the others the plot was a large empty box saying no row has both)."""
    return task_key(task_title) == "lifespan"


def build():
    settings = get_settings()
    titles = [task.title for task in TASKS.values()]
    first = protocols(all_records(), "lifespan")
    status = gr.Markdown(status_text())
    with gr.Row():
        task = RadioField(titles, value=titles[0], label="Task")
        protocol = DropdownField(
            first,
            value=first[0] if first else None,
            label="Protocol (rows are compared only within one)",
            allow_custom_value=True,  # a protocol added after start-up is accepted; show() checks it
            elem_id="leaderboard-protocol",
            scale=2,  # twice the task's width: the names are long
        )
    with gr.Row():
        columns = CheckboxGroupField([m.title for m in TASKS["lifespan"].metrics], label="Columns (none: all)")
        # the API takes every task's columns (`show` checks them against the task's): the list's own first choices,
        # the lifespan task's, refused the others' ("MAE" for the age task)
        columns.accepted = list(dict.fromkeys(m.title for task in TASKS.values() for m in task.metrics))
        types = CheckboxGroupField(list(METHOD_TYPES), label="Type (none: all)")
        verified_only = gr.Checkbox(False, label="Verified only")
        search = gr.Textbox(label="Search methods")
    results = gr.Dataframe(label="Results", interactive=False, wrap=True, elem_classes=["leaderboard-table"])
    summary = gr.Markdown()
    plot = gr.Plot(label="Age-identity trade-off", visible=trade_off_shown(titles[0]))
    inputs = [task, protocol, columns, types, verified_only, search]
    task.change(lambda title: gr.Plot(visible=trade_off_shown(title)), task, plot, api_visibility="private")
    task.change(protocol_choices, task, protocol, api_visibility="private").then(
        lambda title: gr.CheckboxGroup(choices=[m.title for m in TASKS[task_key(title)].metrics], value=[]),
        task,
        columns,
        api_visibility="private",
    )
    for control in (protocol, columns, types, verified_only, search):
        control.change(show_selection, inputs, [results, summary, plot], api_visibility="private")
    with gr.Accordion("Submit results", open=False):
        gr.Markdown(
            "A **claim** is a paper's numbers (JSON following the claim schema below, with a link to the paper or "
            "code). Its ranges and its HCS are checked; it is listed below as awaiting review until the "
            "maintainer approves it. A **zip of outputs** (exactly `{input}_{target}.png` for every input and "
            "target of the offline benchmark) is verified by this harness; only the resulting record is kept. "
            + ("Sign in with Hugging Face to submit under your account; a" if settings.login else "A")
            + f"nonymous submissions are limited per address ({S.RATE_LIMIT} a day)."
        )
        gr.DownloadButton("Claim schema (JSON Schema)", value=str(SCHEMA_PATH), size="sm")
        if settings.login:
            gr.LoginButton()
        with gr.Row():
            method = gr.Textbox(label="Method name (zip only)")
            method_type = DropdownField(list(METHOD_TYPES), value="diffusion", label="Method type (zip only)")
        with gr.Row():
            claim_file = gr.File(label="Claim (.json)", file_types=[".json"], type="filepath")
            zip_file = gr.File(label="Outputs (.zip)", file_types=[".zip"], type="filepath")
        send = gr.Button("Submit")
        outcome = gr.Markdown()
        with gr.Row():
            lookup_id = gr.Textbox(label="Request id")
            lookup = gr.Button("Look up", size="sm")
        lookup_result = gr.JSON(label="Request")
        awaiting = gr.Dataframe(
            value=review_table,
            label="Claims awaiting review",
            interactive=False,
            wrap=True,
            elem_classes=["leaderboard-table"],
            elem_id="claims-awaiting",
        )
        queue = gr.Dataframe(value=queue_table, label="Verification queue", interactive=False, elem_id="verification-queue")
        # a refusal's status on the outcome alone: on every output, the two tables and the request box showed red "Error"
        # badges where their rows had been
        send.click(
            submit,
            [claim_file, zip_file, method, method_type],
            [outcome, queue, awaiting],
            api_name="submit",
            show_progress_on=outcome,
        )
        lookup.click(request_status, lookup_id, lookup_result, api_name="request_status")
    with gr.Accordion("Review claims (maintainer)", open=False):
        with gr.Row():
            review_id = gr.Textbox(label="Claim request id")
            token = gr.Textbox(
                label="Admin token (HUB_ADMIN_TOKEN; not needed when signed in as the Space's owner)", type="password"
            )
        reason = gr.Textbox(label="Reason (shown to the submitter when rejecting)")
        with gr.Row():
            approve_button = gr.Button("Approve", size="sm")
            reject_button = gr.Button("Reject", size="sm")
        review_outcome = gr.Markdown()
        for button, action in ((approve_button, approve), (reject_button, reject)):
            button.click(
                action,
                [review_id, token, reason],
                [review_outcome, awaiting, queue],
                api_visibility="private",
                show_progress_on=review_outcome,
            )
    with gr.Accordion("How we evaluate", open=False):
        gr.Markdown(evaluation_text())
    refresh = gr.Button("Refresh", size="sm")
    refresh.click(protocol_choices, [task, protocol], protocol, api_visibility="private").then(
        show, inputs, [results, summary, plot], api_name=API_NAME
    ).then(status_text, None, status, api_visibility="private")
    seen = gr.State(results_version())
    gr.Timer(REFRESH_SECONDS).tick(
        refresh_if_changed,
        [seen, *inputs],
        [seen, protocol, results, summary, plot, status],  # the status line too: it kept the store's state at start-up
        api_visibility="private",
        show_progress="hidden",
    )

    def on_load(demo: gr.Blocks) -> None:
        # the status line as the store is when the page opens (built once, it said "no verified results yet" above a
        # table of them)
        demo.load(protocol_choices, [task, protocol], protocol, api_visibility="private").then(
            show, inputs, [results, summary, plot], api_visibility="private"
        ).then(status_text, None, status, api_visibility="private")

    return on_load


def preload() -> None:
    """Pull the store from the Hub at start-up and start the submission worker (never blocks or breaks the page)."""
    logger.info("leaderboard store: %s", store().pull())
    start_background(store())
