"""Stability curves, the error to the truth under perturbation, and Lipschitz estimates.

For a grid of relative budgets ``eta``, each network ``f`` is attacked (worst-case
perturbation ``e`` with ``||e|| <= eta ||y||``, :func:`solver.attacks.worst_case_perturbation`)
and also hit with random complex Gaussian noise of the same norm. Two quantities are kept:

* the **error to the truth** ``||f(y + e) - x||`` against ``||e||`` (when the truth ``x``
  is given). This is what FIRENET's stability theorem bounds (Colbrook, Antun & Hansen,
  PNAS 2022, SI Theorem 3, under the weighted robust null space property in levels):
  ``||Phi(y + e) - x|| <= C1 sigma_{s,M}(x) / sqrt(s) + C2 ||e|| + (a term falling
  exponentially in the number of restarts)``, for the fixed restart schedule. The
  theorem's ``C2`` is not computed here (it needs the rNSPL constants of the mask); what
  is measured is the least-squares slope of the error against ``||e||``
  (:func:`error_slope`), the counterpart of ``C2`` for the perturbations found;
* the relative **output change** ``||f(y + e) - f(y)|| / ||f(y)||``. It is not what the
  theorem bounds: an output that moves more than the data can still stay within the
  theorem's error bound, and one that moves little can be far from the truth.

The gap between the worst-case and the random curve shows that large changes come from
special directions, not from a general sensitivity to noise.

The empirical Lipschitz estimate is ``max ||f(y + e) - f(y)|| / ||e||`` over all the
perturbations tried. Since the attack maximises the output change only approximately, it
is a *lower* bound of the local Lipschitz constant of ``f`` at ``y`` on the ball of the
largest budget.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from solver.attacks import (
    PAPER_ATTACK,
    PAPER_IMAGE_ATTACK,
    AttackStep,
    evaluate_perturbation,
    evaluating,
    paper_image_attack,
    worst_case_perturbation,
)
from solver.perturbations import complex_gaussian_noise
from solver.validation import check_int, check_seed

__all__ = ["StabilityProgress", "StabilityCurve", "stability_curve", "paper_stability_curve", "lipschitz_estimate",
           "error_slope"]


@dataclass(frozen=True)
class StabilityProgress:
    """Progress of :func:`stability_curve`, passed to its callback once per attack step.

    Attributes
    ----------
    network : str
        Name of the network being attacked.
    budget_index : int
        Index of the budget in the (sorted) grid.
    budget : float
        The relative budget ``eta``.
    fraction : float
        Overall fraction done, in [0, 1].
    attack_step : AttackStep or None
        The attack's own progress record (None once the budget is finished).
    point : tuple of float or None
        Once the budget is finished: ``(relative norm, worst-case change, random change)``
        of this network at this budget, so a caller can draw the curve as it grows.
    """

    network: str
    budget_index: int
    budget: float
    fraction: float
    attack_step: AttackStep | None
    point: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class StabilityCurve:
    """Output change against perturbation size, per network.

    Attributes
    ----------
    budgets : np.ndarray, shape (B,), float64
        The relative budgets ``eta``, ascending.
    worst : dict[str, np.ndarray]
        Name -> ``||f(y + e) - f(y)|| / ||f(y)||`` for the worst-case ``e`` found, (B,).
    random : dict[str, np.ndarray]
        Name -> the same for random Gaussian ``e`` of the same norm (mean over trials), (B,).
    perturbation_norms : dict[str, np.ndarray]
        Name -> ``||e|| / ||y||`` actually used at each budget (<= the budget), (B,).
    lipschitz : dict[str, float]
        Name -> empirical Lipschitz estimate ``max ||f(y + e) - f(y)|| / ||e||`` (a lower
        bound; module docstring).
    perturbations : dict[str, list[torch.Tensor]]
        Name -> the worst-case perturbation at each budget, (..., M) complex.
    worst_error, random_error : dict[str, np.ndarray]
        Name -> ``||f(y + e) - x||`` (absolute) for the worst-case and the random ``e``
        (mean over trials), (B,); empty without a truth.
    clean_error : dict[str, float]
        Name -> ``||f(y) - x||``; empty without a truth.
    data_norm : float
        ``||y||`` (the reference norm of the sizes).
    data_perturbation : dict[str, np.ndarray]
        Name -> ``||e||``, the norm of the data perturbation the network saw at each
        budget (image domain: ``||A r||``), (B,).
    """

    budgets: np.ndarray
    worst: dict
    random: dict
    perturbation_norms: dict
    lipschitz: dict
    perturbations: dict
    worst_error: dict = field(default_factory=dict)
    random_error: dict = field(default_factory=dict)
    clean_error: dict = field(default_factory=dict)
    data_norm: float = float("nan")
    data_perturbation: dict = field(default_factory=dict)


def stability_curve(
    networks: Mapping[str, torch.nn.Module], y: torch.Tensor, budgets: Sequence[float], *,
    steps: int = 50, lr: float = PAPER_ATTACK["lr"], momentum: float = PAPER_ATTACK["momentum"],
    mu: float = PAPER_ATTACK["mu"], seed: int = 0, random_trials: int = 1, warm_start: bool = True,
    checkpoint: bool | str = "auto", callback: Callable[[StabilityProgress], None] | None = None,
    truth: np.ndarray | torch.Tensor | None = None,
) -> StabilityCurve:
    """Worst-case and random output change of each network over a grid of budgets.

    Parameters
    ----------
    networks : Mapping[str, nn.Module]
        Name -> reconstruction network ``y (..., M) complex -> image (..., N, N) real``,
        all for the same measurements ``y``.
    y : torch.Tensor, shape (..., M), complex
        Clean measurements (one vector; see :func:`worst_case_perturbation`).
    budgets : sequence of float
        Relative budgets ``eta > 0``; sorted ascending.
    steps, lr, momentum, mu, checkpoint
        Attack settings (:func:`solver.attacks.worst_case_perturbation`).
    seed : int
        Seed (>= 0) of the attacks' random starts and of the random perturbations.
    random_trials : int
        Number of random perturbations per budget (>= 1); their mean is reported.
    warm_start : bool
        Start each budget's search from the previous (smaller) budget's perturbation,
        which saves steps; the first budget starts at random.
    callback : callable(StabilityProgress), optional
        Progress, called once per attack step and once per finished budget.
    truth : array, shape (N, N), real, optional
        The true image ``x``: with it the curve also records the error to the truth
        ``||f(y + e) - x||`` of every perturbation and ``||f(y) - x||``.

    Returns
    -------
    StabilityCurve

    Raises
    ------
    ValueError
        If ``networks`` or ``budgets`` is empty, a budget is not a finite positive number,
        ``random_trials < 1``, ``seed < 0`` or ``truth`` is not a finite real image.
    """
    grid = _budget_grid(networks, budgets)
    random_trials = check_int("random_trials", random_trials, low=1)
    seed = check_seed(seed)
    x = None if truth is None else _checked_truth(truth)
    tables = _Tables(networks, len(grid), errors=x is not None)
    total = len(networks) * len(grid)
    done = 0
    for name, net in networks.items():
        previous = None
        for i, eta in enumerate(grid):
            res = worst_case_perturbation(
                net, y, budget=eta, steps=steps, lr=lr, momentum=momentum, mu=mu, seed=seed,
                start=previous if warm_start else None, checkpoint=checkpoint,
                callback=_attack_progress(callback, name, i, eta, done, total),
            )
            previous = res.perturbation
            tables.add_worst_case(name, i, res, x)
            # same norm as the worst case; distinct seeds per budget and trial
            tables.add_random(name, i, net, y.detach(), res.relative_norm,
                              [seed + 1 + i * random_trials + t for t in range(random_trials)], x)
            done += 1
            if callback is not None:
                callback(StabilityProgress(name, i, eta, done / total, None, tables.point(name, i)))
    data_norm = float(torch.linalg.vector_norm(y.detach().to(torch.complex128)))
    return tables.curve(grid, data_norm, {name: tables.norms[name] * data_norm for name in networks})


def _checked_truth(truth: np.ndarray | torch.Tensor) -> torch.Tensor:
    """``truth`` as a tensor, checked to be a finite real square image."""
    x = torch.as_tensor(np.asarray(truth) if not torch.is_tensor(truth) else truth).detach()
    if (x.is_complex() or not x.is_floating_point() or x.ndim != 2 or x.shape[0] != x.shape[1]
            or not bool(torch.isfinite(x).all())):
        raise ValueError(f"truth must be a finite real image (N, N), got {tuple(x.shape)} {x.dtype}")
    return x


def _error_to(x: torch.Tensor, out: torch.Tensor) -> float:
    """``||out - x||`` in double precision, for an output of the truth's size."""
    if out.numel() != x.numel():
        raise ValueError(f"truth must have the networks' output shape {tuple(out.shape)}, got {tuple(x.shape)}")
    return float(torch.linalg.vector_norm(out.detach().double().reshape(x.shape) - x.double()))


