"""FIRENET: a restarted, unrolled primal-dual network for the weighted sqrt-LASSO.

Each *layer* is one Chambolle-Pock step for::

    minimise  lam * ||x||_{1,w} + ||A x - y||_2          (x: wavelet coefficients)

with ``A = P_Omega F W^-1`` (``||A|| = 1``)::

    x_new = soft(x - tau A^* z, tau lam w)                 # complex soft threshold
    z     = proj_{||z|| <= 1}(z + sigma (A (2 x_new - x) - y))

``p`` layers form a *block* whose output is the ergodic average of the ``x_new`` (the
paper's choice) or the last one. ``n`` restarts chain blocks, each on a rescaled
problem::

    eps_k = nu (delta + eps_{k-1}),   eps_0 = ||y||
    alpha = 2 ||A|| / (C eps_k p)
    psi   = block(alpha y, alpha psi) / alpha              # dual z reset to 0

Because ``F`` is positively homogeneous, the rescaled block equals a block on the
original data with steps ``tau / alpha`` and ``sigma alpha``; that is how it is
computed here. ``C = 1`` and ``nu = e^-1`` are the paper's (Colbrook, Antun and Hansen,
PNAS 2022); ``C`` is the sharpness scale of WARPd (Colbrook, SIAM J. Imaging Sci. 2022).

Notes
-----
* The effective step ratio of restart ``k`` is ``(tau/sigma) (C eps_k p / 2)^2``: the
  accuracy schedule fixes the step ratio. Scaling ``tau/sigma`` by ``r`` (keeping
  ``tau sigma`` fixed) is therefore exactly the same as scaling ``C`` by ``sqrt(r)``.
* With the paper's ``p = 5`` and subsampled data, the iteration stalls: ``eps_k`` keeps
  shrinking on a fixed clock, the primal step ``tau C eps_k p / 2`` goes to zero and
  the iterate freezes well above the minimiser. :data:`RECOMMENDED` holds measured
  parameters that avoid this on the explorer's default problem only (:mod:`solver.legacy`
  keeps the small-image table and Chambolle-Pock's ratios as comparison points).
* ``schedule="adaptive"`` (:mod:`solver.schedules`) needs no table: restarts, restart
  point and the primal/dual step balance follow the certified duality gap, the dual is
  never reset, and every record carries the network's own certified gap.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from solver.primal_dual import (
    BlockResult,
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
from solver.prox import norm_last, project_ball, soft_threshold
from solver.schedules import AdaptiveRule, adaptive_primal_dual, check_rule, restart_targets
from solver.recipe import LAM
from solver.validation import check_choice, check_int, check_positive

__all__ = [
    "FIRENET",
    "LayerRecord",
    "PAPER_DEFAULTS",
    "RECOMMENDED",
    "SCHEDULES",
    # re-exported from solver.primal_dual and solver.prox for existing importers
    "primal_dual_block",
    "BlockResult",
    "norm_last",
    "soft_threshold",
    "project_ball",
    "to_image",
]

#: The paper's parameters (PNAS 2022; 16 restarts as in its convergence experiment,
#: 5 in its other experiments).
PAPER_DEFAULTS: dict[str, Any] = {
    "lam": LAM,
    "layers": 5,
    "restarts": 16,
    "tau": 1.0,
    "sigma": 1.0,
    "delta": 1e-9,
    "nu": math.exp(-1.0),
    "sharpness": 1.0,
    "output": "ergodic",
}

#: Parameters chosen by measurement on the explorer's default problem (N = 256, Fourier,
#: multilevel 25 %, Haar, lam = 2.5e-4; Shepp-Logan and random ellipses, noiseless and
#: 2 % noise, level or unit weights, maximal levels or one fewer: 9 problems). After
#: 300 layers the image error is within 2 % of the minimiser's on all 9 (the paper's
#: 16 x 5 ergodic stops 9 % to 3.7x above it, 0.15-0.18 absolute where the minimiser is
#: exact) and the relative objective gap is below 1e-3 (below 1e-4 on 5 of 9). Measured
#: alternatives: p = 10 floors at gaps of 5e-4 to 1.7e-2 on 8 of 9; p = 50 needs 250-400
#: layers for 1e-3, p = 100 more than 450; C = 0.5..2 and nu = 0.25..0.5 behave alike,
#: C >= 10 or nu = 0.7 are slower; the ergodic output is worse than the last iterate at
#: every p tried. The step ratio inside FIRENET needs no separate setting: tau/sigma = r
#: with tau sigma = 1 is the same as C sqrt(r).
RECOMMENDED: dict[str, Any] = {
    "lam": LAM,
    "layers": 20,
    "restarts": 15,
    "tau": 1.0,
    "sigma": 1.0,
    "delta": 1e-9,
    "nu": math.exp(-1.0),
    "sharpness": 1.0,
    "output": "last",
}

OUTPUTS = ("ergodic", "last")
SCHEDULES = ("fixed", "adaptive")


class FIRENET(nn.Module):
    """Restarted, unrolled primal-dual network for the weighted sqrt-LASSO.

    Two restart schedules (see the module docstring and :mod:`solver.schedules`):

    * ``"fixed"`` (default): the paper's, depth ``restarts * layers``; restart ``k`` runs
      ``layers`` steps with steps set by the accuracy target ``eps_k``.
    * ``"adaptive"``: depth ``max_layers``; restarts, restart point and the balance of
      primal and dual steps are chosen by the certified duality gap, with no tuned
      constant. Stops early at ``target_gap``. The records carry the certified gap.

    Parameters
    ----------
    A : WaveletMeasurement
        ``A = P F W^-1`` with ``forward``, ``adjoint``, ``norm`` (= 1), ``wavelet``
        (``forward``/``inverse`` for images) and ``num_measurements``.
    lam : float, default solver.recipe.LAM (2.5e-4)
        Sparsity weight, > 0.
    weights : array_like, shape broadcastable to (N, N), optional
        Per-coefficient weights ``w_i > 0`` (e.g. ``solver.wavelets.level_weights``);
        unit weights when ``None``.
    restarts : int, default 16
        Number of restarts ``n`` (>= 1). Fixed schedule only.
    layers : int, default 5
        Layers per restart ``p`` (>= 1). Fixed schedule only.
    tau, sigma : float, default 1
        Primal and dual steps of the rescaled problem; ``tau sigma ||A||^2 <= 1``.
        Fixed schedule only.
    delta : float, default 1e-9
        Accuracy floor in the schedule ``eps_k = nu (delta + eps_{k-1})``, >= 0.
    eps0 : float, optional
        Initial accuracy target; ``||y||`` (per batch element, ``= F(0)``) when ``None``.
        For a warm start ``x0`` the theory asks for a bound on its gap, such as
        ``F(W x0)``; measured at N = 32, a smaller ``eps0`` did not help (the step
        ratio ``(C eps p / 2)^2`` is then far from the good one), so ``||y||`` stays the
        default there too.
    nu : float, default exp(-1)
        Restart factor in (0, 1).
    sharpness : float, default 1
        The sharpness scale ``C`` in ``alpha = 2 ||A|| / (C eps p)``, > 0 (1 is the
        paper's).
    output : {"ergodic", "last"}, default "ergodic"
        Block output: ergodic average of the iterates (the paper's) or the last one.
        Fixed schedule only (the adaptive one outputs the better certified of both).
    schedule : {"fixed", "adaptive"}, keyword-only, default "fixed"
    max_layers : int, keyword-only, default 300
        Depth of the adaptive schedule (>= 1).
    target_gap : float, keyword-only, optional
        Adaptive schedule: stop once the certified relative gap ``(F - D)/D`` is at most
        this (every batch element), > 0.
    rule : AdaptiveRule, keyword-only, optional
        Constants of the adaptive schedule (:data:`solver.schedules.ADAPTIVE_RULE`).

    Raises
    ------
    ValueError
        For any parameter out of range, naming the parameter.

    Examples
    --------
    >>> net = FIRENET(A, **RECOMMENDED)                     # doctest: +SKIP
    >>> image = net(y)                                      # doctest: +SKIP
    >>> coeffs = net.solve(y, callback=lambda r: print(r.layer, float(r.eps)))  # doctest: +SKIP
    >>> adaptive = FIRENET(A, weights=w, schedule="adaptive", max_layers=300)  # doctest: +SKIP
    >>> coeffs = adaptive.solve(y, callback=lambda r: print(r.layer, float(r.gap)))  # doctest: +SKIP
    """

    def __init__(
        self,
        A: Any,
        lam: float = LAM,
        weights: Any = None,
        restarts: int = 16,
        layers: int = 5,
        tau: float = 1.0,
        sigma: float = 1.0,
        delta: float = 1e-9,
        eps0: float | None = None,
        nu: float = math.exp(-1.0),
        sharpness: float = 1.0,
        output: str = "ergodic",
        *,
        schedule: str = "fixed",
        max_layers: int = 300,
        target_gap: float | None = None,
        rule: AdaptiveRule | None = None,
    ) -> None:
        super().__init__()
        self.lam = check_positive("lam", lam)
        self.restarts = check_int("restarts", restarts, low=1)
        self.layers = check_int("layers", layers, low=1)
        norm = float(getattr(A, "norm", 1.0))
        if not norm > 0:
            raise ValueError(f"A.norm must be > 0, got {norm}")
        check_steps(tau, sigma, norm)
        if not delta >= 0:
            raise ValueError(f"delta must be >= 0, got {delta}")
        if eps0 is not None and not eps0 > 0:
            raise ValueError(f"eps0 must be > 0 (or None for ||y||), got {eps0}")
        if not 0 < nu < 1:
            raise ValueError(f"nu must be in (0, 1), got {nu}")
        self.sharpness = check_positive("sharpness", sharpness)
        self.output = check_choice("output", output, OUTPUTS)
        self.schedule_name = check_choice("schedule", schedule, SCHEDULES)
        self.max_layers = check_int("max_layers", max_layers, low=1)
        if target_gap is not None:
            if schedule != "adaptive":
                raise ValueError("target_gap needs schedule='adaptive' (the fixed schedule has no certificate)")
            target_gap = check_positive("target_gap", target_gap)
        self.target_gap = target_gap
        self.rule = check_rule(rule)
        self.A = A
        self.tau = float(tau)
        self.sigma = float(sigma)
        self.delta = float(delta)
        self.eps0 = None if eps0 is None else float(eps0)
        self.nu = float(nu)
        self.norm = norm
        self.size = image_size(A)
        self.num_measurements = measurement_count(A)
        w = check_weights(weights, self.size)
        self.register_buffer("weights", w, persistent=False)

    @property
    def adaptive(self) -> bool:
        """Whether the schedule is the adaptive one."""
        return self.schedule_name == "adaptive"

    @property
    def depth(self) -> int:
        """Total number of layers: ``restarts * layers`` (fixed) or ``max_layers``."""
        return self.max_layers if self.adaptive else self.restarts * self.layers

    def extra_repr(self) -> str:
        if self.adaptive:
            return (
                f"N={self.size}, M={self.num_measurements}, lam={self.lam:g}, schedule='adaptive', "
                f"max_layers={self.max_layers}, target_gap={self.target_gap}"
            )
        return (
            f"N={self.size}, M={self.num_measurements}, lam={self.lam:g}, "
            f"restarts={self.restarts}, layers={self.layers}, tau={self.tau:g}, "
            f"sigma={self.sigma:g}, nu={self.nu:.4g}, sharpness={self.sharpness:g}, "
            f"delta={self.delta:g}, output={self.output!r}"
        )

    def schedule(self, y: torch.Tensor) -> torch.Tensor:
        """The accuracy targets ``eps_1 .. eps_n`` of the fixed schedule, shape (n, ...) (real)."""
        y = check_measurements(y, self.num_measurements)
        return torch.stack(self._targets(y))

    def _targets(self, y: torch.Tensor) -> list[torch.Tensor]:
        if self.eps0 is not None:
            eps0 = torch.full(y.shape[:-1], self.eps0, dtype=y.real.dtype, device=y.device)
        else:
            eps0 = norm_last(y)
        return restart_targets(eps0, nu=self.nu, delta=self.delta, restarts=self.restarts)

    def threshold_unit(self, y: torch.Tensor) -> torch.Tensor:
        """``lam * w`` in the real dtype and on the device of ``y`` (the threshold per unit step)."""
        return threshold_unit(self.lam, self.weights, y)

    def restart_steps(self, eps: torch.Tensor) -> tuple[Any, Any]:
        """Primal and dual steps of the restart with accuracy target ``eps`` (fixed schedule).

        The rescaled problem (``alpha = 2 ||A|| / (C eps p)``) expressed on the original
        data: ``tau / alpha`` and ``sigma alpha``. Plain floats for one unbatched target
        without gradient, else tensors shaped to broadcast over (..., N, N) and (..., M).
        """
        tiny = torch.finfo(eps.dtype).tiny
        alpha = 2.0 * self.norm / (self.sharpness * eps.clamp(min=tiny) * self.layers)
        tau = self.tau / alpha
        sigma = self.sigma * alpha
        if alpha.dim() == 0 and not alpha.requires_grad:
            return float(tau), float(sigma)
        return tau[..., None, None], sigma[..., None]

    def _restart_block(self, y, psi, k, eps, *, callback=None, inplace=False, a_psi=None):
        """Restart ``k`` of the fixed schedule: one block from ``psi``, dual reset to 0."""
        tau, sigma = self.restart_steps(eps)
        p = self.layers
        return primal_dual_block(
            self.A, y, psi, torch.zeros_like(y), tau=tau, sigma=sigma, thr_unit=self.threshold_unit(y),
            layers=p, output=self.output, callback=callback, layer_offset=k * p, restart=k, eps=eps,
            inplace=inplace, ax=a_psi,
        )

    def checkpoint_segments(self, y: torch.Tensor) -> list:
        """Callables chained from ``y`` that together compute ``self(y)``, for checkpointing.

        Fixed schedule: the start, one segment per restart, the synthesis. Adaptive: an
        empty list (its state between layers is more than one tensor; run it whole).
        ``solver.attacks`` checkpoints each segment to bound the memory of a gradient.
        """
        if self.adaptive:
            return []
        y = check_measurements(y, self.num_measurements)

        def start(data):
            data = check_measurements(data, self.num_measurements)
            return start_coeffs(self.A, None, data.shape[:-1], data.dtype, data.device)

        def restart(k, eps):
            return lambda psi: self._restart_block(y, psi, k, eps).out

        targets = self._targets(y)
        return [start] + [restart(k, eps) for k, eps in enumerate(targets)] + [lambda psi: to_image(self.A, psi)]

    def solve(self, y: torch.Tensor, x0: Any = None, callback: Callback | None = None, *,
              certificate: bool | None = None) -> torch.Tensor:
        """Run the network; return complex wavelet coefficients.

        Parameters
        ----------
        y : torch.Tensor, shape (..., M), complex64 or complex128
            Measurements (a real tensor is promoted to complex).
        x0 : torch.Tensor, shape (..., N, N), optional
            Starting image (e.g. another network's output); zero when ``None``.
        callback : callable, optional
            Called with a :class:`LayerRecord` after each layer; returning ``True``
            stops early and returns that record's ``coeffs``.
        certificate : bool, optional
            Adaptive schedule: whether the records carry the certified gap (default: with
            a callback); ``False`` where the callback only reports progress saves the
            dual side's work (see :func:`solver.schedules.adaptive_primal_dual`). The
            fixed schedule ignores it.

        Returns
        -------
        torch.Tensor, shape (..., N, N), dtype of ``y``
            Wavelet coefficients of the reconstruction.
        """
        y = check_measurements(y, self.num_measurements)
        batch = y.shape[:-1]
        psi = start_coeffs(self.A, x0, batch, y.dtype, y.device)
        inplace = not needs_grad(y, psi, self.weights)
        if self.adaptive:
            return adaptive_primal_dual(
                self.A, y, psi, self.threshold_unit(wide(y)), max_layers=self.max_layers, norm=self.norm,
                rule=self.rule, target_gap=self.target_gap, callback=callback, inplace=inplace,
                certificate=certificate,
            )
        a_psi = torch.zeros_like(y) if (inplace and x0 is None) else None  # A psi, reused
        for k, eps in enumerate(self._targets(y)):
            result = self._restart_block(y, psi, k, eps, callback=callback, inplace=inplace, a_psi=a_psi)
            psi, a_psi = result.out, result.a_out
            if result.stopped:
                break
        return psi

    def forward(self, y: torch.Tensor, x0: Any = None, callback: Callback | None = None, *,
                certificate: bool | None = None) -> torch.Tensor:
        """Reconstruct the image: real part of ``W^-1 solve(y, x0, callback, certificate=...)``.

        Returns
        -------
        torch.Tensor, shape (..., N, N), real dtype matching ``y``
        """
        return to_image(self.A, self.solve(y, x0, callback, certificate=certificate))
