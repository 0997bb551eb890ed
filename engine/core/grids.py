"""Smooth fields (a warp's map, a shading factor) worked out on a coarse grid of the image and brought to every pixel.

The grid's nodes lie at the middles of `step` x `step` blocks of pixels, where OpenCV's bilinear resize reads them:
node (i, j) at pixel row (i + 0.5) step - 0.5, column (j + 0.5) step - 0.5. A grid whose nodes lay at every step-th
pixel (0, step, 2 step, ...) and was resized up the same way came out (step - 1) / 2 px off: a warp's map 3.5 px off
for a step of 8, which toward a child's proportions moved the lips and cheeks a few pixels from where the landmarks
put them.
"""

from __future__ import annotations

import cv2
import numpy as np


def grid_size(shape: tuple[int, ...], step: int) -> tuple[int, int]:
    """(rows, columns) of the grid of `step`-pixel blocks covering an image of `shape` (height, width, ...)."""
    if step < 1:
        raise ValueError(f"a grid's step must be a whole number of pixels, 1 or more, got {step}")
    return -(-shape[0] // step), -(-shape[1] // step)


def grid_points(shape: tuple[int, ...], step: int) -> tuple[np.ndarray, np.ndarray]:
    """(xs, ys), each (rows, columns) float64: the pixel coordinates of the grid's nodes (`grid_size`), at the middles
    of their blocks."""
    rows, columns = grid_size(shape, step)
    ys, xs = (np.mgrid[:rows, :columns].astype(np.float64) + 0.5) * step - 0.5
    return xs, ys


def every_pixel(coarse: np.ndarray, step: int, shape: tuple[int, ...]) -> np.ndarray:
    """(height, width, ...) float32: `coarse`, a field with one value (or vector) per node of the grid of `grid_points`,
    interpolated bilinearly at every pixel of an image of `shape`; beyond the outermost nodes (within half a block of
    the image's edge) it is the nearest node's."""
    rows, columns = grid_size(shape, step)
    coarse = np.asarray(coarse, np.float32)
    if coarse.shape[:2] != (rows, columns):
        raise ValueError(f"a field on the {rows} x {columns} grid of {step} px blocks was expected, got {coarse.shape[:2]}")
    return cv2.resize(coarse, (columns * step, rows * step), interpolation=cv2.INTER_LINEAR)[: shape[0], : shape[1]]
