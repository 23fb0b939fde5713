"""Restart schedules of the primal-dual networks: the paper's fixed clock and an adaptive one.

Fixed (Colbrook, Antun and Hansen, PNAS 2022): restart ``k`` has the accuracy target
``eps_k = nu (delta + eps_{k-1})`` (:func:`restart_targets`) and runs ``p`` layers with
steps set from ``eps_k``; the schedule never looks at the iterate.

Adaptive (:func:`adaptive_primal_dual`): over-relaxed primal-dual steps: from the state
``(x, z)`` a layer takes one step ``tau = 1/(omega ||A||)``, ``sigma = omega/||A||`` (so
``tau sigma ||A||^2 = 1``) to ``(x', z')`` and moves the state ``relaxation`` (1.9) of the
way there; the dual is never reset. The primal weight starts at
``omega = min(1, ||lam w||_2) / ||y||``, the ratio of a bound on the dual optimum's norm
(``||z*|| <= 1`` and ``|A^* z*| <= lam w`` with ``A A^* = I``) to the primal's scale,
within 2x of the measured ``||z*|| / ||x*||`` on the test problems. Every
``check_every`` layers the duality gap ``F(x) - D(z)`` (``D`` of ``z`` rescaled into the
dual-feasible set, as in :mod:`solver.objective`) is evaluated for the last step's
output and for the running average of the outputs since the last restart; the one with
the smaller gap is the *candidate*. The iteration restarts from the candidate when its
gap has fallen to ``sufficient`` (0.2) times the gap at the last restart, or to
``necessary`` (0.8) times it and rose since the previous check, or when the layers since
the last restart exceed ``artificial`` (0.36) of all layers so far. At a restart the
primal weight moves halfway (in log scale) towards the ratio of the dual and primal moves
since the last restart, ``omega <- exp(0.5 log(dz/dx) + 0.5 log omega)``. These are the
restart rules and the primal-weight update of PDLP (Applegate et al., NeurIPS 2021;
Applegate, Hinder, Lu and Lubin, Math. Program. 2023), with the problem's own duality gap
in place of the normalised one: the sqrt-LASSO's dual is explicit, so every check yields
a certificate. Relaxation in (0, 2) keeps the primal-dual (Douglas-Rachford) iteration
convergent; 1.9 took 1.5-2x fewer layers than plain steps (1.0) to a certified 1e-6 on
every test problem. Optionally (``data_consistent``) the candidate is also corrected onto
``{A x = y}``, ``x + A^*(y - A x)`` (one ``A^*`` per check), which has no residual and
beats the candidate whenever ``lam ||w||_2 <= 1``; its objective then converges faster
than the dual can certify it.

The gaps that choose the candidate and the restarts are computed in the working
precision from the kept ``A x`` and ``A^* z``. What is returned and certified is evaluated
in double precision (:mod:`solver.objective`: in single precision ``F`` can read 2e-4 of
``F*`` low): at every check the candidate's objective (one ``A``), and, when a record or a
target reads the certificate, the better of the two dual points (one ``A^*``). The output
is the point of lowest such objective over all checks so far, and with it the smallest
certified gap against the best dual value: a restart moves the iterate, never the output,
and more layers never return a worse one.

Where the dual optimum has more active bounds ``|A^* z| = lam w`` than there are
measurements (radial, line and spiral masks) the dual iterates approach it with small
violations spread over all of them, and rescaling into the feasible set costs their size
in full. There the best dual is polished (:func:`solver.objective.polish_dual`: a gap's
worth of dual ascent, then the smallest linearised correction of the violations, 2 rounds
of 30 steps of one ``A`` and one ``A^*``) at the last layer, and with a target gap also at
checks while that work stays within 10 % of the layers so far; only where the rescaling
costs more than half the certificate, and only when a record or a target reads the
certificate (never inside an attack's forward passes, nor where the records only report
progress: ``certificate=False``). It changes the certificate and the early stop, never
the iterates.

Every decision is a per-batch-element comparison of gaps evaluated without gradient, so
the network is a deterministic, piecewise smooth function of ``y``: gradients flow
through the iterates and through ``omega`` (a smooth function of the iterates between
decisions), a batch gives the same numbers as its elements one by one, and ``A x`` and
``A^* z`` of every layer are kept (the relaxation is linear, so they follow without
applying ``A``), so a check costs no extra application of ``A``.

Mixed precision (``rule.mixed_precision``): single-precision data asked for a target gap
below :data:`solver.objective.SINGLE_PRECISION_FLOOR` is iterated in single precision
until the certified gap reaches that floor, or stops halving over ``stall_checks`` checks,
and in double precision from then on (the state cast up exactly, the steps and restart
state kept). The output and the best dual point stay in the data's dtype: each candidate
is rounded to it and certified as rounded (the rounding costs about 1e-7 of ``F*``).
Single precision alone stalls above 1e-6 on such problems (the residual's rounding
noise, 1e-7 ``||y||``, is hundreds of times ``F*``); on BART's N = 256 problem at
lam = 0.004 and 0.001 the mixed run certified 1e-6 in 290 and 280 layers where complex128
took 230 and complex64 did not get there in 1,500 (docs/performance.md). Targets at or above the floor, and double-precision
data, never switch: those runs are the single-precision ones bit for bit.

The run is written as named steps, as sigpy's ``Alg`` and deepinv's iterators: the
constants of a run (:class:`_Problem`) and its changing state (:class:`_State`); a layer
(:func:`_advance`); a check (:func:`_check`: the candidate, the output, the best dual, its
polish, the target and restart tests, the restart); and the record (:func:`_record`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch

from solver.objective import SINGLE_PRECISION_FLOOR, _dual_from_adjoint, _dual_wide, _polish, _primal_wide, wide
from solver.primal_dual import Callback, LayerRecord, step_
from solver.prox import extrapolate, lerp, lerp_, norm_last, project_ball, soft_threshold, squared_magnitude
from solver.validation import check_fraction, check_int

__all__ = ["restart_targets", "AdaptiveRule", "ADAPTIVE_RULE", "check_rule", "adaptive_primal_dual"]


def restart_targets(eps0: torch.Tensor, *, nu: float, delta: float, restarts: int) -> list[torch.Tensor]:
    """The paper's accuracy targets ``eps_k = nu (delta + eps_{k-1})``, ``k = 1 .. restarts``.

    Parameters
    ----------
    eps0 : torch.Tensor, shape (...), real
        Initial target (FIRENET: ``||y||`` per batch element).
    nu : float
        Restart factor in (0, 1).
    delta : float
        Accuracy floor, >= 0.
    restarts : int

    Returns
    -------
    list of torch.Tensor, each shaped like ``eps0``
    """
    targets = []
    eps = eps0
    for _ in range(restarts):
        eps = nu * (delta + eps)
        targets.append(eps)
    return targets


@dataclass(frozen=True)
class AdaptiveRule:
    """Constants of the adaptive schedule (PDLP's values; none depends on the problem).

    Attributes
    ----------
    check_every : int
        Layers between gap checks (>= 1).
    sufficient : float
        Restart when the candidate's gap is at most this times the gap at the last restart.
    necessary : float
        ... or at most this times it and larger than at the previous check.
    artificial : float
        ... or when the layers since the last restart exceed this fraction of all layers.
    smoothing : float
        Weight of the new ``log(dz/dx)`` in the primal-weight update, in [0, 1].
    relaxation : float
        Each layer moves the state this fraction of the way to the primal-dual step's
        output, in (0, 2); 1 is the plain step.
    data_consistent : bool
        Also certify the candidate corrected onto ``{A x = y}`` (one ``A^*`` per check)
        and output it where its objective is lower.
    polish_iterations : int
        Steps per round of :func:`solver.objective.polish_dual` applied to the best dual
        at the last layer (and, with a target gap, at checks while its work stays within
        ``polish_share`` of the layers so far); 0 turns it off.
    polish_rounds : int
        Its rounds (>= 1).
    polish_share : float
        Work of the polishing before the last layer, as a fraction of the layers so far
        (one step = one ``A`` and one ``A^*``, as a layer).
    mixed_precision : bool
        With single-precision data and a target gap below
        :data:`solver.objective.SINGLE_PRECISION_FLOOR`, iterate in single precision until
        the certified gap reaches that floor or stalls, then continue in double precision
        (the output keeps the data's dtype); ``False`` keeps the data's precision throughout.
    stall_checks : int
        The certificate has stalled when it has not halved over this many checks (>= 1).
    """

    check_every: int = 10
    sufficient: float = 0.2
    necessary: float = 0.8
    artificial: float = 0.36
    smoothing: float = 0.5
    relaxation: float = 1.9
    data_consistent: bool = False
    polish_iterations: int = 30
    polish_rounds: int = 2
    polish_share: float = 0.1
    mixed_precision: bool = True
    stall_checks: int = 10

    def __post_init__(self) -> None:
        check_int("check_every", self.check_every, low=1)
        check_fraction("sufficient", self.sufficient, high_open=True)
        check_fraction("necessary", self.necessary, high_open=True)
        check_fraction("artificial", self.artificial)
        check_fraction("smoothing", self.smoothing, low_open=False)
        relaxation = self.relaxation
        if isinstance(relaxation, bool) or not isinstance(relaxation, (int, float)) or not 0.0 < relaxation < 2.0:
            raise ValueError(f"relaxation must be a number in (0, 2), got {relaxation!r}")
        if not isinstance(self.data_consistent, bool):
            raise ValueError(f"data_consistent must be True or False, got {self.data_consistent!r}")
        check_int("polish_iterations", self.polish_iterations, low=0)
        check_int("polish_rounds", self.polish_rounds, low=1)
        check_fraction("polish_share", self.polish_share, low_open=False)
        if not isinstance(self.mixed_precision, bool):
            raise ValueError(f"mixed_precision must be True or False, got {self.mixed_precision!r}")
        check_int("stall_checks", self.stall_checks, low=1)
        if self.sufficient > self.necessary:
            raise ValueError(f"sufficient must be <= necessary, got {self.sufficient} > {self.necessary}")


#: The default rule.
ADAPTIVE_RULE = AdaptiveRule()


def check_rule(rule: Any) -> AdaptiveRule:
    """``rule`` if it is an :class:`AdaptiveRule`, :data:`ADAPTIVE_RULE` for ``None``."""
    if rule is None:
        return ADAPTIVE_RULE
    if not isinstance(rule, AdaptiveRule):
        raise ValueError(f"rule must be an AdaptiveRule, got {type(rule).__name__}")
    return rule


def _norm2d(v: torch.Tensor) -> torch.Tensor:
    """l2 norm over the last two dims (real view for complex input)."""
    if v.is_complex():
        v = torch.view_as_real(v)
        return torch.linalg.vector_norm(v, dim=(-3, -2, -1))
    return torch.linalg.vector_norm(v, dim=(-2, -1))


def _weighted_l1(x, thr_unit):
    """``sum lam w |x|`` over the last two dims (no autograd)."""
    return squared_magnitude(x).sqrt_().mul_(thr_unit).sum(dim=(-2, -1))


def _primal_value(x, ax, y, thr_unit):
    """``F(x) = sum lam w |x| + ||A x - y||`` from a known ``A x`` (no autograd)."""
    return _weighted_l1(x, thr_unit) + norm_last(ax - y)


def _pick(mask: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a`` where the per-element ``mask`` holds, else ``b`` (mask shape = batch shape).

    Where the mask is the same for the whole batch (always for one problem) and ``a``,
    ``b`` match in shape and dtype, this is ``a`` or ``b`` itself, not a copy.
    """
    if a.shape == b.shape and a.dtype == b.dtype:
        if bool(mask.all()):
            return a
        if not bool(mask.any()):
            return b
    return torch.where(mask.reshape(mask.shape + (1,) * (max(a.dim(), b.dim()) - mask.dim())), a, b)


def _step(A, x, ax, z, atz, tau, sigma, thr, sy, one, *, inplace: bool, reuse_atz: bool):
    """One primal-dual step from ``(x, z)`` with known ``A x``, ``A^* z``.

    ``x' = soft(x - tau A^* z, tau lam w)``, ``z' = proj_ball(z + sigma (A(2 x' - x) - y))``;
    returns ``(x', A x', z', A^* z')``. In place (no gradient) it writes into fresh
    buffers, and with ``reuse_atz`` into the buffer of ``A^* z`` (which the caller no
    longer needs); ``tau``, ``sigma`` may then be plain floats.
    """
    if not inplace:
        x_new = soft_threshold(x - tau * atz, thr)
        ax_new = A.forward(x_new)
        z_new = project_ball(z + (sigma * extrapolate(ax, ax_new) - sy))
        return x_new, ax_new, z_new, A.adjoint(z_new)
    x_new, ax_new, z_new = step_(A, x, ax, z, atz, tau, sigma, thr, sy, one, overwrite_atz=reuse_atz)
    atz_new = A.adjoint(z_new)
    if atz_new.untyped_storage().data_ptr() == z_new.untyped_storage().data_ptr():
        atz_new = atz_new.clone()  # the next step may write into this buffer: it must not be z's
    return x_new, ax_new, z_new, atz_new


def adaptive_primal_dual(
    A: Any,
    y: torch.Tensor,
    x: torch.Tensor,
    thr_unit: torch.Tensor,
    *,
    max_layers: int,
    norm: float = 1.0,
    omega: float | None = None,
    restart: bool = True,
    rule: AdaptiveRule = ADAPTIVE_RULE,
    target_gap: float | None = None,
    callback: Callback | None = None,
    inplace: bool = False,
    certificate: bool | None = None,
) -> torch.Tensor:
    """Primal-dual iteration with restarts and step balance chosen by the duality gap.

    Parameters
    ----------
    A : WaveletMeasurement
        ``forward``, ``adjoint``, with ``A A^* = I`` (every operator of
        :mod:`solver.operators`); the data-consistent candidate relies on it.
    y : torch.Tensor, shape (..., M), complex
    x : torch.Tensor, shape (..., N, N), complex
        Starting point (the dual starts at 0).
    thr_unit : torch.Tensor, broadcastable to (..., N, N), real
        ``lam * w``; the iteration uses it in the real dtype of ``y``, the certificate in
        double precision (pass it in float64 so that the certificate is for the exact
        weights).
    max_layers : int
        Depth (>= 1).
    norm : float
        ``||A||``.
    omega : float, optional
        Initial primal weight (``tau = 1/(omega ||A||)``, ``sigma = omega/||A||``);
        ``min(1, ||lam w||_2) / ||y||`` per batch element when ``None``.
    restart : bool
        Restart the iterate from the candidate (FIRENET's adaptive schedule); with
        ``False`` only the step balance is updated at the same moments and the iterate
        continues (parameter-free Chambolle-Pock).
    rule : AdaptiveRule
    target_gap : float, optional
        Stop once every batch element's certified relative gap ``(F - D)/D`` of its
        output is at most this (an element that reached it keeps its output from then
        on). Below :data:`solver.objective.SINGLE_PRECISION_FLOOR`, single-precision data
        is iterated in double precision from the floor on (``rule.mixed_precision``).
    callback : callable, optional
        Called with a :class:`solver.primal_dual.LayerRecord` after every layer (the
        output so far as ``coeffs``, the best dual point as ``dual``, their ``gap`` and
        ``dual_value`` in double precision); returning ``True`` stops after that layer.
    inplace : bool
        Reuse buffers in place (only when no gradient is needed).
    certificate : bool, optional
        Whether the records carry the certificate (the best dual point, one ``A^*`` in
        double precision per check, polished at the last layer); default: with a callback.
        ``False`` where records report progress alone (``dual`` stays 0, ``gap`` = ``F``);
        a target always reads it. The output is the same either way.

    Returns
    -------
    torch.Tensor, shape (..., N, N)
        The output: of the points certified at the checks so far (at each, the better
        certified of the iterate and the running average, or its data-consistent
        correction), the one with the lowest objective evaluated in double precision, so
        the smallest certified gap; a later check replaces it only by a lower one.
    """
    pb = _problem(A, y, thr_unit, norm=norm, rule=rule, restart=restart, target_gap=target_gap,
                  certificate_read=_reads_certificate(certificate, callback, target_gap), inplace=inplace)
    st = _start(pb, x, omega)
    for layer in range(1, max_layers + 1):
        new = _advance(pb, st)
        if layer % rule.check_every == 0 or layer == max_layers:
            pb = _check(pb, st, new, layer, last=layer == max_layers)
        stop = st.any_done and bool(st.done.all())
        if callback is not None and callback(_record(pb, st, new, layer)) is True:
            stop = True
        if stop:
            break
    return st.held


def _reads_certificate(certificate: bool | None, callback: Callback | None, target_gap: float | None) -> bool:
    """Whether the run evaluates (and polishes) its dual side: for a target, and for the
    records unless ``certificate`` is False."""
    if certificate is not None and not isinstance(certificate, bool):
        raise ValueError(f"certificate must be True, False or None, got {certificate!r}")
    if target_gap is not None:
        return True
    return callback is not None if certificate is None else certificate


@dataclass(frozen=True)
class _Problem:
    """What a run does not change: the operator, the data and thresholds in the working
    precision and (``*_wide``) in double precision for the certificate, and the options."""

    A: Any
    y: torch.Tensor
    thr_unit: torch.Tensor
    inv_thr2: torch.Tensor
    one: torch.Tensor
    aty: torch.Tensor | None  # A^* y, for the data-consistent candidate
    y_wide: torch.Tensor
    thr_wide: torch.Tensor
    inv_thr2_wide: torch.Tensor
    norm: float
    rule: AdaptiveRule
    restart: bool
    target_gap: float | None
    # the dual side serves the certificate alone (the output does not depend on it): its
    # evaluation and polish are skipped when no record or target reads it, e.g. inside an
    # attack's forward passes
    certificate_read: bool
    inplace: bool
    out_dtype: torch.dtype  # of the data: the output and the best dual point keep it
    # certified relative gap at which single precision hands over to double (None: never)
    widen_at: float | None = None

    @property
    def real(self) -> torch.dtype:
        return self.y.real.dtype


def _problem(A, y, thr_unit, **options) -> _Problem:
    """The run's constants; ``lam w`` as given for the certificate (pass it in float64)."""
    real, device = y.real.dtype, y.device
    # the certificate's copies in double precision (see solver.objective): the given
    # lam w as it is, y cast up exactly
    thr_wide = wide(torch.as_tensor(thr_unit, device=device))
    thr_unit = torch.as_tensor(thr_unit, dtype=real, device=device)
    aty = A.adjoint(y) if options["rule"].data_consistent else None
    target = options["target_gap"]
    mixed = options["rule"].mixed_precision and target is not None and target < SINGLE_PRECISION_FLOOR
    return _Problem(A, y, thr_unit, thr_unit.reciprocal().square(), torch.ones((), dtype=real, device=device), aty,
                    wide(y), thr_wide, thr_wide.reciprocal().square(), **options, out_dtype=y.dtype,
                    widen_at=SINGLE_PRECISION_FLOOR if mixed and wide(y) is not y else None)


@dataclass
class _State:
    """What a run changes: the state ``(x, z)`` with its ``A x``, ``A^* z``; the running sums
    since the last restart (of the steps' outputs and their ``A x``, ``A^* z``) and their
    count; the restart anchors, primal weight and steps; the gaps the restart rule compares;
    and the output (``held``, its objective ``held_f``) with the best dual point ``best_z``
    and its value ``best_d`` (both in double precision)."""

    x: torch.Tensor
    ax: torch.Tensor
    z: torch.Tensor
    atz: torch.Tensor
    sums: list[torch.Tensor]  # sx, sax, sz, satz
    count: torch.Tensor  # layers since the last restart, up to the last check
    anchor_x: torch.Tensor
    anchor_z: torch.Tensor
    omega: torch.Tensor
    steps: tuple[Any, Any, torch.Tensor, torch.Tensor]  # tau, sigma, tau lam w, sigma y
    gap_restart: torch.Tensor
    held: torch.Tensor
    held_f: torch.Tensor
    gap_prev: torch.Tensor
    best_z: torch.Tensor
    best_d: torch.Tensor
    done: torch.Tensor
    restarts: torch.Tensor
    pending: int = 0  # layers since the last check, added to count at the next check
    any_done: bool = False
    polish_work: int = 0  # layers' worth of A and A^* spent polishing the dual
    owned: bool = False  # whether x, ax, z, atz are buffers no caller or record can see
    gaps: list[float] = dataclasses.field(default_factory=list)  # certified, at checks (mixed precision)


class _Step(NamedTuple):
    """The output ``(x', A x', z', A^* z')`` of a layer's primal-dual step."""

    x: torch.Tensor
    ax: torch.Tensor
    z: torch.Tensor
    atz: torch.Tensor


def _steps(pb: _Problem, omega: torch.Tensor) -> tuple[Any, Any, torch.Tensor, torch.Tensor]:
    """tau, sigma, the threshold tau lam w and the dual bias sigma y for the primal weight."""
    tau = (1.0 / (omega * pb.norm))[..., None, None]
    sigma = (omega / pb.norm)[..., None]
    thr, sy = tau * pb.thr_unit, sigma * pb.y
    if pb.inplace and omega.dim() == 0:  # plain floats let the layer fuse its updates
        return float(tau), float(sigma), thr, sy
    return tau, sigma, thr, sy


def _initial_omega(pb: _Problem, x: torch.Tensor, omega: float | None) -> torch.Tensor:
    """The given primal weight per batch element, or ``min(1, ||lam w||_2) / ||y||``."""
    if omega is not None:
        return torch.full(pb.y.shape[:-1], float(omega), dtype=pb.real, device=pb.y.device)
    # omega balances the distances to a solution, ||z* - 0|| / ||x* - x0||: the dual
    # optimum lies in the unit ball and has |A^* z*| <= lam w, so (A A^* = I) its norm
    # is at most min(1, ||lam w||_2); the primal scales with ||y||. The ratio keeps
    # the network positively homogeneous (f(s y) = s f(y)).
    dual_bound = torch.linalg.vector_norm(pb.thr_unit.expand(x.shape[-2:])).clamp(max=1.0)
    return dual_bound / norm_last(pb.y).clamp(min=torch.finfo(pb.real).tiny)


def _start(pb: _Problem, x: torch.Tensor, omega: float | None) -> _State:
    """The state at ``x`` with the dual at 0; the output is ``x``, certified by ``D(0) = 0``."""
    y, A = pb.y, pb.A
    batch = y.shape[:-1]
    x = x.expand(batch + x.shape[-2:]).clone() if x.shape[:-2] != batch else x
    omega_t = _initial_omega(pb, x, omega)
    z = torch.zeros_like(y)
    atz = torch.zeros_like(x)
    if x.requires_grad or bool(x.any()):
        ax = A.forward(x)
        with torch.no_grad():
            gap_restart = _primal_value(x, ax, y, pb.thr_unit)  # D(0) = 0
            held_f = _primal_wide(A, x, pb.y_wide, pb.thr_wide)
    else:
        # the usual start at 0 (FIRENET without x0): A 0 = 0 and F(0) = ||y||, the same
        # numbers as applying A (up to the sign of zeros), without two applications of A
        # (one of them in double precision): a tenth of a 20-layer run
        ax = torch.zeros_like(y)
        with torch.no_grad():
            gap_restart = norm_last(y)
            held_f = norm_last(pb.y_wide)
    device = y.device
    return _State(
        x, ax, z, atz, sums=[torch.zeros_like(t) for t in (x, ax, z, atz)],
        count=torch.zeros(batch, dtype=pb.real, device=device), anchor_x=x, anchor_z=z, omega=omega_t,
        steps=_steps(pb, omega_t), gap_restart=gap_restart, held=x, held_f=held_f,
        gap_prev=torch.full_like(gap_restart, math.inf), best_z=z, best_d=torch.zeros_like(held_f),
        done=torch.zeros(batch, dtype=torch.bool, device=device),
        restarts=torch.zeros(batch, dtype=torch.long, device=device))


def _advance(pb: _Problem, st: _State) -> _Step:
    """A layer: the primal-dual step from the state, added to the running sums; the state
    moves ``relaxation`` of the way to the step's output (in place where it owns its buffers)."""
    relaxation = pb.rule.relaxation
    new = _Step(*_step(pb.A, st.x, st.ax, st.z, st.atz, *st.steps, pb.one, inplace=pb.inplace,
                       reuse_atz=relaxation == 1.0))
    if pb.inplace:
        for total, t in zip(st.sums, new):
            total.add_(t)
    else:
        st.sums = [total + t for total, t in zip(st.sums, new)]
    if relaxation == 1.0:
        st.x, st.ax, st.z, st.atz = new
    elif pb.inplace and st.owned:
        for state, step in ((st.x, new.x), (st.ax, new.ax), (st.z, new.z), (st.atz, new.atz)):
            lerp_(state, step, relaxation)
    else:
        st.x, st.ax = lerp(st.x, new.x, relaxation), lerp(st.ax, new.ax, relaxation)
        st.z, st.atz = lerp(st.z, new.z, relaxation), lerp(st.atz, new.atz, relaxation)
        st.owned = True  # fresh buffers of this loop alone: the next layers update them in place
    st.pending += 1
    return new


class _Candidate(NamedTuple):
    """A check's candidate: the better (by the working precision's gap) of the last step's
    output and the running average, with its gap, objective and ``A x``; the two dual values
    (``d_avg`` of the average, scaled by ``inv = 1 / count``) and ``out``, the point offered
    as the output (the candidate, or its data-consistent correction where that is lower)."""

    use_avg: torch.Tensor
    averaged: bool
    inv: torch.Tensor
    gap: torch.Tensor
    x: torch.Tensor
    ax: torch.Tensor
    d_cur: torch.Tensor
    d_avg: torch.Tensor
    out: torch.Tensor


def _candidate(pb: _Problem, st: _State, new: _Step) -> _Candidate:
    """The check's candidate from the last step and the running sums (no ``A`` applied,
    one ``A^*`` for the data-consistent correction)."""
    y, thr_unit = pb.y, pb.thr_unit
    sx, sax, sz, satz = st.sums
    inv = 1.0 / st.count
    with torch.no_grad():
        # gaps of the last step's point and of the average (from the sums: no A)
        f_cur = _primal_value(new.x, new.ax, y, thr_unit)
        d_cur = _dual_from_adjoint(new.z, new.atz, y, pb.inv_thr2)
        f_avg = _weighted_l1(sx, thr_unit) * inv + norm_last(sax * inv[..., None] - y)
        d_avg = _dual_from_adjoint(sz, satz, y, pb.inv_thr2, inv)
        use_avg = (f_avg - d_avg) < (f_cur - d_cur)
        g_cand = torch.where(use_avg, f_avg - d_avg, f_cur - d_cur)
        f_cand = torch.where(use_avg, f_avg, f_cur)
    averaged = bool(use_avg.any())
    if averaged:
        cand_x = _pick(use_avg, sx * inv[..., None, None], new.x)
        cand_ax = _pick(use_avg, sax * inv[..., None], new.ax)
    else:
        cand_x, cand_ax = new.x, new.ax
    out = cand_x
    if pb.aty is not None:
        # the candidate moved onto {A x = y}: x + A^*(y - A x) has no residual
        # (A A^* = I), so its objective is lam ||x||_{1,w} alone; it is the better
        # point when the residual costs more than the l1 norm it would add (always
        # when lam ||w||_2 <= 1, where the minimiser fits the data exactly)
        consistent = cand_x + (pb.aty - pb.A.adjoint(cand_ax))
        with torch.no_grad():
            use_consistent = _weighted_l1(consistent, thr_unit) < f_cand
        out = _pick(use_consistent, consistent, cand_x)
    return _Candidate(use_avg, averaged, inv, g_cand, cand_x, cand_ax, d_cur, d_avg, out)


def _hold(pb: _Problem, st: _State, out: torch.Tensor) -> None:
    """The output becomes ``out`` where its objective, in double precision, is lower: a
    longer run, or one past a restart, never returns a worse point."""
    out = out.to(pb.out_dtype)  # in double precision: rounded to the data's dtype, certified as returned
    with torch.no_grad():
        f_wide = _primal_wide(pb.A, out, pb.y_wide, pb.thr_wide)
        better = (f_wide < st.held_f) & ~st.done
        st.held_f = torch.where(better, f_wide, st.held_f)
    st.held = _pick(better, out, st.held)


def _certify_dual(pb: _Problem, st: _State, cand: _Candidate, new: _Step) -> None:
    """The better dual point of the two, by the working precision's values, replaces the
    best one where its value in double precision is higher."""
    # evaluated in double precision at every check: in single precision D is itself
    # uncertain by ~1e-5 of F* where ||y|| / F* is in the hundreds, so a screen by it
    # would keep better points out
    z_check = _pick(cand.d_avg > cand.d_cur, st.sums[2] * cand.inv[..., None], new.z).to(pb.out_dtype)
    with torch.no_grad():
        d_wide = _dual_wide(pb.A, z_check, pb.y_wide, pb.inv_thr2_wide)
        improved = (d_wide > st.best_d) & ~st.done
        st.best_d = torch.where(improved, d_wide, st.best_d)
    st.best_z = _pick(improved, z_check, st.best_z)


def _polish_due(pb: _Problem, st: _State, layer: int, last: bool) -> bool:
    """Whether to polish the best dual now: at the last layer, or (with a target) while the
    polishing stays within ``polish_share`` of the layers so far; only where rescaling the
    best dual into the feasible set costs more than half the certificate (the dual is
    infeasible, not far)."""
    rule = pb.rule
    polish_cost = rule.polish_rounds * (rule.polish_iterations + 1)  # of one polish
    if not (rule.polish_iterations and pb.certificate_read and not bool(st.done.all()) and (
            last or (pb.target_gap is not None and st.polish_work + polish_cost <= rule.polish_share * layer))):
        return False
    with torch.no_grad():
        rescale_loss = (wide(st.best_z).conj() * pb.y_wide).sum(dim=-1).abs() - st.best_d
        return bool((~st.done & (rescale_loss > 0.5 * (st.held_f - st.best_d))).any())


def _polish_dual(pb: _Problem, st: _State) -> None:
    """Polish the best dual point (:func:`solver.objective.polish_dual`); keep the result
    where its value in double precision is higher."""
    rule = pb.rule
    st.polish_work += rule.polish_rounds * (rule.polish_iterations + 1)
    with torch.no_grad():
        z = st.best_z.to(pb.y.dtype)
        z_pol, _ = _polish(pb.A, z, pb.A.adjoint(z), pb.y, pb.thr_unit, (st.held_f - st.best_d).to(pb.real),
                           iterations=rule.polish_iterations, rounds=rule.polish_rounds, norm=pb.norm)
        z_pol = z_pol.to(pb.out_dtype)
        d_pol = _dual_wide(pb.A, z_pol, pb.y_wide, pb.inv_thr2_wide)
        polished = (d_pol > st.best_d) & ~st.done
        st.best_d = torch.where(polished, d_pol, st.best_d)
    st.best_z = _pick(polished, z_pol, st.best_z)


def _restart_due(pb: _Problem, st: _State, cand: _Candidate, layer: int) -> torch.Tensor:
    """The restart test per batch element (PDLP's sufficient, necessary and artificial
    decreases); with a target, the elements that reached it are marked done."""
    rule = pb.rule
    with torch.no_grad():
        g = cand.gap
        do_restart = (
            (g <= rule.sufficient * st.gap_restart)
            | ((g <= rule.necessary * st.gap_restart) & (g > st.gap_prev))
            | (st.count >= rule.artificial * layer)
        ) & ~st.done
        if pb.target_gap is not None:
            # an element that reached the target keeps its output and certificate
            reached = (st.best_d > 0) & (st.held_f - st.best_d <= pb.target_gap * st.best_d) & ~st.done
            st.done = st.done | reached
            st.any_done = st.any_done or bool(reached.any())
    return do_restart


def _restart(pb: _Problem, st: _State, cand: _Candidate, new: _Step, do_restart: torch.Tensor) -> None:
    """Where ``do_restart``: the primal weight moves towards the ratio of the dual and primal
    moves since the last restart, the iterate restarts from the candidate (with
    ``restart``), the running sums start again and the steps follow the new weight."""
    sx, sax, sz, satz = st.sums
    if cand.averaged:
        cand_z = _pick(cand.use_avg, sz * cand.inv[..., None], new.z)
        cand_atz = _pick(cand.use_avg, satz * cand.inv[..., None, None], new.atz)
    else:
        cand_z, cand_atz = new.z, new.atz
    dx = _norm2d(cand.x - st.anchor_x)
    dz = norm_last(cand_z - st.anchor_z)
    tiny = torch.finfo(pb.real).tiny
    with torch.no_grad():
        move = do_restart & (dx > tiny) & (dz > tiny)
    safe_dx = torch.where(move, dx, torch.ones_like(dx))
    safe_dz = torch.where(move, dz, torch.ones_like(dz))
    s = pb.rule.smoothing
    new_omega = torch.exp(s * torch.log(safe_dz / safe_dx) + (1.0 - s) * torch.log(st.omega))
    st.omega = torch.where(move, new_omega, st.omega)
    if pb.restart:
        st.anchor_x, st.anchor_z = _pick(do_restart, cand.x, st.anchor_x), _pick(do_restart, cand_z, st.anchor_z)
        st.x, st.ax = _pick(do_restart, cand.x, st.x), _pick(do_restart, cand.ax, st.ax)
        st.z, st.atz = _pick(do_restart, cand_z, st.z), _pick(do_restart, cand_atz, st.atz)
        st.owned = False  # the state may now be the output or a record's iterate
    else:
        st.anchor_x, st.anchor_z = _pick(do_restart, new.x, st.anchor_x), _pick(do_restart, new.z, st.anchor_z)
    zero = torch.zeros((), dtype=pb.real, device=pb.y.device)
    st.sums = [_pick(do_restart, zero, total) for total in (sx, sax, sz, satz)]
    st.count = torch.where(do_restart, zero, st.count)
    st.steps = _steps(pb, st.omega)


def _check(pb: _Problem, st: _State, new: _Step, layer: int, *, last: bool) -> _Problem:
    """A check: the candidate, the output and the best dual updated from it, the dual
    polished where due, the target and restart tests, the restart, and the switch to double
    precision where due; returns the run's constants (in double precision after the switch)."""
    st.count = st.count + st.pending
    st.pending = 0
    cand = _candidate(pb, st, new)
    _hold(pb, st, cand.out)
    if pb.certificate_read and not bool(st.done.all()):
        _certify_dual(pb, st, cand, new)
    if _polish_due(pb, st, layer, last):
        _polish_dual(pb, st)
    do_restart = _restart_due(pb, st, cand, layer)
    if bool(do_restart.any()):
        _restart(pb, st, cand, new, do_restart)
    with torch.no_grad():
        st.gap_restart = torch.where(do_restart, cand.gap, st.gap_restart)
        st.gap_prev = torch.where(do_restart, torch.full_like(cand.gap, math.inf), cand.gap)
        st.restarts = st.restarts + do_restart.long()
    if pb.widen_at is not None and _widen_due(pb, st):
        return _widen(pb, st)
    return pb


def _widen_due(pb: _Problem, st: _State) -> bool:
    """Whether single precision has done its part: the certified relative gap of every
    element not done has reached the floor, or it has not halved over ``stall_checks``
    checks (the iterates stopped improving, whatever the floor measured elsewhere)."""
    active = ~st.done
    if not bool(active.any()):
        return False
    with torch.no_grad():
        relative = torch.where(st.best_d > 0, (st.held_f - st.best_d) / st.best_d, math.inf)
        worst = float(relative[active].max())
    st.gaps.append(worst)
    stall = pb.rule.stall_checks
    return worst <= pb.widen_at or (len(st.gaps) > stall and worst > 0.5 * st.gaps[-1 - stall])


def _widen(pb: _Problem, st: _State) -> _Problem:
    """Continue in double precision: the constants and the state cast up (exactly); the
    output and the best dual point keep the data's dtype (rounded, certified as they are)."""
    one = torch.ones((), dtype=pb.thr_wide.dtype, device=pb.y.device)
    aty = None if pb.aty is None else pb.A.adjoint(pb.y_wide)
    pb = dataclasses.replace(pb, y=pb.y_wide, thr_unit=pb.thr_wide, inv_thr2=pb.inv_thr2_wide, one=one, aty=aty,
                             widen_at=None)
    st.x, st.ax, st.z, st.atz = (wide(t) for t in (st.x, st.ax, st.z, st.atz))
    st.sums = [wide(t) for t in st.sums]
    st.anchor_x, st.anchor_z = wide(st.anchor_x), wide(st.anchor_z)
    st.count, st.omega = wide(st.count), wide(st.omega)
    st.gap_restart, st.gap_prev = wide(st.gap_restart), wide(st.gap_prev)
    st.steps = _steps(pb, st.omega)
    st.owned = False
    return pb


def _record(pb: _Problem, st: _State, new: _Step, layer: int) -> LayerRecord:
    """The callback's record: the output so far, the best dual point, their certified gap
    and dual value (double precision) and the last step's primal point as the iterate (in
    the data's dtype)."""
    return LayerRecord(layer, int(st.restarts.max()), st.held, st.best_z, None, new.x.to(pb.out_dtype),
                       st.held_f - st.best_d, st.best_d)
