"""The long solver algorithms, split into named steps, give bit for bit what they gave whole.

``tests/data/steps_references.npz`` holds the outputs of the k-space preparation, the
attacks, the run loop, the stability curves, the primal-dual block, the ellipse
parameters, the network card checks, the mask preparation and the sweep runner on small
seeded inputs, computed before the restructuring by ``tests/data/make_steps_references.py``
(its docstring has the command). Every value is recomputed, on the torch Haar transform the
references were made with (the compiled one rounds the small levels differently), and
compared exactly. The
length of every function is held by ``tests/test_code_size.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import solver.wavelets
from tests.data.make_steps_references import OUTPUT, compute


@pytest.fixture(scope="module")
def recomputed() -> dict[str, np.ndarray]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(solver.wavelets, "_COMPILED", None)
        return compute()


def test_outputs_are_bit_for_bit_the_references(recomputed):
    with np.load(OUTPUT) as stored:
        references = {name: stored[name] for name in stored.files}
    assert sorted(recomputed) == sorted(references)
    differing = [name for name, value in references.items()
                 if not (np.asarray(recomputed[name]).dtype == value.dtype
                         and np.array_equal(recomputed[name], value, equal_nan=value.dtype.kind in "fc"))]
    assert differing == []
