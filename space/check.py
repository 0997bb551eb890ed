"""The Space deploy check (`make space-check`): what a Hugging Face Space built from this repository
does, offline, on this machine.

1. lint the README front matter against the pins and the model catalogue (space/frontmatter.py);
2. copy the tracked files, as a clone would have them, into a scratch folder;
3. create a fresh virtual environment with the front matter's Python and run the Space builder's
   install commands in it (SPACE_INSTALL: requirements.txt with plain pip, then the SDK);
4. start the app file there the way a Space does (on a loopback port here, no GPU, Hub offline);
5. check the page lists all five tabs and call each tab's API endpoint once (space/calls.py).

    python -m space.check [--keep DIR] [--venv DIR]

Prints each step's time; exits non-zero naming the step that failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from space.calls import TABS
from space.frontmatter import ROOT, lint, read_front_matter

logger = logging.getLogger(__name__)

# What the Space builder runs for a Gradio Space, in order, in the Space's Python: the
# repository's requirements.txt with plain pip, then the SDK at the front matter's version.
SPACE_INSTALL = (
    ("pip", "install", "-r", "requirements.txt"),
    ("pip", "install", "gradio[oauth]=={sdk_version}", "uvicorn>=0.14.0", "spaces"),
)

START_TIMEOUT_S = 180  # a cold start imports gradio and the offline models (about 10 s here)
# The fresh environment's size: 2.8 GB measured on 2026-12-05 (torch's CPU build, mediapipe, opencv, gradio and the
# rest), and room for pip to unpack the largest wheel beside it. With less free the install stopped half-way on
# "No space left on device", buried in pip's output.
INSTALL_NEEDS_GB = 4.0


def check_room(folder: Path, needs_gb: float = INSTALL_NEEDS_GB) -> None:
    """Raises CheckFailed when the disk holding `folder` has under `needs_gb` free, saying how much it has."""
    free_gb = shutil.disk_usage(folder).free / 1e9
    if free_gb < needs_gb:
        raise CheckFailed(
            f"disk: {folder} has {free_gb:.1f} GB free; the fresh environment needs about {needs_gb:.0f} GB. Free some "
            "space there, or point TMPDIR (or --keep) at a disk with room."
        )


class CheckFailed(RuntimeError):
    """A step of the deploy check failed; the message names it and says why."""


def run(command: list[str], cwd: Path, step: str, env: dict | None = None) -> None:
    logger.info("%s: %s", step, " ".join(command))
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise CheckFailed(f"{step}: `{' '.join(command)}` exited {result.returncode}:\n{(result.stdout + result.stderr)[-3000:]}")


def clean_copy(target: Path) -> str:
    """The tracked files of the working tree, as a clone has them; returns the commit (with '+changes' when the
    tree differs from it)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True)
    if untracked.stdout.strip():
        logger.warning("not in the copy (untracked, so a Space would not get them either): %s", untracked.stdout.split())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True)
    return commit + ("+changes" if dirty.stdout.strip() else "")


def python_for(version: str) -> str:
    found = shutil.which(f"python{version}")
    if found is None:
        raise CheckFailed(
            f"python_version {version}: no python{version} on this machine; install it (apt-get install python{version})"
        )
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CheckFailed(f"start: the app exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise CheckFailed(f"start: the app did not answer on {url} within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def served(command: list[str], cwd: Path, env: dict, log: Path) -> Iterator[str]:
    """Start the app (`command`, which reads GRADIO_SERVER_PORT from `env`) with its output in `log`;
    yield its URL once it answers; stop it on leaving. Raises CheckFailed if it exits or never answers."""
    url = f"http://127.0.0.1:{env['GRADIO_SERVER_PORT']}/"
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def page_tabs(url: str) -> list[str]:
    """The tab titles the served page's configuration lists."""
    with urllib.request.urlopen(url + "config", timeout=30) as response:
        config = json.load(response)
    return [c["props"].get("label") for c in config["components"] if c.get("type") in ("tab", "tabitem")]


def check(work: Path, venv: Path | None = None) -> dict[str, float]:
    """Every step; returns each step's seconds. Raises CheckFailed naming the step that failed. `venv`: an
    environment an earlier check installed, used as it is (the install step is skipped)."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    problems = lint()
    if problems:
        raise CheckFailed("front matter:\n" + "\n".join(f"  - {p}" for p in problems))
    config = read_front_matter(ROOT / "README.md")
    timings["lint_s"] = time.perf_counter() - start

    start = time.perf_counter()
    app = work / "app"
    app.mkdir(parents=True)
    if venv is None:
        check_room(work)
    logger.info("copy: %s at %s", ROOT, clean_copy(app))
    if venv is None:
        venv = work / "venv"
        run([python_for(str(config["python_version"])), "-m", "venv", str(venv)], work, "venv")
        for command in SPACE_INSTALL:
            args = [part.format(sdk_version=config["sdk_version"]) for part in command]
            run([str(venv / "bin" / "python"), "-m", *args], app, "install")
    python = str(venv / "bin" / "python")
    run([python, "-m", "pip", "check"], app, "install")
    timings["install_s"] = time.perf_counter() - start

    start = time.perf_counter()
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(work),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "HF_HUB_OFFLINE": "1",  # as offline as this machine; a Space without a GPU shows the same tabs
        "HUB_STORE_DIR": str(work / "store"),
    }
    with served([python, str(config["app_file"])], app, env, work / "app.log") as url:
        timings["start_s"] = time.perf_counter() - start
        start = time.perf_counter()
        listed = page_tabs(url)
        missing = [title for title in TABS if title not in listed]
        if missing:
            raise CheckFailed(f"tabs: the page lists {listed}; missing {missing}")
        calls = subprocess.run([python, "-m", "space.calls", url], cwd=app, env=env, capture_output=True, text=True, timeout=600)
        for line in calls.stdout.splitlines():
            logger.info("tab %s", line)
        if calls.returncode != 0:
            raise CheckFailed(f"tabs: not every tab answered:\n{calls.stdout}{calls.stderr[-3000:]}")
        timings["tabs_s"] = time.perf_counter() - start
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="space.check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one, removed)")
    parser.add_argument("--venv", type=Path, help="reuse the environment an earlier check installed (skips the install)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    start = time.perf_counter()
    try:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=False)
            timings = check(args.keep, args.venv)
        else:
            with tempfile.TemporaryDirectory(prefix="space-check-") as folder:
                timings = check(Path(folder), args.venv)
    except CheckFailed as error:
        print(f"space check failed after {time.perf_counter() - start:.0f} s at {error}", file=sys.stderr)
        return 1
    steps = ", ".join(f"{name[:-2]} {seconds:.0f} s" for name, seconds in timings.items())
    print(f"space check passed in {time.perf_counter() - start:.0f} s ({steps})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
