"""The page stays steady while it computes, in a real server and headless Chromium.

After a setting that recomputes changes (the sampling rate, through its slider), the
pictures of the last run stay on screen, visible (greyed by Streamlit, never emptied or
hidden), during the whole new run, until their replacements are drawn: sampled every
50 ms in the browser for as long as Streamlit reports the script running.

Uses the real server of ``tests/test_browser.py`` (``streamlit run`` on a free port).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PICTURES, playwright, server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Small and quick, with the U-Net and two FIRENETs so that the first screen has pictures.
QUERY = "size=128&schedule=fixed&n=3&p=10&show=unet,firenet_paper,firenet&perturbation=none&compare=0"

#: JavaScript: samples, while the script runs, how many pictures and, among them, error
#: maps of the reconstructions row are visible (in the layout, not display:none or
#: visibility:hidden, not transparent).
SAMPLER = """() => {
    const visible = el => {
        const box = el.getBoundingClientRect(), style = getComputedStyle(el);
        return box.width > 0 && box.height > 0 && style.display !== 'none'
            && style.visibility !== 'hidden' && el.checkVisibility({opacityProperty: true});
    };
    window.__samples = [];
    window.__sampler = setInterval(() => {
        if (!document.querySelector('[data-testid="stStatusWidget"]')) return;
        const pictures = [...document.querySelectorAll('[data-testid="stImage"], figure.zoomable-picture')]
            .filter(picture => picture.querySelector('img') && visible(picture.querySelector('img')));
        const errors = pictures.filter(picture => picture.innerText.includes('|error|')).length;
        window.__samples.push([pictures.length, errors]);
    }, 50);
}"""


@contextmanager
def _new_page() -> Iterator:
    """A new page in a new headless Chromium at 1280 x 720 (the browser closed after)."""
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 720})
        finally:
            browser.close()


def _settled(page, timeout_ms: int = 300_000) -> None:
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
               && [...document.querySelectorAll('figure.zoomable-picture')]
                  .filter(picture => picture.innerText.includes('|error|')).length >= 3""",
        timeout=timeout_ms, polling=250)
    page.wait_for_timeout(800)


def test_previous_pictures_stay_on_screen_while_a_new_run_computes(server):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    with _new_page() as page:
        page.goto(f"{server}/?{QUERY}")
        _settled(page)
        captions = page.locator('[data-testid="stImage"]').all_inner_texts()
        assert len(captions) >= 4, captions
        page.evaluate(SAMPLER)
        # A new sampling rate: every method runs again (press by press; the rate reached
        # is read back from the URL).
        slider = page.get_by_role("slider", name=re.compile("Sampling rate"))
        slider.focus()
        for _ in range(4):
            page.keyboard.press("ArrowRight")
        page.wait_for_function("() => location.search.includes('rate=')", timeout=120_000)
        page.wait_for_function("() => window.__samples.length > 0", timeout=120_000)
        page.screenshot(path=str(ARTIFACTS / "steady_while_computing.png"))
        page.wait_for_timeout(1500)  # presses still in flight start more runs
        _settled(page)
        samples = page.evaluate("() => { clearInterval(window.__sampler); return window.__samples; }")
        page.screenshot(path=str(ARTIFACTS / "steady_after.png"))
        assert samples, "no sample was taken while the script ran"
        # The clean row (truth and three networks) and the reconstructions row's three
        # error maps in every sample.
        lost = [sample for sample in samples if sample[0] < 4 or sample[1] < 3]
        assert not lost, f"{len(lost)} of {len(samples)} samples lost pictures: {lost[:20]}"
        # The new pictures replaced the old ones (other PSNRs in their captions).
        assert page.locator('[data-testid="stImage"]').all_inner_texts() != captions
        assert page.locator('[data-testid="stException"]').count() == 0


#: Messages from the server for a display option's change that redraws its own row of
#: pictures (its widget, the row's columns, pictures and colour bars, the address and the
#: run's status); redrawing the options and both rows took 35 with three reconstructions.
ROW_MESSAGES = 24


def _picture_sources(page, bar_label: str) -> list[str]:
    """The addresses of the pictures in the row whose colour bar is labelled ``bar_label``."""
    return page.evaluate("""(label) => [...document.querySelectorAll('.colour-bars')]
        .filter(bar => [...bar.querySelectorAll('span')].some(span => span.innerText === label))
        .flatMap(bar => [...bar.closest('[data-testid="stHorizontalBlock"]').querySelectorAll('.zoomable-picture img')])
        .map(img => img.getAttribute('src'))""", bar_label)


