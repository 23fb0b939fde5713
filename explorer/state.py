"""The page's memory between reruns: every session-state key that is not a setting.

Settings (one per widget, also URL parameters) are specified in ``explorer.specs``;
:func:`init` puts their defaults and the internal keys below into a new session.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, MutableMapping
from typing import Any

from explorer.specs import Spec, widget_value

__all__ = ["INTERNAL", "init", "reset"]

#: Internal keys and their defaults (never in the URL).
INTERNAL: dict[str, Any] = {
    "_url_loaded": False,  # the URL has been read into the settings once per session
    "_url_notes": (),  # what was changed in the URL's values (shown once)
    "_last_query": None,  # what was last written to the URL (to write only changes)
    "_upload_seen": None,  # file id of the last upload processed
    "user_upload": None,  # (name, sha256, decoded image, notes) of the last *valid* upload
    "upload_error": None,  # message about the last rejected upload
    "attack_request": False,  # a worst-case search was asked for (button or preset)
    "stability_request": False,  # the stability curves were asked for
    "preset_note": None,  # what the last preset set up (shown once)
    # Worst-case searches estimated to take at most this long run by themselves (the first
    # screen needs them); longer ones wait for their button.
    "work_budget_seconds": 45.0,
    # Reconstructions and baselines estimated to take longer than this wait for the
    # visitor's go-ahead (explorer.runs.admitted).
    "run_budget_seconds": 120.0,
    # Memory allowed for one gradient step of a worst-case search (MB): FIRENET's gradient
    # is checkpointed in segments that fit (explorer.estimates.attack_chunk).
    "attack_memory_mb": 256.0,
    "_cancelled": None,  # the job (explorer.runs) the visitor cancelled last
    "_confirmed": None,  # the job over the budget the visitor asked to run
    "_attack_started": None,  # the worst-case search job under way (to drop it on a change)
    # Settings applied on top of every preset (e.g. {"size": 128} to run the presets
    # small on a slow machine; the tests and benchmarks use it).
    "preset_overrides": None,
    "_last_image": ("shepp_logan", 0),  # (name, seed) of the last test image shown
    "_last_good_ms": None,  # the last MeasurementSettings that gave a mask
    "_mask_seen": None,  # file id of the last mask file processed
    "user_mask": None,  # (name, bytes) of the last *valid* mask file
    "mask_error": None,  # message about the last rejected mask file
    "_kspace_seen": None,  # file ids of the last k-space files processed
    "user_kspace": None,  # ((name, bytes), ...) of the last *valid* k-space files
    "kspace_error": None,  # message about the last rejected k-space files
    "_last_good_sparsities": None,  # the last typed sparsity list that could be used
    "_timings": {},  # section -> seconds of the last run (explorer.timing)
    "_run_start": None,  # perf_counter at the start of the run (explorer.timing)
}


def init(state: MutableMapping[str, Any], specs: Mapping[str, Spec]) -> None:
    """Put every missing key in ``state`` with its default (never overwrites)."""
    for key, spec in specs.items():
        if key not in state:
            state[key] = widget_value(spec.default)
    for key, default in INTERNAL.items():
        if key not in state:
            state[key] = copy.copy(default)  # no dict shared between sessions


def reset(state: MutableMapping[str, Any], specs: Mapping[str, Spec]) -> None:
    """Every setting back to its default (the internal memory is kept)."""
    for key, spec in specs.items():
        state[key] = widget_value(spec.default)
