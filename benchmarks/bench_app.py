"""Benchmark: how fast the explorer's page responds, measured through AppTest.

Scenarios, on the default page (256 x 256, Fourier, multilevel 25 %, FIRENET with the
recommended parameters, zero-filled + FIRENET + U-Net shown):

1. **cold start**: a fresh Python process imports Streamlit, runs ``app.py`` once; time
   from the process start to the complete page (reconstructions and metrics drawn: the
   ``page`` mark), and to the end of the run (``done``; the convergence chart and its
   Chambolle-Pock baselines are on the convergence page, not measured here).
   Then the same as a user sees it, when Chromium is installed: ``streamlit run`` is
   spawned and the page opened; time to the metrics appearing in the browser.
2. **view-only reruns** (nothing to recompute): toggling which panels are shown, moving
   the depth (set on the convergence page), changing the colour map and the error-map range. Wall time of
   ``AppTest.run`` (script plus AppTest's own bookkeeping) and the script's own time.
3. **new FIRENET run** (a new sampling rate): time from the start of the run to the
   complete page, and to the end (the live curve, ``first_restart``, is drawn on the
   convergence page only: nan here).

4. **what a person sees** (``--browser``, needs Playwright and ``/usr/bin/chromium``): a
   real ``streamlit run`` server and headless Chromium. For the explorer and, in the same
   run as the floor, a trivial one-widget Streamlit page: time from navigation to the
   first reconstruction drawn (to the widget, for the trivial page) and to the page idle
   (no "Running" status widget for 1 s), cold (first visitor of a new server) and warm
   (a second visitor, new browser context), and the bytes received over the websocket.
   Then, on an open page, changes made with the keyboard, each repeated (``--repeats``):
   the floor page's slider moved one step, and the explorer's display-only changes (the
   error-range slider one step, the next colour map, each row of pictures a fragment; and
   a zoom box dragged with the mouse on a reconstruction, which zooms every picture in the
   browser), each timed from the key press (or the mouse's release) to the page settled
   (the later of its last change of the document and the last "Running" status widget,
   then 1 s with neither). With ``--presets``, ``python -m explorer.talk`` (``make
   talk``) is started, and once its warm-up printed "warming done" every preset is opened
   by its button on a settled page (a new visitor each) and timed the same way. The
   tables give each time's ratio to the floor (a visit or a preset against the floor's
   warm visit, a change against its slider step) and the load average beside it, and are
   appended to ``benchmarks/results/app_browser.md``. ``--empty-cache`` gives the servers
   an empty disk cache, so the cold page computes everything.

The times of 1-3 come from ``explorer.timing`` marks in the page's memory, so they are the
script's own clock. The machine is shared: the load average is printed with the results;
numbers on a busy machine are upper bounds.

Run::

    python benchmarks/bench_app.py [--size 256] [--repeats 3] [--browser | --browser-only]
                                   [--presets] [--empty-cache]
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
RESULTS = ROOT / "benchmarks" / "results"
#: The name of the empty disk cache ``--empty-cache`` makes for the servers.
EMPTY_CACHE_PREFIX = "bench-app-cache-"

_COLD = r"""
import json, sys, time
start = float(sys.argv[1])
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[2], default_timeout=600)
at.query_params.update(json.loads(sys.argv[3]))
imported = time.time()
at.run()
assert not at.exception, [e.value for e in at.exception]
from explorer.state import memory
t = dict(memory(at.session_state).timings)
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


#: What "the first reconstruction drawn" means on the explorer's page: a picture of the
#: first screen or of the reconstructions' rows in the main area.
FIRST_RECONSTRUCTION = ('[data-testid="stMain"] [data-testid="stImage"] img, '
                        '[data-testid="stMain"] .zoomable-picture img')
STATUS = '[data-testid="stStatusWidget"]'
TRIVIAL_PAGE = 'import streamlit as st\n\nst.slider("A number", 0, 10, 5)\n'
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(script: str, port: int) -> tuple[subprocess.Popen, float]:
    """``streamlit run script``; returns the process and the seconds until it is healthy."""
    import urllib.request

    start = time.time()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    while time.time() - start < TIMEOUT:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit run {script} exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return server, time.time() - start
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"streamlit run {script} not healthy after {TIMEOUT} s")


