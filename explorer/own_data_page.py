"""The own-data page: the visitor's image, sampling mask and measured k-space, each
uploaded, checked and shown here before any page uses it.

Every file from outside is hostile until checked (``explorer.outside``, unchanged): a
refused file is reported as plain text and changes nothing. What was accepted is kept in
the session's memory (``explorer.state.PageMemory``), not in the uploader: Streamlit
forgets a file uploader's file when another page is shown, and the pages use the file
while this one is not on screen. Coming back shows an empty uploader above what is still
in use.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from explorer import compute, controls, own_data, page_setup, sources, state, uploads
from explorer.image_bytes import image_png
from explorer.outside import read_outside
from explorer.text import plain

__all__ = ["render"]

#: Width of the previews (pixels).
_PREVIEW = 220


def render() -> None:
    """Draw the page (Streamlit runs it as one page of ``st.navigation``)."""
    specs, settings, _ = page_setup.settings()
    st.title("Own data")
    st.caption("Your image, sampling mask or measured k-space. Each file is checked here; a file that is refused "
               "changes nothing, and what was in use stays. The other pages use a file once the sidebar chooses "
               "it (Image: your upload or measured k-space; Sampling pattern: uploaded mask) or its Use button "
               "below is pressed.")
    image, mask, kspace = st.columns(3, gap="medium")
    with image:
        _image_section()
    with mask:
        _mask_section()
    with kspace:
        _kspace_section(specs)


def _use_button(label: str, values: dict[str, Any], in_use: bool) -> None:
    if in_use:
        st.caption("In use on the other pages.")
        return
    st.button(label, key=f"use_{next(iter(values.values()))}", on_click=controls.apply_values, args=(values,))


def _image_section() -> None:
    st.subheader("Image")
    uploaded = st.file_uploader(
        "PNG, JPEG or NPY (2-D array)", type=["png", "jpg", "jpeg", "npy"], key="upload_file",
        max_upload_size=own_data.IMAGE_UPLOAD_MB,
        help="Colour images are converted to gray, values scaled to [0, 1] and the image "
             "resized to N x N; you are told when that happens.")
    upload = uploads.accept(uploaded)
    memory = state.memory()
    if memory.upload_error:
        own_data.show_error(memory.upload_error)
    if upload is None:
        st.caption(own_data.image_in_use())
        return
    name, digest, image, notes = upload
    size = int(st.session_state["size"])
    fitted, fit_notes = sources.user_image(image, size)
    st.image(image_png(np.abs(fitted)), width=_PREVIEW)
    st.caption(plain(f"{name}: decoded {image.shape[0]} x {image.shape[1]}, used at {size} x {size} "
                     f"(sha256 {digest[:12]}).", limit=300))
    for note in (*notes, *fit_notes):
        st.caption(plain(f"Converted: {note}.", limit=300))
    _use_button("Use this image", {"image": "upload"}, st.session_state["image"] == "upload")


def _mask_section() -> None:
    st.subheader("Sampling mask")
    own_data.mask_controls()
    found = state.memory().user_mask
    if found is None:
        st.caption(own_data.mask_in_use())
        return
    ss = st.session_state
    name, data = found
    read, refusal = read_outside("Mask file", name, lambda: sources.user_mask(
        data, name, int(ss["size"]), ss["transform"]))
    if refusal is not None:
        own_data.show_error(f"{refusal} (at N = {ss['size']} with this transform; the file stays kept).")
        return
    mask, _ = read
    st.image(image_png(mask.astype(np.float32)), width=_PREVIEW, caption="White: sampled (centred)")
    in_use = ss["pattern"] == "user" and ss["image"] != "kspace"
    _use_button("Use this mask", {"pattern": "user"}, in_use)


def _kspace_section(specs: Any) -> None:
    st.subheader("Measured k-space")
    own_data.kspace_controls(specs)
    files = state.memory().user_kspace
    if not files:
        st.caption(own_data.kspace_in_use())
        return
    ss = st.session_state
    size = int(ss["size"])
    names = " + ".join(name for name, _ in files)
    problem, refusal = read_outside("k-space file", names, lambda: sources.measured_problem(
        files, ss["kspace_convention"], size))
    if refusal is not None:
        own_data.show_error(f"At N = {size}: {refusal} (the files stay kept).")
        return
    data = sources.measured_kspace(files, ss["kspace_convention"], size)
    zero_filled = np.abs(compute.zero_filled_image(problem))
    st.image(image_png(zero_filled, (0.0, float(zero_filled.max()) or 1.0)), width=_PREVIEW,
             caption="Zero-filled image of the data (magnitude)")
    st.caption(plain(f"{names}: stored {data.original_shape[0]} x {data.original_shape[1]}, used {data.size} x "
                     f"{data.size}, {data.rate:.1%} sampled; convention: {data.convention}, layout: {data.layout}.",
                     limit=400))
    _use_button("Use this k-space", {"image": "kspace"}, ss["image"] == "kspace")
