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


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for the module: with the cores shared, OpenMP threads spin-wait on
    each other, and a small attack took 4-12 s instead of 0.07 s on two busy cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
