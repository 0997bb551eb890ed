"""The photo box shows every photo the tabs read: one in a format browsers cannot show (PPM, TIFF) is handed to the
box as a PNG of the same pixels, which the tab then reads; any other upload stays as it was."""

from __future__ import annotations

import os
import re
import shutil
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from demos.common import PhotoHistory, shown_in_browser
from tests.app.in_process import CHROMIUM, age_tab_page

pytestmark = pytest.mark.app


@pytest.fixture(scope="module")
def unshowable(images, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("unshowable")
    portrait = Image.open(images["astronaut"]).convert("RGB")
    portrait.save(folder / "astronaut.ppm")
    portrait.save(folder / "astronaut.tif")
    portrait.save(folder / "two_pages.tif", save_all=True, append_images=[portrait.convert("L").convert("RGB")])
    return {path.name: path for path in folder.iterdir()}


@pytest.fixture
def counted_finds(monkeypatch) -> list[str]:
    """The photos the zones tab looks for zones in, in order, from an empty record of the sessions' last finds."""
    import demos.zones

    calls: list[str] = []
    find = demos.zones.find_zones

    def counted(photo):
        calls.append(photo)
        return find(photo)

    monkeypatch.setattr(demos.zones, "find_zones", counted)
    monkeypatch.setattr(demos.zones, "_last_found", OrderedDict())  # this test's sessions alone
    return calls


@pytest.mark.parametrize("name", ["astronaut.ppm", "astronaut.tif"])
def test_a_photo_browsers_cannot_show_is_given_to_the_box_as_a_png_of_its_pixels(unshowable, name):
    upload = unshowable[name]
    copy = shown_in_browser(str(upload))
    assert isinstance(copy, str) and Path(copy).name == "astronaut.png"  # its name kept, for the outputs' names
    with Image.open(copy) as shown, Image.open(upload) as original:
        assert shown.format == "PNG" and np.array_equal(np.asarray(shown), np.asarray(original.convert("RGB")))


def test_other_uploads_are_left_as_they_are(images, unshowable, tmp_path):
    for path in (images["astronaut"], images["grace_hopper"], images["animated"], images["gray16"], images["cmyk"]):
        assert shown_in_browser(str(path)) == gr.skip()
    text = tmp_path / "notes.tif"
    text.write_text("not an image")
    assert shown_in_browser(str(text)) == gr.skip()  # the tab's action says what is wrong with it
    assert shown_in_browser(None) == gr.skip()
    # read as its first page only: the copy would lose the note that says so, so the box keeps the upload
    assert shown_in_browser(str(unshowable["two_pages.tif"])) == gr.skip()


def test_a_request_sent_with_the_upload_is_not_taken_for_one_of_a_replaced_photo(unshowable, tmp_path):
    history, visitor = PhotoHistory(), cast(gr.Request, SimpleNamespace(session_hash="visitor"))
    upload = str(unshowable["astronaut.ppm"])
    history.note(visitor, upload)
    copy = shown_in_browser(upload)
    assert isinstance(copy, str)
    # the box's change to the copy, which Gradio hands back from its own cache: another folder, the same name
    cached = tmp_path / "gradio-cache" / Path(copy).name
    cached.parent.mkdir()
    shutil.copyfile(copy, cached)
    history.note(visitor, str(cached))
    assert not history.replaced(visitor, upload)
    history.note(visitor, "another.png")
    assert history.replaced(visitor, upload)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (make test installs it)")
def test_browser_a_ppm_upload_is_shown_and_read(unshowable):
    from playwright.sync_api import expect

    with age_tab_page() as page:
        expect(page.get_by_role("button", name="Estimate age")).to_be_visible()
        page.wait_for_load_state("networkidle")
        before = page.locator("img").count()  # the examples' and the page's own
        page.locator("input[type=file]").first.set_input_files(str(unshowable["astronaut.ppm"]))
        # the box shows the photo, and every image on the page is whole (a PPM's own file was a broken image)
        expect(page.locator("img")).to_have_count(before + 1)
        page.wait_for_function("() => [...document.images].every(img => img.complete && img.naturalWidth > 0)")
        page.get_by_role("button", name="Estimate age").click()
        expect(page.locator("body")).to_contain_text(re.compile(r"\b0\s+\d+\.\d\s+none \(uncalibrated\)\s+-\s+female"))


def test_the_zones_of_a_photo_the_box_holds_again_are_not_found_again_nor_its_notices_said_again(
    images, monkeypatch, counted_finds
):
    # a photo dropped onto the one shown changes the box two or three times in Gradio's browser: the zones were found
    # that many times, and each notice (a refusal, the photo's size) shown that many times
    import demos.zones

    calls = counted_finds
    notices: list[str] = []
    monkeypatch.setattr(gr, "Warning", lambda message, **_: notices.append(message))
    visitor, other = (cast(gr.Request, SimpleNamespace(session_hash=name)) for name in ("visitor", "other"))
    bad = images["no_face"]
    first = demos.zones.zones_for_tab(str(bad), visitor)
    for _ in range(2):  # a drop's second and third changes (the third was found again once)
        assert demos.zones.zones_for_tab(str(bad), visitor) == first and len(calls) == len(notices) == 1
    demos.zones.zones_for_tab(str(bad), other)  # another visitor's own photo is found for them
    assert len(calls) == len(notices) == 2
    portrait = demos.zones.zones_for_tab(str(images["astronaut"]), visitor)
    assert portrait[-1] == str(images["astronaut"]) and len(calls) == 3
    demos.zones.zones_for_tab(str(bad), visitor)  # a photo the box held before the last one: found again
    assert len(calls) == 4
    # asked again later (a "try again"), a photo is found again
    monkeypatch.setattr(demos.zones, "REPEAT_SECONDS", 0.0)
    demos.zones.zones_for_tab(str(bad), visitor)
    assert len(calls) == 5 and len(notices) == 4


def test_a_ppm_and_the_png_made_of_it_for_the_browser_are_one_photo_to_the_zones_tab(unshowable, tmp_path, counted_finds):
    # the box changes from the upload to its copy: the zones were found twice, each notice said twice
    import demos.zones

    calls = counted_finds
    visitor = cast(gr.Request, SimpleNamespace(session_hash="visitor"))
    upload = str(unshowable["astronaut.ppm"])
    first = demos.zones.zones_for_tab(upload, visitor)
    copy = shown_in_browser(upload)
    assert isinstance(copy, str)
    cached = tmp_path / Path(copy).name  # as Gradio hands it back: another folder
    shutil.copyfile(copy, cached)
    again = demos.zones.zones_for_tab(str(cached), visitor)
    assert calls == [upload] and again[:-1] == first[:-1]
    assert again[-1] == str(cached)  # the sliders' zones are of the photo the box holds now: Apply takes it


def test_a_copy_made_after_another_photo_came_is_not_handed_to_the_box(unshowable):
    # the copies wait in one queue: one made after the visitor dropped another photo replaced that photo in the box
    from demos.common import photo_input  # noqa: PLC0415

    with gr.Blocks() as demo:
        photo = photo_input()
    [copying] = [block.fn for block in demo.fns.values() if getattr(block.fn, "__name__", "") == "for_browser"]
    upload = str(unshowable["astronaut.ppm"])
    visitor, other = (cast(gr.Request, SimpleNamespace(session_hash=name)) for name in ("visitor", "other"))
    photo.history.note(visitor, upload)
    photo.history.note(visitor, "dropped-meanwhile.jpg")
    assert copying(upload, visitor) == gr.skip()
    photo.history.note(other, upload)
    assert Path(copying(upload, other)).name == "astronaut.png"  # still held: copied
