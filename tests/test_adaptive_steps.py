"""The adaptive schedule reproduces, bit for bit, the outputs and records it gave before it
was split into steps (``tests/data/adaptive_references.npz``, made by
``tests/data/make_adaptive_references.py`` from the earlier code)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.data.make_adaptive_references import CASES, REFERENCES, run_case


@pytest.fixture(scope="module")
def references() -> dict[str, np.ndarray]:
    with np.load(REFERENCES) as stored:
        return dict(stored)


@pytest.mark.parametrize("name", list(CASES))
def test_adaptive_schedule_matches_its_references_bit_for_bit(name, references):
    torch.set_num_threads(1)  # the references were made on one thread
    arrays = run_case(name)
    expected = {key.split("/", 1)[1]: value for key, value in references.items() if key.startswith(name + "/")}
    assert set(arrays) == set(expected)
    for key, value in arrays.items():
        assert value.dtype == expected[key].dtype, key
        assert np.array_equal(value, expected[key]), (name, key)


def test_references_separate_the_cases():
    """A reference every variant met would not pin a variant's own path: the stored outputs
    are pairwise different within each dtype, except that a callback never changes the
    output (plain and recorded runs agree)."""
    with np.load(REFERENCES) as stored:
        outs = {name: stored[f"{name}/out"] for name in CASES}
    names = list(CASES)
    equal = {(a, b) for i, a in enumerate(names) for b in names[i + 1:]
             if outs[a].dtype == outs[b].dtype and np.array_equal(outs[a], outs[b])}
    assert equal == {(f"plain-{t}", f"record-{t}") for t in ("c128", "c64")} | {
        (f"inplace-record-{t}", f"inplace-{t}") for t in ("c128", "c64")}
