"""A place on the page that keeps what the last run drew there until its replacement comes.

``st.empty()`` empties its place the moment it is created: a slot made at the top of the
script blanks the pictures it holds for as long as the methods below it compute, and the
page jumps. A :class:`Slot` is a container (Streamlit keeps a container's previous
children, greyed as stale, when a rerun draws a container at the same place) in which the
``st.empty`` is made only when something is drawn: the old content is replaced in one step
by the new one.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

__all__ = ["Slot"]


class Slot:
    """A lazily made ``st.empty`` inside a container drawn now.

    Every attribute of ``st.empty``'s placeholder (``container``, ``progress``,
    ``plotly_chart``, ``empty``, ...) is available; the first use replaces what the last
    run left here. A slot nothing is drawn into keeps the last run's content until the
    run ends, when Streamlit removes it as not drawn again.

    Parameters
    ----------
    parent : Any, optional
        Where the slot goes (a container or column); the current place by default.
    """

    def __init__(self, parent: Any = None) -> None:
        self._box = (parent if parent is not None else st).container()
        self._placeholder: Any = None

    @property
    def used(self) -> bool:
        """Whether something was drawn into the slot in this run."""
        return self._placeholder is not None

    def _place(self) -> Any:
        if self._placeholder is None:
            with self._box:
                self._placeholder = st.empty()
        return self._placeholder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._place(), name)
