"""Baseline reconstructions on FIRENET's problem, each an unrolled network.

Every class is an ``nn.Module`` with ``forward(y, x0=None, callback=None)`` returning
the real image ``(..., N, N)`` and ``solve`` returning complex wavelet coefficients; the
callback receives the same :class:`solver.firenet.LayerRecord` as FIRENET's, so the
explorer can draw all methods' convergence curves with the same code.

* :class:`ZeroFilled`: ``W^-1 A^* y`` (no layers).
* :class:`ChambollePock`: the primal-dual iteration of FIRENET without restarts or
  rescaling, fixed steps (``tau = sigma = 1``, or a tuned ratio ``tau/sigma``).
* :class:`AdaptiveChambollePock`: the same iteration with no step parameter: the step
  balance is set from the primal and dual moves at moments chosen by the duality gap
  (the adaptive FIRENET schedule without its restarts).
* :class:`FISTA`: accelerated proximal gradient on the matching *squared* LASSO.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from solver.primal_dual import (
    Callback,
    LayerRecord,
    check_measurements,
    check_steps,
    check_weights,
    image_size,
    measurement_count,
    needs_grad,
    primal_dual_block,
    start_coeffs,
    threshold_unit,
    to_image,
)
from solver.objective import wide
from solver.prox import norm_last, soft_threshold
from solver.schedules import AdaptiveRule, adaptive_primal_dual, check_rule
from solver.recipe import LAM
from solver.validation import check_choice, check_int, check_positive

__all__ = [
    "ZeroFilled",
    "zero_filled",
    "ChambollePock",
    "AdaptiveChambollePock",
    "FISTA",
]

OUTPUTS = ("last", "ergodic")

class _Base(nn.Module):
    def __init__(self, A: Any) -> None:
        super().__init__()
        self.A = A
        self.size = image_size(A)
        self.num_measurements = measurement_count(A)

    def forward(self, y: torch.Tensor, x0: Any = None, callback: Callback | None = None) -> torch.Tensor:
        """Reconstructed image, real, shape (..., N, N), real dtype matching ``y``."""
        return to_image(self.A, self.solve(y, x0, callback))


class _Iterative(_Base):
    """An iterative method on the weighted sqrt-LASSO: its lam, depth, ||A|| and l1 weights."""

    def __init__(self, A: Any, lam: float, weights: Any, iterations: int) -> None:
        super().__init__(A)
        self.lam = check_positive("lam", lam)
        self.iterations = check_int("iterations", iterations, low=1)
        self.norm = float(getattr(A, "norm", 1.0))
        self.register_buffer("weights", check_weights(weights, self.size), persistent=False)

    @property
    def depth(self) -> int:
        """Number of layers."""
        return self.iterations


class ZeroFilled(_Base):
    """Zero-filled reconstruction ``W^-1 A^* y`` (the image ``F^* P^* y``).

    The callback, if given, is called once with ``layer = 0`` and ``dual = y/||y||``.
    """

    def solve(self, y: torch.Tensor, x0: Any = None, callback: Callback | None = None) -> torch.Tensor:
        y = check_measurements(y, self.num_measurements)
        coeffs = self.A.adjoint(y)
        if callback is not None:
            z = y / norm_last(y, keepdim=True).clamp(min=torch.finfo(y.real.dtype).tiny)
            callback(LayerRecord(0, 0, coeffs, z, None, coeffs))
        return coeffs


def zero_filled(A: Any) -> ZeroFilled:
    """The zero-filled network for ``A`` (see :class:`ZeroFilled`)."""
    return ZeroFilled(A)


class ChambollePock(_Iterative):
    """Plain Chambolle-Pock on the weighted sqrt-LASSO, unrolled to a fixed depth.

    The same layer as FIRENET (see :mod:`solver.firenet`) with constant steps, dual
    start 0 and no restarts.

    Parameters
    ----------
    A : WaveletMeasurement
    lam : float, default solver.recipe.LAM (2.5e-4)
    weights : array_like, shape broadcastable to (N, N), optional
    iterations : int, default 500
        Depth (number of layers), >= 1.
    tau, sigma : float, optional
        Steps (default 1 each); ``tau sigma ||A||^2 <= 1``.
    ratio : float, optional
        Step ratio ``tau/sigma`` with ``tau sigma = 1/||A||^2``: ``tau = sqrt(ratio)``,
        ``sigma = 1/sqrt(ratio)`` (for ``||A|| = 1``). Cannot be combined with ``tau`` or
        ``sigma``. :data:`solver.legacy.CP_FIXED_RATIO` lists values measured on one problem family.
    output : {"last", "ergodic"}, default "last"
        The last iterate (converges much faster here) or the ergodic average.
    """

    def __init__(
        self,
        A: Any,
        lam: float = LAM,
        weights: Any = None,
        iterations: int = 500,
        tau: float | None = None,
        sigma: float | None = None,
        ratio: float | None = None,
        output: str = "last",
    ) -> None:
        super().__init__(A, lam, weights, iterations)
        norm = self.norm
        if ratio is not None:
            if tau is not None or sigma is not None:
                raise ValueError("ratio cannot be combined with tau or sigma")
            if not ratio > 0:
                raise ValueError(f"ratio must be > 0, got {ratio}")
            tau = math.sqrt(ratio) / norm
            sigma = 1.0 / (math.sqrt(ratio) * norm)
        tau = 1.0 if tau is None else tau
        sigma = 1.0 if sigma is None else sigma
        check_steps(tau, sigma, norm)
        self.tau = float(tau)
        self.sigma = float(sigma)
        self.ratio = None if ratio is None else float(ratio)
        self.output = check_choice("output", output, OUTPUTS)

    def extra_repr(self) -> str:
        return (
            f"N={self.size}, lam={self.lam:g}, iterations={self.iterations}, "
            f"tau={self.tau:.4g}, sigma={self.sigma:.4g}, output={self.output!r}"
        )

    def solve(self, y: torch.Tensor, x0: Any = None, callback: Callback | None = None) -> torch.Tensor:
        """Complex wavelet coefficients after ``iterations`` layers (see FIRENET.solve)."""
        y = check_measurements(y, self.num_measurements)
        thr_unit = threshold_unit(self.lam, self.weights, y)
        x = start_coeffs(self.A, x0, y.shape[:-1], y.dtype, y.device)
        inplace = not needs_grad(y, x, self.weights)
        ax = torch.zeros_like(y) if (inplace and x0 is None) else None
        result = primal_dual_block(
            self.A, y, x, torch.zeros_like(y), tau=self.tau, sigma=self.sigma, thr_unit=thr_unit,
            layers=self.iterations, output=self.output, callback=callback, inplace=inplace, ax=ax,
        )
        return result.out


class AdaptiveChambollePock(_Iterative):
    """Chambolle-Pock on the weighted sqrt-LASSO with no step parameter.

    Over-relaxed steps ``tau = 1/(omega ||A||)``, ``sigma = omega/||A||`` from
    ``omega = min(1, ||lam w||_2) / ||y||``, as in the adaptive FIRENET schedule
    (:mod:`solver.schedules`); at the moments that schedule would restart, ``omega``
    moves halfway (in log scale) to the ratio of the dual and primal moves since the
    previous such moment, and the iteration simply continues. It replaces the per-size
    tables :data:`solver.legacy.CP_FIXED_RATIO` / ``CP_FIXED_RATIO_UNIFORM``. The output is
    the point of lowest objective certified at the checks so far (never a later worse one);
    the records carry it, its certified gap (``gap``, in double precision) and the best dual
    point (``dual``).

    Parameters
    ----------
    A : WaveletMeasurement
    lam : float, default solver.recipe.LAM (2.5e-4)
    weights : array_like, shape broadcastable to (N, N), optional
    iterations : int, default 500
        Depth, >= 1.
    target_gap : float, keyword-only, optional
        Stop once the certified relative gap is at most this, > 0.
    rule : AdaptiveRule, keyword-only, optional
        When to update the step balance (:data:`solver.schedules.ADAPTIVE_RULE`).
    """

    def __init__(
        self,
        A: Any,
        lam: float = LAM,
        weights: Any = None,
        iterations: int = 500,
        *,
        target_gap: float | None = None,
        rule: AdaptiveRule | None = None,
    ) -> None:
        super().__init__(A, lam, weights, iterations)
        self.target_gap = None if target_gap is None else check_positive("target_gap", target_gap)
        self.rule = check_rule(rule)

    def extra_repr(self) -> str:
        return f"N={self.size}, lam={self.lam:g}, iterations={self.iterations}, target_gap={self.target_gap}"

    def solve(self, y: torch.Tensor, x0: Any = None, callback: Callback | None = None) -> torch.Tensor:
        """Complex wavelet coefficients after ``iterations`` layers (see FIRENET.solve)."""
        y = check_measurements(y, self.num_measurements)
        thr_unit = threshold_unit(self.lam, self.weights, wide(y))  # float64: the certificate's
        x = start_coeffs(self.A, x0, y.shape[:-1], y.dtype, y.device)
        return adaptive_primal_dual(
            self.A, y, x, thr_unit, max_layers=self.iterations, norm=self.norm, restart=False,
            rule=self.rule, target_gap=self.target_gap, callback=callback,
            inplace=not needs_grad(y, x, self.weights),
        )


class FISTA(_Iterative):
    """FISTA on the squared LASSO ``lam2 ||x||_{1,w} + 1/2 ||A x - y||^2``.

    Matching: the KKT conditions of the sqrt-LASSO at its minimiser ``x*`` with
    residual ``r = ||A x* - y|| > 0`` read ``A^*(y - A x*) in lam r d||x*||_{1,w}``, which
    are the squared LASSO's with ``lam2 = lam r``: both problems then share the
    minimiser. So pass ``residual`` (the expected data misfit, e.g. the noise norm
    ``||e||``) and ``lam2 = lam * residual``. When the sqrt-LASSO fits the data exactly
    (``r = 0``, which happens whenever ``lam ||w||_2 < 1``) no ``lam2 > 0`` matches; the
    squared LASSO approaches the same basis-pursuit solution as ``lam2 -> 0`` but
    converges more slowly. Default: ``residual = 0.01 ||y||`` per batch element.

    Parameters
    ----------
    A : WaveletMeasurement
    lam : float, default solver.recipe.LAM (2.5e-4)
        The sqrt-LASSO weight being matched.
    weights : array_like, optional
    iterations : int, default 500
    residual : float, optional
        Data misfit ``r`` used in the matching ``lam2 = lam r``.
    lam2 : float, optional
        Set ``lam2`` directly (cannot be combined with ``residual``).

    Notes
    -----
    Step ``1/||A||^2``, momentum ``t_{k+1} = (1 + sqrt(1 + 4 t_k^2))/2`` (Beck and
    Teboulle 2009). One ``A`` and one ``A^*`` per layer. The records' ``dual`` is the
    residual ``y - A v`` at the extrapolated point, a sqrt-LASSO dual candidate.
    """

    def __init__(
        self,
        A: Any,
        lam: float = LAM,
        weights: Any = None,
        iterations: int = 500,
        residual: float | None = None,
        lam2: float | None = None,
    ) -> None:
        super().__init__(A, lam, weights, iterations)
        if residual is not None and lam2 is not None:
            raise ValueError("pass residual or lam2, not both")
        if residual is not None and not residual > 0:
            raise ValueError(f"residual must be > 0, got {residual}")
        if lam2 is not None and not lam2 > 0:
            raise ValueError(f"lam2 must be > 0, got {lam2}")
        self.residual = None if residual is None else float(residual)
        self.lam2 = None if lam2 is None else float(lam2)

    def _lam2(self, y: torch.Tensor) -> torch.Tensor:
        if self.lam2 is not None:
            return torch.full(y.shape[:-1], self.lam2, dtype=y.real.dtype, device=y.device)
        if self.residual is not None:
            r = torch.full(y.shape[:-1], self.residual, dtype=y.real.dtype, device=y.device)
        else:
            r = 0.01 * norm_last(y)
        return self.lam * r

    def solve(self, y: torch.Tensor, x0: Any = None, callback: Callback | None = None) -> torch.Tensor:
        """Complex wavelet coefficients after ``iterations`` layers."""
        y = check_measurements(y, self.num_measurements)
        real = y.real.dtype
        step = 1.0 / self.norm**2
        thr = step * self._lam2(y)[..., None, None]
        if self.weights is not None:
            thr = thr * self.weights.to(device=y.device, dtype=real)
        x = start_coeffs(self.A, x0, y.shape[:-1], y.dtype, y.device)
        v = x
        t = 1.0
        for k in range(self.iterations):
            resid = y - self.A.forward(v)
            x_new = soft_threshold(v + step * self.A.adjoint(resid), thr)
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            v = torch.lerp(x_new, x, (1.0 - t) / t_new)  # x_new + (t-1)/t_new (x_new - x)
            x, t = x_new, t_new
            if callback is not None:
                if callback(LayerRecord(k + 1, 0, x, resid, None, x)) is True:
                    break
        return x