def _attack_progress(callback, name: str, i: int, eta: float, done: int, total: int):
    """The attack's callback: its steps as the curve's overall progress (None without a callback)."""
    if callback is None:
        return None

    def on_step(step: AttackStep) -> None:
        frac = (done + step.step / max(step.steps, 1)) / total
        callback(StabilityProgress(name, i, eta, min(frac, 1.0), step))

    return on_step


class _Tables:
    """The per-network values of a stability curve, filled budget by budget."""

    def __init__(self, names, budgets: int, *, errors: bool) -> None:
        def zeros() -> dict[str, np.ndarray]:
            return {name: np.zeros(budgets) for name in names}

        self.worst, self.random, self.norms = zeros(), zeros(), zeros()
        self.worst_error, self.random_error = (zeros(), zeros()) if errors else ({}, {})
        self.lipschitz = {name: 0.0 for name in names}
        self.perturbations: dict[str, list] = {name: [] for name in names}
        self.clean_error: dict[str, float] = {}

    def add_worst_case(self, name: str, i: int, res, x: torch.Tensor | None) -> None:
        """Budget ``i``'s worst-case search ``res`` (and its errors to the truth ``x``)."""
        self.perturbations[name].append(res.perturbation)
        if x is not None:
            self.clean_error[name] = _error_to(x, res.clean_output)
            self.worst_error[name][i] = _error_to(x, res.perturbed_output)
        self.worst[name][i] = res.relative_output_change
        self.norms[name][i] = res.relative_norm
        if res.norm > 0:
            self.lipschitz[name] = max(self.lipschitz[name], res.output_change / res.norm)

    def add_random(self, name: str, i: int, net, y: torch.Tensor, size: float, seeds: list[int],
                   x: torch.Tensor | None) -> None:
        """Budget ``i``'s random perturbations of relative norm ``size``, one per seed (their means)."""
        changes, errors = [], []
        for seed in seeds:
            e = complex_gaussian_noise(y, size, seed=seed)
            eff = evaluate_perturbation(net, y, y + e)
            changes.append(eff.relative_output_change)
            if x is not None:
                errors.append(_error_to(x, eff.perturbed_output))
            if eff.perturbation_norm > 0:
                self.lipschitz[name] = max(self.lipschitz[name], eff.output_change / eff.perturbation_norm)
        self.random[name][i] = float(np.mean(changes))
        if x is not None:
            self.random_error[name][i] = float(np.mean(errors))

    def add_paper_point(self, name: str, i: int, r: torch.Tensor, out: torch.Tensor, out_noise: torch.Tensor,
                        clean: torch.Tensor, clean_out_norm: float, x: torch.Tensor, data_norm: float,
                        e_norm: float) -> None:
        """Budget ``i`` of the paper's curve: the image perturbation ``r`` with its data norm
        ``e_norm``, the outputs it and random noise of its norm give."""
        self.perturbations[name].append(r)
        self.norms[name][i] = _norm(r) / data_norm
        change = _norm(out - clean)
        self.worst[name][i] = change / clean_out_norm
        self.random[name][i] = _norm(out_noise - clean) / clean_out_norm
        self.worst_error[name][i] = _norm(out.reshape(x.shape).to(x.dtype) - x)
        self.random_error[name][i] = _norm(out_noise.reshape(x.shape).to(x.dtype) - x)
        if e_norm > 0:
            self.lipschitz[name] = max(self.lipschitz[name], change / e_norm)

    def point(self, name: str, i: int) -> tuple[float, float, float]:
        """``(relative norm, worst-case change, random change)`` of ``name`` at budget ``i``."""
        return float(self.norms[name][i]), float(self.worst[name][i]), float(self.random[name][i])

    def curve(self, grid: list[float], data_norm: float, data_perturbation: dict) -> StabilityCurve:
        """The finished :class:`StabilityCurve`."""
        return StabilityCurve(np.asarray(grid), self.worst, self.random, self.norms, self.lipschitz,
                              self.perturbations, self.worst_error, self.random_error, self.clean_error, data_norm,
                              data_perturbation)


