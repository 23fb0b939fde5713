"""The primal half of a primal-dual layer, ``soft(x - tau A^* z, thr)``, as one compiled loop (numba).

In torch the step ``u = x - tau A^* z`` and the complex soft threshold
``u max(1 - thr / |u|, 0)`` are seven calls, each a pass over the coefficients with
temporaries (the squared magnitude, its root, the factor): at N = 128 they took 80-85 us
on one CPU thread (about 106 us inside a 0.9 ms adaptive layer), this loop 20-25 us. It
makes the same roundings in the same order as those calls (``tau A^* z`` rounded, then
subtracted; ``re^2 + im^2``; ``1 / sqrt``; ``1 - thr inv`` rounded once, as torch's
``addcmul``; the factor clamped at 0, NaN kept; each part times the factor), so the two
agree bit for bit up to the sign of zeros (tested).

It runs on the real view of complex data, flat per batch entry, without the GIL, with
numpy's error model (a division by zero gives inf as in torch, and lets LLVM vectorise the
loop: with Python's it took 3x as long). Only :mod:`solver.primal_dual`
imports this module, and only where the compiled Haar transform is in use.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.core import types
from numba.extending import intrinsic, overload

from solver.compiled_haar import _jit as _haar_jit

__all__ = ["soft_step"]


#: Compiled without the GIL, cached where numba can, with numpy's error model.
_jit = _haar_jit(error_model="numpy")


def _at(thr, i):
    """The threshold of entry ``i``: ``thr[i]`` of a map, a scalar itself."""
    return thr


@overload(_at, jit_options={"nogil": True})
def _at_overload(thr, i):
    if isinstance(thr, types.Array):
        return lambda thr, i: thr[i]
    return lambda thr, i: thr


@intrinsic
def _fma(typingctx, a, b, c):
    """``a b + c`` rounded once (LLVM's ``fma``), as torch's ``addcmul`` rounds on the CPU."""
    def codegen(context, builder, signature, args):
        return builder.fma(*args)
    return a(a, b, c), codegen


@_jit
def _soft_step_complex(x, atz, out, tau, thr):
    """``out = soft(x - tau atz, thr)`` on (B, 2 K) real views of complex (B, K) data;
    ``thr`` a scalar or a (K,) map. ``out`` must not overlap ``x`` or ``atz``."""
    one, zero = x.dtype.type(1), x.dtype.type(0)
    for b in range(x.shape[0]):
        for i in range(x.shape[1] // 2):
            re = x[b, 2 * i] - tau * atz[b, 2 * i]
            im = x[b, 2 * i + 1] - tau * atz[b, 2 * i + 1]
            factor = _fma(-_at(thr, i), one / np.sqrt(re * re + im * im), one)
            if factor < zero:  # as torch's clamp: NaN stays NaN
                factor = zero
            out[b, 2 * i] = re * factor
            out[b, 2 * i + 1] = im * factor


@_jit
def _soft_step_complex_inplace(x, atz, tau, thr):
    """:func:`_soft_step_complex` into ``atz`` itself (a separate loop: LLVM vectorises a
    loop only where its output provably does not overlap its inputs, or is one of them).
    Its body is written out again on purpose: as one inlined function shared by both
    loops it took 19 against 14 us with a threshold map at N = 128."""
    one, zero = x.dtype.type(1), x.dtype.type(0)
    for b in range(x.shape[0]):
        for i in range(x.shape[1] // 2):
            re = x[b, 2 * i] - tau * atz[b, 2 * i]
            im = x[b, 2 * i + 1] - tau * atz[b, 2 * i + 1]
            factor = _fma(-_at(thr, i), one / np.sqrt(re * re + im * im), one)
            if factor < zero:
                factor = zero
            atz[b, 2 * i] = re * factor
            atz[b, 2 * i + 1] = im * factor


def soft_step(x: np.ndarray, atz: np.ndarray, out: np.ndarray | None, tau: float, thr) -> None:
    """``soft(x - tau atz, thr)`` into ``out``, or into ``atz`` when ``out`` is None.

    Parameters
    ----------
    x, atz, out : np.ndarray, shape (B, 2 K), float32 or float64
        Real views of complex data (re, im interleaved), C-contiguous, one dtype; ``out``
        distinct from both.
    tau : float
        The primal step.
    thr : float or np.ndarray, shape (K,)
        The threshold (``tau lam w``), one for all entries or one per entry, in the dtype
        of ``x``.
    """
    real = x.dtype.type
    if isinstance(thr, np.ndarray):
        thr = thr.astype(x.dtype, copy=False)
    else:
        thr = real(thr)
    if out is None:
        _soft_step_complex_inplace(x, atz, real(tau), thr)
    else:
        _soft_step_complex(x, atz, out, real(tau), thr)
