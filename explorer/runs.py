"""Running the reconstruction methods and the long computations, with live progress.

FIRENET's convergence curve is redrawn while it runs (on the convergence page); the long
computations (Chambolle-Pock baselines of the convergence plot, worst-case searches,
stability curves) run after the rest of their page is on screen, with progress bars.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from explorer import compute, estimates, figures, state, timing, variants
from explorer.charts import (
    CHART,
    FIRENET_LABEL,
    STABILITY_BUDGETS,
    draw_convergence,
    kernel_networks,
    stability_networks,
)
from explorer.estimates import approximately, duration
from explorer.presentation import chart_text
from explorer.results import Results
from explorer.settings import Settings
from explorer.specs import METHOD_LABELS
from explorer.text import plain
from solver.methods import FIRENET, METHODS
from solver.problem import Problem
from solver.trace import Trace

__all__ = ["admitted", "attack_cancelled", "baselines", "cancel", "confirm", "finish_long_tasks", "run_methods",
           "running", "search"]

#: Shortest time between two live redraws of FIRENET's curve (seconds): a plotly figure
#: costs tens of milliseconds, and a deep run has hundreds of restarts.
REDRAW_SECONDS = 0.5
#: At most this many live redraws of the convergence chart between its first and last.
LIVE_REDRAWS = 6


# --------------------------------------------------------------------------------------
# Budgets, confirmation, cancellation
# --------------------------------------------------------------------------------------
def cancel(job: Any) -> None:
    """The Cancel button's action: ``job`` is not started again until asked for."""
    memory = state.memory()
    memory.cancelled = job
    if memory.confirmed == job:
        memory.confirmed = None
    if isinstance(job, tuple) and job and job[0] == "attack":
        memory.attack_request = False


def confirm(job: Any) -> None:
    """The Run button's action: start ``job`` even though it is over the budget."""
    memory = state.memory()
    memory.confirmed = job
    if memory.cancelled == job:
        memory.cancelled = None


def admitted(job: Any, estimate: float, what: str, slot: Any) -> bool:
    """Whether ``job`` may start now; if not, ``slot`` says why and offers to start it.

    A job the visitor cancelled waits for its button; so does one whose estimate is over
    the session's ``run_budget_seconds``, until confirmed.
    """
    memory = state.memory()
    budget = float(memory.run_budget_seconds)
    if memory.cancelled == job:
        with slot.container():
            st.info(f"{what} was cancelled.")
            st.button(f"Run it ({approximately(estimate)})", key=f"confirm_{_tag(job)}", on_click=confirm,
                      args=(job,))
        return False
    if estimate > budget and memory.confirmed != job:
        with slot.container():
            st.warning(f"{what} would take {approximately(estimate)} on this server, more than the "
                       f"{duration(budget)} the page starts by itself. Nothing runs until you ask.")
            st.button(f"Run it ({approximately(estimate)})", key=f"confirm_{_tag(job)}", type="primary",
                      on_click=confirm, args=(job,))
        return False
    return True


def _tag(job: Any) -> str:
    """A widget key for ``job`` (a page may run two jobs with the same description)."""
    import hashlib

    return hashlib.blake2b(repr(job).encode(), digest_size=8).hexdigest()


def running(job: Any, what: str, estimate: float, slot: Any) -> Callable[[float | None, str | None], None]:
    """Draw a progress bar with the estimate and a Cancel button in ``slot``; returns the
    ``tick(fraction, note)`` that updates the bar (every call is a point where Streamlit
    stops the script when the visitor leaves, cancels or changes a setting)."""
    start = time.perf_counter()
    with slot.container():
        bar = st.progress(0.0, text=f"{what}: starting ({approximately(estimate)})")
        st.button("Cancel", key=f"cancel_{_tag(job)}", on_click=cancel, args=(job,),
                  help="Stops the computation; the settings stay, and it can be started again.")
    last = [0.0]

    def tick(fraction: float | None, note: str | None) -> None:
        if fraction is not None:
            last[0] = min(max(float(fraction), 0.0), 1.0)
        elapsed = time.perf_counter() - start
        text = f"{what}: {elapsed:.0f} s of {approximately(estimate)}"
        bar.progress(last[0], text=text + (f" ({note})" if note else ""))

    return tick


def attack_cancelled() -> bool:
    """Whether the visitor cancelled the worst-case search of the current settings (the
    perturbation panel then does not start it by itself)."""
    job = state.memory().cancelled
    return isinstance(job, tuple) and bool(job) and job[0] == "attack"


def _drop_stale_attack(settings: Settings, base: Problem) -> None:
    """A worst-case search interrupted by a change of the settings it depends on is not
    restarted on the new settings: its request ends with it. A cancellation holds for
    its own settings only, until the visitor asks again."""
    memory = state.memory()
    job = _attack_job(settings, base)
    if attack_cancelled() and (memory.cancelled != job or memory.attack_request):
        memory.cancelled = None  # other settings, or the search's button was pressed
    started = memory.attack_started
    if started is not None and (not memory.attack_request or started != job):
        memory.attack_request = False
        memory.attack_started = None


