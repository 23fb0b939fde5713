"""The sidebar: widgets drawn from their specs, a frozen :class:`~explorer.settings.Settings` out.

Every widget is drawn by :func:`widget` from its :class:`~explorer.specs.Spec` (range,
step, labels, help): one source for the widget, the URL and the defaults. Its value lives
in ``st.session_state`` under the spec's key (initialised by ``explorer.state.init``), so
widgets are created without ``value=`` and buttons (presets, "Paper's values") change
settings by writing the session state in ``on_click`` callbacks, before the widgets are
drawn on the next run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from explorer import own_data
from explorer import specs as K
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
from explorer.widgets import widget

__all__ = [
    "sidebar",
    "depth_slider",
    "view_controls",
    "settings_from_state",
    "firenet_values",
    "apply_values",
    "apply_preset",
]


def firenet_values(which: str, size: int) -> dict[str, Any]:
    """The FIRENET settings (spec keys) of the paper (``"paper"``) or the measured
    recommendation for images of side ``size`` (``"recommended"``)."""
    from solver.firenet import PAPER_DEFAULTS, recommended

    # The paper's experiments at these sizes use 5 restarts of 5 layers (its table);
    # 16 restarts are its convergence experiment (the "convergence" preset).
    source = {**PAPER_DEFAULTS, "restarts": 5} if which == "paper" else recommended(int(size))
    values = {key: source[spec.param or key] for key, spec in K.SPECS.items()
              if key in K.FIRENET_KEYS and (spec.param or key) in source}
    return {key: type(K.SPECS[key].default)(value) for key, value in values.items()}


def apply_preset(name: str, specs: Mapping[str, K.Spec]) -> None:
    """``on_click`` of a preset button: defaults, then the preset's values."""
    preset = PRESETS[name]
    ss = st.session_state
    S.reset(ss, specs)
    for key, value in {**preset.values, **(ss.get("preset_overrides") or {})}.items():
        ss[key] = K.widget_value(value)
    ss["attack_request"] = "attack" in preset.request
    ss["stability_request"] = "stability" in preset.request
    ss["preset_note"] = f"**{preset.label}.** {preset.description}"


def apply_values(values: Mapping[str, Any]) -> None:
    """Write settings into the session state (used by buttons' ``on_click``)."""
    for key, value in values.items():
        st.session_state[key] = K.widget_value(value)


def sidebar(specs: Mapping[str, K.Spec], patterns: Mapping[str, Any]) -> Any:
    """Draw the sidebar and return the uploaded file (or ``None``)."""
    ss = st.session_state
    sb = st.sidebar
    sb.title("FIRENET Explorer")
    with sb.expander("Presets: the paper's experiments", expanded=False):
        for name, preset in PRESETS.items():
            st.button(preset.label, key=f"preset_{name}", help=preset.description,
                      on_click=apply_preset, args=(name, specs), width="stretch")
    with sb.expander("Image", expanded=True):
        uploaded = _image_controls(specs)
    with sb.expander("Measurement", expanded=True):
        widget("transform", specs)
        pattern = patterns.get(ss["pattern"])
        widget("pattern", specs, help=pattern.description if pattern else None)
        for param in (pattern.params if pattern else ()):
            widget(K.pattern_key(ss["pattern"], param.name), specs)
        if ss["pattern"] == "user":
            own_data.mask_controls()
        else:
            widget("rate", specs)
        if pattern is not None and pattern.random:
            widget("mask_seed", specs)
        if ss["image"] == "kspace":
            st.caption("Measured k-space: its own samples are used; the pattern applies to "
                       "the test images.")
    with sb.expander("Noise and perturbation", expanded=True):
        _perturbation_controls(specs)
    with sb.expander("FIRENET", expanded=False):
        _firenet_controls(specs)
    with sb.expander("Advanced FIRENET", expanded=False):
        own_data.advanced_controls(specs)
    with sb.expander("Reconstructions shown", expanded=True):
        for key in ("show", "live", "compare", "present"):
            widget(key, specs)
    return uploaded


def _image_controls(specs: Mapping[str, K.Spec]) -> Any:
    ss = st.session_state
    widget("image", specs)
    widget("size", specs)
    if ss["image"] in ("random_ellipses", "ellipses_text"):
        widget("image_seed", specs)
    if ss["image"] == "mni_t1":
        st.caption("MNI ICBM152 2009a T1 template slice, Copyright (C) 1993-2009 Louis "
                   "Collins, McConnell Brain Imaging Centre, Montreal Neurological Institute, "
                   "McGill University (licence: `solver/data/mni_t1_axial.LICENSE.txt`).")
    if ss["image"] == "kspace":
        own_data.kspace_controls(specs)
        return None
    widget("phase", specs)
    if ss["image"] != "upload":
        return None
    return st.file_uploader(
        "PNG, JPEG or NPY (2-D array)", type=["png", "jpg", "jpeg", "npy"], key="upload_file",
        help="Colour images are converted to gray, values scaled to [0, 1] and the image "
             "resized to N x N; you are told when that happens.")


