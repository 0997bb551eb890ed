"""The CLI's errors by type: bad input or a missing model is one line and exit code 2; a bug propagates."""

from __future__ import annotations

import pytest

from engine import cli
from engine.core.models import ModelUnavailable
from engine.faces.detection import NoFaceError

pytestmark = pytest.mark.unit


def _raise(error):
    def estimate(request, settings=None):
        raise error

    return estimate


def test_bad_input_is_one_line_and_exit_code_2(images, monkeypatch, capsys):
    monkeypatch.setattr(cli, "estimate", _raise(NoFaceError("No face found: try a sharper photo")))
    assert cli.main(["age", str(images["astronaut"]), str(images["not_image"])]) == cli.EXIT_BAD_INPUT
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        f"{images['astronaut']}: No face found: try a sharper photo",
        f"{images['not_image']} is not an image PIL can read: upload a JPEG, PNG, WebP, GIF, BMP or TIFF.",
    ]


def test_a_missing_model_is_one_line_and_exit_code_2(images, monkeypatch, capsys):
    monkeypatch.setattr(cli, "estimate", _raise(ModelUnavailable("age_offline: not installed")))
    assert cli.main(["age", str(images["astronaut"])]) == cli.EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == "age: a model is missing: age_offline: not installed"


def test_a_bug_propagates_with_its_traceback(images, monkeypatch):
    monkeypatch.setattr(cli, "estimate", _raise(KeyError("a bug")))
    with pytest.raises(KeyError, match="a bug"):
        cli.main(["age", str(images["astronaut"])])