def _attack_job(settings: Settings, base: Problem) -> tuple:
    targets = variants.SEARCH_TARGETS.get(settings.perturbation.kind, ())
    return ("attack", *(variants.attack_key(t, base, settings.firenet, settings.perturbation) for t in targets))


# --------------------------------------------------------------------------------------
# The methods
# --------------------------------------------------------------------------------------
def _live_drawer(slot: Any, settings: Settings, tag: str) -> Any:
    from solver.trace import certify, own_certificate

    fs = settings.firenet
    last = [-float("inf"), 0]  # time and layer of the last redraw

    def draw(partial: Trace, layer: int) -> None:
        first = layer == fs.stops[0]
        if first:
            timing.mark("first_restart")
        # Each redraw sends the whole chart: the first, the last, and between them at most one
        # every REDRAW_SECONDS and every 1/LIVE_REDRAWS of the depth, so a slow (busy) server
        # does not send more charts than a fast one.
        now = time.perf_counter()
        if not first and layer < fs.depth and (now - last[0] < REDRAW_SECONDS
                                               or layer - last[1] < fs.depth / LIVE_REDRAWS):
            return
        last[0], last[1] = now, layer
        gaps, bound = certify({FIRENET_LABEL: partial})
        curves = {FIRENET_LABEL: {"layer": partial.layer, "error": partial.error, "gap": gaps[FIRENET_LABEL],
                                  "seconds": partial.time, "own": own_certificate(partial)}}
        eps = [e / bound for e in partial.eps] if bound > 0 else None
        fig = figures.convergence_figure(curves, restart_layers=partial.restart_layers, eps=eps,
                                         last_layer=layer, text_size=chart_text(settings.view.present))
        fig.update_xaxes(range=[0, fs.depth])
        slot.plotly_chart(fig, key=f"conv_live_{tag}_{layer}", config=CHART)

    return draw


def run_methods(settings: Settings, base: Problem, variant: variants.Variant | None, conv_slot: Any,
                progress_slot: Any, clean: Results | None = None) -> Results:
    """Reconstruct with every method shown (FIRENET always: the first screen and the
    convergence page need it), streaming FIRENET's convergence curve into ``conv_slot``
    while it runs (``None``: no live curve, the page has no convergence chart).

    What is not stored yet runs with a progress bar, its estimate and a Cancel button in
    ``progress_slot``; over the session's budget it waits for the visitor's go-ahead.
    While a worst-case search is still pending the run is on the clean data only and the
    perturbed run follows: its curve is the one the panel keeps, so only that one is
    streamed (each redraw sends the whole chart).
    """
    _drop_stale_attack(settings, base)
    fs = settings.firenet
    live = settings.view.live and (variant is None or variant.pending is None)
    methods = [FIRENET, *[m for m in settings.view.show if m != FIRENET]]
    perturbed = variant is not None and variant.pending is None
    card, reason = compute.unet_status()
    out = Results()
    wanted: list[tuple[str, Problem]] = []
    for method in methods:
        if METHODS[method].learned and card is None:
            out.errors[method] = reason or "The U-Net is not available."
            continue
        given = variant.problems[method] if perturbed else base
        out.problems[method] = given
        if clean is not None and method in clean.clean:
            out.clean[method] = clean.clean[method]
        wanted += [(method, given)] + ([(method, base)] if given is not base and method not in out.clean else [])
    pending = [(m, p) for m, p in wanted if compute.cached_reconstruction(m, p, fs) is None]
    tick = None
    if pending:
        job = ("methods", *(compute.reconstruction_key(m, p, fs) for m, p in pending))
        try:
            estimate = sum(estimates.reconstruction_seconds(m, p, fs) for m, p in pending)
        except (RuntimeError, ValueError):
            estimate = 0.0  # the run itself reports what is wrong
        names = ", ".join(dict.fromkeys(METHOD_LABELS[m] for m, _ in pending))
        what = f"Reconstructions ({names})"
        if not admitted(job, estimate, what, progress_slot):
            for method, _ in pending:
                out.errors[method] = f"{METHOD_LABELS[method]} has not run (see above)."
            pending_methods = {m for m, _ in pending}
            methods = [m for m in methods if m not in pending_methods]
        else:
            tick = running(job, what, estimate, progress_slot)
    for method in methods:
        if method in out.errors:
            continue
        given = out.problems[method]
        drawer = None
        if (method == FIRENET and live and conv_slot is not None
                and compute.cached_reconstruction(method, given, fs) is None):
            drawer = _live_drawer(conv_slot, settings, compute.digest(given)[:12])
        try:
            out.main[method] = compute.reconstruct(method, given, fs, drawer, tick=tick)
            if given is base:
                out.clean[method] = out.main[method]
            elif method not in out.clean:
                out.clean[method] = compute.reconstruct(method, base, fs, tick=tick)
        except (RuntimeError, ValueError) as error:
            out.errors[method] = f"{METHOD_LABELS[method]} could not run: {error}"
            continue
    if tick is not None:
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


