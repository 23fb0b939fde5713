"""The primal-dual layer shared by FIRENET and the Chambolle-Pock baselines.

One *layer* is one Chambolle-Pock step for the weighted square-root LASSO::

    x_new = soft(x - tau A^* z, tau lam w)                 # complex soft threshold
    z     = proj_{||z|| <= 1}(z + sigma (A (2 x_new - x) - y))

This module holds what every unrolled method on that problem shares: the per-layer
record a callback receives (:class:`LayerRecord`), a block of layers with fixed steps
(:func:`primal_dual_block`) and the checks and conversions around a run (the problem's
size and measurement count, weights, measurements, starting point, output image).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import numpy as np
import torch

from solver import wavelets as _wavelets
from solver.prox import extrapolate, project_ball, project_ball_, soft_threshold, soft_threshold_

__all__ = [
    "LayerRecord",
    "Callback",
    "BlockResult",
    "primal_dual_block",
    "step_",
    "image_size",
    "measurement_count",
    "complex_dtype",
    "check_weights",
    "check_measurements",
    "check_steps",
    "start_coeffs",
    "threshold_unit",
    "needs_grad",
    "to_image",
]


@dataclass(frozen=True)
class LayerRecord:
    """What a network reports after each layer (cheap: references, little extra work).

    Attributes
    ----------
    layer : int
        Number of layers applied so far (1 after the first layer).
    restart : int
        Index of the restart (block) this layer belongs to, from 0 (for the adaptive
        schedule: the number of restarts so far, the largest over a batch).
    coeffs : torch.Tensor, shape (..., N, N), complex
        The network's output if it stopped here, in wavelet coefficients: the running
        ergodic average of the current block, or the current iterate for
        ``output="last"``; for the adaptive schedule, the point with the lowest objective
        (so the smallest certified gap) among those it certified at its checks so far.
        Unscaled.
    dual : torch.Tensor, shape (..., M), complex
        A dual point ``z`` (||z|| <= 1). Rescaled into the dual-feasible set it certifies
        a gap for ``y`` (see :func:`solver.objective.certified_gap`). For the fixed
        schedule it is the dual iterate, reset every restart, and a weak certificate (see
        :class:`solver.objective.GapTracker`); for the adaptive schedule it is the dual
        point with the largest dual value so far, which certifies ``coeffs`` tightly.
    eps : torch.Tensor or None, shape (...), real
        The accuracy target ``eps_k`` of this restart (``None`` for methods without a
        fixed restart schedule).
    iterate : torch.Tensor, shape (..., N, N), complex
        The current primal iterate ``x`` (equals ``coeffs`` for ``output="last"``).
    gap : torch.Tensor or None, shape (...), float64
        The method's own certified gap ``F(coeffs) - D(dual) >= F(coeffs) - F*``,
        evaluated in double precision (adaptive schedule; ``None`` for methods that do
        not compute one).
    dual_value : torch.Tensor or None, shape (...), float64
        ``D(dual)`` in double precision, the lower bound on ``F*`` behind ``gap`` (``None``
        with it).
    """

    layer: int
    restart: int
    coeffs: torch.Tensor
    dual: torch.Tensor
    eps: torch.Tensor | None
    iterate: torch.Tensor
    gap: torch.Tensor | None = None
    dual_value: torch.Tensor | None = None


Callback = Callable[[LayerRecord], Any]


def _shares_memory(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


def step_(A: Any, x: torch.Tensor, ax: torch.Tensor, z: torch.Tensor, atz: torch.Tensor, tau: Any, sigma: Any,
          thr: torch.Tensor, sy: torch.Tensor, one: torch.Tensor, *, overwrite_atz: bool
          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One primal-dual step without autograd, fused in place: ``(x', A x', z')``.

    ``x' = soft(x - tau A^* z, thr)``, ``z' = proj_ball(z + sigma A(2 x' - x) - sy)`` from
    known ``A x`` and ``A^* z`` (``A(2 x' - x) = 2 A x' - A x``). ``x'`` is written into
    ``atz``'s buffer when ``overwrite_atz`` (the caller no longer needs it), else into a
    fresh one; ``tau`` and ``sigma`` may be plain floats (fused updates) or tensors.
    """
    x_new = _compiled_primal_step(x, atz, tau, thr, overwrite_atz)
    if x_new is None:
        if isinstance(tau, float):
            u = torch.add(x, atz, alpha=-tau, out=atz) if overwrite_atz else torch.add(x, atz, alpha=-tau)
        else:
            u = (atz.mul_(-tau) if overwrite_atz else atz.mul(-tau)).add_(x)
        x_new = soft_threshold_(u, thr, one)
    ax_new = A.forward(x_new)
    v = extrapolate(ax, ax_new)
    if isinstance(sigma, float):
        v = torch.add(z, v, alpha=sigma, out=v).sub_(sy)
    else:
        v = v.mul_(sigma).sub_(sy).add_(z)
    return x_new, ax_new, project_ball_(v)


