"""Wall-clock timings of the page's sections, kept in the page's memory.

``benchmarks/bench_app.py`` reads them after a run (``explorer.state.memory().timings``) to
report where the time of a rerun goes; they cost nothing measurable. With the environment variable
``FIRENET_TIMINGS=1`` they are also printed to stderr (for a real ``streamlit run``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from explorer import state

__all__ = ["section", "start_run", "mark"]


def _record(name: str, seconds: float) -> None:
    state.memory().timings[name] = seconds
    if os.environ.get("FIRENET_TIMINGS"):
        print(f"[timing] {name}: {seconds:.3f} s", file=sys.stderr, flush=True)


def start_run() -> None:
    """Reset the timings at the top of a run."""
    memory = state.memory()
    memory.timings = {}
    memory.run_start = time.perf_counter()
    if os.environ.get("FIRENET_TIMINGS"):
        print(f"[timing] run starts at {time.time():.2f}", file=sys.stderr, flush=True)


def mark(name: str) -> None:
    """Record the time since the start of the run under ``name``."""
    start = state.memory().run_start
    if start is not None:
        _record(name, time.perf_counter() - start)


@contextmanager
def section(name: str) -> Iterator[None]:
    """Record how long the enclosed block took under ``name``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        _record(name, time.perf_counter() - start)
