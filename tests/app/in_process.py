"""The age tab served from the test's own process, so that a test can hold or replace what the tab calls, and a
browser page on it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@contextmanager
def age_tab_page() -> Iterator:
    from playwright.sync_api import sync_playwright

    import demos.age
    from demos.common import guard_events
    from space.check import free_port

    with gr.Blocks() as demo:
        demos.age.build()
    guard_events(demo)
    port = free_port()
    demo.queue().launch(server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(f"http://127.0.0.1:{port}/")
            yield page
            browser.close()
    finally:
        demo.close()
