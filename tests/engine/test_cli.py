"""The CLI's errors by type: bad input or a missing model is one line and exit code 2; a bug propagates."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from engine import cli
from engine.core.limits import SEED
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
        f"{images['not_image']} is not an image that can be read: upload a JPEG, PNG, WebP, GIF, BMP or TIFF.",
    ]


def test_a_missing_model_is_one_line_and_exit_code_2(images, monkeypatch, capsys):
    monkeypatch.setattr(cli, "estimate", _raise(ModelUnavailable("age_offline: not installed")))
    assert cli.main(["age", str(images["astronaut"])]) == cli.EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == "age: a model is missing: age_offline: not installed"


def test_a_bug_propagates_with_its_traceback(images, monkeypatch):
    monkeypatch.setattr(cli, "estimate", _raise(KeyError("a bug")))
    with pytest.raises(KeyError, match="a bug"):
        cli.main(["age", str(images["astronaut"])])


def test_lifespan_receding_hairline_face_and_all_faces_flags_reach_the_request(images, monkeypatch, capsys, tmp_path):
    from engine.core.errors import InputError  # noqa: PLC0415 - only this test needs it

    asked = []

    def age_photo(request, settings=None):
        asked.append((request.receding_hairline, request.face_index, request.all_faces))
        raise InputError("stopped after the request")

    monkeypatch.setattr(cli, "age_photo", age_photo)
    image = str(images["astronaut"])
    for flags in ([], ["--receding-hairline"], ["--face", "1", "--all-faces"]):
        assert (
            cli.main(["lifespan", image, "--targets", "70", "--renderer", "classical", *flags, "--out", str(tmp_path)])
            == cli.EXIT_BAD_INPUT
        )
    assert asked == [(False, None, False), (True, None, False), (False, 1, True)]
    capsys.readouterr()
    arguments = ["lifespan", image, "--targets", "70", "--renderer", "diffusion", "--receding-hairline", "--out", str(tmp_path)]
    assert cli.main(arguments) == cli.EXIT_BAD_INPUT
    assert "receding hairline option needs the classical renderer" in capsys.readouterr().err


def test_pluralistic_face_flag_reaches_the_request(images, monkeypatch, capsys, tmp_path):
    from engine.core.errors import InputError  # noqa: PLC0415 - only this test needs it

    asked = []

    def pluralistic(request, settings=None):
        asked.append(request.face_index)
        raise InputError("stopped after the request")

    monkeypatch.setattr(cli, "pluralistic", pluralistic)
    for flags in ([], ["--face", "1"]):
        arguments = ["pluralistic", str(images["astronaut"]), "--target", "70", "--renderer", "classical", *flags]
        assert cli.main([*arguments, "--out", str(tmp_path)]) == cli.EXIT_BAD_INPUT
    assert asked == [None, 1]
    capsys.readouterr()


@pytest.mark.parametrize("given", [["20", "40"], ["20,40"], ["20,", "40"], ["20, 40"], ["20 40"]])
def test_lifespan_targets_take_the_forms_the_tab_takes(images, monkeypatch, capsys, tmp_path, given):
    """Spaces or commas between ages, as the tab's box takes them: one parser (engine/tasks/lifespan.py)."""
    from engine.core.errors import InputError  # noqa: PLC0415 - only these tests need it

    asked = []

    def age_photo(request, settings=None):
        asked.append(request.targets)
        raise InputError("stopped after the request")

    monkeypatch.setattr(cli, "age_photo", age_photo)
    args = ["lifespan", str(images["astronaut"]), "--targets", *given, "--renderer", "classical", "--out", str(tmp_path)]
    assert cli.main(args) == cli.EXIT_BAD_INPUT
    assert asked == [[20.0, 40.0]]
    capsys.readouterr()


