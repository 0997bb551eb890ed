"""The probe's table maths on hand-made readings: missing stays missing, no face is counted and named."""

from __future__ import annotations

import pytest

from engine.methods.probe.faces import ProbeCell
from evaluation.probe_table import ProbeRow, probe_table, table_markdown

pytestmark = pytest.mark.unit


def _row(age, gender, predicted=None, interval=None, read_as=None, seed=0):
    cell = ProbeCell(age, gender, "White", seed)
    return ProbeRow(cell, f"faces/{cell.name}.png", 0 if predicted is None else 1, predicted, interval, read_as)


ROWS = [
    _row(20, "female", 30.0, (20.0, 40.0), "female"),  # half-width 10, covers 20
    _row(20, "male", 14.0, (10.0, 18.0), "female"),  # half-width 4, misses 20, gender wrong
    _row(20, "male"),  # no face
    _row(90, "female", 79.0, (60.0, None), "female"),  # open at the top class: covers 90, no half-width
    _row(90, "male", 60.0, (45.0, 75.0), "male"),  # half-width 15, misses 90
]


def test_each_prompted_age_gets_its_row_and_every_face_is_counted():
    by_age = {row["prompted_age"]: row for row in probe_table(ROWS)}
    assert list(by_age) == [20, 90, "all"]
    twenty, ninety, everyone = by_age[20], by_age[90], by_age["all"]
    assert (twenty["n"], twenty["n_no_face"], twenty["no_face"]) == (3, 1, ["faces/age020_male_white_s0.png"])
    assert twenty["mean_predicted"] == pytest.approx(22.0) and twenty["mae"] == pytest.approx((10 + 6) / 2)
    assert twenty["mean_half_width"] == pytest.approx(7.0) and twenty["coverage"] == pytest.approx(0.5)
    assert twenty["gender_accuracy"] == pytest.approx(0.5)
    # the open interval is counted apart from the half-widths, and covers the 90-year-old prompt
    assert ninety["n_open_upper"] == 1 and ninety["mean_half_width"] == pytest.approx(15.0)
    assert ninety["coverage"] == pytest.approx(0.5) and ninety["mae"] == pytest.approx((11 + 30) / 2)
    assert everyone["n"] == 5 and everyone["n_no_face"] == 1 and everyone["n_interval"] == 4


def test_without_intervals_half_width_and_coverage_are_missing_not_zero():
    rows = [_row(40, "female", 38.0, None, "female"), _row(40, "male")]
    (forty, _) = probe_table(rows)
    assert forty["mae"] == pytest.approx(2.0)
    assert forty["mean_half_width"] is None and forty["coverage"] is None and forty["n_interval"] == 0
    nobody = probe_table([_row(5, "male"), _row(5, "female")])[0]
    assert nobody["n_no_face"] == 2 and nobody["mean_predicted"] is None and nobody["gender_accuracy"] is None
    text = table_markdown(probe_table(rows))
    assert "| 40 | 2 | 1 | 38.00 | 2.00 | - | 0 | - | 1.00 |" in text
