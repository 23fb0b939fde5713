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

from solver.methods import FIRENET, FIRENET_5X5, FIRENET_PAPER, UNET
from solver.reproduce.experiments import PROBLEM_KEYS

__all__ = [
    "FIRST_COLUMNS",
    "MAX_RESULTS_BYTES",
    "MAX_RESULTS_ROWS",
    "check_schema",
    "MEASURED_COLUMNS",
    "CLAIMED_DECADES",
    "CLAIMED_METHOD",
    "certified_gaps",
    "convergence_claim",
    "detail_claim",
    "robustness_claim",
    "sampling_claim",
    "stability_claim",
    "experiment_of",
    "load",
    "markdown_table",
    "optimum_gaps",
    "save",
    "successful",
    "summary_markdown",
    "table",
    "to_frame",
]

#: Columns that come first in every results file.
FIRST_COLUMNS = ("task_key", "experiment", "status", "error_message", "code_version")



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


#: Largest results file read (bytes on disk), and largest uncompressed data of the columns
#: read (parquet metadata) or CSV file: a results table is data from outside.
MAX_RESULTS_BYTES = 128 * 2**20
#: Most rows (tasks) a results file may have.
MAX_RESULTS_ROWS = 200_000

# What each experiment's table and figures read: numbers per task, and curves (lists of
# numbers) for convergence. Every file must have these for its experiment.
_COMMON_COLUMNS = ("experiment", "status", "method")
_NUMBERS = {
    "convergence": ("error", "psnr", "depth", "seconds", "image_seed"),
    "stability": ("budget", "perturbation", "worst_change", "random_change", "amplification"),
    "robustness": ("budget", "clean_error", "perturbed_error", "clean_psnr", "perturbed_psnr",
                   "amplification"),
    "detail": ("contrast", "contrast_ratio", "kept", "region_error"),
    "sampling_change": ("extra", "achieved_rate", "error", "psnr", "rate"),
}
_CURVES = {"convergence": ("curve_layer", "curve_error", "curve_objective", "curve_dual")}
# Read when present: the convergence reference optimum and the worker's code version.
_OPTIONAL = {"reference_objective", "reference_bound", "worker_code_version"}


def _needed(experiment: str) -> set[str]:
    return (set(FIRST_COLUMNS) | set(_COMMON_COLUMNS) | set(_NUMBERS[experiment])
            | set(_CURVES.get(experiment, ())) | set(PROBLEM_KEYS) | _SETTING_NAMES | {"seconds", "worker"} | _OPTIONAL)


def _experiment_name(values: Iterable[Any], path: Path) -> str:
    from solver.reproduce.experiments import EXPERIMENTS

    names = sorted({str(v) for v in values if isinstance(v, str)})
    if len(names) != 1:
        raise ValueError(f"{path}: a results file holds one experiment, this one {names[:5]}")
    if names[0] not in EXPERIMENTS:
        raise ValueError(f"{path}: unknown experiment {names[0][:80]!r} (known: {', '.join(EXPERIMENTS)})")
    return names[0]


def _read_parquet(path: Path, needed_only: bool, max_bytes: int, max_rows: int) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
        names = handle.schema_arrow.names
        rows = handle.metadata.num_rows
    except Exception as error:  # noqa: BLE001 - pyarrow raises ArrowInvalid, OSError, ...
        raise ValueError(f"{path}: not a readable parquet file ({str(error)[:200]})") from None
    if rows > max_rows:
        raise ValueError(f"{path}: {rows:,} rows, more than the {max_rows:,} read")
    if "experiment" not in names:
        raise ValueError(f"{path} is not a results table (it has no 'experiment' column)")
    try:
        experiment = _experiment_name(handle.read(columns=["experiment"]).column(0).to_pylist(), path)
    except ValueError:
        raise
    except Exception as error:  # noqa: BLE001
        raise ValueError(f"{path}: its 'experiment' column cannot be read ({str(error)[:200]})") from None
    columns = [c for c in names if c in _needed(experiment)] if needed_only else list(names)
    metadata = handle.metadata
    size = sum(metadata.row_group(g).column(i).total_uncompressed_size
               for g in range(metadata.num_row_groups) for i in range(metadata.num_columns)
               if metadata.row_group(g).column(i).path_in_schema.split(".")[0] in columns)
    if size > max_bytes:
        raise ValueError(f"{path}: its columns hold {size:,} bytes uncompressed, more than the "
                         f"{max_bytes:,} read")
    try:
        frame = handle.read(columns=columns).to_pandas()
    except Exception as error:  # noqa: BLE001 - ArrowInvalid, ArrowMemoryError, ...
        raise ValueError(f"{path}: the table cannot be read ({str(error)[:200]})") from None
    for column in frame.columns:
        if frame[column].map(lambda v: isinstance(v, np.ndarray)).any():
            frame[column] = frame[column].map(lambda v: v.tolist() if isinstance(v, np.ndarray) else v)
    return frame


