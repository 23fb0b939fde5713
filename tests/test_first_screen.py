"""The default page in Chromium at 1280 x 720, a projector: the first screen tells the
story without scrolling, and the page's websocket traffic stays within its budget.

Uses the real server of ``tests/test_browser.py`` (``streamlit run`` on a free port).
"""

from __future__ import annotations

import pytest

from tests.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, playwright, server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Websocket bytes the default page may send a visitor (images travel as PNG/WebP, the
#: live redraws are throttled): measured ~500 kB.
PAYLOAD_BUDGET = 600_000


def test_default_page_first_screen_fits_a_projector_and_its_payload_budget(server):  # noqa: F811
    received = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.on("websocket", lambda ws: ws.on(
                "framereceived", lambda frame: received.append(len(frame) if frame else 0)))
            page.goto(server)
            # The perturbed row is drawn when the worst-case search against the U-Net is done.
            page.wait_for_function(
                """() => [...document.querySelectorAll('[data-testid="stImage"]')]
                       .filter(n => n.innerText.includes('perturbed')).length >= 3
                       && !document.querySelector('[data-testid="stStatusWidget"]')""",
                timeout=600_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(ARTIFACTS / "first_screen_1280x720.png"))
            scroll = page.evaluate("() => window.scrollY + (document.querySelector('[data-testid=stMain]')?.scrollTop || 0)")
            assert scroll == 0
            boxes = [image.bounding_box() for image in page.locator('[data-testid="stImage"]').all()[:8]]
            headline = page.get_by_text("Unperturbed,").first.bounding_box()
        finally:
            browser.close()
    assert len(boxes) == 8 and all(box is not None for box in boxes)
    # Truth, three networks, clean and perturbed, and the sentence: all above the fold.
    assert max(box["y"] + box["height"] for box in boxes) <= 720, boxes
    assert min(box["x"] for box in boxes) >= 0 and max(box["x"] + box["width"] for box in boxes) <= 1280
    assert headline is not None and headline["y"] + headline["height"] <= 720
    assert 0 < sum(received) <= PAYLOAD_BUDGET, sum(received)
