"""Run a sweep's tasks on Dask, one result file per task, so a sweep can resume.

Each task's key is a hash of its settings and the code version (:func:`code_version`),
so the same settings on the same code find their earlier result file and are not
recomputed, while a change of the numerics (any solver module) recomputes everything.
Result files are written by the client as the tasks finish (atomically: a temporary file
renamed into place), so the workers need no shared file system and an interrupted sweep
loses only the tasks that were running; each file carries a SHA-256 digest of its content,
and a file that is a link, too large, cut short or edited is computed again, never reused.
A task that raises is recorded with its error and traceback; the sweep goes on.

Workers are processes with one thread each, and each sets torch to one thread when it
starts (:class:`OneTorchThread`): on shared cores OpenMP threads spin-wait on each other,
and one process per core is what makes two cores give twice the throughput.

Workers must agree on the code: before the first task, every worker reports its code
version (:mod:`solver.reproduce.version`) and only those on the client's get tasks; every
row carries the version of the worker that computed it, and a row from another version is
refused (kept apart in ``quarantine/``, never reused). A ``--scheduler`` that does not
answer within :data:`CONNECT_SECONDS` is a :class:`ClusterError` with one line.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
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

from solver.reproduce.version import code_version, package_folder, worker_state
from solver.validation import check_int

__all__ = [
    "ClusterError",
    "OneTorchThread",
    "SweepReport",
    "agreeing_workers",
    "code_version",
    "execute_task",
    "local_client",
    "run_tasks",
    "task_key",
    "task_path",
]

#: Seconds to wait for a ``--scheduler`` to answer before giving up.
CONNECT_SECONDS = 3
#: Seconds to wait for the first worker of a ``--scheduler`` to join.
WORKER_WAIT_SECONDS = 30


class ClusterError(RuntimeError):
    """The cluster cannot run the sweep: no scheduler answers at the address, or no worker
    runs the client's code version. The message is one line saying what to do."""


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


def _set_torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


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
        ``{"status": "ok" | "error", "error": str | None, "values": dict, "worker": str,
        "worker_code_version": str}``; the last is the code version of the process that
        computed it (:func:`solver.reproduce.version.code_version`), which the client
        compares with its own.
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
                "values": {"seconds": time.perf_counter() - start}, "worker": worker,
                "worker_code_version": code_version()}
    return {"status": "ok", "error": None, "values": values, "worker": worker,
            "worker_code_version": code_version()}


@dataclass
class SweepReport:
    """What a sweep did.

    Attributes
    ----------
    records : list of dict
        One per task, in the order of the tasks: ``key``, ``settings``, ``status``
        (``"ok"``, ``"error"``, or ``"refused"`` for a row from a worker on other code),
        ``error``, ``values``, ``worker``, ``code_version`` (the client's, in the key) and
        ``worker_code_version``.
    computed, reused, failed : int
        Tasks computed in this call, found in earlier result files, and not ``"ok"``
        (among the computed and reused ones).
    refused : int
        Rows refused because the worker's code version was not the client's; they are
        kept in ``directory/quarantine/`` and computed again by the next run.
    wall_seconds : float
        Time of this call, cluster start included.
    notes : list of str
        One line per worker left out of the sweep, and why.
    """

    records: list[dict] = field(default_factory=list)
    computed: int = 0
    reused: int = 0
    failed: int = 0
    refused: int = 0
    wall_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def task_seconds(self) -> float:
        """Sum of the computed tasks' own times."""
        return sum(r["values"].get("seconds", 0.0) for r in self.records if r.get("computed"))


#: A result file larger than this is not read (a task's record is a few kB).
MAX_RECORD_BYTES = 16 * 2**20


def _digest(record: Mapping[str, Any]) -> str:
    """SHA-256 of the record's canonical JSON, its own ``digest`` field left out."""
    body = {name: value for name, value in record.items() if name != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, allow_nan=True).encode()).hexdigest()