def test_lifespan_bad_targets_are_named_as_typed(images, capsys, tmp_path):
    image = str(images["astronaut"])
    assert cli.main(["lifespan", image, "--targets", "20,abc", "--out", str(tmp_path)]) == cli.EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == (
        f"{image}: target age 'abc' in '20,abc' is not a number between 0 and 80: give ages separated by spaces or commas"
    )


def test_every_command_names_a_bad_age_as_the_tabs_do(images, capsys, tmp_path):
    # argparse's own "invalid float value: 'abc'" answered the pluralistic target and every source age before
    image, out = str(images["astronaut"]), str(tmp_path)
    for args, message in (
        (["pluralistic", image, "--target", "abc"], "target age must be a number between 0 and 80, got 'abc'"),
        (["pluralistic", image, "--target", "81"], "target age must be an age between 0 and 80, got '81'"),
        (["lifespan", image, "--targets", "30", "--source-age", "x"], "source age must be a number between 0 and 80 or empty"),
        (["zones", image, "--score", "forehead=70", "--source-age", "99"], "source age must be an age between 0 and 80"),
    ):
        assert cli.main([*args, "--out", out]) == cli.EXIT_BAD_INPUT
        assert capsys.readouterr().err.strip().startswith(f"{image}: {message}"), args


def test_the_seed_samples_and_intensity_are_refused_with_the_tabs_messages(images, capsys, tmp_path):
    # argparse's own "invalid int value: 'abc'" answered them, and a seed of -1 was refused only once the photo had loaded
    image, out = str(images["astronaut"]), str(tmp_path)
    for args, message in (
        (
            ["pluralistic", image, "--target", "60", "--seed", "abc"],
            "seed must be a whole number from 0 to 4294967295, got 'abc'",
        ),
        (["lifespan", image, "--targets", "30", "--seed", "-1"], "seed must be a whole number from 0 to 4294967295, got -1"),
        (["pluralistic", image, "--target", "60", "--samples", "3.5"], "samples must be a whole number from 2 to 8, got 3.5"),
        (["pluralistic", image, "--target", "60", "--intensity", "x"], "intensity (diversity) must be between 0 and 2, got 'x'"),
    ):
        with pytest.raises(SystemExit) as refused:
            cli.main([*args, "--out", out])
        assert refused.value.code == cli.EXIT_BAD_INPUT and capsys.readouterr().err.strip().endswith(message), args
    # a whole seed stays exact, however large the range allows; one of more digits than Python reads is refused as given
    assert cli._within(SEED, "seed")("4294967295") == 4294967295
    huge = "1" + "0" * 5000
    with pytest.raises(argparse.ArgumentTypeError, match=r"^seed must be a whole number from 0 to 4294967295, got '10"):
        cli._within(SEED, "seed")(huge)


def test_an_out_that_is_not_a_folder_is_refused_before_any_work(images, monkeypatch, capsys, tmp_path):
    worked = []
    monkeypatch.setattr(cli, "age_photo", lambda request, settings=None: worked.append(request))
    afile = tmp_path / "afile.png"
    afile.write_bytes(b"")
    image = str(images["astronaut"])
    assert cli.main(["lifespan", image, "--targets", "70", "--out", str(afile)]) == cli.EXIT_BAD_INPUT
    # the folder's problem, not the photo's: named as the option, without the photo's path before it
    assert capsys.readouterr().err.strip() == f"--out {afile} is a file, not a folder: name a folder for the outputs"
    assert cli.main(["lifespan", image, "--targets", "70", "--out", str(afile / "inside")]) == cli.EXIT_BAD_INPUT
    assert f"--out {afile / 'inside'}: {afile} is a file, not a folder" in capsys.readouterr().err
    assert worked == []  # refused before the photo was aged


