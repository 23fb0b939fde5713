"""The reconstruction and stability page: FIRENET, the trained U-Net and the baselines on one
image, with the perturbation, stability and sampling panels.

The settings are specified in ``explorer.specs`` and drawn by ``explorer.controls`` (the
problem in the sidebar, each panel's own settings beside it; FIRENET's settings and its
convergence against depth are on the convergence page, ``explorer.convergence_page``,
which this page links to and whose cached FIRENET run it shares). The cached solver calls
are ``explorer.compute`` and ``explorer.variants``, the first screen ``explorer.story``,
the reconstructions row ``explorer.pictures``, the figures ``explorer.figures`` and the
other panels ``explorer.panels``. All numerics are in the ``solver`` package.

The places of computed results are made before anything is computed and keep the last
run's content until the new one is drawn (``explorer.slots``), so the page stays in place
while it computes; each method runs once on each problem per run.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from explorer import (
    controls,
    inputs,
    links,
    own_data,
    page_setup,
    panels,
    pictures,
    presentation,
    runs,
    state,
    story,
    timing,
    variants,
)
from explorer.results import Results
from explorer.settings import Settings
from explorer.spec import Spec
from explorer.slots import Slot
from solver.methods import FIRENET
from solver.problem import Problem

__all__ = ["render"]


def render() -> None:
    """Draw the page (Streamlit runs it as one page of ``st.navigation``)."""
    # Settings: defaults, then the URL (once per session), then the widgets (the sidebar's
    # and, drawn further down, each panel's own: their values are in the session state).
    specs, settings, upload = page_setup.settings()

    # The presets beside the title: the first screen (two rows of pictures) fits 1280 x 720.
    title, tools = st.columns([3, 2], vertical_alignment="center")
    title.title("FIRENET Explorer")
    with tools:
        controls.presets(specs)
    st.caption("A trained U-Net against FIRENET, whose weights are computed, not trained "
               "(Colbrook, Antun & Hansen, PNAS 2022).")
    # Messages go into containers of their own: however many there are, everything below
    # keeps its place, so Streamlit keeps the last run's pictures there until replaced.
    with st.container():
        panels.notices()
        _own_data_note(settings)

    # The problem: ground truth, sampling, data.
    timing.mark("settings")
    with st.container(), timing.section("problem"):
        base, settings = page_setup.problem(settings, upload)
        variant = inputs.perturbed(settings, base)

    page = _layout(specs, settings)
    with timing.section("methods"):
        results, variant = _compute(settings, base, variant, page)
    with page.pictures, timing.section("reconstructions"):
        shown = pictures.reconstructions(specs, settings, results, base, variant)
    with timing.section("perturbation"):
        panels.perturbation(settings, results, base, variant, page.perturbation)
    timing.mark("page")

    # Folded, and drawn only while open (opening it reruns the page from the caches): its
    # chart loads the browser's chart library (with the data grid its tables used then,
    # about 5 MB of script, which cost every visitor 2-3 s of a new page's loading,
    # unseen 1,500 px down). A requested computation opens it, so that its progress is seen.
    if state.memory().stability_request:
        st.session_state["stability_open"] = True
    stability = st.expander("Stability against perturbation size: worst cases, random noise and the kernel "
                            "bound", expanded=False, key="stability_open", on_change="rerun")
    with stability:
        stab_slot = panels.stability(settings, base, results) if stability.open else st.container()

    # Its chart is drawn only while the panel is open (opening it reruns the page from the
    # caches): folded, it cost every visitor 35 kB and a plotly chart's drawing unseen.
    folded = st.expander("Sampling: mask and k-space", expanded=False, key="sampling_open", on_change="rerun")
    with folded, timing.section("sampling"):
        panels.sampling(results.problems.get(FIRENET, base), base,
                        text_size=presentation.chart_text(settings.view.present), chart=bool(folded.open))

    with st.expander("Share and download", expanded=False):
        panels.share(settings, shown, base, variant, results)

    # Long work last, so that the page above is on screen (and usable) while it runs.
    runs.finish_long_tasks(settings, base, results, stab_slot)
    timing.mark("done")


def _own_data_note(settings: Settings) -> None:
    """One line naming the visitor's files in use, with the link to the own-data page."""
    if settings.image.name == "upload":
        controls.own_data_link(own_data.image_in_use())
    elif settings.image.name == "kspace":
        controls.own_data_link(own_data.kspace_in_use())
    if settings.measurement.pattern == "user" and settings.image.name != "kspace":
        controls.own_data_link(own_data.mask_in_use())


def _convergence_link(settings: Settings) -> None:
    """Where the convergence chart was: one line with FIRENET's schedule and depth shown,
    linking to the convergence page (its chart, depth slider and settings)."""
    fs = settings.firenet
    schedule = (f"adaptive, up to {fs.max_layers:,} layers" if fs.adaptive
                else f"{fs.restarts} restarts of {fs.layers} layers")
    st.page_link(links.page("convergence"), icon=":material/show_chart:",
                 label=f"FIRENET: {schedule}, shown after {settings.view.depth:,} layers. "
                       "Convergence, depth and settings: Convergence page")


@dataclass(frozen=True)
class _Page:
    """The places the computed results go, made before anything is computed."""

    story: Slot  # the first screen
    progress: Slot  # the methods' progress bar and Cancel button
    pictures: Any  # the reconstructions, with their display options
    perturbation: Any  # the perturbation section
    search: Slot  # the worst-case search's progress, where its Run button is


def _layout(specs: Mapping[str, Spec], settings: Settings) -> _Page:
    """Draw the page's fixed parts, each panel's own controls beside it, and the slots for
    what is computed."""
    # The first screen's container carries the key presentation mode's style sizes it by.
    story_slot, progress_slot = Slot(st.container(key=presentation.FIRST_SCREEN_KEY)), Slot()
    st.subheader("Reconstructions")
    controls.method_controls(specs)
    _convergence_link(settings)
    pictures = st.container()
    perturbation = st.container()
    with perturbation:
        st.subheader("Noise and perturbation")
        controls.perturbation_controls(specs)
    search = Slot(perturbation)
    return _Page(story_slot, progress_slot, pictures, perturbation, search)


def _compute(settings: Settings, base: Problem, variant: variants.Variant | None,
             page: _Page) -> tuple[Results, variants.Variant | None]:
    """Run every method once on each problem it is given, drawing the first screen as soon
    as it can be: a worst-case search still to run (within the work budget, or asked for)
    runs after the clean row is on screen, and only the perturbed reconstructions follow."""
    results = runs.run_methods(settings, base, variant, None, page.progress)
    _first_screen(page, settings, results, base, variant)
    timing.mark("first_screen")
    if variant is None or variant.pending is None:
        return results, variant
    searched = inputs.searched(settings, base, variant, results, page.search, page.progress)
    if searched is None or searched.pending is not None:
        return results, searched
    results = runs.run_methods(settings, base, searched, None, page.progress, clean=results)
    _first_screen(page, settings, results, base, searched)
    timing.mark("first_screen_perturbed")
    return results, searched


def _first_screen(page: _Page, settings: Settings, results: Results, base: Problem,
                  variant: variants.Variant | None) -> None:
    with page.story.container(), timing.section("first screen"):
        story.first_screen(settings, results, base, variant)
