"""The README works as written: its Python example passes as a doctest (the outputs it
shows are the outputs it gives), its names exist, it fits on a screen or two, every
document in docs/ is linked from it, and no pinned version is repeated in it.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
# Python examples are interactive sessions (```pycon): doctest checks what they print.
SESSIONS = [(README.count("\n", 0, match.start(1)), match.group(1))
            for match in re.finditer(r"^```pycon\n(.*?)^```", README, flags=re.S | re.M)]


def test_the_readme_fits_on_a_screen_or_two():
    assert len(README.splitlines()) <= 150


def test_every_python_example_is_a_session_doctest_can_check():
    assert "```python" not in README  # a plain block would run unchecked
    assert SESSIONS


@pytest.fixture(scope="module")
def doctest_reports() -> list[tuple[doctest.TestResults, str]]:
    """Each session of the README run by doctest in a fresh namespace, with one torch thread
    (the outputs shown are one thread's; the suite's conftest sets it, this says so here)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    reports = []
    try:
        for line, session in SESSIONS:
            test = doctest.DocTestParser().get_doctest(session, {}, f"README.md line {line + 1}", "README.md", line)
            report = []
            runner = doctest.DocTestRunner()
            runner.run(test, out=report.append)
            reports.append((runner.summarize(verbose=False), "".join(report)))
    finally:
        torch.set_num_threads(threads)
    return reports


@pytest.mark.slow
def test_every_session_prints_what_the_readme_shows(doctest_reports):
    for (failed, attempted), report in doctest_reports:
        assert attempted and not failed, report


def test_the_library_example_shows_every_psnr_and_the_certified_gap():
    """The outputs doctest compares against are there: a PSNR per method and the gap."""
    examples = doctest.DocTestParser().get_examples(SESSIONS[0][1])
    shown = "".join(example.want for example in examples)
    psnrs = dict(re.findall(r"^(\w+)\s+PSNR\s+([\d.]+) dB$", shown, flags=re.M))
    assert set(psnrs) == {"zero_filled", "firenet", "unet"}
    assert re.search(r"^FIRENET's certified gap at its last layer: \de-0\d$", shown, flags=re.M)


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
