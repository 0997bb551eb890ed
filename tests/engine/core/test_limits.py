"""The table of limits: one rule per value, stated the same way wherever it is checked or shown."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine import cli as engine_cli
from engine.core.errors import InputError
from engine.core.limits import AGE, MAX_UPLOAD_BYTES, SEED, ZONE_SCORE, Range, duration, megabytes
from engine.core.provenance import FILE_STEM_BYTES, file_stem
from engine.core.settings import ROOT, Settings
from engine.tasks.lifespan import parse_targets
from leaderboard import evaluate as evaluate_command
from leaderboard import worker

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("value", [True, "5", None, float("nan"), float("inf"), -0.5, 80.5, 10**400, [5]])
def test_a_range_refuses_anything_but_a_number_inside_it(value):
    with pytest.raises(InputError, match="^target age must be an age between 0 and 80, got "):
        AGE.check(value, "target age")


def test_a_range_keeps_good_values_and_whole_numbers_stay_whole():
    assert AGE.check(0, "age") == 0.0 and AGE.check(80, "age") == 80.0 and AGE.check(33.5, "age") == 33.5
    # -0 is 0: its sign had labelled a face "-0 y" and named its files "-0_face.png"
    assert f"{AGE.check(-0.0, 'age'):g}" == "0" and [f"{age:g}" for age in parse_targets("-0.0, 80")] == ["0", "80"]
    assert SEED.check(2**32 - 1, "seed") == 2**32 - 1 and SEED.check(7.0, "seed") == 7
    with pytest.raises(InputError, match="^seed must be a whole number from 0 to 4294967295, got 7.5$"):
        SEED.check(7.5, "seed")
    # an emptied number box: "got None" named Python's word for it
    with pytest.raises(InputError, match=r"^seed must be a whole number from 0 to 4294967295, got no value$"):
        SEED.check(None, "seed")
    assert (
        ZONE_SCORE.text() == "0-100 %"
        and Range(2, 8, whole=True).describe("samples") == "samples must be a whole number from 2 to 8"
    )


def test_sizes_over_a_limit_never_read_as_equal_to_it():
    assert megabytes(MAX_UPLOAD_BYTES) == "200 MB"
    assert megabytes(MAX_UPLOAD_BYTES + 1) == "200.1 MB"  # not "200 MB; limit 200 MB"
    assert megabytes(1500) == "1.5 KB" and megabytes(10) == "10 bytes"  # a small cap never reads as "0.0 MB"
    assert duration(3600 + 600) == "1 hour 10 minutes" and duration(1) == "1 second" and duration(90) == "90 seconds"


def test_the_leaderboard_zip_cap_fits_under_the_upload_cap():
    """The server refuses uploads over MAX_UPLOAD_BYTES before any tab sees them, so a larger zip cap
    would promise what the page cannot accept."""
    from leaderboard.archive import ArchiveLimits
    from leaderboard.submissions import MAX_CLAIM_BYTES

    assert ArchiveLimits().zip_bytes <= MAX_UPLOAD_BYTES and MAX_CLAIM_BYTES <= MAX_UPLOAD_BYTES


def test_the_cli_help_states_the_tables_ranges():
    result = subprocess.run(
        [sys.executable, "-m", "engine", "lifespan", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    help_text = " ".join(result.stdout.split())
    assert "target ages, 0-80, at most 17" in help_text and "0-4294967295" in help_text


@pytest.mark.parametrize("raw", ["1.5", "4e2.5", "many"])
def test_a_whole_number_setting_refuses_a_fraction_instead_of_rounding_it(monkeypatch, raw):
    monkeypatch.setenv("HUB_PROBE_SEEDS", raw)
    with pytest.raises(ValueError, match="HUB_PROBE_SEEDS must be a (whole )?number, got"):
        Settings.from_env()


@pytest.mark.parametrize(
    "main, prog",
    [(engine_cli.main, "python -m engine"), (evaluate_command.main, "evaluate"), (worker.main, "leaderboard.worker")],
)
def test_a_setting_the_commands_cannot_take_is_one_line_naming_it(command, main, prog, tmp_path):
    # HUB_PROFILE=ofline printed a traceback ending in the message
    argv = {
        "python -m engine": ["age", str(tmp_path / "photo.jpg")],
        "evaluate": ["--method", "classical", "--benchmark", "offline", "--out", str(tmp_path)],
        "leaderboard.worker": ["--once", "--store", str(tmp_path)],
    }[prog]
    result = command(main, *argv, env={"HUB_PROFILE": "ofline"})
    assert result.returncode == 2
    assert result.stderr == f"{prog}: HUB_PROFILE must be one of full, offline, tiny, got 'ofline'\n"


def test_a_whole_number_setting_reads_whole_numbers_in_any_notation(monkeypatch):
    monkeypatch.setenv("HUB_MAX_PIXELS", "4e6")
    monkeypatch.setenv("HUB_PROBE_SEEDS", "3.0")
    settings = Settings.from_env()
    assert (settings.max_pixels, settings.probe_seeds) == (4_000_000, 3)


def test_the_default_hair_pigment_setting_takes_an_srgb_colour_and_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("HUB_CLASSICAL_HAIR_PIGMENT", "#2b1d14")
    assert Settings.from_env().classical_hair_pigment == "#2b1d14"
    monkeypatch.setenv("HUB_CLASSICAL_HAIR_PIGMENT", "brown")
    with pytest.raises(ValueError, match=r"HUB_CLASSICAL_HAIR_PIGMENT must be an sRGB colour written #rrggbb .*got 'brown'"):
        Settings.from_env()


def test_a_file_stem_holds_no_path_and_fits_every_file_system():
    assert file_stem("../escaped") == "_escaped" and file_stem("/tmp/abs") == "_tmp_abs" and file_stem("a\nb") == "a_b"
    assert file_stem(".") == "photo" and file_stem("  ") == "photo" and file_stem(".hidden") == "hidden"
    assert file_stem("my photo #1 100% é") == "my photo #1 100% é"  # a name a file system holds stays as it is
    long = file_stem("年" * 83)  # 249 bytes of UTF-8: with "_lifespan.gif" past the 255 a name may hold
    assert long == "年" * 33 and len(long.encode()) <= FILE_STEM_BYTES
