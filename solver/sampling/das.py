"""The DAS multilevel Fourier pattern of the published FIRENET code: one density per block.

Where :func:`solver.sampling.multilevel_sampling` uses square annuli with one decay
parameter, the published patterns (Adcock, Hansen, Roman, Poon's multilevel sampling, as
coded by Antun for Colbrook, Antun and Hansen, PNAS 2022) give every *tensor-product
block* ``(k1, k2)`` of dyadic frequency bands its own sample count, computed from the
local sparsities ``s_1 .. s_L`` of a wavelet decomposition (coarsest first).

Bands. With ``L`` levels and ``j0 = log2(N) - L``, band 1 along an axis holds the
centred offsets ``[-2^j0, 2^j0)`` and band ``k >= 2`` the offsets with
``2^(j0+k-2) <= |d + 1/2| - 1/2 < 2^(j0+k-1)`` (both signs), so band ``L`` ends at the
grid edge. Block ``(k1, k2)`` is row band ``k1`` times column band ``k2``; with
``centre_size = 2^(j0+1)`` these are the axis levels of
:func:`solver.sampling.dyadic_level_map`.

Counts. For a wavelet with ``v`` vanishing moments (``q = 0`` for Haar) and
``k1 <= k2`` (symmetric in ``k1, k2``)::

    M(k1, k2) =   sum_{l <= k1}      s_l 2^(-(2q+1)(k1-l) - (2q+1)(k2-l))
                + sum_{k1 < l <= k2} s_l 2^(-(l-k1) - (2q+1)(k2-l))
                + sum_{l > k2}       s_l 2^(-(l-k1) - (2v+1)(l-k2))

doubled on the first row and column (the two coarsest wavelet scales share level 1).
Block ``b`` gets ``min(|b|, c M_b)`` samples with ``c`` solved exactly (water-filling)
so the total is ``m = round(rate N^2)``, then rounded by largest remainders; the samples
are uniformly random within each block, and DC is always one of them. The published
code finds ``c`` by bisection and then adds or removes single samples in an order that
does not follow the remainders; the counts here differ from theirs by rounding only.

Sparsities come from a reference image (:func:`solver.sparsity_weights.level_sparsities`,
as the published scripts do with ``phantom(N)``) or from a decay model: the share of
significant coefficients falls by ``2^-decay`` per level, ``s_l ~ |level l| 2^(-decay l)``
(``decay = 1``: counts double per level, as for edges in a piecewise-smooth image;
``decay = 2``: equal counts per level). Larger decays move samples towards DC: measured
for N = 32..1024 and rates 0.05..0.6, the samples inside every square of bands around
DC grow with ``decay`` up to 2.25 or more; beyond about 2.5 the modelled sparsities fall
with the level, ``M`` stops concentrating samples and the counts drift back by a few per
cent, so the registry offers decay in [0, 2]. At N = 256 and 25 % the published mask's
three outermost annuli are sampled at 0.99 / 0.52 / 0.12; decay 2 gives 1.0 / 0.50 /
0.125, Shepp-Logan at threshold 0.5 (as in their text-detail script) 1.0 / 0.52 / 0.12.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solver.sampling.common import sample_count
from solver.sampling.specs import ParamSpec, PatternSpec
from solver.validation import check_int, check_positive, check_seed

__all__ = [
    "DAS_PATTERN",
    "REFERENCE_IMAGES",
    "DASSampling",
    "axis_bands",
    "das_block_counts",
    "das_block_weights",
    "das_mask",
    "das_sampling",
    "decay_sparsities",
]

#: The published code's Fourier decay exponents q of Daubechies wavelets with 1..10
#: vanishing moments (q = 0 for Haar), used in the block function M.
_Q_VALUES = (0.0, 0.339, 0.636, 0.913, 1.177, 1.432, 1.682, 1.927, 2.168, 2.406)

#: Reference images whose level sparsities may set the densities ("decay" uses the model).
REFERENCE_IMAGES = ("decay", "shepp_logan", "ellipses", "camera", "mni_t1")


def axis_bands(size: int, levels: int) -> np.ndarray:
    """Band (0-based) of every centred position along one axis.

    Parameters
    ----------
    size : int
        N, a power of two >= 4.
    levels : int
        L, in [2, log2(N)].

    Returns
    -------
    np.ndarray, int64, shape (N,)
        Band ``0 .. L-1``; band 0 holds ``2^(j0+1)`` positions, band ``k >= 1`` holds
        ``2^(j0+k)`` (``j0 = log2(N) - L``).
    """
    size, levels = _check_size_levels(size, levels)
    j0 = size.bit_length() - 1 - levels
    d = np.arange(size) - size // 2
    a = np.maximum(d, -d - 1)  # distance from the half-pixel centre
    q = a >> j0
    band = np.zeros(size, dtype=np.int64)
    pos = q > 0
    band[pos] = np.floor(np.log2(q[pos])).astype(np.int64) + 1
    return band


def decay_sparsities(size: int, levels: int, decay: float) -> np.ndarray:
    """Model sparsities ``s_l = |level l| 2^(-decay l)``, coarsest first, float64 (L,).

    ``|level 1| = 4^(j0+1)`` (approximation and coarsest details), ``|level l| =
    3 4^(j0+l-1)`` for ``l >= 2``; only the ratios matter to the pattern.
    """
    size, levels = _check_size_levels(size, levels)
    decay = check_positive("decay", decay, allow_zero=True)
    j0 = size.bit_length() - 1 - levels
    lev = np.arange(1, levels + 1)
    sizes = np.where(lev == 1, 4.0 ** (j0 + 1), 3.0 * 4.0 ** (j0 + lev - 1))
    return sizes * 2.0 ** (-decay * (lev - 1))


def das_block_weights(sparsities, *, vanishing_moments: int = 1) -> np.ndarray:
    """The published block function ``M(s, k1, k2)``, normalised to sum 1, float64 (L, L).

    Parameters
    ----------
    sparsities : sequence of float, length L >= 2
        Local sparsities, coarsest first, >= 0 and not all zero.
    vanishing_moments : int, default 1
        Of the wavelet (1 = Haar), in [1, 10].
    """
    s = np.asarray(sparsities, dtype=np.float64)
    if s.ndim != 1 or s.size < 2:
        raise ValueError(f"sparsities must be a list of at least 2 numbers, got shape {s.shape}")
    if not (np.isfinite(s).all() and (s >= 0).all() and s.sum() > 0):
        raise ValueError(f"sparsities must be finite, >= 0 and not all zero, got {s.tolist()}")
    vm = check_int("vanishing_moments", vanishing_moments, 1, len(_Q_VALUES))
    q = _Q_VALUES[vm - 1]
    a, b = 2.0 * q + 1.0, 2.0 * vm + 1.0
    n = s.size
    lev = np.arange(1, n + 1)
    out = np.zeros((n, n))
    for k1 in range(1, n + 1):  # L <= 10: a loop over block pairs, each a vector sum
        for k2 in range(k1, n + 1):
            low, mid, high = lev <= k1, (lev > k1) & (lev <= k2), lev > k2
            m = (s[low] * 2.0 ** (-a * (k1 - lev[low]) - a * (k2 - lev[low]))).sum()
            m += (s[mid] * 2.0 ** (-(lev[mid] - k1) - a * (k2 - lev[mid]))).sum()
            m += (s[high] * 2.0 ** (-(lev[high] - k1) - b * (lev[high] - k2))).sum()
            out[k1 - 1, k2 - 1] = out[k2 - 1, k1 - 1] = m
    out[:, 0] *= 2.0
    out[0, :] *= 2.0
    return out / out.sum()


def das_block_counts(block_sizes: np.ndarray, weights: np.ndarray, budget: int) -> np.ndarray:
    """Integer counts ``min(|b|, c M_b)`` summing exactly to ``budget``, int64 (L, L).

    ``c`` is found exactly: sorting the blocks by ``|b| / M_b`` (the ``c`` at which each
    saturates), the total is piecewise linear in ``c``; then floor and largest remainders
    among the unsaturated blocks.
    """
    sizes = np.asarray(block_sizes, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64).ravel()
    budget = check_int("budget", budget, 1, int(sizes.sum()))
    sat_c = sizes / w
    order = np.argsort(sat_c, kind="stable")
    saturated = 0.0
    target = sizes.copy()
    for i, idx in enumerate(order):  # at most L^2 <= 100 blocks
        rest = order[i:]
        c = (budget - saturated) / w[rest].sum()
        if c <= sat_c[idx]:
            target[rest] = c * w[rest]
            break
        saturated += sizes[idx]
    counts = np.minimum(np.floor(target + 1e-9), sizes).astype(np.int64)
    short = budget - int(counts.sum())
    if short > 0:
        frac = np.where(counts < sizes, target - counts, -np.inf)
        counts[np.argsort(-frac, kind="stable")[:short]] += 1
    return counts.reshape(np.shape(block_sizes))


@dataclass(frozen=True)
class DASSampling:
    """A DAS mask with its block structure.

    Attributes
    ----------
    mask : np.ndarray, bool, (N, N)
        Centred k-space order, DC at ``(N//2, N//2)``.
    bands : np.ndarray, int64, (N,)
        Band of each row (and column) position, see :func:`axis_bands`.
    sparsities : np.ndarray, float64, (L,)
        The local sparsities used, coarsest first.
    counts, sizes : np.ndarray, int64, (L, L)
        Samples and positions in block ``(k1, k2)`` (row band, column band).
    """

    mask: np.ndarray
    bands: np.ndarray
    sparsities: np.ndarray
    counts: np.ndarray
    sizes: np.ndarray

    @property
    def densities(self) -> np.ndarray:
        """Fraction sampled in each block, float64 (L, L)."""
        return self.counts / self.sizes

    def annulus_densities(self) -> np.ndarray:
        """Fraction sampled in each square annulus ``max(k1, k2) = k``, float64 (L,)."""
        ring = np.maximum.outer(np.arange(self.counts.shape[0]), np.arange(self.counts.shape[1]))
        n = self.counts.shape[0]
        return np.array([self.counts[ring == k].sum() / self.sizes[ring == k].sum() for k in range(n)])


def das_sampling(
    size: int,
    rate: float,
    seed: int = 0,
    *,
    sparsities=None,
    decay: float = 2.0,
    levels: int | None = None,
    vanishing_moments: int = 1,
) -> DASSampling:
    """DAS sampling with per-block counts from local sparsities.

    Parameters
    ----------
    size : int
        Grid side N, a power of two in [32, 1024].
    rate : float
        Sampling rate in (0, 1]; exactly ``round(rate N^2)`` samples.
    seed : int
        Seed (>= 0) of the generator that places the samples within each block.
    sparsities : sequence of float, optional
        Local sparsities, coarsest first; their length sets the number of levels L.
        When None, :func:`decay_sparsities` with ``decay`` and ``levels``.
    decay : float, default 2.0
        Decay of the modelled sparsity share per level, >= 0 (used without
        ``sparsities``); larger values put more samples near DC (up to about 2.25, see
        the module notes).
    levels : int, optional
        L when ``sparsities`` is None; default ``log2(N) - 1`` (the published scripts'
        one level fewer than the maximum: a centre band of side 4).
    vanishing_moments : int, default 1
        Of the wavelet the sparsities belong to (1 = Haar).

    Returns
    -------
    DASSampling

    Raises
    ------
    ValueError
        For bad arguments, naming them.
    """
    size = _check_grid(size)
    budget = sample_count(size, rate)
    seed = check_seed(seed)
    if sparsities is None:
        levels = size.bit_length() - 2 if levels is None else levels
        s = decay_sparsities(size, levels, decay)
    else:
        s = np.asarray(sparsities, dtype=np.float64)
        if levels is not None and check_int("levels", levels) != s.size:
            raise ValueError(f"levels={levels} does not match the {s.size} sparsities given")
    weights = das_block_weights(s, vanishing_moments=vanishing_moments)
    bands = axis_bands(size, s.size)
    band_sizes = np.bincount(bands, minlength=s.size)
    sizes = np.outer(band_sizes, band_sizes).astype(np.int64)
    counts = das_block_counts(sizes, weights, budget)
    if counts[0, 0] == 0:  # DC must be measured: take the sample from the largest block
        big = np.unravel_index(np.argmax(counts), counts.shape)
        counts[big] -= 1
        counts[0, 0] = 1

    block = (bands[:, None] * s.size + bands[None, :]).ravel()
    order = np.argsort(block, kind="stable")
    starts = np.searchsorted(block[order], np.arange(s.size**2))
    dc = (size // 2) * size + size // 2
    rng = np.random.default_rng(seed)
    mask = np.zeros(size * size, dtype=bool)
    for b, (start, n_b) in enumerate(zip(starts, sizes.ravel(), strict=True)):  # L^2 blocks, vectorised
        members = order[start:start + n_b]
        k = int(counts.flat[b])
        if b == 0:
            mask[dc] = True
            members = members[members != dc]
            k -= 1
        if k >= members.size:
            mask[members] = True
        elif k > 0:
            mask[rng.choice(members, size=k, replace=False)] = True
    return DASSampling(mask=mask.reshape(size, size), bands=bands, sparsities=s, counts=counts, sizes=sizes)


def das_mask(
    size: int,
    rate: float,
    seed: int = 0,
    *,
    reference: str = "decay",
    decay: float = 2.0,
    centre_size: int = 4,
    threshold: float = 0.1,
) -> np.ndarray:
    """The DAS pattern for the registry: sparsities from a reference image or a decay.

    Parameters
    ----------
    size, rate, seed : as for :func:`das_sampling`.
    reference : {"decay", "shepp_logan", "ellipses", "camera", "mni_t1"}
        "decay" uses :func:`decay_sparsities`; an image name estimates the sparsities of
        that test image at N (seed 0) with Haar, as the published scripts do.
    decay : float
        The decay model's parameter, in [0, 2] (ignored for an image reference).
    centre_size : int
        Side of the centre band, a power of two in [4, N/2]; ``L = log2(2N /
        centre_size)`` levels.
    threshold : float
        Absolute threshold for counting coefficients of the reference image, in
        [0.001, 1] (0.1 is the published default).

    Returns
    -------
    np.ndarray, bool, (N, N)
    """
    size = _check_grid(size)
    params = {
        p.name: p.validate(v)
        for p, v in zip(_PARAMS, (reference, decay, centre_size, threshold), strict=True)
    }
    if params["centre_size"] > size // 2:
        raise ValueError(f"centre_size must be at most size/2 = {size // 2}, got {centre_size}")
    levels = size.bit_length() - params["centre_size"].bit_length() + 1
    if params["reference"] == "decay":
        return das_sampling(size, rate, seed, decay=params["decay"], levels=levels).mask
    from solver.phantoms import (
        make_test_image,  # only when a reference image is asked for
    )
    from solver.sparsity_weights import level_sparsities
    from solver.wavelets import Wavelet2D

    image = make_test_image(params["reference"], size, 0)[0]
    counts = level_sparsities(image, Wavelet2D("haar", levels, size), threshold=params["threshold"])
    return das_sampling(size, rate, seed, sparsities=np.maximum(counts, 1)).mask


def _check_size_levels(size, levels) -> tuple[int, int]:
    size = check_int("size", size, 4)
    if size & (size - 1):
        raise ValueError(f"size must be a power of two, got {size}")
    levels = check_int("levels", levels, 2, size.bit_length() - 1)
    return size, levels


def _check_grid(size) -> int:
    size = check_int("size", size, 32, 1024)
    if size & (size - 1):
        raise ValueError(f"size must be a power of two in [32, 1024], got {size}")
    return size


_PARAMS = (
    ParamSpec(
        "reference", "Sparsities from", str, "decay", choices=REFERENCE_IMAGES,
        help="Estimate the local sparsities of a test image (as the published scripts do "
        "with a phantom) or use the decay model.",
    ),
    ParamSpec(
        "decay", "Sparsity decay", float, 2.0, min=0.0, max=2.0, step=0.25,
        help="Decay model: the share of significant wavelet coefficients falls by "
        "2**-decay per level; larger values put more samples near DC (2: equal "
        "sparsity per level, closest to the published masks).",
    ),
    ParamSpec(
        "centre_size", "Centre band side", int, 4, min=4, max=512, choices=(4, 8, 16, 32, 64, 128, 256, 512),
        help="Side of the innermost band (a power of two, at most size/2); 4 gives the "
        "published scripts' one level fewer than the maximum.",
    ),
    ParamSpec(
        "threshold", "Sparsity threshold", float, 0.1, min=0.001, max=1.0, step=0.01,
        help="A reference image's wavelet coefficient counts when its modulus exceeds "
        "this (image scaled to [0, 1]); 0.1 is the published default.",
    ),
)

#: Registry entry (:data:`solver.sampling.PATTERNS` lists it under "das").
DAS_PATTERN = PatternSpec(
    "das", "DAS blocks (published)",
    "The published DAS pattern: every tensor-product block of dyadic bands gets its own "
    "sample count from the local wavelet sparsities of a reference image or a decay model.",
    das_mask, _PARAMS,
)
