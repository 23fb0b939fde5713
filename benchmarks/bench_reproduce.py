"""Throughput of the Dask sweeps, and the cost of the full presets.

Default: the same 16 convergence tasks (Chambolle-Pock, N = 64, 16 held-out images) on
a local cluster of 1 and then 2 worker processes (one torch thread each), in one run:
tasks per minute and the ratio; the scheduler's overhead per task (wall time per task
on one worker minus the task's own time), and the bare round trip of a task that does
nothing. The load average is printed: the cores may be shared with other work.

``--full-cost``: time each kind of task, method and size of every preset in this process
(one torch thread) at two small amounts of work (1 and 2 restarts, 10 and 20 iterations,
2 and 4 attack steps), which give its fixed cost and its cost per unit of work
(:func:`solver.reproduce.costs.work`), and extrapolate to each full grid; ``--write`` stores the per-unit costs in
``solver/reproduce/task_costs.json``, from which ``--dry-run`` estimates a sweep's CPU hours.

    .venv/bin/python benchmarks/bench_reproduce.py [--tasks 16] [--full-cost [--write]]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from solver.reproduce import costs, experiments
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
                noop = run_tasks(tasks, out, client=client, progress=False, runner=_nothing)
        own = [r["values"]["seconds"] for r in report.records]
        cpu = [r["values"]["cpu_seconds"] for r in report.records]
        assert report.failed == 0, [r["error"] for r in report.records if r["status"] != "ok"]
        rates[workers] = count / report.wall_seconds * 60
        overhead = (report.wall_seconds * workers - sum(own)) / count
        print(f"{workers:>7} {started:>8.1f} {report.wall_seconds:>7.1f} {rates[workers]:>10.1f} "
              f"{sum(own) / count:>14.2f} {sum(cpu) / count:>11.2f} {overhead:>16.3f} "
              f"{noop.wall_seconds / count * 1000 * workers:>20.1f}")
    print(f"2 workers / 1 worker: {rates[2] / rates[1]:.2f}x tasks per minute; load average after: {_load()}")


def _reduced(task: dict, scale: int) -> dict:
    """The same task with ``scale`` times a small amount of work (restarts, iterations or
    attack steps): two scales give the fixed and the per-unit cost of solver.reproduce.costs."""
    task = dict(task)
    if "steps" in task:
        # every step taken: the paper's rule may stop a search early
        task["steps"], task["random_trials"], task["on_budget"] = 2 * scale, 1, "project"
    elif task.get("restarts"):
        task["restarts"] = scale
    elif task.get("iterations"):
        task["iterations"] = 10 * scale
    return task


def full_cost(write: bool) -> None:
    """Time each kind, method and size of every preset at two amounts of work, print the
    cost of each full preset, and with ``write`` store the costs for --dry-run."""
    import torch

    torch.set_num_threads(1)
    print(f"Each kind, method and size timed at two amounts of work (one torch thread); load average {_load()}")
    print(f"{'kind':<16} {'method':<14} {'size':>5} {'units':>11} {'CPU s':>13} {'fixed s':>8} {'s/unit':>9}")
    entries: dict[tuple, dict] = {}
    for experiment in experiments.EXPERIMENTS:
        for preset in ("small", "full"):
            for task in experiments.plan(experiment, preset, images=1):
                identity = (costs.kind(task), task["method"], task["size"])
                if identity in entries:
                    continue
                small, large = _reduced(task, 1), _reduced(task, 2)
                experiments.execute(small)  # loads what the method needs once (the U-Net's weights)
                units = (costs.work(small), costs.work(large))
                seconds = (experiments.execute(small)["cpu_seconds"], experiments.execute(large)["cpu_seconds"])
                if units[1] > units[0]:
                    per_unit = max(0.0, (seconds[1] - seconds[0]) / (units[1] - units[0]))
                else:  # a method without depth: one fixed cost
                    per_unit = 0.0
                fixed = max(0.0, seconds[1] - per_unit * units[1])
                entries[identity] = {"kind": identity[0], "method": identity[1], "size": identity[2],
                                     "cpu_seconds_fixed": fixed, "cpu_seconds_per_unit": per_unit}
                print(f"{identity[0]:<16} {identity[1]:<14} {identity[2]:>5} {units[0]:>5.0f},{units[1]:>5.0f} "
                      f"{seconds[0]:>6.2f},{seconds[1]:>6.2f} {fixed:>8.3f} {per_unit:>9.5f}")
    measured = list(entries.values())
    print(f"\n{'experiment':<16} {'full tasks':>10} {'CPU h':>7}")
    for experiment in experiments.EXPERIMENTS:
        tasks = experiments.plan(experiment, "full")
        hours = costs.estimate(tasks, measured).cpu_seconds / 3600
        print(f"{experiment:<16} {len(tasks):>10} {hours:>7.2f}   (~{hours / 2:.1f} h on 2 workers)")
    if write:
        record = {"measured_with": "benchmarks/bench_reproduce.py --full-cost --write",
                  "date": time.strftime("%Y-%m-%d"), "load_average": _load(), "entries": measured}
        costs.COSTS_FILE.write_text(json.dumps(record, indent=1) + "\n")
        print(f"written: {costs.COSTS_FILE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--full-cost", action="store_true")
    parser.add_argument("--write", action="store_true", help="with --full-cost: store the costs for --dry-run")
    args = parser.parse_args()
    if args.full_cost:
        full_cost(args.write)
    else:
        throughput(args.tasks)


if __name__ == "__main__":
    main()
