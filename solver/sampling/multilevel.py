"""Multilevel ("DAS") sampling: dyadic square annuli around DC, a saturated centre and a
density that decays from one level to the next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from solver.sampling.common import check_request, check_size, finish
from solver.sampling.specs import ParamSpec

__all__ = [
    "MULTILEVEL_PARAMS",
    "dyadic_level_map",
    "MultilevelSampling",
    "multilevel_sampling",
    "multilevel_mask",
]

_CENTRE_POW2 = (2, 4, 8, 16, 32, 64, 128, 256)

MULTILEVEL_PARAMS = (
    ParamSpec(
        "centre_size", "Centre block side", int, 4, min=2, max=256, choices=_CENTRE_POW2,
        help="Side of the innermost level, always fully sampled (a power of two, "
        "at most size/2); the levels are the dyadic square annuli around it.",
    ),
    ParamSpec(
        "decay", "Density decay", float, 2.5, min=0.0, max=6.0, step=0.25,
        help="The sampling density falls by 2**-decay from one level to the next "
        "(density ~ radius**-decay); the counts of the partially sampled levels fall "
        "with the level when decay > 2.",
    ),
)


def dyadic_level_map(size: int, centre_size: int = 4) -> np.ndarray:
    """Level of every k-space position in the dyadic square annuli around DC.

    Level 0 is the centre block of side ``c = centre_size``; level ``k >= 1`` is the
    block of side ``c 2^k`` minus the block of side ``c 2^(k-1)`` (blocks of offsets
    ``[-s/2, s/2)``), so the last level ends exactly at the grid edge. These are
    Chebyshev-distance bands about the half-pixel point ``(N/2 - 1/2, N/2 - 1/2)``,
    and each block is exactly the set of frequencies a Haar scale resolves.

    Parameters
    ----------
    size : int
        Grid side N, a power of two in [32, 1024].
    centre_size : int
        Side of level 0, a power of two in [2, N/2].

    Returns
    -------
    np.ndarray, int64, shape (N, N)
        Levels ``0 .. log2(N / centre_size)``; level ``k >= 1`` holds
        ``3 * 4**(k-1) * centre_size**2`` positions.
    """
    size = check_size(size)
    centre_size = _check_centre_pow2(size, centre_size)
    d = np.arange(size) - size // 2
    # Distance from the half-pixel centre, as an integer: d for d >= 0, -d - 1 for d < 0.
    a = np.maximum(d, -d - 1)
    q = a // (centre_size // 2)  # 0 inside level 0, in [2^(k-1), 2^k) on level k
    axis_level = np.zeros(size, dtype=np.int64)
    pos = q > 0
    axis_level[pos] = np.floor(np.log2(q[pos])).astype(np.int64) + 1
    return np.maximum(axis_level[:, None], axis_level[None, :])


def _check_centre_pow2(size: int, centre_size: Any) -> int:
    centre_size = MULTILEVEL_PARAMS[0].validate(centre_size)
    if centre_size > size // 2:
        raise ValueError(
            f"centre_size must be at most size/2 = {size // 2} (at least two levels), "
            f"got {centre_size}"
        )
    return centre_size


@dataclass(frozen=True)
class MultilevelSampling:
    """A multilevel mask with its level structure (for display and analysis).

    Attributes
    ----------
    mask : np.ndarray, bool, shape (N, N)
        The sampling mask, centred k-space order.
    level_map : np.ndarray, int64, shape (N, N)
        Level of each position (see :func:`dyadic_level_map`).
    counts : np.ndarray, int64, shape (L,)
        Number of samples on each level, innermost first.
    sizes : np.ndarray, int64, shape (L,)
        Number of positions on each level.
    """

    mask: np.ndarray
    level_map: np.ndarray
    counts: np.ndarray
    sizes: np.ndarray

    @property
    def densities(self) -> np.ndarray:
        """Fraction sampled on each level, float64 (L,)."""
        return self.counts / self.sizes

    @property
    def fully_sampled_levels(self) -> int:
        """Number of leading levels that are fully sampled."""
        full = self.counts == self.sizes
        return int(np.argmin(full)) if not full.all() else int(full.size)


def _level_counts(sizes: np.ndarray, weights: np.ndarray, budget: int) -> np.ndarray:
    """Integer per-level counts: density min(1, c w_k), level 0 full, total = budget.

    Water-filling: with densities decreasing in k the saturated levels are a prefix;
    try K = 1, 2, ... saturated levels and solve the rest for c, then round with the
    largest-remainder method (never above a level's size) so the sum is exact.
    """
    n_levels = sizes.size
    sizes_f = sizes.astype(np.float64)
    target = sizes_f.copy()
    for k in range(1, n_levels):
        rest = budget - sizes_f[:k].sum()
        c = rest / float((weights[k:] * sizes_f[k:]).sum())
        if c * weights[k] <= 1.0:
            target[k:] = c * weights[k:] * sizes_f[k:]
            break
    counts = np.floor(target + 1e-9).astype(np.int64)
    counts = np.minimum(counts, sizes)
    short = budget - int(counts.sum())
    if short > 0:
        frac = np.where(counts < sizes, target - counts, -np.inf)
        counts[np.argsort(-frac, kind="stable")[:short]] += 1
    return counts


def multilevel_sampling(
    size: int, rate: float, seed: int = 0, *, centre_size: int = 4, decay: float = 2.5
) -> MultilevelSampling:
    """Multilevel ("DAS") sampling in dyadic square annuli, with its level counts.

    The grid is split into the levels of :func:`dyadic_level_map`. Level 0 is always
    fully sampled; level ``k`` gets density ``min(1, c 2^(-decay k))`` with ``c``
    chosen so that the total is exactly ``m = round(rate N^2)`` (so the inner levels
    up to some radius are fully sampled and the density then decays like
    ``radius^-decay``), and its samples are placed uniformly at random within the
    level. Level ``k`` holds ``3 * 4^(k-1)`` times the centre's positions, so the
    counts of the partially sampled levels scale as ``2^((2 - decay) k)``: they fall
    with the level for ``decay > 2`` (by ``sqrt 2`` per level for the default 2.5).
    ``decay = 2`` is the inverse-square density that Krahmer and Ward proved
    near-optimal for Haar wavelets (SIAM J. Imaging Sci. 2014), with level-flat
    counts.

    This follows the structure of the paper's DAS patterns (Adcock, Hansen et al.:
    multilevel sampling in dyadic bands, saturated centre, uniform within a level);
    the paper derives the per-level counts from estimated wavelet sparsities, here
    a single decay parameter sets them.

    Parameters
    ----------
    size : int
        Grid side N, a power of two in [32, 1024].
    rate : float
        Sampling rate in (0, 1].
    seed : int
        Seed (>= 0) of the generator that places the samples within each level.
    centre_size : int
        Side of level 0 (power of two, 2 .. N/2); its ``centre_size**2`` samples
        must fit in the budget.
    decay : float
        Density exponent per level, in [0, 6] (default 2.5).

    Returns
    -------
    MultilevelSampling
        Mask (bool (N, N)), level map (int (N, N)), per-level counts and sizes.

    Raises
    ------
    ValueError
        On bad arguments, or if the centre block does not fit in the budget.
    """
    size, rate, seed, m = check_request(size, rate, seed)
    centre_size = _check_centre_pow2(size, centre_size)
    decay = MULTILEVEL_PARAMS[1].validate(decay)
    if centre_size**2 > m:
        raise ValueError(
            f"centre_size={centre_size} needs {centre_size**2} samples for the fully "
            f"sampled centre but rate={rate} at size {size} gives only {m}; lower "
            "centre_size or raise the rate"
        )
    level_map = dyadic_level_map(size, centre_size)
    n_levels = int(level_map.max()) + 1
    sizes = np.bincount(level_map.ravel(), minlength=n_levels).astype(np.int64)
    weights = 2.0 ** (-decay * np.arange(n_levels))
    counts = _level_counts(sizes, weights, m)

    rng = np.random.default_rng(seed)
    flat_levels = level_map.ravel()
    mask = np.zeros(size * size, dtype=bool)
    for k in range(n_levels):  # loop over levels only; each level is vectorised
        where = np.flatnonzero(flat_levels == k)
        if counts[k] == sizes[k]:
            mask[where] = True
        elif counts[k] > 0:
            mask[rng.choice(where, size=int(counts[k]), replace=False)] = True
    mask = finish(mask.reshape(size, size), rate, "multilevel")
    return MultilevelSampling(mask=mask, level_map=level_map, counts=counts, sizes=sizes)


def multilevel_mask(
    size: int, rate: float, seed: int = 0, *, centre_size: int = 4, decay: float = 2.5
) -> np.ndarray:
    """Mask of :func:`multilevel_sampling` (bool, (N, N)); see there for details."""
    return multilevel_sampling(size, rate, seed, centre_size=centre_size, decay=decay).mask
