"""Opening another page of the app in an ``AppTest`` (the pages are functions of
``st.navigation`` with their own addresses, which ``AppTest.switch_page`` cannot name)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from explorer.state import memory


def open_page(at: AppTest, name: str) -> AppTest:
    """Run ``at`` on page ``name`` (a key of ``explorer.links.PAGE_PATHS``): the next run
    starts on the page shown last and opens ``name`` at once, as a preset does."""
    memory(at.session_state).go_to = name
    at.run()
    assert memory(at.session_state).page == name, memory(at.session_state).page
    return at
