"""The weighted square-root LASSO objective and a duality-gap certificate.

The problem, over wavelet coefficients ``x`` (complex, shape ``(..., N, N)``)::

    minimise  F(x) = lam * ||x||_{1,w} + ||A x - y||_2

with ``||x||_{1,w} = sum_i w_i |x_i|``. Its dual is::

    maximise  D(z) = Re<z, y>   subject to  ||z||_2 <= 1,  |(A^* z)_i| <= lam * w_i

so for every dual-feasible ``z``, ``D(z) <= F* <= F(x)`` and ``F(x) - D(z)`` bounds the
true gap ``F(x) - F*`` from above without knowing the minimiser.

The feasible set is invariant under multiplication by any complex number of modulus
one, so ``|<z, y>|`` (after rescaling ``z`` into the set) is also a dual value; this makes
the certificate independent of the sign convention of whichever primal-dual method
produced ``z``.

Both values are evaluated in double precision whatever the input's dtype: the point is
cast to complex128 (exactly: every complex64 number is a complex128 one) and ``A`` is
applied and every sum accumulated there. In single precision the residual
``A x - y`` of a good point is a difference of two vectors of norm ``||y||``, and
``||y|| / F*`` was 150-460 on five problems at N = 32 and 64, where ``F`` computed in
float32 lay 2.3e-5 to 2e-4 of ``F*`` below its value (measured), so a gap computed from it
was no bound at all. Cast up, the rounding left is about 1e-16 ``||y||``: the certificate
is an upper bound to far below :data:`SINGLE_PRECISION_FLOOR`, near which single-precision
runs stall.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch

from solver.primal_dual import threshold_unit
from solver.prox import norm_last, squared_magnitude
from solver.validation import check_int

__all__ = [
    "SINGLE_PRECISION_FLOOR",
    "objective",
    "certified_gap",
    "record_metrics",
    "relative_gap",
    "dual_value",
    "polish_dual",
    "weighted_l1",
    "wide",
    "GapReport",
    "GapTracker",
]


#: Relative gap that single-precision (complex64) runs of the adaptive FIRENET certify
#: on every problem measured, and near which they stall: in float32 the dual step's
#: residual ``A x - y`` is rounding noise of about 1e-7 ``||y||``, hundreds of times
#: ``F*``, so the iterates stop improving there. Measured with the certificate evaluated
#: in double precision (this module), N = 32-256, Shepp-Logan, 25 % sampling, 1,000
#: layers: the certified gap stalls at 8.0e-5 on the page's default problem (N = 256,
#: multilevel, level weights; 3.5e-6 after the last layer's dual polish), 1.8e-5 at
#: N = 64 (multilevel, unit weights), 9.5e-6 at N = 32 (variable density, level
#: weights); the data-consistent output: 8.2e-5 (6.1e-6), 2.8e-5, 1.2e-5
#: (``benchmarks/tightness_certificates.py --floor``). On the 27 multilevel and uniform
#: problems of the certificate's property test (N = 16-64, random ellipses, complex64) it
#: is below this by layer 400 on every one and stalls between 4.1e-6 and 5.6e-5
#: (``--floor --property-problems``). A smaller target gap may never be met in single
#: precision; double precision certifies down to about 1e-12.
SINGLE_PRECISION_FLOOR = 1e-4


class GapReport(NamedTuple):
    """Objective value and certified gap of one primal-dual pair.

    Attributes
    ----------
    objective : torch.Tensor, shape (...), float64
        ``F(x)``.
    gap : torch.Tensor, shape (...), float64
        ``F(x) - D(z_feasible) >= F(x) - F*``.
    dual_value : torch.Tensor, shape (...), float64
        ``D(z_feasible) <= F*``.
    """

    objective: torch.Tensor
    gap: torch.Tensor
    dual_value: torch.Tensor


def _as_weights(weights: Any, coeffs: torch.Tensor) -> torch.Tensor | None:
    if weights is None:
        return None
    w = torch.as_tensor(weights, device=coeffs.device)
    return w.to(coeffs.real.dtype)


def _check_lam(lam: float) -> None:
    if not lam > 0:
        raise ValueError(f"lam must be > 0, got {lam}")


#: Double-precision dtype of each single- or half-precision one.
_WIDE = {torch.complex64: torch.complex128, torch.float32: torch.float64, torch.float16: torch.float64,
         torch.bfloat16: torch.float64}


def wide(t: torch.Tensor) -> torch.Tensor:
    """``t`` in double precision (complex128 or float64); ``t`` itself if it already is.

    Casting up is exact, so the wide tensor is the same point, and what is computed from it
    carries double-precision rounding only.
    """
    dtype = _WIDE.get(t.dtype)
    return t if dtype is None else t.to(dtype)


def _primal_wide(A: Any, coeffs: torch.Tensor, y_wide: torch.Tensor, thr_wide: torch.Tensor) -> torch.Tensor:
    """``F(x) = sum lam w |x| + ||A x - y||`` with ``x`` cast to double precision, ``A``
    applied there; ``y_wide`` and ``thr_wide = lam w`` already in double precision."""
    x = wide(coeffs)
    return (x.abs() * thr_wide).sum(dim=(-2, -1)) + norm_last(A.forward(x) - y_wide)


def _dual_wide(A: Any, z: torch.Tensor, y_wide: torch.Tensor, inv_thr2_wide: torch.Tensor) -> torch.Tensor:
    """:func:`dual_value` of ``z`` cast to double precision, ``A^*`` applied there;
    ``inv_thr2_wide = 1 / (lam w)^2`` in double precision."""
    z = wide(z)
    return _dual_from_adjoint(z, A.adjoint(z), y_wide, inv_thr2_wide)


def weighted_l1(coeffs: torch.Tensor, weights: Any = None) -> torch.Tensor:
    """``sum_i w_i |x_i|`` over the last two dims.

    Parameters
    ----------
    coeffs : torch.Tensor, shape (..., N, N), complex or real
    weights : array_like, shape broadcastable to (N, N), optional
        Unit weights when ``None``.

    Returns
    -------
    torch.Tensor, shape (...), real dtype of ``coeffs``
    """
    a = coeffs.abs()
    w = _as_weights(weights, coeffs)
    if w is not None:
        a = a * w
    return a.sum(dim=(-2, -1))


def objective(
    coeffs: torch.Tensor, y: torch.Tensor, A: Any, lam: float, weights: Any = None
) -> torch.Tensor:
    """The weighted square-root LASSO objective ``lam ||x||_{1,w} + ||A x - y||_2``.

    Parameters
    ----------
    coeffs : torch.Tensor, shape (..., N, N), complex
        Wavelet coefficients ``x``.
    y : torch.Tensor, shape (..., M), complex
        Measurements.
    A : WaveletMeasurement
        Anything with ``forward(coeffs) -> (..., M)``.
    lam : float
        Sparsity weight, > 0.
    weights : array_like, shape broadcastable to (N, N), optional
        Per-coefficient weights ``w_i`` (unit weights when ``None``).

    Returns
    -------
    torch.Tensor, shape (...), float64
        ``F(x)`` per batch element, evaluated in double precision (see the module
        docstring).

    Raises
    ------
    ValueError
        If ``lam <= 0``.
    """
    _check_lam(lam)
    y = wide(y)
    return _primal_wide(A, coeffs, y, threshold_unit(lam, _as_weights(weights, y), y))


def dual_value(z: torch.Tensor, y: torch.Tensor, A: Any, lam: float, weights: Any = None) -> torch.Tensor:
    """Dual value of ``z`` after rescaling it into the dual-feasible set.

    ``z`` is multiplied by ``s = min(1, 1/||z||, min_i lam w_i / |(A^* z)_i|)`` (the
    largest factor keeping it feasible) and by the unit complex number that makes
    ``<z, y>`` real and non-negative; the value is ``s |<z, y>|``.

    Parameters
    ----------
    z : torch.Tensor, shape (..., M), complex
        Any vector in measurement space (e.g. a primal-dual method's dual iterate).
    y : torch.Tensor, shape (..., M), complex
    A : WaveletMeasurement
        Anything with ``adjoint(y) -> (..., N, N)``.
    lam : float
    weights : array_like, shape broadcastable to (N, N), optional

    Returns
    -------
    torch.Tensor, shape (...), float64
        A lower bound on ``F*``, evaluated in double precision (see the module
        docstring).
    """
    _check_lam(lam)
    y = wide(y)
    return _dual_wide(A, z, y, threshold_unit(lam, _as_weights(weights, y), y).reciprocal().square())


def _dual_from_adjoint(z: torch.Tensor, atz: torch.Tensor, y: torch.Tensor, inv_thr2: torch.Tensor,
                       factor: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`dual_value` of ``factor z`` from a known ``A^* z``.

    ``z`` is rescaled by the largest factor keeping it feasible,
    ``min(1, 1/||z||, min_i lam w_i / |(A^* z)_i|)``. ``inv_thr2`` is ``1 / (lam w)^2``:
    the largest ratio ``|A^* z| / (lam w)`` is the root of the largest squared one, so no
    complex ``abs`` (several times slower per entry than ``re^2 + im^2``) is taken.
    ``factor`` (per batch element) scales ``z`` without a copy of ``A^* z`` (a running
    average is a sum times ``1/count``).
    """
    # largest s with s |A^* z|_i <= lam w_i for every i
    ratio = squared_magnitude(atz).mul_(inv_thr2).amax(dim=(-2, -1)).sqrt()
    norm, inner = norm_last(z), (z.conj() * y).sum(dim=-1).abs()
    if factor is not None:
        ratio, norm, inner = ratio * factor, norm * factor, inner * factor
    return inner / torch.maximum(torch.maximum(ratio, norm), torch.ones_like(ratio))


@torch.no_grad()
def _polish(A: Any, z: torch.Tensor, atz: torch.Tensor, y: torch.Tensor, thr_unit: torch.Tensor,
            gap: torch.Tensor, *, iterations: int, rounds: int, norm: float = 1.0,
            band: float = 1e-2) -> tuple[torch.Tensor, torch.Tensor]:
    """A dual point near ``z`` with a higher certified value; returns ``(z', D(z'))``.

    Rescaling ``z`` into the feasible set (:func:`dual_value`) costs ``D`` times its
    largest violation ``max_i |A^* z|_i / (lam w_i) - 1``. Where the dual optimum has
    many active bounds (radial and line masks: more than there are measurements) the
    iterates approach it with violations spread over the whole active set, and that
    factor, not the distance to the optimum, sets the certificate. Each round asks for the
    gap's worth of dual ascent, ``c = k y`` (phase of ``<z, y>``, ``k ||y||^2 = F - D``),
    and then removes the violations with the smallest correction: with ``u = A^* z``,
    ``s = u/|u|`` and ``S`` the near-active coefficients (``|u| >= (1 - band) lam w``),
    the moduli move to first order by ``B d = Re(conj(s) A^* d)`` on ``S``, and
    ``min ||d - c||`` subject to ``B d <= lam w - |u|`` is solved through its dual, a
    non-negative least-squares problem in ``mu`` (``d = c - A(s mu)``), by ``iterations``
    accelerated projected-gradient steps (step ``1/||A||^2``; one ``A`` and one ``A^*``
    each). The result is rescaled into the feasible set like any other candidate, so it
    is a valid lower bound whatever the linearisation misses; per batch element the better
    of ``z`` and the polished point is returned.
    """
    best_z = z
    inv_thr2 = thr_unit.reciprocal().square()
    best_d = _dual_from_adjoint(z, atz, y, inv_thr2)
    primal = best_d + gap
    y_norm2 = norm_last(y) ** 2
    aty = A.adjoint(y)
    step = 1.0 / norm**2
    tiny = torch.finfo(y_norm2.dtype).tiny
    for _ in range(rounds):
        inner = (z.conj() * y).sum(dim=-1)
        phase = torch.where(inner.abs() > 0, inner.conj() / inner.abs().clamp(min=tiny), torch.ones_like(inner))
        k = (gap.clamp(min=0) / y_norm2.clamp(min=tiny)) * phase
        c, atc = k[..., None] * y, k[..., None, None] * aty
        modulus = atz.abs()
        near = modulus >= (1.0 - band) * thr_unit
        s = torch.where(near, atz / modulus.clamp(min=tiny), torch.zeros_like(atz))
        h = torch.where(near, thr_unit - modulus - (s.conj() * atc).real, torch.zeros_like(modulus))
        mu = torch.zeros_like(modulus)
        momentum, t_k = mu, 1.0
        for _ in range(iterations):
            grad = (s.conj() * A.adjoint(A.forward(s * momentum))).real + h
            new = (momentum - step * grad).clamp(min=0.0)
            t_next = (1.0 + math.sqrt(1.0 + 4.0 * t_k * t_k)) / 2.0
            momentum = new + ((t_k - 1.0) / t_next) * (new - mu)
            mu, t_k = new, t_next
        z = z + c - A.forward(s * mu)
        atz = A.adjoint(z)
        value = _dual_from_adjoint(z, atz, y, inv_thr2)
        better = value > best_d
        best_d = torch.where(better, value, best_d)
        best_z = torch.where(better[..., None], z, best_z)
        gap = primal - best_d  # the next round asks for what is left
    return best_z, best_d


def polish_dual(z: torch.Tensor, y: torch.Tensor, A: Any, lam: float, weights: Any = None, *,
                coeffs: torch.Tensor, iterations: int = 30, rounds: int = 2) -> torch.Tensor:
    """A dual candidate at least as good as ``z`` for the certificate of ``coeffs``.

    Moves ``z`` by the gap's worth of dual ascent along ``y`` and removes the resulting and
    existing violations of ``|A^* z| <= lam w`` by the smallest correction, to first order
    in the moduli of the near-active coefficients (a non-negative least-squares problem),
    ``rounds`` times with ``iterations`` accelerated projected-gradient steps each, one
    ``A`` and one ``A^*`` per step. Useful where :func:`dual_value` is limited by ``z``'s
    violations (rescaling costs their size in full) rather than by its distance to the
    optimum, as on radial and line masks.

    Parameters
    ----------
    z : torch.Tensor, shape (..., M), complex
        Dual candidate (e.g. a record's ``dual``).
    y : torch.Tensor, shape (..., M), complex
    A : WaveletMeasurement
        With ``A A^* = I`` (``||A|| = 1``).
    lam : float
    weights : array_like, shape broadcastable to (N, N), optional
    coeffs : torch.Tensor, shape (..., N, N), complex, keyword-only
        The primal point to certify; its gap sets the ascent step.
    iterations : int
        Projected-gradient steps per round (>= 1).
    rounds : int
        Linearise-and-correct rounds (>= 1).

    Returns
    -------
    torch.Tensor, shape (..., M), complex
        ``z'`` with ``dual_value(z') >= dual_value(z)`` per batch element.
    """
    _check_lam(lam)
    check_int("iterations", iterations, low=1)
    check_int("rounds", rounds, low=1)
    atz = A.adjoint(z)
    thr_unit = threshold_unit(lam, _as_weights(weights, atz), atz)
    gap = (objective(coeffs, y, A, lam, weights) - dual_value(z, y, A, lam, weights)).to(atz.real.dtype)
    return _polish(A, z, atz, y, thr_unit, gap.detach(), iterations=iterations, rounds=rounds)[0]


def certified_gap(
    coeffs: torch.Tensor,
    z: torch.Tensor,
    y: torch.Tensor,
    A: Any,
    lam: float,
    weights: Any = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Duality gap ``F(x) - D(z)``, an upper bound on ``F(x) - F*``.

    Parameters
    ----------
    coeffs : torch.Tensor, shape (..., N, N), complex
        Primal point ``x``.
    z : torch.Tensor, shape (..., M), complex
        Any dual candidate; it is rescaled into the feasible set (see
        :func:`dual_value`). For a restarted, rescaled problem (data ``alpha y``) the dual
        iterate is still a valid candidate, because the feasible set does not depend on
        ``y``.
    y : torch.Tensor, shape (..., M), complex
    A : WaveletMeasurement
    lam : float
    weights : array_like, shape broadcastable to (N, N), optional

    Returns
    -------
    gap : torch.Tensor, shape (...), real
        ``F(x) - D(z) >= F(x) - F* >= 0`` (up to rounding).
    dual_value : torch.Tensor, shape (...), real
        ``D(z) <= F*``.
    """
    f = objective(coeffs, y, A, lam, weights)
    d = dual_value(z, y, A, lam, weights)
    return f - d, d


def relative_gap(value: torch.Tensor | float, reference: torch.Tensor | float) -> Any:
    """``(F - F*) / F*``, the relative objective gap used throughout the project."""
    return (value - reference) / reference


def record_metrics(record: Any, y: torch.Tensor, A: Any, lam: float, weights: Any = None) -> GapReport:
    """Objective and certified gap of a per-layer record from a network callback.

    Parameters
    ----------
    record : LayerRecord
        Anything with ``coeffs`` (primal, (..., N, N)) and ``dual`` (z, (..., M)).
    y, A, lam, weights
        The problem the network solves (``y`` unscaled, even for FIRENET's restarts).

    Returns
    -------
    GapReport
        ``(objective, gap, dual_value)``, in double precision; the relative certified gap
        is ``gap / dual_value`` (an upper bound on ``(F - F*)/F*`` when
        ``dual_value > 0``). Records of the adaptive FIRENET schedule and of
        :class:`solver.baselines.AdaptiveChambollePock` carry the gap and dual value the
        network evaluated (in double precision, for the record's ``coeffs`` and its best
        dual point ``dual``); they are returned as they are, with no ``A`` applied.
    """
    bound = getattr(record, "dual_value", None)
    if record.gap is not None and bound is not None:
        return GapReport(record.gap + bound, record.gap, bound)  # evaluated by the network already
    with torch.no_grad():
        f = objective(record.coeffs, y, A, lam, weights)
        d = dual_value(record.dual, y, A, lam, weights)
    return GapReport(f, f - d, d)


class GapTracker:
    """Certified gaps along a run, using the best dual value seen so far.

    ``D(z) <= F*`` for every dual-feasible ``z``, so the largest dual value over all
    layers is still a lower bound on ``F*``, and ``F(x_k) - max_{j <= k} D(z_j)``
    certifies the current primal point. This matters for FIRENET: its dual iterate is
    reset to 0 at every restart and, late in a run, the dual step is so large that
    ``z`` is close to the normalised residual, a poor certificate on its own.

    Measured on the explorer's default problem (N = 256, multilevel 25 %, level weights,
    Shepp-Logan): FIRENET with :data:`solver.firenet.RECOMMENDED` reaches a true relative
    gap of 6e-6 in 300 layers, but its best dual value stays 25 % below F* (the running
    average of its duals: 8 %), so its own certificate reads ~0.4. Tuned-ratio
    Chambolle-Pock's dual converges (1e-13 certified). A dual value from any run on the
    same ``y`` certifies every method's primal point: pass it as ``lower_bound``.

    Parameters
    ----------
    y, A, lam, weights
        The problem (as in :func:`record_metrics`).
    lower_bound : float or torch.Tensor, optional
        A known lower bound on ``F*`` (e.g. the best :func:`dual_value` of another run
        on the same data), shape broadcastable to ``y.shape[:-1]``.

    Examples
    --------
    >>> tracker = GapTracker(y, A, lam)                     # doctest: +SKIP
    >>> net.solve(y, callback=lambda r: print(r.layer, tracker(r).gap))  # doctest: +SKIP
    """

    def __init__(self, y: torch.Tensor, A: Any, lam: float, weights: Any = None,
                 lower_bound: Any = None) -> None:
        _check_lam(lam)
        self.y, self.A, self.lam, self.weights = y, A, lam, weights
        self.best_dual: torch.Tensor | None = None
        if lower_bound is not None:
            self.best_dual = torch.as_tensor(lower_bound, dtype=y.real.dtype, device=y.device)

    def __call__(self, record: Any) -> GapReport:
        """Objective, certified gap and best dual value after this record."""
        report = record_metrics(record, self.y, self.A, self.lam, self.weights)
        d = report.dual_value
        self.best_dual = d if self.best_dual is None else torch.maximum(self.best_dual, d)
        return GapReport(report.objective, report.objective - self.best_dual, self.best_dual)
