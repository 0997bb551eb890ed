"""Thin-plate-spline interpolation in the plane (Duchon 1976; Bookstein 1989, IEEE TPAMI 11(6):567).

f(x) = sum_i w_i U(|x - c_i|) + a_0 + a_1 x + a_2 y, with U(r) = r^2 log r, through the values at the
centres c_i (or, with a smoothing s > 0, the spline that trades closeness for bending: s is added to the
kernel matrix's diagonal), the weights orthogonal to the affine part. The affine part is written in
coordinates shifted and scaled to [-1, 1] over the centres, which keeps the system well conditioned (as
scipy's RBFInterpolator does; that class solves the same system and is what the tests compare with).

The landmark warps (shape.py) evaluate one spline on a grid of a few thousand points: this module builds the
kernel without a square root (U = d^2 log(d^2) / 2) and keeps the solved coefficients in C order, which
a matrix product reads several times faster than the column-major ones LAPACK returns (scipy's class spent
about as long on that product as on the kernel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

CHUNK = 256  # points per block of the kernel in `evaluate` (256 x 600 centres: about 1 MB)


@dataclass(frozen=True)
class ThinPlateSpline:
    centres: np.ndarray  # (N, 2) float64
    weights: np.ndarray  # (N, S) the kernel's coefficients
    affine: np.ndarray  # (3, S) the affine part's, on the shifted and scaled coordinates
    shift: np.ndarray  # (2,)
    scale: np.ndarray  # (2,)


def kernel(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(M, N) U(|p - c|) = r^2 log r for every point and centre (0 where they coincide), in float64 whatever the
    inputs' type (a float32 floor under r^2 would be 0, and 0 log 0 not a number)."""
    points, centres = np.asarray(points, np.float64), np.asarray(centres, np.float64)
    # every step in place in two (M, N) buffers: the same operations in the same order, without a temporary for each
    across = np.subtract.outer(points[:, 0], centres[:, 0])
    squared = np.multiply(across, across, out=across)
    down = np.subtract.outer(points[:, 1], centres[:, 1])
    squared += np.multiply(down, down, out=down)
    logs = np.log(np.maximum(squared, np.finfo(np.float64).tiny, out=down), out=down)  # r^2 log r = d^2 log(d^2) / 2; 0 at r = 0
    squared *= logs
    squared *= 0.5
    return squared


def _affine_terms(points: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
    scaled = (points - shift) / scale
    return np.column_stack([np.ones(len(points)), scaled])


def fit(centres: np.ndarray, values: np.ndarray, smoothing: float = 0.0) -> ThinPlateSpline:
    """The thin-plate spline through `values` (N, S) at `centres` (N, 2; distinct, not all on one line)."""
    centres = np.asarray(centres, np.float64)
    values = np.asarray(values, np.float64)
    count = len(centres)
    if centres.ndim != 2 or centres.shape[1] != 2:
        raise ValueError(f"the thin-plate spline's centres must be (N, 2) points, got shape {centres.shape}")
    if values.ndim != 2 or len(values) != count:
        raise ValueError(f"the thin-plate spline needs one row of values per centre: {count} centres, values {values.shape}")
    if not smoothing >= 0:
        raise ValueError(f"the thin-plate spline's smoothing must be 0 or more, got {smoothing}")
    unique, first, counts = np.unique(centres, axis=0, return_index=True, return_counts=True)
    if len(unique) < count:  # two equations for one point: LU may not see the exact singularity
        repeated = centres[first[counts > 1][0]]
        raise ValueError(
            f"the thin-plate spline's centres are degenerate: ({repeated[0]:g}, {repeated[1]:g}) is repeated"
            " (drop the repeats first)"
        )
    low, high = centres.min(0), centres.max(0)
    shift, scale = (high + low) / 2, (high - low) / 2
    scale[scale == 0] = 1.0
    affine = _affine_terms(centres, shift, scale)
    system = np.zeros((count + 3, count + 3))
    system[:count, :count] = kernel(centres, centres)
    system[np.arange(count), np.arange(count)] += smoothing
    system[:count, count:] = affine
    system[count:, :count] = affine.T
    right = np.zeros((count + 3, values.shape[1]))
    right[:count] = values
    # LAPACK's gesv as scipy's RBFInterpolator calls it (numpy.linalg.solve ran 5-10x slower here on a loaded
    # 2-core machine: its threaded factorisation waits on busy cores)
    _, _, solved, info = lapack.dgesv(system, right, overwrite_a=True, overwrite_b=True)
    if info != 0:
        raise ValueError(f"the thin-plate spline's centres are degenerate (repeated or all on one line; LAPACK info {info})")
    return ThinPlateSpline(centres, np.ascontiguousarray(solved[:count]), np.ascontiguousarray(solved[count:]), shift, scale)


def evaluate(spline: ThinPlateSpline, points: np.ndarray) -> np.ndarray:
    """(M, S) the spline at `points` (M, 2)."""
    points = np.asarray(points, np.float64)
    out = _affine_terms(points, spline.shift, spline.scale) @ spline.affine
    # a few hundred points at a time: the kernel's rows stay in cache (a whole grid's are tens of MB)
    for start in range(0, len(points), CHUNK):
        out[start : start + CHUNK] += kernel(points[start : start + CHUNK], spline.centres) @ spline.weights
    return out
