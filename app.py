"""FIRENET Explorer: stable (FIRENET) versus unstable (trained U-Net) image reconstruction.

Run with ``streamlit run app.py``. This script reads top to bottom as the page; the
settings are specified in ``explorer.specs`` and drawn by ``explorer.controls``, the
cached solver calls are ``explorer.compute``, the figures ``explorer.figures`` and the
panels ``explorer.panels``. All numerics are in the ``solver`` package.
"""

import streamlit as st

st.set_page_config(page_title="FIRENET Explorer", page_icon=":fire:", layout="wide")

from explorer import compute, controls, inputs, panels, process, runs, sharing, timing, uploads  # noqa: E402
from explorer import specs as K  # noqa: E402
from explorer import state as S  # noqa: E402

process.configure()
timing.start_run()

# Settings: defaults, then the URL (once per session), then the sidebar's widgets.
patterns = compute.pattern_registry()
specs = K.all_specs(patterns)
S.init(st.session_state, specs)
sharing.load_url_once(specs)

uploaded = controls.sidebar(specs, patterns)
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
    truth, image = inputs.ground_truth(settings, upload)
    base = inputs.problem(settings, truth, image)
    settings = inputs.checked_firenet(settings)
    variant = inputs.perturbed(settings, base)

with st.expander("Sampling: mask and k-space", expanded=True), timing.section("sampling"):
    panels.sampling(base)

# Reconstructions (drawn once every method has run), then the perturbation.
st.subheader("Reconstructions")
controls.view_controls(specs)
progress_slot = st.empty()
recon_slot = st.container()
pert_slot = st.container()

# Convergence: FIRENET's curve streams into this slot while it runs.
st.subheader("Convergence against depth")
conv_slot = st.empty()
controls.depth_slider(settings.firenet.restarts, settings.firenet.layers)
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
