"""The page in the URL: every setting is a query parameter, so a link reproduces the page.

On the first run of a session the URL's parameters are read into the settings (bad
values are reported and replaced by defaults); on every run the settings that differ from
their defaults are written back, so the address bar always holds the current page.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from explorer import state as S

__all__ = ["load_url_once", "write_url"]


def load_url_once(specs: Mapping[str, S.Spec]) -> None:
    """Read the URL's query parameters into the session state, once per session."""
    ss = st.session_state
    if ss["_url_loaded"]:
        return
    ss["_url_loaded"] = True
    values, errors = S.parse_query(st.query_params.to_dict(), specs)
    for key, value in values.items():
        ss[key] = S.widget_value(value)
    ss["_url_errors"] = tuple(errors)


def write_url(specs: Mapping[str, S.Spec]) -> None:
    """Write the non-default settings into the URL (only when they changed)."""
    ss = st.session_state
    query = S.to_query(ss, specs)
    # The depth slider at its end (all layers) is the default page: keep it out.
    if "depth" in query and int(query["depth"]) >= int(ss["n"]) * int(ss["p"]):
        del query["depth"]
    if query != ss["_last_query"]:
        st.query_params.from_dict(query)
        ss["_last_query"] = query
