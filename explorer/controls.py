"""The sidebar: widgets in, a frozen :class:`~explorer.settings.Settings` out.

Every widget has a stable ``key`` equal to its setting's name in
:data:`explorer.state.SPECS`; the value lives in ``st.session_state`` (initialised by
:func:`explorer.state.init`), so widgets are created without ``value=`` and buttons
(presets, "paper values") change settings by writing the session state in ``on_click``
callbacks, before the widgets are drawn on the next run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from explorer import state as S
from explorer.presets import PRESETS
from explorer.settings import (
    FirenetSettings,
    ImageSettings,
    MeasurementSettings,
    PerturbationSettings,
    Settings,
    ViewSettings,
)

__all__ = [
    "sidebar",
    "depth_slider",
    "view_controls",
    "settings_from_state",
    "apply_values",
    "apply_preset",
]


def apply_preset(name: str, specs: Mapping[str, S.Spec]) -> None:
    """``on_click`` of a preset button: defaults, then the preset's values."""
    preset = PRESETS[name]
    ss = st.session_state
    S.reset(ss, specs)
    for key, value in {**preset.values, **(ss.get("preset_overrides") or {})}.items():
        ss[key] = S.widget_value(value)
    ss["attack_request"] = "attack" in preset.request
    ss["stability_request"] = "stability" in preset.request
    ss["preset_note"] = f"**{preset.label}.** {preset.description}"


def apply_values(values: Mapping[str, Any]) -> None:
    """Write settings into the session state (used by buttons' ``on_click``)."""
    for key, value in values.items():
        st.session_state[key] = list(value) if isinstance(value, tuple) else value


def _label(mapping: Mapping[str, str]) -> Callable[[str], str]:
    return lambda value: mapping.get(value, value)


