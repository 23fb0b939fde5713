"""One experiment end to end: plan the tasks, run them, write the table, figures, summary.

Output directory layout::

    OUT/tasks/<key>.json     one result file per task (what a resumed sweep reuses)
    OUT/results.parquet      the tidy table, one row per task
    OUT/figures/<name>.png   and .svg
    OUT/summary.md           the command, the shared settings, the table, the figures
    OUT/run.json             the command and wall time of the run (kept when the figures
                             are exported again)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from solver.reproduce import experiments, results
from solver.reproduce.runner import SweepReport, run_tasks

__all__ = ["RUN_RECORD", "ExperimentOutput", "check_output_folder", "read_run_record", "run_experiment",
           "write_outputs"]

#: The file beside the results that keeps the run's command and wall time.
RUN_RECORD = "run.json"


def check_output_folder(directory: str | Path) -> Path:
    """Make sure ``directory`` is a folder this process can write, before any task runs.

    It is created if missing; a file is written there and removed again. So a path
    under a file (``afile.txt/sub``), in ``/proc`` or without permission fails at once,
    not when the first finished task is to be saved (and lost).

    Raises
    ------
    ValueError
        Naming the folder and why it cannot be written.
    """
    import tempfile

    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            raise NotADirectoryError(f"{folder} is not a folder")
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as error:
        raise ValueError(f"out: {str(folder)!r} is not a writable folder ({error.strerror or error})") from None
    return folder


@dataclass
class ExperimentOutput:
    """What :func:`run_experiment` wrote.

    Attributes
    ----------
    frame : pandas.DataFrame
        The results table.
    report : SweepReport or None
        Computed, reused and failed counts and times (None when only re-exported).
    results_path, summary_path : Path
    figure_paths : list of Path
        PNG and SVG files (empty when export was switched off or failed).
    notes : list of str
        E.g. why the figures could not be exported.
    """

    frame: pd.DataFrame
    report: SweepReport | None
    results_path: Path
    summary_path: Path
    figure_paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_run_record(directory: str | Path) -> dict[str, Any]:
    """The command and wall time of the run that wrote ``directory`` (empty if unknown).

    Returns
    -------
    dict
        ``{"command": str, "wall_seconds": float or None}``, or ``{}`` when the file is
        missing or is not such a record.
    """
    try:
        record = json.loads((Path(directory) / RUN_RECORD).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict) or not isinstance(record.get("command"), str):
        return {}
    seconds = record.get("wall_seconds")
    valid_seconds = (isinstance(seconds, (int, float)) and not isinstance(seconds, bool)
                     and math.isfinite(seconds) and seconds >= 0)
    return {"command": record["command"], "wall_seconds": float(seconds) if valid_seconds else None}


def write_outputs(frame: pd.DataFrame, out: str | Path, *, figures: bool = True, browser: str | None = None,
                  command: str = "", wall_seconds: float | None = None,
                  results_name: str = "results.parquet") -> ExperimentOutput:
    """Write the table, the figures (PNG and SVG) and the summary of one experiment.

    A figure export failure is not fatal: it is noted in the summary and the returned notes.
    A ``command`` is kept in ``out/run.json`` with ``wall_seconds``, for a later export
    (:func:`read_run_record`).
    """
    from solver.reproduce.figures import (
        FigureExportError,
        build_figures,
        export_figures,
    )

    out = Path(out)
    results_path = results.save(frame, out / results_name)
    notes: list[str] = []
    paths: list[Path] = []
    if figures and not results.successful(frame).empty:
        try:
            paths = export_figures(build_figures(frame), out / "figures", browser=browser)
        except FigureExportError as error:
            notes.append(f"Figures not exported: {error}")
    elif figures:
        notes.append("No figures: no task succeeded.")
    summary = results.summary_markdown(
        frame, command=command, figures=[str(p.relative_to(out)) for p in paths if p.suffix == ".png"],
        notes=notes, wall_seconds=wall_seconds)
    summary_path = out / "summary.md"
    summary_path.write_text(summary)
    if command:
        (out / RUN_RECORD).write_text(json.dumps({"command": command, "wall_seconds": wall_seconds}) + "\n")
    return ExperimentOutput(frame, None, results_path, summary_path, paths, notes)


def run_experiment(
    experiment: str,
    preset: str = "small",
    out: str | Path | None = None,
    *,
    images: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    client: Any = None,
    scheduler: str | None = None,
    workers: int = 2,
    threads: int = 1,
    progress: bool = True,
    figures: bool = True,
    browser: str | None = None,
    command: str = "",
) -> ExperimentOutput:
    """Plan, run (resuming from ``out/tasks``) and write one experiment.

    Parameters
    ----------
    experiment : str
        One of :data:`solver.reproduce.experiments.EXPERIMENTS`.
    preset : {"small", "full"}
    out : str or Path, optional
        Output directory (default ``results/<experiment>-<preset>``).
    images : int, optional
        Number of test images instead of the preset's.
    overrides : mapping, optional
        Settings replacing the preset's (:func:`solver.reproduce.experiments.plan`).
    client, scheduler, workers, threads, progress
        As in :func:`solver.reproduce.runner.run_tasks`.
    figures : bool, default True
        Export PNG and SVG figures.
    browser : str, optional
        Chromium for the export (default ``$BROWSER_PATH`` or the system's).
    command : str
        The command line, quoted in the summary.

    Returns
    -------
    ExperimentOutput
    """
    tasks = experiments.plan(experiment, preset, images=images, overrides=overrides)
    out = Path(out) if out is not None else Path("results") / f"{experiment.replace('_', '-')}-{preset}"
    report = run_tasks(tasks, out, client=client, scheduler=scheduler, workers=workers, threads=threads,
                       progress=progress)
    frame = results.to_frame(report.records)
    output = write_outputs(frame, out, figures=figures, browser=browser, command=command,
                           wall_seconds=report.wall_seconds)
    output.report = report
    return output
