"""The leaderboard's views: what the tables and the trade-off plot show."""

from __future__ import annotations

import pytest

from leaderboard.views import axis_range, point_labels

pytestmark = pytest.mark.unit


def test_the_trade_off_plot_stays_within_its_measures_and_names_coinciding_points_once():
    # a row at an identity of 99.9 drew the axis to 105; two methods at one point had their names drawn one over the other
    assert axis_range([80.0, 99.9]) == (75.0, 100.0)
    assert axis_range([20.0, 60.0]) == (15.0, 65.0)
    assert axis_range([-12.5, 30.0], top=None) == (-17.5, 35.0) and axis_range([]) is None
    labels = point_labels(["A", "B", "C", "A"], [80.0, 80.04, 70.0, 80.0], [60.0, 60.0, 50.0, 60.0])
    assert labels == [("A, B", 80.0, 60.0), ("C", 70.0, 50.0)]
