"""FIRENET Explorer: the pages of Colbrook, Antun & Hansen (PNAS 2022), computed.

Run with ``streamlit run app.py``. Each page is a module of ``explorer`` with its own
address (``/paradox``, ``/sweeps``, ``/about``; the reconstruction page is the root), so a
link reproduces it, query parameters included. All numerics are in the ``solver`` package.
"""

import streamlit as st

# Presentation mode (?present=1): the sidebar starts collapsed, larger type, fewer panels.
PRESENTING = st.query_params.get("present") in ("1", "true")
st.set_page_config(page_title="FIRENET Explorer", page_icon=":fire:", layout="wide",
                   initial_sidebar_state="collapsed" if PRESENTING else "auto")

from explorer import pages  # noqa: E402

pages.keep_settings(st.session_state)
st.navigation(pages.all_pages()).run()
