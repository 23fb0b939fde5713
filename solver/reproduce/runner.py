"""Run a sweep's tasks on Dask, one result file per task, so a sweep can resume.

Each task's key is a hash of its settings and the code version (:func:`code_version`),
so the same settings on the same code find their earlier result file and are not
recomputed, while a change of the numerics (any solver module) recomputes everything.
Result files are written by the client as the tasks finish (atomically: a temporary file
renamed into place), so the workers need no shared file system and an interrupted sweep
loses only the tasks that were running. A task that raises is recorded with its error
and traceback; the sweep goes on.

Workers are processes with one thread each, and each sets torch to one thread when it
starts (:class:`OneTorchThread`): on shared cores OpenMP threads spin-wait on each other,
and one process per core is what makes two cores give twice the throughput.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from solver.validation import check_int

__all__ = [
    "OneTorchThread",
    "SweepReport",
    "code_version",
    "execute_task",
    "local_client",
    "run_tasks",
    "task_key",
    "task_path",
]

_SOLVER = Path(__file__).resolve().parent.parent
# Files of this package that do not change any number (the command line, figures,
# tables): editing them keeps the task keys.
_PRESENTATION = {"__init__.py", "__main__.py", "cli.py", "figures.py", "results.py", "runner.py", "sweep.py"}


def code_version() -> str:
    """A short hash of the numerics' source (every solver module except the presentation
    files of this package) and the torch and numpy versions."""
    import numpy
    import torch

    digest = hashlib.sha256(f"torch {torch.__version__} numpy {numpy.__version__}".encode())
    for path in sorted(_SOLVER.rglob("*.py")):
        relative = path.relative_to(_SOLVER)
        if relative.parts[0] == "reproduce" and relative.name in _PRESENTATION:
            continue
        digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def task_key(settings: Mapping[str, Any], version: str) -> str:
    """Hash of the settings (order-independent) and the code version, 16 hex digits."""
    text = json.dumps({"settings": dict(settings), "code_version": version}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def task_path(directory: str | Path, key: str) -> Path:
    """Where the result file of task ``key`` lives under a sweep's directory."""
    return Path(directory) / "tasks" / f"{key}.json"


class OneTorchThread(WorkerPlugin):
    """Worker plugin: set torch's thread count when a worker starts (not at import)."""

    name = "solver-one-torch-thread"

    def __init__(self, threads: int = 1) -> None:
        self.threads = check_int("threads", threads, low=1)

    def setup(self, worker: Any) -> None:
        import torch

        torch.set_num_threads(self.threads)


def execute_task(settings: Mapping[str, Any], runner: Callable[[Mapping[str, Any]], dict] | None = None) -> dict:
    """Run one task where it lands; never raises: an error becomes the record's ``error``.

    Parameters
    ----------
    settings : mapping
        The task's settings (:func:`solver.reproduce.experiments.plan`).
    runner : callable, optional
        The function computing the values (default
        :func:`solver.reproduce.experiments.execute`).

    Returns
    -------
    dict
        ``{"status": "ok" | "error", "error": str | None, "values": dict, "worker": str}``.
    """
    if runner is None:
        from solver.reproduce.experiments import execute as runner
    worker = f"{socket.gethostname()}:{os.getpid()}"
    start = time.perf_counter()
    try:
        values = runner(settings)
    except Exception as error:  # recorded, not fatal: the sweep goes on
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__)[-6:])
        return {"status": "error", "error": f"{type(error).__name__}: {error}\n{text}",
                "values": {"seconds": time.perf_counter() - start}, "worker": worker}
    return {"status": "ok", "error": None, "values": values, "worker": worker}


@dataclass
class SweepReport:
    """What a sweep did.

    Attributes
    ----------
    records : list of dict
        One per task, in the order of the tasks: ``key``, ``settings``, ``status``,
        ``error``, ``values``, ``worker``, ``code_version``.
    computed, reused, failed : int
        Tasks computed in this call, found in earlier result files, and recorded with an
        error (among the computed and reused ones).
    wall_seconds : float
        Time of this call, cluster start included.
    """

    records: list[dict] = field(default_factory=list)
    computed: int = 0
    reused: int = 0
    failed: int = 0
    wall_seconds: float = 0.0

    @property
    def task_seconds(self) -> float:
        """Sum of the computed tasks' own times."""
        return sum(r["values"].get("seconds", 0.0) for r in self.records if r.get("computed"))