def _write_json(path: Path, record: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    with os.fdopen(handle, "w") as stream:
        json.dump({**record, "digest": _digest(record)}, stream, allow_nan=True)
    os.replace(temporary, path)


def _read_json(path: Path) -> dict | None:
    """The record stored at ``path``, or None where it cannot be reused as it is.

    The folder may have been copied, edited or planted: a link, a file over
    :data:`MAX_RECORD_BYTES`, one cut short, of another structure, or whose content no
    longer matches the digest written with it (an edited number) is computed again.
    """
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:  # missing, or a symbolic link
        return None
    try:
        with os.fdopen(handle, "rb") as stream:
            if os.fstat(stream.fileno()).st_size > MAX_RECORD_BYTES:
                return None
            record = json.loads(stream.read())
    except (OSError, ValueError, RecursionError):  # cut short or not JSON: compute again
        return None
    if not isinstance(record, dict) or record.get("digest") != _digest(record):
        return None
    record.pop("digest")
    # A file of another structure (not ours, or from an older version) is computed again too.
    if not {"key", "settings", "status"} <= set(record):
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

        try:
            remote = Client(scheduler, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError, ValueError) as error:  # refused, timed out, or not an address
            raise ClusterError(f"no Dask scheduler answers at {scheduler!r} within {CONNECT_SECONDS} s "
                               f"({error}); start one with `dask scheduler` or correct --scheduler") from None
        with remote:
            yield remote
    else:
        with local_client(workers, threads) as local:
            yield local


_MISSING_MODULE = re.compile(r"No module named '([^']+)'")


def agreeing_workers(client: Any, version: str) -> tuple[list[str], list[str]]:
    """The workers of ``client`` that run code version ``version``, and a line per other one.

    Each worker reports :func:`solver.reproduce.version.worker_state`; a worker that cannot
    import the package, or runs other code, is left out with a line saying why. The
    scheduler must import the package too (it unpickles every task).

    Returns
    -------
    agreeing : list of str
        Worker addresses.
    notes : list of str
        One line per worker left out.

    Raises
    ------
    ClusterError
        If the scheduler cannot import the package, no worker joins within
        :data:`WORKER_WAIT_SECONDS`, or none agrees (the message joins the reasons into
        one line).
    """
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
    except TimeoutError:
        raise ClusterError(f"no Dask worker joined the scheduler within {WORKER_WAIT_SECONDS} s: start workers "
                           "with `dask worker ADDRESS` (see docs/remote-cluster.md)") from None
    try:  # the scheduler unpickles each task, so it needs the package too
        client.run_on_scheduler(package_folder)
    except Exception as error:  # whatever the scheduler's import raised, sent back
        missing = _MISSING_MODULE.search(str(error))
        what = f"cannot import {missing.group(1)!r}" if missing else f"failed: {type(error).__name__}: {error}"
        raise ClusterError(f"the scheduler {what}: install the project's requirements.txt where it runs and put "
                           "the project folder on its PYTHONPATH (it unpickles every task)") from None
    states = client.run(worker_state, on_error="return")
    agreeing, notes = [], []
    for address, state in sorted(states.items()):
        if isinstance(state, BaseException):
            missing = _MISSING_MODULE.search(str(state))
            if missing:
                notes.append(f"worker {address} cannot import {missing.group(1)!r}: install the project's "
                             "requirements.txt there and put the project folder on its PYTHONPATH")
            else:
                notes.append(f"worker {address} could not report its code version: {state}")
        elif state.get("code_version") != version:
            notes.append(f"worker {address} runs code version {state.get('code_version')} (solver at "
                         f"{state.get('solver')}), not the client's {version}: it gets no task")
        else:
            agreeing.append(address)
    if not agreeing:
        raise ClusterError(f"no worker runs the client's code version {version}: " + "; ".join(notes))
    return agreeing, notes


def _refusal(outcome: Mapping[str, Any], version: str) -> str | None:
    """Why a worker's row cannot join a sweep on code version ``version`` (None: it can)."""
    theirs = outcome.get("worker_code_version")
    if theirs == version:
        return None
    return f"refused: worker {outcome.get('worker')} runs code version {theirs}, not {version}"


def run_tasks(
    tasks: Sequence[Mapping[str, Any]], directory: str | Path, *, client: Any = None, scheduler: str | None = None,
    workers: int = 2, threads: int = 1, progress: bool = True, retry_failed: bool = True,
    runner: Callable[[Mapping[str, Any]], dict] | None = None, version: str | None = None,
) -> SweepReport:
    """Compute the tasks without a result file under ``directory`` and collect them all.

    Only workers on the client's code version get tasks (:func:`agreeing_workers`); a row
    that still comes back from another version (a worker restarted on edited files) is
    refused: written to ``directory/quarantine/<key>.json``, never to ``tasks/``, and
    counted as failed, so the next run computes it again. Earlier result files count only
    when their worker's code version is the key's.

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
        Code version in the keys, which the workers must run (default
        :func:`code_version`).

    Returns
    -------
    SweepReport

    Raises
    ------
    ClusterError
        If ``scheduler`` does not answer within :data:`CONNECT_SECONDS`, or no worker
        runs the code version.
    """
    start = time.perf_counter()
    version = version or code_version()
    directory = Path(directory)
    keys = [task_key(s, version) for s in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("tasks must be distinct: two tasks have the same settings")
    records, pending = _earlier_records(directory, keys, tasks, version, retry_failed)
    report = SweepReport(reused=len(records))
    if pending:
        with _client(client, scheduler, workers, threads) as dask:
            agreeing, report.notes = agreeing_workers(dask, version)
            if client is None and scheduler:
                # Only on the agreeing workers: a worker without the package could not load a plugin.
                dask.run(_set_torch_threads, threads, workers=agreeing)
            futures = _submit(dask, pending, runner, agreeing)
            desc = str(tasks[0].get("experiment", "tasks")) if tasks else "tasks"
            _collect(futures, directory, version, records, report, progress=progress, desc=desc)
    report.records = [records[key] for key in keys]
    report.failed = sum(r.get("status") != "ok" for r in report.records)
    report.wall_seconds = time.perf_counter() - start
    return report


def _earlier_records(directory: Path, keys: list[str], tasks: Sequence[Mapping[str, Any]], version: str,
                     retry_failed: bool) -> tuple[dict[str, dict], list[tuple[str, dict]]]:
    """The usable earlier records by key, and the ``(key, settings)`` of the tasks to compute."""
    records: dict[str, dict] = {}
    pending = []
    for key, settings in zip(keys, tasks):
        earlier = _read_json(task_path(directory, key))
        if earlier is not None and earlier.get("key") != key:  # another task's file under this name
            earlier = None
        usable = (earlier is not None and _refusal(earlier, version) is None
                  and not (retry_failed and earlier.get("status") != "ok"))
        if usable:
            records[key] = {**earlier, "computed": False}
        else:
            pending.append((key, dict(settings)))
    return records, pending


def _submit(dask: Any, pending: list[tuple[str, dict]], runner: Any, agreeing: list[str]) -> dict:
    """Submit the pending tasks to the agreeing workers; future -> ``(key, settings)``."""
    # A fresh Dask key per call: a result the scheduler still holds from an earlier
    # call must not stand in for a computation asked for again.
    call = uuid.uuid4().hex[:8]
    return {dask.submit(execute_task, settings, runner,
                        key=f"{settings.get('experiment', 'task')}-{key}-{call}", pure=False,
                        workers=agreeing, allow_other_workers=False): (key, settings)
            for key, settings in pending}


def _collect(futures: dict, directory: Path, version: str, records: dict[str, dict], report: SweepReport, *,
             progress: bool, desc: str) -> None:
    """Store each task's record as it finishes, with a progress bar; on an interruption,
    cancel what is still queued."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    bar = tqdm(total=len(futures), disable=not progress, unit="task", smoothing=0.1, desc=desc)
    try:
        for future in as_completed(futures):
            key, settings = futures[future]
            records[key] = {**_stored_record(future, key, settings, directory, version, report), "computed": True}
            report.computed += 1
            bar.update()
    finally:
        bar.close()
        for future in futures:
            future.cancel()


def _stored_record(future: Any, key: str, settings: dict, directory: Path, version: str,
                   report: SweepReport) -> dict:
    """The record of a finished task, written to ``tasks/`` (or, refused, to ``quarantine/``)."""
    try:
        outcome = future.result()
    except Exception as error:  # the worker died, or the task could not be sent
        outcome = {"status": "error", "error": f"{type(error).__name__}: {error}",
                   "values": {}, "worker": None, "worker_code_version": version}
    record = {"key": key, "code_version": version, "settings": settings, **outcome}
    refusal = _refusal(outcome, version)
    if refusal is None:
        _write_json(task_path(directory, key), record)
        return record
    _write_json(directory / "quarantine" / f"{key}.json", record)
    report.refused += 1
    return {**record, "status": "refused", "error": refusal, "values": {}}
