"""The hub as users meet it: a running app, a real headless browser, and concurrent API clients."""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from engine.core.media import CAPTION_SHARE, GAP
from engine.core.settings import ROOT
from space.check import free_port, served

pytestmark = pytest.mark.app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def serve(**extra_env):
    """Start `python app.py` on a free port as the deploy check does; yield its URL; stop it."""
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        # its own upload folder: Gradio keeps an upload under its content's hash, and a server stopping deletes its
        # uploads, which another test's server had under the same path when both shared the default folder
        env = {
            **os.environ,
            "GRADIO_SERVER_PORT": str(port),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "GRADIO_TEMP_DIR": str(Path(folder) / "gradio"),
            **extra_env,
        }
        with served([sys.executable, "app.py"], ROOT, env, Path(folder) / "app.log") as url:
            yield url


@pytest.fixture(scope="module")
def live_app():
    yield from serve()


@pytest.fixture(scope="module")
def live_tiny_app():
    yield from serve(HUB_PROFILE="tiny", HUB_TESTING="1")


def launch_browser(playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    )


def open_tab(playwright, url: str, tab: str, photo=None):
    """A browser page on `tab`, with `photo` uploaded to the tab's photo input."""
    browser = launch_browser(playwright)
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(url)
    page.get_by_role("tab", name=tab).click()
    if photo is not None:
        page.get_by_role("tabpanel").locator("input[type=file]").first.set_input_files(str(photo))
    return browser, page


