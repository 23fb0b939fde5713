"""Random 2-D sampling with a density in the distance from DC: variable density
(polynomial or Gaussian), uniform (a flat density) and half-half (a fully sampled centre
square, uniform outside)."""

from __future__ import annotations

import math

import numpy as np

from solver.sampling.common import (
    centre_slice,
    check_request,
    finish,
    full_mask,
    radius_map,
    top_k_weighted,
    uniform_fill,
)
from solver.sampling.specs import ParamSpec, validated

__all__ = [
    "VARIABLE_DENSITY_PARAMS",
    "UNIFORM_PARAMS",
    "HALF_HALF_PARAMS",
    "variable_density_mask",
    "uniform_mask",
    "half_half_mask",
]

VARIABLE_DENSITY_PARAMS = (
    ParamSpec(
        "density", "Density", str, "polynomial", choices=("polynomial", "gaussian"),
        help="Polynomial (1 - r/R)**power or Gaussian exp(-r**2 / (2 (width N/2)**2)) "
        "in the distance r from DC.",
    ),
    ParamSpec(
        "power", "Polynomial power", float, 3.0, min=0.0, max=20.0, step=0.5,
        help="Exponent of the polynomial density (0 = uniform).",
    ),
    ParamSpec(
        "width", "Gaussian width", float, 0.3, min=0.02, max=2.0, step=0.02,
        help="Standard deviation of the Gaussian density, as a fraction of N/2.",
    ),
    ParamSpec(
        "centre_size", "Centre block side", int, 4, min=1, max=1024, step=1,
        help="Side of the fully sampled centre block (must fit in the budget).",
    ),
)
UNIFORM_PARAMS: tuple[ParamSpec, ...] = ()
HALF_HALF_PARAMS = (
    ParamSpec(
        "centre_fraction", "Centre share of budget", float, 0.5, min=0.01, max=1.0,
        step=0.01,
        help="Share of the samples spent on the fully sampled centre square (the "
        "largest square within that share); the rest is uniformly random.",
    ),
)


def variable_density_mask(
    size: int,
    rate: float,
    seed: int = 0,
    *,
    density: str = "polynomial",
    power: float = 3.0,
    width: float = 0.3,
    centre_size: int = 4,
) -> np.ndarray:
    """2-D variable-density random sampling with a fully sampled centre block.

    The centre block of side ``centre_size`` is sampled; the remaining
    ``m - centre_size**2`` samples are drawn without replacement with weights
    ``(1 - r / R)**power`` (``R`` = corner distance + 1, so every position keeps a
    positive weight and any rate is reachable) or ``exp(-r**2 / (2 s**2))`` with
    ``s = width * N / 2``, where ``r`` is the distance from DC. The draw is
    sequential-without-replacement (Gumbel top-k), so the count is exact; the
    inclusion probabilities follow the density's ordering but are not exactly
    proportional to it (high-weight positions saturate first).

    Parameters
    ----------
    size : int
        Grid side N, a power of two in [32, 1024].
    rate : float
        Sampling rate in (0, 1].
    seed : int
        Seed (>= 0).
    density : {"polynomial", "gaussian"}
        Density family.
    power : float
        Polynomial exponent in [0, 20] (used when ``density="polynomial"``).
    width : float
        Gaussian standard deviation as a fraction of N/2, in [0.02, 2]
        (used when ``density="gaussian"``).
    centre_size : int
        Side of the fully sampled centre block, 1 .. N; must fit in the budget.

    Returns
    -------
    np.ndarray, bool, shape (N, N)
    """
    size, rate, seed, m = check_request(size, rate, seed)
    p = validated(
        VARIABLE_DENSITY_PARAMS, density=density, power=power, width=width, centre_size=centre_size
    )
    c = p["centre_size"]
    if c > size or c * c > m:
        raise ValueError(
            f"centre_size={c} needs {c * c} samples for the fully sampled centre but "
            f"rate={rate} at size {size} gives only {m} (and at most size={size}); "
            "lower centre_size or raise the rate"
        )
    if m == size * size:
        return full_mask(size)
    mask = np.zeros((size, size), dtype=bool)
    cs = centre_slice(size, c)
    mask[cs, cs] = True
    r = radius_map(size)
    if p["density"] == "polynomial":
        log_w = p["power"] * np.log1p(-r / (r.max() + 1.0))
    else:
        s = p["width"] * size / 2
        log_w = -0.5 * (r / s) ** 2
    free = np.flatnonzero(~mask)
    rng = np.random.default_rng(seed)
    chosen = top_k_weighted(rng, log_w.ravel()[free], m - c * c)
    mask.flat[free[chosen]] = True
    return finish(mask, rate, "variable_density")


def uniform_mask(size: int, rate: float, seed: int = 0) -> np.ndarray:
    """Uniformly random sampling: DC plus ``m - 1`` positions drawn without replacement.

    DC is always included because without it the image mean is unrecoverable; the
    other samples are uniform over the remaining positions.

    Parameters
    ----------
    size : int
        Grid side N, a power of two in [32, 1024].
    rate : float
        Sampling rate in (0, 1].
    seed : int
        Seed (>= 0).

    Returns
    -------
    np.ndarray, bool, shape (N, N)
    """
    size, rate, seed, m = check_request(size, rate, seed)
    mask = np.zeros((size, size), dtype=bool)
    mask[size // 2, size // 2] = True
    uniform_fill(np.random.default_rng(seed), mask, m - 1)
    return finish(mask, rate, "uniform")


def half_half_mask(
    size: int, rate: float, seed: int = 0, *, centre_fraction: float = 0.5
) -> np.ndarray:
    """Fully sampled centre square with (about) half the budget, the rest uniform.

    The centre is the largest centre block of side ``c`` with
    ``c**2 <= centre_fraction * m`` (at least DC); the other ``m - c**2`` samples are
    uniformly random outside it, so the total is exactly ``m``.

    Parameters
    ----------
    size : int
        Grid side N, a power of two in [32, 1024].
    rate : float
        Sampling rate in (0, 1].
    seed : int
        Seed (>= 0).
    centre_fraction : float
        Share of the budget for the centre square, in [0.01, 1].

    Returns
    -------
    np.ndarray, bool, shape (N, N)
    """
    size, rate, seed, m = check_request(size, rate, seed)
    frac = validated(HALF_HALF_PARAMS, centre_fraction=centre_fraction)["centre_fraction"]
    c = max(1, math.isqrt(int(math.floor(frac * m))))
    c = min(c, size)
    mask = np.zeros((size, size), dtype=bool)
    cs = centre_slice(size, c)
    mask[cs, cs] = True
    uniform_fill(np.random.default_rng(seed), mask, m - c * c)
    return finish(mask, rate, "half_half")