def _compiled_step_kernels():
    """:mod:`solver.compiled_step` where the compiled kernels are in use (the switch of
    :mod:`solver.wavelets`: numba installed and not turned off), else None."""
    global _COMPILED_STEP
    if _wavelets._compiled_haar() is None:
        return None
    if _COMPILED_STEP is None:
        from solver import compiled_step

        _COMPILED_STEP = compiled_step
    return _COMPILED_STEP


_COMPILED_STEP = None


def _compiled_primal_step(x: torch.Tensor, atz: torch.Tensor, tau: Any, thr: torch.Tensor, overwrite_atz: bool
                          ) -> torch.Tensor | None:
    """``soft(x - tau atz, thr)`` by the compiled loop (:mod:`solver.compiled_step`: one pass
    instead of seven torch calls, the same numbers up to the sign of zeros), into ``atz``
    with ``overwrite_atz``; None where it does not apply (numba missing or turned off, a
    tensor ``tau``, a batched threshold, non-contiguous, real or non-CPU data)."""
    if not isinstance(tau, float) or x.device.type != "cpu" or not x.is_complex() or x.dtype != atz.dtype:
        return None
    if x.shape != atz.shape or not (x.is_contiguous() and atz.is_contiguous()) or x.is_conj() or atz.is_conj():
        return None
    if thr.numel() == 1:
        threshold = float(thr)
    elif thr.shape == x.shape[-2:] and thr.is_contiguous() and thr.dtype == x.real.dtype:
        threshold = thr.numpy().reshape(-1)
    else:
        return None
    kernels = _compiled_step_kernels()
    if kernels is None:
        return None
    width = 2 * x.shape[-2] * x.shape[-1]
    source = torch.view_as_real(x).numpy().reshape(-1, width)
    step = torch.view_as_real(atz).numpy().reshape(-1, width)
    if overwrite_atz:
        kernels.soft_step(source, step, None, tau, threshold)
        return atz
    out = np.empty(tuple(x.shape) + (2,), source.dtype)  # numpy's allocation: cheaper than torch's
    kernels.soft_step(source, step, out.reshape(-1, width), tau, threshold)
    return torch.view_as_complex(torch.from_numpy(out))


class BlockResult(NamedTuple):
    """What :func:`primal_dual_block` returns."""

    out: torch.Tensor  # block output (ergodic average or last iterate), (..., N, N)
    x: torch.Tensor  # last primal iterate
    z: torch.Tensor  # last dual iterate, (..., M)
    stopped: bool  # whether the callback asked to stop
    a_out: torch.Tensor | None  # A(out) when known (in-place path), else None


