"""Face Aging Hub: assembles the tabs. `make run` serves it on http://127.0.0.1:7860.

Adding a tab is one module in demos/ exposing TITLE and build(), and one line in TABS.
build() may return a function that takes the Blocks and registers page-load events.
"""

from __future__ import annotations

import importlib
import logging
import threading

import gradio as gr

from engine.core import gpu  # noqa: F401 - imports `spaces` before anything imports torch (ZeroGPU needs that order)
from engine.core.registry import get_cache
from engine.core.settings import get_settings

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
treat them as such. Uploaded photos are processed in memory and not kept."""


def models_panel() -> str:
    return get_cache().status_markdown()


def build_app() -> gr.Blocks:
    with gr.Blocks(title="Face Aging Hub", analytics_enabled=get_settings().analytics) as demo:
        gr.Markdown(INTRO)
        for module_name in TABS:
            module = importlib.import_module(module_name)
            with gr.Tab(module.TITLE):
                on_load = module.build()  # a tab may return a hook that registers page-load events
            if on_load is not None:
                on_load(demo)
        with gr.Accordion("Models: which are live, and how to provide the missing ones", open=False):
            status = gr.Markdown(models_panel())
            gr.Button("Refresh", size="sm").click(models_panel, None, status, api_name=False)
        demo.load(models_panel, None, status, api_name=False)
    return demo


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


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    demo = build_app()
    demo.queue(default_concurrency_limit=2)
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    demo.launch()


if __name__ == "__main__":
    main()
