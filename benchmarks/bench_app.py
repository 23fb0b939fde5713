"""Benchmark: how fast the explorer's page responds, measured through AppTest.

Scenarios, on the default page (256 x 256, Fourier, multilevel 25 %, FIRENET with the
recommended parameters, zero-filled + FIRENET + U-Net shown):

1. **cold start**: a fresh Python process imports Streamlit, runs ``app.py`` once; time
   from the process start to the complete page (reconstructions, metrics and FIRENET's
   convergence drawn: the ``page`` mark), and to the end of the run (the Chambolle-Pock
   baselines of the convergence plot are computed after the page is drawn: ``done``).
   Then the same as a user sees it, when Chromium is installed: ``streamlit run`` is
   spawned and the page opened; time to the metrics appearing in the browser.
2. **view-only reruns** (nothing to recompute): toggling which panels are shown, moving
   the depth slider, changing the colour map and the error-map range. Wall time of
   ``AppTest.run`` (script plus AppTest's own bookkeeping) and the script's own time.
3. **new FIRENET run** (a new sampling rate): time from the start of the run to the first
   restart drawn live (``first_restart``), to the complete page, and to the end.

The times come from ``explorer.timing`` marks in the session state, so they are the
script's own clock. The machine is shared: the load average is printed with the results;
numbers on a busy machine are upper bounds.

Run::

    python benchmarks/bench_app.py [--size 256] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
TIMEOUT = 600

_COLD = r"""
import json, sys, time
start = float(sys.argv[1])
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[2], default_timeout=600)
at.query_params.update(json.loads(sys.argv[3]))
imported = time.time()
at.run()
assert not at.exception, [e.value for e in at.exception]
t = dict(at.session_state["_timings"])
print(json.dumps({"imports": imported - start, "timings": t, "wall": time.time() - start}))
"""


def cold_start(query: dict[str, str]) -> dict:
    """Run the page once in a fresh interpreter; return its timings."""
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", _COLD, repr(start), APP, json.dumps(query)],
        cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # Script marks are relative to the script start, which follows the imports.
    script_start = result["wall"] - result["timings"]["done"]
    result["page_from_process_start"] = script_start + result["timings"]["page"]
    result["done_from_process_start"] = result["wall"]
    return result


def server_cold_start(query: dict[str, str], *options: str) -> dict | None:
    """Cold start as a user sees it: ``streamlit run`` started, page opened in Chromium.

    Returns the seconds from spawning the server to (a) the server answering its health
    check, (b) the first metrics (PSNR) on the page; None without Chromium/Playwright.
    The browser is launched before the server, so its start-up is not counted.
    """
    import signal
    import socket
    import urllib.request

    chromium = "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(chromium).exists():
        return None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/?" + "&".join(f"{k}={v}" for k, v in query.items())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1600, "height": 1200})
        start = time.time()
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", APP, "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", *options],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                                timeout=1):
                        break
                except OSError:
                    time.sleep(0.1)
            healthy = time.time() - start
            page.goto(url)
            page.wait_for_selector('[data-testid="stMetricLabel"]:has-text("PSNR")',
                                   timeout=TIMEOUT * 1000)
            shown = time.time() - start
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            browser.close()
    return {"healthy": healthy, "metrics_shown": shown}


def timed_run(at) -> tuple[float, dict]:
    start = time.perf_counter()
    at.run()
    wall = time.perf_counter() - start
    assert not at.exception, [e.value for e in at.exception]
    return wall, dict(at.session_state["_timings"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from streamlit.testing.v1 import AppTest

    query = {} if args.size == 256 else {"size": str(args.size)}
    print(f"load average before: {os.getloadavg()}")
    print(f"cpu count: {os.cpu_count()}; N = {args.size}; default page "
          "(zero-filled, FIRENET, U-Net; recommended FIRENET)\n")

    # 1. Cold start.
    cold = cold_start(query)
    t = cold["timings"]
    print("1. cold start (fresh process)")
    print(f"   imports (streamlit, AppTest)       {cold['imports']:6.2f} s")
    print(f"   process start -> complete page     {cold['page_from_process_start']:6.2f} s"
          f"   (script: {t['page']:.2f} s, of which methods {t['methods']:.2f} s)")
    print(f"   process start -> end of run        {cold['done_from_process_start']:6.2f} s"
          "   (incl. Chambolle-Pock baselines drawn after the page)")

    # The browser runs on the same two cores, parsing the page's JavaScript while the
    # first run computes: an upper bound for a user on another machine. Streamlit's file
    # watcher (on by default) also watches every imported module of the project.
    for label, options in (("default config", ()),
                           ("fileWatcherType none", ("--server.fileWatcherType", "none"))):
        served = server_cold_start(query, *options)
        if served is None:
            break
        print(f"   real server + Chromium ({label}): server healthy {served['healthy']:5.2f} s, "
              f"page with its metrics {served['metrics_shown']:5.2f} s after spawning it")

    # 2. View-only reruns, on a warm page.
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query)
    timed_run(at)
    changes = {
        "panels shown (add U-Net then FIRENET)": lambda: at.pills(key="show").set_value(
            ["zero_filled", "firenet", "unet", "unet_firenet"]),
        "panels shown (back)": lambda: at.pills(key="show").set_value(
            ["zero_filled", "firenet", "unet"]),
        "depth slider": lambda: at.select_slider(key="depth").set_value(_depth_option(at, 2)),
        "colour map": lambda: at.selectbox(key="cmap").set_value("viridis"),
        "error-map range": lambda: at.slider(key="error_max").set_value(0.1),
        "nothing (plain rerun)": lambda: None,
    }
    # Warm up: the first "add U-Net then FIRENET" computes it once.
    at.pills(key="show").set_value(["zero_filled", "firenet", "unet", "unet_firenet"])
    timed_run(at)
    at.pills(key="show").set_value(["zero_filled", "firenet", "unet"])
    timed_run(at)
    print("\n2. view-only reruns (median of", args.repeats, "; AppTest wall / script)")
    for name, change in changes.items():
        walls, scripts = [], []
        for _ in range(args.repeats):
            change()
            wall, timings = timed_run(at)
            walls.append(wall)
            scripts.append(timings["done"])
            if name == "depth slider":
                at.select_slider(key="depth").set_value(_depth_option(at, -1))
                timed_run(at)
        print(f"   {name:40s} {statistics.median(walls):6.3f} s / {statistics.median(scripts):6.3f} s")

    # 3. New FIRENET runs (new sampling rates, never computed before in this process).
    print("\n3. a change that needs a new FIRENET run (new sampling rate)")
    for rate in (0.26, 0.24, 0.27)[: args.repeats]:
        at.slider(key="rate").set_value(rate)
        wall, timings = timed_run(at)
        print(f"   rate {rate:.2f}: first restart drawn {timings.get('first_restart', float('nan')):5.2f} s, "
              f"complete page {timings['page']:5.2f} s, end of run {timings['done']:5.2f} s "
              f"(FIRENET + U-Net: {timings['methods']:.2f} s)")
    print(f"\nload average after: {os.getloadavg()}")


def _depth_option(at, index: int) -> int:
    """The depth slider's ``index``-th value (layers after each restart)."""
    n, p = int(at.session_state["n"]), int(at.session_state["p"])
    return [p * k for k in range(1, n + 1)][index]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
