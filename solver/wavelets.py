"""Orthonormal 2-D discrete wavelet transform with periodized boundary, in torch.

The transform matches PyWavelets exactly::

    pywt.coeffs_to_array(pywt.wavedec2(x, name, mode="periodization", level=levels))[0]

but is our own torch code (PyWavelets only supplies the filter taps), so it runs on any
device, on batches, and is differentiable. With the periodized boundary and an
orthogonal filter bank the transform is unitary: ``inverse`` is both its inverse and its
adjoint.

Packed layout (that of ``pywt.coeffs_to_array``): after ``levels`` levels on an
``(N, N)`` image, the approximation occupies ``[:n, :n]`` with ``n = N >> levels``; the
detail bands of the level whose bands have size ``m`` occupy ``[:m, m:2m]`` (detail
along the last axis), ``[m:2m, :m]`` (detail along the second-to-last axis) and
``[m:2m, m:2m]`` (detail along both).

Haar, the default and the transform used in every FIRENET layer, has two fast paths. On
the CPU, where numba is installed, compiled loops, one per level
(:mod:`solver.compiled_haar`; a pair of transforms took 0.15x the torch path's time at
N = 128, 0.24x at 256, 0.19x at 1024, medians of 7 interleaved rounds,
``benchmarks/haar_pair.py``): the same sums as
the torch butterflies on every level, so no dense matrix. Elsewhere (a GPU, or no numba):
butterflies writing straight into the packed output on the large levels (four
arithmetic calls per level, no copies), and one dense matrix for the last few small
levels (which would otherwise cost only Python/dispatch overhead, a few microseconds per
torch call), applied in the transposed form that BLAS runs fast. The 1/2 of every 2-D
Haar step is applied once for all levels, as one product with a map of powers of two
(at the end of the analysis; in place of the synthesis's copy of its input): scaling by a
power of two is exact, so this gives the bits of scaling each level, with one full-size
pass and ``levels - 1`` calls fewer. The work buffers and all their views are built once
per thread, batch shape and dtype and kept (a few per thread): a level is then its four
arithmetic calls, where building the views and buffers took two thirds of the calls (on
one CPU thread the pair of transforms took 0.52x the time at N = 128, 0.70x at 256, 0.54x
at 1024, median of 9 interleaved rounds). The output is always a fresh tensor. Without
autograd it is called directly; with it, through an ``autograd.Function`` whose backward
is the inverse transform (the transform is real orthogonal, so its adjoint is its
inverse, also for complex input). The two paths agree bit for bit where the torch path
has no dense tail, and within that tail's one rounding elsewhere.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np
import pywt
import torch
import torch.nn.functional as F

from solver.validation import check_choice, check_fraction, check_int

__all__ = ["Wavelet2D", "level_weights", "SUPPORTED_FAMILIES"]

#: PyWavelets families with orthogonal, finite filter banks that this module supports.
SUPPORTED_FAMILIES = ("haar", "db", "sym", "coif")

# Blocks of at most this side length are finished by one dense matrix on the Haar path.
_HAAR_DENSE_SIDE = 16

# The dtypes the transforms accept (see Wavelet2D._check).
_HAAR_DTYPES = (torch.float32, torch.float64, torch.complex64, torch.complex128)


def _check_size(size) -> int:
    size = check_int("size", size, low=2)
    if size & (size - 1):
        raise ValueError(f"size must be a power of two >= 2, got {size}")
    return size


def _check_wavelet_name(name) -> pywt.Wavelet:
    if not isinstance(name, str):
        raise ValueError(f"wavelet must be a string such as 'haar' or 'db4', got {name!r}")
    try:
        w = pywt.Wavelet(name)
    except ValueError as exc:
        raise ValueError(f"wavelet {name!r} is not a PyWavelets discrete wavelet") from exc
    if w.short_family_name not in SUPPORTED_FAMILIES or not w.orthogonal:
        raise ValueError(
            f"wavelet must be orthogonal, from the families {SUPPORTED_FAMILIES}, got {name!r}"
        )
    return w


def _real_dtype(dtype: torch.dtype) -> torch.dtype:
    return {torch.complex64: torch.float32, torch.complex128: torch.float64}.get(dtype, dtype)


# ----------------------------------------------------------------------------------
# Haar fast path (no autograd inside; wrapped by _HaarFunction)
# ----------------------------------------------------------------------------------


def _real_view(t: torch.Tensor) -> torch.Tensor:
    """(..., k) real view: ``view_as_real`` for complex (k = 2), a trailing 1 for real."""
    return torch.view_as_real(t) if t.is_complex() else t.unsqueeze(-1)


class _Tail(NamedTuple):
    """The dense tail's buffers and views on a (B, N, N) work buffer (see :func:`_tail_views`)."""

    block: torch.Tensor  # (B, side, side) view of the work buffer's top-left block
    columns: torch.Tensor  # (B, side^2) buffer, the block flattened
    rows: torch.Tensor  # (B, k, side^2) real view of it, transposed
    result: torch.Tensor  # (B, k, side^2) buffer of the product
    target: torch.Tensor  # (B, side, side, k) real view of the block
    result_view: torch.Tensor  # the product laid out as target


