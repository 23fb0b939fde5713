"""The 2-D Haar transform of :mod:`solver.wavelets` as compiled loops (numba), one pass per level.

At the image sizes of a FIRENET layer the torch Haar transform spends most of its time in
per-call overhead: four arithmetic calls a level, a dense matrix for the small levels and
a final scaling. Here each level is one loop over the block's row pairs that reads every
2 x 2 block once and writes its four coefficients, so the whole transform is one call.

The arithmetic is that of the torch butterflies, in the same order, for every level
(the small levels included, where the torch path uses a dense matrix): the analysis
sums ``(x00 + x01) + (x10 + x11)`` (and the other three bands likewise) without the
factor 1/2 and scales each band of level ``k`` (finest ``k = 1``) by ``2^-k`` as it
writes it, the approximation by ``2^-levels``; the synthesis scales every coefficient it
reads by the same power of two. A power of two scales a rounded sum exactly (away from
overflow and subnormals), so the result is, bit for bit, that of the butterflies with a
factor 1/2 per level.

Arrays are C-contiguous, shaped ``(B, N, N)``, of any of the four dtypes: complex numbers
are added as such (part by part, as torch adds them), which let the compiler vectorise the
loops (on the real view with a trailing axis of 2 a pair of transforms took about 3x as
long: 619 against 187 us at N = 256). The kernels run without the GIL (a page's runs in
threads transform at once) and keep their machine code in numba's cache (``cache=True``:
next to this file, or in the user-wide cache directory, ``~/.cache/numba``, where this
package is read-only), so only the first process on a machine compiles them, in about 20 s
per dtype; later processes load them in about 1 s (docs/performance.md).

This module imports numba: :mod:`solver.wavelets` imports it only on the first Haar
transform of a CPU tensor, and uses its torch path where numba is not installed.
"""

from __future__ import annotations

import functools

import numba
import numpy as np
from numba.core import types
from numba.extending import overload

__all__ = ["haar_analysis", "haar_synthesis"]


def _jit(function=None, **options):
    """``function`` compiled without the GIL (with numba's ``options``), its machine code
    cached on disk where numba finds a writable directory (next to this file, else the
    user-wide cache); where it finds none, numba refuses ``cache=True`` and every process
    compiles anew. Without ``function``, the decorator with these options (the compiled
    primal step, :mod:`solver.compiled_step`, uses it too)."""
    if function is None:
        return lambda f: _jit(f, **options)
    try:
        return numba.njit(cache=True, nogil=True, **options)(function)
    except RuntimeError:
        return numba.njit(nogil=True, **options)(function)


def _scaled(z, s):
    """``z * s`` for a real or complex ``z`` and a real ``s`` of ``z``'s precision."""
    return z * s


@overload(_scaled, jit_options={"nogil": True})
def _scaled_overload(z, s):
    if isinstance(z, types.Complex):
        # part by part: numba would multiply by ``s + 0j`` as complex by complex, which
        # turns a -0 real part into +0 and an infinite part into nan
        def scaled_complex(z, s):
            return type(z)(complex(z.real * s, z.imag * s))
        return scaled_complex
    return lambda z, s: z * s


@_jit
def _analysis_level(src, dst, approx, detail_scale, approx_scale):
    """One level on every batch entry: ``src`` (B, 2h, 2h) -> the three detail bands into
    ``dst[:, :2h, :2h]`` (times ``detail_scale``) and the approximation into ``approx``
    (B, h, h), times ``approx_scale``."""
    batch, h = src.shape[0], src.shape[1] // 2
    for b in range(batch):
        for i in range(h):
            for j in range(h):
                x00 = src[b, 2 * i, 2 * j]
                x01 = src[b, 2 * i, 2 * j + 1]
                x10 = src[b, 2 * i + 1, 2 * j]
                x11 = src[b, 2 * i + 1, 2 * j + 1]
                s0 = x00 + x01
                d0 = x00 - x01
                s1 = x10 + x11
                d1 = x10 - x11
                approx[b, i, j] = _scaled(s0 + s1, approx_scale)
                dst[b, i, h + j] = _scaled(d0 + d1, detail_scale)
                dst[b, h + i, j] = _scaled(s0 - s1, detail_scale)
                dst[b, h + i, h + j] = _scaled(d0 - d1, detail_scale)