def paper_stability_curve(
    networks: Mapping[str, torch.nn.Module], operator, truth: np.ndarray | torch.Tensor, budgets: Sequence[float],
    *, max_steps: int = PAPER_IMAGE_ATTACK["max_steps"], seed: int = 0,
    callback: Callable[[StabilityProgress], None] | None = None,
) -> StabilityCurve:
    """The stability curve with the paper's image-domain search.

    One search per network (:func:`solver.attacks.paper_image_attack`, up to
    ``max_steps`` steps, stopped at the largest budget) gives the perturbation ``r`` at
    every budget ``||r|| = eta ||A x||``: the first iterate that reached it, scaled back
    onto it. Budgets the search did not reach get its last iterate (a smaller ``||r||``,
    recorded in ``perturbation_norms``). Random complex Gaussian image noise of the same
    norm gives the random curve.

    Parameters
    ----------
    networks : Mapping[str, nn.Module]
        Name -> reconstruction network ``y (M,) complex -> image (N, N) real``.
    operator : object with ``forward(image (N, N) complex) -> y (M,) complex``
        The sampling operator ``A``.
    truth : array, shape (N, N), real
        The clean image ``x``; its dtype sets the data's (float32 -> complex64).
    budgets : sequence of float
        Relative sizes ``eta = ||r|| / ||A x||`` > 0, sorted ascending.
    max_steps, seed
        As in :func:`solver.attacks.paper_image_attack`.
    callback : callable(StabilityProgress), optional
        Called after every step of a search and once per finished budget.

    Returns
    -------
    StabilityCurve
        ``perturbation_norms`` are ``||r|| / ||A x||``, ``data_perturbation`` the data's
        ``||A r||``, ``data_norm`` is ``||A x||``, ``perturbations`` the complex images ``r``
        and ``lipschitz`` the largest ``||f(A(x + r)) - f(A x)|| / ||A r||``.

    Raises
    ------
    ValueError
        If ``networks`` or ``budgets`` is empty, a budget is not a finite positive number,
        or ``truth`` is not a finite real square image.
    """
    grid = _budget_grid(networks, budgets)
    seed = check_seed(seed)
    x = _checked_truth(truth)
    cdtype = torch.complex128 if x.dtype == torch.float64 else torch.complex64
    tables = _Tables(networks, len(grid), errors=True)
    data_perturbation = {name: np.zeros(len(grid)) for name in networks}
    data_norm = float("nan")
    for index, (name, net) in enumerate(networks.items()):
        res = paper_image_attack(net, operator, x, relative_norm=grid[-1], max_steps=max_steps, seed=seed,
                                 milestones=grid[:-1],
                                 callback=_search_progress(callback, name, index, grid[-1], max_steps, len(networks)))
        data_norm = res.reference_norm
        tables.clean_error[name] = _norm(res.clean_output.reshape(x.shape).to(x.dtype) - x)
        clean_out_norm = max(_norm(res.clean_output), 1e-300)
        with evaluating(net):
            for i, eta in enumerate(grid):
                r = res.milestones.get(eta, res.perturbation) if i < len(grid) - 1 else res.perturbation
                worst, noisy = _outputs(net, operator, x, r, _image_noise(x.shape, _norm(r), seed + 1 + i), cdtype)
                e_norm = _norm(worst[0] - res.clean_data)
                data_perturbation[name][i] = e_norm
                tables.add_paper_point(name, i, r, worst[1], noisy[1], res.clean_output, clean_out_norm, x,
                                       data_norm, e_norm)
                if callback is not None:
                    callback(StabilityProgress(name, i, eta, (index + 1) / len(networks), None, tables.point(name, i)))
    return tables.curve(grid, data_norm, data_perturbation)


