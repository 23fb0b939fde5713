"""The real page in a real browser: ``streamlit run`` plus headless Chromium.

Starts the app as a subprocess on a free local port (always killed at the end), opens a
small page through the URL's query parameters, waits until the reconstructions and the
plots have rendered, changes the sampling rate and checks that a shown metric changed.
Screenshots are kept in ``test-artifacts/`` (git-ignored) for a human to look at. Then
several visitors: three pages at once each get their own complete page, and a long run
stops within two seconds of its tab closing or its Cancel button (the server's CPU time
stops growing). Times and CPU use are measured against a busy thread of the test in the
same second, so a loaded machine slows the expectations with the server.
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

pytestmark = [pytest.mark.browser, pytest.mark.slow]

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
def server(request):
    """``streamlit run app.py`` on a free port; yields the base URL, then kills it. Its log
    is named after the module, as the browser modules may run at once in xdist's workers."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"streamlit_{request.module.__name__.rpartition('.')[2]}.log", "w")
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
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def page(browser):
    return browser.new_page(viewport={"width": 1600, "height": 2400})


def metric_values(page, label: str) -> list[str]:
    """Texts of the st.metric values whose label is ``label``."""
    return page.eval_on_selector_all(
        '[data-testid="stMetric"]',
        """(nodes, label) => nodes
            .filter(n => n.querySelector('[data-testid="stMetricLabel"]')?.innerText.trim() === label)
            .map(n => n.querySelector('[data-testid="stMetricValue"]').innerText.trim())""",
        label,
    )


def wait_rendered(page, charts: int = 0, timeout_ms: int = 180_000) -> None:
    """Until the script has finished, the reconstructions' pictures are drawn (the truth
    and each method) and ``charts`` plots have drawn their images (the sampling chart once
    its panel is opened)."""
    page.wait_for_selector('[data-testid="stMetricLabel"]:has-text("PSNR")', timeout=timeout_ms)
    page.wait_for_function(
        """(charts) => !document.querySelector('[data-testid="stStatusWidget"]')
               && document.querySelectorAll('.js-plotly-plot image').length >= 2 * charts
               && [...document.querySelectorAll('.zoomable-picture img')]
                  .filter(img => img.complete && img.naturalWidth > 0).length >= 4""",
        arg=charts, timeout=timeout_ms,
    )
    page.wait_for_timeout(500)


#: Each zoomable picture's caption, the transform of its image and its readout's text.
PICTURES = """() => [...document.querySelectorAll('.zoomable-picture')].map(f => ({
    title: f.querySelector('figcaption').textContent, transform: f.querySelector('.zp-image').style.transform,
    value: f.querySelector('.zp-value').style.display === 'none' ? null : f.querySelector('.zp-value').textContent}))"""


def assert_zoom_is_linked(page) -> None:
    """Drag a zoom box on the first reconstruction: every picture must show the same
    region, magnified; hovering a pixel then shows each picture's value there, each error
    map's the difference of its reconstruction's and the truth's; a double click shows the
    whole pictures again."""
    frame = page.locator(".zoomable-picture .zp-frame").nth(1)
    frame.scroll_into_view_if_needed()
    box = frame.bounding_box()

    def at(u: float, v: float) -> tuple[float, float]:
        return box["x"] + u * box["width"], box["y"] + v * box["height"]

    page.mouse.move(*at(0.3, 0.3))
    page.mouse.down()
    page.mouse.move(*at(0.45, 0.4), steps=8)
    page.mouse.move(*at(0.55, 0.5), steps=8)
    page.mouse.up()
    page.mouse.move(*at(0.5, 0.5))
    # Each picture's values are fetched when a pixel is first hovered ("\u2026" until then).
    page.wait_for_function(f"() => ({PICTURES})().every(p => p.value && !p.value.includes('\u2026'))",
                           timeout=30_000)
    pictures = page.evaluate(PICTURES)
    page.screenshot(path=str(ARTIFACTS / "browser_zoomed.png"), full_page=True)
    transforms = {p["transform"] for p in pictures}
    assert len(pictures) >= 5 and len(transforms) == 1, pictures
    scale = float(re.match(r"scale\(([0-9.]+)\)", transforms.pop()).group(1))
    assert scale == pytest.approx(4.0, rel=0.02), pictures  # a box of 0.25 x 0.2 of the picture: all of it, 1 / 0.25
    values = {p["title"]: p["value"] for p in pictures}
    assert all(v is not None for v in values.values()), values
    hovered = re.fullmatch(r"\((\d+), (\d+)\) (\S+)", values["Zero-filled"])
    assert hovered, values  # the hovered picture names the pixel
    number = {title: float(hovered.group(3) if title == "Zero-filled" else v) for title, v in values.items()}
    errors = [t for t in values if t.startswith("|error| ")]
    assert len(errors) >= 2, values
    for title in errors:
        method = title.removeprefix("|error| ")
        assert number[title] == pytest.approx(abs(number[method] - number["Ground truth"]), abs=2e-3), values
    frame.dblclick()
    assert {p["transform"] for p in page.evaluate(PICTURES)} == {""}


