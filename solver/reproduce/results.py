"""Results of a sweep as one tidy table, its per-experiment summary table and markdown.

One row per task: the task's key, experiment, status and error, the code version, every
setting, every measured value (curves as list columns) and the task's own time. Parquet
(pyarrow) keeps the list columns and the dtypes; a ``.csv`` path is also accepted, with the
lists written as JSON text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FIRST_COLUMNS",
    "MEASURED_COLUMNS",
    "certified_gaps",
    "experiment_of",
    "load",
    "markdown_table",
    "save",
    "successful",
    "summary_markdown",
    "table",
    "to_frame",
]

#: Columns that come first in every results file.
FIRST_COLUMNS = ("task_key", "experiment", "status", "error_message", "code_version")

# Settings that say which problem a task solved: tasks agreeing on all of them share the
# data y, so their dual values bound one optimum (certified gaps).
_PROBLEM_KEYS = ("image_seed", "size", "pattern", "rate", "mask_seed", "transform", "wavelet",
                 "levels", "lam", "weights", "noise", "noise_seed")


def to_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Runner records (:class:`solver.reproduce.runner.SweepReport.records`) -> table."""
    rows = []
    for record in records:
        row = {"task_key": record["key"], "experiment": record["settings"].get("experiment"),
               "status": record["status"], "error_message": record.get("error"),
               "code_version": record.get("code_version")}
        row.update(record["settings"])
        row.update(record.get("values") or {})
        row["worker"] = record.get("worker")
        row["worker_code_version"] = record.get("worker_code_version")
        rows.append(row)
    return pd.DataFrame(rows)


def save(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the table to ``path`` (``.parquet`` or ``.csv``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, engine="pyarrow", index=False)
    elif path.suffix == ".csv":
        listy = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, (list, np.ndarray))).any()]
        out = frame.copy()
        for column in listy:
            out[column] = out[column].map(lambda v: json.dumps(list(v)) if isinstance(v, (list, np.ndarray)) else v)
        out.to_csv(path, index=False)
    else:
        raise ValueError(f"path must end in .parquet or .csv, got {str(path)!r}")
    return path


def load(path: str | Path) -> pd.DataFrame:
    """Read a results file written by :func:`save` (or by ``python -m solver.reproduce``).

    List columns (convergence curves) come back as lists of floats in either format.

    Raises
    ------
    ValueError
        If the file is not a results table: another suffix, not readable as its format,
        without the columns every results file has, not one known experiment, or
        without the measured columns of its experiment.
    FileNotFoundError
        If it does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"results file not found: {path}")
    if path.suffix not in (".parquet", ".csv"):
        raise ValueError(f"{path} is not a results table: it must end in .parquet or .csv")
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path, engine="pyarrow")
            for column in frame.columns:
                if frame[column].map(lambda v: isinstance(v, np.ndarray)).any():
                    frame[column] = frame[column].map(lambda v: v.tolist() if isinstance(v, np.ndarray) else v)
        else:
            frame = pd.read_csv(path)
            for column in frame.columns:
                if frame[column].map(lambda v: isinstance(v, str) and v.startswith("[")).all():
                    frame[column] = frame[column].map(json.loads)
    except (ValueError, OSError) as error:  # pyarrow's and pandas' parse errors are ValueErrors
        raise ValueError(f"{path} is not a results table: {type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else ''}") from None
    _check_table(frame, path)
    return frame


#: Measured columns each experiment's table and figures read.
MEASURED_COLUMNS = {
    "convergence": ("error", "psnr", "depth", "seconds", "curve_layer", "curve_error", "curve_objective",
                    "curve_dual"),
    "stability": ("perturbation", "worst_change", "random_change", "amplification", "budget"),
    "robustness": ("clean_error", "perturbed_error", "clean_psnr", "perturbed_psnr", "amplification", "budget"),
    "detail": ("contrast_ratio", "kept", "region_error", "contrast"),
    "sampling_change": ("achieved_rate", "error", "psnr", "extra", "rate"),
}


def _check_table(frame: pd.DataFrame, path: Path) -> None:
    from solver.reproduce.experiments import EXPERIMENTS

    missing = [c for c in FIRST_COLUMNS + ("method",) if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} is not a results table: it has no column {', '.join(map(repr, missing))}")
    names = frame["experiment"].dropna().unique()
    if len(names) != 1 or names[0] not in EXPERIMENTS:
        raise ValueError(f"{path} is not a results table of one experiment of {', '.join(EXPERIMENTS)}: "
                         f"its experiment column holds {[str(n) for n in names][:5]}")
    if (frame["status"] == "ok").any():
        missing = [c for c in MEASURED_COLUMNS[names[0]] if c not in frame.columns]
        if missing:
            raise ValueError(f"{path} is not a complete {names[0]} results table: it has no column "
                             f"{', '.join(map(repr, missing))}")


def successful(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows whose task finished without an error."""
    return frame[frame["status"] == "ok"]


def certified_gaps(frame: pd.DataFrame) -> pd.Series:
    """Certified relative gap ``(F(x_k) - L) / L`` per convergence row, as lists.

    ``L`` is the best dual value over all methods run on the same problem (same image,
    sampling and noise), as in :func:`solver.trace.certify`; rows without a recorded
    curve get an empty list.
    """
    from solver.trace import certify

    gaps = pd.Series([[] for _ in range(len(frame))], index=frame.index, dtype=object)
    ok = successful(frame)
    keys = [k for k in _PROBLEM_KEYS if k in ok.columns]
    for _, group in ok.groupby(keys, dropna=False):
        curves = {index: {"objective": list(row.curve_objective), "dual": list(row.curve_dual)}
                  for index, row in group.iterrows() if len(row.curve_objective)}
        for index, values in certify(curves)[0].items():
            gaps[index] = values
    return gaps


