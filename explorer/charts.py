"""What the convergence and stability panels plot, shared by the page's drawing and the
live redraws while methods run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from explorer import compute
from explorer.presentation import chart_text
from explorer.settings import Settings
from explorer.specs import METHOD_LABELS
from solver.methods import FIRENET, METHODS, STABILITY_NETWORKS
from solver.objective import SINGLE_PRECISION_FLOOR
from solver.trace import certify, own_certificate

if TYPE_CHECKING:
    from explorer.results import Results

__all__ = ["CHART", "FIRENET_LABEL", "STABILITY_BUDGETS", "stability_networks", "kernel_networks",
           "convergence_curves", "certificate_note", "target_note", "draw_convergence"]

#: FIRENET's curve in the convergence chart (curves are named by their labels).
FIRENET_LABEL = METHODS[FIRENET].label

#: Plotly chart options of every chart on the page. The mouse wheel scrolls the page, not
#: the chart under the pointer (zoom: drag a box, or the mode bar).
CHART = {"displaylogo": False, "scrollZoom": False}

#: Relative budgets ||e|| / ||y|| of the stability curves: the sweep's range (K barely
#: changes between them), three points so the curves come in well under a minute.
STABILITY_BUDGETS = (0.01, 0.02, 0.05)


def stability_networks(settings: Settings) -> tuple[str, ...]:
    """The networks of the stability curves (``solver.methods.STABILITY_NETWORKS``): the
    U-Net (when available), FIRENET with the paper's fixed schedules (5 x 5 and 5 x 10: the
    ones its stability theorem covers) and the page's FIRENET always, the others when
    shown; learned ones only when the U-Net is available."""
    card, _ = compute.unet_status()
    return tuple(m for m, always in STABILITY_NETWORKS
                 if (always or m in settings.view.show) and (card is not None or not METHODS[m].learned))


def kernel_networks(settings: Settings, computed: Sequence[str]) -> tuple[str, ...]:
    """The networks of the kernel bound: those of the stability curves and every other
    method on the page (``computed``: the methods with a result)."""
    shown = [m for m in settings.view.show if m in computed]
    return tuple(dict.fromkeys([*stability_networks(settings), *shown]))


def convergence_curves(settings: Settings, results: Results, extra: dict[str, Any] | None = None
                       ) -> tuple[dict, list[int], list[float], int]:
    """Certified curves of every iterative method run on FIRENET's data (against layers and
    seconds; FIRENET's also with its own certificate), FIRENET's restart layers, its eps_k
    schedule on the same relative scale, and its depth."""
    fs = settings.firenet
    given = results.problems.get(FIRENET)
    raw: dict[str, Any] = {}
    firenet = results.main.get(FIRENET)
    if firenet is not None and firenet.layer:
        raw[FIRENET_LABEL] = firenet
    for method, entry in METHODS.items():
        if not entry.convergence:
            continue
        # Only runs on the same data share the lower bound (a transferred perturbation
        # gives U-Net then FIRENET other data).
        if given is None or compute.digest(results.problems.get(method, given)) != compute.digest(given):
            continue
        result = results.main.get(method)
        if result is None and entry.baseline:  # run after the page by "Compare"
            result = compute.cached_reconstruction(method, given, fs)
        if result is not None and result.layer:
            raw[METHOD_LABELS[method]] = result
    raw.update(extra or {})
    gaps, bound = certify(raw)
    curves = {name: {"layer": trace.layer, "error": trace.error, "gap": gaps[name], "seconds": trace.time}
              for name, trace in raw.items()}
    if FIRENET_LABEL in curves:
        # beside the gap certified by every run's best dual: what FIRENET certifies alone
        curves[FIRENET_LABEL]["own"] = own_certificate(raw[FIRENET_LABEL])
    if firenet is None:
        return curves, [], [], fs.depth
    eps = [e / bound for e in firenet.eps] if bound > 0 else []
    return curves, firenet.restart_layers, eps, fs.depth


def _floor() -> float:
    return SINGLE_PRECISION_FLOOR


def target_note(target_gap: float) -> str:
    """One line under the target-gap control when the target lies below what the page's
    single precision can certify (:data:`solver.objective.SINGLE_PRECISION_FLOOR`), else
    "": FIRENET then finishes in double precision (``AdaptiveRule.mixed_precision``)."""
    floor = _floor()
    if not 0 < target_gap < floor:
        return ""
    return (f"Below {floor:.0e}: single precision cannot certify this gap (it stalls between 4e-6 and "
            f"8e-5, measured), so FIRENET continues in double precision once its gap reaches {floor:.0e} "
            f"or stops falling; those layers cost more.")


def certificate_note(own: Sequence[float], layers: Sequence[int], *, max_layers: int, target_gap: float) -> str:
    """One line under the convergence chart: what the adaptive FIRENET certified about its
    own output at its last layer, and whether it met the target gap ("" when it certified
    nothing).

    Parameters
    ----------
    own : sequence of float
        Its own certificate at the recorded layers (:func:`solver.trace.own_certificate`).
    layers : sequence of int
        The recorded layers (the last is where it stopped).
    max_layers : int
        Its depth limit.
    target_gap : float
        The early-stop target (0: none).
    """
    if not own or not layers or math.isnan(own[-1]):  # nan: no dual value yet
        return ""
    gap, last = own[-1], layers[-1]
    if target_gap > 0 and last < max_layers:
        return (f"FIRENET reached the target gap {target_gap:.1e} at layer {last:,} and stopped "
                f"there; its own certified relative gap: {gap:.1e}.")
    note = f"FIRENET's own certified relative gap after {last:,} layers: {gap:.1e}"
    if target_gap <= 0:
        return note + "."
    if gap <= target_gap:
        return note + f", within the target {target_gap:.1e}."
    note += f", above the target {target_gap:.1e}: more layers lower it"
    if target_gap < _floor():
        note += f"; below {_floor():.0e} its layers run in double precision"
    return note + ". A certified 1e-6 takes thousands of layers on line, spiral and 10 % radial masks (About)."


def draw_convergence(settings: Settings, results: Results, slot: Any, *, key: str = "conv_fig",
                     extra: dict[str, Any] | None = None) -> None:
    """Error and certified gap against layer, with restarts and the eps_k schedule; under
    them, for the adaptive schedule, what FIRENET certified about itself."""
    curves, restart_layers, eps, depth = convergence_curves(settings, results, extra)
    if not curves:
        slot.info("FIRENET did not run.")
        return
    fig = compute.figure("convergence_figure", curves, restart_layers=tuple(restart_layers),
                         eps=tuple(eps), depth=settings.view.depth, last_layer=depth,
                         text_size=chart_text(settings.view.present))
    fs = settings.firenet
    firenet = curves.get(FIRENET_LABEL)
    note = (certificate_note(firenet["own"], firenet["layer"], max_layers=fs.max_layers,
                             target_gap=fs.target_gap)
            if fs.adaptive and firenet is not None else "")
    if not note:
        slot.plotly_chart(fig, key=key, config=CHART)
        return
    box = slot.container()
    box.plotly_chart(fig, key=key, config=CHART)
    box.caption(note)
