"""Every page of the app in Chromium, opened by its own address: each renders its title and
no exception, with at most 12 widgets in its sidebar, and the paradox page draws its chart and table from its URL's settings.
An old link with FIRENET's settings on the root address still sets them (they are shown on
the convergence page), and an uploaded image survives page switches.

Uses the real server of ``tests/test_browser.py`` (``streamlit run`` on a free port).
"""

from __future__ import annotations

import contextlib
import json

import pytest

from tests.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, QUERY, playwright, server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Address -> a text the page must show once it has finished.
PAGES = {
    f"/?{QUERY}": "FIRENET Explorer",
    f"/reconstruction?{QUERY}": "FIRENET Explorer",
    f"/convergence?{QUERY}": "Convergence against depth",
    f"/own-data?{QUERY}": "Own data",
    "/paradox": "The paradox, computed",
    "/paradox?K=6&n=30&L=100": "The paradox, computed",
    "/sweeps": "Results of a sweep",
    "/about": "About",
}


#: The widgets' test ids in Streamlit's page (a toggle is an stCheckbox, a select slider an
#: stSlider, segmented controls and pills an stButtonGroup).
WIDGETS = ("stSelectbox", "stSlider", "stNumberInput", "stButtonGroup", "stCheckbox", "stFileUploader",
           "stButton", "stRadio", "stTextInput", "stTextArea", "stMultiSelect", "stDownloadButton", "stPopover")


#: The sidebar's own widgets (the page links are not widgets).
WIDGET_SELECTOR = ", ".join(f'[data-testid="stSidebarUserContent"] [data-testid="{w}"]' for w in WIDGETS)


def sidebar_widgets(page) -> int:
    """How many widgets the sidebar's own content holds."""
    return page.locator(WIDGET_SELECTOR).count()


def _settle(page, text: str, timeout_ms: int = 300_000) -> None:
    page.get_by_text(text).first.wait_for(timeout=timeout_ms)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                           timeout=timeout_ms)
    page.wait_for_timeout(800)


@contextlib.contextmanager
def _visitor(url: str):
    """A new browser on ``url`` (1400 x 1000), once the reconstruction page has settled."""
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            _settle(page, "FIRENET Explorer")
            yield page
        finally:
            browser.close()


def test_every_page_opens_by_its_address_without_an_exception(server):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for address, text in PAGES.items():
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{server}{address}")
                _settle(page, text)
                if address.startswith("/paradox"):  # for a human to look at, once the chart is drawn
                    page.wait_for_selector(".js-plotly-plot .scatterlayer", timeout=120_000)
                    page.screenshot(path=str(ARTIFACTS / f"page_paradox_{len(address)}.png"), timeout=120_000)
                assert page.locator('[data-testid="stException"]').count() == 0, address
                if "size=128" in address:  # the reconstruction page: the problem is in its sidebar
                    # Its title can show before the sidebar's widgets (a cached page shows no
                    # status widget to wait for), so wait for them.
                    page.wait_for_function(f"() => document.querySelectorAll({json.dumps(WIDGET_SELECTOR)})"
                                           ".length >= 8", timeout=120_000)
                assert sidebar_widgets(page) <= 12, address
                # The navigation lists every page on every page.
                for title in ("Reconstruction and stability", "Convergence", "Own data", "The paradox, computed",
                              "Sweep results", "About"):
                    assert page.locator('[data-testid="stSidebarNav"]').get_by_text(title).count() == 1
                if address.startswith("/convergence"):  # its chart, and the settings in the address
                    page.wait_for_selector(".js-plotly-plot .scatterlayer", timeout=120_000)
                    assert "size=128" in page.url
                if address.startswith("/paradox"):
                    assert page.locator(".js-plotly-plot").count() == 1
                    body = page.locator('[data-testid="stMain"]').inner_text()
                    assert "FIRENET (p = 50, 30 restarts)" in body
                if address == "/paradox?K=6&n=30&L=100":
                    assert "K = 6 correct digits" in page.locator('[data-testid="stMain"]').inner_text()
                    assert "K=6" in page.url  # the settings stay in the address
                page.close()
        finally:
            browser.close()


def test_reconstruction_settings_survive_a_visit_to_another_page(server):  # noqa: F811
    """Through the sidebar's links: the reconstruction page's settings (here N = 128 from
    the URL) are still there, and in the address, after a visit to the paradox page."""
    with _visitor(f"{server}/?{QUERY}") as page:
        assert "size=128" in page.url
        nav = page.locator('[data-testid="stSidebarNav"]')
        nav.get_by_text("The paradox, computed").click()
        _settle(page, "The paradox, computed")
        assert "size=128" not in page.url
        nav.get_by_text("Reconstruction and stability").click()
        _settle(page, "FIRENET Explorer")
        page.wait_for_function("() => window.location.search.includes('size=128')", timeout=60_000)
        assert page.locator('[data-testid="stException"]').count() == 0


def test_an_old_link_with_firenets_settings_and_an_upload_survive_page_switches(server, tmp_path):  # noqa: F811
    """``/?...&p=5&depth=5`` (a link from before the convergence page) sets FIRENET's
    schedule and depth: the reconstruction page names them and the convergence page's
    slider shows them. An image uploaded on the own-data page is used by the
    reconstruction page and is still in use, and shown, when the visitor comes back."""
    import numpy as np
    from PIL import Image

    picture = tmp_path / "my picture.png"
    Image.fromarray((np.indices((90, 90)).sum(0) % 255).astype(np.uint8)).save(picture)
    old = QUERY.replace("p=10", "p=5") + "&depth=5"
    with _visitor(f"{server}/?{old}") as page:
        main = page.locator('[data-testid="stMain"]')
        main.get_by_text("shown after 5 layers").first.wait_for(timeout=120_000)
        assert "3 restarts of 5 layers" in main.inner_text()
        nav = page.locator('[data-testid="stSidebarNav"]')
        nav.get_by_text("Convergence").click()
        _settle(page, "Convergence against depth")
        page.wait_for_selector(".js-plotly-plot .scatterlayer", timeout=120_000)
        slider = page.locator('[data-testid="stSlider"]').filter(has_text="Depth").first
        assert "5 (1 restarts)" in slider.inner_text()
        assert "depth=5" in page.url and "n=3" in page.url  # (p = 5 is the default: not written)
        # The own-data page: upload, check, use.
        nav.get_by_text("Own data").click()
        _settle(page, "Own data")
        page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(picture))
        main.get_by_text("decoded 90 x 90").first.wait_for(timeout=120_000)
        main.get_by_role("button", name="Use this image").click()
        main.get_by_text("In use on the other pages").first.wait_for(timeout=120_000)
        nav.get_by_text("Reconstruction and stability").click()
        _settle(page, "FIRENET Explorer")
        main.get_by_text("Image in use: my picture.png").first.wait_for(timeout=120_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        nav.get_by_text("Own data").click()
        _settle(page, "Own data")
        main.get_by_text("decoded 90 x 90").first.wait_for(timeout=60_000)  # still there
        assert page.locator('[data-testid="stException"]').count() == 0

