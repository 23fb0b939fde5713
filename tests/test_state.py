"""The page's memory is one typed object beside the settings, and the caching layer reads
no session state."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from explorer import specs as K
from explorer import state as S

ROOT = Path(__file__).resolve().parents[1]
EXPLORER = sorted((ROOT / "explorer").glob("*.py"))
#: The modules that hold the cached solver calls (``explorer.compute``'s docstring).
CACHING_LAYER = ("compute", "sources", "variants", "persist", "estimates")


def test_the_memory_is_made_once_and_kept_by_init_and_reset():
    specs = K.all_specs()
    state: dict = {}
    S.init(state, specs)
    memory = S.memory(state)
    assert set(state) == {*specs, S.MEMORY_KEY} and state[S.MEMORY_KEY] is memory
    assert memory.run_budget_seconds == 120.0 and not memory.url_loaded
    memory.user_mask = ("mask.png", b"\x89PNG")
    state["size"] = 128
    S.reset(state, specs)
    S.init(state, specs)
    assert state["size"] == specs["size"].default  # the settings go back to their defaults
    assert S.memory(state) is memory and memory.user_mask == ("mask.png", b"\x89PNG")  # the memory stays


def test_a_memory_put_in_before_the_first_run_is_the_one_used():
    # How the tests and benchmarks give a session other budgets.
    state = {S.MEMORY_KEY: S.PageMemory(run_budget_seconds=0.0, preset_overrides={"size": 128})}
    S.init(state, K.all_specs())
    assert S.memory(state).run_budget_seconds == 0.0 and S.memory(state).preset_overrides == {"size": 128}


def test_two_sessions_share_no_part_of_their_memory():
    first, second = S.memory({}), S.memory({})
    first.timings["page"] = 1.0
    assert second.timings == {} and first is not second


def _widget_keys(node) -> set[str]:
    """The keys of every widget drawn in an AppTest tree."""
    keys = {node.key} if isinstance(getattr(node, "key", None), str) else set()
    for child in getattr(node, "children", {}).values():
        keys |= _widget_keys(child)
    return keys


@pytest.mark.slow
def test_the_memory_is_the_only_key_a_page_run_sets_beside_the_settings():
    from streamlit.testing.v1 import AppTest

    from explorer import sources

    specs = K.all_specs(sources.pattern_registry())
    # The default page (a worst-case search against the U-Net on the first screen), small.
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.query_params.update({"size": "128", "schedule": "fixed", "n": "2", "p": "4", "attack_steps": "2"})
    at.session_state["stability_open"] = True  # the folded panel opened: its widgets are drawn
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    widgets = _widget_keys(at.main) | _widget_keys(at.sidebar)
    assert "run_stability" in widgets  # the walk finds the widgets without a setting
    others = set(at.session_state.keys()) - set(specs) - widgets
    assert others == {S.MEMORY_KEY}
    memory = at.session_state[S.MEMORY_KEY]
    assert isinstance(memory, S.PageMemory) and memory.url_loaded and memory.page == "reconstruction"
    assert memory.last_image == ("random_ellipses", 800_000) and memory.timings["done"] > 0


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _cached(function: ast.FunctionDef) -> bool:
    """Decorated with ``st.cache_data`` or ``st.cache_resource`` (called or not)."""
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in ("cache_data", "cache_resource"):
            return True
    return False


def _reaches_session_state(function: ast.FunctionDef, functions: dict[str, ast.FunctionDef],
                           seen: set[str]) -> list[str]:
    """The functions of the module, ``function`` and those it calls by name, that name
    ``session_state``."""
    if function.name in seen:
        return []
    seen.add(function.name)
    found = [function.name] if any(isinstance(n, ast.Attribute) and n.attr == "session_state"
                                   for n in ast.walk(function)) else []
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions:
            found += _reaches_session_state(functions[node.func.id], functions, seen)
    return found


def test_the_caching_layer_reads_no_session_state():
    found = []
    for path in EXPLORER:
        tree = ast.parse(path.read_text())
        functions = _functions(tree)
        if path.stem in CACHING_LAYER:
            names = [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
            found += [f"{path.stem}: session_state"] * ("session_state" in names)
            found += [f"{path.stem}: memory()" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                      and n.module == "explorer" and any(a.name == "state" for a in n.names)]
        for function in functions.values():
            if _cached(function):
                found += [f"{path.stem}.{name}" for name in _reaches_session_state(function, functions, set())]
    assert not found, found


def test_the_scan_sees_session_state_read_below_a_cached_function():
    tree = ast.parse("import streamlit as st\n@st.cache_data\ndef f():\n    return g()\n"
                     "def g():\n    return st.session_state['x']\n")
    functions = _functions(tree)
    assert _cached(functions["f"]) and not _cached(functions["g"])
    assert _reaches_session_state(functions["f"], functions, set()) == ["g"]
