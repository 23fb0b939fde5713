"""The real page in a real browser: ``streamlit run`` plus headless Chromium.

Starts the app as a subprocess on a free local port (always killed at the end), opens a
small page through the URL's query parameters, waits until the reconstructions and the
plots have rendered, changes the sampling rate and checks that a shown metric changed.
Screenshots are kept in ``test-artifacts/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
QUERY = "size=128&schedule=fixed&n=3&p=10&show=zero_filled,firenet,cp_adaptive&perturbation=none"

playwright = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    # `make test` installs Chromium; in CI its absence is a failure, not a skip.
    if os.environ.get("CI"):
        raise RuntimeError(f"no Chromium at {CHROMIUM}: scripts/setup.sh --test installs it")
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """``streamlit run app.py`` on a free port; yields the base URL, then kills it."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "streamlit.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("streamlit did not become healthy within 120 s")
            time.sleep(0.5)
        yield url
    finally:
        # The whole process group: streamlit and anything it started.
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=15)
        log.close()


@pytest.fixture()
def page():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1600, "height": 2400})
        finally:
            browser.close()


def metric_values(page, label: str) -> list[str]:
    """Texts of the st.metric values whose label is ``label``."""
    return page.eval_on_selector_all(
        '[data-testid="stMetric"]',
        """(nodes, label) => nodes
            .filter(n => n.querySelector('[data-testid="stMetricLabel"]')?.innerText.trim() === label)
            .map(n => n.querySelector('[data-testid="stMetricValue"]').innerText.trim())""",
        label,
    )


def wait_rendered(page, timeout_ms: int = 180_000) -> None:
    """Until the script has finished and the plots have drawn their images."""
    page.wait_for_selector('[data-testid="stMetricLabel"]:has-text("PSNR")', timeout=timeout_ms)
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
               && document.querySelectorAll('.js-plotly-plot').length >= 3
               && document.querySelectorAll('.js-plotly-plot image').length >= 4""",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(500)


def assert_zoom_is_linked(page) -> None:
    """Drag a zoom box on the ground truth: every image panel must show the same region."""
    plot = page.locator(".js-plotly-plot", has_text="|error| FIRENET").first
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    axis = plot.evaluate("""gd => {
        const L = gd._fullLayout;
        return {x0: L.xaxis._offset, w: L.xaxis._length, y0: L.yaxis._offset, h: L.yaxis._length};
    }""")
    left, top = box["x"] + axis["x0"], box["y"] + axis["y0"]
    page.mouse.move(left + 0.3 * axis["w"], top + 0.3 * axis["h"])
    page.mouse.down()
    page.mouse.move(left + 0.5 * axis["w"], top + 0.45 * axis["h"], steps=8)
    page.mouse.move(left + 0.6 * axis["w"], top + 0.6 * axis["h"], steps=8)
    page.mouse.up()
    page.wait_for_timeout(800)
    ranges = plot.evaluate(r"""gd => {
        const L = gd._fullLayout, out = {};
        for (const k of Object.keys(L)) if (/^[xy]axis\d*$/.test(k) && L[k].visible !== false)
            out[k] = L[k].range;
        return out;
    }""")
    page.screenshot(path=str(ARTIFACTS / "browser_zoomed.png"), full_page=True)
    x_ranges = {k: tuple(round(v, 3) for v in r) for k, r in ranges.items() if k.startswith("x")}
    assert len(set(x_ranges.values())) == 1, x_ranges
    low, high = sorted(x_ranges["xaxis"])
    assert high - low < 0.5 * 128, x_ranges  # zoomed in, not the full image


def test_page_renders_and_reacts_to_a_control(server, page):
    page.goto(f"{server}/?{QUERY}")
    wait_rendered(page)
    page.screenshot(path=str(ARTIFACTS / "browser_initial.png"), full_page=True)

    # The project's config shows the page to viewers: no "Deploy" button.
    assert page.get_by_role("button", name="Deploy").count() == 0

    page.get_by_text("Sampling: mask and k-space").click()  # the folded panel
    page.wait_for_timeout(500)
    rates = metric_values(page, "Achieved sampling rate")
    assert rates and rates[0].startswith("25.")
    before = metric_values(page, "PSNR")
    assert len(before) == 3, before

    assert_zoom_is_linked(page)

    # Change the sampling rate through the URL-bound slider: focus it and press the
    # arrow keys (each step is 0.005).
    slider = page.get_by_role("slider", name=re.compile("Sampling rate"))
    slider.focus()
    for _ in range(20):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
               .some(n => n.innerText.includes('Achieved sampling rate')
                          && n.innerText.includes('35.'))""",
        timeout=180_000,
    )
    wait_rendered(page)
    after = metric_values(page, "PSNR")
    page.screenshot(path=str(ARTIFACTS / "browser_after_rate.png"), full_page=True)
    assert len(after) == 3 and after != before, (before, after)
    assert "rate=0.35" in page.url
