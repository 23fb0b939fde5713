"""From settings to the problem on the page: ground truth, sampling, data, perturbation.

Bad input never stops the page: an upload that cannot be used, a sampling rate a pattern
cannot reach, too many wavelet levels or a perturbation that cannot be built is reported
with ``st.error`` and the previous (or a safe) choice is used instead.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import streamlit as st

from explorer import compute, own_data, runs, sources, state, variants
from explorer.settings import ImageSettings, MeasurementSettings, Settings
from explorer.specs import PERTURBATIONS
from explorer.text import plain
from solver.methods import FIRENET
from solver.problem import Problem
from solver.wavelets import Wavelet2D

__all__ = ["ground_truth", "problem", "checked_firenet", "perturbed", "searched", "search_estimate"]


def ground_truth(settings: Settings, upload: tuple[str, str, np.ndarray, tuple[str, ...]] | None
                 ) -> tuple[np.ndarray, ImageSettings]:
    """The ground truth and the image settings actually used.

    Without a valid upload the previous test image stays (nothing the user had is lost).
    """
    image = settings.image
    ss = st.session_state
    memory = state.memory()
    if image.name == "kspace":
        found = own_data.measured(image.size, ss["kspace_convention"])
        if found is not None:
            return found.truth, replace(image, upload=own_data.upload_id())
        name, seed = memory.last_image
        image = replace(image, name=name, seed=seed, upload=None)
    elif image.name == "upload":
        if upload is not None:
            name, _, decoded, decode_notes = upload
            truth, notes = sources.user_image(decoded, image.size)
            for note in (*decode_notes, *notes):
                st.warning(plain(f"Upload {name} converted: {note}.", limit=300))
            return own_data.with_phase(truth, image), image
        if not memory.upload_error:
            st.info("Upload a PNG, JPEG or NPY image on the Own data page. Until then the "
                    "previous image is shown.")
        name, seed = memory.last_image
        image = replace(image, name=name, seed=seed, upload=None)
    else:
        memory.last_image = (image.name, image.seed)
    truth, _ = sources.test_image(image.name, image.size, image.seed)
    return own_data.with_phase(truth, image), image


def problem(settings: Settings, truth: np.ndarray, image: ImageSettings) -> Problem:
    """The unperturbed problem; a sampling request that fails keeps the previous one."""
    ss = st.session_state
    memory = state.memory()
    ps = settings.perturbation
    ms = settings.measurement
    if image.name == "kspace":  # valid measured data (ground_truth checked)
        return sources.measured_problem(memory.user_kspace, ss["kspace_convention"], image.size)
    upload = memory.user_mask
    try:
        result = compute.base_problem(image, truth, ms, ps.noise, ps.noise_seed, user_mask=upload)
    except ValueError as error:
        previous = memory.last_good_ms or MeasurementSettings()
        name = "an uploaded mask" if previous.pattern == "user" else previous.pattern.replace("_", " ")
        st.error(plain(f"Sampling not possible: {error}. The previous sampling "
                       f"({name}, {previous.rate:.1%}) is used instead.", limit=400))
        try:
            result = compute.base_problem(image, truth, previous, ps.noise, ps.noise_seed, user_mask=upload)
        except ValueError:
            result = compute.base_problem(image, truth, MeasurementSettings(), ps.noise, ps.noise_seed)
    else:
        memory.last_good_ms = ms
    for message in result.notes:
        # An accepted mask file's rate is news, not a warning.
        note = st.success if message.startswith("Uploaded mask ") else st.warning
        note(plain(message, limit=400))
    return result


def checked_firenet(settings: Settings, quiet: bool = False) -> Settings:
    """The settings with FIRENET's wavelet levels made valid for this image size.

    Too many levels for the wavelet at this size is reported and replaced by the maximum
    (the page keeps running); a very deep network is flagged as slow.
    """
    fs = settings.firenet
    most = Wavelet2D.max_levels(fs.wavelet, settings.image.size)
    if fs.levels > most:
        if not quiet:
            st.error(f"FIRENET: {fs.levels} wavelet levels is more than {fs.wavelet} "
                     f"allows at N = {settings.image.size} (at most {most}); the maximum "
                     "is used.")
        fs = replace(fs, levels=0)
    fs = own_data.checked_advanced(fs, settings.image.size, quiet=quiet)
    if fs.depth > 5000 and not quiet:
        st.warning(f"FIRENET has {fs.depth:,} layers: this will "
                   "take a while; its convergence curve is drawn as it runs.")
    return replace(settings, firenet=fs)


def perturbed(settings: Settings, base: Problem) -> variants.Variant | None:
    """The perturbation's variant of the problem; one that cannot be built is reported
    and the page goes on without it."""
    if not base.has_truth and settings.perturbation.kind in ("detail", "more_samples"):
        label = PERTURBATIONS[settings.perturbation.kind]
        own_data.show_error(f"Perturbation \"{label}\" needs a ground truth to measure again; "
                            "measured data have none. Showing the unperturbed data.")
        return None
    try:
        return variants.variant(base, settings.perturbation, settings.firenet, settings.measurement)
    except (RuntimeError, ValueError) as error:
        label = PERTURBATIONS.get(settings.perturbation.kind, settings.perturbation.kind)
        st.error(plain(f"Perturbation \"{label}\" not possible: {error}. Showing the unperturbed "
                       "data.", limit=400))
        return None


def search_estimate(settings: Settings, results: Any) -> float:
    """Seconds the worst-case searches of ``settings``' perturbation should take here,
    calibrated on this machine (``explorer.estimates``)."""
    targets = variants.SEARCH_TARGETS.get(settings.perturbation.kind, ())
    given = results.problems.get(FIRENET)
    if not targets or given is None:
        return 0.0
    memory = float(state.memory().attack_memory_mb) * 2**20
    try:
        return variants.search_seconds(targets, given, settings.firenet, settings.perturbation, memory)
    except (RuntimeError, ValueError):
        return 0.0


def searched(settings: Settings, base: Problem, variant: variants.Variant | None, results: Any,
             slot: Any, notice: Any = None) -> variants.Variant | None:
    """The variant with its pending worst-case search run now, when that is cheap (within
    the visitor's work budget) or was asked for; else ``variant`` unchanged (the
    perturbation panel then offers the search).

    Running it here, before the panels are drawn, shows the perturbed page in one pass
    instead of drawing the page twice. Its progress and Cancel button go into ``slot``
    (where the search's Run button is); ``notice``, if given (the top of the page), says
    where to look meanwhile.
    """
    memory = state.memory()
    if variant is None or variant.pending is None or runs.attack_cancelled():
        return variant
    if search_estimate(settings, results) > memory.work_budget_seconds and not memory.attack_request:
        return variant
    if notice is not None:
        notice.caption(f"The {variant.pending} is running: its progress and Cancel button are in the "
                       "Perturbation section below.")
    done = runs.search(settings, base, slot)
    if notice is not None:
        notice.empty()
    if not done:
        return variant
    slot.empty()
    return perturbed(settings, base)
