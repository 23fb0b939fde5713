"""Running the reconstruction methods and the long computations, with live progress.

FIRENET's convergence curve is redrawn after every restart while it runs; the long
computations (Chambolle-Pock baselines of the convergence plot, worst-case searches,
stability curves) run after the rest of the page is on screen, with progress bars.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from explorer import compute, figures, timing, variants
from explorer.charts import (
    CHART,
    STABILITY_BUDGETS,
    draw_convergence,
    stability_networks,
)
from explorer.results import Results
from explorer.settings import Settings
from explorer.specs import METHOD_LABELS
from explorer.text import plain
from solver.problem import Problem
from solver.trace import Trace

__all__ = ["run_methods", "finish_long_tasks"]


def _live_drawer(slot: Any, progress: Any, settings: Settings, tag: str) -> Any:
    from solver.trace import certify

    fs = settings.firenet
    last = [-1.0]

    def draw(partial: Trace, layer: int) -> None:
        if layer == fs.stops[0]:
            timing.mark("first_restart")
        progress.progress(min(layer / fs.depth, 1.0), text=f"FIRENET: {layer} of {fs.depth} layers")
        # Each redraw sends the whole chart (~40 kB): at most one a second, and the first.
        now = time.perf_counter()
        if now - last[0] < 1.0 and last[0] >= 0:
            return
        last[0] = now
        gaps, bound = certify({"FIRENET": partial})
        curves = {"FIRENET": {"layer": partial.layer, "error": partial.error, "gap": gaps["FIRENET"]}}
        eps = [e / bound for e in partial.eps] if bound > 0 else None
        fig = figures.convergence_figure(curves, restart_layers=partial.restart_layers, eps=eps,
                                         last_layer=layer)
        fig.update_xaxes(range=[0, fs.depth])
        slot.plotly_chart(fig, key=f"conv_live_{tag}_{layer}", config=CHART)

    return draw


def run_methods(settings: Settings, base: Problem, variant: variants.Variant | None, conv_slot: Any,
                progress_slot: Any) -> Results:
    """Reconstruct with every method shown (FIRENET always: the convergence panel needs
    it), streaming FIRENET's convergence curve into ``conv_slot`` while it runs.

    While a worst-case search is still pending the run is on the clean data only, and the
    perturbed run follows: its curve is the one the panel keeps, so only that one is
    streamed (each redraw sends the whole chart).
    """
    fs = settings.firenet
    live = settings.view.live and (variant is None or variant.pending is None)
    methods = ["firenet", *[m for m in settings.view.show if m != "firenet"]]
    perturbed = variant is not None and variant.pending is None
    card, reason = compute.unet_status()
    out = Results()
    for method in methods:
        if method in ("unet", "unet_firenet") and card is None:
            out.errors[method] = reason or "The U-Net is not available."
            continue
        given = variant.problems[method] if perturbed else base
        out.problems[method] = given
        drawer = None
        if method == "firenet" and live and compute.cached_reconstruction(method, given, fs) is None:
            drawer = _live_drawer(conv_slot, progress_slot.progress(0.0, text="FIRENET: starting"), settings,
                                  compute.digest(given)[:12])
        try:
            out.main[method] = compute.reconstruct(method, given, fs, drawer)
            out.clean[method] = (compute.reconstruct(method, base, fs) if given is not base
                                 else out.main[method])
        except (RuntimeError, ValueError) as error:
            out.errors[method] = f"{METHOD_LABELS[method]} could not run: {error}"
            continue
        if drawer is not None:
            progress_slot.empty()
    return out


def _baseline_drawer(settings: Settings, results: Results, method: str, slot: Any) -> Any:
    """Redraw the convergence plot with a running baseline, at most twice a second.

    Besides showing progress, each redraw is a point where Streamlit can stop this run
    when the user changes something (it only checks on page updates).
    """
    last = [time.perf_counter()]

    def draw(partial: Trace, layer: int) -> None:
        now = time.perf_counter()
        if now - last[0] < 0.5:
            return
        last[0] = now
        draw_convergence(settings, results, slot, key=f"conv_base_{method}_{layer}",
                         extra={METHOD_LABELS[method]: partial})

    return draw


def finish_long_tasks(settings: Settings, base: Problem, variant: variants.Variant | None, results: Results,
                      conv_slot: Any, pert_slot: Any, stab_slot: Any) -> None:
    """Work that may take seconds to minutes, done after everything else is on screen.

    The Chambolle-Pock baselines of the convergence plot, a requested worst-case search
    and requested stability curves. Each shows progress; interacting with the page
    meanwhile interrupts it (and it resumes on the next run while still requested).
    """
    ss = st.session_state
    fs = settings.firenet
    given = results.problems.get("firenet")
    if given is not None and settings.view.compare:
        missing = [m for m in ("cp", "cp_adaptive") if compute.cached_reconstruction(m, given, fs) is None]
        if missing:
            try:
                for method in missing:
                    compute.reconstruct(method, given, fs, _baseline_drawer(settings, results, method, conv_slot))
            except (RuntimeError, ValueError) as error:
                st.warning(plain(f"The Chambolle-Pock baselines could not run: {error}", limit=400))
            else:
                draw_convergence(settings, results, conv_slot, key="conv_fig_baselines")

    if variant is not None and variant.pending is not None and ss["attack_request"]:
        _run_attacks(settings, base, pert_slot)

    if ss["stability_request"]:
        names = stability_networks(settings)
        bar = stab_slot.progress(0.0, text="Stability curves")
        chart = stab_slot.empty()

        def report(fraction: float, text: str) -> None:
            bar.progress(fraction, text=f"Stability curves: {text} (press Stop or change a setting to cancel)")

        def grow(partial: dict) -> None:
            points = sum(len(c["size"]) for c in partial.values())
            chart.plotly_chart(figures.stability_figure(partial), key=f"stab_fig_partial_{points}", config=CHART)

        try:
            curves = variants.stability(base, fs, names, STABILITY_BUDGETS, settings.perturbation.stability_steps,
                                        progress=report, on_curves=grow)
        except (RuntimeError, ValueError) as error:
            stab_slot.error(plain(f"The stability curves could not be computed: {error}", limit=400))
            curves = None
        ss["stability_request"] = False
        bar.empty()
        if curves is not None:
            chart.plotly_chart(compute.figure("stability_figure", curves), key="stab_fig_new", config=CHART)


def _run_attacks(settings: Settings, base: Problem, pert_slot: Any) -> None:
    ss = st.session_state
    with pert_slot:
        targets = {"worst_unet": ("unet",), "worst_firenet": ("firenet",),
                   "transfer": ("unet", "firenet")}[settings.perturbation.kind]
        for target in targets:
            name = "the U-Net" if target == "unet" else "FIRENET"
            bar = st.progress(0.0, text=f"Worst-case search against {name}")

            def report(fraction: float, text: str, bar: Any = bar, name: str = name) -> None:
                bar.progress(fraction, text=f"Against {name}: {text}")

            try:
                variants.attack(target, base, settings.firenet, settings.perturbation, progress=report)
            except (RuntimeError, ValueError) as error:
                st.error(plain(f"The worst-case search against {name} failed: {error}", limit=400))
                ss["attack_request"] = False
                return
    ss["attack_request"] = False
    ss["_keep_notes"] = True
    st.rerun()
