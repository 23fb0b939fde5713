"""The app's pages for ``st.navigation``, each with the address a link reproduces.

The reconstruction page is the root (``/?size=128&...`` as before); the others live at
``/convergence``, ``/own-data``, ``/paradox``, ``/sweeps`` and ``/about``. The
reconstruction, convergence and own-data pages share one set of settings (the sidebar's
problem and every page's own controls, each a URL key), so a link with any setting opens
on any of them, and they share the cached results: the convergence page draws FIRENET's
run of the reconstruction page without running it again.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import streamlit as st

from explorer import (
    convergence_page,
    links,
    own_data_page,
    panels,
    paradox_page,
    reconstruction_page,
    sharing,
    sources,
)
from explorer import specs as K
from explorer import state as S

__all__ = ["all_pages", "keep_settings"]

#: The pages whose settings are in the address (written again on arrival).
_SETTINGS_PAGES = ("reconstruction", "convergence", "own_data")


def _arrive(name: str) -> None:
    """Note which page this run draws, or open the page a preset asked for.

    Switching pages empties the address's query, so a page that keeps its settings
    there must write them again on arrival.
    """
    memory = S.memory()
    wanted, memory.go_to = memory.go_to, None
    if wanted is not None and wanted != name and wanted in links.PAGE_PATHS:
        # Switching pages empties the address: a first visit reads it before it goes.
        specs = K.all_specs(sources.pattern_registry())
        S.init(st.session_state, specs)
        sharing.load_url_once(specs)
        st.switch_page(links.page(wanted))
    if memory.page != name and name in _SETTINGS_PAGES:
        memory.last_query = None  # explorer.sharing.write_url writes only changes
    memory.page = name


def _reconstruction() -> None:
    _arrive("reconstruction")
    reconstruction_page.render()


def _convergence() -> None:
    _arrive("convergence")
    convergence_page.render()


def _own_data() -> None:
    _arrive("own_data")
    own_data_page.render()


def _paradox() -> None:
    _arrive("paradox")
    paradox_page.render()


def _sweeps() -> None:
    # Imported on this page only: its tables need pandas, whose import (about 0.7 s)
    # would otherwise fall on every server's first run of any page.
    from explorer import sweeps

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
    """The pages, the reconstruction page first (the default, at the root address),
    registered for the links between them (``explorer.links``)."""
    made = [
        st.Page(_reconstruction, title="Reconstruction and stability", icon=":material/image:",
                url_path=links.PAGE_PATHS["reconstruction"], default=True),
        st.Page(_convergence, title="Convergence", icon=":material/show_chart:", url_path=links.PAGE_PATHS["convergence"]),
        st.Page(_own_data, title="Own data", icon=":material/upload_file:", url_path=links.PAGE_PATHS["own_data"]),
        st.Page(_paradox, title="The paradox, computed", icon=":material/calculate:", url_path=links.PAGE_PATHS["paradox"]),
        st.Page(_sweeps, title="Sweep results", icon=":material/table:", url_path=links.PAGE_PATHS["sweeps"]),
        st.Page(_about, title="About", icon=":material/info:", url_path=links.PAGE_PATHS["about"]),
    ]
    links.register(dict(zip(links.PAGE_PATHS, made)))  # listed in the order of PAGE_PATHS
    return made


def keep_settings(state: MutableMapping[str, Any]) -> None:
    """Keep every page's widget values while another page is shown.

    Streamlit forgets a widget's value when a run does not draw the widget; writing the
    value back at the start of every run, before any page draws, keeps it (Streamlit's
    documented way to keep widget state across pages).
    """
    for key in (*K.all_specs(sources.pattern_registry()), *paradox_page.SETTING_KEYS):
        if key in state:
            state[key] = state[key]
