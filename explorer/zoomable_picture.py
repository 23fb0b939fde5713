"""A picture the visitor zooms into and reads pixel values from, linked with the pictures
beside it, drawn by a small component of the page's own (``zoomable_picture.js``), not a
chart library.

Drag a box on a picture and it, and every picture of the same link and size, shows that
part magnified; a double click shows the whole picture again; hovering a pixel marks it on
each linked picture with that picture's value there. All of it happens in the browser:
zooming and hovering rerun nothing.

The picture and its values (float32, 256 kB at 256 x 256) are served as files by
Streamlit's media store, the one its own pictures use: the page's messages carry only
their addresses, the browser loads the picture as it loads any other, and fetches the
values when the visitor first hovers the picture (with the values in the messages, a
colour map change settled in 0.35 s against 0.15 s for Streamlit's own pictures in the
same run, docs/performance.md).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

__all__ = ["VALUES_MIME", "payload", "picture_mime", "values_bytes", "zoomable_picture"]

_COMPONENT = "firenet_explorer.zoomable_picture"
_HERE = Path(__file__).parent
_MIME = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
#: What the values file is served as (the script reads it as float32 itself).
VALUES_MIME = "application/octet-stream"


def picture_mime(picture: bytes) -> str:
    """The MIME type of an encoded picture (PNG or JPEG; ``ValueError`` otherwise)."""
    for signature, mime in _MIME.items():
        if picture.startswith(signature):
            return mime
    raise ValueError("picture: not a PNG or JPEG file")


def values_bytes(values: np.ndarray) -> bytes:
    """``values`` (a real 2-D array) as the script reads them: little-endian float32, row by row."""
    array = np.asarray(values)
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(f"values: a 2-D array of the picture's pixels, got shape {array.shape}")
    if not np.isrealobj(array):
        raise ValueError("values: real numbers (the magnitude of a complex image, say), got complex")
    return np.ascontiguousarray(array, dtype="<f4").tobytes()


def payload(picture: str, values: str, shape: tuple[int, int], title: str, link: str, text_size: int,
            base: str = "") -> dict[str, Any]:
    """What the component receives: the addresses of the picture and of its values (on the
    server, under ``base``, the page's own path), the values' ``shape``, the title, the
    link and the readout's text size in pixels."""
    if not isinstance(text_size, int) or not 6 <= text_size <= 96:
        raise ValueError(f"text_size: pixels from 6 to 96, got {text_size!r}")
    for name, address in (("picture", picture), ("values", values)):
        if not address.startswith("/") or address.startswith("//"):  # "//host/..." is another server
            raise ValueError(f"{name}: an address on the server (a path starting with one /), got {address!r}")
    return {"picture": picture, "values": values, "height": int(shape[0]), "width": int(shape[1]),
            "title": str(title), "link": str(link), "text_size": text_size, "base": base}


def _served(data: bytes, mime: str, coordinates: str) -> str:
    """``data`` in Streamlit's media store, as ``st.image`` keeps its pictures (kept while
    the session's page uses it; ``coordinates``: this file's place on the page, one file
    per place); returns its address on the server."""
    from streamlit import runtime

    return runtime.get_instance().media_file_mgr.add(data, mime, coordinates)


def _base() -> str:
    path = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{path}" if path else ""


@functools.cache
def _component() -> Any:
    """The component, registered with the running server on first use (not at import)."""
    return st.components.v2.component(
        _COMPONENT, js=(_HERE / "zoomable_picture.js").read_text(encoding="utf-8"),
        css=(_HERE / "zoomable_picture.css").read_text(encoding="utf-8"), isolate_styles=False)


def zoomable_picture(picture: bytes, values: np.ndarray, title: str, *, key: str, link: str,
                     text_size: int) -> None:
    """Draw ``picture`` (PNG or JPEG bytes of ``values``) over ``title``, zoomable with the
    pictures of the same ``link`` and size; ``key``: the element's key (unique on the page;
    kept from run to run so the browser replaces the picture in place)."""
    mime = picture_mime(picture)
    raw = values_bytes(values)
    shape = np.shape(values)
    data = payload(_served(picture, mime, f"zoomable/{key}/picture"),
                   _served(raw, VALUES_MIME, f"zoomable/{key}/values"), shape, title, link, text_size, _base())
    _component()(data=data, key=key)
