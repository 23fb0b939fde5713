"""Cartesian lines: whole k-space columns (phase-encode lines), random with a density that
decays away from DC, or equispaced, each with fully sampled centre lines.

Lines are **columns** of the mask, ``mask[:, j]``: the column index is the phase-encode
direction and every row (the read-out direction) of a chosen column is sampled, as in the
fastMRI masks, which act on the last (width) axis. Transpose the mask for row-wise lines.
"""

from __future__ import annotations

import math

import numpy as np

from solver.sampling.common import (
    RATE_TOLERANCE,
    centre_slice,
    check_request,
    finish,
    top_k_weighted,
)
from solver.sampling.specs import ParamSpec, validated

__all__ = [
    "LINES_RANDOM_PARAMS",
    "LINES_EQUISPACED_PARAMS",
    "lines_random_mask",
    "lines_equispaced_mask",
]

LINES_RANDOM_PARAMS = (
    ParamSpec(
        "centre_lines", "Centre lines", int, 2, min=1, max=1024, step=1,
        help="Number of fully sampled columns around DC.",
    ),
    ParamSpec(
        "power", "Line density power", float, 2.0, min=0.0, max=20.0, step=0.5,
        help="The other columns are drawn with weight (1 - |k|/(N/2 + 1))**power "
        "(0 = uniformly random lines).",
    ),
)
LINES_EQUISPACED_PARAMS = (
    ParamSpec(
        "centre_lines", "Centre lines", int, 2, min=1, max=1024, step=1,
        help="Number of fully sampled columns around DC; the rest are equispaced.",
    ),
)


def _line_budget(size: int, rate: float, centre_lines: int) -> int:
    """Number of whole columns for ``rate``; raise if the rate or centre cannot fit."""
    n_lines = max(1, int(round(rate * size)))
    if abs(n_lines / size - rate) > RATE_TOLERANCE + 1e-12:
        lo = max(1, math.floor(rate * size))
        hi = min(size, lo + 1)
        raise ValueError(
            f"rate={rate} cannot be met within {100 * RATE_TOLERANCE} percentage points "
            f"with whole lines at size {size}: each line is 1/{size} of the grid, so the "
            f"nearest achievable rates are {lo}/{size} = {lo / size:.4f} and "
            f"{hi}/{size} = {hi / size:.4f}"
        )
    if centre_lines > n_lines:
        raise ValueError(
            f"centre_lines={centre_lines} exceeds the {n_lines} lines that rate={rate} "
            f"allows at size {size}; lower centre_lines or raise the rate"
        )
    if centre_lines > size:  # pragma: no cover - implied by n_lines <= size
        raise ValueError(f"centre_lines must be at most size={size}, got {centre_lines}")
    return n_lines


def _columns_mask(size: int, columns: np.ndarray) -> np.ndarray:
    mask = np.zeros((size, size), dtype=bool)
    mask[:, columns] = True
    return mask


def lines_random_mask(
    size: int, rate: float, seed: int = 0, *, centre_lines: int = 2, power: float = 2.0
) -> np.ndarray:
    """Random variable-density Cartesian lines (whole columns, phase-encode style).

    ``n = round(rate N)`` whole columns: the ``centre_lines`` columns around DC
    plus ``n - centre_lines`` others drawn without replacement with weight
    ``(1 - |k| / (N/2 + 1))**power`` in the column frequency ``k``.

    Parameters
    ----------
    size : int
        Grid side N, a power of two in [32, 1024].
    rate : float
        Sampling rate in (0, 1]; must be within 0.5 percentage points of a
        multiple of 1/N (a whole number of lines).
    seed : int
        Seed (>= 0).
    centre_lines : int
        Fully sampled columns around DC (>= 1, at most the line budget).
    power : float
        Exponent of the line density, in [0, 20] (0 = uniform).

    Returns
    -------
    np.ndarray, bool, shape (N, N)
        Every column entirely True or entirely False.

    Raises
    ------
    ValueError
        If the rate is not reachable with whole lines at this size, or
        ``centre_lines`` exceeds the line budget.
    """
    size, rate, seed, _ = check_request(size, rate, seed)
    p = validated(LINES_RANDOM_PARAMS, centre_lines=centre_lines, power=power)
    c = p["centre_lines"]
    n_lines = _line_budget(size, rate, c)
    taken = np.zeros(size, dtype=bool)
    taken[centre_slice(size, c)] = True
    free = np.flatnonzero(~taken)
    k = np.abs(free - size // 2).astype(np.float64)
    log_w = p["power"] * np.log1p(-k / (size / 2 + 1))
    rng = np.random.default_rng(seed)
    taken[free[top_k_weighted(rng, log_w, n_lines - c)]] = True
    return finish(_columns_mask(size, taken), rate, "lines_random")


def lines_equispaced_mask(
    size: int, rate: float, seed: int = 0, *, centre_lines: int = 2
) -> np.ndarray:
    """Equispaced Cartesian lines (whole columns) plus a fully sampled centre.

    ``n = round(rate N)`` columns: the ``centre_lines`` columns around DC and
    ``n - centre_lines`` columns equispaced over the remaining ``N - centre_lines``
    columns (the i-th at position ``floor((i + 1/2) (N - c) / (n - c))`` of that
    list). Deterministic: ``seed`` is validated and not used.

    Parameters
    ----------
    size : int
        Grid side N, a power of two in [32, 1024].
    rate : float
        Sampling rate in (0, 1]; must be within 0.5 percentage points of a
        multiple of 1/N.
    seed : int
        Validated (>= 0), unused.
    centre_lines : int
        Fully sampled columns around DC (>= 1, at most the line budget).

    Returns
    -------
    np.ndarray, bool, shape (N, N)

    Raises
    ------
    ValueError
        If the rate is not reachable with whole lines at this size, or
        ``centre_lines`` exceeds the line budget.
    """
    size, rate, seed, _ = check_request(size, rate, seed)
    c = validated(LINES_EQUISPACED_PARAMS, centre_lines=centre_lines)["centre_lines"]
    n_lines = _line_budget(size, rate, c)
    taken = np.zeros(size, dtype=bool)
    taken[centre_slice(size, c)] = True
    free = np.flatnonzero(~taken)
    n_outer = n_lines - c
    if n_outer > 0:
        pick = np.floor((np.arange(n_outer) + 0.5) * (free.size / n_outer)).astype(np.intp)
        taken[free[pick]] = True
    return finish(_columns_mask(size, taken), rate, "lines_equispaced")
