"""The code version of the numerics, as the client and every Dask worker compute it.

A sweep's task keys carry the client's code version, and every task's record carries the
version of the worker that computed it: a worker whose solver source (or torch or numpy)
differs from the client's computes other numbers under the same settings, so the runner
refuses its rows (:mod:`solver.reproduce.runner`).

The digest covers every ``*.py`` file of the ``solver`` package except the presentation
files of this package (command line, tables, figures, cost estimates), whose edits change
no number.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__all__ = ["PRESENTATION_FILES", "code_version", "package_folder", "worker_state"]

_SOLVER = Path(__file__).resolve().parent.parent

#: Files of ``solver/reproduce`` that change no number: editing them keeps the task keys
#: and the workers' agreement.
PRESENTATION_FILES = frozenset({"__init__.py", "__main__.py", "cli.py", "costs.py", "figures.py", "results.py",
                                "runner.py", "settings.py", "sweep.py", "version.py"})


@functools.cache
def code_version() -> str:
    """A short hash of the numerics' source and of the torch and numpy versions.

    Computed once per process, from the files as they were at the first call (close to
    the modules the process imported), so a long-lived worker reports the code it runs.

    Returns
    -------
    str
        12 hex digits.
    """
    import numpy
    import torch

    digest = hashlib.sha256(f"torch {torch.__version__} numpy {numpy.__version__}".encode())
    for path in sorted(_SOLVER.rglob("*.py")):
        relative = path.relative_to(_SOLVER)
        if relative.parts[0] == "reproduce" and relative.name in PRESENTATION_FILES:
            continue
        digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def package_folder() -> str:
    """Where the ``solver`` package of this process lives (a scheduler's import check:
    unpickling this function imports the package, computing it needs no torch)."""
    return str(_SOLVER)


def worker_state() -> dict[str, str]:
    """What a worker reports before it gets tasks: its code version and where it runs from.

    Returns
    -------
    dict
        ``{"code_version": str, "solver": str}`` (the package's folder on the worker).
    """
    return {"code_version": code_version(), "solver": str(_SOLVER)}
