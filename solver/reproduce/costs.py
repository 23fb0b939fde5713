"""CPU time of a sweep estimated from measured per-task costs (what ``--dry-run`` prints).

``benchmarks/bench_reproduce.py --full-cost --write`` times one task per kind of task,
method and size of every preset (with one torch thread) and writes
``solver/reproduce/task_costs.json``. A task's cost is modelled as a fixed part (the
problem, the network, the metrics) plus a part proportional to its *work*: the network's
depth (layers, or iterations), times the passes of a worst-case search (its steps, plus
the clean pass and the random trials). Both parts come from timing each task at two
amounts of work; for a size that was not measured, the nearest measured size's costs are
scaled by ``(N / N0)^2`` (every layer transforms an N x N image), which overestimates
small sizes, where the per-layer bookkeeping dominates. A convergence sweep adds each
image's reference run (:data:`solver.reproduce.experiments.REFERENCE_LAYERS` layers of
FIRENET at most) once; a worker that gets tasks of an image it has not seen runs it again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solver.methods import FIRENET

__all__ = ["COSTS_FILE", "Estimate", "estimate", "kind", "load_costs", "work"]

#: The measured costs shipped with the package.
COSTS_FILE = Path(__file__).resolve().parent / "task_costs.json"

_KINDS = {"convergence": "convergence", "stability": "attack", "robustness": "attack", "detail": "detail",
          "sampling_change": "sampling_change"}


def kind(task: Mapping[str, Any]) -> str:
    """What a task computes, as far as its cost goes (an attack costs the same in the
    stability and the robustness sweeps)."""
    return _KINDS[task["experiment"]]


def work(task: Mapping[str, Any]) -> float:
    """Units of work of one task: network depth times passes through it (see module)."""
    if task.get("restarts"):
        depth = task["restarts"] * task["layers"]
    elif task.get("iterations"):
        depth = task["iterations"]
    else:
        depth = 1
    if kind(task) == "attack":
        return depth * (task["steps"] + 1 + task["random_trials"])
    return float(depth)


@dataclass(frozen=True)
class Estimate:
    """Estimated CPU time of a list of tasks.

    Attributes
    ----------
    cpu_seconds : float
        Sum over the tasks with a measured cost for their kind and method, and the
        convergence sweeps' reference runs.
    unknown : int
        Tasks without one (not in the sum).
    """

    cpu_seconds: float
    unknown: int


def load_costs(path: str | Path = COSTS_FILE) -> list[dict[str, Any]]:
    """The measured entries: ``kind``, ``method``, ``size``, ``cpu_seconds_fixed`` and
    ``cpu_seconds_per_unit``.

    Raises
    ------
    ValueError
        If the file is not a list of such entries (every field checked).
    """
    try:
        entries = json.loads(Path(path).read_text())["entries"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"costs file {path} is not readable as measured task costs: {error}") from None
    checked = []
    for entry in entries if isinstance(entries, list) else [None]:
        valid = (isinstance(entry, dict) and isinstance(entry.get("kind"), str)
                 and isinstance(entry.get("method"), str) and isinstance(entry.get("size"), int)
                 and all(isinstance(entry.get(k), (int, float)) and math.isfinite(entry[k]) and entry[k] >= 0
                         for k in ("cpu_seconds_fixed", "cpu_seconds_per_unit")))
        if not valid:
            raise ValueError(f"costs file {path} has an entry that is not a measured task cost: {entry!r}")
        checked.append(entry)
    return checked


def estimate(tasks: Sequence[Mapping[str, Any]], entries: Sequence[Mapping[str, Any]] | None = None) -> Estimate:
    """CPU seconds of ``tasks`` (one torch thread each) from measured per-task costs.

    Parameters
    ----------
    tasks : sequence of mapping
        Planned tasks (:func:`solver.reproduce.experiments.plan`).
    entries : sequence of mapping, optional
        Measured costs (default :func:`load_costs` of :data:`COSTS_FILE`).

    Returns
    -------
    Estimate
    """
    entries = load_costs() if entries is None else entries
    measured: dict[tuple[str, str], dict[int, tuple[float, float]]] = {}
    for entry in entries:
        measured.setdefault((entry["kind"], entry["method"]), {})[entry["size"]] = (
            entry["cpu_seconds_fixed"], entry["cpu_seconds_per_unit"])
    def cost(kind_: str, method: str, size: int, units: float) -> float | None:
        sizes = measured.get((kind_, method))
        if not sizes:
            return None
        nearest = min(sizes, key=lambda n: abs(math.log2(n / size)))
        fixed, per_unit = sizes[nearest]
        return (fixed + per_unit * units) * (size / nearest) ** 2

    from solver.reproduce.experiments import PROBLEM_KEYS, REFERENCE_LAYERS

    total, unknown, references = 0.0, 0, set()
    for task in tasks:
        seconds = cost(kind(task), task["method"], task["size"], work(task))
        if seconds is None:
            unknown += 1
            continue
        total += seconds
        if kind(task) == "convergence":
            references.add(tuple(task[k] for k in PROBLEM_KEYS))
    for problem in references:  # each image's reference run, at its most layers, once
        total += cost("convergence", FIRENET, dict(zip(PROBLEM_KEYS, problem))["size"], REFERENCE_LAYERS) or 0.0
    return Estimate(total, unknown)
