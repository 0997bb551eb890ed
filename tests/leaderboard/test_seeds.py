"""Seed rows say under which protocol their numbers were measured."""

from __future__ import annotations

import pytest

from leaderboard.seeds import seed_records
from leaderboard.views import table

pytestmark = pytest.mark.unit


def test_the_conformal_row_names_its_split_and_its_true_age_grouping():
    (record,) = [r for r in seed_records() if r.task == "age_estimation" and r.metrics.get("coverage_90") == 91.9]
    assert "80/20" in record.protocol.benchmark and "calibration part = 20 % of train" in record.protocol.benchmark
    assert "15 %" not in record.protocol.benchmark
    frame, _ = table([record], "age_estimation")
    note = frame.loc[0, "note"]
    assert "true 10-year age bin, which a deployed system cannot know" in note


def test_a_selection_without_rows_keeps_its_column_names():
    """A search that matches nothing shows the table's own columns, not a frame headed "1 2 3"."""
    lifespan = [r for r in seed_records() if r.task == "lifespan"]
    frame, summary = table([], "lifespan")
    full, _ = table(lifespan, "lifespan")
    assert frame.empty and summary == ""
    assert list(frame.columns) == [name for name in full.columns if name != "note"]
    assert list(frame.columns[:4]) == ["method", "type", "provenance", "outputs scored"] and frame.columns[-1] == "source"
    assert set(full["outputs scored"]) == {"not stated"}  # a paper's rows do not count their outputs
