"""Sampling patterns for subsampled Fourier / Walsh measurements.

Every pattern is a boolean mask of shape ``(N, N)`` in *centred* k-space order:
the DC coefficient (zero frequency / zero sequency) sits at index ``(N // 2, N // 2)``
and centred position ``N // 2 + d`` holds the signed frequency ``d`` in
``[-N/2, N/2)``. ``True`` means "this coefficient is measured".

All patterns share the same contract:

* ``size`` is a power of two in ``[32, 1024]``;
* ``rate`` is the requested fraction of sampled coefficients, in ``(0, 1]``; the
  patterns aim at exactly ``m = max(1, round(rate * N * N))`` samples, so the
  achieved rate is within 0.5 percentage points of ``rate`` or a ``ValueError``
  explains why the request cannot be met (only whole-line patterns at small ``N``
  and over-constrained parameters can fail);
* ``rate = 1`` gives the full mask;
* ``seed`` (int >= 0) seeds a ``np.random.default_rng`` owned by the call; the
  deterministic patterns (equispaced lines, radial, spiral) validate it and
  ignore it;
* the DC coefficient is always sampled.

The registry :data:`PATTERNS` maps a pattern name to a :class:`PatternSpec`
(function, label, description and :class:`ParamSpec` for each keyword
parameter, with default, range and type) so that a user interface can build its
widgets from it, and :func:`make_mask` builds a mask by name.

Conventions used by several patterns
------------------------------------
*Centre block of side c*: the ``c x c`` block of offsets ``[-(c // 2), c - c // 2)``
along each axis; for even ``c`` this is ``[-c/2, c/2)``, which for ``c = 2^j`` is
exactly the dyadic block of frequencies (and, in sequency order, of Walsh
sequencies ``< c``) that a Haar wavelet scale resolves.

*Lines* are whole **columns** of the mask, ``mask[:, j]``: the column index is
the phase-encode direction and every row (the read-out direction) of a chosen
column is sampled. This is the convention of the fastMRI masks, which act on the
last (width) axis. Transpose the mask for row-wise lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = [
    "ParamSpec",
    "PatternSpec",
    "PATTERNS",
    "MIN_SIZE",
    "MAX_SIZE",
    "RATE_TOLERANCE",
    "make_mask",
    "user_mask",
    "sample_count",
    "sampling_rate",
    "dyadic_level_map",
    "MultilevelSampling",
    "multilevel_sampling",
    "multilevel_mask",
    "variable_density_mask",
    "uniform_mask",
    "half_half_mask",
    "lines_random_mask",
    "lines_equispaced_mask",
    "radial_mask",
    "spiral_mask",
]

MIN_SIZE = 32
MAX_SIZE = 1024
#: Largest allowed difference between the achieved and the requested rate.
RATE_TOLERANCE = 0.005

# Golden-angle increment for full-diameter spokes (Winkelmann et al., IEEE TMI 2007):
# pi / golden ratio ~ 111.246 degrees. Any number of consecutive spokes covers the
# half-circle of directions almost uniformly, so the spoke sets are nested.
_GOLDEN_ANGLE = math.pi * 2.0 / (1.0 + math.sqrt(5.0))
# Step along a rasterised curve, in pixels. Below 1/sqrt(2) consecutive points land
# in 8-connected pixels, so rounded curves have no gaps.
_RASTER_STEP = 0.5
# The spiral spacing search stops once the bracketing masks differ by at most
# max(_SPIRAL_SLACK, m / 10^4) pixels; the shortfall is taken from the denser spiral.
_SPIRAL_SLACK = 8


# --------------------------------------------------------------------------------------
# Parameter and pattern specifications (the registry the UI reads)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParamSpec:
    """Description of one keyword parameter of a pattern, enough to build a widget.

    Attributes
    ----------
    name : str
        Keyword name in the pattern function and in :func:`make_mask`.
    label : str
        Short human label.
    type : type
        ``int``, ``float`` or ``str``.
    default : int | float | str
        Default value (inside the range / among the choices).
    min, max : int | float | None
        Inclusive range for numbers; ``None`` for choices.
    step : int | float | None
        Suggested widget step for numbers.
    choices : tuple
        Allowed values; non-empty means "pick one of these" (a select box).
    help : str
        One-sentence explanation.
    """

    name: str
    label: str
    type: type
    default: Any
    min: Any = None
    max: Any = None
    step: Any = None
    choices: tuple = ()
    help: str = ""

    def validate(self, value: Any) -> Any:
        """Return ``value`` coerced to :attr:`type`, or raise ``ValueError`` naming it."""
        name = self.name
        if self.type is str:
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                raise ValueError(f"{name} must be one of {list(self.choices)}, got {value!r}")
            return value
        if isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if self.type is int:
            if not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            value = int(value)
        else:
            if not isinstance(value, (int, float, np.integer, np.floating)):
                raise ValueError(f"{name} must be a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
        if self.choices and value not in self.choices:
            raise ValueError(f"{name} must be one of {list(self.choices)}, got {value!r}")
        if (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        ):
            raise ValueError(f"{name} must be in [{self.min}, {self.max}], got {value!r}")
        return value


@dataclass(frozen=True)
class PatternSpec:
    """A registered sampling pattern.

    Attributes
    ----------
    name : str
        Registry key.
    label : str
        Human label for menus.
    description : str
        One or two sentences for help text.
    function : callable
        ``function(size, rate, seed=0, **params) -> np.ndarray`` (bool, (N, N)).
    params : tuple of ParamSpec
        The keyword parameters ``function`` accepts besides size, rate and seed.
    random : bool
        Whether the mask depends on ``seed`` (a UI can hide the seed otherwise).
    """

    name: str
    label: str
    description: str
    function: Callable[..., np.ndarray]
    params: tuple[ParamSpec, ...] = field(default_factory=tuple)
    random: bool = True

    def defaults(self) -> dict[str, Any]:
        """Default keyword parameters, ``{name: default}``."""
        return {p.name: p.default for p in self.params}

    def param(self, name: str) -> ParamSpec:
        """The :class:`ParamSpec` called ``name`` (``KeyError`` if absent)."""
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


_CENTRE_POW2 = (2, 4, 8, 16, 32, 64, 128, 256)

_PARAMS: dict[str, tuple[ParamSpec, ...]] = {
    "multilevel": (
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
    ),
    "variable_density": (
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
    ),
    "uniform": (),
    "half_half": (
        ParamSpec(
            "centre_fraction", "Centre share of budget", float, 0.5, min=0.01, max=1.0,
            step=0.01,
            help="Share of the samples spent on the fully sampled centre square (the "
            "largest square within that share); the rest is uniformly random.",
        ),
    ),
    "lines_random": (
        ParamSpec(
            "centre_lines", "Centre lines", int, 2, min=1, max=1024, step=1,
            help="Number of fully sampled columns around DC.",
        ),
        ParamSpec(
            "power", "Line density power", float, 2.0, min=0.0, max=20.0, step=0.5,
            help="The other columns are drawn with weight (1 - |k|/(N/2 + 1))**power "
            "(0 = uniformly random lines).",
        ),
    ),
    "lines_equispaced": (
        ParamSpec(
            "centre_lines", "Centre lines", int, 2, min=1, max=1024, step=1,
            help="Number of fully sampled columns around DC; the rest are equispaced.",
        ),
    ),
    "radial": (),
    "spiral": (
        ParamSpec(
            "arms", "Spiral arms", int, 2, min=1, max=64, step=1,
            help="Number of interleaved Archimedean arms; their spacing is solved for "
            "so that the arms reach the corners with the requested number of samples.",
        ),
    ),
}


def _params(pattern: str, **values: Any) -> dict[str, Any]:
    """Validate keyword values against the registered specs of ``pattern``."""
    return {p.name: p.validate(values[p.name]) for p in _PARAMS[pattern]}


# --------------------------------------------------------------------------------------
# Validation and small helpers
# --------------------------------------------------------------------------------------
def _check_size(size: Any) -> int:
    if (
        isinstance(size, (bool, np.bool_))
        or not isinstance(size, (int, np.integer))
        or not MIN_SIZE <= size <= MAX_SIZE
        or size & (size - 1)
    ):
        raise ValueError(
            f"size must be a power of two in [{MIN_SIZE}, {MAX_SIZE}], got {size!r}"
        )
    return int(size)


def _check_rate(rate: Any) -> float:
    if isinstance(rate, (bool, np.bool_)) or not isinstance(
        rate, (int, float, np.integer, np.floating)
    ):
        raise ValueError(f"rate must be a number in (0, 1], got {rate!r}")
    rate = float(rate)
    if not (0.0 < rate <= 1.0):  # also rejects nan
        raise ValueError(f"rate must be in (0, 1], got {rate!r}")
    return rate


def _check_seed(seed: Any) -> int:
    if (
        isinstance(seed, (bool, np.bool_))
        or not isinstance(seed, (int, np.integer))
        or seed < 0
    ):
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _check_common(size: Any, rate: Any, seed: Any) -> tuple[int, float, int, int]:
    """Validate size, rate and seed; return them with the sample budget m."""
    size = _check_size(size)
    rate = _check_rate(rate)
    seed = _check_seed(seed)
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
    size = _check_size(size)
    rate = _check_rate(rate)
    return max(1, int(round(rate * size * size)))


def sampling_rate(mask: np.ndarray) -> float:
    """Fraction of ``True`` entries of a mask (float in [0, 1])."""
    mask = np.asarray(mask)
    return float(np.count_nonzero(mask)) / mask.size


def _finish(mask: np.ndarray, rate: float, pattern: str) -> np.ndarray:
    """Last line of defence: the achieved rate must be within the tolerance."""
    achieved = sampling_rate(mask)
    if abs(achieved - rate) > RATE_TOLERANCE + 1e-12:
        raise ValueError(
            f"rate {rate} cannot be met by the {pattern} pattern at size {mask.shape[0]}: "
            f"it gives {achieved:.4f}, more than {100 * RATE_TOLERANCE} percentage points off"
        )
    return mask


def _centre_slice(size: int, side: int) -> slice:
    """Slice of the centred axis covering the centre block of the given side."""
    lo = size // 2 - side // 2
    return slice(lo, lo + side)


def _radius_map(size: int) -> np.ndarray:
    """Euclidean distance of every pixel from DC, float64 (N, N)."""
    d = np.arange(size, dtype=np.float64) - size // 2
    return np.hypot(d[:, None], d[None, :])


def _full(size: int) -> np.ndarray:
    return np.ones((size, size), dtype=bool)


def _top_k_weighted(rng: np.random.Generator, log_weights: np.ndarray, k: int) -> np.ndarray:
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


def _uniform_fill(rng: np.random.Generator, mask: np.ndarray, k: int) -> None:
    """Set ``k`` uniformly random unsampled entries of ``mask`` (flat view) in place."""
    free = np.flatnonzero(~mask)
    if k > free.size:  # pragma: no cover - callers guarantee the budget fits
        raise ValueError(f"cannot place {k} samples in {free.size} free positions")
    if k > 0:
        mask.flat[rng.choice(free, size=k, replace=False)] = True


# --------------------------------------------------------------------------------------
# Multilevel (dyadic annuli, "DAS")
# --------------------------------------------------------------------------------------
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
    size = _check_size(size)
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
    spec = _PARAMS["multilevel"][0]
    centre_size = spec.validate(centre_size)
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
    size, rate, seed, m = _check_common(size, rate, seed)
    centre_size = _check_centre_pow2(size, centre_size)
    decay = _PARAMS["multilevel"][1].validate(decay)
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
    mask = _finish(mask.reshape(size, size), rate, "multilevel")
    return MultilevelSampling(mask=mask, level_map=level_map, counts=counts, sizes=sizes)


def multilevel_mask(
    size: int, rate: float, seed: int = 0, *, centre_size: int = 4, decay: float = 2.5
) -> np.ndarray:
    """Mask of :func:`multilevel_sampling` (bool, (N, N)); see there for details."""
    return multilevel_sampling(size, rate, seed, centre_size=centre_size, decay=decay).mask


# --------------------------------------------------------------------------------------
# 2-D random patterns
# --------------------------------------------------------------------------------------
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
    size, rate, seed, m = _check_common(size, rate, seed)
    p = _params(
        "variable_density", density=density, power=power, width=width, centre_size=centre_size
    )
    c = p["centre_size"]
    if c > size or c * c > m:
        raise ValueError(
            f"centre_size={c} needs {c * c} samples for the fully sampled centre but "
            f"rate={rate} at size {size} gives only {m} (and at most size={size}); "
            "lower centre_size or raise the rate"
        )
    if m == size * size:
        return _full(size)
    mask = np.zeros((size, size), dtype=bool)
    cs = _centre_slice(size, c)
    mask[cs, cs] = True
    r = _radius_map(size)
    if p["density"] == "polynomial":
        log_w = p["power"] * np.log1p(-r / (r.max() + 1.0))
    else:
        s = p["width"] * size / 2
        log_w = -0.5 * (r / s) ** 2
    free = np.flatnonzero(~mask)
    rng = np.random.default_rng(seed)
    chosen = _top_k_weighted(rng, log_w.ravel()[free], m - c * c)
    mask.flat[free[chosen]] = True
    return _finish(mask, rate, "variable_density")


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
    size, rate, seed, m = _check_common(size, rate, seed)
    mask = np.zeros((size, size), dtype=bool)
    mask[size // 2, size // 2] = True
    _uniform_fill(np.random.default_rng(seed), mask, m - 1)
    return _finish(mask, rate, "uniform")


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
    size, rate, seed, m = _check_common(size, rate, seed)
    frac = _params("half_half", centre_fraction=centre_fraction)["centre_fraction"]
    c = max(1, math.isqrt(int(math.floor(frac * m))))
    c = min(c, size)
    mask = np.zeros((size, size), dtype=bool)
    cs = _centre_slice(size, c)
    mask[cs, cs] = True
    _uniform_fill(np.random.default_rng(seed), mask, m - c * c)
    return _finish(mask, rate, "half_half")


# --------------------------------------------------------------------------------------
# Cartesian lines (whole columns)
# --------------------------------------------------------------------------------------
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
    size, rate, seed, _ = _check_common(size, rate, seed)
    p = _params("lines_random", centre_lines=centre_lines, power=power)
    c = p["centre_lines"]
    n_lines = _line_budget(size, rate, c)
    taken = np.zeros(size, dtype=bool)
    taken[_centre_slice(size, c)] = True
    free = np.flatnonzero(~taken)
    k = np.abs(free - size // 2).astype(np.float64)
    log_w = p["power"] * np.log1p(-k / (size / 2 + 1))
    rng = np.random.default_rng(seed)
    taken[free[_top_k_weighted(rng, log_w, n_lines - c)]] = True
    return _finish(_columns_mask(size, taken), rate, "lines_random")


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
    size, rate, seed, _ = _check_common(size, rate, seed)
    c = _params("lines_equispaced", centre_lines=centre_lines)["centre_lines"]
    n_lines = _line_budget(size, rate, c)
    taken = np.zeros(size, dtype=bool)
    taken[_centre_slice(size, c)] = True
    free = np.flatnonzero(~taken)
    n_outer = n_lines - c
    if n_outer > 0:
        pick = np.floor((np.arange(n_outer) + 0.5) * (free.size / n_outer)).astype(np.intp)
        taken[free[pick]] = True
    return _finish(_columns_mask(size, taken), rate, "lines_equispaced")


# --------------------------------------------------------------------------------------
# Non-Cartesian trajectories rasterised onto the grid
# --------------------------------------------------------------------------------------
def _round_to_grid(
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


def _max_radius(size: int) -> float:
    # Distance from DC to the farthest pixel centre (the corner (0, 0)) plus a margin.
    return math.sqrt(2.0) * (size // 2) + 1.0


def _fill_nearest(mask_flat: np.ndarray, candidates: np.ndarray, radius: np.ndarray, k: int):
    """Set the ``k`` candidates closest to DC (stable order), in place."""
    if k > 0:
        order = np.argsort(radius[candidates], kind="stable")
        mask_flat[candidates[order[:k]]] = True


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
    size, rate, seed, m = _check_common(size, rate, seed)
    n_pix = size * size
    if m == n_pix:
        return _full(size)
    centre = size // 2
    half = int(math.ceil(_max_radius(size) / _RASTER_STEP))
    t = np.arange(-half, half + 1) * _RASTER_STEP  # includes t = 0, i.e. DC
    sentinel = np.iinfo(np.int64).max
    first_hit = np.full(n_pix, sentinel, dtype=np.int64)  # first spoke covering a pixel
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
        flat, inside = _round_to_grid(size, rows.ravel(), cols.ravel())
        spoke = np.broadcast_to(ids[:, None], rows.shape).ravel()[inside]
        # np.unique returns the first occurrence, and the arrays are spoke-major, so
        # this is the lowest spoke id of the chunk that hits each pixel.
        pix, first = np.unique(flat, return_index=True)
        new = first_hit[pix] == sentinel
        first_hit[pix[new]] = spoke[first[new]]
        covered += int(new.sum())
        start += chunk
    hit = first_hit[first_hit != sentinel]
    per_spoke = np.bincount(hit, minlength=start)
    cumulative = np.cumsum(per_spoke)
    n_full = int(np.searchsorted(cumulative, m, side="right"))  # spokes that fit whole
    mask = first_hit < n_full
    radius = _radius_map(size).ravel()
    missing = m - int(mask.sum())
    candidates = np.flatnonzero(first_hit == n_full)
    _fill_nearest(mask, candidates, radius, min(missing, candidates.size))
    # Only reachable if max_spokes did not cover every pixel (not observed for
    # N <= 1024): fill with the unsampled pixels nearest to DC.
    _fill_nearest(mask, np.flatnonzero(~mask), radius, m - int(mask.sum()))
    return _finish(mask.reshape(size, size), rate, "radial")


def _spiral_pixels(size: int, arms: int, spacing: float) -> np.ndarray:
    """Boolean flat mask of the pixels visited by ``arms`` interleaved Archimedean arms.

    Arm ``a`` is ``r = b phi`` at angle ``phi + 2 pi a / arms`` with
    ``b = arms * spacing / (2 pi)``, so neighbouring arms are ``spacing`` pixels apart
    radially; each arm runs from DC to the corner distance. Consecutive points are
    at most ``_RASTER_STEP`` apart in arc length and are rounded to the grid.
    """
    centre = size // 2
    r_max = _max_radius(size)
    b = arms * spacing / (2.0 * math.pi)
    phi_max = r_max / b
    # The speed is ds/dphi = b sqrt(1 + phi^2). For phi <= 1 it is at most b sqrt(2):
    # uniform phi steps of STEP / (b sqrt 2). For phi >= 1 use phi = sqrt(2 sigma / b):
    # ds/dsigma = sqrt(1 + phi^2) / phi <= sqrt 2, so sigma steps of STEP / sqrt 2.
    # Either way no gap exceeds STEP, with about 1.4 times the minimal point count.
    inner_end = min(1.0, phi_max)
    h = _RASTER_STEP / (b * math.sqrt(2.0))
    phi = np.arange(0.0, inner_end + h, h)
    phi[-1] = inner_end
    if phi_max > 1.0:
        h = _RASTER_STEP / math.sqrt(2.0)
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
    out[_round_to_grid(size, rows.ravel(), cols.ravel())[0]] = True
    return out


def spiral_mask(size: int, rate: float, seed: int = 0, *, arms: int = 2) -> np.ndarray:
    """Interleaved Archimedean spiral arms from DC to the corners, rasterised.

    The arm spacing (radial distance between neighbouring arms) is solved so that
    the rasterised arms cover the budget ``m``: a safeguarded bisection
    (regula falsi on log count against log spacing) keeps a sparse spacing with
    fewer than ``m`` pixels and a dense one with at least ``m``, and stops on an
    exact hit or once the two masks differ by at most ``max(8, m / 10^4)`` pixels.
    In the latter case the sparse mask is completed with the pixels of the dense
    mask it lacks, nearest to DC first (at most that many, deterministic, no random
    top-up), so the
    count is exactly ``m`` and every sample lies on one of the two nearly equal
    spirals. Deterministic: ``seed`` is validated and not used.

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
    size, rate, seed, m = _check_common(size, rate, seed)
    arms = _params("spiral", arms=arms)["arms"]
    n_pix = size * size
    if m == n_pix:
        return _full(size)
    # Practically straight arms: the fewest samples any spacing can give.
    sparse_sp = 1e4 * size
    sparse = _spiral_pixels(size, arms, sparse_sp)
    n_sparse = int(sparse.sum())
    if n_sparse > m:
        raise ValueError(
            f"arms={arms} needs at least {n_sparse} samples at size {size} (rate "
            f"{n_sparse / n_pix:.4f}) to reach the edge of k-space, but rate={rate} gives "
            f"{m}; use fewer arms or a higher rate"
        )
    if n_sparse == m:
        return _finish(sparse.reshape(size, size), rate, "spiral")
    # Bracket the spacing around the estimate count ~ 1.17 N^2 / spacing (measured for
    # N = 32..1024), stepping by 1.25 (a loop over trial spacings, not pixels). At
    # spacing 1 every pixel is visited; 1/4 is a safety margin.
    trial = min(max(1.17 * n_pix / m, 1.0), sparse_sp / 1.25)
    cand = _spiral_pixels(size, arms, trial)
    n_cand = int(cand.sum())
    if n_cand >= m:
        dense, n_dense, dense_sp = cand, n_cand, trial
        while dense_sp * 1.25 < sparse_sp:
            trial = dense_sp * 1.25
            cand = _spiral_pixels(size, arms, trial)
            n_cand = int(cand.sum())
            if n_cand < m:
                sparse, n_sparse, sparse_sp = cand, n_cand, trial
                break
            dense, n_dense, dense_sp = cand, n_cand, trial
    else:
        sparse, n_sparse, sparse_sp = cand, n_cand, trial
        dense, n_dense, dense_sp = np.ones(n_pix, dtype=bool), n_pix, 0.0
        while sparse_sp > 0.25:
            trial = max(sparse_sp / 1.25, 0.25)
            cand = _spiral_pixels(size, arms, trial)
            n_cand = int(cand.sum())
            if n_cand >= m:
                dense, n_dense, dense_sp = cand, n_cand, trial
                break
            sparse, n_sparse, sparse_sp = cand, n_cand, trial
        # dense_sp == 0 (the full grid) only if spacing 1/4 missed pixels: not observed.
    # Safeguarded regula falsi on log(count) against log(spacing) (count ~ 1/spacing),
    # with a bisection step every third iteration so the bracket always shrinks.
    for it in range(80):
        if (
            n_dense == m
            or n_dense - n_sparse <= max(_SPIRAL_SLACK, m // 10_000)
            or dense_sp <= 0.0
            or sparse_sp / dense_sp < 1.0 + 1e-12
        ):
            break
        if it % 3 == 2:
            frac = 0.5
        else:
            frac = (math.log(n_sparse) - math.log(m)) / (math.log(n_sparse) - math.log(n_dense))
            frac = min(max(frac, 0.05), 0.95)
        mid = math.exp(math.log(sparse_sp) + frac * (math.log(dense_sp) - math.log(sparse_sp)))
        cand = _spiral_pixels(size, arms, mid)
        n_cand = int(cand.sum())
        if n_cand >= m:
            dense, n_dense, dense_sp = cand, n_cand, mid
        else:
            sparse, n_sparse, sparse_sp = cand, n_cand, mid
    if n_dense == m:
        mask = dense
    else:
        mask = sparse.copy()
        extra = np.flatnonzero(dense & ~sparse)  # holds >= m - n_sparse pixels
        _fill_nearest(mask, extra, _radius_map(size).ravel(), m - n_sparse)
    return _finish(mask.reshape(size, size), rate, "spiral")


# --------------------------------------------------------------------------------------
# User masks
# --------------------------------------------------------------------------------------
def user_mask(mask: Any, size: int | None = None) -> np.ndarray:
    """Validate a user-given mask and return it as a new boolean array.

    Parameters
    ----------
    mask : array_like, bool or integer 0/1, shape (N, N)
        The mask in centred k-space order (DC at ``(N // 2, N // 2)``); N a power
        of two in [32, 1024].
    size : int, optional
        If given, the required N.

    Returns
    -------
    np.ndarray, bool, shape (N, N)
        A copy; the input is not modified.

    Raises
    ------
    ValueError
        If the mask is not 2-D and square with a power-of-two side in [32, 1024],
        is not boolean / integer 0-1, has no sampled entry, or does not match
        ``size``.
    """
    if size is not None:
        size = _check_size(size)
    try:
        arr = np.asarray(mask)
    except Exception as exc:  # e.g. ragged nested lists
        raise ValueError(f"mask must be a 2-D boolean array, got {type(mask).__name__}") from exc
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"mask must be a square 2-D array, got shape {arr.shape}")
    n = arr.shape[0]
    if not (MIN_SIZE <= n <= MAX_SIZE) or n & (n - 1):
        raise ValueError(
            f"mask must have a power-of-two side in [{MIN_SIZE}, {MAX_SIZE}], got shape "
            f"{arr.shape}"
        )
    if size is not None and n != size:
        raise ValueError(f"mask has side {n} but size={size} was requested")
    if arr.dtype == bool:
        out = arr.copy()
    elif np.issubdtype(arr.dtype, np.integer):
        if not np.isin(arr, (0, 1)).all():
            raise ValueError(
                "mask of integers must contain only 0 and 1, got values "
                f"{np.unique(arr)[:5].tolist()}..."
            )
        out = arr.astype(bool)
    else:
        raise ValueError(f"mask must be boolean or 0/1 integers, got dtype {arr.dtype}")
    if not out.any():
        raise ValueError("mask must sample at least one coefficient, got an empty mask")
    return out


