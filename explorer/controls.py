"""The page's controls, drawn from their specs; a frozen :class:`~explorer.settings.Settings` out.

The sidebar holds the problem (image and measurement), which every page depends on; each
page's own settings are drawn beside what they change (presets at the top of the
reconstruction page, the reconstructions shown above them, noise and perturbation in
their section; FIRENET's settings, the depth and the baselines beside the convergence
chart on its page; the uploads on the own-data page, which the sidebar links to).

Every widget is drawn by :func:`widget` from its :class:`~explorer.spec.Spec` (range,
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

from explorer import links, own_data
from explorer.charts import target_note
from explorer import specs as K
from explorer.spec import Spec, widget_value
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
from solver.methods import FIRENET

__all__ = [
    "sidebar",
    "presets",
    "method_controls",
    "convergence_controls",
    "own_data_link",
    "perturbation_controls",
    "firenet_controls",
    "depth_slider",
    "settings_from_state",
    "settled_depth",
    "firenet_values",
    "apply_values",
    "apply_preset",
    "preset_values",
]


def firenet_values(which: str) -> dict[str, Any]:
    """The FIRENET settings (spec keys) of the paper's fixed schedule (``"paper"``: its
    table's 5 restarts of 5 layers) or of the adaptive schedule (``"adaptive"``)."""
    from solver.firenet import PAPER_DEFAULTS

    if which == "adaptive":
        return {"schedule": "adaptive", "max_layers": K.SPECS["max_layers"].default, "target_gap": 0.0,
                "consistent": False}
    source = {**PAPER_DEFAULTS, "restarts": 5}
    values = {key: source[spec.param or key] for key, spec in K.SPECS.items()
              if key in K.FIRENET_KEYS and (spec.param or key) in source}
    return {"schedule": "fixed", **{key: type(K.SPECS[key].default)(value) for key, value in values.items()}}


