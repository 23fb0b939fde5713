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
