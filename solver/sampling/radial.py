"""Radial sampling: golden-angle spokes through DC, rasterised, with an exact count."""

from __future__ import annotations

import math

import numpy as np

from solver.sampling.common import check_request, finish, full_mask, radius_map
from solver.sampling.raster import RASTER_STEP, fill_nearest, max_radius, round_to_grid
from solver.sampling.specs import ParamSpec

__all__ = ["RADIAL_PARAMS", "radial_mask"]

RADIAL_PARAMS: tuple[ParamSpec, ...] = ()

# Golden-angle increment for full-diameter spokes (Winkelmann et al., IEEE TMI 2007):
# pi / golden ratio ~ 111.246 degrees. Any number of consecutive spokes covers the
# half-circle of directions almost uniformly, so the spoke sets are nested.
_GOLDEN_ANGLE = math.pi * 2.0 / (1.0 + math.sqrt(5.0))
_NOT_HIT = np.iinfo(np.int64).max


def radial_mask(size: int, rate: float, seed: int = 0) -> np.ndarray:
    """Radial spokes (golden-angle order) through DC, rasterised onto the grid.

    Spoke ``j`` is the full diameter at angle ``j * 111.246...`` degrees (the
    golden-angle increment ``pi / phi``), clipped to the square grid so that dense
    spokes reach the corners and every rate is reachable. The spokes are sampled
    every half pixel and rounded to the nearest grid points. Because golden-angle
    spoke sets are nested, the number of samples grows monotonically with the
    number of spokes: the mask is the union of the largest number of whole spokes
    that fits in the budget ``m``, plus the first new pixels of the next spoke
    ordered by distance from DC (it grows from the centre outwards in both
    directions). The count is therefore exactly ``m`` by construction, with no
    random top-up. Deterministic: ``seed`` is validated and not used.

    Parameters
    ----------
    size : int
        Grid side N, a power of two in [32, 1024].
    rate : float
        Sampling rate in (0, 1].
    seed : int
        Validated (>= 0), unused.

    Returns
    -------
    np.ndarray, bool, shape (N, N)

    Notes
    -----
    Winkelmann, Schaeffter, Koehler, Eggers, Doessel, "An optimal radial profile
    order based on the golden ratio for time-resolved MRI", IEEE TMI 26(1), 2007.
    """
    size, rate, seed, m = check_request(size, rate, seed)
    if m == size * size:
        return full_mask(size)
    first_hit, n_scanned = _first_spoke_per_pixel(size, m)
    per_spoke = np.bincount(first_hit[first_hit != _NOT_HIT], minlength=n_scanned)
    n_full = int(np.searchsorted(np.cumsum(per_spoke), m, side="right"))  # spokes that fit whole
    mask = first_hit < n_full
    radius = radius_map(size).ravel()
    candidates = np.flatnonzero(first_hit == n_full)
    fill_nearest(mask, candidates, radius, min(m - int(mask.sum()), candidates.size))
    # Only reachable if the scan did not cover every pixel (not observed for N <= 1024):
    # fill with the unsampled pixels nearest to DC.
    fill_nearest(mask, np.flatnonzero(~mask), radius, m - int(mask.sum()))
    return finish(mask.reshape(size, size), rate, "radial")


def _first_spoke_per_pixel(size: int, m: int) -> tuple[np.ndarray, int]:
    """For every pixel (flat), the first spoke that covers it (``_NOT_HIT`` if none).

    Spokes are scanned in chunks until their union holds at least ``m`` pixels; returns
    the map and the number of spokes scanned.
    """
    centre = size // 2
    half = int(math.ceil(max_radius(size) / RASTER_STEP))
    t = np.arange(-half, half + 1) * RASTER_STEP  # includes t = 0, i.e. DC
    first_hit = np.full(size * size, _NOT_HIT, dtype=np.int64)
    covered = 0
    chunk = 32
    max_spokes = 16 * size  # far more than the ~4.5 N needed to reach every corner
    start = 0
    # Loop over chunks of spokes (not pixels) until the union holds m pixels.
    while covered < m and start < max_spokes:
        ids = np.arange(start, start + chunk)
        theta = (ids * _GOLDEN_ANGLE) % math.pi
        rows = centre + np.sin(theta)[:, None] * t[None, :]
        cols = centre + np.cos(theta)[:, None] * t[None, :]
        flat, inside = round_to_grid(size, rows.ravel(), cols.ravel())
        spoke = np.broadcast_to(ids[:, None], rows.shape).ravel()[inside]
        # np.unique returns the first occurrence, and the arrays are spoke-major, so
        # this is the lowest spoke id of the chunk that hits each pixel.
        pix, first = np.unique(flat, return_index=True)
        new = first_hit[pix] == _NOT_HIT
        first_hit[pix[new]] = spoke[first[new]]
        covered += int(new.sum())
        start += chunk
    return first_hit, start