def primal_dual_block(
    A: Any,
    y: torch.Tensor,
    x: torch.Tensor,
    z: torch.Tensor,
    *,
    tau: float | torch.Tensor,
    sigma: float | torch.Tensor,
    thr_unit: torch.Tensor,
    layers: int,
    output: str = "ergodic",
    callback: Callback | None = None,
    layer_offset: int = 0,
    restart: int = 0,
    eps: torch.Tensor | None = None,
    inplace: bool = False,
    ax: torch.Tensor | None = None,
) -> BlockResult:
    """Run ``layers`` Chambolle-Pock steps with fixed steps from ``(x, z)`` on data ``y``.

    Parameters
    ----------
    A : WaveletMeasurement
        ``forward(coeffs (..., N, N)) -> (..., M)`` and ``adjoint``.
    y : torch.Tensor, shape (..., M), complex
    x : torch.Tensor, shape (..., N, N), complex
        Starting primal point.
    z : torch.Tensor, shape (..., M), complex
        Starting dual point.
    tau, sigma : float or torch.Tensor
        Step sizes; tensors broadcast as (..., 1, 1) and (..., 1).
    thr_unit : torch.Tensor, broadcastable to (..., N, N), real
        ``lam * w``; the threshold is ``tau * thr_unit``.
    layers : int
    output : {"ergodic", "last"}
    callback : callable, optional
        Called with a :class:`LayerRecord` after every layer; returning ``True`` stops
        the run after that layer.
    layer_offset, restart, eps
        Bookkeeping passed into the records.
    inplace : bool
        Reuse freshly allocated buffers in place (only valid when no gradient is
        needed). This path also forms ``A(2 x_new - x) = 2 A x_new - A x`` in
        measurement space (a quarter of the entries at 25 % sampling), keeping ``A x``
        from the previous layer, so each layer still applies ``A`` and ``A^*`` once.
    ax : torch.Tensor, shape (..., M), optional
        ``A x`` for the starting ``x`` (in-place path; computed here when ``None``).

    Returns
    -------
    BlockResult
        ``(out, x, z, stopped, a_out)``.
    """
    ergodic = output == "ergodic"
    thr, sy, one = _block_constants(x, y, tau, sigma, thr_unit)
    if inplace and ax is None:
        ax = A.forward(x)
    total = a_total = None  # running sums of the ergodic average (of x and of A x)
    count, stop = 0, False
    for count in range(1, layers + 1):
        if inplace:
            x, ax, z = _layer_inplace(A, x, ax, z, tau, sigma, thr, sy, one)
            if ergodic:
                total, a_total = _accumulate(total, x, True), _accumulate(a_total, ax, True)
        else:
            x, z = _layer(A, x, z, tau, sigma, thr, sy)
            if ergodic:
                total = _accumulate(total, x, False)
        if callback is not None:
            current = total / count if ergodic else x
            stop = callback(LayerRecord(layer_offset + count, restart, current, z, eps, x)) is True
            if stop:
                break
    return _block_result(x, z, ax if inplace else None, total, a_total, count, stop)


