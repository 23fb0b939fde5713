"""The registry of sampling patterns, and :func:`make_mask`, which builds one by name.

To add a pattern: write ``name_mask(size, rate, seed=0, *, ...)`` in a module of this
package (its keyword parameters described by a tuple of :class:`ParamSpec`), then add
one :class:`PatternSpec` to :data:`PATTERNS` below. The explorer's menus, widgets and URL
keys, and the registry tests, are built from this dictionary.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solver.sampling.lines import (
    LINES_EQUISPACED_PARAMS,
    LINES_RANDOM_PARAMS,
    lines_equispaced_mask,
    lines_random_mask,
)
from solver.sampling.multilevel import MULTILEVEL_PARAMS, multilevel_mask
from solver.sampling.radial import RADIAL_PARAMS, radial_mask
from solver.sampling.specs import PatternSpec
from solver.sampling.spiral import SPIRAL_PARAMS, spiral_mask
from solver.sampling.variable_density import (
    HALF_HALF_PARAMS,
    UNIFORM_PARAMS,
    VARIABLE_DENSITY_PARAMS,
    half_half_mask,
    uniform_mask,
    variable_density_mask,
)
from solver.sampling.das import DAS_PATTERN
from solver.validation import check_choice

__all__ = ["PATTERNS", "make_mask"]

#: Every pattern by name, in menu order.
PATTERNS: dict[str, PatternSpec] = {
    "multilevel": PatternSpec(
        "multilevel", "Multilevel (DAS)",
        "Dyadic square annuli around DC: the innermost levels fully sampled, the outer "
        "ones uniformly random with a density that decays with the level (the paper's "
        "pattern).",
        multilevel_mask, MULTILEVEL_PARAMS,
    ),
    "variable_density": PatternSpec(
        "variable_density", "Variable density",
        "2-D random sampling with a polynomial or Gaussian density in the distance from "
        "DC and a fully sampled centre block.",
        variable_density_mask, VARIABLE_DENSITY_PARAMS,
    ),
    "uniform": PatternSpec(
        "uniform", "Uniform random",
        "DC plus positions drawn uniformly at random.",
        uniform_mask, UNIFORM_PARAMS,
    ),
    "half_half": PatternSpec(
        "half_half", "Half-half",
        "A fully sampled centre square with half of the budget, the other half "
        "uniformly random.",
        half_half_mask, HALF_HALF_PARAMS,
    ),
    "lines_random": PatternSpec(
        "lines_random", "Random lines",
        "Whole k-space columns (phase-encode lines): fully sampled centre lines plus "
        "random lines drawn with a density that decays away from DC.",
        lines_random_mask, LINES_RANDOM_PARAMS,
    ),
    "lines_equispaced": PatternSpec(
        "lines_equispaced", "Equispaced lines",
        "Whole k-space columns: fully sampled centre lines plus equispaced lines.",
        lines_equispaced_mask, LINES_EQUISPACED_PARAMS, random=False,
    ),
    "radial": PatternSpec(
        "radial", "Radial spokes",
        "Golden-angle spokes through DC, rasterised; the last spoke is partial so the "
        "sample count is exact.",
        radial_mask, RADIAL_PARAMS, random=False,
    ),
    "spiral": PatternSpec(
        "spiral", "Spiral",
        "Interleaved Archimedean spiral arms from DC to the corners, with the arm "
        "spacing solved for the requested rate.",
        spiral_mask, SPIRAL_PARAMS, random=False,
    ),
    "das": DAS_PATTERN,
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
    spec = PATTERNS[check_choice("pattern", pattern, PATTERNS)]
    known = {p.name for p in spec.params}
    for name in params:
        if name not in known:
            raise ValueError(
                f"unknown parameter {name!r} for pattern {pattern!r}; expected one of "
                f"{sorted(known)}"
            )
    return spec.function(size, rate, seed, **params)
