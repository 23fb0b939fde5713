"""The page in the URL: every setting is a query parameter, so a link reproduces the page.

On the first run of a session the URL's parameters are read into the settings (values
the widgets cannot show are clamped or replaced by defaults, with a note); on every run the settings that differ from
their defaults are written back, so the address bar always holds the current page.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from explorer.spec import Spec, parse_query, to_query, widget_value
from explorer import state
from explorer.specs import RETIRED_KEYS

__all__ = ["load_url_once", "write_url"]


def load_url_once(specs: Mapping[str, Spec]) -> None:
    """Read the URL's query parameters into the session state, once per session."""
    ss = st.session_state
    memory = state.memory()
    if memory.url_loaded:
        return
    memory.url_loaded = True
    query = {key: st.query_params.get_all(key) for key in st.query_params}
    values, notes = parse_query(query, specs, RETIRED_KEYS)
    for key, value in values.items():
        ss[key] = widget_value(value)
    memory.url_notes = tuple(notes)


def write_url(specs: Mapping[str, Spec]) -> None:
    """Write the non-default settings into the URL (only when they changed)."""
    ss = st.session_state
    query = to_query(ss, specs)
    # The depth slider at its end (all layers) is the default page: keep it out.
    if "depth" in query and int(query["depth"]) >= int(ss["n"]) * int(ss["p"]):
        del query["depth"]
    memory = state.memory()
    if query != memory.last_query:
        st.query_params.from_dict(query)
        memory.last_query = query
