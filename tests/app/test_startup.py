"""Start-up loads only what the first page needs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.core.settings import ROOT

pytestmark = pytest.mark.app

HEAVY = ("torch", "diffusers", "transformers", "peft", "accelerate", "matplotlib")


def test_the_page_builds_without_the_heavy_libraries():
    script = f"import sys, app\napp.build_app()\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HUB_PROFILE": "offline", "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1:] in ([""], []), f"imported at start-up: {result.stdout}"


def test_the_page_sends_no_usage_analytics_unless_asked():
    script = "import app\nprint(app.build_app().analytics_enabled)\n"
    env = {"PATH": "/usr/bin:/bin", "HUB_PROFILE": "offline", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "False"
