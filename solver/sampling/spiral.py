"""Spiral sampling: interleaved Archimedean arms from DC to the corners, rasterised, with
the arm spacing solved for the requested number of samples."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from solver.sampling.common import check_request, finish, full_mask, radius_map
from solver.sampling.raster import RASTER_STEP, fill_nearest, max_radius, round_to_grid
from solver.sampling.specs import ParamSpec, validated

__all__ = ["SPIRAL_PARAMS", "spiral_mask"]

SPIRAL_PARAMS = (
    ParamSpec(
        "arms", "Spiral arms", int, 2, min=1, max=64, step=1,
        help="Number of interleaved Archimedean arms; their spacing is solved for "
        "so that the arms reach the corners with the requested number of samples.",
    ),
)

# The spacing search stops once the bracketing masks differ by at most
# max(_SLACK, m / 10^4) pixels; the shortfall is taken from the denser spiral.
_SLACK = 8


class _Spiral(NamedTuple):
    """A rasterised spiral: its pixels (bool, flat), their count and the arm spacing."""

    pixels: np.ndarray
    count: int
    spacing: float


def spiral_mask(size: int, rate: float, seed: int = 0, *, arms: int = 2) -> np.ndarray:
    """Interleaved Archimedean spiral arms from DC to the corners, rasterised.

    The arm spacing (radial distance between neighbouring arms) is solved so that
    the rasterised arms cover the budget ``m``: a safeguarded bisection
    (regula falsi on log count against log spacing) keeps a sparse spacing with
    fewer than ``m`` pixels and a dense one with at least ``m``, and stops on an
    exact hit or once the two masks differ by at most ``max(8, m / 10^4)`` pixels.
    In the latter case the sparse mask is completed with the pixels of the dense
    mask it lacks, nearest to DC first (at most that many, deterministic, no random
    top-up), so the count is exactly ``m`` and every sample lies on one of the two
    nearly equal spirals. Deterministic: ``seed`` is validated and not used.

    Parameters
    ----------
    size : int
        Grid side N, a power of two in [32, 1024].
    rate : float
        Sampling rate in (0, 1].
    seed : int
        Validated (>= 0), unused.
    arms : int
        Number of interleaved arms, in [1, 64].

    Returns
    -------
    np.ndarray, bool, shape (N, N)

    Raises
    ------
    ValueError
        If even straight arms (infinite spacing) need more than ``m`` samples,
        i.e. the rate is too low for this number of arms.
    """
    size, rate, seed, m = check_request(size, rate, seed)
    arms = validated(SPIRAL_PARAMS, arms=arms)["arms"]
    n_pix = size * size
    if m == n_pix:
        return full_mask(size)
    # Practically straight arms: the fewest samples any spacing can give.
    straight = _spiral(size, arms, 1e4 * size)
    if straight.count > m:
        raise ValueError(
            f"arms={arms} needs at least {straight.count} samples at size {size} (rate "
            f"{straight.count / n_pix:.4f}) to reach the edge of k-space, but rate={rate} "
            f"gives {m}; use fewer arms or a higher rate"
        )
    if straight.count == m:
        return finish(straight.pixels.reshape(size, size), rate, "spiral")
    sparse, dense = _bracket_spacing(size, arms, m, straight)
    sparse, dense = _refine_spacing(size, arms, m, sparse, dense)
    if dense.count == m:
        mask = dense.pixels
    else:
        mask = sparse.pixels.copy()
        extra = np.flatnonzero(dense.pixels & ~sparse.pixels)  # holds >= m - sparse.count
        fill_nearest(mask, extra, radius_map(size).ravel(), m - sparse.count)
    return finish(mask.reshape(size, size), rate, "spiral")


def _spiral(size: int, arms: int, spacing: float) -> _Spiral:
    pixels = _spiral_pixels(size, arms, spacing)
    return _Spiral(pixels, int(pixels.sum()), spacing)


def _bracket_spacing(size: int, arms: int, m: int, straight: _Spiral) -> tuple[_Spiral, _Spiral]:
    """A sparse spiral with fewer than ``m`` pixels and a dense one with at least ``m``.

    Starts from the estimate count ~ 1.17 N^2 / spacing (measured for N = 32..1024)
    and steps the spacing by 1.25 (a loop over trial spacings, not pixels) until the
    count crosses ``m``. At spacing 1 every pixel is visited; 1/4 is a safety margin.
    """
    n_pix = size * size
    sparse = straight
    trial = _spiral(size, arms, min(max(1.17 * n_pix / m, 1.0), straight.spacing / 1.25))
    if trial.count >= m:
        dense = trial
        while dense.spacing * 1.25 < sparse.spacing:
            trial = _spiral(size, arms, dense.spacing * 1.25)
            if trial.count < m:
                return trial, dense
            dense = trial
        return sparse, dense
    sparse = trial
    dense = _Spiral(np.ones(n_pix, dtype=bool), n_pix, 0.0)
    while sparse.spacing > 0.25:
        trial = _spiral(size, arms, max(sparse.spacing / 1.25, 0.25))
        if trial.count >= m:
            return sparse, trial
        sparse = trial
    # dense.spacing == 0 (the full grid) only if spacing 1/4 missed pixels: not observed.
    return sparse, dense


def _refine_spacing(
    size: int, arms: int, m: int, sparse: _Spiral, dense: _Spiral
) -> tuple[_Spiral, _Spiral]:
    """Shrink the bracket until the dense spiral has exactly ``m`` pixels or the two
    differ by at most ``max(_SLACK, m / 10^4)`` pixels.

    Safeguarded regula falsi on log(count) against log(spacing) (count ~ 1/spacing),
    with a bisection step every third iteration so the bracket always shrinks.
    """
    for it in range(80):
        if (
            dense.count == m
            or dense.count - sparse.count <= max(_SLACK, m // 10_000)
            or dense.spacing <= 0.0
            or sparse.spacing / dense.spacing < 1.0 + 1e-12
        ):
            break
        if it % 3 == 2:
            frac = 0.5
        else:
            frac = (math.log(sparse.count) - math.log(m)) / (
                math.log(sparse.count) - math.log(dense.count)
            )
            frac = min(max(frac, 0.05), 0.95)
        log_sparse, log_dense = math.log(sparse.spacing), math.log(dense.spacing)
        trial = _spiral(size, arms, math.exp(log_sparse + frac * (log_dense - log_sparse)))
        if trial.count >= m:
            dense = trial
        else:
            sparse = trial
    return sparse, dense


def _spiral_pixels(size: int, arms: int, spacing: float) -> np.ndarray:
    """Boolean flat mask of the pixels visited by ``arms`` interleaved Archimedean arms.

    Arm ``a`` is ``r = b phi`` at angle ``phi + 2 pi a / arms`` with
    ``b = arms * spacing / (2 pi)``, so neighbouring arms are ``spacing`` pixels apart
    radially; each arm runs from DC to the corner distance. Consecutive points are
    at most ``RASTER_STEP`` apart in arc length and are rounded to the grid.
    """
    centre = size // 2
    r_max = max_radius(size)
    b = arms * spacing / (2.0 * math.pi)
    phi_max = r_max / b
    # The speed is ds/dphi = b sqrt(1 + phi^2). For phi <= 1 it is at most b sqrt(2):
    # uniform phi steps of STEP / (b sqrt 2). For phi >= 1 use phi = sqrt(2 sigma / b):
    # ds/dsigma = sqrt(1 + phi^2) / phi <= sqrt 2, so sigma steps of STEP / sqrt 2.
    # Either way no gap exceeds STEP, with about 1.4 times the minimal point count.
    inner_end = min(1.0, phi_max)
    h = RASTER_STEP / (b * math.sqrt(2.0))
    phi = np.arange(0.0, inner_end + h, h)
    phi[-1] = inner_end
    if phi_max > 1.0:
        h = RASTER_STEP / math.sqrt(2.0)
        sigma = np.arange(0.5 * b, 0.5 * b * phi_max**2 + h, h)
        phi = np.concatenate([phi, np.minimum(np.sqrt(2.0 * sigma / b), phi_max)])
    r = b * phi
    # Arm a is arm 0 rotated by 2 pi a / arms: one sin/cos pass, then a rotation.
    y0, x0 = r * np.sin(phi), r * np.cos(phi)
    rot = (2.0 * math.pi / arms) * np.arange(arms)[:, None]
    cos_a, sin_a = np.cos(rot), np.sin(rot)
    rows = centre + (y0 * cos_a + x0 * sin_a)
    cols = centre + (x0 * cos_a - y0 * sin_a)
    out = np.zeros(size * size, dtype=bool)
    out[round_to_grid(size, rows.ravel(), cols.ravel())[0]] = True
    return out
