"""What every sampling pattern shares: the grid sizes, the sample budget, the final rate
check, centred-grid geometry and the random draws.

The pattern modules build on these; of them only the constants, :func:`sample_count` and
:func:`sampling_rate` are part of :mod:`solver.sampling`'s public API.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solver.validation import check_fraction, check_int, check_seed

__all__ = [
    "MIN_SIZE",
    "MAX_SIZE",
    "RATE_TOLERANCE",
    "sample_count",
    "sampling_rate",
    "check_size",
    "check_request",
    "finish",
    "centre_slice",
    "radius_map",
    "full_mask",
    "top_k_weighted",
    "uniform_fill",
]

MIN_SIZE = 32
MAX_SIZE = 1024
#: Largest allowed difference between the achieved and the requested rate.
RATE_TOLERANCE = 0.005


# --------------------------------------------------------------------------------------
# Arguments and the sample budget
# --------------------------------------------------------------------------------------
def check_size(size: Any) -> int:
    """``size`` as an ``int``: a power of two in ``[MIN_SIZE, MAX_SIZE]``."""
    size = check_int("size", size)
    if not MIN_SIZE <= size <= MAX_SIZE or size & (size - 1):
        raise ValueError(f"size must be a power of two in [{MIN_SIZE}, {MAX_SIZE}], got {size}")
    return size


def check_request(size: Any, rate: Any, seed: Any) -> tuple[int, float, int, int]:
    """Validate size, rate (in (0, 1]) and seed; return them with the sample budget m."""
    size = check_size(size)
    rate = check_fraction("rate", rate)
    seed = check_seed(seed)
    return size, rate, seed, sample_count(size, rate)


def sample_count(size: int, rate: float) -> int:
    """Number of samples a pattern aims at: ``max(1, round(rate * size**2))``.

    Parameters
    ----------
    size : int
        Grid side N (power of two in [32, 1024]).
    rate : float
        Requested sampling rate in (0, 1].

    Returns
    -------
    int
        The budget m; at least 1 so that DC is always measured.
    """
    size = check_size(size)
    rate = check_fraction("rate", rate)
    return max(1, int(round(rate * size * size)))


def sampling_rate(mask: np.ndarray) -> float:
    """Fraction of ``True`` entries of a mask (float in [0, 1])."""
    mask = np.asarray(mask)
    return float(np.count_nonzero(mask)) / mask.size


def finish(mask: np.ndarray, rate: float, pattern: str) -> np.ndarray:
    """Last line of defence: the achieved rate must be within the tolerance."""
    achieved = sampling_rate(mask)
    if abs(achieved - rate) > RATE_TOLERANCE + 1e-12:
        raise ValueError(
            f"rate {rate} cannot be met by the {pattern} pattern at size {mask.shape[0]}: "
            f"it gives {achieved:.4f}, more than {100 * RATE_TOLERANCE} percentage points off"
        )
    return mask


# --------------------------------------------------------------------------------------
# Centred-grid geometry
# --------------------------------------------------------------------------------------
def centre_slice(size: int, side: int) -> slice:
    """Slice of the centred axis covering the centre block of the given side."""
    lo = size // 2 - side // 2
    return slice(lo, lo + side)


def radius_map(size: int) -> np.ndarray:
    """Euclidean distance of every pixel from DC, float64 (N, N)."""
    d = np.arange(size, dtype=np.float64) - size // 2
    return np.hypot(d[:, None], d[None, :])


def full_mask(size: int) -> np.ndarray:
    """The fully sampled mask, bool (N, N)."""
    return np.ones((size, size), dtype=bool)


# --------------------------------------------------------------------------------------
# Random draws
# --------------------------------------------------------------------------------------
def top_k_weighted(rng: np.random.Generator, log_weights: np.ndarray, k: int) -> np.ndarray:
    """Draw ``k`` distinct indices with probabilities proportional to ``exp(log_weights)``.

    Gumbel top-k: the ``k`` largest ``log w_i + G_i`` (``G_i`` i.i.d. standard Gumbel)
    have the law of ``k`` successive draws without replacement (the sequential law of
    ``rng.choice(p=w/w.sum(), replace=False)``), in one vectorised pass and with an
    exact count. Reference: Kool, van Hoof, Welling, "Stochastic beams and where to
    find them", ICML 2019.
    """
    n = log_weights.size
    if k <= 0:
        return np.empty(0, dtype=np.intp)
    if k >= n:
        return np.arange(n)
    keys = log_weights + rng.gumbel(size=n)
    return np.argpartition(keys, n - k)[n - k:]


def uniform_fill(rng: np.random.Generator, mask: np.ndarray, k: int) -> None:
    """Set ``k`` uniformly random unsampled entries of ``mask`` (flat view) in place."""
    free = np.flatnonzero(~mask)
    if k > free.size:  # pragma: no cover - callers guarantee the budget fits
        raise ValueError(f"cannot place {k} samples in {free.size} free positions")
    if k > 0:
        mask.flat[rng.choice(free, size=k, replace=False)] = True