# --------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------
PATTERNS: dict[str, PatternSpec] = {
    "multilevel": PatternSpec(
        "multilevel", "Multilevel (DAS)",
        "Dyadic square annuli around DC: the innermost levels fully sampled, the outer "
        "ones uniformly random with a density that decays with the level (the paper's "
        "pattern).",
        multilevel_mask, _PARAMS["multilevel"],
    ),
    "variable_density": PatternSpec(
        "variable_density", "Variable density",
        "2-D random sampling with a polynomial or Gaussian density in the distance from "
        "DC and a fully sampled centre block.",
        variable_density_mask, _PARAMS["variable_density"],
    ),
    "uniform": PatternSpec(
        "uniform", "Uniform random",
        "DC plus positions drawn uniformly at random.",
        uniform_mask, _PARAMS["uniform"],
    ),
    "half_half": PatternSpec(
        "half_half", "Half-half",
        "A fully sampled centre square with half of the budget, the other half "
        "uniformly random.",
        half_half_mask, _PARAMS["half_half"],
    ),
    "lines_random": PatternSpec(
        "lines_random", "Random lines",
        "Whole k-space columns (phase-encode lines): fully sampled centre lines plus "
        "random lines drawn with a density that decays away from DC.",
        lines_random_mask, _PARAMS["lines_random"],
    ),
    "lines_equispaced": PatternSpec(
        "lines_equispaced", "Equispaced lines",
        "Whole k-space columns: fully sampled centre lines plus equispaced lines.",
        lines_equispaced_mask, _PARAMS["lines_equispaced"], random=False,
    ),
    "radial": PatternSpec(
        "radial", "Radial spokes",
        "Golden-angle spokes through DC, rasterised; the last spoke is partial so the "
        "sample count is exact.",
        radial_mask, _PARAMS["radial"], random=False,
    ),
    "spiral": PatternSpec(
        "spiral", "Spiral",
        "Interleaved Archimedean spiral arms from DC to the corners, with the arm "
        "spacing solved for the requested rate.",
        spiral_mask, _PARAMS["spiral"], random=False,
    ),
}


