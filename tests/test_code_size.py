"""Size limits that keep the code readable: each explorer module and each function reads in
a sitting, and an algorithm is a set of named steps rather than one long body."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULE_LINES = 400  # an explorer module (UI code) at most
FUNCTION_LINES = 80  # any function of the app, the explorer or the library, docstring included


def _sources(folder: str) -> list[Path]:
    """The Python files of ``folder`` (``app.py`` counts with the explorer, the page's UI)."""
    found = sorted((ROOT / folder).rglob("*.py"))
    return found + [ROOT / "app.py"] if folder == "explorer" else found


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > FUNCTION_LINES]


def test_no_explorer_module_is_over_the_limit():
    long = [f"{p.relative_to(ROOT)} ({n} lines)" for p in _sources("explorer")
            if (n := len(p.read_text().splitlines())) > MODULE_LINES]
    assert not long, f"explorer modules over {MODULE_LINES} lines: {long}"


@pytest.mark.parametrize("folder", ["solver", "explorer"])
def test_no_function_is_over_the_limit(folder):
    long = [entry for path in _sources(folder) for entry in _long_functions(path)]
    assert not long, f"functions over {FUNCTION_LINES} lines: {long}"


def test_the_length_count_sees_a_long_function(tmp_path, monkeypatch):
    """The check itself: a function of 81 lines is found, one of 80 is not, nested ones too."""
    body = "\n".join(f"    x{i} = {i}" for i in range(79))
    short = tmp_path / "short.py"
    short.write_text(f"def f():\n{body}\n")
    long = tmp_path / "long.py"
    long.write_text(f"class C:\n    def g(self):\n    {body.replace(chr(10), chr(10) + '    ')}\n        return 0\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert _long_functions(short) == []
    assert _long_functions(long) == ["long.py:2 g (81 lines)"]
