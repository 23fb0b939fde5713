"""Fixed parameter tables from before the adaptive schedule: comparison points, not defaults.

FIRENET's fixed schedule and plain Chambolle-Pock need their step balance set per problem.
Before the adaptive schedule (:mod:`solver.schedules`) chose it from the certified gap,
these tables were measured on the explorer's default problem family (Fourier, multilevel
25 %, Haar with maximal levels, lam = 2.5e-4, Shepp-Logan and random ellipses). They are
kept so that comparisons and earlier results can be rerun with the same numbers; they are
not defaults and transfer poorly: on five other problems (N = 32 and 64; real, complex,
weighted, radial; checked against convex-solver optima) the small-image schedule
:data:`FIXED_SCHEDULE_SMALL` ended 300 layers at relative gaps of 1.3e-3 to 4.3e-3 on 3
of 5, and Chambolle-Pock with :data:`CP_FIXED_RATIO` missed 1e-6 within 500 iterations on
3 of 5. For a new problem use ``FIRENET(A, schedule="adaptive")`` or
:class:`solver.baselines.AdaptiveChambollePock`, which need no table.
"""

from __future__ import annotations

from typing import Any

from solver.firenet import RECOMMENDED

__all__ = ["FIXED_SCHEDULE_SMALL", "fixed_schedule", "CP_FIXED_RATIO", "CP_FIXED_RATIO_UNIFORM"]

#: FIRENET's fixed schedule measured for N <= 128 (same problems, level weights, 300
#: layers): the 15 x 20, C = 1 schedule (:data:`solver.firenet.RECOMMENDED`) leaves
#: Shepp-Logan at 0.057 image error against the minimiser's 0.021 at N = 128 and 0.30
#: against 0.18 at N = 64; 10 x 30 with C = 3 gives 0.029 and 0.184 (gaps 1e-4), and within
#: 3 % of (or below) the minimiser's error on random ellipses and at N = 32. The good step
#: ratio grows quickly as N shrinks (see :data:`CP_FIXED_RATIO`), so smaller images need a
#: larger C p.
FIXED_SCHEDULE_SMALL: dict[str, Any] = {**RECOMMENDED, "layers": 30, "restarts": 10, "sharpness": 3.0}


def fixed_schedule(size: int) -> dict[str, Any]:
    """The measured fixed-schedule FIRENET parameters for images of side ``size``.

    :data:`solver.firenet.RECOMMENDED` for ``size >= 256`` (also measured at 512), else
    :data:`FIXED_SCHEDULE_SMALL`. Returns a new dict.

    Raises
    ------
    ValueError
        If ``size`` is not an integer >= 2.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 2:
        raise ValueError(f"size must be an integer >= 2, got {size!r}")
    return dict(RECOMMENDED if size >= 256 else FIXED_SCHEDULE_SMALL)


#: Measured good step ratios tau/sigma for plain Chambolle-Pock on the sqrt-LASSO with
#: lam = 2.5e-4, level weights (``solver.wavelets.level_weights`` of the image), Haar
#: with maximal levels and multilevel 25 % Fourier sampling, by N (Shepp-Logan and random
#: ellipses; the best of a factor-3 grid after 600 iterations). 1024 is extrapolated. The
#: good ratio depends on the mask, the weights and the image.
CP_FIXED_RATIO: dict[int, float] = {32: 1e5, 64: 1e4, 128: 1e3, 256: 300.0, 512: 300.0, 1024: 300.0}

#: The same for unit weights (which prefer larger ratios).
CP_FIXED_RATIO_UNIFORM: dict[int, float] = {32: 3e5, 64: 1e5, 128: 1e4, 256: 3e3, 512: 3e3, 1024: 3e3}
