"""Sharing the server between visitors: the fair pool, single flights, heartbeats,
memory-bounded gradients, calibrated estimates, and the page's budget and cancellation
(``explorer.work``, ``explorer.estimates``, ``solver.segments``, ``explorer.runs``)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer import sources, work
from explorer.state import memory
from solver import methods
from solver.attacks import run_network
from solver.phantoms import shepp_logan
from solver.problem import make_problem
from solver.sampling import make_mask
from solver.segments import (
    Segmented,
    chunk_for_memory,
    graph_bytes_per_layer,
    segment_memory,
)
from solver.trace import HEARTBEAT_SECONDS, run

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="module")
def problem():
    return make_problem(shepp_logan(32), make_mask("multilevel", 32, 0.3, seed=1), dtype=torch.complex128)


# --------------------------------------------------------------------------------------
# The pool and single flights
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_long_task_gives_its_turn_to_a_waiting_visitor_after_a_quantum():
    pool = work.FairPool(1, quantum=0.2)
    started, times = threading.Event(), {}

    def long_task():
        with pool.turn("alice") as turn:
            started.set()
            end = time.perf_counter() + 1.5
            while time.perf_counter() < end:
                pool.share(turn)  # its heartbeat
                time.sleep(0.01)
        times["alice"] = time.perf_counter()

    thread = threading.Thread(target=long_task)
    thread.start()
    started.wait(5)
    asked = time.perf_counter()
    with pool.turn("bob"):
        times["bob"] = time.perf_counter()
    thread.join(10)
    # Bob got his turn while Alice's 1.5 s run was still going (after about one quantum on
    # an idle machine; compared with her run's end, so a loaded machine does not fail it).
    assert asked < times["bob"] < times["alice"] - 0.5, times
    assert pool.busy() == 0 and pool.waiting() == 0


def test_waiting_tasks_are_served_by_fewest_running_then_arrival():
    pool = work.FairPool(2, quantum=10.0)
    order = []
    threads = []
    with pool.turn("alice"):
        with pool.turn("dave"):
            for name in ("alice", "bob", "carol"):
                def task(name=name):
                    with pool.turn(name):
                        order.append(name)
                        time.sleep(0.05)
                threads.append(threading.Thread(target=task))
                threads[-1].start()
                time.sleep(0.05)  # arrival order alice, bob, carol
            assert pool.waiting() == 3
        for thread in threads:
            thread.join(10)
    # alice has a turn already: bob and carol (none yet) go first, though she came first.
    assert order == ["bob", "carol", "alice"]


def test_a_visitor_who_leaves_while_queued_leaves_the_queue():
    pool = work.FairPool(1)

    class Left(Exception):
        pass

    def tick():
        raise Left

    with pool.turn("alice"):
        with pytest.raises(Left), pool.turn("bob", tick):
            pass
        assert pool.waiting() == 0
    assert pool.busy() == 0


def test_identical_work_asked_at_once_runs_once():
    results, calls, store = [], [], {}
    gate = threading.Event()

    def compute(report):
        calls.append(1)
        gate.wait(5)
        store["k"] = object()
        return store["k"]

    threads = [threading.Thread(target=lambda: results.append(work.once("k", lambda: store.get("k"), compute)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    gate.set()
    for thread in threads:
        thread.join(10)
    assert len(calls) == 1 and len(results) == 3 and all(r is results[0] for r in results)
    assert work.flights() == 0


def test_when_the_first_visitor_leaves_a_waiting_one_computes():
    store, calls, errors = {}, [], []
    leader_started = threading.Event()

    def leaving(report):
        calls.append("leader")
        leader_started.set()
        time.sleep(0.3)
        raise KeyboardInterrupt("tab closed")  # any exception ends the first run

    def staying(report):
        calls.append("follower")
        store["k"] = "image"
        return store["k"]

    def first():
        try:
            work.once("k", lambda: store.get("k"), leaving)
        except KeyboardInterrupt as error:
            errors.append(error)

    thread = threading.Thread(target=first)
    thread.start()
    leader_started.wait(5)
    assert work.once("k", lambda: store.get("k"), staying) == "image"
    thread.join(10)
    assert calls == ["leader", "follower"] and errors and work.flights() == 0


# --------------------------------------------------------------------------------------
# Heartbeats and memory-bounded gradients
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_heartbeat_is_timed_and_can_stop_a_run(problem):
    A = problem.measurement("haar")
    # deep enough to outlast three heartbeats on a fast machine (2,000 layers took 0.75 s
    # once); the third beat stops it, so the depth costs nothing
    net = methods.build("firenet", A, firenet={"restarts": 400, "layers": 50})
    beats = []

    def heartbeat(layer):
        beats.append((time.perf_counter(), layer))
        return len(beats) >= 3

    start = time.perf_counter()
    trace = run(net, problem.y, heartbeat=heartbeat)
    assert trace.stopped and len(beats) == 3
    gaps = [b[0] - a[0] for a, b in zip([(start, 0), *beats], beats)]
    assert all(g >= HEARTBEAT_SECONDS for g in gaps), gaps
    assert beats[-1][1] < net.depth  # stopped early, after the third beat's layer
    # Without stopping, the result is the network's (the heartbeat changes nothing).
    short = methods.build("firenet", A, firenet={"restarts": 2, "layers": 5})
    with torch.no_grad():
        direct = short(problem.y).numpy()
    assert (run(short, problem.y, heartbeat=lambda layer: None).image == direct).all()


@pytest.mark.parametrize("output", [pytest.param("last", marks=pytest.mark.slow), "ergodic"])
def test_segments_give_the_network_and_its_gradient(problem, output):
    A = problem.measurement("haar")
    net = methods.build("firenet", A, firenet={"restarts": 3, "layers": 7, "output": output})
    y1 = problem.y.clone().requires_grad_(True)
    plain = net(y1)
    (g1,) = torch.autograd.grad(0.5 * (plain ** 2).sum(), y1)
    beats = []
    y2 = problem.y.clone().requires_grad_(True)
    out = run_network(Segmented(net, chunk=3, heartbeat=lambda: beats.append(1)), y2, checkpoint=True)
    (g2,) = torch.autograd.grad(0.5 * (out ** 2).sum(), y2)
    assert torch.equal(out.detach(), plain.detach())
    assert float((g1 - g2).abs().max() / g1.abs().max()) < 1e-12
    # A beat per segment forward (start + 3 restarts x 3 pieces) and more in the backward.
    assert len(beats) > 10


def test_an_exception_in_the_backward_heartbeat_ends_the_step(problem):
    net = methods.build("firenet", problem.measurement("haar"), firenet={"restarts": 2, "layers": 6})
    count = [0]

    class Left(Exception):
        pass

    def heartbeat():
        count[0] += 1
        if count[0] > 6:  # 1 + 4 segments forward: this is in the backward pass
            raise Left

    y = problem.y.clone().requires_grad_(True)
    out = run_network(Segmented(net, chunk=3, heartbeat=heartbeat), y, checkpoint=True)
    with pytest.raises(Left):
        torch.autograd.grad((out ** 2).sum(), y)


def test_graph_memory_per_layer_grows_with_the_image_area():
    sizes = {}
    for n in (32, 64):
        p = make_problem(shepp_logan(n), make_mask("multilevel", n, 0.3, seed=1), dtype=torch.complex128)
        net = methods.build("firenet", p.measurement("haar"), firenet={"restarts": 1, "layers": 4})
        sizes[n] = graph_bytes_per_layer(net, p.y)
    # At least the iterate (N x N complex128 = 16 N^2 bytes) per layer, and four times
    # as much for twice the side.
    assert sizes[32] >= 16 * 32 * 32
    assert sizes[64] / sizes[32] == pytest.approx(4.0, rel=0.1)


def test_the_chunk_is_the_longest_that_fits():
    layer, state = 10.0, 3.0
    for budget in (15.0, 60.0, 200.0, 5000.0):
        chunk = chunk_for_memory(100, 4, layer, state, budget)
        fits = segment_memory(100, 4, chunk, layer, state) <= budget
        assert fits or chunk == 1
        assert all(segment_memory(100, 4, c, layer, state) > budget for c in range(chunk + 1, 101))
    with pytest.raises(ValueError, match="^budget_bytes"):
        chunk_for_memory(10, 1, 1.0, 1.0, 0.0)


# --------------------------------------------------------------------------------------
# Estimates
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_estimate_of_a_run_is_near_its_time():
    from explorer import compute, estimates
    from explorer.settings import FirenetSettings, ImageSettings, MeasurementSettings

    truth, _ = sources.test_image("shepp_logan", 64, 0)
    base = compute.base_problem(ImageSettings(size=64), truth, MeasurementSettings(seed=4242), 0.0, 0)
    fs = replace(FirenetSettings(), schedule="fixed", restarts=20, layers=40)
    estimates.forget()
    estimate = estimates.reconstruction_seconds("firenet", base, fs)
    start = time.perf_counter()
    trace = compute.reconstruct("firenet", base, fs)
    actual = time.perf_counter() - start
    assert not trace.stopped
    # 30 % on a quiet machine (benchmarks/bench_visitors.py); the test's cores are shared.
    assert 0.4 < estimate / actual < 2.5, (estimate, actual)


# --------------------------------------------------------------------------------------
# The page: budget and cancellation
# --------------------------------------------------------------------------------------
SMALL = {"size": "128", "schedule": "fixed", "n": "2", "p": "5", "perturbation": "none", "show": "zero_filled,firenet"}


@pytest.mark.slow
def test_work_over_the_budget_waits_for_the_go_ahead():
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update({**SMALL, "mask_seed": "9191"})
    memory(at.session_state).run_budget_seconds = 0.0
    at.run()
    assert not at.exception
    assert any("more than the" in w.value for w in at.warning)
    assert "PSNR" not in [m.label for m in at.metric]  # nothing ran
    [go] = [b for b in at.button if b.label.startswith("Run it")]
    go.click().run()
    assert not at.exception
    assert "PSNR" in [m.label for m in at.metric]


@pytest.mark.slow
def test_cancel_stops_the_run_and_it_waits_until_asked_again(monkeypatch):
    import streamlit as st

    from explorer import runs

    original = runs.running
    clicks = []

    def running(job, what, estimate, slot):
        tick = original(job, what, estimate, slot)

        def clicked_cancel(fraction, note):
            tick(fraction, note)
            if not clicks:  # what a click on Cancel does: its callback, then a rerun
                clicks.append(fraction)
                runs.cancel(job)
                st.rerun()

        return clicked_cancel

    monkeypatch.setattr(runs, "running", running)
    at = AppTest.from_file(APP, default_timeout=240)
    # 1000 FIRENET layers: long enough for a heartbeat (0.25 s) on any machine.
    at.query_params.update({**SMALL, "mask_seed": "9292", "n": "20", "p": "50"})
    at.run()
    assert not at.exception
    assert clicks and clicks[0] < 1.0  # cancelled while running
    assert any("was cancelled" in i.value for i in at.info)
    assert "PSNR" not in [m.label for m in at.metric]
    monkeypatch.setattr(runs, "running", original)
    at.run()  # a rerun (any widget) does not start it again
    assert "PSNR" not in [m.label for m in at.metric]
    [again] = [b for b in at.button if b.label.startswith("Run it")]
    again.click().run()
    assert not at.exception and "PSNR" in [m.label for m in at.metric]
