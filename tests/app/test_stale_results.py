"""A tab's results belong to the photo they were made from: a request still running when another photo comes
keeps its results (or its refusal) off the page, while a photo picked and sent at once, and an API caller, get
theirs. The browser's own race is in test_app.py; here the record of photos and the wrapper are called directly."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
from gradio.helpers import special_args
from gradio.utils import get_positional_input_parameters

import demos.age
import demos.lifespan
from demos.common import PhotoHistory
from tests.app.in_process import CHROMIUM, age_tab_page

pytestmark = pytest.mark.app


def session(name: str):
    return SimpleNamespace(session_hash=name)


def test_a_photo_counts_as_replaced_only_once_another_has_been_held_after_it():
    history = PhotoHistory()
    visitor, other = session("visitor"), session("other")
    history.note(visitor, "a.png")
    assert not history.replaced(visitor, "a.png")
    history.note(visitor, "b.png")
    assert history.replaced(visitor, "a.png")  # a's results, ready now, would sit beside b
    assert not history.replaced(visitor, "b.png")
    # a photo picked and sent at once: its change is still on its way, so it is not yet held, and not an old one
    assert not history.replaced(visitor, "c.png")
    # the same photo picked again is its own again; a cleared input holds no photo
    history.note(visitor, "a.png")
    assert not history.replaced(visitor, "a.png") and history.replaced(visitor, "b.png")
    history.note(visitor, None)
    assert history.replaced(visitor, "a.png")
    # another session, and a caller with no session (the API), have no history of this visitor's photos
    assert not history.replaced(other, "a.png") and not history.replaced(None, "a.png")


def test_the_sessions_kept_are_bounded_and_the_longest_unused_goes_first(monkeypatch):
    monkeypatch.setattr(PhotoHistory, "SESSIONS", 2)
    history = PhotoHistory()
    for name in ("one", "two"):
        history.note(session(name), "a.png")
        history.note(session(name), "b.png")
    history.note(session("one"), "b.png")  # used again: "two" is the longest unused
    history.note(session("three"), "a.png")
    assert history.replaced(session("one"), "a.png") and not history.replaced(session("two"), "a.png")


def test_results_and_refusals_for_a_replaced_photo_are_dropped_and_the_rest_kept():
    history = PhotoHistory()
    visitor = session("visitor")

    def action(photo, scale):
        if photo == "refused.png":
            raise gr.Error("No face found")
        return photo, scale

    shown = history.shown_while_current(action)
    history.note(visitor, "a.png")
    assert shown(visitor, "a.png", 2) == ("a.png", 2)
    history.note(visitor, "refused.png")
    with pytest.raises(gr.Error, match="No face found"):
        shown(visitor, "refused.png", 2)
    history.note(visitor, "b.png")
    assert shown(visitor, "a.png", 2) == gr.skip()  # every output left as the new photo cleared it
    assert shown(visitor, "refused.png", 2) == gr.skip()  # no refusal of a photo no longer there
    assert shown(None, "a.png", 2) == ("a.png", 2)


def test_a_request_with_the_inputs_of_one_just_made_is_not_made_again():
    # a second click while the first request ran is taken once it ends (main_action): the same work made again
    history, visitor = PhotoHistory(), session("visitor")
    made: list[tuple] = []

    def action(photo, scale):
        made.append((photo, scale))
        return photo, scale

    shown = history.shown_while_current(action)
    history.note(visitor, "a.png")
    assert shown(visitor, "a.png", 2) == ("a.png", 2)
    # its results are sent again, not made again: the second click had emptied the page (cleared_on_run)
    assert shown(visitor, "a.png", 2) == ("a.png", 2) and len(made) == 1
    assert shown(visitor, "a.png", 3) == ("a.png", 3)  # other inputs: made
    history.note(visitor, "b.png")
    history.note(visitor, "a.png")  # the page cleared by the photos since: made again
    assert shown(visitor, "a.png", 3) == ("a.png", 3) and len(made) == 3
    # asked again later, the same inputs are made again (the page may have lost them: a dropped connection)
    history.REPEAT_SECONDS = 0.0
    assert shown(visitor, "a.png", 3) == ("a.png", 3) and len(made) == 4
    assert shown(None, "a.png", 3) == ("a.png", 3) and shown(None, "a.png", 3) == ("a.png", 3)  # an API caller: always


def test_gradio_hands_the_wrapper_its_session_and_the_api_keeps_its_parameter_names():
    shown = PhotoHistory().shown_while_current(demos.lifespan.run)
    names = [parameter.name for parameter in get_positional_input_parameters(demos.lifespan.run)]
    assert [parameter.name for parameter in get_positional_input_parameters(shown)] == names
    assert names[:3] == ["photo", "mode", "target"]
    request = gr.Request(username=None)
    inputs, progress_index, _, _ = special_args(shown, ["photo.png", *range(12)], request)
    assert inputs[0] is request and inputs[1] == "photo.png"  # the session first, then the inputs as they were
    assert progress_index == len(names) + 1  # the progress bar still reaches the lifespan run


# Whether `text` is ever on the page from now on, however briefly (each change to the page is looked at)
SEEN = """text => {
  window.seen = false;
  new MutationObserver(() => { window.seen ||= document.body.innerText.includes(text); })
    .observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (make test installs it)")
def test_browser_results_of_a_photo_replaced_while_they_were_made_stay_off_the_page(images, monkeypatch):
    """The age tab, in this process, with the estimate held until the new photo is on the server: the order the race
    takes on a busy Space, made certain."""
    from playwright.sync_api import expect

    started, release, noted = threading.Event(), threading.Event(), threading.Event()
    estimate, note = demos.age.task.estimate, PhotoHistory.note

    calls: list[int] = []

    def held(request):
        calls.append(1)
        started.set()
        assert release.wait(60)
        return estimate(request)

    def noting(self, request, photo):
        note(self, request, photo)
        if photo and Path(photo).suffix == ".jpg":  # Grace Hopper's, not the astronaut's .png
            noted.set()

    monkeypatch.setattr(demos.age.task, "estimate", held)
    monkeypatch.setattr(PhotoHistory, "note", noting)
    with age_tab_page() as page:
        try:
            photo = page.locator("input[type=file]").first
            photo.set_input_files(str(images["astronaut"]))
            page.get_by_role("button", name="Estimate age").click()
            assert started.wait(30)
            photo.set_input_files(str(images["grace_hopper"]))  # while the astronaut's estimate runs
            assert noted.wait(30)
            # anything of her estimate written to the page, however briefly, is seen
            page.evaluate(SEEN, "astronaut.png")
            # Grace Hopper's own, asked for while the astronaut's runs, are taken once it ends (Gradio's default for a
            # click, "once", dropped this click: nothing happened)
            page.get_by_role("button", name="Estimate age").click()
            page.wait_for_timeout(500)
            assert len(calls) == 1  # held back until the astronaut's estimate ends
            release.set()
            expect(page.locator("body")).to_contain_text('"grace_hopper.jpg"', timeout=30000)
            expect(page.locator("body")).to_contain_text(re.compile(r"\b0\s+80\+\s+none \(uncalibrated\)\s+-\s+male"))
            # the astronaut's estimate was made and dropped: never on the page beside Grace Hopper
            assert page.evaluate("() => window.seen") is False
        finally:
            release.set()  # the held estimate's thread let go whatever happened


def test_the_notices_of_a_replaced_photos_results_are_dropped_with_them(monkeypatch):
    # a group photo's warnings ("Face 1: Hair left as it is ...") popped up beside the portrait that had replaced it
    from demos.common import warn

    shown_notices: list[str] = []
    monkeypatch.setattr(gr, "Warning", shown_notices.append)
    history = PhotoHistory()
    visitor = session("visitor")

    def action(photo):
        warn([f"about {photo}"])
        if photo == "refused.png":
            raise gr.Error("No face found")
        return photo

    shown = history.shown_while_current(action)
    history.note(visitor, "a.png")
    assert shown(visitor, "a.png") == "a.png" and shown_notices == ["about a.png"]
    with pytest.raises(gr.Error):
        history.note(visitor, "refused.png")
        shown(visitor, "refused.png")
    assert shown_notices == ["about a.png", "about refused.png"]  # a refusal's warnings go with it
    history.note(visitor, "b.png")
    assert shown(visitor, "a.png") == gr.skip() and shown(visitor, "refused.png") == gr.skip()
    assert shown_notices == ["about a.png", "about refused.png"]  # nothing of the photos no longer there
    warn(["outside a main action"])  # sent at once
    assert shown_notices[-1] == "outside a main action"
