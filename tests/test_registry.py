"""The method registry is the only list of methods, the recipe the only place of its
defaults, and the modules import each other without a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from solver import methods

ROOT = Path(__file__).resolve().parents[1]
CODE = [*sorted((ROOT / "explorer").rglob("*.py")), *sorted((ROOT / "solver").rglob("*.py")), ROOT / "app.py"]
REGISTRY = ROOT / "solver" / "methods.py"

#: String constants that equal a method's key or label but name a Python object: the
#: package's lazy attribute table (the classes FIRENET and FISTA, the submodule
#: ``solver.firenet``) and the attribute holding the FIRENET part of U-Net then FIRENET.
NOT_METHODS = {
    ("solver/__init__.py", methods.FIRENET),
    ("solver/__init__.py", methods.METHODS[methods.FIRENET].label),
    ("solver/__init__.py", methods.METHODS[methods.FISTA].label),
    ("solver/trace.py", methods.FIRENET),
}


def _not_code(tree: ast.AST) -> set[int]:
    """ids of the string nodes that are documentation (docstrings) or name Python
    objects (``__all__``)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            found |= {id(n) for n in ast.walk(node.value)}
    return found


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = _not_code(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip]


def test_no_method_key_or_label_is_written_outside_the_registry():
    names = {*methods.METHODS, *methods.SWEEP_VARIANTS}
    labels = {m.label for m in methods.METHODS.values()} | {v.label for v in methods.SWEEP_VARIANTS.values()}
    found = []
    for path in CODE:
        if path == REGISTRY:
            continue
        relative = path.relative_to(ROOT).as_posix()
        for line, text in _string_constants(path):
            if (text in names or text in labels) and (relative, text) not in NOT_METHODS:
                found.append(f"{relative}:{line}: {text!r}")
    assert not found, "method keys or labels outside solver/methods.py:\n" + "\n".join(found)


def test_the_scan_sees_a_method_key_written_as_a_literal(tmp_path):
    # The scan above would fail on a file that names a method: it can fail.
    path = tmp_path / "module.py"
    path.write_text(f'"""Doc {methods.FIRENET!r}."""\n__all__ = [{methods.FISTA!r}]\nshown = ({methods.CP!r}, "x")\n')
    assert [text for _, text in _string_constants(path)] == [methods.CP, "x"]


def test_the_literal_default_of_lam_is_written_once():
    from solver.recipe import LAM

    places = []
    for path in CODE:
        tree = ast.parse(path.read_text())
        places += [f"{path.relative_to(ROOT)}:{node.lineno}" for node in ast.walk(tree)
                   if isinstance(node, ast.Constant) and type(node.value) is float and node.value == LAM]
    assert places == ["solver/recipe.py:" + places[0].split(":")[1]] and len(places) == 1, places
