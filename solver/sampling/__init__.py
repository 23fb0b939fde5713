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

Where things are
----------------
=========================  ===========================================================
``registry.py``            :data:`PATTERNS` and :func:`make_mask` (add new patterns here)
``specs.py``               :class:`ParamSpec`, :class:`PatternSpec`
``common.py``              sizes, budget (:func:`sample_count`), rate check, draws
``multilevel.py``          multilevel (DAS) in dyadic levels, :func:`dyadic_level_map`
``variable_density.py``    variable density, uniform, half-half
``lines.py``               random and equispaced Cartesian lines (whole columns)
``radial.py``              golden-angle radial spokes
``spiral.py``              interleaved Archimedean spirals
``raster.py``              putting spokes and spiral arms onto the grid
``user.py``                :func:`user_mask`, a user-given mask checked
=========================  ===========================================================

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

from solver.sampling.common import MAX_SIZE, MIN_SIZE, RATE_TOLERANCE, sample_count, sampling_rate
from solver.sampling.lines import lines_equispaced_mask, lines_random_mask
from solver.sampling.multilevel import (
    MultilevelSampling,
    dyadic_level_map,
    multilevel_mask,
    multilevel_sampling,
)
from solver.sampling.radial import radial_mask
from solver.sampling.registry import PATTERNS, make_mask
from solver.sampling.specs import ParamSpec, PatternSpec
from solver.sampling.spiral import spiral_mask
from solver.sampling.user import user_mask
from solver.sampling.variable_density import half_half_mask, uniform_mask, variable_density_mask

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
