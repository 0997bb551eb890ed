"""The layer contract in pyproject.toml holds, and it does catch an import that points upward."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.core.settings import ROOT

pytestmark = pytest.mark.unit

PACKAGES = ("engine", "evaluation", "leaderboard", "train", "demos", "bench")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_tree(tmp_path: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "configs"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize(
    "module, upward",
    [
        ("engine/core/settings.py", "import engine.tasks.lifespan"),  # core reaching up to the task API
        ("engine/faces/alignment.py", "from engine.methods.ldla import pipeline"),  # faces reaching up to a method
        ("evaluation/scoring.py", "import leaderboard.store"),  # the harness reaching into the leaderboard
        ("train/common.py", "import leaderboard.views"),  # a trainer reaching into the leaderboard
    ],
)
def test_an_upward_import_is_caught(tmp_path, module, upward):
    root = copy_tree(tmp_path)
    path = root / module
    path.write_text(path.read_text() + f"\n{upward}  # deliberately upward\n")
    result = lint_imports(root)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and module.replace("/", ".").removesuffix(".py") in result.stdout
