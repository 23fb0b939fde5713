"""Headless reproduction of the paper's experiments, as Dask sweeps with resumable tasks.

Command line: ``python -m solver.reproduce --help``. For the page or a notebook, a results
file is shown without recomputing::

    from solver.reproduce import load, table, build_figures
    frame = load("results/stability-small/results.parquet")
    summary = table(frame)              # pandas DataFrame: mean and std per method
    figures = build_figures(frame)      # name -> plotly Figure

Modules: :mod:`~solver.reproduce.experiments` (tasks and presets),
:mod:`~solver.reproduce.runner` (Dask, task keys, result files),
:mod:`~solver.reproduce.results` (the table, summary), :mod:`~solver.reproduce.figures`
(plotly figures and their export), :mod:`~solver.reproduce.sweep` (one experiment end to end).

Needs the ``[reproduce]`` extra (:mod:`~solver.reproduce.extra`); the names below are
imported when first used, so that without it they raise an ``ImportError`` naming the
extra, and ``import solver.reproduce`` itself always works.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["build_figures", "load", "table"]

#: Public name -> the module that defines it.
_EXPORTS = {"build_figures": "figures", "load": "results", "table": "results"}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'solver.reproduce' has no attribute {name!r}")
    from solver.reproduce.extra import require

    require()
    value = getattr(importlib.import_module(f"solver.reproduce.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
