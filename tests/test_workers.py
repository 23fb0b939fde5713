"""How the suite is spread over xdist's workers (tests/conftest.py): how many workers
``-n auto`` starts for which command line, and which modules start first."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import conftest


def auto_workers(monkeypatch, args, cores=2):
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    monkeypatch.setattr(conftest.os, "sched_getaffinity", lambda pid: set(range(cores)))
    return conftest.pytest_xdist_auto_num_workers(SimpleNamespace(option=SimpleNamespace(file_or_dir=args)))


@pytest.mark.parametrize("args,cores,workers", [
    ([], 2, 2),                                  # the whole suite: a worker per core
    (["tests"], 2, 2),                           # a folder is the suite too
    ([], 64, conftest.MOST_WORKERS),             # at most MOST_WORKERS
    ([], 1, 0),                                  # one core: no workers, no start-up cost
    (["tests/test_metrics.py"], 2, 0),           # a file named: in this process
    (["tests/test_metrics.py::test_psnr"], 2, 0),
    (["tests", "tests/test_metrics.py"], 2, 0),
])
def test_auto_means_a_worker_per_core_only_for_the_whole_suite(monkeypatch, args, cores, workers):
    assert auto_workers(monkeypatch, args, cores) == workers


def test_a_count_in_the_environment_is_taken_as_given(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "3")
    assert conftest.pytest_xdist_auto_num_workers(SimpleNamespace(option=SimpleNamespace(file_or_dir=["tests/test_metrics.py"]))) == 3


def test_every_module_named_longest_exists_and_is_named_once():
    here = {path.name for path in Path(__file__).parent.glob("test_*.py")}
    assert conftest.LONGEST_MODULES
    assert len(set(conftest.LONGEST_MODULES)) == len(conftest.LONGEST_MODULES)
    assert set(conftest.LONGEST_MODULES) <= here


def test_the_browser_modules_are_the_modules_marked_browser():
    marked = {path.name for path in Path(__file__).parent.glob("test_*.py")
              if re.search(r"^pytestmark = .*pytest\.mark\.browser", path.read_text(), flags=re.M)}
    assert set(conftest.BROWSER_MODULES) == marked


def test_loadfile_gives_the_browser_modules_to_one_worker_and_every_other_module_its_own():
    settings = {"dist": "loadfile", "tx": ["popen", "popen"]}
    scheduler = conftest.pytest_xdist_make_scheduler(SimpleNamespace(getvalue=settings.get), None)
    scope = scheduler._split_scope
    assert scope("tests/test_browser.py::test_cancel_stops_a_run") == scope("tests/test_first_screen.py::test_x")
    assert scope("tests/test_app.py::test_x") == scope("tests/test_app.py::test_y[1]") == "tests/test_app.py"
    assert len({scope(f"tests/{name}::test_x") for name in ("test_app.py", "test_url.py", "test_browser.py")}) == 3
    settings["dist"] = "load"
    assert conftest.pytest_xdist_make_scheduler(SimpleNamespace(getvalue=settings.get), None) is None


def test_under_xdist_the_longest_modules_start_first_and_the_rest_keep_their_order(monkeypatch):
    first, second = conftest.LONGEST_MODULES[:2]
    names = ["test_a.py", second, "test_b.py", first, "test_a.py", second]
    items = [SimpleNamespace(path=Path("tests") / name, number=number) for number, name in enumerate(names)]
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    conftest.pytest_collection_modifyitems(None, items)
    assert [item.number for item in items] == [3, 1, 5, 0, 2, 4]
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    collected = items[::-1]
    conftest.pytest_collection_modifyitems(None, collected)  # one process: left as collected
    assert [item.number for item in collected] == [4, 2, 0, 5, 1, 3]
