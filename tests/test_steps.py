"""The long solver algorithms, split into named steps, give bit for bit what they gave whole.

``tests/data/steps_references.npz`` holds the outputs of the k-space preparation, the
attacks, the run loop, the stability curves, the primal-dual block, the ellipse
parameters, the network card checks, the mask preparation and the sweep runner on small
seeded inputs, computed before the restructuring by ``tests/data/make_steps_references.py``
(its docstring has the command). Every value is recomputed and compared exactly. A
second test keeps every function of ``solver/`` short enough to read on one screen.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from tests.data.make_steps_references import OUTPUT, compute

SOLVER = Path(__file__).resolve().parents[1] / "solver"
#: The longest a function of solver/ may be, from its ``def`` to its last line.
MAX_FUNCTION_LINES = 80
#: Files not yet held to the limit.
EXEMPT = {"schedules.py"}


@pytest.fixture(scope="module")
def recomputed() -> dict[str, np.ndarray]:
    return compute()


def test_outputs_are_bit_for_bit_the_references(recomputed):
    with np.load(OUTPUT) as stored:
        references = {name: stored[name] for name in stored.files}
    assert sorted(recomputed) == sorted(references)
    differing = [name for name, value in references.items()
                 if not (np.asarray(recomputed[name]).dtype == value.dtype
                         and np.array_equal(recomputed[name], value, equal_nan=value.dtype.kind in "fc"))]
    assert differing == []


def _long_functions(root: Path, limit: int) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name in EXEMPT:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > limit:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_solver_function_is_longer_than_a_screen():
    assert _long_functions(SOLVER, MAX_FUNCTION_LINES) == []


def test_the_length_count_finds_a_long_function(tmp_path):
    (tmp_path / "long.py").write_text("def f():\n" + "    x = 1\n" * 80 + "\n\ndef g():\n    return 1\n")
    assert _long_functions(tmp_path, MAX_FUNCTION_LINES) == [f"{tmp_path.name}/long.py:1 f (81 lines)"]