def _stop_server(server: subprocess.Popen) -> None:
    import signal

    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def visit(browser, url: str, first_selector: str, quiet: float = 1.0) -> dict:
    """One visitor (a new browser context): seconds from navigation to ``first_selector``
    visible and to idle (the start of the first ``quiet`` seconds without the status
    widget, looked for after the first selector), and websocket bytes received until idle."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    received = [0]

    def on_websocket(ws) -> None:
        ws.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload)))

    page.on("websocket", on_websocket)
    try:
        start = time.time()
        page.goto(url)
        page.wait_for_selector(first_selector, state="visible", timeout=TIMEOUT * 1000)
        first = time.time() - start
        quiet_since = None
        while time.time() - start < TIMEOUT:
            now = time.time()
            if page.locator(STATUS).count() > 0:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= quiet:
                break
            page.wait_for_timeout(50)
        else:
            raise TimeoutError(f"{url} still running after {TIMEOUT} s")
        return {"first": first, "idle": quiet_since - start, "bytes": received[0]}
    finally:
        context.close()


#: Installed in every page before its own scripts: the page clock of the last change of
#: the document (an element drawn, replaced, restyled or its text changed) and of the last
#: message from the server, read by :func:`settle` to tell when a change has been answered
#: and drawn completely. (Without the messages, the floor's slider step counted as settled
#: when the slider itself moved, 0.01-0.02 s, whenever its rerun changed nothing in the
#: document, and otherwise at its rerun, 0.08-0.10 s: a median of five fell on either.)
MUTATION_CLOCK = """
window.__lastMutation = performance.now();
new MutationObserver(() => { window.__lastMutation = performance.now(); })
  .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