def _norm(t: torch.Tensor) -> float:
    """Euclidean norm over all entries, in double precision."""
    return float(torch.linalg.vector_norm(t.detach().to(torch.complex128 if t.is_complex() else torch.float64)))


def _search_progress(callback, name: str, index: int, budget: float, max_steps: int, count: int):
    """The paper search's callback: its steps as the curve's overall progress (None without a callback)."""
    if callback is None:
        return None

    def on_step(step: int, size: float, objective: float) -> None:
        if step > 0:
            progress = min(step / max(max_steps, 1), 1.0)
            callback(StabilityProgress(name, 0, budget, (index + progress) / count, None))

    return on_step


def _outputs(net, operator, x: torch.Tensor, r: torch.Tensor, noise: torch.Tensor, cdtype: torch.dtype
             ) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """``(A(x + r), f(A(x + r)))`` and the same for random image noise in place of ``r``."""
    with torch.no_grad():
        data = operator.forward((x + r).to(cdtype))
        out = net(data)
        data_noise = operator.forward(x.to(cdtype) + noise.to(cdtype))
        out_noise = net(data_noise)
    return (data, out), (data_noise, out_noise)


def _image_noise(shape: tuple[int, ...], size: float, seed: int) -> torch.Tensor:
    """Complex Gaussian image noise of norm ``size`` (float64, drawn on the CPU from ``seed``)."""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    g = torch.complex(torch.randn(shape, generator=gen, dtype=torch.float64),
                      torch.randn(shape, generator=gen, dtype=torch.float64))
    return g * (size / float(torch.linalg.vector_norm(g)))


