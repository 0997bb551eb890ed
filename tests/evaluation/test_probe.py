"""The synthetic-face probe end to end: tiny random SDXL through the harness command, and the
packaged portraits through the real estimator and a calibration."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

from engine.core.media import GAP
from engine.core.settings import Settings
from engine.methods.probe.faces import ProbeCell
from engine.tasks.estimate import estimate_ages
from evaluation.probe import run_probe
from tests.conftest import astronaut, grace_hopper, synthetic_artefact

pytestmark = pytest.mark.pipelines


def test_the_harness_probe_on_tiny_random_models_counts_every_faceless_image(tmp_path, monkeypatch, capsys):
    from leaderboard import evaluate

    settings = Settings(profile="tiny", testing=True, probe_ages=(1, 50), probe_ethnicities=("White",))
    monkeypatch.setattr(evaluate, "get_settings", lambda: settings)
    out = tmp_path / "probe"
    assert evaluate.main(["--task", "probe", "--probe-out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    record = json.loads((out / "probe.json").read_text())
    # random tiny weights draw noise: no face anywhere, and every face is counted and named, none dropped
    names = [f"faces/age{age:03d}_{gender}_white_s0.png" for age in (1, 50) for gender in ("female", "male")]
    assert summary["faces"] == 4 and summary["no_face"] == 4 and summary["calibrated"] is False
    assert record["no_face"] == {"count": 4, "files": names}
    assert [row["file"] for row in record["rows"]] == names and all(row["faces_found"] == 0 for row in record["rows"])
    assert all(Image.open(out / name).size == (64, 64) for name in names)
    # the table still has every prompted age, with its faces counted and its means missing
    table = {row["prompted_age"]: row for row in record["table"]}
    assert list(table) == [1, 50, "all"]
    for age in (1, 50):
        assert (table[age]["n"], table[age]["n_no_face"]) == (2, 2) and table[age]["mean_predicted"] is None
        assert table[age]["no_face"] == [name for name in names if name.startswith(f"faces/age{age:03d}")]
    assert table["all"]["n"] == 4 and table["all"]["mae"] is None
    with (out / "probe.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["prompted_age"] for row in rows] == ["1", "50", "all"] and rows[0]["n_no_face"] == "2"
    markdown = (out / "probe.md").read_text()
    assert "No face detected in 4 of 4 faces" in markdown and "no intervals: no calibration loaded" in markdown
    assert "female when p(female) >= 0.5, the default (no calibration loaded)" in markdown
    assert record["generator"]["prompt_template"] in markdown and record["departures_from_report"]
    # the strip: one line per gender (x ethnicity x seed), a caption tile and one face per prompted age
    strip = np.asarray(Image.open(out / "strip.png"))
    assert strip.shape[1] == 3 * 128 + GAP and strip.shape[0] == 2 * (128 + 18)  # the two faces GAP px apart
    # a confidence the calibration grid does not hold is refused before any face is drawn
    assert evaluate.main(["--task", "probe", "--probe-out", str(tmp_path / "again"), "--confidence", "0.905"]) == 2
    assert "confidence must be on the calibration grid, 0.50 to 0.99 in steps of 0.01, got 0.905" in capsys.readouterr().err
    assert not (tmp_path / "again").exists()


class Portraits:
    """A stand-in generator: the packaged public-domain portraits, a woman for "female" and Grace Hopper
    (whom the offline estimator reads as a man at its top age) for "male"."""

    model = "fake: packaged portraits"

    def __init__(self):
        self.asked: list[ProbeCell] = []
        self.faces = {"female": astronaut(), "male": grace_hopper()}

    def generate(self, cell: ProbeCell) -> np.ndarray:
        self.asked.append(cell)
        return self.faces[cell.gender]


def test_the_table_on_real_portraits_is_the_estimators_reading_of_each_face(tmp_path):
    settings = Settings(
        profile="offline",
        calibration_path=synthetic_artefact(tmp_path / "age.json"),
        probe_ages=(30, 70),
        probe_ethnicities=("White",),
    )
    generator = Portraits()
    record = run_probe(settings, tmp_path / "probe", 0.9, generator)
    assert [(c.age, c.gender) for c in generator.asked] == [(30, "female"), (30, "male"), (70, "female"), (70, "male")]
    assert record["no_face"]["count"] == 0 and record["calibrated"] and record["intervals"] == "mondrian-normalised"
    assert record["gender_threshold"] == {
        "threshold": 0.5,
        "from": "the default (the calibration loaded has no gender threshold)",
    }
    # each row is what the age tab's engine call reads in the same portrait
    read = {
        gender: estimate_ages(rgb, 0.9, settings).faces[0] for gender, rgb in (("female", astronaut()), ("male", grace_hopper()))
    }
    for row in record["rows"]:
        face = read[row["prompted_gender"]]
        assert face.interval is not None  # calibrated: every face has an interval
        assert row["predicted_age"] == pytest.approx(face.age, abs=0.01) and row["faces_found"] == 1
        assert row["interval"][0] == pytest.approx(face.interval[0], abs=0.01)
    table = {row["prompted_age"]: row for row in record["table"]}
    woman, hopper = read["female"], read["male"]
    assert woman.interval is not None and hopper.interval is not None
    for age in (30, 70):
        row = table[age]
        assert row["n"] == 2 and row["n_no_face"] == 0
        assert row["mean_predicted"] == pytest.approx((woman.age + hopper.age) / 2)
        assert row["mae"] == pytest.approx((abs(woman.age - age) + abs(hopper.age - age)) / 2)
        widths = [(lo - hi) / -2 for lo, hi in (woman.interval, hopper.interval) if hi is not None]
        assert row["n_open_upper"] == sum(hi is None for _, hi in (woman.interval, hopper.interval))
        assert row["mean_half_width"] == pytest.approx(np.mean(widths))
        covered = [lo <= age <= (np.inf if hi is None else hi) for lo, hi in (woman.interval, hopper.interval)]
        assert row["coverage"] == pytest.approx(np.mean(covered))
        assert row["gender_accuracy"] == pytest.approx(np.mean([woman.gender == "female", hopper.gender == "male"]))
    assert table["all"]["mae"] == pytest.approx((table[30]["mae"] + table[70]["mae"]) / 2)
    assert Image.open(tmp_path / "probe" / "strip.png").size == (3 * 128 + GAP, 2 * (128 + 18))
