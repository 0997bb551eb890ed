"""Face Aging Hub: assembles the tabs. `make run` serves it on http://127.0.0.1:7860.

Adding a tab is one module in demos/ exposing TITLE and build() (and CSS, its style rules, if it needs any), and one line in TABS.
build() may return a function that takes the Blocks and registers page-load events.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
import sys
import threading
from contextlib import asynccontextmanager

import gradio as gr
from gradio.route_utils import delete_files_created_by_app

from demos.common import CLOSE_NOTICES, delete_outputs, guard_events
from engine.core import gpu  # noqa: F401 - imports `spaces` before anything imports torch (ZeroGPU needs that order)
from engine.core.errors import SettingsError
from engine.core.limits import DEFAULT_CONCURRENCY, QUEUE_MAX_SIZE, duration, megabytes
from engine.core.registry import get_cache
from engine.core.settings import Settings, get_settings

logger = logging.getLogger(__name__)

TABS = [
    "demos.age",
    "demos.lifespan",
    "demos.pluralistic",
    "demos.zones",
    "demos.leaderboard",
]

INTRO = """# Face Aging Hub
Face-aging research demos over one shared engine. Results are AI estimates and edits:
treat them as such."""


def privacy_text(settings: Settings) -> str:
    """What this server keeps, and for how long: the schedule main() gives Gradio and the results folder."""
    keep, check = settings.temp_keep_s, settings.temp_check_s
    return (
        f"**Your files.** An uploaded photo, and the images, GIFs and videos made from it, are stored in temporary "
        f"files on this server only so that your browser can fetch them. They are deleted once they are "
        f"{duration(keep)} old, checked every {duration(check)} (so within {duration(keep + check)}), and all of "
        f"them when the server stops. They are not shared or used for anything else. Uploads over "
        f"{megabytes(settings.max_upload_bytes)} are refused. A leaderboard submission (a results record or a zip "
        f"of outputs) is the exception: it is kept in the results store, since publishing it is its purpose."
    )


def models_panel() -> str:
    return get_cache().status_markdown()


def build_app() -> gr.Blocks:
    settings = get_settings()
    # Gradio deletes its uploads and its copies of results on this schedule, and all of them on shutdown.
    with gr.Blocks(
        title="Face Aging Hub",
        delete_cache=(settings.temp_check_s, settings.temp_keep_s),
        analytics_enabled=settings.analytics,
    ) as demo:
        gr.Markdown(INTRO + "\n\n" + privacy_text(settings))
        for module_name in TABS:
            module = importlib.import_module(module_name)
            with gr.Tab(module.TITLE) as tab:
                on_load = module.build()  # a tab may return a hook that registers page-load events
            # another tab's notices close as it is left: a lifespan warning stayed over the leaderboard's table
            tab.select(None, None, None, js=f"() => {{ {CLOSE_NOTICES} }}", queue=False, api_visibility="private")
            if on_load is not None:
                on_load(demo)
        with gr.Accordion("Models: which are live, and how to provide the missing ones", open=False):
            status = gr.Markdown(models_panel())
            gr.Button("Refresh", size="sm").click(models_panel, None, status, api_visibility="private")
        demo.load(models_panel, None, status, api_visibility="private")
    guard_events(demo)
    return demo


@asynccontextmanager
async def results_cleaner(app):
    """The tabs' own result files (demos/common.py output_folder) on the schedule Gradio keeps for its files (all of them
    are deleted once the server is stopped: `delete_all`)."""
    settings = get_settings()

    async def prune() -> None:
        while True:
            await asyncio.sleep(settings.temp_check_s)
            deleted = await asyncio.to_thread(delete_outputs, settings.temp_keep_s)
            if deleted:
                logger.info("deleted %d result folders older than %d s", deleted, settings.temp_keep_s)

    task = asyncio.create_task(prune())
    try:
        yield
    finally:
        task.cancel()


def warm_up() -> None:
    """Build the models after the page is up, so the first request is quick; tabs may preload theirs."""
    cache = get_cache()
    for name in ("face_detector", "age_offline"):
        if cache.in_profile(name) and not cache.available(name):
            logger.warning("model %s is not available", name)
    for module_name in TABS:
        preload = getattr(importlib.import_module(module_name), "preload", None)
        if preload is not None:
            preload()


def stop_on_sigterm(signum, frame) -> None:
    """SIGTERM (a Space restarting, `kill`, a service manager) stops the server as Ctrl-C does: Gradio closes it,
    and the shutdown deletes the uploads and results the page promises to delete "when the server stops". Left to
    its default, SIGTERM ended the process at once and every file stayed on disk."""
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        get_settings()
    except SettingsError as error:  # an environment variable it cannot take: named in one line, not a traceback
        sys.exit(f"app: {error}")
    if threading.current_thread() is threading.main_thread():  # only the main thread may set a handler
        signal.signal(signal.SIGTERM, stop_on_sigterm)
    demo = build_app()
    # A request beyond QUEUE_MAX_SIZE waiting ones is refused at once ("queue full"), not left to wait.
    demo.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=DEFAULT_CONCURRENCY)
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    try:  # returns once the server is stopped (Ctrl-C, or SIGTERM: `stop_on_sigterm`)
        demo.launch(max_file_size=get_settings().max_upload_bytes, app_kwargs={"lifespan": results_cleaner}, css=tabs_css())
    finally:
        delete_all(demo)


def delete_all(demo: gr.Blocks) -> None:
    """The uploads and results deleted once the server is stopped. The server's own shutdown deletes them too, but it
    may never run: the server waits for open connections (an API client's heartbeat) longer than Gradio waits for it,
    and the process ends first. A second Ctrl-C or SIGTERM does not cut this short, and a file that cannot be deleted
    (a request still finishing adds its own meanwhile) is logged, not raised over why the server stopped."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for what, delete in (("results", lambda: delete_outputs(None)), ("uploads", lambda: delete_files_created_by_app(demo, None))):
        try:
            delete()
            logger.info("stopped: the %s are deleted", what)
        except Exception:
            logger.exception("stopping: not every one of the %s could be deleted", what)


def tabs_css() -> str:
    """The style rules the tabs declare (a tab module's optional CSS), for launch(): Gradio 6 takes them there."""
    return "\n".join(css for css in (getattr(importlib.import_module(name), "CSS", "") for name in TABS) if css)


if __name__ == "__main__":
    main()