def lipschitz_estimate(
    network: torch.nn.Module,
    y: torch.Tensor,
    budgets: Sequence[float] = (0.01, 0.02, 0.05),
    **kwargs,
) -> float:
    """Empirical Lipschitz estimate of one network at ``y`` (a lower bound).

    ``max ||f(y + e) - f(y)|| / ||e||`` over worst-case and random perturbations at the
    given budgets; keyword arguments go to :func:`stability_curve`.

    Parameters
    ----------
    network : nn.Module
        Reconstruction network.
    y : torch.Tensor, shape (..., M), complex
        Clean measurements.
    budgets : sequence of float
        Relative budgets.

    Returns
    -------
    float
        The estimate (image norm per measurement norm).
    """
    curve = stability_curve({"network": network}, y, budgets, **kwargs)
    return curve.lipschitz["network"]


def error_slope(sizes: Sequence[float], errors: Sequence[float]) -> tuple[float, float]:
    """Least-squares line ``error = intercept + slope * size`` through measured points.

    With ``size = ||e||`` and ``error = ||f(y + e) - x||`` (the clean error at size 0
    among the points) the slope is the measured counterpart of the ``C2`` of FIRENET's
    stability theorem, and the intercept of its ``C1 sigma / sqrt(s) + depth term``, for
    the perturbations that were tried: an estimate from below of what the worst case can
    do, not a bound.

    Parameters
    ----------
    sizes, errors : sequence of float, same length >= 2
        Perturbation norms (>= 0, not all equal) and errors to the truth.

    Returns
    -------
    intercept, slope : float

    Raises
    ------
    ValueError
        If the lengths differ, fewer than two points are given, a value is not finite or
        all sizes are equal.
    """
    s = np.asarray(sizes, dtype=np.float64).ravel()
    e = np.asarray(errors, dtype=np.float64).ravel()
    if s.shape != e.shape:
        raise ValueError(f"sizes and errors must have the same length, got {s.size} and {e.size}")
    if s.size < 2:
        raise ValueError(f"sizes must hold at least two points, got {s.size}")
    if not (np.isfinite(s).all() and np.isfinite(e).all()):
        raise ValueError("sizes and errors must be finite")
    if np.ptp(s) == 0:
        raise ValueError(f"sizes must not all be equal, got {s[0]} for every point")
    design = np.stack([np.ones_like(s), s], axis=1)
    (intercept, slope), *_ = np.linalg.lstsq(design, e, rcond=None)
    return float(intercept), float(slope)


def _budget_grid(networks: Mapping[str, Any], budgets: Sequence[float]) -> list[float]:
    """The budgets in increasing order, after checking that there is a network and that
    every budget is a finite positive number."""
    if not networks:
        raise ValueError("networks must contain at least one network, got an empty mapping")
    grid = sorted(float(b) for b in budgets)
    if not grid:
        raise ValueError("budgets must contain at least one budget, got an empty sequence")
    for b in grid:
        if not (math.isfinite(b) and b > 0):
            raise ValueError(f"budgets must be finite and > 0, got {b}")
    return grid
