"""The page's time estimates in words: one number on a quiet server, a range on a busy one."""

import os

import pytest

from explorer import estimates
from explorer.estimates import approximately, busy_factor


@pytest.mark.parametrize(("load", "cores", "factor"), [
    (0.0, 2, 1.0),  # quiet: a core of its own
    (0.9, 2, 1.0),  # one other process: still a core each
    (3.0, 2, 2.0),  # three others on two cores: half a core
    (7.0, 4, 2.0),
    (1.0, 1, 2.0),
])
def test_busy_factor_is_the_share_of_a_core_lost_to_other_work(load, cores, factor):
    assert busy_factor(load, cores) == pytest.approx(factor)


def test_busy_factor_reads_the_load_average_and_the_cores_of_this_process(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (5.0, 0.0, 0.0))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert busy_factor() == pytest.approx(3.0)


def test_busy_factor_is_one_where_the_system_has_no_load_average(monkeypatch):
    def missing():
        raise OSError("no load average")

    monkeypatch.setattr(os, "getloadavg", missing)
    assert busy_factor() == 1.0


@pytest.mark.parametrize(("seconds", "factor", "words"), [
    (4.2, 1.0, "about 4 s"),
    (4.2, 1.49, "about 4 s"),  # within the 1.5x an estimate is held to: one number
    (4.2, 2.25, "4 s to 9 s, the server being busy"),
    (100.0, 3.0, "1.7 min to 5.0 min, the server being busy"),
    (0.2, 1.0, "about 1 s"),
])
def test_approximately_states_one_number_when_quiet_and_a_range_when_busy(seconds, factor, words):
    assert approximately(seconds, factor) == words


def test_approximately_takes_the_servers_load_when_no_factor_is_given(monkeypatch):
    monkeypatch.setattr(estimates, "busy_factor", lambda: 3.0)
    assert approximately(10.0) == "10 s to 30 s, the server being busy"
    monkeypatch.setattr(estimates, "busy_factor", lambda: 1.0)
    assert approximately(10.0) == "about 10 s"


def test_a_runs_cost_besides_its_layers_is_told_apart_from_the_layers(monkeypatch):
    """A fake clock: a run costs 0.05 s + 2 ms a layer + 1 ms a recorded layer, 4 ms a
    layer for an adaptive schedule. The two calibration lengths give back exactly those
    costs (one short run had put the 0.05 s into its 12 layers), and the adaptive and
    the fixed schedule are calibrated apart."""
    import types
    from dataclasses import replace

    from explorer.settings import FirenetSettings

    clock = [0.0]

    def run(net, y, *, reference=None, every=None, **kwargs):
        records = net.depth if every == 1 else 2
        clock[0] += 0.05 + net.depth * (0.004 if net.adaptive else 0.002) + records * 0.001

    monkeypatch.setattr(estimates, "network", lambda method, problem, fs: types.SimpleNamespace(
        depth=fs.depth, adaptive=fs.adaptive))
    monkeypatch.setattr(estimates.solver.trace, "run", run)
    monkeypatch.setattr(estimates.time, "perf_counter", lambda: clock[0])
    problem = types.SimpleNamespace(truth=types.SimpleNamespace(shape=(64, 64)), has_truth=False,
                                    y=types.SimpleNamespace(dtype="complex64"),
                                    mask=types.SimpleNamespace(sum=lambda: 1000), transform="fourier")
    estimates.forget()
    fixed = replace(FirenetSettings(), schedule="fixed", restarts=5, layers=20)
    adaptive = replace(FirenetSettings(), schedule="adaptive", max_layers=100)
    assert estimates._layer_costs("firenet", problem, fixed) == pytest.approx((0.05, 0.002, 0.001))
    assert estimates._layer_costs("firenet", problem, adaptive) == pytest.approx((0.05, 0.004, 0.001))
    estimates.forget()
