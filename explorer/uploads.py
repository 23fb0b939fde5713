"""Uploaded images: validated once per file, the last valid one kept.

A rejected upload never replaces what the user had: the message is stored and shown,
the previous valid upload (or the previous test image) stays on the page.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from explorer import compute

__all__ = ["accept"]


def accept(uploaded: Any, size: int) -> tuple[str, bytes] | None:
    """Validate a new upload; return ``(name, bytes)`` of the last valid one (or None).

    Parameters
    ----------
    uploaded : UploadedFile or None
        What ``st.file_uploader`` returned this run.
    size : int
        Image side N the upload is converted to.
    """
    ss = st.session_state
    if uploaded is None:
        return ss["user_upload"]
    file_id = getattr(uploaded, "file_id", None) or (uploaded.name, uploaded.size)
    if file_id == ss["_upload_seen"]:
        return ss["user_upload"]
    ss["_upload_seen"] = file_id
    data = uploaded.getvalue()
    try:
        compute.user_image(data, uploaded.name, size)
    except ValueError as error:
        kept = "the previous upload is kept" if ss["user_upload"] else "the previous image is kept"
        ss["upload_error"] = f"Upload rejected: {error}. Nothing was changed ({kept})."
    else:
        ss["user_upload"] = (uploaded.name, data)
        ss["upload_error"] = None
    return ss["user_upload"]
