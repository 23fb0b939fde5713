"""Throughput of the Dask sweeps, and the cost of the full presets.

Default: the same 16 convergence tasks (Chambolle-Pock, N = 64, 16 held-out images) on
a local cluster of 1 and then 2 worker processes (one torch thread each), in one run:
tasks per minute and the ratio; the scheduler's overhead per task (wall time per task
on one worker minus the task's own time), and the bare round trip of a task that does
nothing. The load average is printed: the cores may be shared with other work.

``--full-cost``: time one task per method of every full preset in this process (one
torch thread; attack tasks with 10 steps, scaled to the preset's steps, since a step's
cost does not depend on the step) and extrapolate to the whole grid.

    .venv/bin/python benchmarks/bench_reproduce.py [--tasks 16] [--full-cost]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from solver.reproduce import experiments
from solver.reproduce.runner import local_client, run_tasks


def _nothing(settings):
    return {"seconds": 0.0}


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def throughput(count: int) -> None:
    tasks = experiments.plan("convergence", "small", images=count,
                             overrides={"method": "cp", "iterations": 150, "size": 64})
    print(f"{count} convergence tasks (Chambolle-Pock 150 iterations, N = 64); load average before: {_load()}")
    print(f"{'workers':>7} {'start s':>8} {'wall s':>7} {'tasks/min':>10} {'task s (mean)':>14} "
          f"{'task CPU s':>11} {'overhead/task s':>16} {'no-op round trip ms':>20}")
    rates = {}
    for workers in (1, 2):
        start = time.perf_counter()
        with local_client(workers) as client:
            started = time.perf_counter() - start
            # warm the workers (imports, first torch call) outside the timing
            with tempfile.TemporaryDirectory() as warm:
                run_tasks(tasks[:workers], warm, client=client, progress=False)
            with tempfile.TemporaryDirectory() as out:
                report = run_tasks(tasks, out, client=client, progress=False)
            with tempfile.TemporaryDirectory() as out:
                noop = run_tasks(tasks, out, client=client, progress=False, runner=_nothing, version="noop")
        own = [r["values"]["seconds"] for r in report.records]
        cpu = [r["values"]["cpu_seconds"] for r in report.records]
        assert report.failed == 0, [r["error"] for r in report.records if r["status"] != "ok"]
        rates[workers] = count / report.wall_seconds * 60
        overhead = (report.wall_seconds * workers - sum(own)) / count
        print(f"{workers:>7} {started:>8.1f} {report.wall_seconds:>7.1f} {rates[workers]:>10.1f} "
              f"{sum(own) / count:>14.2f} {sum(cpu) / count:>11.2f} {overhead:>16.3f} "
              f"{noop.wall_seconds / count * 1000 * workers:>20.1f}")
    print(f"2 workers / 1 worker: {rates[2] / rates[1]:.2f}x tasks per minute; load average after: {_load()}")


def full_cost() -> None:
    print(f"Full presets, one task per method timed here (one torch thread); load average {_load()}")
    print(f"{'experiment':<16} {'method':<14} {'tasks':>6} {'CPU s/task':>11} {'CPU h':>7}")
    import torch

    torch.set_num_threads(1)
    measured: dict[tuple, float] = {}
    for experiment in experiments.EXPERIMENTS:
        tasks = experiments.plan(experiment, "full")
        per_method = Counter(t["method"] for t in tasks)
        total = 0.0
        for method, number in per_method.items():
            task = dict(next(t for t in tasks if t["method"] == method))
            scale = 1.0
            if "steps" in task:
                scale, task["steps"] = task["steps"] / 10, 10
            # an attack task costs the same in the stability and robustness sweeps
            key = ("attack" if experiment in ("stability", "robustness") else experiment, method)
            if key not in measured:
                values = experiments.execute(task)
                measured[key] = values["cpu_seconds"] * scale
            total += measured[key] * number
            print(f"{experiment:<16} {method:<14} {number:>6} {measured[key]:>11.2f} "
                  f"{measured[key] * number / 3600:>7.2f}")
        print(f"{experiment:<16} {'all':<14} {len(tasks):>6} {'':>11} {total / 3600:>7.2f}"
              f"   (~{total / 3600 / 2:.1f} h on 2 workers)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--full-cost", action="store_true")
    args = parser.parse_args()
    if args.full_cost:
        full_cost()
    else:
        throughput(args.tasks)


if __name__ == "__main__":
    main()