def test_page_renders_and_reacts_to_a_control(server, page):
    page.goto(f"{server}/?{QUERY}")
    wait_rendered(page)
    page.screenshot(path=str(ARTIFACTS / "browser_initial.png"), full_page=True)

    # The project's config shows the page to viewers: no "Deploy" button.
    assert page.get_by_role("button", name="Deploy").count() == 0

    page.get_by_text("Sampling: mask and k-space").click()  # the folded panel: its chart is drawn now
    page.wait_for_selector('.st-key-mask_fig .js-plotly-plot', timeout=180_000)
    wait_rendered(page, charts=1)
    rates = metric_values(page, "Achieved sampling rate")
    assert rates and rates[0].startswith("25.")
    before = metric_values(page, "PSNR")
    assert len(before) == 3, before

    assert_zoom_is_linked(page)

    # Change the sampling rate through the URL-bound slider: focus it and press the arrow
    # keys (each step is 0.005; on a busy machine not every press registers, so the rate
    # reached is read back from the URL).
    slider = page.get_by_role("slider", name=re.compile("Sampling rate"))
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => location.search.includes('rate=')", timeout=180_000)
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
               .some(n => n.innerText.includes('Achieved sampling rate')
                          && !n.innerText.includes('25.00%'))""",
        timeout=180_000,
    )
    # Presses still in flight start more reruns: wait until the page has settled.
    page.wait_for_timeout(1500)
    wait_rendered(page)
    rate = float(re.search(r"rate=([0-9.]+)", page.url).group(1))
    assert 0.25 < rate <= 0.30, page.url
    after = metric_values(page, "PSNR")
    page.screenshot(path=str(ARTIFACTS / "browser_after_rate.png"), full_page=True)
    assert len(after) == 3 and after != before, (before, after)
    achieved = float(metric_values(page, "Achieved sampling rate")[0].rstrip("%")) / 100
    assert abs(achieved - rate) <= 0.005, (achieved, rate)


# --------------------------------------------------------------------------------------
# Several visitors
# --------------------------------------------------------------------------------------
def server_cpu_seconds(server_url: str) -> float:
    """CPU time (user + system, all threads) of the process listening on the port."""
    import psutil

    port = int(server_url.rsplit(":", 1)[1])
    for connection in psutil.net_connections(kind="tcp"):
        if connection.laddr.port == port and connection.status == psutil.CONN_LISTEN and connection.pid:
            times = psutil.Process(connection.pid).cpu_times()
            return times.user + times.system
    raise RuntimeError(f"no process listens on port {port}")


def wait_complete(page, methods: int = 3, timeout_ms: int = 180_000) -> None:
    """Until the script has finished and the PSNR of every one of ``methods`` methods and
    the reconstructions' pictures (the truth, each method and its error map) are on the page.
    (With three visitors at once, a page was once read with no status widget showing and only
    the first method's PSNR on it: one metric does not mean the page is complete.)"""
    page.wait_for_function(
        """(methods) => !document.querySelector('[data-testid="stStatusWidget"]')
               && [...document.querySelectorAll('[data-testid="stMetricLabel"]')]
                  .filter(n => n.innerText.trim() === 'PSNR').length >= methods
               && [...document.querySelectorAll('.zoomable-picture figcaption')]
                  .filter(n => n.innerText.includes('|error|')).length >= methods""",
        arg=methods, timeout=timeout_ms, polling=250)


def test_three_visitors_at_once_each_get_their_own_complete_page(server, browser):
    rates = ("0.15", "0.2", "0.35")  # not the default: each is in its URL
    pages = []
    for rate in rates:
        # A context each: a visitor of their own (a background tab would not draw).
        page = browser.new_context(viewport={"width": 1400, "height": 2000}).new_page()
        page.goto(f"{server}/?{QUERY}&rate={rate}&mask_seed=31")
        pages.append(page)
    shown = []
    for page, rate in zip(pages, rates):
        wait_complete(page)
        assert f"rate={rate}" in page.url  # its own settings
        shown.append(metric_values(page, "PSNR"))
        assert len(shown[-1]) == 3
    assert len({tuple(values) for values in shown}) == 3  # three different results
    # The same page opened alone afterwards shows the same numbers (no cross-talk).
    alone = browser.new_page(viewport={"width": 1400, "height": 2000})
    alone.goto(f"{server}/?{QUERY}&rate={rates[1]}&mask_seed=31")
    wait_complete(alone)
    assert metric_values(alone, "PSNR") == shown[1]


def start_long_run(server: str, page, seed: int) -> None:
    """Open a FIRENET of 10,000 layers (live drawing off) and wait until it runs."""
    page.goto(f"{server}/?size=128&schedule=fixed&perturbation=none&n=100&p=100&show=firenet&compare=0&live=0&mask_seed={seed}")
    button = page.get_by_role("button", name=re.compile("^(Run it|Cancel)"))
    button.first.wait_for(timeout=120_000)
    if button.first.inner_text().startswith("Run it"):  # over the budget on a slow machine
        button.first.click()
    page.get_by_role("button", name="Cancel").wait_for(timeout=120_000)
    page.wait_for_timeout(1000)


def server_and_own_cpu(server: str, seconds: float = 1.0) -> tuple[float, float]:
    """CPU seconds the server used, and CPU seconds a busy thread of this test got, over
    the same ``seconds`` of wall time.

    The second number is the machine's pace at that moment: on an idle machine about
    ``seconds``, under load (other processes on the cores) less, by as much as the server
    is slowed down too. Assertions compare the server against it rather than against fixed
    times, so that load does not fail them.
    """
    before = server_cpu_seconds(server)
    own_before = time.thread_time()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    own = time.thread_time() - own_before
    return server_cpu_seconds(server) - before, own


def assert_server_runs(server: str, patience: float = 20.0) -> float:
    """Within ``patience`` seconds, the server computes for a second at least a third of
    what a busy thread gets; returns that thread's share of a core (the machine's pace, 1
    when idle). (Once in a full run, on a busy machine, a run showing its Cancel button
    used 0.10 s of CPU in its first measured second: the test waits for it to compute
    rather than judging one second.)"""
    deadline = time.monotonic() + patience
    while True:
        used, own = server_and_own_cpu(server)
        if used > own / 3:
            return own
        assert time.monotonic() < deadline, (f"the server used {used:.2f} s of CPU in a second where a busy "
                                             f"thread got {own:.2f} s, {patience:.0f} s after the run started")


def assert_server_goes_idle(server: str, pace: float, within: float = 2.0) -> None:
    """Within ``within`` seconds at the machine's ``pace`` (so longer on a loaded machine),
    the server's CPU use falls below a tenth of what a busy thread gets in a second."""
    time.sleep(within / max(pace, 0.1))
    used, own = server_and_own_cpu(server)
    assert used < own / 10, (f"the server used {used:.2f} s of CPU in the second from {within} s "
                             f"(at pace {pace:.2f}) on, where a busy thread got {own:.2f} s")


def test_a_run_stops_when_its_tab_closes(server, browser):
    page = browser.new_page()
    start_long_run(server, page, seed=41)
    pace = assert_server_runs(server)
    page.close()
    assert_server_goes_idle(server, pace)


def test_cancel_stops_a_run(server, browser):
    page = browser.new_page()
    start_long_run(server, page, seed=42)
    pace = assert_server_runs(server)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("was cancelled").wait_for(timeout=10_000)
    assert_server_goes_idle(server, pace, within=1.0)
    assert page.get_by_role("button", name=re.compile("^Run it")).count() == 1
