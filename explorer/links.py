"""Links between the app's pages: each page by its name, for ``st.page_link`` and
``st.switch_page``.

``explorer.pages`` makes the pages (it imports every page's module) and registers them
here when it hands them to ``st.navigation``; a page's module links to another through
:func:`page` without importing ``explorer.pages`` (which would make an import cycle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["PAGE_PATHS", "page", "register"]

#: Each page's name (``PageMemory.page``, ``PageMemory.go_to``) and its address.
PAGE_PATHS = {"reconstruction": "reconstruction", "convergence": "convergence", "own_data": "own-data",
              "paradox": "paradox", "sweeps": "sweeps", "about": "about"}

_REGISTERED: dict[str, Any] = {}


def register(pages: Mapping[str, Any]) -> None:
    """Keep the ``st.Page`` of each name of :data:`PAGE_PATHS` (all of them)."""
    if set(pages) != set(PAGE_PATHS):
        raise ValueError(f"pages: one per name of PAGE_PATHS ({', '.join(PAGE_PATHS)}); got {', '.join(pages)}")
    _REGISTERED.update(pages)


def page(name: str) -> Any:
    """The ``st.Page`` of page ``name`` (a key of :data:`PAGE_PATHS`)."""
    if name not in PAGE_PATHS:
        raise ValueError(f"name: no page {name!r} (one of {', '.join(PAGE_PATHS)})")
    if name not in _REGISTERED:
        raise ValueError(f"name: page {name!r} is not registered yet (explorer.pages.all_pages registers them)")
    return _REGISTERED[name]
