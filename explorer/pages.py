"""The app's pages for ``st.navigation``, each with the address a link reproduces.

The reconstruction page is the root (``/?size=128&...`` as before); the others live at
``/paradox``, ``/sweeps`` and ``/about``. The convergence panel and the visitor's own data
stay on the reconstruction page: the convergence curve streams while that page's methods
run, and an uploaded image, mask or k-space is that page's input.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import streamlit as st

from explorer import panels, paradox_page, reconstruction_page, sources, sweeps
from explorer import specs as K
from explorer import state as S

__all__ = ["all_pages", "keep_settings"]


def _arrive(name: str) -> None:
    """Note which page this run draws. Switching pages empties the address's query, so a
    page that keeps its settings there must write them again on arrival."""
    memory = S.memory()
    if memory.page != name and name == "reconstruction":
        memory.last_query = None  # explorer.sharing.write_url writes only changes
    memory.page = name


def _reconstruction() -> None:
    _arrive("reconstruction")
    reconstruction_page.render()


def _paradox() -> None:
    _arrive("paradox")
    paradox_page.render()


def _sweeps() -> None:
    _arrive("sweeps")

    st.title("Results of a sweep")
    st.caption("Tables and figures of an experiment run beforehand with `python -m solver.reproduce`; "
               "nothing is recomputed here.")
    sweeps.results_panel()


def _about() -> None:
    _arrive("about")
    st.title("About")
    panels.about()


def all_pages() -> list:
    """The pages, the reconstruction page first (the default, at the root address)."""
    return [
        st.Page(_reconstruction, title="Reconstruction and stability", icon=":material/image:",
                url_path="reconstruction", default=True),
        st.Page(_paradox, title="The paradox, computed", icon=":material/calculate:", url_path="paradox"),
        st.Page(_sweeps, title="Sweep results", icon=":material/table:", url_path="sweeps"),
        st.Page(_about, title="About", icon=":material/info:", url_path="about"),
    ]


def keep_settings(state: MutableMapping[str, Any]) -> None:
    """Keep every page's widget values while another page is shown.

    Streamlit forgets a widget's value when a run does not draw the widget; writing the
    value back at the start of every run, before any page draws, keeps it (Streamlit's
    documented way to keep widget state across pages).
    """
    for key in (*K.all_specs(sources.pattern_registry()), *paradox_page.SETTING_KEYS):
        if key in state:
            state[key] = state[key]
