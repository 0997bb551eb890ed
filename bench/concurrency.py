"""Big inputs never block others: 20 concurrent `/estimate_age` requests on a live app (loopback only), once
with 20 ordinary portraits and once with one 36 MP JPEG among them; the p95 latency of the ordinary
requests in each case (target: with the big photo, within 2x of without), and what the big request
costs alone (seconds, and how far it raises the server's peak memory).

    .venv/bin/python -m bench age_under_load
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from engine.core.settings import ROOT

CONCURRENT = 20
ROUNDS = 3  # each case is sent this many times; the p95 is over all rounds' ordinary requests
BIG_SIZE = (7360, 4912)  # 36 MP, as a full-frame camera writes


def _photos(folder: Path) -> tuple[list[Path], Path]:
    """Two ordinary portraits (skimage's astronaut, matplotlib's Grace Hopper) and the astronaut enlarged to 36 MP."""
    import matplotlib
    from PIL import Image
    from skimage import data

    astronaut = folder / "astronaut.png"
    Image.fromarray(data.astronaut()).save(astronaut)
    hopper = folder / "grace_hopper.jpg"
    hopper.write_bytes((Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").read_bytes())
    big = folder / "camera_36mp.jpg"
    Image.fromarray(data.astronaut()).resize(BIG_SIZE, Image.Resampling.BILINEAR).save(big, quality=90)
    return [astronaut, hopper], big


def _serve(folder: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(folder / "gradio"),
        "TMPDIR": str(folder),
    }
    process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the app did not answer within 120 s")


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def age_under_load() -> dict:
    from gradio_client import Client, handle_file

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        folder = Path(tmp)
        small, big = _photos(folder)
        process, url = _serve(folder)
        try:
            client = Client(url, verbose=False)

            def timed(path: Path) -> tuple[str, float, str]:
                start = time.perf_counter()
                try:
                    client.predict(handle_file(str(path)), 90, api_name="/estimate_age")
                    outcome = "ok"
                except Exception as error:  # a refusal still counts as an answer; say which
                    outcome = f"{type(error).__name__}: {error}"[:120]
                return path.name, time.perf_counter() - start, outcome

            for path in small:  # warm: models built, first-request costs paid
                timed(path)

            def one_round(with_big: bool) -> list[tuple[str, float, str]]:
                paths = [small[i % 2] for i in range(CONCURRENT)]
                if with_big:
                    paths[0] = big  # sent first, so it is ahead of the others in the queue
                with ThreadPoolExecutor(CONCURRENT) as pool:
                    return list(pool.map(timed, paths))

            rss_before = _peak_rss_mb(process.pid)
            alone = timed(big)
            rss_after = _peak_rss_mb(process.pid)
            without = [r for _ in range(ROUNDS) for r in one_round(False)]
            with_big = [r for _ in range(ROUNDS) for r in one_round(True)]
        finally:
            process.terminate()
            process.wait(20)

    def p95(rows):
        return round(float(np.percentile([seconds for name, seconds, _ in rows if name != big.name], 95)) * 1000, 1)

    failures = sorted({outcome for _, _, outcome in without + with_big if outcome != "ok"})
    result = {
        "concurrent_requests": CONCURRENT,
        "rounds": ROUNDS,
        "others_p95_ms_without_big": p95(without),
        "others_p95_ms_with_one_36mp": p95(with_big),
        "big_36mp_alone_s": round(alone[1], 2),
        "big_36mp_alone_outcome": alone[2],
        "big_36mp_in_load_s": round(float(np.median([s for name, s, _ in with_big if name == big.name])), 2),
        "server_peak_rss_growth_mb_for_36mp": round(rss_after - rss_before, 1),
        "failures": failures,
    }
    result["ratio_with_to_without"] = round(result["others_p95_ms_with_one_36mp"] / result["others_p95_ms_without_big"], 2)
    result["target"] = "ratio <= 2"
    return result
