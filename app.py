"""FIRENET Explorer: stable (FIRENET) versus unstable (trained U-Net) image reconstruction.

Run with ``streamlit run app.py``. This script reads top to bottom as the page; the
widgets live in ``explorer.controls``, the computations (all cached) in
``explorer.compute``, the figures in ``explorer.figures`` and the panels in
``explorer.panels``.
"""

import streamlit as st

st.set_page_config(page_title="FIRENET Explorer", page_icon=":fire:", layout="wide")

from explorer import compute, controls, inputs, panels, runs, sharing, timing, uploads  # noqa: E402
from explorer import state as S  # noqa: E402
from explorer.presets import PRESETS  # noqa: E402

timing.start_run()

# Settings: defaults, then the URL (once per session), then the sidebar's widgets.
patterns = compute.pattern_registry()
specs = S.all_specs(patterns, firenet=compute.firenet_presets(256)["recommended"])
S.init(st.session_state, specs)
sharing.load_url_once(specs)

uploaded = controls.sidebar(specs, patterns, PRESETS,
                            compute.firenet_presets(int(st.session_state["size"])),
                            on_preset=lambda name: controls.apply_preset(name, specs))
upload = uploads.accept(uploaded, int(st.session_state["size"]))
settings = controls.settings_from_state(specs, upload)
sharing.write_url(specs)

st.title("FIRENET Explorer")
st.caption("Stable and accurate neural networks for image reconstruction can be computed, "
           "not trained: FIRENET against a trained U-Net, live (Colbrook, Antun & Hansen, "
           "PNAS 2022).")
panels.notices()

# The problem: ground truth, sampling, data.
timing.mark("settings")
with timing.section("problem"):
    truth, detail, image = inputs.ground_truth(settings, upload)
    base = inputs.problem(settings, truth, image)
    settings = inputs.checked_firenet(settings)
    variant = inputs.perturbed(settings, base, image, detail)

with st.expander("Sampling: mask and k-space", expanded=True), timing.section("sampling"):
    panels.sampling(base)

# Reconstructions (drawn once every method has run), then the perturbation.
st.subheader("Reconstructions")
controls.view_controls()
progress_slot = st.empty()
recon_slot = st.container()
pert_slot = st.container()

# Convergence: FIRENET's curve streams into this slot while it runs.
st.subheader("Convergence against depth")
conv_slot = st.empty()
controls.depth_slider(settings.firenet.n, settings.firenet.p)
settings = inputs.checked_firenet(  # the view and depth widgets were drawn since
    controls.settings_from_state(specs, upload), quiet=True)

with timing.section("methods"):
    results = runs.run_methods(settings, base, variant, conv_slot, progress_slot)
with recon_slot, timing.section("reconstructions"):
    shown = panels.reconstructions(settings, results, base, variant)
with timing.section("perturbation"):
    panels.perturbation(settings, results, variant, pert_slot)
with timing.section("convergence"):
    panels.convergence(settings, results, conv_slot)
timing.mark("page")

st.subheader("Stability against perturbation size")
stab_slot = panels.stability(settings, base, results)

with st.expander("Share and download", expanded=False):
    panels.share(settings, shown, base)

with st.expander("About: the paradox, FIRENET and these panels", expanded=False):
    panels.about()

# Long work last, so that the page above is on screen (and usable) while it runs.
runs.finish_long_tasks(settings, base, variant, results, conv_slot, pert_slot, stab_slot)
timing.mark("done")
