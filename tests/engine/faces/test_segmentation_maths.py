"""The hair mask's vectorised statistics give what the per-pixel and per-column definitions give."""

from __future__ import annotations

import numpy as np
import pytest

from engine.faces.segmentation import _column_medians, _quadratic

pytestmark = pytest.mark.unit


def test_column_medians_equal_numpys_median_of_each_columns_inside_values_and_nan_where_none():
    rng = np.random.default_rng(0)
    for _ in range(30):
        values = (rng.integers(0, 256, (37, 61)) * 100 / 255).astype(np.float32)
        inside = rng.random((37, 61)) < rng.random()
        inside[:, :3] = False  # columns with nothing inside
        expected = np.array([np.median(c[o]) if o.any() else np.nan for c, o in zip(values.T, inside.T)], np.float32)
        np.testing.assert_array_equal(_column_medians(values, inside), expected)


def test_quadratic_form_is_the_squared_mahalanobis_distance():
    rng = np.random.default_rng(1)
    offset = rng.normal(size=(20, 30, 3)).astype(np.float32)
    spread = rng.normal(size=(3, 3))
    matrix = np.linalg.inv(spread @ spread.T + np.eye(3))
    expected = np.einsum("...i,ij,...j->...", offset.astype(np.float64), matrix, offset.astype(np.float64))
    np.testing.assert_allclose(_quadratic(offset, matrix), expected, rtol=1e-12)