def preset_values(name: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The session-state values preset ``name`` writes over the defaults, with
    ``overrides`` (the ``preset_overrides`` of the session) on top."""
    return {key: widget_value(value) for key, value in {**PRESETS[name].values, **(overrides or {})}.items()}


def apply_preset(name: str, specs: Mapping[str, Spec]) -> None:
    """``on_click`` of a preset button: defaults, then the preset's values."""
    preset = PRESETS[name]
    ss = st.session_state
    memory = S.memory()
    S.reset(ss, specs)
    for key, value in preset_values(name, memory.preset_overrides).items():
        ss[key] = value
    memory.attack_request = "attack" in preset.request
    memory.stability_request = "stability" in preset.request
    memory.preset_note = f"**{preset.label}.** {preset.description}"
    memory.go_to = preset.page


def apply_values(values: Mapping[str, Any]) -> None:
    """Write settings into the session state (used by buttons' ``on_click``)."""
    for key, value in values.items():
        st.session_state[key] = widget_value(value)


def sidebar(specs: Mapping[str, Spec], patterns: Mapping[str, Any]) -> None:
    """Draw the sidebar: the problem (image and measurement), what every page depends on.
    The visitor's own files are chosen here and uploaded on the own-data page, which the
    sidebar links to; each page's own settings are drawn on it."""
    ss = st.session_state
    sb = st.sidebar
    # Not the app's name again (the page's title has it): what these settings are.
    sb.subheader("The problem", help="The image and its measurement: every page works on them.")
    with sb.expander("Image", expanded=True):
        _image_controls(specs)
    with sb.expander("Measurement", expanded=True):
        widget("transform", specs)
        pattern = patterns.get(ss["pattern"])
        if ss["image"] == "kspace":
            # Measured data come with their own samples: no pattern, rate or mask seed applies.
            st.caption("Measured k-space: its own samples are used (the sampling pattern, rate "
                       "and mask seed apply to the test images).")
        else:
            widget("pattern", specs, help=pattern.description if pattern else None)
            for param in (pattern.params if pattern else ()):
                widget(K.pattern_key(ss["pattern"], param.name), specs)
            if ss["pattern"] == "user":
                own_data_link(own_data.mask_in_use())
            else:
                widget("rate", specs)
            if pattern is not None and pattern.random:
                widget("mask_seed", specs)


def own_data_link(in_use: str) -> None:
    """One line saying which of the visitor's files is in use, with the link to the
    own-data page (where files are uploaded and checked)."""
    st.caption(in_use)
    st.page_link(links.page("own_data"), label="Upload or check: Own data page", icon=":material/upload_file:")


def presets(specs: Mapping[str, Spec]) -> None:
    """The paper's experiments, one button each, in a popover at the top of the page,
    and the presentation-mode toggle beside it."""
    c1, c2 = st.columns([1, 2], vertical_alignment="center")
    with c1.popover("Presets", help="The paper's experiments, each set up in one click."):
        for name, preset in PRESETS.items():
            st.button(preset.label, key=f"preset_{name}", help=preset.description,
                      on_click=apply_preset, args=(name, specs), width="stretch")
    widget("present", specs, container=c2)


def method_controls(specs: Mapping[str, Spec]) -> None:
    """Which reconstructions run and are shown (above the reconstructions)."""
    widget("show", specs)


def convergence_controls(specs: Mapping[str, Spec]) -> None:
    """Beside the convergence chart: the data's noise (the paper's convergence experiment
    sets it), FIRENET's live curve and the Chambolle-Pock baselines."""
    c1, c2 = st.columns(2, vertical_alignment="bottom")
    widget("noise", specs, container=c1)
    with c2:
        if st.session_state["noise"] > 0:
            widget("noise_seed", specs)
        # Short labels: the column is narrow; the help says the rest.
        widget("live", specs, label="Live curve", help="Draw FIRENET's curve while it runs.")
        widget("compare", specs, label="Chambolle-Pock runs")


def _image_controls(specs: Mapping[str, Spec]) -> None:
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
        own_data_link(own_data.kspace_in_use())
        return
    widget("phase", specs)
    if ss["image"] == "upload":
        own_data_link(own_data.image_in_use())


def perturbation_controls(specs: Mapping[str, Spec]) -> None:
    """Measurement noise and the perturbation (drawn in the perturbation section)."""
    ss = st.session_state
    c1, c2 = st.columns(2)
    with c1:
        widget("noise", specs)
        if ss["noise"] > 0:
            widget("noise_seed", specs)
    with c2:
        _perturbation_choice(specs)


def _perturbation_choice(specs: Mapping[str, Spec]) -> None:
    ss = st.session_state
    widget("perturbation", specs)
    kind = ss["perturbation"]
    if kind == "detail":
        widget("budget", specs, label="Detail contrast", help="Contrast of the inserted text detail.")
    elif kind == "more_samples":
        widget("budget", specs, label="Extra samples (rate)",
               help="Extra fraction of k-space sampled on top of the mask.")
    elif kind != "none":
        widget("budget", specs, help="Size of the perturbation relative to ‖y‖.")
    if kind in K.SEARCHED_PERTURBATIONS:
        widget("attack_steps", specs)


def firenet_controls(specs: Mapping[str, Spec]) -> None:
    """FIRENET's settings and the advanced ones, folded, side by side (drawn at the
    convergence chart)."""
    c1, c2 = st.columns(2)
    with c1.expander(f"{K.METHOD_LABELS[FIRENET]}: settings", expanded=False):
        _firenet_settings(specs)
    with c2.expander("Advanced FIRENET", expanded=False):
        own_data.advanced_controls(specs)


def _firenet_settings(specs: Mapping[str, Spec]) -> None:
    ss = st.session_state
    c1, c2 = st.columns(2)
    c1.button("Paper's values", key="btn_paper", on_click=apply_values, args=(firenet_values("paper"),),
              width="stretch", help="Fixed schedule, 5 restarts of 5 layers, ν = e⁻¹, C = 1, "
                                    "ergodic output (Colbrook, Antun, Hansen 2022).")
    c2.button("Adaptive", key="btn_adaptive", on_click=apply_values, args=(firenet_values("adaptive"),),
              width="stretch", help="The default: 300 layers whose restarts and step balance "
                                    "follow FIRENET's own certified gap.")
    widget("schedule", specs)
    if ss["schedule"] == "adaptive":
        values = {key: widget(key, specs, container=column)
                  for column, key in zip(st.columns(2), ("max_layers", "target_gap"))}
        note = target_note(values["target_gap"] or 0.0)
        if note:
            st.caption(note)
        widget("consistent", specs)
    else:
        for pair in (("n", "p"), ("nu", "C")):
            for column, key in zip(st.columns(2), pair):
                widget(key, specs, container=column)
    widget("lam", specs)
    for column, key in zip(st.columns(2), ("wavelet", "levels")):
        widget(key, specs, container=column)
    widget("weights", specs)
    own_data.weight_controls(specs)
    if ss["schedule"] == "fixed":
        widget("output", specs)


def depth_slider(stops: list[int], layers_per_restart: int | None = None) -> int:
    """The "show the reconstruction after L layers" slider over the kept depths
    (``FirenetSettings.stops``); with the fixed schedule each stop is a restart."""
    ss = st.session_state
    ss["depth"] = settled_depth(ss.get("depth"), stops)
    if len(stops) == 1:
        st.caption(f"Depth: {stops[0]} layers.")
        return stops[0]
    return st.select_slider(
        "Depth: show FIRENET's output after this many layers", stops, key="depth",
        format_func=(lambda v: f"{v} ({v // layers_per_restart} restarts)") if layers_per_restart else str)


def settled_depth(depth: int | None, stops: list[int]) -> int:
    """``depth`` if it is one of ``stops``, else the nearest stop (None or 0: the last):
    what the depth slider will hold."""
    if depth in stops:
        return int(depth)
    wanted = depth or stops[-1]
    return min(stops, key=lambda v: abs(v - wanted))


def settings_from_state(specs: Mapping[str, Spec], upload: tuple[str, str, Any, Any] | None,
                        state: Mapping[str, Any] | None = None) -> Settings:
    """Build the frozen settings from the session state (after the sidebar's widgets ran;
    the depth is the one the depth slider will settle on, so the page builds its settings
    once per run), or from ``state``, a mapping of the same keys (``explorer.warm`` builds a
    preset's settings without a page)."""
    ss = st.session_state if state is None else state
    pattern = ss["pattern"]
    prefix = K.pattern_key(pattern, "")
    params = tuple(sorted((k[len(prefix):], ss.get(k, s.default)) for k, s in specs.items()
                          if k.startswith(prefix)))
    upload_id = upload[:2] if ss["image"] == "upload" and upload is not None else None
    firenet = FirenetSettings(**{(specs[k].param or k): ss[k] for k in K.FIRENET_KEYS})
    return Settings(
        image=ImageSettings(name=ss["image"], size=int(ss["size"]), seed=int(ss["image_seed"]),
                            upload=upload_id, phase=bool(ss["phase"]) and ss["image"] != "kspace"),
        measurement=MeasurementSettings(transform=ss["transform"], pattern=pattern,
                                        rate=float(ss["rate"]), seed=int(ss["mask_seed"]),
                                        params=params),
        perturbation=PerturbationSettings(noise=float(ss["noise"]), noise_seed=int(ss["noise_seed"]),
                                          kind=ss["perturbation"], budget=float(ss["budget"]),
                                          steps=int(ss["attack_steps"]),
                                          stability_steps=int(ss["stability_steps"]),
                                          stability_protocol=ss["stability_protocol"]),
        firenet=firenet,
        view=ViewSettings(show=tuple(m for m in K.METHOD_LABELS if m in (ss["show"] or ())),
                          depth=settled_depth(ss.get("depth"), firenet.stops), cmap=ss["cmap"],
                          error_max=float(ss["error_max"]), live=bool(ss["live"]),
                          compare=bool(ss["compare"]), present=bool(ss["present"])),
    )