def _tail_views(work: torch.Tensor, side: int) -> _Tail:
    """Buffers and views for ``block <- matrix @ block`` on the (side, side) top-left block
    of ``work``, the block flattened to real columns and multiplied as ``columns^T @
    matrix^T``: on one CPU thread BLAS took 93 us for the ``(256 x 256) @ (256 x 2)`` form
    (the 16 x 16 tail) and 15 us for this transposed one."""
    b, n = work.shape[0], work.shape[-1]
    block = work.as_strided((b, side, side), (n * n, n, 1), 0)
    columns = torch.empty((b, side * side), dtype=work.dtype, device=work.device)
    rows = _real_view(columns).transpose(1, 2)
    result = torch.empty(rows.shape, dtype=rows.dtype, device=work.device)
    return _Tail(block, columns, rows, result, _real_view(block),
                 result.view(b, -1, side, side).permute(0, 2, 3, 1))


def _apply_tail(tail: _Tail, matrix: torch.Tensor) -> None:
    """The block of the tail's work buffer times ``matrix`` (three calls)."""
    tail.columns.view(tail.block.shape).copy_(tail.block)
    torch.matmul(tail.rows, matrix.mT, out=tail.result)
    tail.target.copy_(tail.result_view)


class _Level(NamedTuple):
    """One Haar level's views: the two inputs of the first butterfly, its (B, h, 2, 2, h)
    buffer's two halves as outputs, their two halves as the second butterfly's inputs,
    and its two outputs."""

    first: tuple[torch.Tensor, torch.Tensor] | None  # None on the input (its views are per call)
    into: tuple[torch.Tensor, torch.Tensor]
    second: tuple[torch.Tensor, torch.Tensor]
    out: tuple[torch.Tensor, torch.Tensor] | None  # None where the output is fresh per call


def _pairs(t: torch.Tensor, b: int, h: int, size: int, offset: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The column-pair views of the (2h, 2h) block at ``offset``'s parity grid of a (B, size,
    size) tensor: ``[i, row parity, j]`` at columns ``2j`` (first) and ``2j + 1`` (second)."""
    full = size * size
    return (t.as_strided((b, h, 2, h), (full, 2 * size, size, 2), offset),
            t.as_strided((b, h, 2, h), (full, 2 * size, size, 2), offset + 1))


def _halves(t: torch.Tensor, b: int, h: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The packed bands' halves of the (2h, 2h) block of a (B, size, size) tensor: rows
    ``[:h]`` as ``[i, band, j]`` (``[approximation | detail]``) and rows ``[h:2h]``."""
    stride = (size * size, size, h, 1)
    return t.as_strided((b, h, 2, h), stride, 0), t.as_strided((b, h, 2, h), stride, h * size)


class _HaarPlan(NamedTuple):
    """Work buffers and their views for one (batch, size, levels, dtype, device)."""

    work: torch.Tensor  # (B, N, N)
    levels: list[_Level]
    tail: _Tail | None


# Work buffers of the Haar fast path, per thread (a page's sessions run in threads and may
# share a transform): the views of every level are built once, so a level is its four
# arithmetic calls. A few plans per thread (batch shapes and dtypes in use).
_PLANS = threading.local()
_PLANS_KEPT = 4


