"""The app's memory between reruns: one typed object beside the settings.

A session's state holds two kinds of thing. The settings, one per widget (also URL
parameters), are plain session-state keys, since a Streamlit widget keeps its value under
its ``key=``; they are specified in ``explorer.specs``. Everything else the page remembers
from one run to the next is a field of one :class:`PageMemory`, stored under
:data:`MEMORY_KEY` and reached through :func:`memory`.

A test or benchmark that needs other budgets or preset overrides sets them on the
session's memory, before the first run or between runs::

    state.memory(at.session_state).run_budget_seconds = 0.0
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st

from explorer.settings import MeasurementSettings
from explorer.spec import Spec, widget_value

__all__ = ["MEMORY_KEY", "PageMemory", "init", "memory", "reset"]

#: The session-state key of the :class:`PageMemory` (never in the URL).
MEMORY_KEY = "_memory"


@dataclass
class PageMemory:
    """What the pages remember between reruns that is not a setting.

    Each field says why it is kept. The defaults are a fresh session's.
    """

    # The URL: read into the settings once per session, written back only when it changes.
    url_loaded: bool = False  #: the URL has been read into the settings this session
    url_notes: tuple[str, ...] = ()  #: what had to change in the URL's values (shown once)
    last_query: dict[str, str] | None = None  #: what was last written to the URL
    page: str | None = None  #: the page the last run drew (arriving anew rewrites the URL)
    go_to: str | None = None
    """A page to open at the start of the next run (a preset about convergence leads to
    the convergence page; ``explorer.links.PAGE_PATHS`` names them)."""
    paradox_url_loaded: bool = False  #: the paradox page has read K, n, L from the URL
    paradox_url_notes: tuple[str, ...] = ()  #: values of K, n, L it could not offer

    # The visitor's files: each decoded once, the last valid one kept when a new one is
    # refused (nothing the visitor had is lost), the refusal shown until the file goes.
    upload_seen: Any = None  #: file id of the last image upload processed
    user_upload: tuple[str, str, np.ndarray, tuple[str, ...]] | None = None
    """(name, sha256, decoded image, notes) of the last valid image upload."""
    upload_error: str | None = None  #: why the last image upload was refused
    mask_seen: Any = None  #: file id of the last mask file processed
    user_mask: tuple[str, bytes] | None = None  #: (name, bytes) of the last valid mask file
    mask_error: str | None = None  #: why the last mask file was refused
    kspace_seen: Any = None  #: file ids of the last k-space files processed
    user_kspace: tuple[tuple[str, bytes], ...] | None = None  #: the last valid k-space files
    kspace_error: str | None = None  #: why the last k-space files were refused

    # Fallbacks: a request that cannot be served keeps the last one that could.
    last_image: tuple[str, int] = ("shepp_logan", 0)  #: (name, seed) of the last test image
    last_good_ms: MeasurementSettings | None = None  #: the last sampling that gave a mask
    last_good_sparsities: str | None = None  #: the last typed sparsity list that could be used

    # Long work: asked for by a button or a preset, cancelled or confirmed by the visitor.
    attack_request: bool = False  #: a worst-case search was asked for
    stability_request: bool = False  #: the stability curves were asked for
    preset_note: str | None = None  #: what the last preset set up (shown once)
    cancelled: Any = None  #: the job (``explorer.runs``) the visitor cancelled last
    confirmed: Any = None  #: the job over the budget the visitor asked to run
    attack_started: Any = None  #: the worst-case search under way (dropped on a change)

    # Budgets of this session (the tests and benchmarks lower them).
    work_budget_seconds: float = 45.0
    """Worst-case searches estimated to take at most this long run by themselves (the first
    screen needs them); longer ones wait for their button."""
    run_budget_seconds: float = 120.0
    """Reconstructions and baselines estimated to take longer wait for the visitor's
    go-ahead (``explorer.runs.admitted``)."""
    attack_memory_mb: float = 256.0
    """Memory for one gradient step of a worst-case search (MB): FIRENET's gradient is
    checkpointed in segments that fit (``explorer.estimates.attack_chunk``)."""
    preset_overrides: Mapping[str, Any] | None = None
    """Settings applied on top of every preset (e.g. ``{"size": 128}`` to run the presets
    small on a slow machine)."""

    # Where a run's time goes (``explorer.timing``; ``benchmarks/bench_app.py`` reads it).
    timings: dict[str, float] = field(default_factory=dict)  #: section -> seconds, last run
    run_start: float | None = None  #: ``time.perf_counter()`` at the start of the run


def memory(state: MutableMapping[str, Any] | None = None) -> PageMemory:
    """The session's :class:`PageMemory` (``state``: ``st.session_state`` unless given),
    put there with its defaults on first use."""
    state = st.session_state if state is None else state
    if MEMORY_KEY not in state:
        state[MEMORY_KEY] = PageMemory()
    return state[MEMORY_KEY]


def init(state: MutableMapping[str, Any], specs: Mapping[str, Spec]) -> None:
    """Put every missing setting in ``state`` with its default, and the memory (never
    overwrites)."""
    for key, spec in specs.items():
        if key not in state:
            state[key] = widget_value(spec.default)
    memory(state)


def reset(state: MutableMapping[str, Any], specs: Mapping[str, Spec]) -> None:
    """Every setting back to its default (the memory is kept)."""
    for key, spec in specs.items():
        state[key] = widget_value(spec.default)
