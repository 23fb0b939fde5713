"""The adaptive schedule's per-layer relaxation and running sum as one compiled pass (numba).

After each primal-dual step the adaptive schedule (:mod:`solver.schedules`) adds the
step's output to a running sum and moves its state ``relaxation`` of the way to it, for
four arrays (``x``, ``A x``, ``z``, ``A^* z``): eight torch calls (and their views) a
layer, each a pass over the array. Here one loop per array does both.

The relaxation is torch's ``lerp``, bit for bit: torch's CPU kernel computes
``state + weight (step - state)`` for ``|weight| < 0.5`` and ``step + (weight - 1) (step -
state)`` otherwise, each as one fused multiply-add (one rounding), and so do these loops
(LLVM's ``fma``). The equality is tested against torch on this machine
(``tests/test_adaptive_steps.py``); a torch built without fused multiply-adds would round
the product separately.

Arrays are flat, C-contiguous, float32 or float64 (the real view of complex data), and
the loops run without the GIL. Where numba is missing, :mod:`solver.schedules` keeps its
torch calls.
"""

from __future__ import annotations

import numba
from numba.core import types
from numba.extending import intrinsic

__all__ = ["relax_and_sum"]


def _jit(function):
    """``function`` compiled without the GIL, cached on disk where a directory is writable
    (see :mod:`solver.compiled_haar`)."""
    try:
        return numba.njit(cache=True, nogil=True)(function)
    except RuntimeError:
        return numba.njit(nogil=True)(function)


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (LLVM's ``fma``), for three floats of one precision."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return a(a, b, c), codegen


@_jit
def _relax_and_sum(state, total, step, weight, weight_minus_one):
    if abs(weight) < 0.5:
        for i in range(state.size):
            s = step[i]
            total[i] += s
            state[i] = _fma(weight, s - state[i], state[i])
    else:
        for i in range(state.size):
            s = step[i]
            total[i] += s
            state[i] = _fma(weight_minus_one, s - state[i], s)


def relax_and_sum(state, total, step, weight) -> None:
    """``total += step`` and ``state = lerp(state, step, weight)`` in one pass, in place.

    Parameters
    ----------
    state, total, step : np.ndarray, shape (n,), float32 or float64, C-contiguous
        One dtype; ``state`` and ``total`` are overwritten, ``step`` is read.
    weight : float
        The relaxation, rounded to the arrays' precision as torch rounds it.
    """
    real = state.dtype.type
    _relax_and_sum(state, total, step, real(weight), real(weight) - real(1.0))
