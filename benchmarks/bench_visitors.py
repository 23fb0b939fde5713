"""Benchmark: several visitors on one server, through a real ``streamlit run`` and Chromium.

Prints one table per scenario; every time is from ``page.goto`` to the complete page (the
script finished, the metrics and the image plots drawn), and every URL carries a mask
seed of its own so that nothing comes from the result store unless that is the point:

1. **default-page visitors**: the default page (256 x 256, FIRENET 15 x 20, U-Net,
   Chambolle-Pock baselines) alone, then five visitors at once: five *different* pages
   (mask seeds) that each need their own work, and five *identical* pages (the work is
   computed once and shared).
2. **small URLs**: five different small pages (N = 128) alone, then at once.
3. **a small page beside a deep run**: a N = 128 page alone, then while another visitor
   runs a deep FIRENET (N = 512, 50 x 100 layers; confirmed past the page's budget).
4. **leaving**: the deep run's tab is closed; the server's CPU time is sampled until it
   stops growing (the run stopped), and the server's RSS after every session ended.
5. **estimates**: estimate against actual time for reconstructions and worst-case
   searches, in this process (``explorer.estimates``).

The machine is shared: the load average is printed before and after. Chromium runs on
the same cores as the server (a real visitor's browser does not), so the concurrent
times are upper bounds.

Run::

    python benchmarks/bench_visitors.py [--skip-browser] [--skip-estimates]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 900_000
SMALL = "size=128&n=3&p=10&show=zero_filled,firenet,cp_tuned"
DEEP = "size=512&n=50&p=100&show=firenet&compare=0&live=0"


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``streamlit run app.py`` on a free port with a private result cache."""

    def __init__(self) -> None:
        self.port = free_port()
        self.cache = tempfile.TemporaryDirectory()
        env = {**os.environ, "FIRENET_CACHE_DIR": self.cache.name, "OMP_NUM_THREADS": "1"}
        self.log = open(Path(self.cache.name) / "server.log", "w")  # noqa: SIM115 - the server's lifetime
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("streamlit did not start")
            time.sleep(0.5)

    def cpu_seconds(self) -> float:
        import psutil

        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def rss_mb(self) -> float:
        import psutil

        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def close(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()
        self.cache.cleanup()


RENDERED = """() => !document.querySelector('[data-testid="stStatusWidget"]')
    && [...document.querySelectorAll('[data-testid="stMetricLabel"]')].some(n => n.innerText.includes('PSNR'))
    && document.querySelectorAll('.js-plotly-plot').length >= 2"""


async def visit(browser, url: str) -> tuple[float, list[str]]:
    """Seconds from opening ``url`` to the complete page, and its PSNR values."""
    context = await browser.new_context(viewport={"width": 1400, "height": 2000})
    page = await context.new_page()
    start = time.perf_counter()
    await page.goto(url)
    await page.wait_for_function(RENDERED, timeout=TIMEOUT_MS, polling=250)
    seconds = time.perf_counter() - start
    psnr = await page.eval_on_selector_all(
        '[data-testid="stMetric"]',
        "ns => ns.filter(n => n.innerText.includes('PSNR')).map(n => n.querySelector("
        "'[data-testid=\"stMetricValue\"]').innerText)")
    await context.close()
    return seconds, psnr


async def browser_part() -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        server = Server()
        try:
            await visit(browser, f"{server.url}/?{SMALL}&mask_seed=1")  # warm-up: imports, U-Net
            print(f"server started, warmed up ({load()}), RSS {server.rss_mb():.0f} MB\n")

            rows = []
            for label, query, base in (("default page", "", 100), ("small page (N = 128)", SMALL + "&", 200)):
                urls = [f"{server.url}/?{query}mask_seed={base + k}" for k in range(5)]
                cpu = server.cpu_seconds()
                solo = [(await visit(browser, u))[0] for u in urls]
                solo_cpu = server.cpu_seconds() - cpu
                again = [f"{server.url}/?{query}mask_seed={base + 10 + k}" for k in range(5)]
                cpu = server.cpu_seconds()
                together = await asyncio.gather(*(visit(browser, u) for u in again))
                rows.append((f"{label}, 5 different", solo, [t for t, _ in together], solo_cpu,
                             server.cpu_seconds() - cpu))
            same = f"{server.url}/?mask_seed=150"
            cpu = server.cpu_seconds()
            together = await asyncio.gather(*(visit(browser, same) for _ in range(5)))
            rows.append(("default page, 5 identical", [rows[0][1][0]] * 5, [t for t, _ in together],
                         rows[0][3] / 5, server.cpu_seconds() - cpu))
            # Server CPU: what the server itself spent (the five solo pages together, or one
            # for identical pages); the rest of the wall time is Chromium and other load.
            print(f"| visitors | solo (s) | concurrent (s) | ratio max | server CPU s, solo / concurrent | {load()}")
            print("|---|---|---|---|---|")
            for label, solo, conc, solo_cpu, conc_cpu in rows:
                print(f"| {label} | {', '.join(f'{s:.1f}' for s in solo)} | "
                      f"{', '.join(f'{c:.1f}' for c in conc)} | {max(c / (sum(solo) / len(solo)) for c in conc):.2f}"
                      f" | {solo_cpu:.1f} / {conc_cpu:.1f} |")

            # A small page beside a deep run.
            small_solo = [(await visit(browser, f"{server.url}/?{SMALL}&mask_seed={300 + k}"))[0] for k in range(2)]
            context = await browser.new_context()
            deep = await context.new_page()
            await deep.goto(f"{server.url}/?{DEEP}&mask_seed=400")
            button = deep.get_by_role("button", name=re.compile("Run it|Cancel"))
            await button.first.wait_for(timeout=TIMEOUT_MS)
            note = "(under the budget: started by itself)"
            if (await button.first.inner_text()).startswith("Run it"):
                note = await deep.locator('[data-testid="stAlert"]').first.inner_text()
                await button.first.click()
            await deep.get_by_role("button", name="Cancel").first.wait_for(timeout=TIMEOUT_MS)
            await asyncio.sleep(3)
            beside = [(await visit(browser, f"{server.url}/?{SMALL}&mask_seed={310 + k}"))[0] for k in range(2)]
            print(f"\n| small page (N = 128) | solo (s) | beside a deep run (s) | ratio | {load()}")
            print("|---|---|---|---|")
            print(f"| {SMALL} | {', '.join(f'{s:.1f}' for s in small_solo)} | "
                  f"{', '.join(f'{s:.1f}' for s in beside)} | {max(beside) / (sum(small_solo) / 2):.2f} |")
            print(f"deep page's note: {note!r}")

            # Leaving: close the deep run's tab and watch the server's CPU time.
            running = await deep.locator('[data-testid="stProgress"]').first.inner_text()
            before = server.cpu_seconds()
            await asyncio.sleep(1)
            busy = server.cpu_seconds() - before
            await context.close()
            closed = time.perf_counter()
            samples = []
            last = server.cpu_seconds()
            for _ in range(12):
                await asyncio.sleep(0.5)
                now = server.cpu_seconds()
                samples.append((time.perf_counter() - closed, now - last))
                last = now
            stopped = next((t for t, d in samples if d < 0.05), None)
            print(f"\ndeep run progress when closed: {running!r}")
            print(f"server CPU while running: {busy:.2f} s per s; after closing the tab, CPU s per 0.5 s: "
                  + ", ".join(f"{t:.1f}s:{d:.2f}" for t, d in samples))
            print(f"first idle half-second ends {stopped:.1f} s after the close" if stopped is not None
                  else "the server did not go idle within 6 s")
            await asyncio.sleep(5)
            print(f"server RSS after all sessions ended: {server.rss_mb():.0f} MB ({load()})")
        finally:
            server.close()
            await browser.close()


def estimates_part() -> None:
    import torch

    from explorer import compute, estimates, sources, variants
    from explorer.settings import (
        FirenetSettings,
        ImageSettings,
        MeasurementSettings,
        PerturbationSettings,
    )

    torch.set_num_threads(1)
    # The page states one number within 1.5x on a quiet server and a range up to the busy
    # factor (explorer.estimates.approximately) when other work shares the cores.
    print(f"\n| task | estimate (s) | busy factor | actual (s) | estimate / actual | as the page states it | "
          f"held | {load()}")
    print("|---|---|---|---|---|---|---|")

    def row(task: str, estimate: float, factor: float, actual: float) -> None:
        held = estimate / 1.5 <= actual <= estimate * max(1.5, factor)
        print(f"| {task} | {estimate:.2f} | {factor:.2f} | {actual:.2f} | {estimate / actual:.2f} | "
              f"{estimates.approximately(estimate, factor)} | {'yes' if held else 'no'} |")

    cases = [("firenet", 128, 10, 30), ("firenet", 256, 15, 20), ("cp", 256, 15, 20),
             ("firenet", 512, 5, 20), ("unet_firenet", 256, 15, 20), ("firenet", 256, None, None)]
    for k, (method, size, n, p) in enumerate(cases):
        truth, _ = sources.test_image("shepp_logan", size, 0)
        base = compute.base_problem(ImageSettings(size=size), truth, MeasurementSettings(seed=900 + k), 0.0, 0)
        # None: the page's default, the adaptive schedule (estimated for its most layers).
        fs = FirenetSettings() if n is None else replace(FirenetSettings(), schedule="fixed", restarts=n, layers=p)
        estimate = estimates.reconstruction_seconds(method, base, fs)
        factor = estimates.busy_factor()
        start = time.perf_counter()
        compute.reconstruct(method, base, fs)
        shape = f"adaptive, at most {fs.max_layers} layers" if n is None else f"{n} x {p}"
        row(f"{method} N = {size}, {shape}", estimate, factor, time.perf_counter() - start)
    memory = 256 * 2**20
    for k, (target, size, n, p, steps) in enumerate([("firenet", 128, 10, 30, 3), ("firenet", 256, 15, 20, 2),
                                                    ("unet", 256, 15, 20, 3), ("firenet", 512, 5, 20, 1)]):
        truth, _ = sources.test_image("shepp_logan", size, 0)
        base = compute.base_problem(ImageSettings(size=size), truth, MeasurementSettings(seed=950 + k), 0.0, 0)
        fs = replace(FirenetSettings(), schedule="fixed", restarts=n, layers=p)
        ps = PerturbationSettings(kind="worst_firenet", steps=steps, budget=0.05)
        estimate = estimates.attack_seconds(target, base, fs, ps, memory)
        factor = estimates.busy_factor()
        chunk = estimates.attack_chunk(base, fs, memory) if target == "firenet" else 0
        mb = estimates.attack_memory_bytes(target, base, fs, memory) / 2**20
        start = time.perf_counter()
        variants.attack(target, base, fs, ps, memory_bytes=memory)
        actual = time.perf_counter() - start
        graph = (f"segments of {chunk} layers" if chunk else "whole graph") + (f", ~{mb:.0f} MB" if mb else "")
        row(f"search vs {target} N = {size}, {n} x {p}, {steps} steps ({graph})", estimate, factor, actual)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-estimates", action="store_true")
    args = parser.parse_args()
    print(f"cores: {len(os.sched_getaffinity(0))}, {load()}")
    if not args.skip_estimates:
        os.environ.setdefault("FIRENET_CACHE_DIR", tempfile.mkdtemp())
        estimates_part()
    if not args.skip_browser:
        asyncio.run(browser_part())


if __name__ == "__main__":
    main()