def sidebar(
    specs: Mapping[str, S.Spec],
    patterns: Mapping[str, Any],
    presets: Mapping[str, Any],
    firenet_values: Mapping[str, Mapping[str, Any]],
    on_preset: Callable[[str], None],
) -> Any:
    """Draw the sidebar and return the uploaded file (or ``None``).

    Parameters
    ----------
    specs : mapping
        All setting specs (``explorer.state.all_specs``).
    patterns : mapping
        The solver's sampling-pattern registry (name -> spec with ``description`` and
        ``params``).
    presets : mapping
        Preset name -> object with ``label`` and ``description``.
    firenet_values : mapping
        ``{"paper": {...}, "recommended": {...}}`` FIRENET settings for the two buttons.
    on_preset : callable(name)
        Applies a preset (an ``on_click`` callback).
    """
    ss = st.session_state
    sb = st.sidebar
    sb.title("FIRENET Explorer")

    with sb.expander("Presets: the paper's experiments", expanded=False):
        for name, preset in presets.items():
            st.button(preset.label, key=f"preset_{name}", help=preset.description,
                      on_click=on_preset, args=(name,), width="stretch")

    uploaded = None
    with sb.expander("Image", expanded=True):
        st.selectbox("Ground truth", tuple(S.IMAGES), key="image",
                     format_func=_label(S.IMAGES))
        st.segmented_control("Size N (N x N pixels)", S.SIZES, key="size", required=True)
        if ss["image"] in ("random_ellipses", "ellipses_text"):
            st.number_input("Image seed", min_value=0, step=1, key="image_seed")
        if ss["image"] == "upload":
            uploaded = st.file_uploader(
                "PNG, JPEG or NPY (2-D array)", type=["png", "jpg", "jpeg", "npy"],
                key="upload_file",
                help="Colour images are converted to gray, values scaled to [0, 1] and the "
                     "image resized to N x N; you are told when that happens.")

    with sb.expander("Measurement", expanded=True):
        st.segmented_control("Transform", tuple(S.TRANSFORMS), key="transform",
                             format_func=_label(S.TRANSFORMS), required=True)
        st.selectbox("Sampling pattern", tuple(patterns), key="pattern",
                     format_func=lambda name: S._attr(patterns[name], "label") or name,
                     help=_description(patterns.get(ss["pattern"])))
        _pattern_params(ss["pattern"], patterns.get(ss["pattern"]), specs)
        st.slider("Sampling rate", 0.02, 1.0, step=0.01, key="rate", format="%.2f")
        if S._attr(patterns.get(ss["pattern"]), "random") is not False:
            st.number_input("Mask seed", min_value=0, step=1, key="mask_seed")

    with sb.expander("Noise and perturbation", expanded=True):
        st.slider("Noise level ||e|| / ||y||", 0.0, 0.2, step=0.005, key="noise",
                  format="%.3f", help="Complex Gaussian noise added to the data of every method.")
        if ss["noise"] > 0:
            st.number_input("Noise seed", min_value=0, step=1, key="noise_seed")
        st.selectbox("Perturbation", tuple(S.PERTURBATIONS), key="perturbation",
                     format_func=_label(S.PERTURBATIONS))
        kind = ss["perturbation"]
        if kind != "none":
            help_text = {
                "detail": "Contrast of the inserted text detail.",
                "more_samples": "Extra fraction of k-space sampled on top of the mask.",
            }.get(kind, "Size of the perturbation relative to ||y||.")
            label = {"detail": "Detail contrast", "more_samples": "Extra samples (rate)"}.get(
                kind, "Budget ||r|| / ||y||")
            st.slider(label, 0.0, 0.5, step=0.005, key="budget", format="%.3f", help=help_text)
        if kind in S.NETWORK_PERTURBATIONS:
            st.number_input("Gradient steps of the search", min_value=1, max_value=500,
                            step=5, key="attack_steps",
                            help="Each step is one forward and one backward pass through "
                                 "the attacked network (through all of FIRENET's layers).")

    with sb.expander("FIRENET", expanded=False):
        c1, c2 = st.columns(2)
        c1.button("Paper's values", key="btn_paper", on_click=apply_values,
                  args=(firenet_values["paper"],), width="stretch",
                  help="p = 5, nu = e^-1, C = 1, lam = 2.5e-4 (Colbrook, Antun, Hansen 2022).")
        recommended = firenet_values["recommended"]
        c2.button("Recommended", key="btn_recommended", on_click=apply_values,
                  args=(recommended,), width="stretch",
                  help=f"Values measured to converge at N = {ss['size']}: "
                       f"{recommended['n']} x {recommended['p']} layers, "
                       f"C = {recommended['C']:g}, last iterate.")
        if any(ss[k] != v for k, v in recommended.items() if k in ("n", "p", "C")) and \
                any(ss[k] != v for k, v in firenet_values["paper"].items() if k in ("n", "p", "C")):
            st.caption(f"Measured for N = {ss['size']}: {recommended['n']} x "
                       f"{recommended['p']} layers with C = {recommended['C']:g} "
                       "('Recommended').")
        c1, c2 = st.columns(2)
        c1.number_input("Restarts n", min_value=1, max_value=int(specs["n"].high), step=1, key="n")
        c2.number_input("Layers per restart p", min_value=1, max_value=int(specs["p"].high),
                        step=1, key="p")
        c1, c2 = st.columns(2)
        c1.number_input("Restart factor nu", min_value=0.01, max_value=0.99, step=0.05,
                        key="nu", format="%.4f",
                        help="eps_k = nu (delta + eps_(k-1)); the paper uses e^-1 = 0.3679.")
        c2.number_input("Sharpness scale C", min_value=1e-3, max_value=1e6, key="C",
                        format="%.3g", help="Rescaling alpha = 2 ||A|| / (C eps p); 1 = the paper.")
        st.number_input("lam", min_value=1e-7, max_value=1.0, key="lam", format="%.2e",
                        step=1e-4)
        c1, c2 = st.columns(2)
        c1.selectbox("Wavelet", S.WAVELETS, key="wavelet")
        c2.number_input("Levels (0 = max)", min_value=0, max_value=9, step=1, key="levels")
        st.radio("l1 weights", tuple(S.WEIGHTINGS), key="weights",
                 format_func=_label(S.WEIGHTINGS),
                 help="Per level: w_j = sqrt(s / s_j) from the significant wavelet "
                      "coefficients of the ground truth on each level.")
        st.radio("Block output", ("last", "ergodic"), key="output", horizontal=True,
                 format_func={"last": "last iterate", "ergodic": "ergodic average (paper)"}.get)

    with sb.expander("Reconstructions shown", expanded=True):
        st.pills("Methods", tuple(S.METHODS), key="show", selection_mode="multi",
                 format_func=_label(S.METHODS), label_visibility="collapsed")
        st.toggle("Draw the convergence curve live", key="live")
        st.toggle("Compare with Chambolle-Pock in the convergence plot", key="compare",
                  help="Plain and tuned-ratio Chambolle-Pock with as many layers as FIRENET, "
                       "computed after the rest of the page is shown.")
    return uploaded