def make_mask(pattern: str, size: int, rate: float, seed: int = 0, **params: Any) -> np.ndarray:
    """Build a sampling mask by pattern name.

    Parameters
    ----------
    pattern : str
        A key of :data:`PATTERNS`.
    size : int
        Grid side N, a power of two in [32, 1024].
    rate : float
        Sampling rate in (0, 1]; the result is within 0.5 percentage points.
    seed : int
        Seed (>= 0); ignored (but validated) by deterministic patterns.
    **params
        Keyword parameters of the pattern (see ``PATTERNS[pattern].params``);
        missing ones take their defaults.

    Returns
    -------
    np.ndarray, bool, shape (N, N)
        Centred k-space order, DC at ``(N // 2, N // 2)``.

    Raises
    ------
    ValueError
        Naming the offending argument: unknown ``pattern`` or parameter, bad
        ``size``/``rate``/``seed``/parameter, or a request that cannot be met.
    """
    if not isinstance(pattern, str) or pattern not in PATTERNS:
        raise ValueError(f"pattern must be one of {list(PATTERNS)}, got {pattern!r}")
    spec = PATTERNS[pattern]
    known = {p.name for p in spec.params}
    for name in params:
        if name not in known:
            raise ValueError(
                f"unknown parameter {name!r} for pattern {pattern!r}; expected one of "
                f"{sorted(known)}"
            )
    return spec.function(size, rate, seed, **params)

# The published per-block DAS pattern lives in its own module and adds itself as "das".
from solver import das_sampling as _das_sampling  # noqa: E402,F401
