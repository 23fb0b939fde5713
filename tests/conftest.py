"""Fixtures shared by several test modules."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def private_result_cache(tmp_path_factory):
    """The explorer persists long results (worst cases, stability curves) on disk; the
    tests use a folder of their own, so every run starts from nothing."""
    import os

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
    import os

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
