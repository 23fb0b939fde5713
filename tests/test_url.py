"""Hostile and careless links: no URL value stops the page, every change is noted.

The widgets are drawn from the same specs as the URL parsing, so these tests run the
settings part of the page (every widget: the sidebar's and each panel's own) for URLs that set *every* key at
once to one extreme value, then the whole page for a few of them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer import specs as K
from explorer.spec import parse_query
from explorer.text import WORD_JOINER
from solver.sampling import PATTERNS

SPECS = K.all_specs(PATTERNS)
APP = str(Path(__file__).resolve().parents[1] / "app.py")

SETTINGS_PAGE = """
import streamlit as st
from explorer import controls, sharing, sources, specs as K, state as S
from explorer.widgets import widget

patterns = sources.pattern_registry()
specs = K.all_specs(patterns)
S.init(st.session_state, specs)
sharing.load_url_once(specs)
controls.sidebar(specs, patterns)
controls.presets(specs)
controls.method_controls(specs)
widget("cmap", specs)
widget("error_max", specs)
controls.perturbation_controls(specs)
controls.firenet_controls(specs)
settings = controls.settings_from_state(specs, None)
controls.depth_slider(settings.firenet.stops, settings.firenet.layers)
for note in S.memory().url_notes:
    st.text(note)
"""

VALUES = ["nan", "inf", "-inf", "1e308", "-1e308", "-1", "0", "", "abc", "x" * 100_000,
          "\u00fc\U0001f642", "[a](https://example.org)", "2.5", "1,2", "true"]


@pytest.mark.slow
@pytest.mark.parametrize("text", VALUES, ids=lambda t: t[:12] or "empty")
def test_every_key_at_an_extreme_keeps_the_settings_page_running(text):
    at = AppTest.from_string(SETTINGS_PAGE, default_timeout=60)
    # Streamlit itself ignores query strings over 512 kB: send the long value to a few keys.
    keys = ("image", "rate", "show", "live") if len(text) > 1000 else tuple(SPECS)
    at.query_params.update({key: text for key in keys})
    at.query_params["no_such_key"] = text
    at.query_params["values"] = text[:1000]  # a key earlier pages wrote (the query stays under 512 kB)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    notes = "\n".join(t.value for t in at.text)
    assert "Unknown URL parameter 'no_such_key' ignored." in notes
    assert f"URL parameter 'values' is no longer needed: {K.RETIRED_KEYS['values']}" in notes
    values, expected = parse_query({key: text for key in keys}, SPECS)
    for note in expected:  # every change the URL parsing made is on the page
        assert note in notes
    for key in keys:
        spec = SPECS[key]
        value = at.session_state[key]
        value = tuple(value) if isinstance(spec.default, tuple) else value
        spec.check(key, value)  # a value the widget can hold
        if key != "depth":  # the depth snaps to the nearest of FIRENET's restarts
            assert value == values[key], key
    assert max(len(line) for line in notes.splitlines()) < 400


@pytest.mark.slow
def test_repeated_and_out_of_range_values_on_the_whole_page():
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update({"size": "128", "schedule": "fixed", "n": ["1000", "2"], "p": "5", "compare": "0",
                            "noise": "0.5", "budget": "0.8", "rate": "0.01",
                            "perturbation": "random", "show": "zero_filled,firenet,magic"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    notes = "\n".join(re.sub(r"\\(.)", r"\1", w.value).replace(WORD_JOINER, "") for w in at.warning)
    assert "n was given 2 times; the last value is used." in notes
    assert "noise must be in [0, 0.2]; got 0.5, 0.2 is used." in notes
    ss = at.session_state
    assert (ss["noise"], ss["budget"], ss["rate"], ss["n"]) == (0.2, 0.5, 0.02, 2)
    assert "'magic' is not one of" in notes
    assert "PSNR" in [m.label for m in at.metric]


@pytest.mark.slow
def test_url_values_are_shown_as_text_not_markdown():
    from tests.test_text import commonmark_text

    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update({"size": "128", "schedule": "fixed", "n": "2", "p": "5", "compare": "0",
                            "image": "![img](http://127.0.0.1:9/x.png)",
                            "pattern": "[Session expired - log in again](https://example.org)",
                            "cmap": ":red[**bold**] $x^2$"})
    at.run()
    assert not at.exception
    # The notes about the URL's values: no markup can start in them.
    shown = [commonmark_text(w.value) for w in at.warning if "must be one of" in w.value]
    assert len(shown) == 3
    assert any("![img](http://" in text.replace(WORD_JOINER, "") for text in shown)
    assert any("[Session expired - log in again](https" in text.replace(WORD_JOINER, "") for text in shown)
    assert any(":red[**bold**] $x^2$" in text.replace(WORD_JOINER, "") for text in shown)
