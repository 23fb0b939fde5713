"""What every page of the shared settings does first: the settings from the URL, the
sidebar and the session state, and the problem they define.

The reconstruction, convergence and own-data pages share one set of settings (every one
a URL key, ``explorer.specs``) and one sidebar (the problem); each page calls
:func:`settings` at its top and, when it computes, :func:`problem`, so the same settings
give the same problem, and the same cached results, on every page.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer import controls, inputs, presentation, process, sharing, sources, timing, uploads
from explorer import specs as K
from explorer import state as S
from explorer.settings import Settings
from explorer.spec import Spec
from solver.problem import Problem

__all__ = ["settings", "problem"]

Upload = tuple[str, str, np.ndarray, tuple[str, ...]]


def settings() -> tuple[dict[str, Spec], Settings, Upload | None]:
    """Start a run: the specs, the frozen settings (defaults, then the URL once per
    session, then the widgets' values) and the accepted image upload (or None); draws the
    sidebar and writes the settings into the address."""
    process.configure()
    timing.start_run()
    patterns = sources.pattern_registry()
    specs = K.all_specs(patterns)
    S.init(st.session_state, specs)
    sharing.load_url_once(specs)
    controls.sidebar(specs, patterns)
    upload = uploads.current()
    found = controls.settings_from_state(specs, upload)
    sharing.write_url(specs)
    presentation.page_style(presenting=found.view.present)
    return specs, found, upload


def problem(found: Settings, upload: Upload | None) -> tuple[Problem, Settings]:
    """The unperturbed problem of ``found`` (ground truth, sampling, data with its noise;
    a missing upload keeps the previous test image) and the settings with FIRENET's made
    valid for it."""
    truth, image = inputs.ground_truth(found, upload)
    base = inputs.problem(found, truth, image)
    return base, inputs.checked_firenet(found)
