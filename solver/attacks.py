"""Worst-case perturbations against any differentiable reconstruction network.

A reconstruction network ``f`` is any ``nn.Module`` mapping measurements ``y`` (..., M)
complex to a real image (..., N, N): the U-Net, FIRENET, the baselines. Following Antun
et al. (PNAS 2020) and Colbrook, Antun & Hansen (PNAS 2022), a worst-case perturbation
maximises

    J(e) = 1/2 ||f(y + e) - f(y)||^2 - mu/2 ||e||^2        (measurement domain)

or, in the image domain, the same with the data ``A(x + r)`` for a real image perturbation
``r`` (``A`` the sampling operator, image -> y). The search is gradient ascent with
Nesterov momentum under a hard budget ``||e|| <= budget * ||y||`` (image domain:
``||r|| <= budget * ||x||``).

Scaling (why the defaults work at any image scale)
--------------------------------------------------
The paper uses ``lr = 0.002``, ``momentum = 0.9`` and ``mu = 0.002`` on images in [0, 1].
Here each step follows the *normalised* gradient and ``lr`` is relative to the signal,
so a plain step moves the perturbation by ``lr * ||y||`` (momentum builds this up to about
``lr * ||y|| / (1 - momentum)``, i.e. 2% of ``||y||`` with the defaults). Multiplying the
image (hence ``y``, ``e`` and, for a positively homogeneous network, ``f``) by ``s`` scales
both terms of ``J`` by ``s^2``, so ``mu`` is dimensionless and the iterates scale with
``s``: the same settings find the same relative perturbation whatever the intensity range.
The budget is enforced by projecting onto the ball after every step (``on_budget =
"project"``) or, as in the paper, by stopping at the first step that would leave it
(``"stop"``); either way the returned perturbation is the best iterate (largest ``J``)
found inside the budget. Once on the budget sphere, only the tangential part of the
gradient (and of the velocity) is used: the outward part, usually the largest, would be
undone by the projection. On an early training checkpoint of the shipped U-Net at
N = 256 this raised the output change found in 30 steps from 12.0 % to 13.3 % (budget 5 %).

The start is a small seeded random perturbation (``start_scale`` times the budget radius):
at ``e = 0`` the gradient of ``J`` is exactly zero, so a deterministic start would never move.

Memory
------
The gradient goes through the whole network: against FIRENET through all ``n * p``
unrolled layers, whose intermediate tensors autograd keeps until the backward pass. With
``checkpoint=True`` the network is run through ``torch.utils.checkpoint`` segment by
segment: the callables of a network's own ``checkpoint_segments(y)`` method, chained from
``y`` (:class:`solver.firenet.FIRENET`: one segment per restart). Only segment
boundaries are kept and each segment is recomputed in the backward pass (about one extra
forward, so 1.3-1.7x the time), which bounds the memory by one restart instead of the
whole depth (see :data:`CHECKPOINT_DEPTH` for measured numbers; the first checkpointed
call in a process also pays a one-off set-up of about 3 s). For networks without
segments (the U-Net, whose activations are modest: 70 MB at N = 256) the flag has no
effect. ``benchmarks/bench_attacks.py`` measures time and peak memory.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

__all__ = [
    "PAPER_ATTACK",
    "CHECKPOINT_DEPTH",
    "AttackStep",
    "AttackHistory",
    "AttackResult",
    "worst_case_perturbation",
    "worst_case_image_perturbation",
    "PerturbationEffect",
    "evaluate_perturbation",
    "run_network",
    "evaluating",
    "transfer",
    "PAPER_IMAGE_ATTACK",
    "PaperAttackResult",
    "paper_image_attack",
]

#: Networks deeper than this (attribute ``depth``, e.g. FIRENET's ``restarts * layers``)
#: are checkpointed per segment by ``checkpoint="auto"``. Measured (benchmarks/
#: bench_attacks.py, complex64, one thread): the autograd graph costs about 2.6 MB per
#: FIRENET layer at N = 256 (0.9 MB at N = 128). FIRENET 5 x 5 at N = 256: 64 MB plain,
#: 27 MB checkpointed, but each step takes 1.7x as long; 15 x 20 layers at N = 128:
#: 266 MB plain, 42 MB checkpointed, 1.3x the time. Shallow networks are cheap enough to
#: run whole; deep ones are not (300 layers at N = 256 would hold about 800 MB).
CHECKPOINT_DEPTH = 50

#: The paper's search settings (lr and mu on images in [0, 1]; here lr is relative to ||y||).
PAPER_ATTACK = {"lr": 0.002, "momentum": 0.9, "mu": 0.002}

#: The image-domain search of the paper's FIRENET stability experiments, as the authors'
#: code runs it (instability/config_ell.yml, config_auto.yml and
#: Demo_test_firenet_stability_ell.py at commit ce929af): ``stab_eta`` 0.01 (lr),
#: ``stab_gamma`` 0.9 (Nesterov momentum), ``stab_lambda`` 0.01 (penalty weight, the
#: objective's ``- stab_lambda * l2_loss(r) = - 0.005 ||r||^2``), ``stab_tau`` 0.001 (the
#: start's scale), ``max_num_noise_iter`` 300 and ``ell2_err`` 5 (per cent of ``||A x||``).
PAPER_IMAGE_ATTACK = {"lr": 0.01, "momentum": 0.9, "penalty": 0.01, "start_scale": 0.001,
                      "max_steps": 300, "relative_norm": 0.05}


@dataclass(frozen=True)
class AttackStep:
    """One step of the search, passed to the progress callback.

    Attributes
    ----------
    step : int
        Index of the iterate (0 = the random start), 0..steps.
    steps : int
        Number of gradient steps requested.
    norm : float
        ``||e||`` (measurement domain) or ``||r||`` (image domain).
    relative_norm : float
        ``norm`` divided by the reference norm (``||y||`` or ``||x||``).
    output_change : float
        ``||f(data + perturbation) - f(data)||``.
    relative_output_change : float
        ``output_change / ||f(data)||``.
    objective : float
        ``J = 1/2 output_change^2 - mu/2 norm^2``.
    """

    step: int
    steps: int
    norm: float
    relative_norm: float
    output_change: float
    relative_output_change: float
    objective: float


@dataclass(frozen=True)
class AttackHistory:
    """Per-iterate record of a search; every array has shape (K,), float64.

    ``K = steps + 1`` (the random start and each step), or fewer when the search stopped at
    the budget.
    """

    norm: np.ndarray
    relative_norm: np.ndarray
    output_change: np.ndarray
    relative_output_change: np.ndarray
    objective: np.ndarray

    def __len__(self) -> int:
        return len(self.norm)


@dataclass(frozen=True)
class AttackResult:
    """The outcome of a worst-case search.

    Attributes
    ----------
    perturbation : torch.Tensor
        The best perturbation within the budget: ``e`` (..., M) complex in the measurement
        domain, ``r`` (..., N, N) real in the image domain. Detached.
    domain : {"measurement", "image"}
        Where the perturbation lives.
    clean_data : torch.Tensor, shape (..., M), complex
        ``y`` (image domain: ``A x``).
    perturbed_data : torch.Tensor, shape (..., M), complex
        ``y + e`` (image domain: ``A (x + r)``).
    clean_output : torch.Tensor, shape (..., N, N), real
        ``f(clean_data)``.
    perturbed_output : torch.Tensor, shape (..., N, N), real
        ``f(perturbed_data)``.
    history : AttackHistory
        Norms, output changes and objective per iterate.
    best_step : int
        Index in ``history`` of the returned perturbation.
    budget : float
        Relative budget ``eta``.
    reference_norm : float
        ``||y||`` (measurement domain) or ``||x||`` (image domain).
    image : torch.Tensor or None
        The clean image ``x`` (image domain only).
    """

    perturbation: torch.Tensor
    domain: str
    clean_data: torch.Tensor
    perturbed_data: torch.Tensor
    clean_output: torch.Tensor
    perturbed_output: torch.Tensor
    history: AttackHistory
    best_step: int
    budget: float
    reference_norm: float
    image: torch.Tensor | None = None

    @property
    def norm(self) -> float:
        """``||e||`` (or ``||r||``) of the returned perturbation."""
        return float(self.history.norm[self.best_step])

    @property
    def relative_norm(self) -> float:
        """``||e|| / ||y||`` (or ``||r|| / ||x||``) of the returned perturbation."""
        return float(self.history.relative_norm[self.best_step])

    @property
    def output_change(self) -> float:
        """``||f(y + e) - f(y)||`` of the returned perturbation."""
        return float(self.history.output_change[self.best_step])

    @property
    def relative_output_change(self) -> float:
        """``||f(y + e) - f(y)|| / ||f(y)||`` of the returned perturbation."""
        return float(self.history.relative_output_change[self.best_step])


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------
def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return int(seed)


def _check_common(budget, steps, lr, momentum, mu, start_scale, on_budget, checkpoint, network) -> None:
    if not callable(network):
        raise ValueError(f"network must be a callable nn.Module, got {type(network).__name__}")
    if not (math.isfinite(budget) and budget > 0):
        raise ValueError(f"budget must be finite and > 0, got {budget}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be finite and > 0, got {lr}")
    if not (0 <= momentum < 1):
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    if not (math.isfinite(mu) and mu >= 0):
        raise ValueError(f"mu must be finite and >= 0, got {mu}")
    if not (0 < start_scale <= 1):
        raise ValueError(f"start_scale must be in (0, 1], got {start_scale}")
    if on_budget not in ("project", "stop"):
        raise ValueError(f"on_budget must be 'project' or 'stop', got {on_budget!r}")
    if checkpoint not in (True, False, "auto"):
        raise ValueError(f"checkpoint must be True, False or 'auto', got {checkpoint!r}")


def _norm(t: torch.Tensor) -> torch.Tensor:
    """Euclidean norm over all entries, accumulated in double precision (so budgets are
    checked to ~1e-16 even for complex64 data)."""
    return torch.linalg.vector_norm(t.to(torch.complex128 if t.is_complex() else torch.float64))


def _into_ball(p: torch.Tensor, radius: float) -> torch.Tensor:
    """Scale ``p`` onto the ball of ``radius`` if it lies outside.

    The factor is shrunk by one unit roundoff of ``p``'s dtype, so that the rounded result
    is inside the ball, not just within rounding of its surface.
    """
    n = float(_norm(p))
    if n <= radius:
        return p
    eps = torch.finfo(p.real.dtype if p.is_complex() else p.dtype).eps
    return p * (radius / n * (1.0 - eps))


def _drop_outward(v: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """``v`` minus its component along ``p`` when that component points outwards.

    The inner product is the real one, ``Re <v, p>``, also for complex tensors.
    """
    inner = float(torch.sum((v.conj() * p).real)) if v.is_complex() else float(torch.sum(v * p))
    if inner <= 0:
        return v
    return v - (inner / float(torch.sum(torch.abs(p) ** 2))) * p


def _random_direction(shape, dtype: torch.dtype, device, seed: int) -> torch.Tensor:
    """Unit-norm Gaussian direction, drawn in float64 on the CPU so the seed fixes it."""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    if dtype.is_complex:
        g = torch.randn((2, *shape), generator=gen, dtype=torch.float64)
        g = torch.complex(g[0], g[1])
    else:
        g = torch.randn(tuple(shape), generator=gen, dtype=torch.float64)
    g = g / torch.linalg.vector_norm(g)
    return g.to(dtype=dtype, device=device)


def _segments(network, data: torch.Tensor):
    """Checkpoint segments of ``network`` for ``data``, or None when it has none."""
    own = getattr(network, "checkpoint_segments", None)
    if callable(own):
        return list(own(data))
    return None


def _use_checkpoint(network, checkpoint) -> bool:
    if checkpoint == "auto":
        return getattr(network, "depth", 0) > CHECKPOINT_DEPTH
    return bool(checkpoint)


def run_network(network, data: torch.Tensor, *, checkpoint: bool = False) -> torch.Tensor:
    """``network(data)``, checkpointed segment by segment when asked and possible (a
    ``solver.segments.Segmented`` network): the forward pass a search differentiates.

    Non-reentrant checkpointing keeps only each segment's input and recomputes the
    segment in the backward pass; gradients still reach tensors the segments capture
    (here ``data``, which every FIRENET restart uses as its bias).
    """
    segments = _segments(network, data) if checkpoint else None
    if not segments:
        return network(data)
    from torch.utils.checkpoint import checkpoint as ckpt

    state = data
    for segment in segments:
        state = ckpt(segment, state, use_reentrant=False)
    return state


# --------------------------------------------------------------------------------------
# the search
# --------------------------------------------------------------------------------------
@contextlib.contextmanager
def evaluating(network) -> Iterator[None]:
    """Run ``network`` in eval mode (batch norm on its running statistics, not the batch's),
    restoring its mode afterwards."""
    was_training = getattr(network, "training", False)
    if hasattr(network, "eval"):
        network.eval()
    try:
        yield
    finally:
        if hasattr(network, "train"):
            network.train(was_training)


def _start_point(start, shape, dtype: torch.dtype, device, seed: int, start_scale: float,
                 radius: float) -> torch.Tensor:
    """The search's first iterate: ``start`` or a seeded random one, inside the budget ball."""
    if start is not None:
        p = start.detach().to(dtype=dtype, device=device).clone()
        if tuple(p.shape) != tuple(shape):
            raise ValueError(f"start must have shape {tuple(shape)}, got {tuple(start.shape)}")
        return _into_ball(p, radius)
    return _into_ball(_random_direction(shape, dtype, device, seed) * (start_scale * radius), radius)


class _Ascent:
    """Gradient ascent on ``J`` as steps: the gradient, the record of an iterate, the
    update (Nesterov momentum on the normalised gradient), which also tells when to stop."""

    def __init__(self, network, data_of, clean_out: torch.Tensor, reference_norm: float, radius: float, *,
                 steps: int, lr: float, momentum: float, mu: float, on_budget: str, checkpoint: bool,
                 callback) -> None:
        self.network, self.data_of, self.clean_out = network, data_of, clean_out
        self.reference_norm, self.radius, self.steps = reference_norm, radius, steps
        self.step_length = lr * reference_norm
        self.momentum, self.mu, self.on_budget, self.checkpoint = momentum, mu, on_budget, checkpoint
        self.callback = callback
        clean_out_norm = float(_norm(clean_out))
        self.out_scale = clean_out_norm if clean_out_norm > 0 else 1.0
        self.rec = {k: [] for k in ("norm", "relative_norm", "output_change", "relative_output_change", "objective")}
        self.best = (-math.inf, 0, None, None)  # (objective, step, iterate, output)
        self.velocity = None

    def run(self, p: torch.Tensor) -> None:
        """All steps from ``p``; the last iterate is recorded unless the search stopped."""
        self.best = (-math.inf, 0, p.clone(), None)
        self.velocity = torch.zeros_like(p)
        for k in range(self.steps):
            out, grad = self.gradient(p)
            p = p.detach()
            self.record(k, p, out.detach())
            p = self.update(p, grad)
            if p is None:
                return
        with torch.no_grad():
            self.record(self.steps, p, self.network(self.data_of(p)))

    def gradient(self, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The network's output at ``p`` and the gradient of ``J`` there."""
        p.requires_grad_(True)
        out = run_network(self.network, self.data_of(p), checkpoint=self.checkpoint)
        diff = out - self.clean_out
        # J = 1/2 ||f(data(p)) - f(data)||^2 - mu/2 ||p||^2; for complex p, autograd's
        # gradient of a real loss is dJ/dRe + i dJ/dIm, the steepest-ascent direction.
        obj = 0.5 * torch.sum(diff * diff) - 0.5 * self.mu * torch.sum(torch.abs(p) ** 2)
        (grad,) = torch.autograd.grad(obj, p)
        return out, grad

    def record(self, k: int, p: torch.Tensor, out: torch.Tensor) -> None:
        """Norms, output change and objective of iterate ``k``; keep it if it is the best."""
        n = float(_norm(p))
        ch = float(_norm(out - self.clean_out))
        obj = 0.5 * ch * ch - 0.5 * self.mu * n * n
        values = (n, n / self.reference_norm, ch, ch / self.out_scale, obj)
        for key, value in zip(self.rec, values):
            self.rec[key].append(value)
        if obj > self.best[0]:
            self.best = (obj, k, p.detach().clone(), out.detach().clone())
        if self.callback is not None:
            self.callback(AttackStep(k, self.steps, *values))

    def update(self, p: torch.Tensor, grad: torch.Tensor) -> torch.Tensor | None:
        """The next iterate, or None when the search stops (a non-finite gradient, or the
        budget with ``on_budget="stop"``)."""
        if self.on_budget == "project" and float(_norm(p)) >= self.radius * (1 - 1e-6):
            # On the budget sphere the gradient points mostly outwards (a bigger e moves
            # the output more); normalising it as is would spend almost the whole step on
            # a radial move that the projection undoes. Keep only its tangential part,
            # and likewise drop the velocity's outward part.
            grad = _drop_outward(grad, p)
            self.velocity = _drop_outward(self.velocity, p)
        g_norm = float(_norm(grad))
        if not math.isfinite(g_norm):
            return None
        g = grad / g_norm if g_norm > 0 else grad
        # Nesterov momentum on the normalised gradient (PyTorch's SGD formulation).
        self.velocity = self.momentum * self.velocity + g
        p_new = p + self.step_length * (g + self.momentum * self.velocity)
        if float(_norm(p_new)) > self.radius:
            if self.on_budget == "stop":
                return None
            p_new = _into_ball(p_new, self.radius)
        return p_new


def _ascent(
    network,
    data_of: Callable[[torch.Tensor], torch.Tensor],
    clean_data: torch.Tensor,
    shape,
    dtype: torch.dtype,
    device,
    reference_norm: float,
    *,
    domain: str,
    image: torch.Tensor | None = None,
    budget,
    steps,
    lr,
    momentum,
    mu,
    seed,
    start_scale,
    start,
    on_budget,
    checkpoint,
    callback,
) -> AttackResult:
    """The search of both domains: ``data_of(perturbation)`` gives the data the network sees."""
    radius = budget * reference_norm
    if radius == 0:
        raise ValueError("the reference norm (||y|| or ||x||) is zero: a relative budget is meaningless")
    with evaluating(network):
        with torch.no_grad():
            clean_out = network(clean_data)
        search = _Ascent(network, data_of, clean_out, reference_norm, radius, steps=int(steps), lr=lr,
                         momentum=momentum, mu=mu, on_budget=on_budget,
                         checkpoint=_use_checkpoint(network, checkpoint), callback=callback)
        search.run(_start_point(start, shape, dtype, device, seed, start_scale, radius))
    history = AttackHistory(**{k: np.asarray(v, dtype=np.float64) for k, v in search.rec.items()})
    _, best_k, best_p, best_out = search.best
    with torch.no_grad():
        perturbed = data_of(best_p)
    return AttackResult(perturbation=best_p, domain=domain, clean_data=clean_data, perturbed_data=perturbed,
                        clean_output=clean_out, perturbed_output=best_out, history=history, best_step=best_k,
                        budget=float(budget), reference_norm=reference_norm, image=image)


def worst_case_perturbation(
    network: torch.nn.Module,
    y: torch.Tensor,
    *,
    budget: float = 0.05,
    steps: int = 100,
    lr: float = PAPER_ATTACK["lr"],
    momentum: float = PAPER_ATTACK["momentum"],
    mu: float = PAPER_ATTACK["mu"],
    seed: int = 0,
    start_scale: float = 0.01,
    start: torch.Tensor | None = None,
    on_budget: str = "project",
    checkpoint: bool | str = "auto",
    callback: Callable[[AttackStep], None] | None = None,
) -> AttackResult:
    """Search a measurement perturbation ``e`` with ``||e|| <= budget ||y||`` maximising
    ``1/2 ||f(y + e) - f(y)||^2 - mu/2 ||e||^2``.

    Parameters
    ----------
    network : nn.Module
        Reconstruction network ``y (..., M) complex -> image (..., N, N) real``. It is put
        in eval mode for the search and restored afterwards; its parameters are not changed
        and receive no gradient.
    y : torch.Tensor, shape (..., M), complex64 or complex128
        Clean measurements. The whole tensor is one vector: norms and the budget are taken
        over all its entries (pass a single measurement vector, batched or not).
    budget : float
        Relative budget ``eta > 0``: ``||e|| <= eta ||y||``.
    steps : int
        Number of gradient steps (>= 0); each costs one forward and one backward pass.
    lr : float
        Step length relative to ``||y||`` along the normalised gradient (module docstring).
    momentum : float
        Nesterov momentum in [0, 1).
    mu : float
        Weight of the penalty ``mu/2 ||e||^2`` (dimensionless, >= 0).
    seed : int
        Seed of the random start (>= 0); the same seed gives the same perturbation.
    start_scale : float
        Norm of the random start as a fraction of the budget radius, in (0, 1].
    start : torch.Tensor, shape like ``y``, optional
        Start from this perturbation instead (scaled into the budget), e.g. a warm start.
    on_budget : {"project", "stop"}
        Project onto the budget ball after each step, or stop at the first step that would
        leave it (the paper's rule).
    checkpoint : bool or "auto"
        Checkpoint the network segment by segment to bound memory (module docstring);
        ``"auto"`` does so for networks with segments deeper than
        :data:`CHECKPOINT_DEPTH` layers.
    callback : callable(AttackStep), optional
        Called once per evaluated iterate (progress bars).

    Returns
    -------
    AttackResult
        With ``domain = "measurement"``; the perturbation is the best iterate inside the
        budget.

    Raises
    ------
    ValueError
        If an argument is invalid or ``y`` is zero.
    """
    _check_common(budget, steps, lr, momentum, mu, start_scale, on_budget, checkpoint, network)
    seed = _check_seed(seed)
    if not isinstance(y, torch.Tensor) or not y.is_complex():
        raise ValueError(f"y must be a complex torch.Tensor (..., M), got {getattr(y, 'dtype', type(y))}")
    y = y.detach()
    return _ascent(
        network, lambda e: y + e, y, y.shape, y.dtype, y.device, float(_norm(y)), domain="measurement",
        budget=budget, steps=steps, lr=lr, momentum=momentum, mu=mu, seed=seed,
        start_scale=start_scale, start=start, on_budget=on_budget, checkpoint=checkpoint,
        callback=callback,
    )


def _complex_dtype(real: torch.dtype) -> torch.dtype:
    return torch.complex128 if real == torch.float64 else torch.complex64


def worst_case_image_perturbation(
    network: torch.nn.Module,
    operator,
    image,
    *,
    budget: float = 0.05,
    steps: int = 100,
    lr: float = PAPER_ATTACK["lr"],
    momentum: float = PAPER_ATTACK["momentum"],
    mu: float = PAPER_ATTACK["mu"],
    seed: int = 0,
    start_scale: float = 0.01,
    start: torch.Tensor | None = None,
    on_budget: str = "project",
    checkpoint: bool | str = "auto",
    callback: Callable[[AttackStep], None] | None = None,
) -> AttackResult:
    """Search a real image perturbation ``r`` with ``||r|| <= budget ||x||`` maximising
    ``1/2 ||f(A(x + r)) - f(A x)||^2 - mu/2 ||r||^2``.

    Parameters
    ----------
    network : nn.Module
        Reconstruction network ``y (..., M) complex -> image (..., N, N) real``.
    operator : object with ``forward(image (..., N, N) complex) -> y (..., M) complex``
        The sampling operator ``A`` the network reconstructs from (e.g.
        ``SubsampledFourier``); it must be differentiable (torch).
    image : np.ndarray or torch.Tensor, shape (N, N) (or (..., N, N)), real
        Clean image ``x``; its float dtype fixes the complex dtype of the data (float64 ->
        complex128, float32 -> complex64).
    budget, steps, lr, momentum, mu, seed, start_scale, start, on_budget, checkpoint, callback
        As in :func:`worst_case_perturbation`, with ``||x||`` as the reference norm.

    Returns
    -------
    AttackResult
        With ``domain = "image"`` and ``image = x``.

    Raises
    ------
    ValueError
        If an argument is invalid, ``image`` is complex or zero, or ``operator`` has no
        ``forward``.
    """
    _check_common(budget, steps, lr, momentum, mu, start_scale, on_budget, checkpoint, network)
    seed = _check_seed(seed)
    if not callable(getattr(operator, "forward", None)):
        raise ValueError(f"operator must have a forward(image) method, got {type(operator).__name__}")
    x = torch.as_tensor(image)
    if x.is_complex() or not x.is_floating_point():
        raise ValueError(f"image must be a real floating-point image (..., N, N), got dtype {x.dtype}")
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"image must have shape (..., N, N), got {tuple(x.shape)}")
    x = x.detach()
    cdtype = _complex_dtype(x.dtype)

    def data_of(r: torch.Tensor) -> torch.Tensor:
        return operator.forward((x + r).to(cdtype))

    with torch.no_grad():
        y = data_of(torch.zeros_like(x))
    return _ascent(
        network, data_of, y, x.shape, x.dtype, x.device, float(_norm(x)), domain="image", image=x,
        budget=budget, steps=steps, lr=lr, momentum=momentum, mu=mu, seed=seed,
        start_scale=start_scale, start=start, on_budget=on_budget, checkpoint=checkpoint,
        callback=callback,
    )


# --------------------------------------------------------------------------------------
# evaluation and transfer
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PerturbationEffect:
    """What a given perturbation does to one network.

    Attributes
    ----------
    clean_output, perturbed_output : torch.Tensor, shape (..., N, N), real
        ``f(y)`` and ``f(y + e)``.
    perturbation_norm : float
        ``||y_perturbed - y||`` (the size of the data perturbation).
    relative_perturbation : float
        ``||y_perturbed - y|| / ||y||``.
    output_change : float
        ``||f(y + e) - f(y)||``.
    relative_output_change : float
        ``||f(y + e) - f(y)|| / ||f(y)||``.
    amplification : float
        ``relative_output_change / relative_perturbation``: how many times the data's
        relative change the output moved (inf for a zero perturbation that moves the
        output, nan for a zero perturbation that does not). Not the paper's measure of
        stability, which bounds the error to the truth (``solver.stability``).
    clean_error, perturbed_error : float or None
        ``||f(.) - x|| / ||x||`` against the truth ``x`` when it is given.
    """

    clean_output: torch.Tensor
    perturbed_output: torch.Tensor
    perturbation_norm: float
    relative_perturbation: float
    output_change: float
    relative_output_change: float
    amplification: float
    clean_error: float | None = None
    perturbed_error: float | None = None

    @property
    def error_increase(self) -> float | None:
        """``perturbed_error / clean_error`` (None without a truth)."""
        if self.clean_error is None or self.perturbed_error is None:
            return None
        return self.perturbed_error / self.clean_error if self.clean_error > 0 else math.inf


def _relative_error(out: torch.Tensor, truth: torch.Tensor) -> float:
    t = truth.to(dtype=out.dtype, device=out.device).reshape(out.shape)
    return float(_norm(out - t) / _norm(t))


def evaluate_perturbation(
    network: torch.nn.Module,
    clean_data: torch.Tensor,
    perturbed_data: torch.Tensor,
    *,
    truth=None,
) -> PerturbationEffect:
    """Measure how ``network`` reacts to a data perturbation.

    Parameters
    ----------
    network : nn.Module
        Reconstruction network ``y (..., M) complex -> image (..., N, N) real``.
    clean_data : torch.Tensor, shape (..., M), complex
        ``y``.
    perturbed_data : torch.Tensor, same shape as ``clean_data``
        ``y + e`` (e.g. ``AttackResult.perturbed_data`` or ``y + add_noise``-style noise).
    truth : np.ndarray or torch.Tensor, shape (N, N), real, optional
        The true image, for relative errors.

    Returns
    -------
    PerturbationEffect

    Raises
    ------
    ValueError
        If the data are not complex tensors of the same shape or ``clean_data`` is zero.
    """
    for name, t in (("clean_data", clean_data), ("perturbed_data", perturbed_data)):
        if not isinstance(t, torch.Tensor) or not t.is_complex():
            raise ValueError(f"{name} must be a complex torch.Tensor, got {getattr(t, 'dtype', type(t))}")
    if clean_data.shape != perturbed_data.shape:
        raise ValueError(
            f"perturbed_data must have clean_data's shape {tuple(clean_data.shape)}, got {tuple(perturbed_data.shape)}"
        )
    y_norm = float(_norm(clean_data))
    if y_norm == 0:
        raise ValueError("clean_data must be non-zero, got ||y|| = 0")
    was_training = getattr(network, "training", False)
    if hasattr(network, "eval"):
        network.eval()
    try:
        with torch.no_grad():
            clean = network(clean_data)
            pert = network(perturbed_data)
    finally:
        if hasattr(network, "train"):
            network.train(was_training)
    p_norm = float(_norm(perturbed_data - clean_data))
    change = float(_norm(pert - clean))
    out_norm = float(_norm(clean))
    rel_change = change / out_norm if out_norm > 0 else math.inf
    rel_p = p_norm / y_norm
    if rel_p > 0:
        amp = rel_change / rel_p
    else:
        amp = math.inf if change > 0 else math.nan
    clean_err = pert_err = None
    if truth is not None:
        t = torch.as_tensor(truth)
        clean_err = _relative_error(clean, t)
        pert_err = _relative_error(pert, t)
    return PerturbationEffect(clean, pert, p_norm, rel_p, change, rel_change, amp, clean_err, pert_err)


def transfer(result: AttackResult, network: torch.nn.Module, *, operator=None, truth=None) -> PerturbationEffect:
    """Apply a perturbation found against one network to another.

    Parameters
    ----------
    result : AttackResult
        A search result (against any network).
    network : nn.Module
        The network to evaluate.
    operator : optional
        Image-domain results only: another sampling operator to measure ``x`` and
        ``x + r`` with (for a network built for a different sampling). By default the
        result's own data are used.
    truth : array, shape (N, N), real, optional
        True image for relative errors (image-domain results default to ``result.image``).

    Returns
    -------
    PerturbationEffect

    Raises
    ------
    ValueError
        If ``operator`` is given for a measurement-domain result.
    """
    if not isinstance(result, AttackResult):
        raise ValueError(f"result must be an AttackResult, got {type(result).__name__}")
    if operator is not None and result.domain != "image":
        raise ValueError(
            f"operator can only re-measure image-domain perturbations, got a result with domain {result.domain!r}"
        )
    if truth is None and result.image is not None:
        truth = result.image
    if operator is None:
        return evaluate_perturbation(network, result.clean_data, result.perturbed_data, truth=truth)
    x = result.image
    cdtype = _complex_dtype(x.dtype)
    with torch.no_grad():
        y = operator.forward(x.to(cdtype))
        y_pert = operator.forward((x + result.perturbation).to(cdtype))
    return evaluate_perturbation(network, y, y_pert, truth=truth)


# --------------------------------------------------------------------------------------
# the paper's image-domain protocol
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PaperAttackResult:
    """The outcome of :func:`paper_image_attack`.

    Attributes
    ----------
    perturbation : torch.Tensor, shape (N, N), complex
        The image perturbation ``r`` returned: the iterate at which the search stopped,
        scaled back onto ``||r|| = max_norm`` if it crossed it.
    start : torch.Tensor, shape (N, N), complex
        The seeded random start ``r_0``.
    max_norm : float
        The stop norm (``relative_norm`` times ``||A x||`` or ``||x||``).
    reference_norm : float
        ``||A x||`` or ``||x||``, whichever ``reference`` named.
    steps : int
        Gradient steps taken (at most ``max_steps``).
    reached : bool
        Whether the search stopped because ``||r||`` reached ``max_norm``.
    norms, objective : np.ndarray, shape (steps + 1,), float64
        ``||r_k||`` (before any scaling) and ``1/2 ||f(A(x + r_k)) - f(A x)||^2 -
        penalty/2 ||r_k||^2`` for the start and after each step.
    image : torch.Tensor, shape (N, N), real
    clean_data, perturbed_data : torch.Tensor, shape (M,), complex
        ``A x`` and ``A(x + r)``.
    clean_output, perturbed_output : torch.Tensor, shape (N, N), real
        ``f(A x)`` and ``f(A(x + r))``.
    milestones : dict[float, torch.Tensor]
        Relative norm -> the first iterate that reached it, scaled back onto it (only the
        ``milestones`` asked for that the search reached).
    """

    perturbation: torch.Tensor
    start: torch.Tensor
    max_norm: float
    reference_norm: float
    steps: int
    reached: bool
    norms: np.ndarray
    objective: np.ndarray
    image: torch.Tensor
    clean_data: torch.Tensor
    perturbed_data: torch.Tensor
    clean_output: torch.Tensor
    perturbed_output: torch.Tensor
    milestones: dict = field(default_factory=dict)

    @property
    def norm(self) -> float:
        """``||r||`` of the returned perturbation."""
        return float(_norm(self.perturbation))


def _onto_sphere(r: torch.Tensor, norm: float, radius: float) -> torch.Tensor:
    """``r`` (of norm ``norm`` > ``radius``) scaled onto ``||r|| <= radius``, rounding
    included: shrunk by a few ulps until the norm holds."""
    r = r * (radius / norm)
    while float(_norm(r)) > radius:
        r = r * (1.0 - 4.0 * torch.finfo(r.real.dtype).eps)
    return r


def paper_image_attack(
    network: torch.nn.Module, operator, image, *,
    relative_norm: float = PAPER_IMAGE_ATTACK["relative_norm"], reference: str = "measurements",
    lr: float = PAPER_IMAGE_ATTACK["lr"], momentum: float = PAPER_IMAGE_ATTACK["momentum"],
    penalty: float = PAPER_IMAGE_ATTACK["penalty"], max_steps: int = PAPER_IMAGE_ATTACK["max_steps"],
    start_scale: float = PAPER_IMAGE_ATTACK["start_scale"], seed: int = 0, milestones: Sequence[float] = (),
    callback: Callable[[int, float, float], None] | None = None,
) -> PaperAttackResult:
    """The paper's image-domain worst-case search, step for step as the authors run it.

    A complex image perturbation ``r = r_re + i r_im`` ascends

        Q(r) = 1/2 ||f(A(x + r)) - f(A x)||^2 - penalty/2 ||r||^2

    by TensorFlow's Nesterov momentum on the raw gradient (separately for ``r_re`` and
    ``r_im``): ``v <- momentum v + grad Q``, ``r <- r + lr (grad Q + momentum v)``, from
    ``r_0 = start_scale (u_1 + i u_2)`` with ``u`` uniform on [0, 1). It stops after
    ``max_steps`` steps or at the first step with ``||r|| >= max_norm``, where
    ``max_norm = relative_norm ||A x||`` (``reference="measurements"``, the authors'
    ellipse experiment, ``ell2_err`` 5 %) or ``relative_norm ||x||`` (``"image"``). The
    authors keep that last iterate, which overshoots ``max_norm`` by less than one step;
    here it is scaled back onto ``||r|| = max_norm``, so the norm holds exactly.

    Unlike :func:`worst_case_image_perturbation` nothing is normalised: ``lr`` acts on
    the raw gradient, so how fast the search reaches the norm depends on the network's
    gain (a map whose gain is below ``sqrt(penalty)`` shrinks ``r`` and never gets there).

    Parameters
    ----------
    network : nn.Module
        Reconstruction network ``y (M,) complex -> image (N, N) real``; run in eval mode
        (restored afterwards), its parameters receive no gradient.
    operator : object with ``forward(image (N, N) complex) -> y (M,) complex``
        The sampling operator ``A``, differentiable (torch).
    image : np.ndarray or torch.Tensor, shape (N, N), real
        The clean image ``x``; float64 gives complex128 data, float32 complex64.
    relative_norm : float
        The stop norm relative to the reference norm (> 0).
    reference : {"measurements", "image"}
        Whether ``max_norm`` is relative to ``||A x||`` or to ``||x||``.
    lr, momentum, penalty, max_steps, start_scale
        The authors' ``stab_eta``, ``stab_gamma``, ``stab_lambda``, ``max_num_noise_iter``
        and ``stab_tau`` (:data:`PAPER_IMAGE_ATTACK`).
    seed : int
        Seed (>= 0) of the uniform start.
    milestones : sequence of float
        Relative norms below ``relative_norm`` at which to keep the first iterate that
        reaches them (scaled back onto them): one search gives the perturbation at every
        size of a stability curve.
    callback : callable(step, norm, objective), optional
        Called for the start and after each step.

    Returns
    -------
    PaperAttackResult

    Raises
    ------
    ValueError
        Naming the parameter that is out of range, or if ``x`` (or ``A x``) is zero.
    """
    seed, marks, x = _check_paper_attack(network, operator, image, relative_norm, reference, lr, momentum,
                                         penalty, max_steps, start_scale, seed, milestones)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    start = start_scale * torch.rand((2, *x.shape), generator=gen, dtype=torch.float64)
    search = _PaperAscent(network, operator, x, lr=lr, momentum=momentum, penalty=penalty, max_steps=max_steps,
                          callback=callback)
    with evaluating(network):
        ref = search.clean(reference)
        r, perturbed_out = search.run(*(part.to(dtype=x.dtype, device=x.device) for part in start),
                                      max_norm=relative_norm * ref, marks=marks)
        with torch.no_grad():
            perturbed_data = search.data_of(r.real, r.imag)
    return PaperAttackResult(
        perturbation=r, start=torch.complex(start[0], start[1]), max_norm=search.max_norm, reference_norm=ref,
        steps=search.steps, reached=search.reached, norms=np.asarray(search.norms, dtype=np.float64),
        objective=np.asarray(search.objective, dtype=np.float64), image=x, clean_data=search.clean_data,
        perturbed_data=perturbed_data, clean_output=search.clean_out, perturbed_output=perturbed_out,
        milestones=search.kept,
    )


def _check_paper_attack(network, operator, image, relative_norm, reference, lr, momentum, penalty, max_steps,
                        start_scale, seed, milestones) -> tuple[int, list[float], torch.Tensor]:
    """The checked seed, sorted milestones and image ``x`` of :func:`paper_image_attack`."""
    if not callable(network):
        raise ValueError(f"network must be a callable nn.Module, got {type(network).__name__}")
    if not callable(getattr(operator, "forward", None)):
        raise ValueError(f"operator must have a forward(image) method, got {type(operator).__name__}")
    for name, value in (("relative_norm", relative_norm), ("lr", lr), ("start_scale", start_scale)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    if not (isinstance(penalty, (int, float)) and math.isfinite(penalty) and penalty >= 0):
        raise ValueError(f"penalty must be finite and >= 0, got {penalty!r}")
    if not (isinstance(momentum, (int, float)) and 0 <= momentum < 1):
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) or max_steps < 0:
        raise ValueError(f"max_steps must be an integer >= 0, got {max_steps!r}")
    if reference not in ("measurements", "image"):
        raise ValueError(f"reference must be 'measurements' or 'image', got {reference!r}")
    seed = _check_seed(seed)
    marks = sorted(float(m) for m in milestones)
    if any(not (math.isfinite(m) and 0 < m <= relative_norm) for m in marks):
        raise ValueError(f"milestones must be in (0, relative_norm = {relative_norm}], got {list(milestones)!r}")
    x = torch.as_tensor(image)
    if x.is_complex() or not x.is_floating_point():
        raise ValueError(f"image must be a real floating-point image (N, N), got dtype {x.dtype}")
    if x.ndim != 2 or x.shape[0] != x.shape[1]:
        raise ValueError(f"image must have shape (N, N), got {tuple(x.shape)}")
    return seed, marks, x.detach()


class _PaperAscent:
    """The authors' search as steps: evaluate an iterate, record it, test for the end,
    update (TensorFlow's Nesterov momentum on the raw gradient, real and imaginary parts
    apart)."""

    def __init__(self, network, operator, x: torch.Tensor, *, lr: float, momentum: float, penalty: float,
                 max_steps: int, callback) -> None:
        self.network, self.operator, self.x = network, operator, x
        self.cdtype = _complex_dtype(x.dtype)
        self.lr, self.momentum, self.penalty, self.max_steps = lr, momentum, penalty, max_steps
        self.callback = callback
        self.norms: list[float] = []
        self.objective: list[float] = []
        self.kept: dict[float, torch.Tensor] = {}
        self.steps = 0
        self.reached = False
        self.clean_data = self.clean_out = None  # set by clean()
        self.reference_norm = self.max_norm = math.nan  # set by clean() and run()

    def data_of(self, r_re: torch.Tensor, r_im: torch.Tensor) -> torch.Tensor:
        """``A(x + r)`` for ``r = r_re + i r_im``."""
        return self.operator.forward(torch.complex(self.x + r_re, r_im).to(self.cdtype))

    def clean(self, reference: str) -> float:
        """Compute ``A x`` and ``f(A x)``; return the reference norm (``||A x||`` or ``||x||``)."""
        zero = torch.zeros_like(self.x)
        with torch.no_grad():
            self.clean_data = self.data_of(zero, zero)
            self.clean_out = self.network(self.clean_data)
        ref = float(_norm(self.clean_data)) if reference == "measurements" else float(_norm(self.x))
        if ref == 0:
            raise ValueError(f"the reference norm ({reference}) is zero: a relative norm is meaningless")
        self.reference_norm = ref
        return ref

    def run(self, r_re: torch.Tensor, r_im: torch.Tensor, *, max_norm: float, marks: list[float]
            ) -> tuple[torch.Tensor, torch.Tensor]:
        """Search from ``r_re + i r_im``; the perturbation returned and the network's output there."""
        self.max_norm = max_norm
        v_re, v_im = torch.zeros_like(r_re), torch.zeros_like(r_im)
        while True:
            out, obj = self.evaluate(r_re, r_im)
            self.record(r_re.detach(), r_im.detach(), float(obj.detach()), marks)
            if self.done():
                break
            r_re, r_im, v_re, v_im = self.update(r_re, r_im, v_re, v_im, obj)
        r = torch.complex(r_re.detach(), r_im.detach())
        if not (self.reached and self.norms[-1] > max_norm):
            return r, out.detach()
        # The authors keep the overshoot; scaled back, the norm holds exactly.
        r = _onto_sphere(r, self.norms[-1], max_norm)
        with torch.no_grad():
            return r, self.network(self.data_of(r.real, r.imag))

    def done(self) -> bool:
        """Whether the search ends at the iterate just recorded: the stop norm or ``max_steps`` reached."""
        return self.reached or self.steps == self.max_steps

    def evaluate(self, r_re: torch.Tensor, r_im: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``f(A(x + r))`` and ``Q(r)``, differentiable in ``r_re`` and ``r_im``."""
        r_re.requires_grad_(True)
        r_im.requires_grad_(True)
        out = self.network(self.data_of(r_re, r_im))
        diff = out - self.clean_out
        penalty = 0.5 * self.penalty * (torch.sum(r_re * r_re) + torch.sum(r_im * r_im))
        return out, 0.5 * torch.sum(diff * diff) - penalty

    def record(self, r_re: torch.Tensor, r_im: torch.Tensor, objective: float, marks: list[float]) -> None:
        """Norm and objective of the iterate, the milestones it reaches, whether it reached the end."""
        norm = math.hypot(float(_norm(r_re)), float(_norm(r_im)))
        self.norms.append(norm)
        self.objective.append(objective)
        if self.callback is not None:
            self.callback(self.steps, norm, objective)
        if self.steps > 0:
            for mark in marks:
                if mark not in self.kept and norm >= mark * self.reference_norm:
                    iterate = torch.complex(r_re, r_im)
                    radius = mark * self.reference_norm
                    self.kept[mark] = iterate if norm == radius else _onto_sphere(iterate, norm, radius)
            self.reached = norm >= self.max_norm

    def update(self, r_re: torch.Tensor, r_im: torch.Tensor, v_re: torch.Tensor, v_im: torch.Tensor,
               objective: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """One momentum step: the next ``r_re``, ``r_im`` and velocities."""
        g_re, g_im = torch.autograd.grad(objective, (r_re, r_im))
        r_re, r_im = r_re.detach(), r_im.detach()
        v_re = self.momentum * v_re + g_re
        v_im = self.momentum * v_im + g_im
        r_re = r_re + self.lr * (g_re + self.momentum * v_re)
        r_im = r_im + self.lr * (g_im + self.momentum * v_im)
        self.steps += 1
        return r_re, r_im, v_re, v_im
