"""The README works as written: its Python runs, its names exist, it fits on a screen,
every document in docs/ is linked from it, and no pinned version is repeated in it.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PYTHON_BLOCKS = re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)


def test_the_readme_fits_on_a_screen_or_two():
    assert len(README.splitlines()) <= 150


@pytest.fixture(scope="module")
def printed() -> list[str]:
    """What each Python block of the README prints, each run once in a fresh namespace."""
    outputs = []
    for number, block in enumerate(PYTHON_BLOCKS):
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(block, f"README.md python block {number + 1}", "exec"), {})
        outputs.append(output.getvalue())
    return outputs


@pytest.mark.slow
def test_every_python_block_runs_and_prints_its_result(printed):
    assert PYTHON_BLOCKS
    assert all(output.strip() for output in printed), printed


@pytest.mark.slow
def test_the_library_example_prints_the_psnrs_the_readme_states(printed):
    shown = dict(re.findall(r"^(\w+)\s+PSNR\s+([\d.]+) dB$", printed[0], flags=re.M))
    assert shown == {"zero_filled": "31.2", "firenet": "48.8", "unet": "47.5"}
    text = " ".join(README.split())
    for label, name in (("zero-filled", "zero_filled"), ("FIRENET", "firenet"), ("the U-Net", "unet")):
        assert f"{label} {shown[name]} dB" in text
    gap = re.search(r"certified gap at its last layer: (\S+)", printed[0]).group(1)
    assert f"{gap} with " in text  # the README gives the value for one and for two torch threads


def test_every_solver_name_in_the_readme_exists_after_import_solver():
    import solver

    names = set(re.findall(r"\bsolver(?:\.[A-Za-z_]\w*)+", README))
    assert "solver.problem" in names
    for dotted in sorted(names):
        value = solver
        for part in dotted.split(".")[1:]:
            value = getattr(value, part)  # AttributeError names what is missing


def test_every_document_in_docs_is_linked_from_the_readme():
    linked = set(re.findall(r"\]\((docs/[\w.-]+\.md)\)", README))
    present = {f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md")}
    assert present <= linked, present - linked


@pytest.mark.parametrize("path", ["README.md", "scripts/setup.sh", "pyproject.toml", "Makefile"])
def test_pinned_versions_are_written_only_in_the_requirement_files(path):
    pins = {}
    for requirements in ("requirements.txt", "requirements-test.txt"):
        for line in (ROOT / requirements).read_text().splitlines():
            name, sep, version = line.split("#")[0].strip().partition("==")
            if sep:
                pins[name] = version
    assert {"torch", "numpy", "streamlit", "pytest"} <= set(pins)
    text = (ROOT / path).read_text()
    repeated = {name: version for name, version in pins.items()
                if re.search(rf"(?<![\w.]){re.escape(version)}(?![\w.])", text)}
    assert not repeated, f"{path} repeats pinned versions: {repeated}"
