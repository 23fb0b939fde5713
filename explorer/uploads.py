"""Uploaded images: decoded once per file, only the decoded image kept, the last valid one
kept.

A rejected upload never replaces what the user had: the message is stored and shown, the
previous valid upload (or the previous test image) stays on the page. The file's bytes
are dropped as soon as they are decoded (an upload of 134 MB used to be held twice per
visitor); the image kept is at most :data:`KEPT_SIDE` pixels wide.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from explorer import state
from explorer.outside import read_outside
from explorer.specs import SIZES
from solver.uploads import decode_upload

__all__ = ["accept", "current", "KEPT_SIDE"]

#: Side of the largest image kept per visitor: the largest size the page offers.
KEPT_SIDE = max(SIZES)


def accept(uploaded: Any) -> tuple[str, str, np.ndarray, tuple[str, ...]] | None:
    """Validate a new upload; return ``(name, sha256, image, notes)`` of the last valid
    one (or None).

    Parameters
    ----------
    uploaded : UploadedFile or None
        What ``st.file_uploader`` returned this run (None once the file is removed,
        which also clears a rejection message about it).
    """
    memory = state.memory()
    if uploaded is None:
        memory.upload_error = None
        memory.upload_seen = None
        return memory.user_upload
    file_id = getattr(uploaded, "file_id", None) or (uploaded.name, uploaded.size)
    if file_id == memory.upload_seen:
        return memory.user_upload
    memory.upload_seen = file_id
    data = uploaded.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    decoded, refusal = read_outside(
        "Upload", None, lambda: decode_upload(data, filename=uploaded.name, max_side=KEPT_SIDE))
    if refusal is not None:
        kept = "the previous upload is kept" if memory.user_upload else "the previous image is kept"
        memory.upload_error = f"{refusal}. Nothing was changed ({kept})."
    else:
        image, notes = decoded
        memory.user_upload = (uploaded.name, digest, image, tuple(notes))
        memory.upload_error = None
    return memory.user_upload


def current() -> tuple[str, str, np.ndarray, tuple[str, ...]] | None:
    """``(name, sha256, image, notes)`` of the last accepted upload, or None: what every
    page uses (the uploader itself is on the own-data page only, and Streamlit forgets a
    file uploader's file when another page is shown)."""
    return state.memory().user_upload
