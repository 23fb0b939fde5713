"""The reconstruction and stability page: FIRENET, the trained U-Net and the baselines on one
image, with the perturbation, convergence, stability and sampling panels.

The body of the single-page app before it had several pages, moved into :func:`render`
unchanged: the settings are specified in ``explorer.specs`` and drawn by
``explorer.controls``, the cached solver calls are ``explorer.compute`` and
``explorer.variants``, the first screen ``explorer.story``, the figures ``explorer.figures``
and the other panels ``explorer.panels``. All numerics are in the ``solver`` package.
"""

import streamlit as st

from explorer import (
    controls,
    inputs,
    panels,
    presentation,
    process,
    runs,
    sharing,
    sources,
    story,
    timing,
    uploads,
)
from explorer import specs as K
from explorer import state as S
from solver.methods import FIRENET

__all__ = ["render"]


def render() -> None:
    """Draw the page (Streamlit runs it as one page of ``st.navigation``)."""
    process.configure()
    timing.start_run()

    # Settings: defaults, then the URL (once per session), then the sidebar's widgets.
    patterns = sources.pattern_registry()
    specs = K.all_specs(patterns)
    S.init(st.session_state, specs)
    sharing.load_url_once(specs)

    uploaded = controls.sidebar(specs, patterns)
    upload = uploads.accept(uploaded)
    settings = controls.settings_from_state(specs, upload)
    sharing.write_url(specs)
    presentation.page_style(presenting=settings.view.present)

    st.title("FIRENET Explorer")
    st.caption("A trained U-Net against FIRENET, whose weights are computed, not trained "
               "(Colbrook, Antun & Hansen, PNAS 2022).")
    panels.notices()

    # The problem: ground truth, sampling, data.
    timing.mark("settings")
    with timing.section("problem"):
        truth, image = inputs.ground_truth(settings, upload)
        base = inputs.problem(settings, truth, image)
        settings = inputs.checked_firenet(settings)
        variant = inputs.perturbed(settings, base)

    # First screen: one perturbation and each network's error, filled in once the methods have run.
    story_slot = st.container(key=presentation.FIRST_SCREEN_KEY).empty()
    progress_slot = st.empty()

    st.subheader("Reconstructions")
    controls.view_controls(specs)
    recon_slot = st.container()
    pert_slot = st.container()

    # Convergence: FIRENET's curve streams into this slot while it runs.
    with presentation.section("Convergence against depth", presenting=settings.view.present):
        conv_slot = st.empty()
        fs = settings.firenet
        controls.depth_slider(fs.stops, None if fs.adaptive else fs.layers)

    with timing.section("methods"):
        results = runs.run_methods(settings, base, variant, conv_slot, progress_slot)
    with story_slot.container(), timing.section("first screen"):
        story.first_screen(settings, results, base, variant)
        timing.mark("first_screen")
    if variant is not None and variant.pending is not None:
        # A worst-case search within the work budget runs now; the clean row is on screen.
        variant = inputs.searched(settings, base, variant, results, progress_slot)
        if variant is not None and variant.pending is None:
            results = runs.run_methods(settings, base, variant, conv_slot, progress_slot)
            with story_slot.container():
                story.first_screen(settings, results, base, variant)
            timing.mark("first_screen_perturbed")
    with recon_slot, timing.section("reconstructions"):
        shown = panels.reconstructions(settings, results, base, variant)
    with timing.section("perturbation"):
        panels.perturbation(settings, results, base, variant, pert_slot)
    with timing.section("convergence"):
        panels.convergence(settings, results, conv_slot)
    timing.mark("page")

    with presentation.section("Stability against perturbation size", presenting=settings.view.present):
        stab_slot = panels.stability(settings, base, results)

    with st.expander("Sampling: mask and k-space", expanded=False), timing.section("sampling"):
        panels.sampling(results.problems.get(FIRENET, base), base,
                        text_size=presentation.chart_text(settings.view.present))

    with st.expander("Share and download", expanded=False):
        panels.share(settings, shown, base, variant, results)

    # Long work last, so that the page above is on screen (and usable) while it runs.
    runs.finish_long_tasks(settings, base, results, conv_slot, stab_slot)
    timing.mark("done")