def _block_constants(x: torch.Tensor, y: torch.Tensor, tau: Any, sigma: Any, thr_unit: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The block's fixed threshold ``tau lam w``, dual bias ``sigma y`` and a real one."""
    thr = tau * thr_unit
    if not torch.is_tensor(thr):
        thr = torch.as_tensor(thr)
    thr = thr.to(device=x.device, dtype=x.real.dtype)
    one = torch.ones((), dtype=thr.dtype, device=thr.device)
    return thr, sigma * y, one


def _layer(A: Any, x: torch.Tensor, z: torch.Tensor, tau: Any, sigma: Any, thr: torch.Tensor, sy: torch.Tensor
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """One differentiable layer: ``(x', z')``."""
    x_new = soft_threshold(x - tau * A.adjoint(z), thr)
    v = z + (sigma * A.forward(extrapolate(x, x_new)) - sy)
    return x_new, project_ball(v)


def _layer_inplace(A: Any, x: torch.Tensor, ax: torch.Tensor, z: torch.Tensor, tau: Any, sigma: Any,
                   thr: torch.Tensor, sy: torch.Tensor, one: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One layer without autograd, in fresh buffers reused in place: ``(x', A x', z')``."""
    atz = A.adjoint(z)
    if _shares_memory(atz, z):  # an operator may return its input's storage; z is still needed
        atz = atz.clone()
    return step_(A, x, ax, z, atz, tau, sigma, thr, sy, one, overwrite_atz=True)


def _accumulate(total: torch.Tensor | None, new: torch.Tensor, inplace: bool) -> torch.Tensor:
    """``total + new`` (a copy of ``new`` to start with), in ``total``'s buffer when ``inplace``."""
    if total is None:
        return new.clone() if inplace else new
    return total.add_(new) if inplace else total + new


def _block_result(x: torch.Tensor, z: torch.Tensor, ax: torch.Tensor | None, total: torch.Tensor | None,
                  a_total: torch.Tensor | None, count: int, stop: bool) -> BlockResult:
    """The block's output: the ergodic average over ``count`` layers, or the last iterate."""
    if total is None:  # output="last", or no layer run
        return BlockResult(x, x, z, stop, ax)
    return BlockResult(total / count, x, z, stop, a_total / count if a_total is not None else None)


def measurement_count(A: Any) -> int:
    """Number of measurements ``M`` of ``A`` (or of its sampling operator)."""
    for owner in (A, getattr(A, "sampling", None)):
        if owner is None:
            continue
        m = getattr(owner, "num_measurements", None)
        if m is not None:
            return int(m)
        mask = getattr(owner, "mask", None)
        if mask is not None:
            return int(torch.as_tensor(mask).sum())
    raise ValueError("A must expose num_measurements (or a sampling operator with a mask)")


def image_size(A: Any) -> int:
    """Image side ``N`` of ``A`` (or of its sampling or wavelet operator)."""
    for owner in (A, getattr(A, "sampling", None), getattr(A, "wavelet", None)):
        if owner is not None and getattr(owner, "size", None) is not None:
            return int(owner.size)
    raise ValueError("A must expose size (or a sampling operator with a size)")


def complex_dtype(t: torch.Tensor) -> torch.dtype:
    """The complex dtype matching ``t`` (complex128 for float64, else complex64)."""
    if t.is_complex():
        return t.dtype
    return torch.complex128 if t.dtype == torch.float64 else torch.complex64


def check_weights(weights: Any, size: int) -> torch.Tensor | None:
    """Validate per-coefficient weights; return a float64 tensor or ``None``."""
    if weights is None:
        return None
    w = torch.as_tensor(weights)
    if w.is_complex():
        raise ValueError(f"weights must be real, got dtype {w.dtype}")
    w = w.to(torch.float64)
    try:
        torch.broadcast_shapes(w.shape, (size, size))
    except RuntimeError:
        raise ValueError(
            f"weights must broadcast to ({size}, {size}), got shape {tuple(w.shape)}"
        ) from None
    if not bool(torch.all(w > 0)) or not bool(torch.all(torch.isfinite(w))):
        raise ValueError("weights must be finite and > 0")
    return w


def check_measurements(y: Any, m: int) -> torch.Tensor:
    """Validate ``y`` (last dim ``m``) and return it as a complex tensor."""
    if not torch.is_tensor(y):
        y = torch.as_tensor(y)
    if y.dim() < 1 or y.shape[-1] != m:
        raise ValueError(
            f"y must have shape (..., {m}) (one entry per sample), got {tuple(y.shape)}"
        )
    return y.to(complex_dtype(y))


def check_steps(tau: float, sigma: float, norm: float) -> None:
    """``tau, sigma > 0`` with ``tau sigma ||A||^2 <= 1`` (the convergence condition)."""
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    if tau * sigma * norm**2 > 1.0 + 1e-9:
        raise ValueError(
            f"tau*sigma*||A||^2 must be <= 1 for convergence, got tau={tau}, sigma={sigma}, "
            f"||A||={norm} (product {tau * sigma * norm**2:.6g})"
        )


def threshold_unit(lam: float, weights: torch.Tensor | None, y: torch.Tensor) -> torch.Tensor:
    """``lam * w`` (or ``lam`` for unit weights) in the real dtype and on the device of ``y``:
    the soft threshold per unit primal step."""
    real = y.real.dtype
    if weights is not None:
        return lam * weights.to(device=y.device, dtype=real)
    return torch.as_tensor(lam, dtype=real, device=y.device)


def start_coeffs(A: Any, x0: Any, batch: torch.Size, dtype: torch.dtype, device: Any) -> torch.Tensor:
    """Wavelet coefficients of the starting image (zeros when ``x0`` is ``None``)."""
    n = image_size(A)
    if x0 is None:
        return torch.zeros(batch + (n, n), dtype=dtype, device=device)
    x0 = torch.as_tensor(x0, device=device)
    if x0.dim() < 2 or tuple(x0.shape[-2:]) != (n, n):
        raise ValueError(f"x0 must be an image of shape (..., {n}, {n}), got {tuple(x0.shape)}")
    c = A.wavelet.forward(x0.to(dtype))
    return c.expand(torch.broadcast_shapes(c.shape, batch + (n, n)))


def needs_grad(*tensors: Any) -> bool:
    """Whether autograd must see the computation (else in-place buffers are used)."""
    if not torch.is_grad_enabled():
        return False
    return any(torch.is_tensor(t) and t.requires_grad for t in tensors)


def to_image(A: Any, coeffs: torch.Tensor) -> torch.Tensor:
    """Real part of ``W^-1 coeffs``, shape (..., N, N)."""
    return A.wavelet.inverse(coeffs).real
