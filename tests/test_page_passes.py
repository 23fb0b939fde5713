"""One pass per run of the reconstruction page: each method is reconstructed once on each
problem it is given, also when a worst-case search finishes within the run (its result
feeds the perturbed row only; the clean row is the one computed before the search).

Counts ``explorer.compute.reconstruct`` calls (the page's one entry to the solver's
methods, cached or not) per method and problem, over one run of the page.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.state import memory

pytestmark = pytest.mark.slow

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 300
#: The presets run small (as tests/test_app.py runs them).
SMALL_PRESETS = {"size": 128, "n": 2, "p": 5, "max_layers": 20, "attack_steps": 2, "compare": False}


@pytest.fixture
def calls(monkeypatch):
    """(method, problem digest) -> number of ``compute.reconstruct`` calls."""
    from explorer import compute

    counted: Counter = Counter()
    original = compute.reconstruct

    def reconstruct(method, problem, *args, **kwargs):
        counted[(method, compute.digest(problem))] += 1
        return original(method, problem, *args, **kwargs)

    monkeypatch.setattr(compute, "reconstruct", reconstruct)
    return counted


def assert_once_each(at: AppTest, calls: Counter) -> None:
    """Every method shown ran on the clean and on the perturbed data, each exactly once."""
    assert not at.exception, [e.value for e in at.exception]
    assert any(m.label.startswith("Output change") for m in at.metric)  # the search ran: perturbed page
    shown = set(at.session_state["show"]) | {"firenet"}
    per_method = Counter(method for method, _ in calls)
    assert set(per_method) == shown, calls
    assert all(count == 2 for count in per_method.values()), calls  # clean and perturbed problems
    assert set(calls.values()) == {1}, calls


def test_default_page_runs_each_method_once_per_problem(calls):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    # The default page's search runs by itself where it is estimated within the work
    # budget (a loaded machine may estimate it over): here it always runs.
    memory(at.session_state).work_budget_seconds = 1e9
    at.run()
    assert_once_each(at, calls)
    calls.clear()
    at.run()  # nothing changed: the cached results, again each asked for once
    assert_once_each(at, calls)


def test_a_perturbation_preset_runs_each_method_once_per_problem(calls):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"size": "128", "schedule": "fixed", "n": "2", "p": "4", "perturbation": "none"})
    at.run()
    calls.clear()
    # A seed no other test uses: the search and the perturbed runs happen in this run.
    memory(at.session_state).preset_overrides = {**SMALL_PRESETS, "noise_seed": 9173}
    at.button(key="preset_worst_case").click().run()
    assert_once_each(at, calls)