def baselines(settings: Settings, results: Results, conv_slot: Any, progress_slot: Any) -> None:
    """The Chambolle-Pock baselines of the convergence chart, when compared with
    (``settings.view.compare``) and not stored yet, run on FIRENET's data with their
    progress in ``progress_slot`` and their curves growing in ``conv_slot``."""
    fs = settings.firenet
    given = results.problems.get(FIRENET)
    if given is None or not settings.view.compare or FIRENET not in results.main:
        return
    missing = [m for m, entry in METHODS.items()
               if entry.baseline and compute.cached_reconstruction(m, given, fs) is None]
    if missing:
        _run_baselines(settings, results, given, missing, conv_slot, progress_slot)


def finish_long_tasks(settings: Settings, base: Problem, results: Results, stab_slot: Any) -> None:
    """Work that may take seconds to minutes, done after everything else is on screen:
    the requested stability curves (worst-case searches run before the panels:
    :func:`search`). They show progress; interacting with the page meanwhile interrupts
    them (and they resume on the next run while still requested).
    """
    memory = state.memory()
    fs = settings.firenet
    if memory.stability_request:
        names = stability_networks(settings)
        bar = stab_slot.progress(0.0, text="Stability curves")
        chart = stab_slot.empty()

        def report(fraction: float, text: str) -> None:
            bar.progress(fraction, text=f"Stability curves: {text} (change a setting to stop them)")

        def grow(partial: dict) -> None:
            points = sum(len(c["size"]) for c in partial.values())
            figure = figures.stability_figure(partial, text_size=chart_text(settings.view.present))
            chart.plotly_chart(figure, key=f"stab_fig_partial_{points}", config=CHART)

        try:
            report(0.0, "the kernel bound (two forward passes per network)")
            variants.kernel_bounds(base, fs, kernel_networks(settings, tuple(results.main)))
            curves = variants.stability(base, fs, names, STABILITY_BUDGETS, settings.perturbation.stability_steps,
                                        progress=report, on_curves=grow,
                                        protocol=settings.perturbation.stability_protocol)
        except (RuntimeError, ValueError) as error:
            stab_slot.error(plain(f"The stability curves could not be computed: {error}", limit=400))
            curves = None
        memory.stability_request = False
        bar.empty()
        if curves is not None:
            # Stored now: the panel draws the curves, their fitted lines and the kernel bound.
            st.rerun()


def _run_baselines(settings: Settings, results: Results, given: Problem, missing: list[str],
                   conv_slot: Any, slot: Any) -> None:
    fs = settings.firenet
    job = ("baselines", *(compute.reconstruction_key(m, given, fs) for m in missing))
    try:
        estimate = sum(estimates.reconstruction_seconds(m, given, fs) for m in missing)
    except (RuntimeError, ValueError):
        estimate = 0.0
    what = "The Chambolle-Pock baselines"
    if not admitted(job, estimate, what, slot):
        return
    tick = running(job, what, estimate, slot)
    try:
        for method in missing:
            compute.reconstruct(method, given, fs, _baseline_drawer(settings, results, method, conv_slot),
                                tick=tick)
    except (RuntimeError, ValueError) as error:
        slot.warning(plain(f"The Chambolle-Pock baselines could not run: {error}", limit=400))
        return
    slot.empty()
    draw_convergence(settings, results, conv_slot, key="conv_fig_baselines")


def search(settings: Settings, base: Problem, slot: Any) -> bool:
    """Run the worst-case search(es) of ``settings``' perturbation now, with its estimate,
    a progress bar and a Cancel button in ``slot``; True when they are all stored.

    ``explorer.inputs.searched`` calls it before the panels are drawn, for a search within
    the work budget or asked for by its button: the perturbed page then comes in one pass.
    """
    memory = state.memory()
    fs, ps = settings.firenet, settings.perturbation
    memory_bytes = float(memory.attack_memory_mb) * 2**20
    job = _attack_job(settings, base)
    if memory.cancelled == job:  # asked for again only by its button
        memory.attack_request = False
        return False
    targets = variants.SEARCH_TARGETS[ps.kind]
    try:
        estimate = variants.search_seconds(targets, base, fs, ps, memory_bytes)
    except (RuntimeError, ValueError):
        estimate = 0.0
    with slot.container():
        memory.attack_started = job
        tick = running(job, "The worst-case search", estimate, st.empty())
        for target in targets:
            name = METHODS[target].name_in_text
            bar = st.progress(0.0, text=f"Worst-case search against {name}")

            def report(fraction: float, text: str, bar: Any = bar, name: str = name) -> None:
                bar.progress(fraction, text=f"Against {name}: {text}")

            try:
                variants.attack(target, base, fs, ps, progress=report, tick=tick, memory_bytes=memory_bytes)
            except (RuntimeError, ValueError) as error:
                st.error(plain(f"The worst-case search against {name} failed: {error}", limit=400))
                memory.attack_request = False
                memory.attack_started = None
                return False
    memory.attack_request = False
    memory.attack_started = None
    return True
