"""Stability curves and empirical Lipschitz estimates of reconstruction networks.

For a grid of relative budgets ``eta``, each network ``f`` is attacked (worst-case
perturbation ``e`` with ``||e|| <= eta ||y||``, :func:`solver.attacks.worst_case_perturbation`)
and also hit with random complex Gaussian noise of the same norm. The curve plots the
relative output change ``||f(y + e) - f(y)|| / ||f(y)||`` against ``eta``: a stable
network stays near the diagonal (or below), an unstable one rises far above it, and the
gap between the worst-case and the random curve shows that instabilities are rare,
special directions, not a general sensitivity to noise.

The empirical Lipschitz estimate is ``max ||f(y + e) - f(y)|| / ||e||`` over all the
perturbations tried. Since the attack maximises the output change only approximately, it
is a *lower* bound of the local Lipschitz constant of ``f`` at ``y`` on the ball of the
largest budget.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from solver.attacks import PAPER_ATTACK, AttackStep, evaluate_perturbation, worst_case_perturbation
from solver.perturbations import complex_gaussian_noise
from solver.validation import check_int, check_seed

__all__ = ["StabilityProgress", "StabilityCurve", "stability_curve", "lipschitz_estimate"]


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
    """

    budgets: np.ndarray
    worst: dict
    random: dict
    perturbation_norms: dict
    lipschitz: dict
    perturbations: dict


def stability_curve(
    networks: Mapping[str, torch.nn.Module],
    y: torch.Tensor,
    budgets: Sequence[float],
    *,
    steps: int = 50,
    lr: float = PAPER_ATTACK["lr"],
    momentum: float = PAPER_ATTACK["momentum"],
    mu: float = PAPER_ATTACK["mu"],
    seed: int = 0,
    random_trials: int = 1,
    warm_start: bool = True,
    checkpoint: bool | str = "auto",
    callback: Callable[[StabilityProgress], None] | None = None,
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

    Returns
    -------
    StabilityCurve

    Raises
    ------
    ValueError
        If ``networks`` or ``budgets`` is empty, a budget is not a finite positive number,
        ``random_trials < 1`` or ``seed < 0``.
    """
    if not networks:
        raise ValueError("networks must contain at least one network, got an empty mapping")
    grid = sorted(float(b) for b in budgets)
    if not grid:
        raise ValueError("budgets must contain at least one budget, got an empty sequence")
    for b in grid:
        if not (math.isfinite(b) and b > 0):
            raise ValueError(f"budgets must be finite and > 0, got {b}")
    random_trials = check_int("random_trials", random_trials, low=1)
    seed = check_seed(seed)

    n_b = len(grid)
    total = len(networks) * n_b
    worst = {name: np.zeros(n_b) for name in networks}
    rand = {name: np.zeros(n_b) for name in networks}
    norms = {name: np.zeros(n_b) for name in networks}
    lips = {name: 0.0 for name in networks}
    perts: dict[str, list] = {name: [] for name in networks}
    done = 0
    for name, net in networks.items():
        previous = None
        for i, eta in enumerate(grid):
            def on_step(step: AttackStep, name=name, i=i, eta=eta, done=done) -> None:
                if callback is not None:
                    frac = (done + step.step / max(step.steps, 1)) / total
                    callback(StabilityProgress(name, i, eta, min(frac, 1.0), step))

            res = worst_case_perturbation(
                net, y, budget=eta, steps=steps, lr=lr, momentum=momentum, mu=mu, seed=seed,
                start=previous if warm_start else None, checkpoint=checkpoint, callback=on_step,
            )
            previous = res.perturbation
            perts[name].append(res.perturbation)
            worst[name][i] = res.relative_output_change
            norms[name][i] = res.relative_norm
            if res.norm > 0:
                lips[name] = max(lips[name], res.output_change / res.norm)
            changes = []
            for t in range(random_trials):
                # same norm as the worst case; distinct seeds per budget and trial
                e = complex_gaussian_noise(y.detach(), res.relative_norm, seed=seed + 1 + i * random_trials + t)
                eff = evaluate_perturbation(net, y.detach(), y.detach() + e)
                changes.append(eff.relative_output_change)
                if eff.perturbation_norm > 0:
                    lips[name] = max(lips[name], eff.output_change / eff.perturbation_norm)
            rand[name][i] = float(np.mean(changes))
            done += 1
            if callback is not None:
                point = (float(norms[name][i]), float(worst[name][i]), float(rand[name][i]))
                callback(StabilityProgress(name, i, eta, done / total, None, point))
    return StabilityCurve(np.asarray(grid), worst, rand, norms, lips, perts)


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
