"""Sharing the server's cores between visitors: a fair pool of turns and single flights.

Every visitor's page runs in its own script thread, and heavy work (reconstructions,
worst-case searches) runs *in that thread*, so that Streamlit can stop it: a closed tab
or a changed setting raises ``StopException``/``RerunException`` at the next ``st.*``
call, and the work calls one (a progress update) every quarter of a second through its
heartbeat. What this module adds is admission and sharing:

* :class:`FairPool`: at most ``slots`` heavy tasks run at once (one per core: one torch
  thread each). Waiting tasks are served in arrival order, visitors with fewer running
  tasks first, and a task that has run for a ``quantum`` while others wait gives its turn
  back at its next heartbeat and queues again. Five visitors on two cores thus take turns
  instead of five threads fighting over the GIL, and a small page's work waits at most
  about a quantum behind another visitor's long run.
* :func:`once`: identical work (the same content key) asked for by several visitors at
  the same time is computed once; the others wait for the result (and take over if the
  first visitor leaves before it is done).

Waiting also calls a ``tick`` every quarter second, so a visitor who leaves while
queued is released just as quickly.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from streamlit.runtime.scriptrunner import get_script_run_ctx

from solver.validation import check_int, check_positive

__all__ = ["POLL_SECONDS", "WORKERS_VARIABLE", "FairPool", "Turn", "flights", "once", "pool", "visitor"]

#: Environment variable overriding the number of heavy tasks run at once.
WORKERS_VARIABLE = "FIRENET_WORKERS"

#: How often a waiting task calls its tick (seconds).
POLL_SECONDS = 0.25


@dataclass(eq=False)
class Turn:
    """One task's place in a :class:`FairPool`."""

    visitor: Any
    order: int
    since: float = 0.0
    running: bool = False


@dataclass
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    progress: float = 0.0


class FairPool:
    """At most ``slots`` tasks at once, served fairly between visitors.

    Parameters
    ----------
    slots : int
        Tasks that may run at once (>= 1).
    quantum : float
        Seconds a task may keep its turn while others wait (> 0).
    """

    def __init__(self, slots: int, *, quantum: float = 1.0) -> None:
        self.slots = check_int("slots", slots, low=1)
        self.quantum = check_positive("quantum", quantum)
        self._cond = threading.Condition()
        self._order = itertools.count()
        self._waiting: list[Turn] = []
        self._running: dict[Any, int] = {}
        self._busy = 0

    def _next(self) -> Turn | None:
        if not self._waiting:
            return None
        return min(self._waiting, key=lambda t: (self._running.get(t.visitor, 0), t.order))

    def _wait_for(self, turn: Turn, tick: Callable[[], Any] | None) -> None:
        with self._cond:
            self._waiting.append(turn)
        try:
            while True:
                with self._cond:
                    if self._busy < self.slots and self._next() is turn:
                        self._waiting.remove(turn)
                        self._busy += 1
                        self._running[turn.visitor] = self._running.get(turn.visitor, 0) + 1
                        turn.since, turn.running = time.perf_counter(), True
                        return
                    self._cond.wait(POLL_SECONDS)
                if tick is not None:
                    tick()
        except BaseException:
            with self._cond:
                if turn in self._waiting:
                    self._waiting.remove(turn)
                self._cond.notify_all()
            raise

    def _release(self, turn: Turn) -> None:
        with self._cond:
            if turn.running:
                turn.running = False
                self._busy -= 1
                left = self._running[turn.visitor] - 1
                if left:
                    self._running[turn.visitor] = left
                else:
                    del self._running[turn.visitor]
                self._cond.notify_all()

    @contextmanager
    def turn(self, visitor: Any, tick: Callable[[], Any] | None = None) -> Iterator[Turn]:
        """Hold a slot for the enclosed work (waiting for one first, calling ``tick``
        every :data:`POLL_SECONDS`; an exception from ``tick`` leaves the queue)."""
        turn = Turn(visitor, next(self._order))
        self._wait_for(turn, tick)
        try:
            yield turn
        finally:
            self._release(turn)

    def share(self, turn: Turn, tick: Callable[[], Any] | None = None) -> bool:
        """Give the turn back and queue again if ``turn`` has run for a quantum while
        others wait (call it from the work's heartbeat); whether it did."""
        with self._cond:
            due = (self._waiting and turn.running
                   and time.perf_counter() - turn.since >= self.quantum)
        if not due:
            return False
        self._release(turn)
        turn.order = next(self._order)
        self._wait_for(turn, tick)
        return True

    def waiting(self) -> int:
        """Number of tasks waiting for a slot."""
        with self._cond:
            return len(self._waiting)

    def busy(self) -> int:
        """Number of tasks running."""
        with self._cond:
            return self._busy


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_pool: FairPool | None = None
_pool_lock = threading.Lock()


def pool() -> FairPool:
    """The server's pool: ``$FIRENET_WORKERS`` slots, else one per core."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = FairPool(int(os.environ.get(WORKERS_VARIABLE) or _cores()))
        return _pool


def visitor() -> Any:
    """Who is asking: the Streamlit session's id, else the thread (scripts, tests)."""
    try:
        ctx = get_script_run_ctx(suppress_warning=True)
    except ImportError:  # pragma: no cover - Streamlit is a dependency
        ctx = None
    return ctx.session_id if ctx is not None else ("thread", threading.get_ident())


_flights: dict[Any, _Flight] = {}
_flights_lock = threading.Lock()


def flights() -> int:
    """Number of computations under way (for tests and benchmarks)."""
    with _flights_lock:
        return len(_flights)


def once(key: Any, lookup: Callable[[], Any], compute: Callable[[Callable[[float], None]], Any],
         tick: Callable[[float], Any] | None = None) -> Any:
    """``lookup()`` if it finds something, else ``compute(report)``, computed once for
    everyone asking for ``key`` at the same time.

    The first caller computes (``report(fraction)`` tells the others its progress); the
    others wait, calling ``tick(fraction)`` every :data:`POLL_SECONDS`, then look up the
    result. If the first caller's computation ends without a stored result (it was
    stopped), one of the waiting callers computes it.
    """
    while True:
        found = lookup()
        if found is not None:
            return found
        with _flights_lock:
            flight = _flights.get(key)
            leader = flight is None
            if leader:
                flight = _flights[key] = _Flight()
        if leader:
            def report(fraction: float, flight: _Flight = flight) -> None:
                flight.progress = fraction

            try:
                return compute(report)
            finally:
                with _flights_lock:
                    del _flights[key]
                flight.done.set()
        while not flight.done.wait(POLL_SECONDS):
            if tick is not None:
                tick(flight.progress)
