"""Every reconstruction method by name: the one registry, and one way to build a network.

Each entry of :data:`METHODS` says everything the rest of the project needs to know
about a method: the label people read, the colour every chart draws it in, whether it
needs the trained U-Net, which settings of a :class:`solver.recipe.Recipe` its output
depends on (the explorer's cache keys and time estimates read this), and the function
that builds it. The page's list of methods, its cache keys, its estimates and charts,
the reproduction sweeps and their figures all derive from this table, so adding a
method is adding its module and one entry here; no method's name or label is written
anywhere else (``tests/test_registry.py`` checks both).

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
>>> net = methods.build(methods.FIRENET, A, firenet=firenet.RECOMMENDED)
>>> trace = run(net, p.y, reference=p.truth)                        # doctest: +SKIP
>>> image = net(p.y)                                                    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from solver.recipe import ITERATIONS, LAM, Recipe
from solver.validation import check_choice, check_int, check_positive

__all__ = [
    "Method",
    "METHODS",
    "Parts",
    "SweepVariant",
    "SWEEP_VARIANTS",
    "build",
    "from_recipe",
    "sweep_entry",
    "sweep_names",
    "sweep_schedule",
    "ZERO_FILLED",
    "FIRENET",
    "FIRENET_PAPER",
    "FIRENET_PAPER_10",
    "UNET",
    "UNET_FIRENET",
    "CP",
    "CP_ADAPTIVE",
    "CP_TUNED",
    "FISTA",
    "FIRENET_5X5",
    "SHOWN_FIRST",
    "STABILITY_NETWORKS",
]

# The methods' keys: what URLs, cache keys and results files carry.
ZERO_FILLED = "zero_filled"
FIRENET = "firenet"
FIRENET_PAPER = "firenet_paper"
FIRENET_PAPER_10 = "firenet_paper_10"
UNET = "unet"
UNET_FIRENET = "unet_firenet"
CP = "cp"
CP_ADAPTIVE = "cp_adaptive"
CP_TUNED = "cp_tuned"
FISTA = "fista"
#: The reproduction sweeps' name for the paper's 5 x 5 FIRENET (see SWEEP_VARIANTS).
FIRENET_5X5 = "firenet_5x5"

#: Settings of a :class:`solver.recipe.Recipe` that a method's output may depend on.
#: ``weights`` stands for the scheme with its threshold and typed sparsities.
_PROBLEM_SETTINGS = ("lam", "wavelet", "levels", "weights")


@dataclass(frozen=True)
class Parts:
    """What a builder gets: the measurement and the resolved settings.

    Attributes
    ----------
    A : solver.operators.WaveletMeasurement
    lam : float
    weights : torch.Tensor or None
    iterations : int
    firenet : dict
        Keyword arguments of :class:`solver.firenet.FIRENET` (without ``lam``).
    unet : solver.networks.UNet or None
    """

    A: Any
    lam: float
    weights: Any
    iterations: int
    firenet: dict[str, Any]
    unet: Any


@dataclass(frozen=True)
class Method:
    """What the registry knows about a method.

    Attributes
    ----------
    label : str
        Name shown to people (legends, captions, the page's list).
    colour : str
        Its colour in every chart (``#rrggbb``).
    description : str
        One sentence on what it computes.
    build : callable(Parts) -> nn.Module
        Builds the network.
    depends_on : tuple of str
        The :class:`solver.recipe.Recipe` fields its output depends on (besides the
        data): cache keys and estimates read them. ``"schedule"`` is FIRENET's whole
        schedule, ``"iterations"`` the baselines' depth.
    iterative : bool
        Whether it is a sequence of primal-dual (or gradient) layers with a convergence
        record.
    learned : bool
        Whether it needs the trained U-Net.
    in_text : str
        How a sentence names it ("the U-Net"); the label when empty.
    stages : tuple of str
        Methods it runs one after the other (U-Net then FIRENET): its cost is theirs.
    convergence : bool
        Drawn in the page's convergence chart when it ran on FIRENET's data.
    baseline : bool
        One of the baselines the page runs for "Compare with Chambolle-Pock".
    sweep_schedule : callable(size) -> dict, optional
        FIRENET's schedule the reproduction sweeps resolve for it at image side ``size``.
    """

    label: str
    colour: str
    description: str
    build: Callable[[Parts], nn.Module]
    depends_on: tuple[str, ...] = ()
    iterative: bool = False
    learned: bool = False
    in_text: str = ""
    stages: tuple[str, ...] = ()
    convergence: bool = False
    baseline: bool = False
    sweep_schedule: Callable[[int], Mapping[str, Any]] | None = field(default=None, compare=False)

    @property
    def name_in_text(self) -> str:
        return self.in_text or self.label


# --------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------
def _zero_filled(p: Parts) -> nn.Module:
    from solver.baselines import zero_filled

    return zero_filled(p.A)


def _firenet(p: Parts) -> nn.Module:
    from solver.firenet import FIRENET as Network

    return Network(p.A, lam=p.lam, weights=p.weights, **p.firenet)


def _paper_schedule(restarts: int) -> dict[str, Any]:
    """The paper's fixed schedule (5 layers per restart, nu = 1/e, C = 1, ergodic output)."""
    from solver.firenet import PAPER_DEFAULTS

    keys = ("layers", "nu", "sharpness", "tau", "sigma", "delta", "output")
    return {"restarts": restarts, **{k: PAPER_DEFAULTS[k] for k in keys}}


def _firenet_paper(p: Parts) -> nn.Module:
    from solver.firenet import FIRENET as Network

    return Network(p.A, lam=p.lam, weights=p.weights, **_paper_schedule(5))


def _firenet_paper_10(p: Parts) -> nn.Module:
    from solver.firenet import FIRENET as Network

    return Network(p.A, lam=p.lam, weights=p.weights, **{**_paper_schedule(5), "layers": 10})


def _learned(p: Parts) -> nn.Module:
    from solver.networks import LearnedReconstruction

    return LearnedReconstruction(p.A.sampling, p.unet)


def _unet_firenet(p: Parts) -> nn.Module:
    from solver.networks import UNetThenFIRENET

    return UNetThenFIRENET(_learned(p), _firenet(p))


def _cp(p: Parts) -> nn.Module:
    from solver.baselines import ChambollePock

    return ChambollePock(p.A, lam=p.lam, weights=p.weights, iterations=p.iterations)


def _cp_adaptive(p: Parts) -> nn.Module:
    from solver.baselines import AdaptiveChambollePock

    return AdaptiveChambollePock(p.A, lam=p.lam, weights=p.weights, iterations=p.iterations)


def _cp_tuned(p: Parts) -> nn.Module:
    from solver.baselines import ChambollePock
    from solver.legacy import CP_FIXED_RATIO, CP_FIXED_RATIO_UNIFORM

    # measured for every size the sampling code allows (powers of two, 32 to 1024)
    table = CP_FIXED_RATIO_UNIFORM if p.weights is None else CP_FIXED_RATIO
    return ChambollePock(p.A, lam=p.lam, weights=p.weights, iterations=p.iterations,
                         ratio=table[p.A.size])


def _fista(p: Parts) -> nn.Module:
    from solver.baselines import FISTA as Network

    return Network(p.A, lam=p.lam, weights=p.weights, iterations=p.iterations)


def _fixed_schedule(size: int) -> dict[str, Any]:
    from solver.legacy import fixed_schedule

    return fixed_schedule(size)


def _paper_5x5(size: int) -> dict[str, Any]:
    return _paper_schedule(5)


_ALL = (*_PROBLEM_SETTINGS, "schedule")
_DEPTH = (*_PROBLEM_SETTINGS, "iterations")

METHODS: dict[str, Method] = {
    ZERO_FILLED: Method("Zero-filled", "#7f7f7f", "The adjoint A* y: unmeasured coefficients set to zero.",
                        _zero_filled),
    FIRENET: Method("FIRENET", "#d62728",
                    "Restarted primal-dual network for the weighted sqrt-LASSO (weights computed, not trained).",
                    _firenet, _ALL, iterative=True, sweep_schedule=_fixed_schedule),
    FIRENET_PAPER: Method("FIRENET, paper's 5 x 5", "#e377c2",
                          "FIRENET with the paper's schedule: 5 restarts of 5 layers, nu = 1/e, C = 1, ergodic "
                          "output (it stops far from the minimiser; see docs/schedules.md).",
                          _firenet_paper, _PROBLEM_SETTINGS, iterative=True, in_text="FIRENET 5x5 (paper)",
                          sweep_schedule=_paper_5x5),
    FIRENET_PAPER_10: Method("FIRENET, paper's 5 x 10", "#bcbd22",
                             "FIRENET with the paper's schedule for its brain image: 5 restarts of 10 layers, "
                             "otherwise as the 5 x 5 one.",
                             _firenet_paper_10, _PROBLEM_SETTINGS, iterative=True),
    UNET: Method("U-Net", "#9467bd", "The trained U-Net applied to the zero-filled image.", _learned,
                 learned=True, in_text="the U-Net"),
    UNET_FIRENET: Method("U-Net then FIRENET", "#8c564b", "FIRENET started from the U-Net's output.",
                         _unet_firenet, _ALL, iterative=True, learned=True, stages=(UNET, FIRENET),
                         convergence=True, sweep_schedule=_paper_5x5),
    CP: Method("Chambolle-Pock", "#1f77b4", "Plain Chambolle-Pock, tau = sigma = 1, no restarts.", _cp,
               _DEPTH, iterative=True, convergence=True, baseline=True),
    CP_ADAPTIVE: Method("Chambolle-Pock, adaptive steps", "#17becf",
                        "Chambolle-Pock whose primal-dual step balance follows the certified gap "
                        "(solver.baselines.AdaptiveChambollePock): no tuned ratio.",
                        _cp_adaptive, _DEPTH, iterative=True, convergence=True, baseline=True),
    CP_TUNED: Method("Chambolle-Pock, tuned ratio", "#2ca02c",
                     "Chambolle-Pock with the step ratio measured best for the size "
                     "(solver.legacy.CP_FIXED_RATIO; unit weights: CP_FIXED_RATIO_UNIFORM).",
                     _cp_tuned, _DEPTH, iterative=True, convergence=True),
    FISTA: Method("FISTA", "#ff7f0e", "FISTA on the matching squared LASSO (lam2 = lam * expected residual).",
                  _fista, _DEPTH, iterative=True, convergence=True),
}

#: The methods a fresh page shows, in the order of its first screen.
SHOWN_FIRST = (ZERO_FILLED, FIRENET_PAPER, FIRENET, UNET)

#: The networks of the page's stability curves in their order, each with whether it is
#: always there (the U-Net when it is available) or only when shown.
STABILITY_NETWORKS = ((UNET, True), (FIRENET_PAPER, True), (FIRENET_PAPER_10, True), (FIRENET, True),
                      (UNET_FIRENET, False))


@dataclass(frozen=True)
class SweepVariant:
    """A name of the reproduction sweeps for FIRENET at one of the paper's fixed
    schedules (the name is kept for the results files)."""

    label: str
    colour: str
    restarts: int

    @property
    def method(self) -> str:
        return FIRENET


#: The sweeps' own names for FIRENET with the paper's schedule: 16 x 5 (its convergence
#: experiment; in the sweeps ``firenet_paper`` means this network) and 5 x 5 (its
#: stability and detail experiments, the page's ``firenet_paper``).
SWEEP_VARIANTS: dict[str, SweepVariant] = {
    FIRENET_PAPER: SweepVariant("FIRENET, paper 16 x 5", "#ff9896", 16),
    FIRENET_5X5: SweepVariant("FIRENET 5 x 5", METHODS[FIRENET_PAPER].colour, 5),
}


def sweep_entry(name: str) -> tuple[str, str, str]:
    """A sweep's method name resolved: its registry key, label and colour."""
    check_choice("method", name, sweep_names())
    if name in SWEEP_VARIANTS:
        variant = SWEEP_VARIANTS[name]
        return variant.method, variant.label, variant.colour
    return name, METHODS[name].label, METHODS[name].colour


def sweep_schedule(name: str, size: int) -> dict[str, Any] | None:
    """FIRENET's schedule of the sweep's method ``name`` at image side ``size`` (None for
    a method without FIRENET)."""
    check_choice("method", name, sweep_names())
    if name in SWEEP_VARIANTS:
        return _paper_schedule(SWEEP_VARIANTS[name].restarts)
    schedule = METHODS[name].sweep_schedule
    return None if schedule is None else dict(schedule(size))


def sweep_names() -> tuple[str, ...]:
    """Every method name the reproduction sweeps accept."""
    return tuple(dict.fromkeys((*METHODS, *SWEEP_VARIANTS)))


def build(
    name: str,
    A: Any,
    *,
    lam: float = LAM,
    weights: Any = None,
    iterations: int = ITERATIONS,
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
    lam : float, default solver.recipe.LAM
        Sparsity weight of the sqrt-LASSO (FIRENET and the baselines).
    weights : torch.Tensor, shape (N, N), optional
        l1 weights (``solver.recipe.l1_weights``); unit weights when ``None``.
    iterations : int, default solver.recipe.ITERATIONS
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
    entry = METHODS[name]
    options = dict(firenet or {})
    # A parameter set such as solver.firenet.RECOMMENDED carries its own lam.
    lam = check_positive("lam", options.pop("lam", lam))
    if entry.learned and unet is None:
        raise ValueError(f"unet is needed for the method {name!r} (a trained solver.networks.UNet)")
    if "iterations" in entry.depends_on:
        iterations = check_int("iterations", iterations, low=1)
    return entry.build(Parts(A, lam, weights, iterations, options, unet))


def from_recipe(recipe: Recipe, A: Any, *, weights: Any = None, unet: Any = None) -> nn.Module:
    """The network ``recipe`` describes, for the measurement ``A`` (``recipe.measurement``)
    with the l1 ``weights`` of its scheme (``solver.recipe.l1_weights``)."""
    return build(recipe.method, A, lam=recipe.lam, weights=weights, iterations=recipe.iterations,
                 firenet=recipe.schedule, unet=unet)