@pytest.mark.parametrize("given", ["0.905", "0.3", "1", "ninety"])
def test_age_confidence_off_the_calibration_grid_is_refused_before_any_photo(images, capsys, given):
    """0.905 or 0.3 passed, and with a calibration loaded the first photo's interval ended the whole batch in a traceback
    (exit 1, nothing printed for any photo)."""
    with pytest.raises(SystemExit) as refused:
        cli.main(["age", str(images["astronaut"]), "--confidence", given])
    assert refused.value.code == cli.EXIT_BAD_INPUT
    shown = given if given != "ninety" else "'ninety'"
    assert f"confidence must be on the calibration grid, 0.50 to 0.99 in steps of 0.01, got {shown}" in capsys.readouterr().err
    assert cli._confidence("0.95") == 0.95 and cli._confidence(" 0.5") == 0.5


def test_a_second_run_into_the_same_out_is_refused_before_any_work_unless_asked(images, monkeypatch, capsys, tmp_path):
    """A second run into one --out replaced the first one's manifest.json (and its files of the same names) silently."""
    from types import SimpleNamespace  # noqa: PLC0415 - only this test needs it

    made = []

    def age_photo(request, settings=None):
        made.append(request.targets)
        return SimpleNamespace(warnings=[], manifest=lambda: {"targets": request.targets})

    def save(output, out, stem):
        out.mkdir(parents=True, exist_ok=True)
        return {"strip": str(out / f"{stem}_strip.png")}

    monkeypatch.setattr(cli, "age_photo", age_photo)
    monkeypatch.setattr(cli.lifespan_task, "save_outputs", save)
    image, out = str(images["astronaut"]), tmp_path / "out"
    assert cli.main(["lifespan", image, "--targets", "70", "--out", str(out)]) == 0
    first = (out / "manifest.json").read_text()
    assert cli.main(["lifespan", image, "--targets", "20", "--out", str(out)]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"--out {out} already holds a run's outputs (of {Path(image).resolve()}): its manifest.json")
    assert err.endswith("Name another folder, or pass --overwrite to write over them")
    assert made == [[70.0]] and (out / "manifest.json").read_text() == first  # refused before the work, nothing replaced
    assert cli.main(["lifespan", image, "--targets", "20", "--overwrite", "--out", str(out)]) == 0
    assert made == [[70.0], [20.0]] and json.loads((out / "manifest.json").read_text())["targets"] == [20.0]


def test_outputs_that_cannot_be_written_are_one_line_not_a_traceback(images, monkeypatch, capsys, tmp_path):
    def save(output, out, stem):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli.lifespan_task, "save_outputs", save)
    image = str(images["astronaut"])
    code = cli.main(["lifespan", image, "--targets", "70", "--renderer", "classical", "--out", str(tmp_path / "new")])
    assert code == cli.EXIT_CANNOT_WRITE
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == f"{image}: the outputs could not be written to {tmp_path / 'new'}: [Errno 28] No space left on device"


def test_every_commands_help_shows(capsys):
    # the zones command's score range, "0-100 %", was read by argparse as a format and its --help failed
    with pytest.raises(SystemExit) as shown:
        cli.main(["--help"])
    assert shown.value.code == 0
    commands = capsys.readouterr().out.split("{", 1)[1].split("}", 1)[0].split(",")  # "{age,calibrate,...}"
    assert "zones" in commands and "lifespan" in commands
    for command in commands:
        with pytest.raises(SystemExit) as shown:
            cli.main([command, "--help"])
        assert shown.value.code == 0, command
        text = capsys.readouterr().out
        assert text.startswith(f"usage: python -m engine {command}")
        if command == "zones":
            assert "target score of a zone, 0-100 %" in text


def test_a_bad_zone_score_names_the_range_as_it_is(capsys):
    # an error message is not a help text: argparse shows it as it is, and its "%" is not doubled
    with pytest.raises(SystemExit):
        cli.main(["zones", "photo.png", "--score", "forehead=abc", "--out", "out"])
    assert capsys.readouterr().err.strip().endswith("--score 'forehead=abc': 'abc' is not a number (0-100 %)")
