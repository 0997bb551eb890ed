"""The Space configuration lint: the README front matter must agree with the pins and the model catalogue."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from space.frontmatter import OPT_IN, ROOT, hub_repos, lint, pins, read_front_matter

pytestmark = pytest.mark.unit


@pytest.fixture
def repo(tmp_path) -> Path:
    """A copy of the files the lint reads."""
    for name in ("README.md", "requirements.txt", "pyproject.toml", "app.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def test_the_repository_configuration_is_clean():
    assert lint() == []


def test_the_front_matter_pins_what_requirements_pin():
    config, pinned = read_front_matter(ROOT / "README.md"), pins(ROOT / "requirements.txt")
    assert config["sdk"] == "gradio" and config["sdk_version"] == pinned["gradio"]
    assert set(config["models"]) == hub_repos()
    assert {p.split()[0] for p in config["preload_from_hub"]} == hub_repos() - set(OPT_IN)  # opt-in models load on use
    assert "byliutao/Cradle2Cane" in config["models"]


def test_a_gradio_version_that_differs_from_the_pin_is_named(repo):
    edit(repo / "README.md", "sdk_version: 6.31.0", "sdk_version: 6.30.0")
    assert any(p.startswith("sdk_version: 6.30.0 differs from gradio==6.31.0") for p in lint(repo))


def test_an_unquoted_or_too_old_python_is_named(repo):
    edit(repo / "README.md", 'python_version: "3.11"', "python_version: 3.10")
    assert any("python_version: quote it" in p and "3.1" in p for p in lint(repo))
    edit(repo / "README.md", "python_version: 3.10", 'python_version: "3.10"')
    assert any("python_version: 3.10 is older than requires-python >=3.11" in p for p in lint(repo))


def test_a_model_the_app_loads_but_the_space_does_not_list_or_preload_is_named(repo):
    edit(repo / "README.md", "  - openai/clip-vit-large-patch14  # MIT\n", "")
    edit(repo / "README.md", "  - byliutao/Cradle2Cane\n", "")
    problems = lint(repo)
    assert any(p.startswith("models: the app loads ['openai/clip-vit-large-patch14']") for p in problems)
    assert any(p.startswith("preload_from_hub: ['byliutao/Cradle2Cane'] would download at run time") for p in problems)


def test_a_loose_pin_a_missing_key_and_a_missing_front_matter_are_named(repo):
    edit(repo / "requirements.txt", "pandas==3.1.1", "pandas>=3")
    edit(repo / "README.md", "suggested_hardware: zero-a10g", "suggested_hardware: h100-giant")
    edit(repo / "README.md", "license_name: non-commercial-model-licences\n", "")
    edit(repo / "README.md", "short_description: Face-aging", "short_description: " + "x" * 60 + " Face-aging")
    problems = lint(repo)
    assert any("pin these exactly" in p and "'pandas'" in p for p in problems)
    assert any(p.startswith("suggested_hardware: 'h100-giant' is not one of") for p in problems)
    assert "license_name: needed with license: other" in problems
    assert any(p.startswith("short_description: at most 60 characters") for p in problems)
    (repo / "README.md").write_text("# no front matter\n")
    assert lint(repo) == [f"{repo / 'README.md'} does not start with a '---' line: a Space reads its configuration from there"]
