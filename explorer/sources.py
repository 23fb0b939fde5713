"""Where the page's data come from, cached: the pattern registry, test images, uploads,
sampling masks (drawn or uploaded), measured k-space and complex test images.

Each is a thin ``st.cache_*`` wrapper around a solver function (``solver.phantoms``,
``solver.uploads``, ``solver.sampling``, ``solver.mask_files``, ``solver.kspace``,
``solver.complex_images``); ``explorer.compute`` builds the problems and runs the methods.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import streamlit as st
import torch

from solver.complex_images import complex_test_image
from solver.kspace import load_kspace
from solver.mask_files import load_mask, walsh_mask_to_centred
from solver.operators import make_operator
from solver.phantoms import make_test_image
from solver.problem import Problem, problem_from_kspace
from solver.recipe import DTYPE  # complex64: float32 precision, twice the speed of float64
from solver.sampling import PATTERNS, RATE_TOLERANCE, make_mask
from solver.uploads import fit_to_size

__all__ = ["DTYPE", "complex_truth", "kspace_log", "measured_kspace", "measured_problem", "pattern_registry", "sampling_mask", "test_image", "user_image", "user_mask"]

# --------------------------------------------------------------------------------------
# Registries, images, masks
# --------------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def pattern_registry() -> Mapping[str, Any]:
    """The solver's sampling patterns (name -> ``PatternSpec``)."""
    return PATTERNS


_IMAGE_NAMES = {"random_ellipses": "ellipses"}  # explorer name -> solver registry name


@st.cache_data(max_entries=32, show_spinner=False)
def test_image(name: str, size: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """A test image (N, N) float64 in [0, 1] and its detail mask (or None)."""
    return make_test_image(_IMAGE_NAMES.get(name, name), size, seed)


@st.cache_data(max_entries=8, show_spinner=False)
def user_image(image: np.ndarray, size: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """A decoded upload (``explorer.uploads``) resized to (N, N) in [0, 1], with what was
    changed on the way."""
    fitted, notes = fit_to_size(image, size)
    return fitted, tuple(notes)


@st.cache_data(max_entries=64, show_spinner=False)
def sampling_mask(pattern: str, size: int, rate: float, seed: int,
                  params: tuple[tuple[str, Any], ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """The sampling mask (N, N) bool and a note when the achieved rate is off.

    Raises ``ValueError`` when the pattern cannot reach the rate or a parameter is out of
    range.
    """
    mask = np.asarray(make_mask(pattern, size, rate, seed=seed, **dict(params)), dtype=bool)
    achieved = float(mask.mean())
    if abs(achieved - rate) > RATE_TOLERANCE:
        return mask, (f"The {pattern} pattern reaches {achieved:.1%}, not the requested {rate:.1%}.",)
    return mask, ()


@st.cache_data(max_entries=64, show_spinner=False)
def kspace_log(image: np.ndarray, transform: str) -> np.ndarray:
    """``log10 |T x|`` of the full (unsampled) transform, for display, float32 (N, N)."""
    with torch.no_grad():
        full = make_operator(transform, np.ones(image.shape, dtype=bool)).full(
            torch.as_tensor(np.asarray(image)).to(DTYPE))
    magnitude = full.abs().numpy()
    return np.log10(magnitude + 1e-6 * max(float(magnitude.max()), 1e-30)).astype(np.float32)



@st.cache_data(max_entries=8, show_spinner=False)
def user_mask(data: bytes, filename: str, size: int, transform: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """A mask file (PNG/NPY) as the (N, N) bool mask in the project's centred order, with
    the reader's notes and the achieved rate.

    For ``transform="walsh_uncentred"`` the file is in the published plain sequency order
    (sequency s at index s) and is converted; otherwise its layout is detected. Raises
    ``ValueError`` with a message for the user.
    """
    if transform == "walsh_uncentred":
        # Read as it is stored (no Fourier-style shift), then reordered; the reader's DC
        # note is about the stored grid's middle, not sequency 0.
        loaded = load_mask(data, filename, size=size, centred="centred")
        mask = walsh_mask_to_centred(loaded.mask)
        converted = ("Read in the published Walsh order (sequency s at index s) and converted "
                     "to the project's centred sequency order.")
        notes = (*(n for n in loaded.notes if not n.startswith("DC is not sampled")), converted)
        if not mask[size // 2, size // 2]:
            notes += ("Sequency (0, 0) is not sampled: the image mean cannot be recovered.",)
    else:
        loaded = load_mask(data, filename, size=size)
        mask, notes = loaded.mask, loaded.notes
    return mask, (*notes, f"Uploaded mask {filename}: {mask.mean():.1%} of the coefficients sampled.")


@st.cache_data(max_entries=4, show_spinner=False)
def measured_kspace(files: tuple[tuple[str, bytes], ...], convention: str, size: int) -> Any:
    """A measured k-space (``solver.kspace.KSpaceData``) from uploaded files: one NPY, NPZ
    or HDF5 file, or a BART ``.cfl`` with its ``.hdr``. Raises ``ValueError``."""
    by_ext = {os.path.splitext(name)[1].lower(): (name, data) for name, data in files}
    if ".cfl" in by_ext or ".hdr" in by_ext:
        if not (".cfl" in by_ext and ".hdr" in by_ext):
            have = ".cfl" if ".cfl" in by_ext else ".hdr"
            raise ValueError(f"a BART file needs both its .cfl and .hdr; only the {have} was given")
        name, data = by_ext[".cfl"]
        return load_kspace(data, name, hdr=by_ext[".hdr"][1], convention=convention, size=size)
    if len(files) != 1:
        raise ValueError(f"give one k-space file (or a BART .cfl and .hdr pair), got {len(files)}")
    name, data = files[0]
    return load_kspace(data, name, convention=convention, size=size)


@st.cache_resource(max_entries=4, show_spinner=False)
def measured_problem(files: tuple[tuple[str, bytes], ...], convention: str, size: int) -> Problem:
    """The problem of a measured k-space (no ground truth); raises ``ValueError``."""
    return problem_from_kspace(measured_kspace(files, convention, size), dtype=DTYPE)


@st.cache_data(max_entries=16, show_spinner=False)
def complex_truth(magnitude: np.ndarray, seed: int) -> np.ndarray:
    """``magnitude`` times a smooth seeded phase (``solver.complex_images``), complex128."""
    return complex_test_image(magnitude, seed=seed)