def view_controls() -> None:
    """Colour scale of the reconstructions (drawn in the main area)."""
    c1, c2, _ = st.columns([1, 1, 2])
    c1.selectbox("Colour map", S.COLOURMAPS, key="cmap")
    c2.slider("Error map range (|error| shown up to)", 0.01, 1.0, step=0.01, key="error_max")


def depth_slider(n: int, p: int) -> int:
    """The "show the reconstruction after L layers" slider (snapshots per restart)."""
    options = [p * k for k in range(1, n + 1)]
    ss = st.session_state
    if ss.get("depth") not in options:
        ss["depth"] = options[-1]
    if len(options) == 1:
        st.caption(f"Depth: {options[0]} layers (one restart).")
        return options[0]
    return st.select_slider(
        "Depth: show FIRENET's output after this many layers", options, key="depth",
        format_func=lambda v: f"{v} ({v // p} restarts)")


def _description(spec: Any) -> str | None:
    if spec is None:
        return None
    return S._attr(spec, "description")


def _pattern_params(pattern: str, spec: Any, specs: Mapping[str, S.Spec]) -> None:
    if spec is None:
        return
    for name, param in S._params_of(spec).items():
        key = S.pattern_key(pattern, name)
        setting = specs.get(key)
        if setting is None:
            continue
        label = S._attr(param, "label") or name.replace("_", " ")
        help_text = S._attr(param, "description", "help")
        default = setting.default
        if setting.options is not None:
            st.selectbox(label, setting.options, key=key, help=help_text)
        elif isinstance(default, bool):
            st.checkbox(label, key=key, help=help_text)
        elif isinstance(default, int):
            st.number_input(label, key=key, step=int(S._attr(param, "step") or 1), help=help_text,
                            min_value=None if setting.low is None else int(setting.low),
                            max_value=None if setting.high is None else int(setting.high))
        elif isinstance(default, float):
            st.number_input(label, key=key, help=help_text, format="%.4g",
                            step=float(S._attr(param, "step") or 0.01),
                            min_value=None if setting.low is None else float(setting.low),
                            max_value=None if setting.high is None else float(setting.high))
        else:
            st.text_input(label, key=key, help=help_text)


def settings_from_state(
    specs: Mapping[str, S.Spec], upload: tuple[str, bytes] | None
) -> Settings:
    """Build the frozen settings from the session state (after the widgets ran)."""
    ss = st.session_state
    pattern = ss["pattern"]
    prefix = S.pattern_key(pattern, "")
    params = tuple(sorted((k[len(prefix):], ss.get(k, s.default)) for k, s in specs.items()
                          if k.startswith(prefix)))
    upload_id = None
    if ss["image"] == "upload" and upload is not None:
        upload_id = (upload[0], hashlib.sha256(upload[1]).hexdigest())
    return Settings(
        image=ImageSettings(name=ss["image"], size=int(ss["size"]), seed=int(ss["image_seed"]),
                            upload=upload_id),
        measurement=MeasurementSettings(transform=ss["transform"], pattern=pattern,
                                        rate=float(ss["rate"]), seed=int(ss["mask_seed"]),
                                        params=params),
        perturbation=PerturbationSettings(noise=float(ss["noise"]),
                                          noise_seed=int(ss["noise_seed"]),
                                          kind=ss["perturbation"], budget=float(ss["budget"]),
                                          steps=int(ss["attack_steps"]),
                                          stability_steps=int(ss["stability_steps"])),
        firenet=FirenetSettings(n=int(ss["n"]), p=int(ss["p"]), nu=float(ss["nu"]),
                                C=float(ss["C"]), lam=float(ss["lam"]), wavelet=ss["wavelet"],
                                levels=int(ss["levels"]), weights=ss["weights"],
                                output=ss["output"]),
        view=ViewSettings(show=tuple(m for m in S.METHODS if m in (ss["show"] or ())),
                          depth=int(ss.get("depth") or 0), cmap=ss["cmap"],
                          error_max=float(ss["error_max"]), live=bool(ss["live"]),
                          compare=bool(ss["compare"])),
    )