def _spread(group: pd.Series) -> tuple[float, float]:
    values = group.astype(float)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else math.nan


def _aggregate(frame: pd.DataFrame, by: Sequence[str], columns: Mapping[str, str]) -> pd.DataFrame:
    rows = []
    for keys, group in frame.groupby(list(by), sort=False):
        row = dict(zip(by, keys if isinstance(keys, tuple) else (keys,)))
        row["tasks"] = len(group)
        for column, label in columns.items():
            row[f"{label} mean"], row[f"{label} std"] = _spread(group[column])
        rows.append(row)
    return pd.DataFrame(rows)


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """The experiment's summary: mean and spread (sample std) of its main values.

    Per method (and budget, contrast or extra rate); failed tasks are left out (they are
    listed in the summary).
    """
    experiment = experiment_of(frame)
    ok = successful(frame)
    if ok.empty:
        return pd.DataFrame()
    if experiment == "convergence":
        ok = ok.assign(final_gap=[g[-1] if len(g) else math.nan for g in certified_gaps(ok)])
        return _aggregate(ok, ["method"], {"error": "error", "psnr": "PSNR", "final_gap": "certified gap",
                                           "depth": "layers", "seconds": "seconds"})
    if experiment in ("stability", "robustness"):
        columns = ({"perturbation": "||e||/||y||", "worst_change": "worst change",
                    "random_change": "random change", "amplification": "amplification"}
                   if experiment == "stability" else
                   {"clean_error": "clean error", "perturbed_error": "perturbed error",
                    "clean_psnr": "clean PSNR", "perturbed_psnr": "perturbed PSNR",
                    "amplification": "amplification"})
        return _aggregate(ok, ["method", "budget"], columns)
    if experiment == "detail":
        return _aggregate(ok.assign(kept=ok["kept"].astype(float)), ["method", "contrast"],
                          {"contrast_ratio": "contrast ratio", "kept": "kept",
                           "region_error": "region error"})
    return _aggregate(ok, ["method", "extra"], {"achieved_rate": "rate", "error": "error", "psnr": "PSNR"})


def experiment_of(frame: pd.DataFrame) -> str:
    """The one experiment a table holds (``ValueError`` for none or several)."""
    names = frame["experiment"].dropna().unique()
    if len(names) != 1:
        raise ValueError(f"frame must hold one experiment, got {list(names)}")
    return str(names[0])


def _format(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        return f"{value:.3g}" if abs(value) < 1e4 else f"{value:.3e}"
    return str(value)


def markdown_table(summary: pd.DataFrame) -> str:
    """A summary table in markdown, ``mean ± std`` in one cell."""
    if summary.empty:
        return "(no successful task)\n"
    labels = []
    for column in summary.columns:
        if column.endswith(" std"):
            continue
        labels.append(column.removesuffix(" mean"))
    lines = ["| " + " | ".join(labels) + " |", "|" + "---|" * len(labels)]
    for _, row in summary.iterrows():
        cells = []
        for column in summary.columns:
            if column.endswith(" std"):
                continue
            cell = _format(row[column])
            if column.endswith(" mean"):
                spread = row[column[:-5] + " std"]
                if not (isinstance(spread, float) and math.isnan(spread)):
                    cell += f" ± {_format(spread)}"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def summary_markdown(frame: pd.DataFrame, *, command: str = "", figures: Sequence[str] = (),
                     notes: Sequence[str] = (), wall_seconds: float | None = None) -> str:
    """A short markdown report: the command, the shared settings, the table, the figures,
    the cost and any failed task."""
    experiment = experiment_of(frame)
    lines = [f"# {experiment.replace('_', ' ').capitalize()}", ""]
    if command:
        lines += ["```", command, "```", ""]
    shared = {c: frame[c].iloc[0] for c in frame.columns
              if c not in FIRST_COLUMNS + ("worker", "seconds", "method")
              and not frame[c].map(lambda v: isinstance(v, (list, np.ndarray))).any()
              and frame[c].map(repr).nunique() == 1}
    settings = ", ".join(f"{k} = {_format(v)}" for k, v in shared.items()
                         if k in _SETTING_NAMES and v is not None and not (isinstance(v, float) and math.isnan(v)))
    failed = frame[frame["status"] != "ok"]
    lines += [f"{len(frame)} tasks ({len(failed)} failed), code version {frame['code_version'].iloc[0]}.",
              f"Shared settings: {settings}.", "", markdown_table(table(frame))]
    cost = f"Task time {frame['seconds'].astype(float).sum():.1f} s in all"
    if wall_seconds is not None:
        cost += f"; this run took {wall_seconds:.1f} s of wall time"
    lines += [cost + ".", ""]
    lines += [f"- {note}" for note in notes]
    if notes:
        lines.append("")
    for name in figures:
        lines.append(f"![{Path(name).stem}]({name})")
    if len(failed):
        lines += ["", "## Failed tasks", ""]
        for _, row in failed.iterrows():
            message = row["error_message"]
            first = str(message).splitlines()[0] if isinstance(message, str) and message else "unknown error"
            lines.append(f"- `{row['task_key']}` ({row.get('method', '')}): {first}")
    return "\n".join(lines).rstrip() + "\n"


_SETTING_NAMES = {"preset", "size", "pattern", "rate", "mask_seed", "transform", "wavelet", "levels", "lam",
                  "weights", "noise", "noise_seed", "steps", "lr", "momentum", "mu", "random_trials",
                  "budget", "text", "extra_pattern", "iterations"}