window.__lastMessage = 0;
const PageWebSocket = window.WebSocket;
window.WebSocket = function (...args) {
  const socket = new PageWebSocket(...args);
  socket.addEventListener("message", () => { window.__lastMessage = performance.now(); });
  return socket;
};
window.WebSocket.prototype = PageWebSocket.prototype;
Object.assign(window.WebSocket, PageWebSocket);
"""


def settle(page, pressed: float, quiet: float = 1.0) -> float:
    """Seconds from ``pressed`` (the page's ``performance.now()`` in ms when a key was
    pressed) until the page settled: the latest of its last change of the document, its last
    message from the server and the last time the status widget was seen, once ``quiet``
    seconds passed with none of them."""
    last_status = pressed
    while True:
        now, mutation, message, running = page.evaluate(
            "() => [performance.now(), window.__lastMutation, window.__lastMessage, "
            f"!!document.querySelector('{STATUS}')]")
        if running:
            last_status = now
        if (now - pressed) / 1000 > TIMEOUT:
            raise TimeoutError(f"the page still changes {TIMEOUT} s after the key press")
        last = max(mutation, message, last_status)
        if now - last >= quiet * 1000:
            return (last - pressed) / 1000
        page.wait_for_timeout(50)


def press(page, selector: str, key: str, before: str | None = None) -> float:
    """Focus ``selector``, press ``before`` (unmeasured: e.g. opening a menu), then ``key``;
    returns the seconds until the page settled (:func:`settle`)."""
    element = page.locator(selector).first
    element.focus()
    if before:
        element.press(before)
        page.wait_for_timeout(300)
    pressed = page.evaluate("() => performance.now()")
    page.keyboard.press(key)
    return settle(page, pressed)


#: The floor's change: its slider moved by one step with the keyboard.
FLOOR_CHANGE = ("slider step", ('[data-testid="stSlider"] input[type="range"]',), ("ArrowRight", "ArrowLeft"))
#: The explorer's display-only changes (each row of pictures is a fragment with its
#: option): each a key press on a widget; (name, selectors, keys, openers, names), the
#: k-th press on the k-th selector with the k-th key and opener (each cycled) and
#: reported under the k-th name (cycled: a change whose presses alternate between two
#: directions reports them apart). The colour map's buttons are pressed along the five
#: maps and back, so that every press picks another map.
DISPLAY_CHANGES = (
    ("error-range slider step", ('.st-key-error_max input[type="range"]',), ("ArrowLeft", "ArrowRight"), (None,)),
    ("colour map (next button)", tuple(f".st-key-cmap button >> nth={i}" for i in (1, 2, 3, 4, 3, 2, 1, 0)),
     ("Enter",), (None,)),
)
#: The zoom: the first reconstruction's picture, and the magnification every picture of
#: the rows shows (1 for the whole picture; None when they differ).
ZOOM_TARGET = '[data-testid="stMain"] .st-key-reconstruction_pictures_1 .zp-frame'
MAGNIFICATION = """() => {
    const scales = [...document.querySelectorAll('.zoomable-picture .zp-image')]
        .map(image => parseFloat((image.style.transform.match(/scale\\(([0-9.]+)\\)/) || [null, '1'])[1]));
    return scales.every(scale => scale === scales[0]) ? scales[0] : null;
}"""


def settled_visitor(browser, url: str, first_selector: str) -> tuple:
    """A new visitor (a browser context with the page's mutation clock) on ``url``, once
    the page has settled: ``(context, page)``; the caller closes the context."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.add_init_script(MUTATION_CLOCK)
    page = context.new_page()
    try:
        page.goto(url)
        page.wait_for_selector(first_selector, state="visible", timeout=TIMEOUT * 1000)
        settle(page, page.evaluate("() => performance.now()"))
    except BaseException:
        context.close()
        raise
    return context, page


def changes(browser, url: str, first_selector: str, plan: tuple, repeats: int) -> list[dict]:
    """Open ``url`` (a warm page) and time each change of ``plan`` ``repeats`` times:
    rows ``{"change", "times"}`` (seconds from the key press to the page settled)."""
    context, page = settled_visitor(browser, url, first_selector)
    try:
        rows = []
        for name, selectors, keys, *rest in plan:
            openers = rest[0] if rest else (None,)
            names = rest[1] if len(rest) > 1 else (name,)
            times = [press(page, selectors[k % len(selectors)], keys[k % len(keys)], openers[k % len(openers)])
                     for k in range(repeats)]
            rows += [{"change": label, "times": times[j::len(names)]} for j, label in enumerate(names)]
        return rows
    finally:
        context.close()


def zoom_times(browser, url: str, repeats: int) -> list[dict]:
    """Zooms on the explorer's pictures: a box dragged over a third of the first
    reconstruction, each timed from the mouse's release to the page settled (the zoom is
    reset by a double click between them, untimed). The pictures zoom in the browser,
    every linked one with it; the server is not asked."""
    context, page = settled_visitor(browser, url, ZOOM_TARGET)
    try:
        times = []
        target = page.locator(ZOOM_TARGET).first
        target.scroll_into_view_if_needed()
        for _ in range(repeats):
            box = target.bounding_box()
            left, top = box["x"] + box["width"] / 3, box["y"] + box["height"] / 3
            page.mouse.move(left, top)
            page.mouse.down()
            page.mouse.move(left + box["width"] / 3, top + box["height"] / 3, steps=5)
            pressed = page.evaluate("() => performance.now()")
            page.mouse.up()
            times.append(settle(page, pressed))
            magnification = page.evaluate(MAGNIFICATION)
            if not magnification or magnification < 2:
                raise RuntimeError(f"the drag did not zoom every picture: magnification {magnification}")
            page.mouse.dblclick(left, top)
            settle(page, page.evaluate("() => performance.now()"))
        return [{"change": "zoom: a box dragged on a picture", "times": times}]
    finally:
        context.close()


def preset_times(browser, url: str, first_selector: str) -> list[dict]:
    """Each preset opened by its button on a settled page (a new visitor each): rows
    ``{"change", "times"}``, seconds from the click to the page settled."""
    sys.path.insert(0, str(ROOT))
    from explorer.presets import PRESETS

    rows = []
    for name, preset in PRESETS.items():
        context, page = settled_visitor(browser, url, first_selector)
        try:
            page.get_by_role("button", name="Presets").first.click()
            # The popover's buttons (the page may draw a hidden copy as well).
            button = page.locator(f'.st-key-preset_{name} button:visible').first
            button.wait_for(state="visible")
            pressed = page.evaluate("() => performance.now()")
            button.click()
            rows.append({"change": f"preset: {preset.label}", "times": [settle(page, pressed)]})
        finally:
            context.close()
    return rows


def talk_server(port: int, log: Path) -> tuple[subprocess.Popen, float]:
    """``python -m explorer.talk`` on ``port``, its output in ``log``; returns the process
    and the seconds until its warm-up printed "warming done" (every preset warmed)."""
    start = time.time()
    with open(log, "w") as out:
        server = subprocess.Popen([sys.executable, "-m", "explorer.talk", "--port", str(port)], cwd=ROOT,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    while time.time() - start < WARM_TIMEOUT:
        if server.poll() is not None:
            raise RuntimeError(f"explorer.talk exited with {server.returncode}: see {log}")
        if "warming done" in log.read_text():
            return server, time.time() - start
        time.sleep(1.0)
    _stop_server(server)
    raise TimeoutError(f"explorer.talk still warming after {WARM_TIMEOUT} s: see {log}")


#: Longest wait for ``make talk``'s warm-up of every preset (seconds).
WARM_TIMEOUT = 3600


def browser_times(query: dict[str, str], visitors: int = 2, repeats: int = 5,
                  presets: bool = False) -> dict | None:
    """Cold and warm visits, and changes on an open page, of the trivial page and the
    explorer, in one run; with ``presets``, every preset opened by its button on a server
    started by ``make talk`` (``python -m explorer.talk``) once its warm-up is done.

    Returns ``{"visits": rows, "changes": rows}`` (visits: ``{"page", "visit", "healthy",
    "first", "idle", "bytes", "load"}``; changes: ``{"page", "change", "times", "load"}``;
    seconds, bytes, the 1-minute load average after it), or None without Playwright or
    Chromium. The browser is started once, before the servers, so its own start-up is not
    counted; each page gets a fresh server.
    """
    import tempfile

    chromium = "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(chromium).exists():
        return None
    visits, changed = [], []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        trivial = Path(tmp) / "trivial_page.py"
        trivial.write_text(TRIVIAL_PAGE)
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            pages = (("trivial page", str(trivial), '[data-testid="stSlider"]', {}, (FLOOR_CHANGE,)),
                     ("explorer", APP, FIRST_RECONSTRUCTION, query, DISPLAY_CHANGES))
            for name, script, selector, params, plan in pages:
                port = _free_port()
                server, healthy = _start_server(script, port)
                url = f"http://127.0.0.1:{port}/?" + "&".join(f"{k}={v}" for k, v in params.items())
                try:
                    for k in range(visitors):
                        row = visit(browser, url, selector)
                        visits.append({"page": name, "visit": "cold" if k == 0 else f"warm {k}",
                                       "healthy": healthy, "load": os.getloadavg()[0], **row})
                    for row in changes(browser, url, selector, plan, repeats):
                        changed.append({"page": name, "load": os.getloadavg()[0], **row})
                    if name == "explorer":
                        for row in zoom_times(browser, url, repeats):
                            changed.append({"page": name, "load": os.getloadavg()[0], **row})
                finally:
                    _stop_server(server)
            if presets:
                port = _free_port()
                server, warmed = talk_server(port, Path(tmp) / "talk.log")
                print(f"   make talk: every preset warmed {warmed:.0f} s after its start "
                      f"(load average {os.getloadavg()})", flush=True)
                try:
                    url = f"http://127.0.0.1:{port}/"
                    visits.append({"page": "explorer after make talk", "visit": "warm",
                                   "healthy": float("nan"), "load": os.getloadavg()[0],
                                   **visit(browser, url, FIRST_RECONSTRUCTION)})
                    for row in preset_times(browser, url, FIRST_RECONSTRUCTION):
                        changed.append({"page": "explorer after make talk", "load": os.getloadavg()[0], **row})
                finally:
                    _stop_server(server)
        finally:
            browser.close()
    return {"visits": visits, "changes": changed}


def browser_table(result: dict) -> str:
    """The visits and the changes as two markdown tables, each explorer time beside its
    ratio to the floor: the median of the trivial page's warm visits for a visit or a
    preset (a new page state), the median of its slider steps for a change on an open
    page."""
    visits, changed = result["visits"], result["changes"]
    floor_visit = statistics.median([r["idle"] for r in visits if r["page"] == "trivial page"
                                     and r["visit"] != "cold"] or [float("nan")])
    floor_change = statistics.median(next((r["times"] for r in changed if r["page"] == "trivial page"),
                                          [float("nan")]))
    lines = ["| page | visit | server healthy (s) | first drawn (s) | idle (s) | x floor warm | "
             "websocket bytes | load (1 min) |", "|---|---|---|---|---|---|---|---|"]
    for r in visits:
        healthy = f"{r['healthy']:.2f}" if r["visit"] == "cold" else ""
        lines.append(f"| {r['page']} | {r['visit']} | {healthy} | {r['first']:.2f} | {r['idle']:.2f} | "
                     f"{r['idle'] / floor_visit:.1f} | {r['bytes']:,} | {r['load']:.1f} |")
    lines += ["", "| page | change (key press or click to settled) | n | median (s) | max (s) | "
              "x floor | load (1 min) |", "|---|---|---|---|---|---|---|"]
    for r in changed:
        floor = floor_visit if r["change"].startswith("preset") else floor_change
        median = statistics.median(r["times"])
        lines.append(f"| {r['page']} | {r['change']} | {len(r['times'])} | {median:.2f} | "
                     f"{max(r['times']):.2f} | {median / floor:.1f} | {r['load']:.1f} |")
    return "\n".join(lines)


def timed_run(at) -> tuple[float, dict]:
    from explorer.state import memory  # the repository is on sys.path once main() runs

    start = time.perf_counter()
    at.run()
    wall = time.perf_counter() - start
    assert not at.exception, [e.value for e in at.exception]
    return wall, dict(memory(at.session_state).timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--browser", action="store_true",
                        help="also measure a real server in Chromium against a trivial page (4.)")
    parser.add_argument("--browser-only", action="store_true", help="only the Chromium measurement (4.)")
    parser.add_argument("--presets", action="store_true",
                        help="with 4.: also every preset after make talk's warm-up (minutes)")
    parser.add_argument("--empty-cache", action="store_true",
                        help="with 4.: the servers get an empty disk cache (FIRENET_CACHE_DIR), so the cold "
                             "page computes everything; without it they use the usual one, where an earlier "
                             "run may have left the page's results")
    args = parser.parse_args()
    query = {} if args.size == 256 else {"size": str(args.size)}
    if args.empty_cache:
        import tempfile

        os.environ["FIRENET_CACHE_DIR"] = tempfile.mkdtemp(prefix=EMPTY_CACHE_PREFIX)
    if args.browser_only:
        run_browser(query, args.repeats, args.presets)
        return

    from streamlit.testing.v1 import AppTest

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
        # The depth slider is on the convergence page: the reconstruction page reruns with
        # the shared setting changed.
        "depth (set on the convergence page)": lambda: at.session_state.__setitem__("depth", _depth_option(at, 2)),
        "colour map": lambda: next(w for w in at.get("button_group") if w.key == "cmap").set_value("viridis"),
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
            if name.startswith("depth"):
                at.session_state["depth"] = _depth_option(at, -1)
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
    if args.browser:
        print()
        run_browser(query, args.repeats, args.presets)
    print(f"\nload average after: {os.getloadavg()}")


def run_browser(query: dict[str, str], repeats: int, presets: bool) -> None:
    cache = os.environ.get("FIRENET_CACHE_DIR", "the usual disk cache")
    empty = os.path.basename(cache).startswith(EMPTY_CACHE_PREFIX)
    print(f"4. real server + headless Chromium, 1280 x 720 (load average {os.getloadavg()}; "
          f"results cache: {cache})", flush=True)
    # Warm visits vary most (the browser's drawing on a shared machine): up to three of each.
    result = browser_times(query, visitors=1 + min(repeats, 3), repeats=repeats, presets=presets)
    if result is None:
        print("   skipped: Playwright or /usr/bin/chromium missing")
        return
    table = browser_table(result)
    print(table)
    print(f"   load average after: {os.getloadavg()}")
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with open(RESULTS / "app_browser.md", "a") as out:
        out.write(f"\n## {stamp}, {os.cpu_count()} cores, load average after {os.getloadavg()}\n\n"
                  f"`python benchmarks/bench_app.py --browser-only --repeats {repeats}"
                  f"{' --presets' if presets else ''}{' --empty-cache' if empty else ''}` (results cache: {cache})"
                  f"\n\n{table}\n")
    print(f"   appended to {RESULTS / 'app_browser.md'}")


def _depth_option(at, index: int) -> int:
    """The depth slider's ``index``-th value (layers after each restart)."""
    n, p = int(at.session_state["n"]), int(at.session_state["p"])
    return [p * k for k in range(1, n + 1)][index]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
