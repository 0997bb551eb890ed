"""Tab "Leaderboard": results per task and protocol, the age-identity trade-off, submissions."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import gradio as gr

from engine.core.settings import get_settings
from evaluation.records import ResultsRecord
from evaluation.tasks import METHOD_TYPES, TASKS, evaluation_text
from leaderboard.seeds import seed_records
from leaderboard.store import ResultsStore
from leaderboard.submissions import (
    SubmissionError,
    process_pending,
    submit_outputs,
    submit_record,
)
from leaderboard.views import protocols, select, table, tradeoff

logger = logging.getLogger(__name__)

TITLE = "Leaderboard"
API_NAME = "leaderboard"
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
    return next(key for key, task in TASKS.items() if task.title == title)


def status_text() -> str:
    current = store()
    lines = [f"Store: `{current.root}`; {current.age()}. {len(seed_records())} reported rows from papers."]
    lines += [f"- {problem}" for problem in current.problems[-5:]]
    return "\n".join(lines)


def protocol_choices(task_title: str):
    labels = protocols(all_records(), task_key(task_title))
    return gr.Dropdown(choices=labels, value=labels[0] if labels else None)


def show(task_title, protocol, columns, types, verified_only, search):
    """Main action (API `/leaderboard`): the table for one task and protocol, the summary line and the trade-off plot."""
    key = task_key(task_title)
    chosen = select(all_records(), key, protocol, types, verified_only, search)
    task = TASKS[key]
    column_keys = [m.key for m in task.metrics if m.title in (columns or [])] or None
    frame, summary = table(chosen, key, column_keys)
    note = summary or "No numbers to aggregate for this selection."
    if frame.empty:
        note = "No rows match this selection."
    return frame, note, tradeoff(chosen) if key == "lifespan" else tradeoff([])


def submit(user, record_file, zip_file, method, method_type):
    try:
        if record_file and zip_file:
            raise SubmissionError("submit either a results record or a zip of outputs, not both")
        if record_file:
            request = submit_record(store(), user, Path(record_file).read_bytes())
        elif zip_file:
            request = submit_outputs(store(), user, Path(zip_file), method, method_type)
            threading.Thread(target=process_pending, args=(store(),), daemon=True).start()
        else:
            raise SubmissionError("attach a results record (.json) or a zip of outputs")
    except SubmissionError as error:
        raise gr.Error(str(error)) from error
    return f"Request `{request['id']}`: **{request['status']}**" + (
        f" ({request['reason']})" if request.get("reason") else ""
    ), queue_table()


def queue_table():
    return [[r["id"], r.get("user"), r.get("method"), r.get("status"), r.get("reason") or ""] for r in store().requests()]


def build():
    titles = [task.title for task in TASKS.values()]
    first = protocols(all_records(), "lifespan")
    status = gr.Markdown(status_text())
    with gr.Row():
        task = gr.Radio(titles, value=titles[0], label="Task")
        protocol = gr.Dropdown(first, value=first[0] if first else None, label="Protocol (rows are compared only within one)")
    with gr.Row():
        columns = gr.CheckboxGroup([m.title for m in TASKS["lifespan"].metrics], label="Columns (none: all)")
        types = gr.CheckboxGroup(list(METHOD_TYPES), label="Type (none: all)")
        verified_only = gr.Checkbox(False, label="Verified only")
        search = gr.Textbox(label="Search methods")
    results = gr.Dataframe(label="Results", interactive=False, wrap=True)
    summary = gr.Markdown()
    plot = gr.ScatterPlot(x="identity", y="age accuracy (A)", color="method", label="Age-identity trade-off")
    inputs = [task, protocol, columns, types, verified_only, search]
    task.change(protocol_choices, task, protocol, api_name=False).then(
        lambda title: gr.CheckboxGroup(choices=[m.title for m in TASKS[task_key(title)].metrics], value=[]),
        task,
        columns,
        api_name=False,
    )
    for control in (protocol, columns, types, verified_only, search):
        control.change(show, inputs, [results, summary, plot], api_name=False)
    with gr.Accordion("Submit results", open=False):
        gr.Markdown(
            "A **results record** (JSON, `provenance: reported`, with the paper link) is checked and listed "
            "at once. A **zip of outputs** (`{input}_{target}.png` for the offline benchmark's inputs and "
            "targets) is verified by this harness. HCS is always computed here."
        )
        with gr.Row():
            user = gr.Textbox(label="Your name (rate limit per name)")
            method = gr.Textbox(label="Method name (zip only)")
            method_type = gr.Dropdown(list(METHOD_TYPES), value="diffusion", label="Method type (zip only)")
        with gr.Row():
            record_file = gr.File(label="Results record (.json)", file_types=[".json"], type="filepath")
            zip_file = gr.File(label="Outputs (.zip)", file_types=[".zip"], type="filepath")
        send = gr.Button("Submit")
        outcome = gr.Markdown()
        queue = gr.Dataframe(
            headers=["request", "user", "method", "status", "reason"], value=queue_table, label="Queue", interactive=False
        )
        send.click(submit, [user, record_file, zip_file, method, method_type], [outcome, queue], api_name="submit")
    with gr.Accordion("How we evaluate", open=False):
        gr.Markdown(evaluation_text())
    refresh = gr.Button("Refresh", size="sm")
    refresh.click(show, inputs, [results, summary, plot], api_name=API_NAME).then(status_text, None, status, api_name=False)

    def on_load(demo: gr.Blocks) -> None:
        demo.load(show, inputs, [results, summary, plot], api_name=False)

    return on_load


def preload() -> None:
    """Pull the store from the Hub at start-up (never blocks or breaks the page)."""
    logger.info("leaderboard store: %s", store().pull())
