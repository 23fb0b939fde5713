"""What the ``[reproduce]`` extra installs, and a clear message where it is missing.

``pip install .`` in a clone installs the solver alone; the
sweeps also need Dask, click, pandas, pyarrow, plotly and kaleido, which the extra
``firenet-explorer[reproduce]`` (or ``requirements.txt``) brings. Without them the command
and ``solver.reproduce``'s names say which to install instead of raising
``ModuleNotFoundError`` from deep inside an import.
"""

from __future__ import annotations

import importlib.util

__all__ = ["MODULES", "missing_modules", "require"]

#: The modules the ``[reproduce]`` extra provides (pyproject.toml lists their packages).
MODULES = ("dask", "distributed", "click", "pandas", "pyarrow", "plotly", "kaleido")


def missing_modules() -> list[str]:
    """The modules of :data:`MODULES` that cannot be imported here, in that order."""
    return [name for name in MODULES if importlib.util.find_spec(name) is None]


def require() -> None:
    """Raise ``ImportError`` naming the extra when one of its modules is missing.

    Raises
    ------
    ImportError
        If a module of :data:`MODULES` is not installed; the message names the missing
        modules and the command that installs them.
    """
    missing = missing_modules()
    if missing:
        raise ImportError(
            f"the headless experiments need the [reproduce] extra, and {', '.join(missing)} "
            "cannot be imported here. Install it from the clone with: pip install '.[reproduce]' "
            "(or pip install -r requirements.txt, which has it)")