def _perturbation_controls(specs: Mapping[str, K.Spec]) -> None:
    ss = st.session_state
    widget("noise", specs)
    if ss["noise"] > 0:
        widget("noise_seed", specs)
    widget("perturbation", specs)
    kind = ss["perturbation"]
    if kind == "detail":
        widget("budget", specs, label="Detail contrast", help="Contrast of the inserted text detail.")
    elif kind == "more_samples":
        widget("budget", specs, label="Extra samples (rate)",
               help="Extra fraction of k-space sampled on top of the mask.")
    elif kind != "none":
        widget("budget", specs, help="Size of the perturbation relative to ||y||.")
    if kind in K.SEARCHED_PERTURBATIONS:
        widget("attack_steps", specs)


def _firenet_controls(specs: Mapping[str, K.Spec]) -> None:
    ss = st.session_state
    paper, recommended = firenet_values("paper", ss["size"]), firenet_values("recommended", ss["size"])
    c1, c2 = st.columns(2)
    c1.button("Paper's values", key="btn_paper", on_click=apply_values, args=(paper,),
              width="stretch", help="p = 5, nu = e^-1, C = 1, lam = 2.5e-4 (Colbrook, Antun, "
                                    "Hansen 2022).")
    c2.button("Recommended", key="btn_recommended", on_click=apply_values, args=(recommended,),
              width="stretch",
              help=f"Values measured to converge at N = {ss['size']}: {recommended['n']} x "
                   f"{recommended['p']} layers, C = {recommended['C']:g}, last iterate.")
    for pair in (("n", "p"), ("nu", "C")):
        for column, key in zip(st.columns(2), pair):
            widget(key, specs, container=column)
    widget("lam", specs)
    for column, key in zip(st.columns(2), ("wavelet", "levels")):
        widget(key, specs, container=column)
    widget("weights", specs)
    own_data.weight_controls(specs)
    widget("output", specs)


def view_controls(specs: Mapping[str, K.Spec]) -> None:
    """Colour scale of the reconstructions (drawn in the main area)."""
    c1, c2, _ = st.columns([1, 1, 2])
    widget("cmap", specs, container=c1)
    widget("error_max", specs, container=c2)


def depth_slider(n: int, p: int) -> int:
    """The "show the reconstruction after L layers" slider (snapshots per restart)."""
    options = [p * k for k in range(1, n + 1)]
    ss = st.session_state
    if ss.get("depth") not in options:
        # A depth from the URL or from other settings: the nearest snapshot (0 = all).
        wanted = ss.get("depth") or options[-1]
        ss["depth"] = min(options, key=lambda v: abs(v - wanted))
    if len(options) == 1:
        st.caption(f"Depth: {options[0]} layers (one restart).")
        return options[0]
    return st.select_slider(
        "Depth: show FIRENET's output after this many layers", options, key="depth",
        format_func=lambda v: f"{v} ({v // p} restarts)")


def settings_from_state(specs: Mapping[str, K.Spec], upload: tuple[str, str, Any, Any] | None) -> Settings:
    """Build the frozen settings from the session state (after the widgets ran)."""
    ss = st.session_state
    pattern = ss["pattern"]
    prefix = K.pattern_key(pattern, "")
    params = tuple(sorted((k[len(prefix):], ss.get(k, s.default)) for k, s in specs.items()
                          if k.startswith(prefix)))
    upload_id = upload[:2] if ss["image"] == "upload" and upload is not None else None
    return Settings(
        image=ImageSettings(name=ss["image"], size=int(ss["size"]), seed=int(ss["image_seed"]),
                            upload=upload_id, phase=bool(ss["phase"]) and ss["image"] != "kspace"),
        measurement=MeasurementSettings(transform=ss["transform"], pattern=pattern,
                                        rate=float(ss["rate"]), seed=int(ss["mask_seed"]),
                                        params=params),
        perturbation=PerturbationSettings(noise=float(ss["noise"]), noise_seed=int(ss["noise_seed"]),
                                          kind=ss["perturbation"], budget=float(ss["budget"]),
                                          steps=int(ss["attack_steps"]),
                                          stability_steps=int(ss["stability_steps"])),
        firenet=FirenetSettings(**{(specs[k].param or k): ss[k] for k in K.FIRENET_KEYS}),
        view=ViewSettings(show=tuple(m for m in K.METHOD_LABELS if m in (ss["show"] or ())),
                          depth=int(ss.get("depth") or 0), cmap=ss["cmap"],
                          error_max=float(ss["error_max"]), live=bool(ss["live"]),
                          compare=bool(ss["compare"]), present=bool(ss["present"])),
    )
