"""GPU scopes: every GPU call asks ZeroGPU for seconds computed from its request; off ZeroGPU nothing changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from engine.core import gpu
from engine.core.settings import ROOT, Settings

pytestmark = pytest.mark.unit


def test_seconds_grow_with_the_work_and_start_at_the_attach_allowance():
    assert gpu.gpu_seconds(0, 0) == gpu.ATTACH_S
    assert gpu.gpu_seconds(4, 2) < gpu.gpu_seconds(8, 4) < gpu.gpu_seconds(36, 18)
    with pytest.raises(ValueError, match="-1 UNet steps"):
        gpu.gpu_seconds(-1, 0)


def test_without_the_package_a_scope_is_the_function_itself(monkeypatch):
    monkeypatch.setattr(gpu, "spaces", None)

    def work(x):
        return x + 1

    assert gpu.gpu_scope(lambda x: 5)(work) is work


def test_the_installed_package_off_zero_gpu_is_a_no_op(monkeypatch):
    pytest.importorskip("spaces", reason="the spaces package is in requirements.txt; this checks its off-Space behaviour")
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    script = (
        "import engine.core.gpu as g\n"
        "def work(x): return x * 2\n"
        "print(g.spaces is not None, g.gpu_scope(lambda x: 9)(work) is work, g.gpu_scope(lambda x: 9)(work)(21))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SPACES_ZERO_GPU"}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "True", "42"]


class _Pipeline:  # what the duration functions read of a Cradle2Cane pipeline
    def __init__(self):
        from engine.methods.cradle2cane.pipeline import Cradle2CaneConfig

        self.config = Cradle2CaneConfig()


def test_lifespan_seconds_count_each_targets_adani_steps():
    from engine.tasks.lifespan import lifespan_seconds

    pipeline = _Pipeline()
    # source 30: gaps 2, 15 and 50 run 1, 2 and 3 pass-1 steps (strengths 0.25, 0.5, 0.75 of 4); pass 2 one each
    expected = gpu.gpu_seconds(unet_steps=2 + 3 + 4, images=6)
    assert lifespan_seconds(pipeline, None, 30.0, "female", [32.0, 45.0, 80.0]) == expected
    one = lifespan_seconds(pipeline, None, 30.0, "female", [80.0])
    nine = lifespan_seconds(pipeline, None, 30.0, "female", [5.0, 10, 20, 30, 40, 50, 60, 70, 80])
    assert gpu.ATTACH_S < one < expected < nine < 60  # the whole preset asks for less than the old fixed 60 s
    # an extra attribute prompt runs every target at the largest strength: 3 pass-1 steps, not 1
    assert lifespan_seconds(pipeline, None, 30.0, "female", [32.0], 0, "grey hair") == gpu.gpu_seconds(3 + 1, 2)
    assert lifespan_seconds(pipeline, None, 30.0, "female", [32.0]) == gpu.gpu_seconds(1 + 1, 2)


def test_pluralistic_seconds_grow_with_the_samples_and_the_reference():
    from engine.tasks.pluralistic import PluralisticRequest, futures_seconds

    pipeline, rgb = _Pipeline(), np.zeros((64, 64, 3), np.uint8)
    two = futures_seconds(pipeline, None, 30.0, "male", PluralisticRequest(rgb, 60, samples=2), [1, 2])
    eight = futures_seconds(pipeline, None, 30.0, "male", PluralisticRequest(rgb, 60, samples=8), list(range(8)))
    guided = futures_seconds(pipeline, None, 30.0, "male", PluralisticRequest(rgb, 60, samples=2), [1, 2], rgb)
    assert two == gpu.gpu_seconds(unet_steps=2 * (3 + 1), images=4)  # gap 30 > 20: strength 0.75, 3 steps
    assert guided == gpu.gpu_seconds(unet_steps=2 * (3 + 1), images=5)  # and the reference face's encoding
    assert eight == gpu.gpu_seconds(unet_steps=8 * (3 + 1), images=16) > two


def test_zone_seconds_count_the_zones_asked_and_the_refiner():
    from engine.tasks.zones import ZonesRequest, zones_seconds

    rgb = np.zeros((64, 64, 3), np.uint8)
    one = zones_seconds(ZonesRequest(rgb, {"forehead": 80}, renderer="diffusion"))
    everything: dict[str, float] = {zone: 80 for zone in ("forehead", "glabella", "crows_feet_left", "crows_feet_right")}
    four = zones_seconds(ZonesRequest(rgb, everything, renderer="diffusion"))
    refined = zones_seconds(ZonesRequest(rgb, everything, renderer="diffusion", refine=True))
    assert one == gpu.gpu_seconds(1, 1) and one < four < refined == gpu.gpu_seconds(5, 5)


FAKE_SPACES = """
import json, os
SCOPED = []
def GPU(task=None, *, duration=None, size=None):
    SCOPED.append((task.__name__, duration.__name__))
    def run(*args, **kwargs):
        return task(*args, **kwargs)
    run.__name__ = task.__name__
    return run
"""


def test_on_zero_gpu_every_gpu_call_is_scoped_with_its_own_duration(tmp_path):
    (tmp_path / "spaces.py").write_text(textwrap.dedent(FAKE_SPACES))
    script = (
        "import sys, json, spaces\n"
        "import engine.tasks.lifespan, engine.tasks.pluralistic, engine.tasks.zones\n"
        "print(json.dumps(sorted(spaces.SCOPED)))\n"
        "print('torch' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    scoped, torch_loaded = out.stdout.strip().splitlines()
    assert json.loads(scoped) == [
        ["_edit", "zones_seconds"],
        ["run_pipeline", "lifespan_seconds"],
        ["sample_futures", "futures_seconds"],
    ]
    assert torch_loaded == "False"  # scoping imports no torch: start-up stays light


def test_on_zero_gpu_settings_say_cuda_without_asking_torch(tmp_path):
    (tmp_path / "spaces.py").write_text(textwrap.dedent(FAKE_SPACES))
    script = "import sys\nfrom engine.core.settings import Settings\ns = Settings.from_env()\nprint(s.device, s.profile, 'torch' in sys.modules)\n"
    env = {"PATH": os.environ.get("PATH", ""), "SPACES_ZERO_GPU": "true", "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["cuda", "full", "False"]  # CUDA is never initialised in the main process


def test_analytics_are_off_unless_asked_for(monkeypatch):
    monkeypatch.delenv("GRADIO_ANALYTICS_ENABLED", raising=False)
    assert Settings.from_env().analytics is False
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "True")
    assert Settings.from_env().analytics is True
