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
"""

from solver.reproduce.figures import build_figures
from solver.reproduce.results import load, table

__all__ = ["build_figures", "load", "table"]
