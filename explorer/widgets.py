"""One widget per setting, drawn from its spec (``explorer.specs``): range, step, options,
labels and help come from the spec, the value lives in the session state under its key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from explorer.spec import Spec

__all__ = ["widget"]


def widget(key: str, specs: Mapping[str, Spec], *, container: Any = st, **overrides: Any) -> Any:
    """Draw the widget of setting ``key`` as its spec says (``overrides`` replace the
    label or help for this drawing)."""
    unknown = set(overrides) - {"label", "help"}
    if unknown:
        raise ValueError(f"overrides may be label or help, got {sorted(unknown)}")
    spec = specs[key]
    label = overrides.get("label", spec.label)
    help_text = overrides.get("help", spec.help)
    kind = spec.widget
    if kind == "select":
        return container.selectbox(label, spec.options, key=key, help=help_text,
                                   format_func=spec.label_of)
    if kind == "segmented":
        return container.segmented_control(label, spec.options, key=key, help=help_text,
                                           format_func=spec.label_of, required=True)
    if kind == "radio":
        return container.radio(label, spec.options, key=key, help=help_text,
                               format_func=spec.label_of, horizontal=len(spec.options) <= 2)
    if kind == "pills":
        return container.pills(label, spec.options, key=key, help=help_text, selection_mode="multi",
                               format_func=spec.label_of, label_visibility="collapsed")
    if kind == "toggle":
        return container.toggle(label, key=key, help=help_text)
    if kind == "text":
        return container.text_input(label, key=key, help=help_text)
    numbers = dict(min_value=spec.low, max_value=spec.high, step=spec.step, format=spec.format)
    if isinstance(spec.default, int):
        numbers = {k: (int(v) if isinstance(v, float) and k != "format" else v)
                   for k, v in numbers.items()}
        numbers["step"] = numbers["step"] or 1
    if kind == "slider":
        return container.slider(label, key=key, help=help_text, **numbers)
    return container.number_input(label, key=key, help=help_text, **numbers)
