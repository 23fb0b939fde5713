"""The sidebar holds at most 12 widgets on every page and for every choice that adds
widgets to it (each image source, each sampling pattern with its own parameters).

The sidebar holds what every page depends on (the image and the measurement); each
page's own settings are drawn on it, beside what they change (``explorer.controls``): the
uploads on the own-data page, FIRENET's settings and the depth beside the convergence chart.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Widget

from explorer import sources
from explorer import specs as K
from explorer.state import memory

ROOT = Path(__file__).resolve().parents[1]
#: The most widgets the sidebar may hold (three screens of them before this limit).
MOST = 12


def widgets(node) -> list[str]:
    """The keys (or types) of every widget under ``node``, depth first."""
    found = [getattr(node, "key", None) or node.type] if isinstance(node, Widget) else []
    children = getattr(node, "children", None) or {}
    for child in (children.values() if isinstance(children, dict) else children):
        found += widgets(child)
    return found


def _sidebar_only() -> None:
    """The sidebar alone, as a page beside the app's others (its links name them)."""
    import streamlit as st

    from explorer import controls, pages, sources
    from explorer import specs as K
    from explorer import state as S

    def draw() -> None:
        patterns = sources.pattern_registry()
        specs = K.all_specs(patterns)
        S.init(st.session_state, specs)
        controls.sidebar(specs, patterns)

    others = pages.all_pages()[1:]  # every page but the default one
    st.navigation([st.Page(draw, title="Sidebar", url_path="sidebar", default=True), *others]).run()


@pytest.mark.slow  # about 4 s per image (a run per pattern)
@pytest.mark.parametrize("image", list(K.SPECS["image"].options))
def test_sidebar_holds_at_most_12_widgets_for_every_image_and_pattern(image):
    at = AppTest.from_function(_sidebar_only, default_timeout=60)
    at.session_state["image"] = image
    counts = {}
    for pattern in [*sources.pattern_registry(), "user"]:
        at.session_state["pattern"] = pattern
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        counts[pattern] = widgets(at.sidebar)
    most = max(counts.values(), key=len)
    assert len(most) <= MOST, most
    # The choices that add widgets do add them (the count is not of an empty sidebar).
    assert "image" in most and "size" in most


@pytest.mark.slow
@pytest.mark.parametrize("page", ["reconstruction", "convergence", "own-data", "paradox", "sweeps", "about"])
def test_every_page_has_at_most_12_sidebar_widgets(page):
    if page in ("reconstruction", "convergence"):  # the whole app, small
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.query_params.update({"size": "128", "schedule": "fixed", "n": "2", "p": "4", "perturbation": "none",
                                "pattern": "das", "show": "zero_filled,firenet"})
        memory(at.session_state).go_to = page
    else:  # the page alone, as st.navigation runs it
        at = AppTest.from_function(_page, args=(page,), default_timeout=300)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    found = widgets(at.sidebar)
    assert len(found) <= MOST, found
    main = widgets(at.main)
    if page == "reconstruction":
        assert "rate" in found and "pp_das_decay" in found
        # The panels' own settings are on the page, beside their panels; no uploader, and
        # FIRENET's settings are on the convergence page.
        assert {"noise", "perturbation", "show", "cmap", "preset_convergence"} <= set(main)
        assert not {"depth", "schedule", "lam", "upload_file", "mask_file", "kspace_file"} & {*main, *found}
    elif page == "convergence":
        assert {"depth", "schedule", "lam", "tau", "noise", "live", "compare"} <= set(main)
    elif page == "own-data":
        assert {"upload_file", "mask_file", "kspace_file", "kspace_convention"} <= set(main)
        assert not {"upload_file", "mask_file", "kspace_file"} & set(found)


def _page(name: str) -> None:
    """The app with page ``name`` alone in its navigation (so it is the one drawn)."""
    import streamlit as st

    from explorer import pages

    pages.keep_settings(st.session_state)
    st.navigation([p for p in pages.all_pages() if p.url_path == name]).run()


@pytest.mark.slow
def test_presentation_mode_draws_firenets_settings_beside_the_convergence_chart():
    """In presentation mode the convergence page draws FIRENET's settings, in expanders of
    their own, beside its chart, and runs."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params.update({"size": "128", "schedule": "fixed", "n": "2", "p": "4", "perturbation": "none",
                            "show": "zero_filled,firenet", "present": "1"})
    memory(at.session_state).go_to = "convergence"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert {"schedule", "lam", "tau"} <= set(widgets(at.main))
    assert len(widgets(at.sidebar)) <= MOST
