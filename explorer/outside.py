"""Files from outside the page, read through one wrapper: a refusal is a message, never a
traceback.

Every file the page did not make itself (an upload, the U-Net's weights and card, a
results table; cache entries are checked in :mod:`explorer.persist`) is read by
:func:`read_outside`. Whatever the reader raises (the library's ``ValueError``, or an
``OSError``, ``KeyError``, ``MemoryError`` ... that a hostile file finds) becomes one
sentence naming the file and the reason; the caller keeps its previous state and shows
the sentence with :func:`show_refusal`, through :func:`explorer.text.plain`, so text
taken from the file (a name, a card field, a column) is shown literally: no markdown
link, no image fetched, no styling. Errors the library did not foresee are also logged
with their traceback for the maintainers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from explorer.text import plain

__all__ = ["read_outside", "refusal_reason", "show_refusal"]

T = TypeVar("T")
_LOG = logging.getLogger(__name__)


def refusal_reason(error: BaseException) -> str:
    """One sentence for the user from what a reader raised."""
    if isinstance(error, MemoryError):
        return "reading it needs more memory than the server has to spare"
    text = str(error).strip()
    if isinstance(error, (ValueError, FileNotFoundError)) and text:
        return text
    detail = f": {text}" if text else ""
    return f"its content is not what was expected ({type(error).__name__}{detail})"


def read_outside(what: str, name: Any | None, read: Callable[[], T]) -> tuple[T | None, str | None]:
    """Call ``read()``; return ``(value, None)``, or ``(None, message)`` if it raised.

    Parameters
    ----------
    what : str
        What the file is, for the message ("Mask file", "Results file", ...).
    name : Any
        The file's name as given (shown escaped by :func:`show_refusal`); None when the
        reader's own messages name it.
    read : callable
        Reads and validates the file; anything it raises (an ``Exception``) is caught.

    Returns
    -------
    value : the result of ``read()``, or None
    message : str or None
        ``"<what> <name> rejected: <reason>"`` when ``read`` raised.
    """
    try:
        return read(), None
    except Exception as error:  # noqa: BLE001 - every failure on a file from outside is a message
        if not isinstance(error, (ValueError, FileNotFoundError, MemoryError)):
            _LOG.warning("unforeseen error reading %s %r", what, name, exc_info=True)
        named = f"{what} {name}" if name else what
        return None, f"{named} rejected: {refusal_reason(error)}"


def show_refusal(message: str, container: Any = st) -> None:
    """An error box with ``message`` shown literally (it holds names and text from files)."""
    container.error(plain(message, limit=600))
