"""The method registry is the only list of methods, the recipe the only place of its
defaults, and the modules import each other without a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

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
    # The paradox's Table 1 has its own FIRENET (the paper's restarted solver for the
    # inexact-input square-root LASSO, solver.paradox.firenet), not the page's method.
    ("solver/paradox.py", methods.FIRENET),
    ("solver/reproduce/paradox.py", methods.FIRENET),
    ("solver/reproduce/paradox.py", methods.METHODS[methods.FIRENET].label),
    ("explorer/paradox_page.py", methods.FIRENET),
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


# --------------------------------------------------------------------------------------
# Imports
# --------------------------------------------------------------------------------------
def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(code: list[Path] = CODE, root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the project modules it imports, at module level or inside functions
    (``explorer`` and ``solver``, or the modules ``code`` under ``root``; a name imported
    from a package counts as its module when it is one)."""
    modules = {_module_name(p, root): p for p in code if p.name != "app.py"}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            else:
                continue
            edges |= {t for t in targets if t in modules and t != name}
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` as the list of its modules, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_explorer_and_solver_modules_import_each_other_without_a_cycle():
    graph = import_graph()
    assert "explorer.variants" in graph["explorer.runs"]  # the graph sees the imports
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_search_finds_a_cycle_hidden_in_a_function(tmp_path):
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    # The graph holds the imports made inside functions (and under ``if``), in both forms.
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def f():\n    if True:\n        from pkg.c import g\n")
    (package / "c.py").write_text("def g():\n    import pkg.a\n")
    code = sorted(package.glob("*.py"))
    graph = import_graph(code, tmp_path)
    assert graph["pkg.b"] == {"pkg.c"} and graph["pkg.c"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]


def test_no_solver_module_imports_the_explorer_or_streamlit():
    for name, edges in import_graph().items():
        if name.startswith("solver"):
            assert not any(e.startswith("explorer") for e in edges), name


# --------------------------------------------------------------------------------------
# A method added in one place
# --------------------------------------------------------------------------------------
TOY = "toy_half"


class _Half(torch.nn.Module):
    """Half the zero-filled image: a method no file of the project knows."""

    def __init__(self, A):
        super().__init__()
        from solver.baselines import zero_filled

        self.inner = zero_filled(A)

    def forward(self, y, x0=None, callback=None):
        return 0.5 * self.inner(y)


@pytest.fixture
def toy():
    """A method registered for one test (its entry is all there is), removed after."""
    entry = methods.Method("Toy: half the zero-filled image", "#123456", "Half of A* y.",
                           lambda parts: _Half(parts.A), depends_on=("wavelet", "levels"))
    methods.METHODS[TOY] = entry
    try:
        yield entry
    finally:
        del methods.METHODS[TOY]


def test_a_registered_method_is_built_estimated_and_keyed_by_what_it_depends_on(toy):
    from dataclasses import replace

    from explorer import compute, estimates
    from explorer.settings import FirenetSettings
    from solver.phantoms import shepp_logan
    from solver.problem import make_problem
    from solver.sampling import make_mask

    problem = make_problem(shepp_logan(32), make_mask("multilevel", 32, 0.25, seed=0))
    fs = FirenetSettings()
    net = compute.network(TOY, problem, fs)
    zero = compute.network(methods.ZERO_FILLED, problem, fs)
    with torch.no_grad():
        assert torch.allclose(net(problem.y), 0.5 * zero(problem.y))
    assert 0 < estimates.reconstruction_seconds(TOY, problem, fs) < 5
    key = compute.reconstruction_key(TOY, problem, fs)
    # its output depends on the wavelet and levels, not on lam or FIRENET's schedule
    assert compute.reconstruction_key(TOY, problem, replace(fs, lam=1e-3, restarts=2)) == key
    assert compute.reconstruction_key(TOY, problem, replace(fs, wavelet="db2")) != key
    trace = compute.reconstruct(TOY, problem, fs)
    with torch.no_grad():
        assert np.allclose(trace.image, 0.5 * zero(problem.y).numpy())


@pytest.mark.slow
def test_a_registered_method_runs_in_a_sweep_and_is_drawn_in_its_figure(toy):
    from solver.reproduce import build_figures
    from solver.reproduce.experiments import execute, plan
    from solver.reproduce.results import to_frame

    tasks = plan("sampling_change", "small", images=1,
                 overrides={"method": [TOY, methods.ZERO_FILLED], "size": 32, "extra": [0.0, 0.2]})
    assert [t["method"] for t in tasks] == [TOY, TOY, methods.ZERO_FILLED, methods.ZERO_FILLED]
    records = [{"key": str(i), "settings": t, "status": "ok", "values": execute(t)} for i, t in enumerate(tasks)]
    frame = to_frame(records)
    errors = frame.set_index(["method", "extra"])["error"]
    # The same problem built here: the sweep's error is that of half the zero-filled image.
    from solver.datasets import example_image
    from solver.metrics import relative_error
    from solver.problem import make_problem
    from solver.sampling import make_mask

    task = tasks[0]
    problem = make_problem(example_image(task["image_seed"], 32),
                           make_mask(task["pattern"], 32, task["rate"], seed=task["mask_seed"]))
    with torch.no_grad():
        zero = methods.build(methods.ZERO_FILLED, problem.measurement(task["wavelet"]))(problem.y).numpy()
    assert errors[(TOY, 0.0)] == pytest.approx(relative_error(0.5 * zero, problem.truth), rel=1e-6)
    assert errors[(methods.ZERO_FILLED, 0.0)] == pytest.approx(relative_error(zero, problem.truth), rel=1e-6)
    (figure,) = build_figures(frame).values()
    drawn = {trace.name: trace.line.color for trace in figure.data}
    assert drawn[toy.label] == toy.colour
    assert drawn[methods.METHODS[methods.ZERO_FILLED].label] == methods.METHODS[methods.ZERO_FILLED].colour


@pytest.mark.slow
def test_a_registered_method_is_offered_and_shown_on_the_page(toy):
    from streamlit.testing.v1 import AppTest

    app = str(ROOT / "app.py")
    at = AppTest.from_file(app, default_timeout=240)
    at.query_params.update({"size": "128", "schedule": "fixed", "n": "2", "p": "4", "perturbation": "none",
                            "show": f"{methods.ZERO_FILLED},{TOY}"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert TOY in at.session_state["show"]
    assert any(f"**{toy.label}**" in m.value for m in at.markdown)


# --------------------------------------------------------------------------------------
# What the registry fixed
# --------------------------------------------------------------------------------------
def test_every_method_the_sweeps_plan_is_one_the_registry_builds():
    from solver.reproduce.experiments import PRESETS, plan

    planned = {task["method"] for experiment, presets in PRESETS.items() for preset in presets
               for task in plan(experiment, preset, images=1)}
    assert methods.CP_TUNED in planned and methods.FISTA in planned
    for name in planned:
        key, label, colour = methods.sweep_entry(name)
        assert key in methods.METHODS and label and colour.startswith("#")


def test_the_tuned_chambolle_pock_takes_the_measured_ratio_of_its_size_and_weights():
    from solver.legacy import CP_FIXED_RATIO as TUNED_RATIO, CP_FIXED_RATIO_UNIFORM as TUNED_RATIO_UNIFORM
    from solver.phantoms import shepp_logan
    from solver.problem import make_problem
    from solver.sampling import make_mask

    problem = make_problem(shepp_logan(64), make_mask("multilevel", 64, 0.25, seed=0))
    A = problem.measurement("haar")
    assert methods.build(methods.CP_TUNED, A).ratio == TUNED_RATIO_UNIFORM[64]
    assert methods.build(methods.CP_TUNED, A, weights=torch.ones(64, 64)).ratio == TUNED_RATIO[64]


def test_each_method_has_one_colour_on_the_page_and_in_the_sweep_figures():
    from explorer.figures import convergence_figure

    curve = {"layer": [1, 2], "error": [0.5, 0.4], "gap": [1e-2, 1e-3], "seconds": [0.1, 0.2]}
    figure = convergence_figure({m.label: curve for m in methods.METHODS.values()})
    drawn = {trace.name: trace.line.color for trace in figure.data if trace.name}
    assert drawn == {m.label: m.colour for m in methods.METHODS.values()}
    assert len({m.colour for m in methods.METHODS.values()}) == len(methods.METHODS)


# --------------------------------------------------------------------------------------
# The recipe and the page's defaults
# --------------------------------------------------------------------------------------
def test_the_page_and_the_sweeps_take_their_defaults_from_the_recipe():
    from explorer import specs as K
    from explorer.settings import FirenetSettings, MeasurementSettings
    from solver import recipe
    from solver.reproduce.experiments import plan

    ms, fs = MeasurementSettings(), FirenetSettings()
    assert (ms.transform, ms.pattern, ms.rate) == (recipe.TRANSFORM, recipe.PATTERN, recipe.RATE)
    made = fs.recipe(methods.CP)
    default = recipe.Recipe(methods.CP)
    assert (made.lam, made.wavelet, made.levels, made.weights, made.threshold) == (
        default.lam, default.wavelet, default.levels, default.weights, default.threshold)
    assert K.SPECS["show"].default == methods.SHOWN_FIRST
    task = plan("convergence", "small", images=1)[0]
    assert (task["lam"], task["rate"], task["wavelet"], task["weights"]) == (
        recipe.LAM, recipe.RATE, recipe.WAVELET, recipe.WEIGHTS)


@pytest.mark.parametrize(("field", "value"), [("lam", 0.0), ("levels", -1), ("weights", "sparse"),
                                              ("iterations", 0)])
def test_a_recipe_names_the_setting_it_cannot_take(field, value):
    from solver.recipe import Recipe

    with pytest.raises(ValueError, match=f"^{field}"):
        Recipe(methods.FIRENET, **{field: value})


def test_the_l1_weights_of_each_scheme_are_the_solvers(tmp_path):
    from solver import recipe
    from solver.phantoms import shepp_logan
    from solver.sparsity_weights import sparsity_level_weights
    from solver.wavelets import Wavelet2D, level_weights

    image = shepp_logan(32)
    transform = Wavelet2D("haar", levels=None, size=32)
    assert recipe.l1_weights("uniform", "haar", 0, 32) is None
    assert torch.equal(recipe.l1_weights("levels", "haar", 0, 32, reference=image),
                       level_weights(torch.as_tensor(image, dtype=torch.float32), transform,
                                     domain="image").to(torch.float32))
    assert torch.equal(recipe.l1_weights("authors", "haar", 0, 32, reference=image, threshold=0.2),
                       sparsity_level_weights(image, transform, threshold=0.2).to(torch.float32))
    with pytest.raises(ValueError, match="^reference"):
        recipe.l1_weights("levels", "haar", 0, 32)


def test_the_caching_layer_takes_the_uploaded_mask_as_an_argument():
    import io

    from explorer import compute
    from explorer.settings import ImageSettings, MeasurementSettings
    from solver.phantoms import shepp_logan

    mask = np.zeros((32, 32), dtype=bool)
    mask[::2] = True
    buffer = io.BytesIO()
    np.save(buffer, mask)
    settings = ImageSettings(size=32), shepp_logan(32), MeasurementSettings(pattern="user"), 0.0, 0
    problem = compute.base_problem(*settings, user_mask=("mask.npy", buffer.getvalue()))
    assert np.array_equal(problem.mask, mask)
    with pytest.raises(ValueError, match="no mask file"):
        compute.base_problem(*settings)


# --------------------------------------------------------------------------------------
# One pass per rerun
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_page_builds_its_settings_and_computes_each_reconstruction_once_per_run(monkeypatch):
    from collections import Counter

    from streamlit.testing.v1 import AppTest

    from explorer import compute

    computed: Counter = Counter()
    store = compute.store()
    put = store.put

    def counting(key, value):
        if key[0] == "recon":
            computed[key[1], key[2]] += 1  # method, data digest
        put(key, value)

    monkeypatch.setattr(store, "put", counting)
    from explorer import controls

    built = []
    build = controls.settings_from_state
    monkeypatch.setattr(controls, "settings_from_state", lambda *args: built.append(1) or build(*args))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    # image seed 97: an image no other test of the process reconstructs
    at.query_params.update({"size": "128", "schedule": "fixed", "n": "2", "p": "3", "perturbation": "random",
                            "budget": "0.03", "image_seed": "97",
                            "show": f"{methods.ZERO_FILLED},{methods.FIRENET},{methods.CP}"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # three methods on the clean and on the perturbed data, each computed once
    assert sorted(computed.values()) == [1] * 6
    assert {method for method, _ in computed} == {methods.ZERO_FILLED, methods.FIRENET, methods.CP}
    assert len(built) == 1  # the settings are built once per run
    computed.clear()
    at.run()
    assert not at.exception and not computed and len(built) == 2


def test_the_settings_carry_the_depth_the_slider_settles_on():
    from explorer.controls import settled_depth

    stops = [5, 10, 15]
    assert settled_depth(10, stops) == 10
    assert settled_depth(None, stops) == settled_depth(0, stops) == 15  # all layers
    assert settled_depth(7, stops) == 5 and settled_depth(13, stops) == 15 and settled_depth(400, stops) == 15