def test_page_lists_the_models_and_their_licences(live_app):
    with urllib.request.urlopen(live_app + "config", timeout=10) as response:
        config = response.read().decode()
    for text in ("Age estimation", "face_detector", "CC0-1.0", "HUB_AGE_ESTIMATOR"):
        assert text in config


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (make test installs it)")
def test_browser_upload_shows_age_and_interval(live_app, images, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser, page = open_tab(playwright, live_app, "Age estimation", images["astronaut"])
        page.get_by_role("button", name="Estimate age").click()
        # the honest default: no calibration is loaded, so no interval is shown, and the page says so plainly
        badge = page.get_by_text(re.compile(r"Uncalibrated: no interval"))
        expect(badge.first).to_be_visible(timeout=30000)
        expect(page.locator("body")).to_contain_text("python -m engine calibrate")
        # the confidence slider says why it changes nothing here
        expect(page.locator("body")).to_contain_text("without a calibration no interval is given")
        # and the estimator's own spread, the one uncertainty shown, is labelled for what it is
        expect(page.locator("body")).to_contain_text("overconfident: not a confidence interval")
        row = re.compile(r"\b0\s+(\d+\.\d)\s+none \(uncalibrated\)\s+-\s+female")  # face, age, interval, confidence, gender
        expect(page.locator("body")).to_contain_text(row, timeout=30000)  # the table can lag the badge on a loaded machine
        found = row.search(page.locator("body").inner_text())
        assert found is not None
        age = float(found.group(1))
        assert 20 <= age <= 60
        assert not re.search(r"\d+ - \d+\s+90%", page.locator("body").inner_text())  # no raw spread under "90 %"
        page.screenshot(path=str(tmp_path / "age_tab.png"), full_page=True)
        # a photo without a face gets a message saying so and what to try
        page.get_by_role("tabpanel").locator("input[type=file]").first.set_input_files(str(images["no_face"]))
        # the last photo's results go as the new one comes: left beside it, they read as its own
        expect(page.locator("body")).not_to_contain_text(row)
        expect(badge).to_have_count(0)
        page.get_by_role("button", name="Estimate age").click()
        expect(page.get_by_text("No face found").first).to_be_visible(timeout=30000)
        # one "Error" badge, on the first output, beside the notice (a red badge on each of the four outputs before)
        expect(page.get_by_role("tabpanel").get_by_text("Error", exact=True)).to_have_count(1)
        browser.close()


@pytest.fixture(scope="module")
def live_calibrated_app(tmp_path_factory):
    from tests.conftest import synthetic_artefact

    artefact = synthetic_artefact(tmp_path_factory.mktemp("calibration") / "age_conformal.json")
    yield from serve(HUB_CALIBRATION=str(artefact))


def test_browser_calibrated_app_shows_the_interval_and_its_data_not_a_path(live_calibrated_app, images, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser, page = open_tab(playwright, live_calibrated_app, "Age estimation", images["astronaut"])
        page.get_by_role("button", name="Estimate age").click()
        badge = "Calibrated intervals: mondrian-normalised on 3000 faces of synthetic-faces (CC0-1.0), 2026-11-30"
        expect(page.get_by_text(badge).first).to_be_visible(timeout=30000)
        row = re.compile(r"\b0\s+(\d+\.\d)\s+(\d+) - (\d+)\s+90%\s+female")
        expect(page.locator("body")).to_contain_text(row, timeout=30000)  # the table can lag the badge on a loaded machine
        found = row.search(page.locator("body").inner_text())
        assert found is not None
        age, lo, hi = map(float, found.groups())
        assert lo <= age <= hi and 20 <= age <= 60
        assert "age_conformal.json" not in page.locator("body").inner_text()
        page.screenshot(path=str(tmp_path / "age_tab_calibrated.png"), full_page=True)
        browser.close()


def test_twenty_concurrent_api_requests_are_all_answered_correctly(live_app, images):
    from gradio_client import Client, handle_file

    client = Client(live_app, verbose=False)
    expected = {
        "astronaut": client.predict(handle_file(str(images["astronaut"])), 90, api_name="/estimate_age")[4],
        "grace_hopper": client.predict(handle_file(str(images["grace_hopper"])), 90, api_name="/estimate_age")[4],
    }
    names = ["astronaut", "grace_hopper"] * 10
    # 20 requests in flight at once on the queue; each job is awaited afterwards
    jobs = [(name, client.submit(handle_file(str(images[name])), 90, api_name="/estimate_age")) for name in names]
    answers = [(name, job.result(timeout=180)[4]) for name, job in jobs]
    assert len(answers) == 20
    for name, faces in answers:
        assert faces == expected[name]
    assert expected["astronaut"][0]["gender"] == "female" and expected["grace_hopper"][0]["age"] > 60


def test_api_refuses_a_non_image_with_its_reason(live_app, images):
    from gradio_client import Client, handle_file

    client = Client(live_app, verbose=False)
    with pytest.raises(Exception, match="not an image that can be read"):
        client.predict(handle_file(str(images["not_image"])), 90, api_name="/estimate_age")
    with pytest.raises(Exception, match="No face found"):
        client.predict(handle_file(str(images["no_face"])), 90, api_name="/estimate_age")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (make test installs it)")
def test_browser_lifespan_tab_produces_a_strip_on_the_tiny_profile(live_tiny_app, images, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser, page = open_tab(playwright, live_tiny_app, "Lifespan aging", images["astronaut"])
        expect(page.get_by_text("These images are not results")).to_be_visible()
        page.get_by_role("button", name="Age this face").click()
        strip = page.locator("img[src*='_strip.png']")
        expect(strip.first).to_be_visible(timeout=60000)
        width, height = strip.first.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert width == 10 * 256 + 9 * GAP and height == 256 + round(CAPTION_SHARE * 256)  # the face as it is, nine ages
        # shown across the tab's whole width (in the half-width output column its nine faces were about 70 px each)
        shown = strip.first.bounding_box()["width"]
        assert shown > 0.8 * page.get_by_role("tabpanel").bounding_box()["width"]
        expect(page.locator("body")).to_contain_text("Source age used")
        # every age's tile in view, whole, within the gallery's box (at a fixed height its third row was cut off)
        box = page.locator("#lifespan-aged").bounding_box()
        tiles = page.locator("#lifespan-aged img")
        expect(tiles).to_have_count(9)
        for tile in tiles.all():
            shown = tile.bounding_box()
            assert box["y"] - 1 <= shown["y"] and shown["y"] + shown["height"] <= box["y"] + box["height"] + 1
        used = page.get_by_label("Source age used")
        expect(used).not_to_have_value("")
        page.screenshot(path=str(tmp_path / "lifespan_tab.png"), full_page=True)
        # on a phone the strip is tall enough to see its faces and scrolls sideways (fit to the width, about 40 px high)
        page.set_viewport_size({"width": 390, "height": 844})
        expect(strip.first).to_have_js_property("offsetHeight", 150)
        assert page.locator("#lifespan-strip .image-container").evaluate("box => box.scrollWidth > 2 * box.clientWidth")
        page.set_viewport_size({"width": 1400, "height": 1100})
        # a refused request: the last strip and source age go at once (left beside its error, they read as its own)
        page.get_by_label("Lifespan ages (0-80)").fill("5 10 90")
        page.get_by_role("button", name="Age this face").click()
        expect(page.locator("body")).to_contain_text("target age '90'", timeout=30000)
        expect(strip).to_have_count(0)
        expect(used).to_have_value("")
        page.get_by_label("Lifespan ages (0-80)").fill("20 60")
        page.get_by_role("button", name="Age this face").click()
        expect(strip.first).to_be_visible(timeout=60000)
        expect(used).not_to_have_value("")
        # one row of ages: the gallery as tall as it (Gradio's least height left most of the box empty under it)
        expect(tiles).to_have_count(2)
        assert page.locator("#lifespan-aged").bounding_box()["height"] < 0.6 * box["height"]
        # the error put right goes with the click: it stayed over the new results
        expect(page.locator("body")).not_to_contain_text("target age '90'")
        # seventeen ages, every one whole in the gallery's box (Gradio's most height hid 11 of them behind a scroll)
        page.get_by_label("Lifespan ages (0-80)").fill(" ".join(str(age) for age in range(0, 81, 5)))
        page.get_by_role("button", name="Age this face").click()
        expect(tiles).to_have_count(17, timeout=60000)
        box = page.locator("#lifespan-aged").bounding_box()
        for tile in tiles.all():
            shown = tile.bounding_box()
            assert box["y"] - 1 <= shown["y"] and shown["y"] + shown["height"] <= box["y"] + box["height"] + 1
        # another photo: the last one's strip and source age go (left beside it, they read as its own)
        page.get_by_role("tabpanel").locator("input[type=file]").first.set_input_files(str(images["grace_hopper"]))
        expect(strip).to_have_count(0)
        expect(used).to_have_value("")
        browser.close()


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (make test installs it)")
def test_browser_lifespan_gallery_on_a_phone_shows_each_caption_whole(live_app, images):
    # two ages a row: three cut each caption ("5 years, classical") after its first word
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser, page = open_tab(playwright, live_app, "Lifespan aging", images["astronaut"])
        page.set_viewport_size({"width": 390, "height": 844})
        page.get_by_role("button", name="Age this face").click()
        captions = page.locator("#lifespan-aged .caption-label")
        expect(captions).to_have_count(9, timeout=90000)
        expect(captions.first).to_have_text("5 years, classical")
        assert all(caption.evaluate("c => c.scrollWidth <= c.clientWidth") for caption in captions.all())
        browser.close()


def test_offline_lifespan_api_uses_the_classical_renderer(live_app, images):
    from gradio_client import Client, handle_file

    client = Client(live_app, verbose=False)
    gallery, strip, gif, mp4, pass1, manifest, used_age, used_gender, read = client.predict(
        handle_file(str(images["astronaut"])), "Single age", 70, "", "", "estimate", 0, "", True, api_name="/lifespan"
    )
    assert manifest["models"]["renderer"] == "classical" and manifest["targets"] == [70.0]
    assert gallery[0]["caption"] == "70 years, classical" and pass1 == []  # the renderer named, short enough to show
    # what the hub's age estimator reads in the output, by the age asked: the manifest's, to a whole year
    asked, age = read.split(": ")
    assert asked == "70" and abs(int(age) - manifest["estimated_ages"][0]) <= 0.55
    assert any("classical renderer is used" in w for w in manifest["warnings"])
    assert manifest["framing"] == "face"  # the default when a caller leaves the framing out
    framed = client.predict(
        handle_file(str(images["astronaut"])), "Single age", 70, "", "", "estimate", 0, "", True, "photo", api_name="/lifespan"
    )
    assert framed[5]["framing"] == "photo"
    with pytest.raises(Exception, match="extra attribute prompt needs the diffusion renderer"):
        client.predict(
            handle_file(str(images["astronaut"])),
            "Single age",
            70,
            "",
            "",
            "estimate",
            0,
            "grey hair",
            True,
            api_name="/lifespan",
        )


def test_offline_pluralistic_api_takes_the_source_age_and_gender_given(live_app, images):
    # its warnings (a face read as a child is grown; a woman's hairline is kept) tell the user to give them
    from gradio_client import Client, handle_file

    client = Client(live_app, verbose=False)
    photo = handle_file(str(images["astronaut"]))
    gallery, _, manifest = client.predict(photo, 60, 2, 0.3, None, 0, False, "", "30", "male", api_name="/pluralistic")
    assert (manifest["source_age"], manifest["source_age_from"]) == (30.0, "given")
    # each future's file named after the photo and the target, with its provenance (futures-0.png, none, before)
    from PIL import Image  # noqa: PLC0415

    shown = Path(gallery[1]["image"])
    assert shown.name == "astronaut_60_sample1_face.png"
    info = Image.open(shown).info
    assert info["AI-edited"].startswith("yes") and (info["TargetAge"], info["Sample"], info["Seed"]) == ("60", "1", "0")
    assert (manifest["gender"], manifest["gender_from"]) == ("male", "given")
    # its 56-bit seeds as their digits: as numbers a browser showed them rounded (...290 for ...291), and copied them so
    from engine.tasks.pluralistic import sample_seeds  # noqa: PLC0415

    assert manifest["seeds"] == [str(seed) for seed in sample_seeds(0, 60.0, 2, False)] and manifest["seed"] == 0
    # a list of them all strings, one under 2^53 too (seed 3's fourth): strings and a number in one list before
    from demos.common import exact_in_a_browser  # noqa: PLC0415

    seeds = sample_seeds(3, 60.0, 4, False)
    assert min(seeds) < 2**53 < max(seeds) and exact_in_a_browser({"seeds": seeds}) == {"seeds": [str(s) for s in seeds]}
    # left out, as callers before these fields did: estimated
    _, _, estimated = client.predict(photo, 60, 2, 0.3, None, 0, api_name="/pluralistic")
    assert estimated["source_age_from"] == "estimated" and estimated["gender_from"] == "estimated"


def test_offline_lifespan_api_chooses_a_face_ages_every_face_and_recedes_the_hairline(live_app, images):
    from gradio_client import Client, handle_file

    client = Client(live_app, verbose=False)
    group = handle_file(str(images["two_faces"]))  # the astronaut (face 1) beside Grace Hopper (face 0, the larger)
    # photo, mode, target, preset, source age, gender, seed, extra prompt, paste, framing, face, all faces, receding
    shown = client.predict(group, "Single age", 70, "", "", "estimate", 0, "", True, "face", "", api_name="/lifespan")
    assert "2 faces found; using the largest (face 0)." in shown[5]["warnings"] and shown[5]["face"] == 0
    second = client.predict(group, "Single age", 70, "", "", "estimate", 0, "", True, "face", "1", api_name="/lifespan")
    assert second[5]["face"] == 1 and not any("faces found" in w for w in second[5]["warnings"])
    assert second[5]["source_age"] < shown[5]["source_age"]  # the astronaut's estimated age, not Grace Hopper's
    gallery, strip, gif, mp4, pass1, manifest, used_age, used_gender, _read = client.predict(
        group, "Single age", 70, "", "33", "estimate", 0, "", True, "photo", "", True, True, api_name="/lifespan"
    )
    assert [(face["face"], face["chosen"], face["aged"]) for face in manifest["all_faces"]] == [(0, True, True), (1, False, True)]
    assert [face["source_age_from"] for face in manifest["all_faces"]] == ["given", "estimated"]
    # asked for every face aged: tried on the faces read as men, left as it is on the others, each named
    assert manifest["all_faces"][1]["gender"] == "female"  # the astronaut
    for face in manifest["all_faces"]:
        kept = face["classical_stages"]["70"]["hairline"].startswith("receding_hairline skipped: the face's gender is")
        assert kept == (face["gender"] != "male")
        told = f"Face {face['face']}: Hairline left as it is: the face's gender"
        assert kept == any(w.startswith(told) for w in manifest["warnings"])
    assert not any("faces found" in w for w in manifest["warnings"])
    assert manifest["warnings"][-1].startswith("Faces aged: 2 of 2 (face 0: source age 33, given; face 1: source age ")
    assert used_age.startswith("face 0: 33 (given); face 1: ") and used_age.endswith(" (estimated)")
    assert used_gender.startswith("face 0: ") and "; face 1: " in used_gender
    with pytest.raises(Exception, match="face index 2: the photo has 2 faces, 0 to 1"):
        client.predict(group, "Single age", 70, "", "", "estimate", 0, "", True, "face", "2", api_name="/lifespan")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (make test installs it)")
def test_browser_lifespan_tab_ages_every_face_and_says_when_grey_hair_stays_grey(live_app, images, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        # Grace Hopper at 5: most of the white hair beside her face is outside the hair mask, so it stays white
        browser, page = open_tab(playwright, live_app, "Lifespan aging", images["grace_hopper"])
        # only the chosen mode's control shows, and the diffusion renderer's own controls not at all offline
        slider = page.get_by_text(re.compile(r"^Target age \("))
        expect(slider).to_have_count(0)
        page.get_by_label("Single age").check()
        expect(slider.first).to_be_visible()
        expect(page.get_by_label(re.compile("Lifespan ages"))).to_have_count(0)
        page.get_by_label("Lifespan", exact=True).check()
        page.get_by_text("More", exact=True).click()
        expect(page.get_by_label(re.compile("Extra attribute"))).to_have_count(0)
        # framing the whole photo shows the faces pasted back: it ticks paste, and unticking paste frames the faces
        # (set against each other, the request was refused at the click)
        paste = page.get_by_label("Paste the aged face back into the photo")
        paste.uncheck()
        page.get_by_label("photo", exact=True).check()
        expect(paste).to_be_checked()
        paste.uncheck()
        expect(page.get_by_label("face", exact=True)).to_be_checked()
        paste.check()
        page.get_by_label(re.compile("Lifespan ages")).fill("5 80")
        page.get_by_role("button", name="Age this face").click()
        expect(
            page.get_by_text("Hair left as it is at 5: light hair that reads as grey lies beside the face's left side").first
        ).to_be_visible(timeout=120000)
        page.screenshot(path=str(tmp_path / "lifespan_grey_left.png"), full_page=True)
        browser.close()
        browser, page = open_tab(playwright, live_app, "Lifespan aging", images["two_faces"])
        page.get_by_label(re.compile("Lifespan ages")).fill("70")
        page.get_by_text("Group photo and hairline").click()
        page.get_by_label("Age every face in the photo (classical renderer)").check()
        page.get_by_role("button", name="Age this face").click()
        expect(
            page.get_by_text(re.compile(r"Faces aged: 2 of 2 \(face 0: source age \d+, estimated; face 1: ")).first
        ).to_be_visible(timeout=120000)
        # the summary of the faces is information, not a warning
        summary = page.locator("[data-testid=toast-body]", has_text="Faces aged")
        expect(summary.first).to_have_class(re.compile(r"\binfo\b"))
        # the outputs can be written a while after the warnings show on a loaded machine (5 s was too short once)
        expect(page.get_by_label("Source age used")).to_have_value(
            re.compile(r"^face 0: \d+ \(estimated\); face 1: \d+ \(estimated\)$"), timeout=30000
        )
        expect(page.locator("body")).not_to_contain_text("faces found")
        # each aged photo is shown whole in its tile (cropped to fill it, a full-length portrait showed no face)
        fits = page.evaluate(
            """() => Array.from(document.querySelectorAll('img')).filter(
                i => i.closest('.block')?.querySelector('[data-testid=block-label]')?.textContent.trim() === 'Aged'
            ).map(i => getComputedStyle(i).objectFit)"""
        )
        assert fits and set(fits) == {"contain"}
        page.screenshot(path=str(tmp_path / "lifespan_every_face.png"), full_page=True)
        browser.close()


def test_lifespan_api_single_age_with_given_source_and_extra_prompt(live_tiny_app, images):
    from gradio_client import Client, handle_file

    client = Client(live_tiny_app, verbose=False)
    gallery, strip, gif, mp4, pass1, manifest, used_age, used_gender, _read = client.predict(
        handle_file(str(images["astronaut"])),
        "Single age",
        36,
        "",
        "33",
        "male",
        4,
        "grey hair",
        False,
        api_name="/lifespan",
    )
    assert manifest["targets"] == [36.0] and manifest["strengths"] == [0.75]  # the extra prompt forces 0.75
    assert used_age == "33 (given)" and used_gender == "male (given)"
    assert len(gallery) == 1 and len(pass1) == 1
    with pytest.raises(Exception, match="source age must be a number between 0 and 80 or empty"):
        client.predict(
            handle_file(str(images["astronaut"])), "Single age", 36, "", "old", "male", 4, "", False, api_name="/lifespan"
        )


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (make test installs it)")
def test_browser_zone_tab_ages_a_real_portrait_with_the_classical_renderer(live_app, images, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser, page = open_tab(playwright, live_app, "Local zone editing", images["grace_hopper"])
        expect(page.get_by_text("classical: available")).to_be_visible()
        # the renderer this profile lacks says so where it is picked (picked, it was refused with an operator's message)
        expect(page.get_by_label("diffusion (not available here)")).to_be_visible()
        expect(page.get_by_text("Sliders start at each zone")).to_be_visible(timeout=30000)
        expect(page.get_by_text("assumed from age")).to_be_visible()
        # "All zones" says that its 50 is not what Apply uses until it is moved
        expect(page.locator("body")).to_contain_text("the zones start at their current scores, which Apply leaves as they are")
        forehead = page.get_by_label("number input for forehead (%)")
        forehead.fill("5")
        forehead.press("Enter")
        page.get_by_role("button", name="Apply").click()
        expect(page.locator("body")).to_contain_text(re.compile(r'"changed_zones":\s*\[\s*"forehead"\s*\]'), timeout=30000)
        expect(page.locator("body")).to_contain_text('"renderer": "classical"')
        page.screenshot(path=str(tmp_path / "zones_tab.png"), full_page=True)
        # a refused edit of the same photo: the last edit goes at once, not left beside its error as if it were its own
        page.get_by_label("diffusion (not available here)").check()
        page.get_by_role("button", name="Apply").click()
        expect(page.locator("body")).to_contain_text("A model this tab needs is not available", timeout=30000)
        expect(page.locator("body")).not_to_contain_text('"changed_zones"')
        browser.close()


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (make test installs it)")
def test_browser_zone_tab_another_age_typed_moves_the_sliders_and_apply_leaves_the_zones_not_set(live_app, images, tmp_path):
    """The age the current scores are assumed from, typed over the estimate: the sliders showed the estimate's scores
    and Apply edited all twelve zones from the typed age's scores to them (Obama at 35 typed as 70: the face smoothed)."""
    from playwright.sync_api import expect, sync_playwright

    from engine.faces.zones import ZONES
    from engine.methods.ldla.curves import scores_for_age

    with sync_playwright() as playwright:
        browser, page = open_tab(playwright, live_app, "Local zone editing", images["astronaut"])
        expect(page.get_by_text("Sliders start at each zone")).to_be_visible(timeout=30000)
        page.get_by_role("tabpanel").get_by_role("button", name="More").click()
        # the diffusion renderer's own options are not offered where it cannot run (ticked, the refiner was refused with
        # "choose the diffusion renderer", which is not available here)
        expect(page.get_by_text("Whole-face refiner pass (diffusion renderer, not available here)")).to_be_visible()
        expect(page.get_by_role("checkbox", name=re.compile(r"Whole-face refiner pass"))).to_be_disabled()
        expect(page.get_by_text("Ethnicity for the diffusion prompt (not available here)")).to_be_visible()
        age = page.get_by_label(re.compile(r"^Age the current scores are assumed from"))
        age.fill("70")
        age.press("Enter")
        expect(page.locator("body")).to_contain_text("assumed from age 70", timeout=30000)
        at_70 = scores_for_age(70)
        expect(page.get_by_label("number input for forehead (%)")).to_have_value(f"{at_70['forehead']:g}")
        assert zone_values(page) == [f"{at_70[zone]:g}" for zone in ZONES]
        page.get_by_role("button", name="Apply").click()
        expect(page.locator("body")).to_contain_text(re.compile(r'"changed_zones":\s*\[\s*\]'), timeout=30000)
        # typed again, with one zone moved by hand since: that zone keeps its score, and is the one edited
        crows = page.get_by_label("number input for crows feet left (%)")
        crows.fill("95")
        crows.press("Enter")
        age.fill("60")
        age.press("Enter")
        expect(page.locator("body")).to_contain_text("assumed from age 60", timeout=30000)
        at_60 = scores_for_age(60)
        wanted = [f"{95 if zone == 'crows_feet_left' else at_60[zone]:g}" for zone in ZONES]
        expect(page.get_by_label("number input for forehead (%)")).to_have_value(f"{at_60['forehead']:g}")
        assert zone_values(page) == wanted
        page.get_by_role("button", name="Apply").click()
        expect(page.locator("body")).to_contain_text(re.compile(r'"changed_zones":\s*\[\s*"crows_feet_left"\s*\]'), timeout=30000)
        page.screenshot(path=str(tmp_path / "zones_age.png"), full_page=True)
        # a zone's reset button sets it to 0, and Apply edits it so (the reset is no `input`: it was left as it was)
        forehead = page.get_by_label("number input for forehead (%)")
        page.locator(".block", has=forehead).get_by_role("button", name="Reset to default value").click()
        expect(forehead).to_have_value("0")
        page.get_by_role("button", name="Apply").click()
        expect(page.locator("body")).to_contain_text(
            re.compile(r'"changed_zones":\s*\[\s*"forehead"\s*,\s*"crows_feet_left"\s*\]'), timeout=30000
        )
        browser.close()


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (make test installs it)")
def test_browser_zone_tab_all_zones_reaches_every_slider_before_apply(live_app, images, tmp_path):
    """ "All zones" typed in and Apply clicked straight after: the edit uses the new score for every zone (the
    sliders took it in the browser, not after a round trip that Apply could overtake)."""
    from playwright.sync_api import expect, sync_playwright

    from engine.faces.zones import ZONES

    with sync_playwright() as playwright:
        browser, page = open_tab(playwright, live_app, "Local zone editing", images["astronaut"])
        expect(page.get_by_text("Sliders start at each zone")).to_be_visible(timeout=30000)
        master = page.get_by_label("number input for All zones (uniform aging score, %)")
        master.fill("90")
        master.press("Enter")
        page.get_by_role("button", name="Apply").click()
        expect(page.locator("body")).to_contain_text('"renderer": "classical"', timeout=30000)
        text = re.sub(r"\s+", "", page.locator("body").inner_text())  # the JSON view puts each token on a line
        changed = re.search(r'"changed_zones":\[([^\]]*)\]', text)
        assert changed is not None, text
        assert sorted(re.findall(r'"(\w+)"', changed.group(1))) == sorted(ZONES)  # every zone moved to 90
        forehead = page.get_by_label("number input for forehead (%)")
        expect(forehead).to_have_value("90")
        # its reset button and a typed value out of range reach the zones as "All zones" shows them
        page.locator(".block", has=master).get_by_role("button", name="Reset to default value").click()
        expect(master).to_have_value("50")
        expect(forehead).to_have_value("50")
        master.fill("150")
        master.press("Enter")
        forehead.click()  # the box clamps its value when it loses focus
        expect(master).to_have_value("100")
        expect(forehead).to_have_value("100")
        # the value it already shows, typed again after a zone was moved alone, reaches the zones too
        forehead.fill("30")
        forehead.press("Enter")
        master.fill("100")
        master.press("Enter")
        expect(forehead).to_have_value("100")
        browser.close()


def shown(page):
    """The photo input's image, once the upload is shown (the tab's change event has fired)."""
    label = page.get_by_test_id("block-label").filter(has_text=re.compile(r"^\s*Photo$"))
    return page.get_by_role("tabpanel").locator(".block", has=label).locator("img")


def zone_values(page) -> list[str]:
    from engine.faces.zones import ZONES

    boxes = [f"number input for {zone.replace('_', ' ')} (%)" for zone in ZONES]
    return [page.get_by_label(box).input_value() for box in boxes]


@pytest.mark.parametrize("first", ["found", "refused"])
def test_browser_zone_tab_finds_the_zones_of_a_photo_picked_while_the_last_ones_are_looked_for(live_app, images, tmp_path, first):
    """A second photo picked while the first one's zones are being found, or the first one refused, gets its own zones,
    not the first one's. Gradio's browser dropped the second find: while the first ran (a chained step's default
    trigger mode), and when the first failed (a refusal raised); the second photo kept the first one's zones and
    scores, and Apply edited it with them."""
    from PIL import Image
    from playwright.sync_api import expect, sync_playwright

    if first == "found":  # one this app has not seen (the astronaut as a palette PNG): its zones take a second or so
        photo = images["palette"]
    else:  # no face, and large enough that refusing it takes a moment
        photo = tmp_path / "noise.jpg"
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (4000, 6000, 3), dtype=np.uint8)).save(photo, quality=90)
    with sync_playwright() as playwright:
        browser, page = open_tab(playwright, live_app, "Local zone editing", images["grace_hopper"])
        expect(page.get_by_text("Sliders start at each zone")).to_be_visible(timeout=30000)
        expect(page.get_by_role("button", name="Apply")).to_be_enabled()
        alone = zone_values(page)
        browser.close()
        browser, page = open_tab(playwright, live_app, "Local zone editing", photo)
        shown(page).wait_for(timeout=30000)
        page.get_by_role("tabpanel").locator("input[type=file]").first.set_input_files(str(images["grace_hopper"]))
        expect(page.get_by_text("Sliders start at each zone")).to_be_visible(timeout=60000)
        expect(page.get_by_role("button", name="Apply")).to_be_enabled(timeout=30000)
        page.wait_for_timeout(1000)  # every find asked for has come back
        assert zone_values(page) == alone
        browser.close()


def test_api_finds_one_photos_zones_and_edits_another(live_app, images):
    """An API client keeps one session for its calls: its `/find_zones` on one photo does not make `/edit_zones` refuse
    another (the tab's record of the photo its sliders show is the tab's alone)."""
    from gradio_client import Client, handle_file

    client = Client(live_app, verbose=False)
    found = client.predict(handle_file(str(images["astronaut"])), api_name="/find_zones")
    assert len(found) == 3 + 12 and "Sliders start at each zone" in found[1]
    with pytest.raises(Exception, match="No face found"):  # a refusal is still an error there
        client.predict(handle_file(str(images["no_face"])), api_name="/find_zones")
    photos, faces, manifest = client.predict(
        handle_file(str(images["grace_hopper"])), "classical", 0, False, "", None, *([60] * 12), api_name="/edit_zones"
    )
    assert manifest["renderer"] == "classical" and manifest["checkpoint"] == "classical renderer (no weights)"
    # the edited photo and faces are the files the CLI writes: named after the photo, with their provenance
    from PIL import Image  # noqa: PLC0415

    after = Path(faces[1]) if isinstance(faces[1], str) else Path(faces[1]["path"])
    assert after.name == "grace_hopper_face_after.png" and Image.open(after).info["AI-edited"].startswith("yes")


def test_browser_zone_tab_keeps_scores_set_while_the_zones_are_found(live_app, images, tmp_path):
    """A photo just uploaded, "All zones", a zone and the source age set at once: the zones found a moment later do not
    overwrite them, and Apply waits for them (before, the zones' found scores replaced the 90 the master still showed,
    the estimate replaced the age typed, and an Apply clicked first edited with the sliders' old scores)."""
    from playwright.sync_api import expect, sync_playwright

    from engine.faces.zones import ZONES

    with sync_playwright() as playwright:
        browser, page = open_tab(playwright, live_app, "Local zone editing")
        # the zones' find is held in the browser until everything is set (it takes under a second on a photo this app
        # has seen, and a value typed as its answer came was written over by it: no one types that fast)
        held = []
        page.route("**/queue/join*", lambda route: held.append(route))
        page.get_by_role("tabpanel").locator("input[type=file]").first.set_input_files(str(images["cmyk"]))
        shown(page).wait_for()  # uploaded and shown: the zones are being found
        expect(page.get_by_role("button", name="Apply")).to_be_disabled()
        master = page.get_by_label("number input for All zones (uniform aging score, %)")
        master.fill("90")
        master.press("Enter")
        forehead = page.get_by_label("number input for forehead (%)")  # and one zone moved alone
        forehead.fill("20")
        forehead.press("Enter")
        page.get_by_role("tabpanel").get_by_role("button", name="More").click()
        age = page.get_by_label(re.compile(r"^Age the current scores are assumed from"))
        age.fill("33")  # the astronaut is estimated at about 40
        age.press("Enter")
        expect(page.get_by_role("button", name="Apply")).to_be_disabled()
        expect(age).to_have_value("33")
        page.wait_for_timeout(1000)  # the find's request, on its way, is held with any other
        assert held
        for request in held:
            request.continue_()
        page.unroute("**/queue/join*")
        page.get_by_role("button", name="Apply").click()  # waits for the zones (until then it is disabled)
        expect(page.get_by_text("Sliders start at each zone")).to_be_visible(timeout=30000)
        expect(page.locator("body")).to_contain_text('"renderer": "classical"', timeout=30000)
        expect(age).to_have_value("33")
        expect(page.locator("body")).to_contain_text("assumed from age 33")
        wanted = {zone: 20 if zone == "forehead" else 90 for zone in ZONES}
        for zone, score in wanted.items():
            expect(page.get_by_label(f"number input for {zone.replace('_', ' ')} (%)")).to_have_value(str(score))
        text = re.sub(r"\s+", "", page.locator("body").inner_text())
        targets = re.search(r'"target_scores":\{([^}]*)\}', text)
        assert targets is not None, text
        assert {zone: float(score) for zone, score in re.findall(r'"(\w+)":([\d.]+)', targets.group(1))} == wanted
        browser.close()


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (make test installs it)")
def test_browser_zone_tab_refuses_a_face_too_small_and_keeps_its_sliders(live_app, tmp_path):
    from PIL import Image
    from playwright.sync_api import expect, sync_playwright

    from tests.conftest import small_face_on_grey

    photo = tmp_path / "small_face.png"
    Image.fromarray(small_face_on_grey()).save(photo)
    with sync_playwright() as playwright:
        browser, page = open_tab(playwright, live_app, "Local zone editing", photo)
        # the refusal is said in a notice kept until closed and in the note: the sliders stay sliders (not twelve "Error"
        # badges)
        refusal = re.compile(r"too small for the zone editor.*at least 40 px wide")
        expect(page.get_by_test_id("toast-text").filter(has_text=refusal)).to_be_visible(timeout=30000)
        expect(page.locator("p", has_text="Zones not found:").filter(has_text=refusal)).to_be_visible()
        expect(page.get_by_label("number input for forehead (%)")).to_be_visible()
        expect(page.locator(".wrap .error")).to_have_count(0)  # status badges (the toast's title is not one)
        # and Apply, disabled while the zones were looked for, is offered again: clicked, it says what is wrong
        page.get_by_role("button", name="Apply").click()
        expect(
            page.get_by_test_id("toast-text").filter(has_text="zones are still being found, or could not be found")
        ).to_be_visible(timeout=30000)
        page.screenshot(path=str(tmp_path / "zones_tab_small_face.png"), full_page=True)
        # another tab picked, the notices close (a lifespan warning stayed over the leaderboard's table)
        page.get_by_role("tab", name="Leaderboard").click()
        expect(page.get_by_test_id("toast-text")).to_have_count(0)
        browser.close()


@pytest.fixture(scope="module")
def store_with_verified_row(tmp_path_factory):
    from engine.core.settings import Settings
    from evaluation.harness import evaluate
    from leaderboard.store import ResultsStore

    folder = tmp_path_factory.mktemp("store")
    ResultsStore(folder).add_result(evaluate("classical", "offline", settings=Settings(profile="offline")))
    return folder


@pytest.fixture(scope="module")
def live_app_with_store(store_with_verified_row):
    yield from serve(HUB_STORE_DIR=str(store_with_verified_row))


# Where an input's text ends on the page (its left edge, padding and the text's measured width)
TEXT_RIGHT_EDGE = """input => {
  const style = getComputedStyle(input);
  const context = document.createElement("canvas").getContext("2d");
  context.font = style.font;
  return input.getBoundingClientRect().left + parseFloat(style.paddingLeft) + context.measureText(input.value).width;
}"""


# Each word of the elements `selector` finds, with the number of lines the browser laid it out over.
HEADER_WORD_LINES = """selector => {
  const words = [];
  for (const element of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
      for (const match of text.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(text, match.index);
        range.setEnd(text, match.index + match[0].length);
        words.push([match[0], new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size]);
      }
    }
  }
  return words;
}"""


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (make test installs it)")
def test_browser_leaderboard_shows_seed_rows_and_the_verified_offline_row(live_app_with_store, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser, page = open_tab(playwright, live_app_with_store, "Leaderboard")
        body = page.locator("body")
        expect(body).to_contain_text("Cradle2Cane", timeout=20000)
        expect(body).to_contain_text("81.33")  # Table 1, Face++ protocol, recomputed HCS
        # every column header's words whole: a word broken over two lines has two boxes ("provenanc" / "e")
        words = page.evaluate(HEADER_WORD_LINES, ".leaderboard-table th span.header")
        assert len(words) >= 14 and [word for word, lines in words if lines > 1] == []  # the 14 columns' words, measured
        # the protocol's name ends short of the list's arrow (it ran under it: "Face++ AP▾I"), whole at this width
        protocol = page.get_by_role("combobox", name="Protocol (rows are compared only within one)")
        text_ends = protocol.evaluate(TEXT_RIGHT_EDGE)
        assert text_ends <= page.locator("#leaderboard-protocol .icon-wrap").bounding_box()["x"]
        assert protocol.evaluate("input => input.scrollWidth <= input.clientWidth")
        page.get_by_role("combobox", name="Protocol (rows are compared only within one)").click()
        page.get_by_role("option", name=re.compile("offline-portraits")).click()
        expect(body).to_contain_text("verified", timeout=20000)
        expect(body).to_contain_text("this harness")
        expect(body).to_contain_text(re.compile(r"FID missing for all 1"))
        page.screenshot(path=str(tmp_path / "leaderboard.png"), full_page=True)
        # the age-identity trade-off is shown for the lifespan task alone (for another it was an empty box saying so)
        trade_off = page.get_by_text("Age-identity trade-off", exact=True)
        expect(trade_off).to_be_visible()
        page.get_by_role("radio", name="Age estimation with intervals").check()
        expect(body).to_contain_text("conformal", timeout=20000)
        expect(trade_off).to_be_hidden()
        page.get_by_role("radio", name="Lifespan aging").check()
        expect(trade_off).to_be_visible()
        # Submit with nothing attached: said in a notice, and the queues below keep their tables (no "Error" badges)
        page.get_by_text("Submit results", exact=True).first.click()
        page.get_by_role("button", name="Submit", exact=True).click()
        expect(page.get_by_test_id("toast-text").filter(has_text="attach a claim (.json) or a zip of outputs")).to_be_visible(
            timeout=20000
        )
        expect(page.locator("#claims-awaiting .error, #verification-queue .error")).to_have_count(0)  # status badges
        browser.close()


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (make test installs it)")
def test_browser_pluralistic_tab_offline_shows_futures_and_diversity(live_app, images, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser, page = open_tab(playwright, live_app, "Pluralistic aging", images["grace_hopper"])
        expect(page.get_by_text("a PAE over zone scores")).to_be_visible()
        expect(page.locator("body")).to_contain_text("0.3 draws futures as far apart as people of one age are")
        samples = page.get_by_label("number input for Samples (2-8)")
        samples.fill("8")
        samples.press("Enter")
        page.get_by_role("button", name="Sample futures").click()
        expect(page.locator("body")).to_contain_text(re.compile(r"Diversity\*?\*?: \d\.\d{4}"), timeout=90000)
        expect(page.locator("body")).to_contain_text("SFace identity embedding")
        expect(page.locator("body")).to_contain_text(re.compile(r"3: age \d+, identity \d+"))
        # all eight futures whole in the gallery's box (at a fixed height its last rows were behind a scroll in it)
        tiles = page.locator("#pluralistic-futures .thumbnail-item")
        expect(tiles).to_have_count(8)
        box = page.locator("#pluralistic-futures").bounding_box()
        for tile in tiles.all():
            shown = tile.bounding_box()
            assert box["y"] - 1 <= shown["y"] and shown["y"] + shown["height"] <= box["y"] + box["height"] + 1
        # on a phone each caption is whole (two columns cut "0: age 55, identity 91" after "identi")
        page.set_viewport_size({"width": 390, "height": 844})
        captions = page.locator("#pluralistic-futures .caption-label")
        expect(captions.first).to_be_visible()
        assert all(caption.evaluate("c => c.scrollWidth <= c.clientWidth") for caption in captions.all())
        page.set_viewport_size({"width": 1400, "height": 1100})
        # the source age and gender the futures were drawn from are said, and where they came from
        expect(page.locator("body")).to_contain_text(re.compile(r"from its source age [\d.]+ \(estimated\) and gender"))
        page.screenshot(path=str(tmp_path / "pluralistic.png"), full_page=True)
        # a refused request: the last futures go at once, not left beside its error as if they were its own
        page.get_by_text("Face, source age, hairline and seed").click()
        page.get_by_label("Face (leave empty for the largest)").fill("7")
        page.get_by_role("button", name="Sample futures").click()
        expect(page.locator("body")).to_contain_text("face index 7", timeout=30000)
        expect(page.locator("body")).not_to_contain_text(re.compile(r"3: age \d+, identity \d+"))
        expect(page.locator("body")).not_to_contain_text(re.compile(r"Diversity\*?\*?: \d"))
        page.get_by_label("Face (leave empty for the largest)").fill("")
        # another photo: the last one's futures and their diversity go with it
        page.get_by_role("tabpanel").locator("input[type=file]").first.set_input_files(str(images["astronaut"]))
        expect(page.locator("body")).not_to_contain_text(re.compile(r"Diversity\*?\*?: \d"))
        expect(page.locator("body")).not_to_contain_text(re.compile(r"3: age \d+, identity \d+"))
        browser.close()


def test_the_pluralistic_examples_ask_for_an_age_well_past_the_faces_own():
    """The tab's examples were the other tabs' portraits, Grace Hopper among them: read at the estimator's top class,
    every target was her past, and her "futures" at the default 60 were younger versions of her."""
    from PIL import Image

    from demos.pluralistic import example_futures
    from engine.core.settings import Settings
    from engine.tasks.estimate import EstimateRequest, estimate

    examples = example_futures()
    assert [(Path(path).name, target) for path, target in examples] == [("astronaut.png", 70)]
    for path, target in examples:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        (face, *_) = estimate(EstimateRequest(rgb, 0.9), Settings(profile="offline")).faces
        assert target >= face.age + 25, (path, face.age)
