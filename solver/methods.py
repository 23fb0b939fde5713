"""Every reconstruction method by name: one registry, one way to build a network.

Each method is a ``torch.nn.Module`` mapping data ``y (..., M) complex`` to a real image
``(..., N, N)``; the iterative ones also take ``callback=`` (one
:class:`solver.firenet.LayerRecord` per layer), which :func:`solver.trace.run` uses to
record convergence.

Examples
--------
>>> from solver import firenet, methods, problem, sampling, phantoms
>>> from solver.trace import run
>>> p = problem.make_problem(phantoms.shepp_logan(64), sampling.make_mask("multilevel", 64, 0.25))
>>> A = p.measurement("haar")
>>> net = methods.build("firenet", A, firenet=firenet.RECOMMENDED)
>>> trace = run(net, p.y, reference=p.truth)                        # doctest: +SKIP
>>> image = net(p.y)                                                    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from solver.validation import check_choice, check_int, check_positive

__all__ = ["Method", "METHODS", "build"]


@dataclass(frozen=True)
class Method:
    """What the registry knows about a method.

    Attributes
    ----------
    label : str
        Name shown to people.
    iterative : bool
        Whether it is a sequence of primal-dual (or gradient) layers with a convergence
        record.
    learned : bool
        Whether it needs the trained U-Net.
    description : str
    """

    label: str
    iterative: bool
    learned: bool
    description: str


METHODS: dict[str, Method] = {
    "zero_filled": Method("Zero-filled", False, False,
                          "The adjoint A* y: unmeasured coefficients set to zero."),
    "firenet": Method("FIRENET", True, False,
                      "Restarted primal-dual network for the weighted sqrt-LASSO "
                      "(weights computed, not trained)."),
    "firenet_paper": Method("FIRENET, paper's 5 x 5", True, False,
                            "FIRENET with the paper's schedule: 5 restarts of 5 layers, nu = 1/e, "
                            "C = 1, ergodic output (it stops far from the minimiser; see the "
                            "README)."),
    "firenet_paper_10": Method("FIRENET, paper's 5 x 10", True, False,
                               "FIRENET with the paper's schedule for its brain image: 5 restarts of 10 "
                               "layers, otherwise as the 5 x 5 one."),
    "unet": Method("U-Net", False, True, "The trained U-Net applied to the zero-filled image."),
    "unet_firenet": Method("U-Net then FIRENET", True, True,
                           "FIRENET started from the U-Net's output."),
    "cp": Method("Chambolle-Pock", True, False,
                 "Plain Chambolle-Pock, tau = sigma = 1, no restarts."),
    "cp_adaptive": Method("Chambolle-Pock, adaptive steps", True, False,
                          "Chambolle-Pock whose primal-dual step balance follows the certified "
                          "gap (solver.baselines.AdaptiveChambollePock): no tuned ratio."),
    "fista": Method("FISTA", True, False,
                    "FISTA on the matching squared LASSO (lam2 = lam * expected residual)."),
}


def build(
    name: str,
    A: Any,
    *,
    lam: float = 2.5e-4,
    weights: Any = None,
    iterations: int = 300,
    firenet: Mapping[str, Any] | None = None,
    unet: Any = None,
) -> nn.Module:
    """Build the reconstruction network ``name`` for the measurement ``A``.

    Parameters
    ----------
    name : str
        A key of :data:`METHODS`.
    A : solver.operators.WaveletMeasurement
        ``A = P F W^-1`` (``Problem.measurement``); the U-Net uses its sampling part.
    lam : float, default 2.5e-4
        Sparsity weight of the sqrt-LASSO (FIRENET and the baselines).
    weights : torch.Tensor, shape (N, N), optional
        l1 weights (``solver.wavelets.level_weights``); unit weights when ``None``.
    iterations : int, default 300
        Depth of Chambolle-Pock and FISTA.
    firenet : mapping, optional
        Keyword arguments of :class:`solver.firenet.FIRENET` (``restarts``, ``layers``,
        ``nu``, ``sharpness``, ``output``, ...); the paper's defaults where missing. A
        ``lam`` in it (as in ``solver.firenet.RECOMMENDED``) replaces ``lam``.
    unet : solver.networks.UNet, optional
        The trained network (``solver.networks.load_network``); needed by the learned
        methods.

    Raises
    ------
    ValueError
        For an unknown name, a learned method without ``unet``, or a parameter out of
        range (naming it).
    """
    check_choice("name", name, METHODS)
    options = dict(firenet or {})
    # A parameter set such as solver.firenet.RECOMMENDED carries its own lam.
    lam = check_positive("lam", options.pop("lam", lam))
    from solver.baselines import FISTA, AdaptiveChambollePock, ChambollePock, zero_filled
    from solver.firenet import FIRENET, PAPER_DEFAULTS

    if name == "zero_filled":
        return zero_filled(A)
    if METHODS[name].learned:
        if unet is None:
            raise ValueError(f"unet is needed for the method {name!r} (a trained solver.networks.UNet)")
        from solver.networks import LearnedReconstruction, UNetThenFIRENET

        learned = LearnedReconstruction(A.sampling, unet)
        if name == "unet":
            return learned
        return UNetThenFIRENET(learned, FIRENET(A, lam=lam, weights=weights, **options))
    if name == "firenet":
        return FIRENET(A, lam=lam, weights=weights, **options)
    if name in ("firenet_paper", "firenet_paper_10"):
        schedule = {k: PAPER_DEFAULTS[k] for k in ("layers", "nu", "sharpness", "tau", "sigma", "delta", "output")}
        if name == "firenet_paper_10":
            schedule["layers"] = 10
        return FIRENET(A, lam=lam, weights=weights, restarts=5, **schedule)
    iterations = check_int("iterations", iterations, low=1)
    if name == "cp":
        return ChambollePock(A, lam=lam, weights=weights, iterations=iterations)
    if name == "cp_adaptive":
        return AdaptiveChambollePock(A, lam=lam, weights=weights, iterations=iterations)
    return FISTA(A, lam=lam, weights=weights, iterations=iterations)
