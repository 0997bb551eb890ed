"""What the page promises about limits and privacy, checked on a running app: bad numbers get the table's
message (never a bare "Error"), oversized uploads are refused by the server, no server path reaches a
response, and uploads and results are gone once the stated time has passed."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.app.test_app import serve

pytestmark = pytest.mark.app

KEEP_S, CHECK_S = 15, 1  # short, so the test can wait them out, yet longer than one request on a busy machine


@pytest.fixture(scope="module")
def temp_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("server-tmp")


@pytest.fixture(scope="module")
def strict_app(temp_root):
    """The app with its temporary files under `temp_root`, kept KEEP_S seconds, and uploads capped at 1 MB."""
    yield from serve(
        TMPDIR=str(temp_root),
        GRADIO_TEMP_DIR=str(temp_root / "gradio"),
        HUB_TEMP_KEEP_S=str(KEEP_S),
        HUB_TEMP_CHECK_S=str(CHECK_S),
        HUB_MAX_UPLOAD_MB="1",
    )


def upload(url: str, name: str, content: bytes) -> tuple[int, str]:
    """POST one file to Gradio's upload route as a browser does; (HTTP status, body)."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        url + "gradio_api/upload", data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def raw_call(url: str, api_name: str, body: str) -> str:
    """Call an endpoint with a JSON body written by hand (so it can hold NaN, which no JSON client sends);
    the event stream's text."""
    request = urllib.request.Request(
        f"{url}gradio_api/call/{api_name}", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/{api_name}/{event_id}", timeout=120) as response:
        return response.read().decode()


def photo_payload(url: str, path: Path) -> str:
    status, body = upload(url, path.name, path.read_bytes())
    assert status == 200, body
    return json.dumps({"path": json.loads(body)[0], "meta": {"_type": "gradio.FileData"}})


def test_bad_numbers_get_the_tables_message_not_a_bare_error(strict_app, images):
    from gradio_client import Client, handle_file

    client = Client(strict_app, verbose=False)
    photo = handle_file(str(images["astronaut"]))
    seed_rule = "seed must be a whole number from 0 to 4294967295"
    for seed, shown in [("abc", "'abc'"), (2**64, "18446744073709551616"), (-1, "-1"), (10**40, "an integer of 41 digits")]:
        for api_name, args in [
            ("/lifespan", (photo, "Single age", 70, "", "", "estimate", seed, "", True)),
            ("/pluralistic", (photo, 60, 2, 0.3, None, seed)),
        ]:
            with pytest.raises(Exception, match=f"^{seed_rule}, got {shown}$"):
                client.predict(*args, api_name=api_name)
    with pytest.raises(Exception, match="^confidence must be between 50 and 99 %, got 'ninety'$"):
        client.predict(photo, "ninety", api_name="/estimate_age")
    with pytest.raises(Exception, match="^samples must be a whole number from 2 to 8, got 1e\\+300$"):
        client.predict(photo, 60, 1e300, 0.3, None, 0, api_name="/pluralistic")
    with pytest.raises(Exception, match="^target age must be an age between 0 and 80, got 200$"):
        client.predict(photo, 200, 2, 0.3, None, 0, api_name="/pluralistic")
    # NaN: only a hand-written body can carry it; it still gets the rule, in an error event with a message
    stream = raw_call(strict_app, "estimate_age", f'{{"data": [{photo_payload(strict_app, images["astronaut"])}, NaN]}}')
    assert "event: error" in stream and "confidence must be between 50 and 99 %, got nan" in stream


def test_the_server_refuses_an_upload_over_the_limit(strict_app):
    status, body = upload(strict_app, "huge.jpg", b"\xff" * (2**20 + 1))
    assert status == 413 and "maximum allowed size" in body
    status, _ = upload(strict_app, "fine.jpg", b"\xff" * 1000)
    assert status == 200
    with urllib.request.urlopen(strict_app + "config", timeout=10) as response:
        assert "Uploads over 1 MB are refused" in response.read().decode()


def test_no_server_path_in_the_age_response(strict_app, images):
    """The calibration note says that none is loaded, not where the server looked for one (tests point
    HUB_CALIBRATION at /nonexistent/age_conformal.json)."""
    from gradio_client import Client, handle_file

    client = Client(strict_app, verbose=False)
    _, badge, _, _, faces = client.predict(handle_file(str(images["astronaut"])), 90, api_name="/estimate_age")
    assert "No calibration loaded" in badge
    assert "Gender: female when p(female) \u2265 0.5, the default (no calibration loaded)." in badge
    assert "/nonexistent" not in badge and "/nonexistent" not in json.dumps(faces)
    assert faces[0]["image"] == "astronaut.png"


def test_uploads_and_results_are_deleted_when_the_page_says(strict_app, temp_root, images, tmp_path):
    from gradio_client import Client, handle_file

    with urllib.request.urlopen(strict_app + "config", timeout=10) as response:
        config = response.read().decode()
    assert f"deleted once they are {KEEP_S} seconds old, checked every {CHECK_S} second" in config
    stem = f"privacy-{uuid.uuid4().hex[:8]}"  # a name only this request's files carry
    photo = tmp_path / f"{stem}.png"
    photo.write_bytes(images["astronaut"].read_bytes())
    client = Client(strict_app, verbose=False)
    client.predict(handle_file(str(photo)), "Single age", 70, "", "", "estimate", 0, "", True, api_name="/lifespan")

    def kept() -> list[Path]:
        return [path for path in temp_root.rglob(f"{stem}*") if path.is_file()]

    names = {path.name for path in kept()}
    # the upload, and the strip, GIF and MP4 both where the tab wrote them and in Gradio's copy
    assert {f"{stem}.png", f"{stem}_strip.png", f"{stem}_lifespan.gif", f"{stem}_lifespan.mp4"} <= names
    assert any("face-aging-hub-" in str(path) for path in kept()) and any("gradio" in path.parts for path in kept())
    deadline = time.monotonic() + KEEP_S + CHECK_S + 10  # the promise, plus slack for a busy machine
    while kept() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert kept() == []


def test_uploads_and_results_are_deleted_when_the_server_is_stopped(tmp_path, images):
    """The page's other promise: all of them go "when the server stops", stopped as a Space restart or `kill` stops it
    (SIGTERM), with an API client still connected (its heartbeat kept the server's own shutdown from running)."""
    from gradio_client import Client, handle_file

    root = tmp_path / "server-tmp"
    root.mkdir()
    stem = f"stopped-{uuid.uuid4().hex[:8]}"
    photo = tmp_path / f"{stem}.png"
    photo.write_bytes(images["astronaut"].read_bytes())
    server = serve(TMPDIR=str(root), GRADIO_TEMP_DIR=str(root / "gradio"))
    url = next(server)
    client = Client(url, verbose=False)
    client.predict(handle_file(str(photo)), "classical", 0, False, "", None, *([60] * 12), api_name="/edit_zones")
    made = [path for path in root.rglob("*") if path.is_file() and (path.name.startswith(stem) or "zones-" in path.name)]
    assert any(path.name == photo.name for path in made) and any("face-aging-hub-" in str(path) for path in made)
    server.close()  # SIGTERM, then up to 10 s before it is killed
    assert [path for path in made if path.exists()] == []


def test_classical_zone_edits_wait_in_their_own_queue_not_the_gpus_slot():
    # in the lifespan and pluralistic tabs' one slot a 1 s classical zone edit waited behind another visitor's 17-age
    # lifespan (10.9 s against 0.6 s alone), on a Space where no GPU work can run
    import gradio as gr

    import demos.zones
    from engine.core.limits import DEFAULT_CONCURRENCY

    with gr.Blocks() as demo:
        demos.zones.build()
    api = [(fn.concurrency_id, fn.concurrency_limit) for fn in demo.fns.values() if fn.api_name == "edit_zones"]
    assert api == [("zones", DEFAULT_CONCURRENCY)]
    # the tab's own Apply with it, and nothing of the tab in the GPU's slot
    assert sum(fn.concurrency_id == "zones" for fn in demo.fns.values()) == 2
    assert not [fn for fn in demo.fns.values() if fn.concurrency_id == "gpu"]