def test_a_display_option_redraws_its_own_row_and_keeps_the_address(server):  # noqa: F811
    """The colour map redraws the row of reconstructions alone and the error range the row
    of error maps alone (each a fragment): few messages, the other row's pictures
    untouched, and the address still records the change, so a link reproduces the page."""
    with _new_page() as page:
        received = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(len(payload))))
        page.goto(f"{server}/?{QUERY}")
        _settled(page)
        pictures, error_maps = _picture_sources(page, "image"), _picture_sources(page, "|error|")
        assert len(pictures) == 4 and len(error_maps) == 3, (pictures, error_maps)

        received.clear()
        button = page.locator(".st-key-cmap button", has_text="viridis")
        button.scroll_into_view_if_needed()
        button.click()
        page.wait_for_function("() => location.search.includes('cmap=viridis')", timeout=60_000)
        _settled(page)
        assert 0 < len(received) <= ROW_MESSAGES, len(received)
        assert _picture_sources(page, "|error|") == error_maps
        assert set(_picture_sources(page, "image")).isdisjoint(pictures)

        received.clear()
        slider = page.get_by_role("slider", name=re.compile("error"))
        slider.focus()
        page.keyboard.press("ArrowLeft")
        page.wait_for_function("() => location.search.includes('error_max=0.24')", timeout=60_000)
        _settled(page)
        assert 0 < len(received) <= ROW_MESSAGES, len(received)
        assert set(_picture_sources(page, "|error|")).isdisjoint(error_maps)
        assert page.locator('[data-testid="stException"]').count() == 0


#: JavaScript: each zoomable picture's caption and its image's transform (its zoom).
ZOOMS = f"() => ({PICTURES})().map(p => [p.title, p.transform])"


def test_a_zoom_is_linked_across_the_rows_sends_nothing_and_stays_through_a_colour_map(server):  # noqa: F811
    """A box dragged on one reconstruction zooms every picture of the page's rows (the
    reconstructions, the error maps and the perturbation's row) in the browser alone: no
    message to the server. A new colour map redraws the pictures and keeps the zoom. A link
    of an earlier page that asked for charts ("values=1") opens, with a note."""
    query = QUERY.replace("perturbation=none", "perturbation=random&budget=0.05")
    with _new_page() as page:
        sent = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(len(payload))))
        page.goto(f"{server}/?{query}&values=1")
        _settled(page)
        assert page.get_by_text("URL parameter 'values' is no longer needed").count() == 1
        zooms = page.evaluate(ZOOMS)
        assert len(zooms) == 4 + 3 + 4 and {zoom for _, zoom in zooms} == {""}, zooms  # three rows
        frame = page.locator(".zoomable-picture .zp-frame").nth(2)
        frame.scroll_into_view_if_needed()
        box = frame.bounding_box()
        sent.clear()
        page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.5 * box["height"])
        page.mouse.down()
        page.mouse.move(box["x"] + 0.75 * box["width"], box["y"] + 0.7 * box["height"], steps=8)
        page.mouse.up()
        zoomed = page.evaluate(ZOOMS)
        assert len({zoom for _, zoom in zoomed}) == 1 and zoomed[0][1].startswith("scale(4)"), zoomed
        page.wait_for_timeout(500)
        assert sent == [], sent  # zooming and hovering are the browser's alone

        sources = page.evaluate("() => [...document.querySelectorAll('.zoomable-picture img')].map(i => i.src)")
        button = page.locator(".st-key-cmap button", has_text="viridis")
        button.scroll_into_view_if_needed()
        button.click()
        page.wait_for_function("() => location.search.includes('cmap=viridis')", timeout=60_000)
        _settled(page)
        page.wait_for_function("(before) => document.querySelector('.zoomable-picture img').src !== before[0]",
                               arg=sources, timeout=60_000)
        assert page.evaluate(ZOOMS) == zoomed  # redrawn in the new colours, still zoomed
        frame.dblclick()
        assert {zoom for _, zoom in page.evaluate(ZOOMS)} == {""}
        assert page.locator('[data-testid="stException"]').count() == 0