def _read_csv(path: Path, needed_only: bool, max_bytes: int, max_rows: int) -> pd.DataFrame:
    if path.stat().st_size > max_bytes:
        raise ValueError(f"{path}: {path.stat().st_size:,} bytes, more than the {max_bytes:,} read")
    try:
        names = list(pd.read_csv(path, nrows=0).columns)
        if "experiment" not in names:
            raise ValueError(f"{path} is not a results table (it has no 'experiment' column)")
        experiment = _experiment_name(pd.read_csv(path, usecols=["experiment"], nrows=max_rows + 1,
                                                  dtype=str)["experiment"], path)
        columns = [c for c in names if c in _needed(experiment)] if needed_only else names
        frame = pd.read_csv(path, usecols=columns, nrows=max_rows + 1)
    except ValueError:
        raise
    except Exception as error:  # noqa: BLE001 - ParserError, UnicodeDecodeError, ...
        raise ValueError(f"{path}: not a readable CSV table ({str(error)[:200]})") from None
    if len(frame) > max_rows:
        raise ValueError(f"{path}: more than the {max_rows:,} rows read")
    for column in frame.columns:
        if frame[column].map(lambda v: isinstance(v, str) and v.startswith("[")).all():
            try:
                frame[column] = frame[column].map(json.loads)
            except ValueError:
                raise ValueError(f"{path}: column {column!r} holds lists that are not JSON") from None
    return frame


def check_schema(frame: pd.DataFrame, where: str = "results table") -> str:
    """Check that a results table has what its experiment's table and figures read.

    One known experiment; the columns ``experiment``, ``status`` and ``method``; in the
    rows whose status is ``"ok"``, a known method, and the experiment's value columns as
    numbers (curves as lists of numbers).

    Parameters
    ----------
    frame : pd.DataFrame
    where : str
        Names the table in messages.

    Returns
    -------
    str
        The experiment.

    Raises
    ------
    ValueError
        Naming the first column that is missing or holds something else.
    """
    from solver.methods import sweep_names

    if "experiment" not in frame.columns:
        raise ValueError(f"{where} is not a results table (it has no 'experiment' column)")
    experiment = _experiment_name(frame["experiment"].dropna(), Path(where))
    required = (*_COMMON_COLUMNS, *_NUMBERS[experiment], *_CURVES.get(experiment, ()))
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"{where}: a {experiment} table needs the columns {', '.join(missing)}")
    ok = frame[frame["status"] == "ok"]
    unknown = sorted({str(m)[:40] for m in ok["method"] if m not in sweep_names()})
    if unknown:
        raise ValueError(f"{where}: unknown methods {unknown[:5]}")
    for column in _NUMBERS[experiment]:
        values = ok[column]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            if not values.map(lambda v: isinstance(v, (int, float, bool, np.number))).all():
                raise ValueError(f"{where}: column {column!r} must hold numbers")
    for column in _CURVES.get(experiment, ()):
        def is_curve(value: Any) -> bool:
            return isinstance(value, (list, tuple, np.ndarray)) and all(
                isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in value)

        if not ok[column].map(is_curve).all():
            raise ValueError(f"{where}: column {column!r} must hold lists of numbers")
    return experiment