def _plan(kind: str, b: int, size: int, fast_levels: int, tail: bool, dtype: torch.dtype,
          device: torch.device) -> _HaarPlan:
    """The thread's plan for the analysis (``kind="analysis"``) or synthesis."""
    key = (kind, b, size, fast_levels, tail, dtype, device)
    plans = getattr(_PLANS, "plans", None)
    if plans is None:
        plans = _PLANS.plans = {}
    plan = plans.pop(key, None)
    if plan is None:
        plan = _build_plan(kind == "analysis", b, size, fast_levels, tail, dtype, device)
        while len(plans) >= _PLANS_KEPT:
            plans.pop(next(iter(plans)))
    plans[key] = plan  # the most recent last
    return plan


def _build_plan(analysis: bool, b: int, size: int, fast_levels: int, tail: bool, dtype: torch.dtype,
                device: torch.device) -> _HaarPlan:
    work = torch.empty((b, size, size), dtype=dtype, device=device)
    levels = []
    for level in range(fast_levels):
        # the analysis runs finest first, the synthesis coarsest first
        h = size >> (level + 1) if analysis else size >> (fast_levels - level)
        t = torch.empty((b, h, 2, 2, h), dtype=dtype, device=device)
        if analysis:
            # t[i, row parity, low/high, j]; the packed output's halves take t's rows
            first = None if level == 0 else _pairs(work, b, h, size, 0)
            into, second, out = (t.select(3, 0), t.select(3, 1)), tuple(t.unbind(2)), _halves(work, b, h, size)
        else:
            # t[i, row parity, low/high, j] from the packed halves; back into column pairs
            last = level == fast_levels - 1
            first = _halves(work, b, h, size)
            into, second = (t.select(2, 0), t.select(2, 1)), tuple(t.unbind(3))
            out = None if last else _pairs(work, b, h, size, 0)
        levels.append(_Level(first, into, second, out))
    side = size >> fast_levels
    return _HaarPlan(work, levels, _tail_views(work, side) if tail else None)


def _butterflies(level: _Level, first: tuple[torch.Tensor, torch.Tensor],
                 out: tuple[torch.Tensor, torch.Tensor]) -> None:
    """One level: sum and difference of ``first`` into the buffer, then of its halves into ``out``."""
    torch.add(*first, out=level.into[0])
    torch.sub(*first, out=level.into[1])
    torch.add(*level.second, out=out[0])
    torch.sub(*level.second, out=out[1])


