"""Bring your own data: a mask file, a measured k-space, FIRENET's advanced settings.

The controls (:func:`mask_controls` and :func:`kspace_controls` on the own-data page,
:func:`weight_controls` and :func:`advanced_controls` with FIRENET's settings) draw their widgets from the specs and
validate uploads as they arrive: a file that cannot be used is reported (its message shown
as plain text, never as markdown) and the last valid one stays in use. The page parts
(:func:`first_screen`, :func:`reconstructions`) replace the ground-truth panels when the
data are measured and there is no ground truth: they show the data residual
``||A x - y|| / ||y||`` and FIRENET's certified gap instead of PSNR. The solver calls
behind them are cached in ``explorer.compute``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import streamlit as st

from explorer import compute, image_bytes, sources, state
from explorer.image_bytes import coloured_png
from explorer.outside import read_outside, show_refusal
from explorer.presentation import chart_text
from explorer.results import Results
from explorer.settings import FirenetSettings, Settings
from explorer.spec import Spec
from explorer.specs import METHOD_LABELS
from explorer.text import plain
from explorer.widgets import widget
from explorer.zoomable_picture import zoomable_picture
from solver.mask_files import MAX_MASK_BYTES
from solver.methods import FIRENET, METHODS, UNET, ZERO_FILLED
from solver.problem import Problem
from solver.trace import certify
from solver.uploads import MAX_UPLOAD_BYTES

__all__ = [
    "IMAGE_UPLOAD_MB",
    "MASK_UPLOAD_MB",
    "advanced_controls",
    "checked_advanced",
    "first_screen",
    "image_in_use",
    "kspace_in_use",
    "mask_in_use",
    "kspace_controls",
    "mask_controls",
    "measured",
    "reconstructions",
    "show_error",
    "upload_id",
    "weight_controls",
    "with_phase",
]

#: The image and mask uploaders' limits in MiB, as Streamlit states them under each: the
#: files' own limits, so that a file too big is refused before it is sent rather than
#: after (Streamlit's default said 200 MB). k-space keeps the default: a fastMRI HDF5 file
#: holds a whole volume, and only its slice is limited.
IMAGE_UPLOAD_MB = -(-MAX_UPLOAD_BYTES // 2**20)
MASK_UPLOAD_MB = -(-MAX_MASK_BYTES // 2**20)

#: Width of the pictures of the no-truth panels (as on the first screen).
_WIDTH = 200


def show_error(text: str, container: Any = st) -> None:
    """An error box whose text is shown literally (file names and messages from files
    may hold ``[]()*_``)."""
    container.error(plain(text, limit=400))


def _file_id(uploaded: Any) -> Any:
    return getattr(uploaded, "file_id", None) or (uploaded.name, uploaded.size)


# --------------------------------------------------------------------------------------
# What is in use (one line each, for the sidebar and the reconstruction page)
# --------------------------------------------------------------------------------------
def image_in_use() -> str:
    """Which uploaded image the pages use, in one sentence."""
    upload = state.memory().user_upload
    if upload is None:
        return "No image uploaded yet."
    name, _, image, _ = upload
    return f"Image in use: {plain(name, limit=80)} ({image.shape[0]} x {image.shape[1]})."


def mask_in_use() -> str:
    """Which mask file the pages use, in one sentence."""
    mask = state.memory().user_mask
    return "No mask uploaded yet." if mask is None else f"Mask in use: {plain(mask[0], limit=80)}."


def kspace_in_use() -> str:
    """Which measured k-space the pages use, in one sentence."""
    files = state.memory().user_kspace
    if not files:
        return "No k-space uploaded yet."
    return f"k-space in use: {plain(' + '.join(name for name, _ in files), limit=80)}."


# --------------------------------------------------------------------------------------
# Mask file
# --------------------------------------------------------------------------------------
def mask_controls() -> None:
    """The "user" sampling choice: a mask file uploader, validated on arrival."""
    ss = st.session_state
    memory = state.memory()
    uploaded = st.file_uploader(
        "Mask file (PNG or NPY)", type=["png", "npy"], key="mask_file", max_upload_size=MASK_UPLOAD_MB,
        help="Boolean, 0/1 or 0/255; centred (DC in the middle) or not (detected); a 1-D "
             "line mask samples whole columns. For the published Walsh order the file is "
             "read in plain sequency order. Used with every method.")
    if uploaded is not None and _file_id(uploaded) != memory.mask_seen:
        memory.mask_seen = _file_id(uploaded)
        data = uploaded.getvalue()
        _, refusal = read_outside("Mask file", uploaded.name, lambda: sources.user_mask(
            data, uploaded.name, int(ss["size"]), ss["transform"]))
        if refusal is not None:
            kept = "the previous mask is kept" if memory.user_mask else "no mask is in use yet"
            memory.mask_error = f"{refusal}. Nothing was changed ({kept})."
        else:
            memory.user_mask = (uploaded.name, data)
            memory.mask_error = None
    if memory.mask_error:
        show_error(memory.mask_error)
    if memory.user_mask:
        name, data = memory.user_mask
        found, refusal = read_outside("Mask file", name, lambda: sources.user_mask(
            data, name, int(ss["size"]), ss["transform"]))
        if refusal is not None:
            return  # reported with the problem (another size or transform)
        mask, _ = found
        st.caption(plain(f"In use: {name}, achieved rate {mask.mean():.1%} "
                         f"({int(mask.sum()):,} of {mask.size:,})."))


# --------------------------------------------------------------------------------------
# Measured k-space
# --------------------------------------------------------------------------------------
def kspace_controls(specs: Mapping[str, Spec]) -> None:
    """The "Measured k-space" image source: file uploader (a BART pair as two files) and
    the FFT convention."""

    ss = st.session_state
    memory = state.memory()
    uploaded = st.file_uploader(
        "k-space: NPY, NPZ, HDF5 (fastMRI single-coil) or BART .cfl + .hdr",
        type=["npy", "npz", "h5", "hdf5", "cfl", "hdr"], accept_multiple_files=True,
        key="kspace_file",
        help="One complex 2-D array (or a stack of slices: the middle one is used), "
             "cropped or zero-padded in k-space to N x N. The mask is the file's own "
             "(fastMRI 'mask', NPZ 'mask') or its nonzero samples.")
    widget("kspace_convention", specs)
    files = tuple((f.name, f.getvalue()) for f in (uploaded or ()))
    ident = tuple(_file_id(f) for f in (uploaded or ()))
    if files and ident != memory.kspace_seen:
        memory.kspace_seen = ident
        names = " + ".join(name for name, _ in files)
        _, refusal = read_outside("k-space file", names, lambda: sources.measured_kspace(
            files, ss["kspace_convention"], int(ss["size"])))
        if refusal is not None:
            kept = "the previous k-space is kept" if memory.user_kspace else "no k-space is in use yet"
            memory.kspace_error = f"{refusal}. Nothing was changed ({kept})."
        else:
            memory.user_kspace = files
            memory.kspace_error = None
    if memory.kspace_error:
        show_error(memory.kspace_error)


def measured(size: int, convention: str) -> Problem | None:
    """The problem of the k-space in use at side ``size`` (None without one; a file that
    cannot be read at this size is reported)."""
    memory = state.memory()
    files = memory.user_kspace
    if not files:
        if not memory.kspace_error:
            st.info("Upload a measured k-space on the Own data page. Until then the "
                    "previous image is shown.")
        return None
    names = " + ".join(name for name, _ in files)
    problem, refusal = read_outside("k-space file", names,
                                    lambda: sources.measured_problem(files, convention, size))
    if refusal is not None:
        show_refusal(f"At N = {size}: {refusal}")
        return None
    data = sources.measured_kspace(files, convention, size)
    st.caption(plain(f"Measured k-space {names}: stored {data.original_shape[0]} x "
                     f"{data.original_shape[1]}, used {data.size} x {data.size}, "
                     f"{data.rate:.1%} sampled; convention: {data.convention}, layout: "
                     f"{data.layout}."))
    with st.expander("What was read and detected", expanded=False):
        for note in data.notes:
            st.text(note)
    return problem


def upload_id() -> tuple[str, str] | None:
    """``(file names, sha256)`` of the k-space in use (for the settings' identity)."""
    files = state.memory().user_kspace
    if not files:
        return None
    h = hashlib.sha256()
    for _, data in files:
        h.update(data)
    return " + ".join(name for name, _ in files), h.hexdigest()


def with_phase(truth: np.ndarray, image: Any) -> np.ndarray:
    """The truth, times a smooth phase when ``image.phase`` (a complex image), with a note."""
    if not image.phase:
        return truth
    st.info("Complex image: magnitudes are shown; PSNR and the relative error compare the "
            "complex images (a lost phase counts as error), SSIM the magnitudes. The U-Net "
            "was trained on real images and outputs a real image.")
    return sources.complex_truth(truth, image.seed)


# --------------------------------------------------------------------------------------
# FIRENET: weights and the advanced settings
# --------------------------------------------------------------------------------------
def weight_controls(specs: Mapping[str, Spec]) -> None:
    """The threshold of the published scheme or the typed list, under the weights choice."""

    choice = st.session_state["weights"]
    if choice == "authors":
        widget("threshold", specs)
    elif choice == "typed":
        widget("sparsities", specs)


def advanced_controls(specs: Mapping[str, Spec]) -> None:
    """tau, sigma, delta and eps0 (levels and weights are in the FIRENET group)."""

    for pair in (("tau", "sigma"), ("delta", "eps0")):
        for column, key in zip(st.columns(2), pair):
            widget(key, specs, container=column)


def checked_advanced(fs: FirenetSettings, size: int, *, quiet: bool = False) -> FirenetSettings:
    """``fs`` with steps that converge and a typed sparsity list that fits the levels.

    ``tau sigma > 1`` is reported and sigma lowered to ``1 / tau``. A typed list that
    cannot be used is reported and the previous valid one kept (or, without one, the
    per-level weights from the image used).
    """
    memory = state.memory()
    if fs.tau * fs.sigma > 1.0 + 1e-9:
        if not quiet:
            show_error(f"FIRENET: τσ = {fs.tau * fs.sigma:.4g} > 1 does not converge "
                       f"(‖A‖ = 1); σ = 1/τ = {1 / fs.tau:.4g} is used.")
        fs = replace(fs, sigma=1.0 / fs.tau)
    if fs.weights != "typed":
        return fs
    try:
        compute.weights_check(fs.sparsities, fs.wavelet, fs.levels, size)
    except ValueError as error:
        previous = memory.last_good_sparsities
        try:
            compute.weights_check(previous or "", fs.wavelet, fs.levels, size)
        except ValueError:
            previous = None
        if not quiet:
            kept = (f"the previous list ({previous}) is kept" if previous
                    else "the per-level weights from the image are used until a valid list is typed")
            show_error(f"Typed sparsities not used: {error}; {kept}.")
        return replace(fs, sparsities=previous) if previous else replace(fs, weights="levels")
    memory.last_good_sparsities = fs.sparsities
    return fs


# --------------------------------------------------------------------------------------
# Panels without a ground truth
# --------------------------------------------------------------------------------------
_NO_TRUTH = ("Measured data: there is no ground truth, so no PSNR or error map. Shown "
             "instead: the data residual $\\|Ax - y\\| / \\|y\\|$ (how well each image explains "
             "the measurements) and, for FIRENET, its certified relative gap to the "
             "sqrt-LASSO optimum. Images are the real part of the reconstruction: data with "
             "a phase (most scanner data) lose it.")


def _gap(trace: Any) -> float | None:
    if not trace.objective:
        return None
    gaps, _ = certify({"x": trace})
    value = gaps["x"][-1]
    return None if not np.isfinite(value) else float(value)


def _range(images: Mapping[str, np.ndarray]) -> tuple[float, float]:
    top = max(float(np.percentile(np.abs(image), 99.5)) for image in images.values())
    return 0.0, top if top > 0 else 1.0


def first_screen(settings: Settings, results: Results, base: Problem) -> None:
    """The first screen for measured data: zero-filled and FIRENET with their residuals."""
    st.info(_NO_TRUTH)
    depth = settings.view.depth
    images = {m: results.main[m].at_depth(depth) for m in (ZERO_FILLED, FIRENET, UNET)
              if m in results.main}
    if not images:
        return
    value_range = _range(images)
    columns = st.columns(3)
    for column, (method, image) in zip(columns, images.items()):
        residual = results.problems[method].residual(image)
        column.image(coloured_png(image, value_range), width=_WIDTH,
                     caption=f"{METHOD_LABELS[method]}: data residual {residual:.3g}")


def reconstructions(settings: Settings, results: Results, base: Problem,
                    shown: list[str]) -> dict[str, np.ndarray]:
    """The reconstructions row for measured data (no truth): images, data residual and
    certified gap per method; returns the images shown."""
    view = settings.view
    images = {METHOD_LABELS[m]: results.main[m].at_depth(view.depth) for m in shown}
    value_range = _range(images)
    columns = st.columns(len(shown))
    for column, method in zip(columns, shown):
        label = METHOD_LABELS[method]
        trace = results.main[method]
        given = results.problems[method]
        with column:
            zoomable_picture(coloured_png(images[label], value_range, view.cmap), image_bytes.shown(images[label]), label,
                             key=f"measured_picture_{method}", link="image", text_size=chart_text(view.present))
            st.metric("Data residual", f"{given.residual(images[label]):.4g}",
                      help="‖Ax − y‖ / ‖y‖: how far the image's measurements are from "
                           "the data (no ground truth here).")
            gap = _gap(trace)
            if gap is not None:
                st.metric("Certified gap", f"{gap:.3g}",
                          help="(F(x) - L) / L with L the best dual value: a certified bound "
                               "on the distance to the sqrt-LASSO optimum.")
    if any(METHODS[m].learned for m in shown):
        st.warning("U-Net: it was trained on real, simulated images (random ellipses) with "
                   "another mask; on measured data its output means little.")
    return images