def load(path: str | Path, *, needed_only: bool = False, max_bytes: int = MAX_RESULTS_BYTES,
         max_rows: int = MAX_RESULTS_ROWS) -> pd.DataFrame:
    """Read a results file written by :func:`save` (or by ``python -m solver.reproduce``).

    The file is from outside: its size, its row count and (parquet) the uncompressed size
    of the columns read are checked from its metadata before the data are read, and the
    table is checked against its experiment's schema (:func:`check_schema`). List
    columns (convergence curves) come back as lists of floats in either format.

    Parameters
    ----------
    path : str or Path
        A ``.parquet`` or ``.csv`` file.
    needed_only : bool, keyword-only
        Read only the columns the summary table, the figures and the summary's settings
        use (the page's choice); default every column.
    max_bytes, max_rows : int, keyword-only
        The caps (:data:`MAX_RESULTS_BYTES`, :data:`MAX_RESULTS_ROWS`).

    Raises
    ------
    ValueError
        If the file is too large, not a results table of one known experiment, lacks a
        column its experiment needs or holds something else there, or has another suffix.
    FileNotFoundError
        If it does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"results file not found: {path}")
    if path.suffix not in (".parquet", ".csv"):
        raise ValueError(f"path must end in .parquet or .csv, got {str(path)!r}")
    if path.stat().st_size > max_bytes:
        raise ValueError(f"{path}: {path.stat().st_size:,} bytes, more than the {max_bytes:,} read")
    reader = _read_parquet if path.suffix == ".parquet" else _read_csv
    frame = reader(path, needed_only, max_bytes, max_rows)
    check_schema(frame, str(path))
    return frame


#: Measured columns each experiment's table and figures read.
#: The measured columns each experiment's results must have (numbers, and curves).
MEASURED_COLUMNS = {name: (*numbers, *_CURVES.get(name, ())) for name, numbers in _NUMBERS.items()}


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
    # Tasks agreeing on the problem's settings share the data y, so their dual values
    # bound one optimum.
    keys = [k for k in PROBLEM_KEYS if k in ok.columns]
    for _, group in ok.groupby(keys, dropna=False):
        curves = {index: {"objective": list(row.curve_objective), "dual": list(row.curve_dual)}
                  for index, row in group.iterrows() if len(row.curve_objective)}
        for index, values in certify(curves)[0].items():
            gaps[index] = values
    return gaps


def optimum_gaps(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Relative gap to the optimum ``(F(x_k) - F*) / F*`` per convergence row, as lists, and
    how well ``F*`` is known.

    ``F*`` is the lowest objective found on the problem: by its long reference run
    (:data:`solver.reproduce.experiments.REFERENCE_LAYERS` layers of the adaptive FIRENET)
    or by any method run on it. ``L``, the best dual value of all of them, certifies
    ``L <= F* (true) <= F*``, so gaps below ``(F* - L) / L`` (the second series, one
    number per row) are not resolved. Gaps are floored at :data:`solver.trace.GAP_FLOOR`.

    Returns
    -------
    gaps : pandas.Series of lists
        Empty for rows without a curve or a reference.
    resolution : pandas.Series of float
        ``(F* - L) / L`` of each row's problem (nan without a reference).
    """
    from solver.trace import GAP_FLOOR

    gaps = pd.Series([[] for _ in range(len(frame))], index=frame.index, dtype=object)
    resolution = pd.Series(math.nan, index=frame.index, dtype=float)
    ok = successful(frame)
    if "reference_objective" not in ok.columns:
        return gaps, resolution
    keys = [k for k in PROBLEM_KEYS if k in ok.columns]
    for _, group in ok.groupby(keys, dropna=False):
        optimum = min([float(v) for v in group["reference_objective"]]
                      + [min(c) for c in group["curve_objective"] if len(c)])
        bound = max([float(v) for v in group["reference_bound"] if math.isfinite(float(v))]
                    + [d for c in group["curve_dual"] for d in c if math.isfinite(d)], default=math.nan)
        for index, row in group.iterrows():
            gaps[index] = [max((f - optimum) / optimum, GAP_FLOOR) for f in row.curve_objective]
            resolution[index] = max((optimum - bound) / bound, GAP_FLOOR) if bound > 0 else math.nan
    return gaps, resolution


#: The method whose convergence the paper claims: the page's FIRENET, and the decades its
#: gap must fall by for the claim to count as reproduced.
CLAIMED_METHOD = FIRENET
CLAIMED_DECADES = 3.0


def convergence_claim(frame: pd.DataFrame) -> str:
    """One sentence: did the paper's exponential convergence of FIRENET show, from the numbers.

    The median over images of the page's FIRENET's gap to the optimum
    (:func:`optimum_gaps`) from its first recorded layer to its last, in decades, against
    :data:`CLAIMED_DECADES`, beside the other methods' final gaps.
    """
    ok = successful(frame)
    gaps, resolution = optimum_gaps(ok)
    ok = ok.assign(gap=gaps)
    ours = ok[(ok["method"] == CLAIMED_METHOD) & (ok["gap"].map(len) > 0)]
    if ours.empty:
        return (f"The paper's claim (FIRENET's gap falls exponentially with depth) was not tested: no "
                f"successful '{CLAIMED_METHOD}' run with a reference optimum.")
    first = float(np.median([g[0] for g in ours["gap"]]))
    last = float(np.median([g[-1] for g in ours["gap"]]))
    depth = int(ours["depth"].max())
    decades = math.log10(first / last)
    others = ", ".join(f"{m} {float(np.median([g[-1] for g in group['gap']])):.2g}"
                       for m, group in ok[ok["gap"].map(len) > 0].groupby("method", sort=False)
                       if m != CLAIMED_METHOD)
    verdict = "Reproduced" if decades >= CLAIMED_DECADES else "Not reproduced"
    return (f"{verdict}: the page's FIRENET's gap to the optimum fell {decades:.1f} decades (from {first:.2g} "
            f"at its first layer to {last:.2g} at layer {depth}, median over {ours['image_seed'].nunique()} "
            f"images; the claim needs {CLAIMED_DECADES:g}, the optimum is resolved to "
            f"{float(np.nanmax(resolution.to_numpy())):.1g}); final gaps of the others: {others}.")


