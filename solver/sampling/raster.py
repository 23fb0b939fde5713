"""Putting continuous k-space trajectories (radial spokes, spiral arms) onto the grid."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["RASTER_STEP", "round_to_grid", "max_radius", "fill_nearest"]

# Step along a rasterised curve, in pixels. Below 1/sqrt(2) consecutive points land
# in 8-connected pixels, so rounded curves have no gaps.
RASTER_STEP = 0.5


def round_to_grid(
    size: int, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest grid points of (row, col) coordinates.

    Returns the flat indices of the points inside the grid and the boolean
    selector of those points among the inputs.
    """
    # floor(x + 1/2), not np.rint: rint rounds halves to even, which would make the
    # rasterisation of a line depend on the parity of the coordinate.
    ri = np.floor(rows + 0.5).astype(np.int64)
    ci = np.floor(cols + 0.5).astype(np.int64)
    ok = (ri >= 0) & (ri < size) & (ci >= 0) & (ci < size)
    return ri[ok] * size + ci[ok], ok


def max_radius(size: int) -> float:
    """Distance from DC to the farthest pixel centre (the corner (0, 0)) plus a margin."""
    return math.sqrt(2.0) * (size // 2) + 1.0


def fill_nearest(mask_flat: np.ndarray, candidates: np.ndarray, radius: np.ndarray, k: int) -> None:
    """Set the ``k`` candidates closest to DC (stable order), in place."""
    if k > 0:
        order = np.argsort(radius[candidates], kind="stable")
        mask_flat[candidates[order[:k]]] = True
