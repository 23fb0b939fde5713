"""Benchmark: how fast the paradox page answers a slider change, in a real server and Chromium.

Starts ``streamlit run app.py`` on a free port, opens ``/paradox`` in headless Chromium and
waits until it has settled (script finished, chart drawn). Then moves the K, n and L
sliders with the keyboard, one step at a time, over every value and back (each (K, n) is
seen first uncached, then cached), and times each change from the key press to the
settled page: the page's text shows the new setting, the script has finished (no status
widget) and the browser has painted two frames since.

The machine is shared; the load average is printed before and after. Chromium runs on the
same cores as the server, so the times are upper bounds for a visitor's own browser.

Run::

    python benchmarks/bench_paradox_page.py
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Settled: the texts the script writes for the new setting are on the page (they come after
# the chart in the script, so its update has arrived), and the script has finished.
_SETTLED = """expected => {
    const main = document.querySelector('[data-testid="stMain"]');
    return main && expected.every(text => main.innerText.includes(text))
        && !document.querySelector('[data-testid="stStatusWidget"]')
        && document.querySelector('.js-plotly-plot .scatterlayer') !== null;
}"""
_TWO_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server() -> tuple[subprocess.Popen, str, tempfile.TemporaryDirectory]:
    port, cache = _free_port(), tempfile.TemporaryDirectory()
    env = {**os.environ, "FIRENET_CACHE_DIR": cache.name, "OMP_NUM_THREADS": "1"}
    log = open(Path(cache.name) / "server.log", "w")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url, cache
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("streamlit did not start")
        time.sleep(0.5)


def _expected(K: int, n: int, L: int) -> list[str]:
    """Texts of the page for one setting (explorer.paradox_page's caption and explanation)."""
    return [f"Below the solid line: K = {K} correct digits", f"within 2^-{n} =", f"trained on L = {L:,} samples"]


def _change(page, slider: int, key: str, expected: list[str]) -> float:
    """Press ``key`` on slider ``slider``; seconds until the page shows ``expected`` and has settled."""
    thumb = page.locator('[data-testid="stMain"] [data-testid="stSlider"] input[type="range"]').nth(slider)
    thumb.focus()
    start = time.perf_counter()
    thumb.press(key)
    page.wait_for_function(_SETTLED, arg=expected, timeout=120_000)
    page.evaluate(_TWO_FRAMES)
    return time.perf_counter() - start


def main() -> None:
    from playwright.sync_api import sync_playwright

    print(_load())
    process, url, cache = _start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            start = time.perf_counter()
            page.goto(f"{url}/paradox")
            page.wait_for_selector(".js-plotly-plot .scatterlayer", timeout=300_000)
            page.wait_for_function(_SETTLED, arg=_expected(3, 20, 8000), timeout=300_000)
            print(f"first open of /paradox (server cold: imports, weights' hash check): "
                  f"{time.perf_counter() - start:.2f} s")
            # K: 3 -> 1 -> 3 -> 6; n: 20 -> 10 -> 20 -> 30 -> 20; L: 8000 -> 1000 -> 100 -> 10 -> 100 -> 1000 -> 8000.
            plan = [(0, "ArrowLeft"), (0, "ArrowRight"), (0, "ArrowRight"),
                    (1, "ArrowLeft"), (1, "ArrowRight"), (1, "ArrowRight"), (1, "ArrowLeft"),
                    (0, "ArrowLeft"), (0, "ArrowLeft"), (0, "ArrowRight"), (0, "ArrowRight"),
                    (2, "ArrowLeft"), (2, "ArrowLeft"), (2, "ArrowLeft"),
                    (2, "ArrowRight"), (2, "ArrowRight"), (2, "ArrowRight")]
            names, options = ("K", "n", "L"), ((1, 3, 6), (10, 20, 30), (10, 100, 1000, 8000))
            state, times = [1, 1, 3], []  # option indices of the page's defaults K = 3, n = 20, L = 8000
            for slider, key in plan:
                state[slider] += 1 if key == "ArrowRight" else -1
                seconds = _change(page, slider, key, _expected(*(o[i] for o, i in zip(options, state))))
                times.append(seconds)
                print(f"{names[slider]} {key:<10} -> settled in {seconds:.3f} s   ({page.url.split('/')[-1]})")
            browser.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
        cache.cleanup()
    print(f"{len(times)} changes: median {statistics.median(times):.3f} s, max {max(times):.3f} s, "
          f"over 1 s: {sum(t > 1 for t in times)}")
    print(_load())


if __name__ == "__main__":
    main()