_FIRENETS = (FIRENET, FIRENET_PAPER, FIRENET_5X5)


def _per_method(ok: pd.DataFrame, column: str) -> dict[str, float]:
    return {m: float(v) for m, v in ok.groupby("method", sort=False)[column].mean().items()}


def _versus(ok: pd.DataFrame, column: str, claim: str, unet_worse: str) -> str:
    """Compare the U-Net with every FIRENET variant on ``column`` (mean over tasks): the
    claim reproduced when the U-Net's value is above all of them."""
    values = _per_method(ok, column)
    firenets = {m: v for m, v in values.items() if m in _FIRENETS}
    if UNET not in values or not firenets:
        return f"The paper's claim ({claim}) was not tested: it needs the U-Net and a FIRENET."
    reproduced = all(values[UNET] > v for v in firenets.values())
    shown = ", ".join(f"{m} {v:.3g}" for m, v in values.items())
    return (f"{'Reproduced' if reproduced else 'Not reproduced'} ({claim}): the U-Net's mean {unet_worse} is "
            f"{values[UNET]:.3g}, {'above' if reproduced else 'not above'} every FIRENET's ({shown}).")


def stability_claim(frame: pd.DataFrame) -> str:
    """One sentence: is the U-Net's worst-case amplification above every FIRENET's."""
    return _versus(successful(frame), "amplification",
                   "a worst-case perturbation changes the trained U-Net more, for its size, than FIRENET",
                   "worst-case amplification ||f(y+e) - f(y)|| / ||e|| (relative)")


def robustness_claim(frame: pd.DataFrame) -> str:
    """One sentence: does the U-Net's error grow more under attack than every FIRENET's."""
    ok = successful(frame)
    ok = ok.assign(growth=ok["perturbed_error"].astype(float) / ok["clean_error"].astype(float))
    return _versus(ok, "growth", "a worst-case perturbation in the budget hurts the U-Net more than FIRENET",
                   "error growth (perturbed / unperturbed error)")


def detail_claim(frame: pd.DataFrame) -> str:
    """One sentence: does FIRENET keep more of the detail's contrast than the U-Net."""
    ok = successful(frame)
    ok = ok.assign(loss=1.0 - ok["contrast_ratio"].astype(float))
    return _versus(ok, "loss", "the U-Net loses a small detail FIRENET keeps",
                   "lost contrast (1 - recovered / inserted)")


def sampling_claim(frame: pd.DataFrame) -> str:
    """One sentence: do more samples make the U-Net worse and FIRENET better."""
    ok = successful(frame)
    claim = "more samples make the U-Net worse and FIRENET better"
    low, high = ok["extra"].min(), ok["extra"].max()
    at = {e: _per_method(ok[ok["extra"] == e], "error") for e in (low, high)}
    firenets = [m for m in at[low] if m in _FIRENETS and m in at[high]]
    if low == high or UNET not in at[low] or UNET not in at[high] or not firenets:
        return f"The paper's claim ({claim}) was not tested: it needs the U-Net, a FIRENET and two extra rates."
    reproduced = at[high][UNET] > at[low][UNET] and all(at[high][m] < at[low][m] for m in firenets)
    shown = ", ".join(f"{m} {at[low][m]:.3g} -> {at[high][m]:.3g}" for m in [UNET, *firenets])
    return (f"{'Reproduced' if reproduced else 'Not reproduced'} ({claim}): mean error from extra {low:g} to "
            f"{high:g}: {shown}.")


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
        ok = ok.assign(final_gap=[g[-1] if len(g) else math.nan for g in certified_gaps(ok)],
                       optimum_gap=[g[-1] if len(g) else math.nan for g in optimum_gaps(ok)[0]])
        return _aggregate(ok, ["method"], {"error": "error", "psnr": "PSNR", "optimum_gap": "gap to optimum",
                                           "final_gap": "certified gap", "depth": "layers",
                                           "seconds": "seconds"})
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
              f"Shared settings: {settings}.", ""]
    if experiment in _CLAIMS and not successful(frame).empty:
        lines += [f"**The paper's claim.** {_CLAIMS[experiment](frame)}", ""]
    lines += [markdown_table(table(frame))]
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


#: Experiment -> the sentence saying whether its paper claim reproduced.
_CLAIMS = {"convergence": convergence_claim, "stability": stability_claim, "robustness": robustness_claim,
           "detail": detail_claim, "sampling_change": sampling_claim}

_SETTING_NAMES = {"preset", "size", "pattern", "rate", "mask_seed", "transform", "wavelet", "levels", "lam",
                  "weights", "noise", "noise_seed", "steps", "lr", "momentum", "mu", "random_trials", "on_budget",
                  "budget", "text", "extra_pattern", "iterations"}
