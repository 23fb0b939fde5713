"""The convergence page: FIRENET's error and certified gap against depth, beside the
Chambolle-Pock baselines, with the depth slider and FIRENET's settings beside the chart.

It computes on the problem the sidebar defines (the shared settings, with the data's
noise but without the reconstruction page's perturbation), so FIRENET's run here is the
reconstruction page's clean run: the cache (``explorer.compute``) holds it once for both
pages, and switching pages recomputes nothing already computed. The baselines run only
here, after the chart is drawn, when "Compare with Chambolle-Pock" is on.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from explorer import controls, page_setup, panels, runs, timing
from explorer.settings import Settings
from explorer.slots import Slot
from solver.methods import FIRENET, METHODS

__all__ = ["render"]


def render() -> None:
    """Draw the page (Streamlit runs it as one page of ``st.navigation``)."""
    specs, settings, upload = page_setup.settings()
    st.title("Convergence against depth")
    st.caption("FIRENET's relative error to the truth and its certified gap to the sqrt-LASSO optimum after each "
               "layer, on the sidebar's problem (with the data's noise, without the reconstruction page's "
               "perturbation); the two Chambolle-Pock runs, as many layers, when compared.")
    with st.container():
        panels.notices()
    with st.container():
        base, settings = page_setup.problem(settings, upload)
    # The controls in two rows above the chart: its three panels need the page's width.
    depth, toggles = st.columns([3, 4], vertical_alignment="bottom")
    with depth:
        fs = settings.firenet
        controls.depth_slider(fs.stops, None if fs.adaptive else fs.layers)
    with toggles:
        controls.convergence_controls(specs)
    controls.firenet_controls(specs)
    progress, chart = Slot(), Slot()
    with timing.section("methods"):
        results = runs.run_methods(_convergence_methods(settings), base, None, chart, progress)
    with timing.section("convergence"):
        panels.convergence(settings, results, chart)
    timing.mark("page")
    runs.baselines(settings, results, chart, progress)
    timing.mark("done")


def _convergence_methods(settings: Settings) -> Settings:
    """``settings`` showing only the methods of the convergence chart: FIRENET (always run)
    and the iterative methods the reconstruction page shows (a Chambolle-Pock run, FISTA);
    the pictures' other methods (the U-Net, zero-filled) are not needed here."""
    shown = tuple(m for m in settings.view.show if m != FIRENET and METHODS[m].convergence)
    return replace(settings, view=replace(settings.view, show=shown))
