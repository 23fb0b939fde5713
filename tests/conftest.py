"""Fixtures shared by several test modules, and how the suite is spread over processes.

``pyproject.toml`` asks pytest-xdist for ``-n auto --dist loadfile``: each test module runs
whole in one worker process, so a module's fixtures (a server, a reference run) are built
once. The hooks below decide how many workers ``auto`` means, keep the browser modules in
one worker and start the longest modules first (docs/testing.md).
"""

import os

import pytest
import torch

# Most workers ``-n auto`` starts. Measured under ``-n 2`` (per-test times summed per module,
# docs/testing.md), the browser modules, which run one after another in one worker (below),
# are about a third of the suite: past 3 workers they alone set the run's length, and each
# worker holds its own torch, servers and Chromium in memory (up to 1.7 GB measured).
MOST_WORKERS = 3

# The modules that drive Chromium against a Streamlit server of their own. xdist gives them
# to one worker, one after another: a server and Chromium beside another browser module on
# two cores slowed both until the default page's websocket traffic passed its budget
# (608 kB of 600 kB) and the steady page lost its pictures in a 50 ms sample.
BROWSER_MODULES = (
    "test_browser.py",
    "test_presentation_browser.py",
    "test_pages_browser.py",
    "test_steady_browser.py",
    "test_first_screen.py",
)

# The longest modules, longest first, as measured under ``-n 2`` (docs/testing.md); the
# browser modules together (about a third of the suite) are the longest unit. Under xdist
# they start first, so that no worker is left with a long module while the other has
# finished; the rest follow in file order. A module missing here only runs later; the list
# never changes what runs.
LONGEST_MODULES = (
    *BROWSER_MODULES,
    "test_app.py",
    "test_certificates.py",
    "test_reproduce.py",
    "test_adaptive.py",
    "test_networks.py",
    "test_hostile_files.py",
    "test_attacks.py",
    "test_firenet.py",
    "test_url.py",
    "test_app_own_data.py",
    "test_concurrency.py",
)


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per available core (at most :data:`MOST_WORKERS`) when the
    command line names no test file or test id, otherwise none (the tests run in this
    process, without the seconds that starting workers costs for a few tests). A count
    given as ``-n 2``, or in ``PYTEST_XDIST_AUTO_NUM_WORKERS``, is taken as given."""
    given = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS")
    if given:
        return int(given)
    named = [arg.split("::")[0] for arg in config.option.file_or_dir or ()]
    if any(arg.endswith(".py") or "::" in original
           for arg, original in zip(named, config.option.file_or_dir)):
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = min(cores, MOST_WORKERS)
    return workers if workers > 1 else 0


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` with the :data:`BROWSER_MODULES` as one unit of work."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class BrowserModulesInOneWorker(LoadFileScheduling):
        def _split_scope(self, nodeid):
            module = super()._split_scope(nodeid)
            return "browser modules" if module.rpartition("/")[2] in BROWSER_MODULES else module

    return BrowserModulesInOneWorker(config, log)


def pytest_collection_modifyitems(config, items):
    """Under xdist, the modules of :data:`LONGEST_MODULES` first (``--dist loadfile`` with
    ``--no-loadscope-reorder`` hands modules out in collection order)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    rank = {name: place for place, name in enumerate(LONGEST_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: file order kept


@pytest.fixture(autouse=True, scope="session")
def private_result_cache(tmp_path_factory):
    """The explorer persists long results (worst cases, stability curves) on disk; the
    tests use a folder of their own, so every run starts from nothing (under xdist, one per
    worker: each worker's ``tmp_path_factory`` has its own base folder)."""
    before = os.environ.get("FIRENET_CACHE_DIR")
    os.environ["FIRENET_CACHE_DIR"] = str(tmp_path_factory.mktemp("results"))
    yield
    if before is None:
        os.environ.pop("FIRENET_CACHE_DIR", None)
    else:
        os.environ["FIRENET_CACHE_DIR"] = before


@pytest.fixture(autouse=True, scope="session")
def one_thread_per_process():
    """One torch/OpenMP thread for the whole run, here and in the servers and commands the
    tests start (they inherit the environment). With the cores shared, OpenMP threads
    spin-wait on each other: a small attack took 4-12 s instead of 0.07 s on two busy cores,
    and the suite beside two busy processes reached 10 % in 9 minutes with two threads."""
    saved = {name: os.environ.get(name) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