def _haar_analysis(x: torch.Tensor, fast_levels: int, dense: torch.Tensor | None,
                   scale: torch.Tensor) -> torch.Tensor:
    """Butterflies on ``fast_levels`` levels, then the dense matrix of the rest, then ``scale``.

    One level on the (n, n) block at the top left, n = 2h: the column butterfly of
    every row pair goes into one (B, h, 2, 2, h) buffer ``t[i, row parity, low/high,
    j]`` (two calls), and the row butterfly writes the four bands straight into the
    packed work buffer (two calls, each filling a half: ``[approximation | detail]`` rows
    and the rows below). The levels' factors 1/2 are left out and applied at the end by
    one product with ``scale`` (2^-k on the bands of level k, 2^-fast_levels on the dense
    tail's block), exactly: a power of two scales the rounded sums by itself; that
    product is also the fresh output. Every view but those of the input is the thread's
    plan's (:func:`_plan`), since at the small levels the time is per call.
    """
    shape = x.shape
    n = shape[-1]
    x = x.reshape(-1, n, n)
    b = x.shape[0]
    plan = _plan("analysis", b, n, fast_levels, dense is not None, x.dtype, x.device)
    for index, level in enumerate(plan.levels):
        first = level.first if index else _pairs(x, b, n // 2, n, x.storage_offset())
        _butterflies(level, first, level.out)
    if dense is not None:
        if not plan.levels:
            plan.work.copy_(x)
        _apply_tail(plan.tail, dense)
    out = torch.mul(_real_view(plan.work), scale)
    return (torch.view_as_complex(out) if x.is_complex() else out.squeeze(-1)).view(shape)


def _haar_synthesis(c: torch.Tensor, fast_levels: int, dense: torch.Tensor | None,
                    scale: torch.Tensor) -> torch.Tensor:
    """Exact transpose (= inverse) of :func:`_haar_analysis`, on ``c * scale``.

    The product with ``scale`` (the analysis's map) fills the work buffer and applies
    every level's factor 1/2 at once, exactly (see :func:`_haar_analysis`). Per level:
    the row butterfly of ``[approximation | detail]`` and the two bands below into a
    (B, h, 2, 2, h) buffer (two calls), the column butterfly back into the (n, n) block
    of the work buffer (two calls), on the finest level into the fresh output.
    """
    shape = c.shape
    size = shape[-1]
    c = c.reshape(-1, size, size)
    b = c.shape[0]
    plan = _plan("synthesis", b, size, fast_levels, dense is not None, c.dtype, c.device)
    torch.mul(_real_view(c), scale, out=_real_view(plan.work))
    if dense is not None:
        _apply_tail(plan.tail, dense.mT)
    if not plan.levels:
        return plan.work.clone().view(shape)
    result = torch.empty_like(c)
    for level in plan.levels:
        _butterflies(level, level.first, level.out or _pairs(result, b, size // 2, size, 0))
    return result.view(shape)


# The compiled kernels (solver.compiled_haar), imported on the first Haar transform of a
# CPU tensor (importing numba takes about half a second): the module, or None where numba
# cannot be imported, and then every Haar transform takes the torch path.
_UNSET = object()
_COMPILED = _UNSET


def _compiled_haar():
    """:mod:`solver.compiled_haar`, or None where numba is not installed."""
    global _COMPILED
    if _COMPILED is _UNSET:
        try:
            from solver import compiled_haar
        except ImportError:
            compiled_haar = None
        _COMPILED = compiled_haar
    return _COMPILED


def _haar_compiled(kernels, x: torch.Tensor, levels: int, inverse: bool) -> torch.Tensor:
    """The compiled transform of a contiguous CPU tensor, on a zero-copy numpy view, into a
    fresh tensor (allocated by numpy and shared with torch: at N = 128 this and the numpy
    reshapes took 10 us less per call than torch's allocation and reshapes)."""
    if x.requires_grad:
        x = x.detach()
    if x.is_conj() or x.is_neg():
        x = x.resolve_conj().resolve_neg()
    source = x.numpy()
    n = source.shape[-1]
    out = np.empty(source.shape, source.dtype)
    (kernels.haar_synthesis if inverse else kernels.haar_analysis)(
        source.reshape(-1, n, n), out.reshape(-1, n, n), levels)
    return torch.from_numpy(out)


class _HaarFunction(torch.autograd.Function):
    """Haar analysis (``inverse=False``) or synthesis; backward is the other one."""

    @staticmethod
    def forward(ctx, x, wavelet, inverse):
        ctx.wavelet = wavelet
        ctx.inverse = inverse
        return wavelet._haar_apply(x, inverse)

    @staticmethod
    def backward(ctx, grad):
        # real orthogonal map: adjoint = transpose = inverse (also for complex tensors)
        return _HaarFunction.apply(grad.contiguous(), ctx.wavelet, not ctx.inverse), None, None


# ----------------------------------------------------------------------------------
# General orthogonal filter bank (circular convolution + downsampling), plain autograd
# ----------------------------------------------------------------------------------


def _analysis_last_axis(x: torch.Tensor, weight: torch.Tensor, pad: int) -> torch.Tensor:
    """One level along the last axis of a real (B, R, n) tensor -> (B, R, n) = [lo | hi]."""
    b, r, n = x.shape
    u = x.reshape(b * r, 1, n)
    if pad:
        u = F.pad(u, (pad, pad), mode="circular")
    out = F.conv1d(u, weight, stride=2)  # (b*r, 2, n/2)
    return out.reshape(b, r, n)


def _synthesis_last_axis(c: torch.Tensor, weight: torch.Tensor, pad: int) -> torch.Tensor:
    """Adjoint of :func:`_analysis_last_axis`: transposed convolution, then fold the padding."""
    b, r, n = c.shape
    u = c.reshape(b * r, 2, n // 2)
    full = F.conv_transpose1d(u, weight, stride=2)[:, 0]  # (b*r, n + 2*pad)
    x = full[:, pad:pad + n]
    if pad:
        # adjoint of circular padding: the padded copies add back onto their sources
        x = x + F.pad(full[:, pad + n:], (0, n - pad)) + F.pad(full[:, :pad], (n - pad, 0))
    return x.reshape(b, r, n)


def _filter_analysis(x: torch.Tensor, levels: int, weight: torch.Tensor, pad: int) -> torch.Tensor:
    """Real (B, N, N) -> packed coefficients (B, N, N)."""
    cur = x
    bands = []
    for _ in range(levels):
        n = cur.shape[-1]
        h = n // 2
        t = _analysis_last_axis(cur, weight, pad)  # [lo | hi] along columns
        t = _analysis_last_axis(t.transpose(-1, -2), weight, pad).transpose(-1, -2)
        bands.append((t[..., :h, h:], t[..., h:, :h], t[..., h:, h:]))
        cur = t[..., :h, :h]
    block = cur
    for ad, da, dd in reversed(bands):
        block = torch.cat((torch.cat((block, ad), -1), torch.cat((da, dd), -1)), -2)
    return block


def _filter_synthesis(c: torch.Tensor, levels: int, weight: torch.Tensor, pad: int) -> torch.Tensor:
    n = c.shape[-1] >> levels
    cur = c[..., :n, :n]
    for _ in range(levels):
        h = n
        n = 2 * h
        t = torch.cat((torch.cat((cur, c[..., :h, h:n]), -1), c[..., h:n, :n]), -2)
        t = _synthesis_last_axis(t.transpose(-1, -2), weight, pad).transpose(-1, -2)
        cur = _synthesis_last_axis(t, weight, pad)
    return cur


def _complex_to_real_batch(x: torch.Tensor) -> tuple[torch.Tensor, tuple]:
    """(..., N, N) real or complex -> real (B, N, N) and what is needed to undo it."""
    lead = x.shape[:-2]
    n = x.shape[-1]
    if x.is_complex():
        r = torch.view_as_real(x).movedim(-1, -3)  # (..., 2, N, N)
        return r.reshape(-1, n, n), (lead, True)
    return x.reshape(-1, n, n), (lead, False)


def _real_batch_to_input(r: torch.Tensor, info: tuple) -> torch.Tensor:
    lead, was_complex = info
    n = r.shape[-1]
    if was_complex:
        r = r.reshape(*lead, 2, n, n).movedim(-3, -1).contiguous()
        return torch.view_as_complex(r)
    return r.reshape(*lead, n, n)


# ----------------------------------------------------------------------------------
# Public class
# ----------------------------------------------------------------------------------


class Wavelet2D(torch.nn.Module):
    """Orthonormal periodized 2-D DWT (PyWavelets ``mode="periodization"`` layout).

    Parameters
    ----------
    name : str, default "haar"
        Orthogonal PyWavelets wavelet: ``"haar"``, ``"dbK"``, ``"symK"`` or ``"coifK"``.
    levels : int or None, default None
        Number of decomposition levels, in ``1 .. max_levels(name, size)``; None means
        the maximum.
    size : int
        Image side N, a power of two.

    Attributes
    ----------
    name, levels, size : the validated parameters.
    level_map : np.ndarray, int64, shape (N, N)
        0 on the approximation, 1..levels on the detail levels, coarsest to finest.

    Raises
    ------
    ValueError
        For an unknown or non-orthogonal ``wavelet`` name, a ``size`` that is not a power
        of two, or ``levels`` out of range.

    Notes
    -----
    ``forward`` and ``inverse`` accept real or complex tensors (float32, float64,
    complex64, complex128) of shape (..., N, N) and return the same dtype, shape and
    device. Complex input is transformed as real and imaginary parts (the filters are
    real). Both are differentiable. The maximum number of levels is PyWavelets'
    ``dwt_max_level(size, filter_length)``, the depth PyWavelets computes without a
    boundary warning.

    Examples
    --------
    >>> W = Wavelet2D("haar", levels=3, size=64)
    >>> x = torch.rand(64, 64, dtype=torch.float64)
    >>> torch.allclose(W.inverse(W.forward(x)), x)
    True
    """

    def __init__(self, name: str = "haar", levels: int | None = None, size: int | None = None):
        super().__init__()
        w = _check_wavelet_name(name)
        size = _check_size(size)
        max_lv = pywt.dwt_max_level(size, w.dec_len)
        if max_lv < 1:
            raise ValueError(
                f"size {size} is too small for wavelet {name!r} (filter length {w.dec_len})"
            )
        if levels is None:
            levels = max_lv
        if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or not 1 <= levels <= max_lv:
            raise ValueError(
                f"levels must be an integer in [1, {max_lv}] for wavelet {name!r} at size {size}, got {levels!r}"
            )
        self.name = name
        self.levels = int(levels)
        self.size = size
        self._haar = w.short_family_name == "haar" or name == "db1"
        # Reversed filters: conv1d correlates, the DWT convolves (see _analysis_last_axis).
        taps = np.stack([np.asarray(w.dec_lo)[::-1], np.asarray(w.dec_hi)[::-1]])
        self.register_buffer("_weight", torch.tensor(taps.copy(), dtype=torch.float64).unsqueeze(1),
                             persistent=False)
        self._pad = w.dec_len // 2 - 1
        self.level_map = self._build_level_map()
        if self._haar:
            self._build_haar_plan()

    # -- construction helpers ------------------------------------------------------

    @staticmethod
    def max_levels(name: str, size: int) -> int:
        """Largest valid ``levels`` for wavelet ``name`` on images of side ``size``."""
        w = _check_wavelet_name(name)
        return int(pywt.dwt_max_level(_check_size(size), w.dec_len))

    def _build_level_map(self) -> np.ndarray:
        lm = np.zeros((self.size, self.size), dtype=np.int64)
        n = self.size
        for lvl in range(self.levels, 0, -1):  # finest first
            lm[:n, :n] = lvl
            n //= 2
        lm[:n, :n] = 0
        return lm

    def _build_haar_plan(self) -> None:
        fast = 0
        n = self.size
        while fast < self.levels and n > _HAAR_DENSE_SIDE:
            fast += 1
            n //= 2
        tail = self.levels - fast
        m = self.size >> fast
        dense = None
        if tail > 0:
            # Matrix of the last `tail` levels on the (m, m) block, from the filter path.
            eye = torch.eye(m * m, dtype=torch.float64).reshape(m * m, m, m)
            cols = _filter_analysis(eye, tail, self._weight, self._pad)
            dense = cols.reshape(m * m, m * m).T.contiguous()  # column j = W e_j
            # one copy per real dtype: no per-call conversion
            self.register_buffer("_haar_dense64", dense, persistent=False)
            self.register_buffer("_haar_dense32", dense.to(torch.float32), persistent=False)
        self._haar_fast = fast
        # the factors 1/2 left out of the butterflies (see _haar_analysis): 2^-k on the
        # bands of level k (finest k = 1), 2^-fast on the dense tail's block
        finest_first = self.levels + 1 - torch.from_numpy(self.level_map)
        scale = torch.pow(2.0, -finest_first.clamp(max=fast).to(torch.float64))
        # one copy per input dtype, shaped as its real view (a trailing 2 for complex):
        # a same-shape product, no broadcasting and no per-call conversion
        for dtype in _HAAR_DTYPES:
            parts = 2 if dtype.is_complex else 1
            scale_view = scale.unsqueeze(-1).expand(-1, -1, parts).to(_real_dtype(dtype)).contiguous()
            self.register_buffer(f"_haar_scale_{str(dtype).split('.')[-1]}", scale_view, persistent=False)

    # -- transforms ----------------------------------------------------------------

    def _haar_dense(self, dtype: torch.dtype) -> torch.Tensor | None:
        """The dense tail's matrix in the real dtype matching ``dtype`` (None without a tail)."""
        if self._haar_fast == self.levels:
            return None
        return self._haar_dense32 if _real_dtype(dtype) == torch.float32 else self._haar_dense64

    def _haar_transform(self, x: torch.Tensor, inverse: bool) -> torch.Tensor:
        x = x.contiguous()
        if torch.is_grad_enabled() and x.requires_grad:
            return _HaarFunction.apply(x, self, inverse)
        # no graph to record: skip the autograd.Function's own cost (tens of us a call)
        return self._haar_apply(x, inverse)

    def _haar_apply(self, x: torch.Tensor, inverse: bool) -> torch.Tensor:
        """The compiled transform of a CPU tensor where numba is installed, else the torch one."""
        kernels = _compiled_haar() if x.device.type == "cpu" else None
        if kernels is not None:
            return _haar_compiled(kernels, x, self.levels, inverse)
        scale = getattr(self, f"_haar_scale_{str(x.dtype).split('.')[-1]}")
        plan = (self._haar_fast, self._haar_dense(x.dtype), scale)
        return (_haar_synthesis if inverse else _haar_analysis)(x, *plan)

    def _check(self, x, what: str) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
        if x.ndim < 2 or x.shape[-2:] != (self.size, self.size):
            raise ValueError(f"{what} must have shape (..., {self.size}, {self.size}), got {tuple(x.shape)}")
        if x.dtype not in (torch.float32, torch.float64, torch.complex64, torch.complex128):
            raise ValueError(f"{what} must be float32/64 or complex64/128, got {x.dtype}")
        return x

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Analysis: image (..., N, N) -> packed coefficients (..., N, N), same dtype."""
        x = self._check(image, "image")
        if self._haar:
            return self._haar_transform(x, inverse=False)
        r, info = _complex_to_real_batch(x)
        out = _filter_analysis(r, self.levels, self._weight.to(r.dtype), self._pad)
        return _real_batch_to_input(out, info)

    def inverse(self, coeffs: torch.Tensor) -> torch.Tensor:
        """Synthesis (= adjoint): coefficients (..., N, N) -> image (..., N, N), same dtype."""
        c = self._check(coeffs, "coeffs")
        if self._haar:
            return self._haar_transform(c, inverse=True)
        r, info = _complex_to_real_batch(c)
        out = _filter_synthesis(r, self.levels, self._weight.to(r.dtype), self._pad)
        return _real_batch_to_input(out, info)

    adjoint = inverse

    def broadcast_levels(self, values) -> torch.Tensor:
        """Per-level values (length levels + 1, approximation first) -> (N, N) float64 map."""
        v = torch.as_tensor(np.asarray(values, dtype=np.float64))
        if v.shape != (self.levels + 1,):
            raise ValueError(f"values must have length levels + 1 = {self.levels + 1}, got shape {tuple(v.shape)}")
        return v[torch.from_numpy(self.level_map)]

    def extra_repr(self) -> str:
        return f"name={self.name!r}, levels={self.levels}, size={self.size}"


def level_weights(x, wavelet: Wavelet2D, *, threshold: float = 1e-2,
                  domain: str = "coefficients") -> torch.Tensor:
    """Level sparsity weights ``w_j = sqrt(s / s_j)``, broadcast to every coefficient.

    Parameters
    ----------
    x : torch.Tensor or np.ndarray, shape (..., N, N), real or complex
        Wavelet coefficients (``domain="coefficients"``) or an image (``domain="image"``,
        transformed with ``wavelet`` first). Leading dimensions are pooled.
    wavelet : Wavelet2D
        Defines the levels.
    threshold : float, default 1e-2
        A coefficient is significant when ``|c| > threshold * max |c|``; in [0, 1).
    domain : {"coefficients", "image"}
        What ``x`` holds.

    Returns
    -------
    torch.Tensor, shape (N, N), real
        ``w_j`` on every coefficient of level j (0 = approximation). float64 for numpy
        input, else the real dtype matching ``x``; on ``x``'s device.

    Notes
    -----
    ``s_j`` counts the significant coefficients of level j and ``s = sum_j s_j``. A level
    without significant coefficients gets ``s_j = 1`` (weight ``sqrt(s)``, the largest
    possible): it is penalised most but the weight stays finite. An all-zero ``x`` gives
    all-ones weights.
    """
    if not isinstance(wavelet, Wavelet2D):
        raise ValueError(f"wavelet must be a Wavelet2D, got {type(wavelet).__name__}")
    threshold = check_fraction("threshold", threshold, low_open=False, high_open=True)
    check_choice("domain", domain, ("coefficients", "image"))
    t = torch.as_tensor(x)
    if t.ndim < 2 or t.shape[-2:] != (wavelet.size, wavelet.size):
        raise ValueError(f"x must have shape (..., {wavelet.size}, {wavelet.size}), got {tuple(t.shape)}")
    if not (t.is_complex() or t.is_floating_point()):
        t = t.to(torch.float64)
    with torch.no_grad():
        if domain == "image":
            t = wavelet.forward(t)
        mag = t.abs().reshape(-1, wavelet.size, wavelet.size)
        peak = mag.max()
        dtype = _real_dtype(t.dtype)
        if peak == 0:
            return torch.ones(wavelet.size, wavelet.size, dtype=dtype, device=t.device)
        signif = (mag > threshold * peak).sum(0)  # (N, N) counts over the batch
        lm = torch.from_numpy(wavelet.level_map).to(t.device)
        counts = torch.zeros(wavelet.levels + 1, dtype=torch.float64, device=t.device)
        counts.scatter_add_(0, lm.reshape(-1), signif.reshape(-1).to(torch.float64))
        s = counts.sum()
        w = torch.sqrt(s / counts.clamp(min=1.0))
        return w[lm].to(dtype)