@_jit
def _synthesis_level(approx, coeffs, dst, approx_scale, detail_scale):
    """One level on every batch entry: ``approx`` (B, h, h) times ``approx_scale`` and the
    detail bands of ``coeffs[:, :2h, :2h]`` times ``detail_scale`` -> ``dst`` (B, 2h, 2h)."""
    batch, h = approx.shape[0], approx.shape[1]
    for b in range(batch):
        for i in range(h):
            for j in range(h):
                a = _scaled(approx[b, i, j], approx_scale)
                ad = _scaled(coeffs[b, i, h + j], detail_scale)
                da = _scaled(coeffs[b, h + i, j], detail_scale)
                dd = _scaled(coeffs[b, h + i, h + j], detail_scale)
                ta = a + da
                tb = ad + dd
                tc = a - da
                td = ad - dd
                dst[b, 2 * i, 2 * j] = ta + tb
                dst[b, 2 * i, 2 * j + 1] = ta - tb
                dst[b, 2 * i + 1, 2 * j] = tc + td
                dst[b, 2 * i + 1, 2 * j + 1] = tc - td


@_jit
def _block(flat, batch, h):
    """The first ``batch * h * h`` entries of a flat scratch buffer as a C-contiguous
    (batch, h, h) block (two such buffers take the approximations in turn: a level
    reads one and writes the other)."""
    return flat[:batch * h * h].reshape((batch, h, h))


@_jit
def _analysis(x, out, levels, scales):
    batch, n = x.shape[0], x.shape[1]
    # unscaled approximations, so that every level sums what the torch butterflies sum
    first = np.empty(batch * (n // 2) ** 2, x.dtype)
    second = np.empty(batch * max(n // 4, 1) ** 2, x.dtype)
    src = x
    for level in range(1, levels + 1):
        h = n >> level
        approx = _block(first if level % 2 == 1 else second, batch, h)
        last = level == levels
        _analysis_level(src, out, approx, scales[level], scales[levels] if last else scales[0])
        src = approx
    h = n >> levels
    out[:, :h, :h] = src


@_jit
def _synthesis(c, out, levels, scales):
    batch, n = c.shape[0], c.shape[1]
    first = np.empty(batch * (n // 2) ** 2, c.dtype)
    second = np.empty(batch * max(n // 4, 1) ** 2, c.dtype)
    h = n >> levels
    src = _block(first if levels % 2 == 1 else second, batch, h)
    src[:] = c[:, :h, :h]
    approx_scale = scales[levels]
    for level in range(levels, 0, -1):
        h = n >> level
        dst = out if level == 1 else _block(first if level % 2 == 0 else second, batch, 2 * h)
        _synthesis_level(src, c, dst, approx_scale, scales[level])
        src = dst
        approx_scale = scales[0]


@functools.lru_cache(maxsize=64)
def _scales(dtype: np.dtype, levels: int) -> np.ndarray:
    """``2^-k`` for k = 0 .. levels in the real dtype of ``dtype`` (the data's precision);
    kept per dtype and depth (building it took 4 us, a sixth of a transform at N = 128).
    The kernels only read it."""
    real = np.finfo(dtype).dtype
    return np.ldexp(np.ones(levels + 1, real), -np.arange(levels + 1)).astype(real)


def haar_analysis(x: np.ndarray, out: np.ndarray, levels: int) -> None:
    """Packed Haar coefficients of ``x`` into ``out``.

    Parameters
    ----------
    x, out : np.ndarray, shape (B, N, N), float32, float64, complex64 or complex128
        The images and the coefficients (same dtype, C-contiguous, distinct arrays), in
        PyWavelets' packed layout (see :mod:`solver.wavelets`).
    levels : int
        Levels, in ``1 .. log2(N)``.
    """
    _analysis(x, out, levels, _scales(x.dtype, levels))


def haar_synthesis(c: np.ndarray, out: np.ndarray, levels: int) -> None:
    """Images of the packed Haar coefficients ``c`` into ``out`` (the inverse and adjoint of
    :func:`haar_analysis`; same shapes and dtypes)."""
    _synthesis(c, out, levels, _scales(c.dtype, levels))
