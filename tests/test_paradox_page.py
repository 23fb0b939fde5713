"""The paradox page through ``streamlit.testing.v1.AppTest``: what it shows for the visitor's
K, n and L, and its settings in the URL."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from solver.lista import DEFAULT_WEIGHTS

#: Page runs through AppTest take seconds each (the first one imports and renders the page).
pytestmark = pytest.mark.slow

PAGE = "from explorer import paradox_page\nparadox_page.render()\n"


def page(**query: str) -> AppTest:
    at = AppTest.from_string(PAGE, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def table(at: AppTest) -> dict:
    frame = at.table[0].value
    return {name.split(",")[0].split(" (")[0]: row for name, row in frame.iterrows()}


def test_default_page_shows_firenet_at_k_minus_1_digits():
    at = page()
    assert not at.exception
    rows = table(at)
    assert rows["FIRENET"]["correct digits"] == 2  # K = 3 by default
    assert rows["Best possible: halfway point"]["correct digits"] == 2
    assert rows["Exact minimiser of the given input"]["correct digits"] == 2  # 3e-3
    assert float(rows["Exact minimiser of the given input"]["distance to the minimisers of (A, y)"]) == \
        pytest.approx(3e-3, rel=1e-3)
    text = " ".join(m.value for m in at.markdown)
    assert "Stated, not computed here" in text and "SI" in text
    assert "null space property" in text


def test_changing_k_recomputes_and_goes_into_the_url():
    at = page()
    at.select_slider(key="paradox_K").set_value(6).run()
    assert not at.exception
    rows = table(at)
    assert rows["FIRENET"]["correct digits"] == 5
    assert float(rows["FIRENET"]["distance to the minimisers of (A, y)"]) == pytest.approx(1.5e-6, rel=1e-3)
    assert at.query_params["K"] in ("6", ["6"])


def test_url_sets_the_page_and_bad_values_are_noted():
    at = page(K="1", n="30")
    assert at.select_slider(key="paradox_K").value == 1 and at.select_slider(key="paradox_n").value == 30
    assert table(at)["FIRENET"]["correct digits"] == 0
    bad = page(K="7", L="abc")
    assert not bad.exception
    notes = " ".join(i.value for i in bad.info)
    assert "K = '7'" in notes and "L = 'abc'" in notes
    assert bad.select_slider(key="paradox_K").value == 3


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="the LISTA weights are not shipped in this checkout")
def test_trained_lista_misses_k_digits_for_every_training_set_size():
    at = page(K="6", n="10")
    for size in (10, 100, 1000, 8000):
        at.select_slider(key="paradox_L").set_value(size).run()
        assert not at.exception and not at.warning
        assert table(at)["LISTA"]["correct digits"] < 6
