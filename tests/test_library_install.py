"""What the library install (``pip install .``) gives: names after ``import solver`` and a
``firenet-reproduce`` command that names the ``[reproduce]`` extra when it is missing.

The extra's absence is simulated in a subprocess by setting its modules to ``None`` in
``sys.modules``, which makes their import fail as an uninstalled package's does.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

from solver.reproduce import extra

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def without(modules: list[str], code: str) -> subprocess.CompletedProcess:
    block = "".join(f"sys.modules[{name!r}] = None; " for name in modules)
    return run_python(f"import sys; {block}\n{code}")


@pytest.mark.slow
def test_every_module_of_the_package_is_an_attribute_after_import_solver():
    result = run_python("import solver, types; "
                        "print(type(solver.problem).__name__, solver.problem.problem_from_kspace.__name__, "
                        "solver.kspace.load_kspace.__name__, solver.mask_files.load_mask.__name__)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["module", "problem_from_kspace", "load_kspace", "load_mask"]
    import solver

    assert {"problem", "kspace", "mask_files", "reproduce"} <= set(dir(solver))
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        solver.no_such_name  # noqa: B018


def test_the_extra_lists_what_pyproject_installs():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    packages = {requirement.split(">")[0].split("=")[0].strip() for requirement in extras["reproduce"]}
    assert set(extra.MODULES) == packages  # each package's import name is its own name
    assert extra.missing_modules() == []  # the test environment has the extra


def test_the_command_names_the_extra_instead_of_a_traceback():
    result = without(["pandas", "dask"], "from solver.reproduce.command import main; main(['--help'])")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("firenet-reproduce: the headless experiments need the [reproduce] extra, "
                                    "and dask, pandas cannot be imported here.")
    assert "pip install '.[reproduce]'" in result.stderr


def test_python_m_solver_reproduce_says_the_same_under_its_own_name():
    result = without(["click"], "import runpy; runpy.run_module('solver.reproduce', run_name='__main__')")
    assert result.returncode == 2
    assert result.stderr.startswith("python -m solver.reproduce: the headless experiments need the "
                                    "[reproduce] extra, and click cannot be imported here.")


def test_import_solver_reproduce_works_without_the_extra_and_its_names_say_why_not():
    result = without(["pandas"], "import solver.reproduce as r\ntry:\n    r.load\n"
                                 "except ImportError as error:\n    print(error)")
    assert result.returncode == 0, result.stderr
    assert "need the [reproduce] extra, and pandas cannot be imported" in result.stdout


def test_the_console_script_points_at_a_function_that_runs_the_command(capsys):
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["firenet-reproduce"].partition(":")
    main = getattr(importlib.import_module(module), name)
    assert isinstance(main, types.FunctionType)
    with pytest.raises(SystemExit) as stopped:
        main(["--help"])
    assert stopped.value.code == 0
    shown = capsys.readouterr().out
    assert "[OPTIONS] COMMAND [ARGS]" in shown and "Reproduce the paper's experiments" in shown


def test_solver_objective_is_the_module_in_either_import_order():
    """``solver.objective`` names the module whichever way it is reached first (a package
    export of the function ``objective`` replaced the module after ``import solver``)."""
    import subprocess
    import sys

    code = ("import solver, types; first = solver.objective; import solver.objective as m; "
            "assert isinstance(first, types.ModuleType) and first is m and solver.objective is m; "
            "print(m.objective.__name__)")
    for program in (code, "import solver.objective; " + code):
        out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "objective"