def _write_json(path: Path, record: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    with os.fdopen(handle, "w") as stream:
        json.dump(record, stream, allow_nan=True)
    os.replace(temporary, path)


def _read_json(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError):  # missing or cut short: compute again
        return None
    # A file of another structure (edited, or not ours) is computed again too.
    if not isinstance(record, dict) or not {"key", "settings", "status"} <= set(record):
        return None
    if not isinstance(record["settings"], dict) or not isinstance(record.get("values") or {}, dict):
        return None
    return record


@contextlib.contextmanager
def local_client(workers: int = 2, threads: int = 1) -> Iterator[Any]:
    """A ``LocalCluster`` of ``workers`` processes, one thread each, and its client.

    Torch is set to ``threads`` threads per worker by :class:`OneTorchThread`.
    """
    from distributed import Client, LocalCluster

    workers = check_int("workers", workers, low=1)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        client.register_plugin(OneTorchThread(threads))
        yield client


@contextlib.contextmanager
def _client(client: Any, scheduler: str | None, workers: int, threads: int) -> Iterator[Any]:
    if client is not None:
        yield client
    elif scheduler:
        from distributed import Client

        with Client(scheduler) as remote:
            remote.register_plugin(OneTorchThread(threads))
            yield remote
    else:
        with local_client(workers, threads) as local:
            yield local


def run_tasks(
    tasks: Sequence[Mapping[str, Any]],
    directory: str | Path,
    *,
    client: Any = None,
    scheduler: str | None = None,
    workers: int = 2,
    threads: int = 1,
    progress: bool = True,
    retry_failed: bool = True,
    runner: Callable[[Mapping[str, Any]], dict] | None = None,
    version: str | None = None,
) -> SweepReport:
    """Compute the tasks without a result file under ``directory`` and collect them all.

    Parameters
    ----------
    tasks : sequence of mapping
        Settings of each task (JSON-serialisable values).
    directory : str or Path
        The sweep's directory; result files go to ``directory/tasks/<key>.json``.
    client : distributed.Client, optional
        Use this client (e.g. a test's ``LocalCluster``) instead of starting one.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``) to use as it is.
    workers : int, default 2
        Processes of the local cluster started when neither ``client`` nor ``scheduler``
        is given.
    threads : int, default 1
        Torch threads per worker.
    progress : bool, default True
        Show a progress bar (tqdm, with an ETA) on stderr.
    retry_failed : bool, default True
        Compute again the tasks whose earlier record is an error.
    runner : callable, optional
        Function of the settings computing the values (default: the experiments').
    version : str, optional
        Code version in the keys (default :func:`code_version`).

    Returns
    -------
    SweepReport
    """
    from tqdm.auto import tqdm

    start = time.perf_counter()
    version = version or code_version()
    directory = Path(directory)
    keys = [task_key(s, version) for s in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("tasks must be distinct: two tasks have the same settings")
    records: dict[str, dict] = {}
    pending = []
    for key, settings in zip(keys, tasks):
        earlier = _read_json(task_path(directory, key))
        if earlier is not None and earlier["key"] != key:  # another task's file under this name
            earlier = None
        if earlier is not None and not (retry_failed and earlier.get("status") != "ok"):
            records[key] = {**earlier, "computed": False}
        else:
            pending.append((key, dict(settings)))
    report = SweepReport(reused=len(records))
    if pending:
        with _client(client, scheduler, workers, threads) as dask:
            # A fresh Dask key per call: a result the scheduler still holds from an earlier
            # call must not stand in for a computation asked for again.
            call = uuid.uuid4().hex[:8]
            futures = {dask.submit(execute_task, settings, runner, key=f"{settings.get('experiment', 'task')}-{key}-{call}",
                                   pure=False): (key, settings)
                       for key, settings in pending}
            from distributed import as_completed

            bar = tqdm(total=len(futures), disable=not progress, unit="task", smoothing=0.1,
                       desc=str(tasks[0].get("experiment", "tasks")) if tasks else "tasks")
            try:
                for future in as_completed(futures):
                    key, settings = futures[future]
                    try:
                        outcome = future.result()
                    except Exception as error:  # the worker died, or the task could not be sent
                        outcome = {"status": "error", "error": f"{type(error).__name__}: {error}",
                                   "values": {}, "worker": None}
                    record = {"key": key, "code_version": version, "settings": settings, **outcome}
                    _write_json(task_path(directory, key), record)
                    records[key] = {**record, "computed": True}
                    report.computed += 1
                    bar.update()
            finally:
                bar.close()
                for future in futures:  # on an interruption: stop what is still queued
                    future.cancel()
    report.records = [records[key] for key in keys]
    report.failed = sum(r.get("status") != "ok" for r in report.records)
    report.wall_seconds = time.perf_counter() - start
    return report

