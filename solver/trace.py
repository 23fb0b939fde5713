"""Run a reconstruction network and record what it did: the run API.

:func:`run` applies any method of :mod:`solver.methods` to data and returns a
:class:`Trace`: the image, and for iterative methods the relative error to a reference,
the objective ``F(x_k)`` and the dual value ``D(z_k)`` a few hundred times along the run,
images at chosen depths, the restarts and FIRENET's accuracy targets. :func:`certify`
turns the objective and dual values of several runs on the same data into certified
relative gaps, with one lower bound for all of them.

Examples
--------
>>> trace = run(net, y, reference=truth, snapshots=(100, 200, 300))    # doctest: +SKIP
>>> gaps, bound = certify({"FIRENET": trace, "CP": other})             # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

__all__ = ["GAP_FLOOR", "HEARTBEAT_SECONDS", "Trace", "certify", "depth_of", "own_certificate",
           "recorded_layers", "run"]

#: Smallest relative gap reported (a log scale needs a positive one). The objective and
#: dual values of a run are evaluated in double precision whatever the run's dtype
#: (:mod:`solver.objective`; they match a dense numpy evaluation to 1e-12 of F in the
#: tests); a single-precision run stalls far above this, below
#: :data:`solver.objective.SINGLE_PRECISION_FLOOR`.
GAP_FLOOR = 1e-12

#: Shortest time between two calls of :func:`run`'s ``heartbeat`` (seconds).
HEARTBEAT_SECONDS = 0.25

#: About this many convergence points per run: each costs about 1.5 layers (A, A* and
#: W^-1), so recording every layer would more than double a run.
POINTS = 200


@dataclass
class Trace:
    """One method's output on one data vector, with its convergence record.

    Attributes
    ----------
    image : np.ndarray, shape (N, N)
        The output (real dtype of the data: float32 for complex64).
    layer, error, objective, dual : list
        For iterative methods, at the recorded layers: relative error to the reference
        (nan without one), ``F(x_k)`` and ``D(z_k)`` of the method's own dual iterate,
        both evaluated in double precision (``x_k`` is the output the network would
        return if stopped there: for the adaptive schedule, the best it certified).
    time : list of float
        At the recorded layers: seconds the network had computed to get there (the
        recording itself excluded).
    snapshots : dict of int to np.ndarray
        Depth -> image after that many layers.
    eps : list of float
        FIRENET's accuracy target ``eps_k`` of each restart (objective units).
    restart_layers : list of int
        Layers after which a restart happened.
    seconds : float
        Wall time of the run.
    stopped : bool
        Whether ``on_progress`` stopped the run early.
    """

    image: np.ndarray
    layer: list[int] = field(default_factory=list)
    error: list[float] = field(default_factory=list)
    objective: list[float] = field(default_factory=list)
    dual: list[float] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)
    eps: list[float] = field(default_factory=list)
    restart_layers: list[int] = field(default_factory=list)
    seconds: float = 0.0
    stopped: bool = False

    @property
    def curve(self) -> dict[str, list]:
        """The recorded values as one dict (layer, error, objective, dual, time)."""
        return {"layer": self.layer, "error": self.error, "objective": self.objective, "dual": self.dual,
                "time": self.time}

    def at_depth(self, depth: int) -> np.ndarray:
        """The image after ``depth`` layers (the nearest snapshot at or below it)."""
        if not self.snapshots or depth <= 0:
            return self.image
        layers = [k for k in self.snapshots if k <= depth]
        return self.snapshots[max(layers)] if layers else self.image


def depth_of(net: Any) -> int:
    """Number of layers of an iterative network (0 for a one-shot one)."""
    inner = getattr(net, "firenet", net)
    for attribute in ("depth", "max_layers", "iterations"):
        value = getattr(inner, attribute, None)
        if isinstance(value, int):
            return value
    return 0


def recorded_layers(depth: int, restarts: int = 1, snapshots: int = 0) -> int:
    """About how many layers :func:`run` records (metrics computed) for a network of
    ``depth`` layers with ``restarts`` restarts and ``snapshots`` kept images: each costs
    about 1.5 layers more (used for time estimates)."""
    every = max(1, depth // POINTS)
    return min(depth, depth // every + restarts + snapshots + 1)


def _solver_of(net: Any) -> Any:
    # U-Net then FIRENET records FIRENET's layers on FIRENET's problem.
    inner = getattr(net, "firenet", net)
    return inner if hasattr(inner, "lam") and hasattr(inner, "A") else None


def run(
    net: torch.nn.Module,
    y: torch.Tensor,
    *,
    reference: Any = None,
    every: int | None = None,
    snapshots: Iterable[int] = (),
    on_progress: Callable[[Trace, int], Any] | None = None,
    keep_imaginary: bool = False,
    heartbeat: Callable[[int], Any] | None = None,
) -> Trace:
    """Reconstruct ``y`` with ``net`` and record the run.

    Parameters
    ----------
    net : torch.nn.Module
        A method from :func:`solver.methods.build`.
    y : torch.Tensor, shape (M,), complex
    reference : array_like, shape (N, N), optional
        The image to measure the error against (the ground truth).
    every : int, optional
        Record every ``every`` layers (and at every restart and the last layer); default
        about :data:`POINTS` points per run.
    snapshots : iterable of int
        Depths at which to keep the image (the last layer is always kept).
    on_progress : callable(partial Trace, layer), optional
        Called at every snapshot depth while running (e.g. to redraw a plot); returning
        ``True`` stops the run there (``Trace.stopped``).
    keep_imaginary : bool, default False
        Record complex images ``W^-1 c`` (image, snapshots, error to a complex
        reference) instead of their real parts, for complex images (MR data with a
        phase). Methods that output a real image (the U-Net) stay real.
    heartbeat : callable(layer), optional
        Called after a layer when at least :data:`HEARTBEAT_SECONDS` have passed since the
        start or its last call, whatever the snapshots (a server uses it to notice that
        its visitor left, to report progress and to share the cores); returning ``True``
        stops the run after that layer. Exceptions it raises end the run.

    Returns
    -------
    Trace
    """
    start = time.perf_counter()
    solver = _solver_of(net)
    depth = depth_of(net)
    keep_imaginary = bool(keep_imaginary)
    truth = None if reference is None else torch.as_tensor(
        np.asarray(reference), dtype=y.dtype if keep_imaginary else y.real.dtype)
    if solver is None or depth == 0:
        return _one_shot(net, y, keep_imaginary, start)
    every = max(1, depth // POINTS) if every is None else max(1, int(every))
    keep = {int(k) for k in snapshots if 0 < int(k) <= depth}
    recorder = _Recorder(solver, y, truth, depth=depth, every=every, keep=keep, keep_imaginary=keep_imaginary,
                         on_progress=on_progress, heartbeat=heartbeat, start=start)
    with torch.no_grad():
        image = net(y, callback=recorder)
        if keep_imaginary and recorder.last_coeffs is not None:
            # The last record's coefficients are the network's output (LayerRecord.coeffs).
            image = recorder.image_of(recorder.last_coeffs)
    trace = recorder.trace
    trace.image = image.numpy()
    trace.seconds = time.perf_counter() - start
    return trace


def _one_shot(net: torch.nn.Module, y: torch.Tensor, keep_imaginary: bool, start: float) -> Trace:
    """The trace of a method without layers: its image only."""
    with torch.no_grad():
        if keep_imaginary and hasattr(net, "solve") and hasattr(net, "A"):
            image = net.A.wavelet.inverse(net.solve(y))  # the zero-filled image, complex
        else:
            image = net(y)
    return Trace(image=image.numpy(), seconds=time.perf_counter() - start)


class _Recorder:
    """The network's per-layer callback in :func:`run`, as steps: the heartbeat, the restart
    bookkeeping, the test whether a layer is recorded, the record and the snapshot."""

    def __init__(self, solver: Any, y: torch.Tensor, truth: torch.Tensor | None, *, depth: int, every: int,
                 keep: set[int], keep_imaginary: bool, on_progress: Callable[[Trace, int], Any] | None,
                 heartbeat: Callable[[int], Any] | None, start: float) -> None:
        self.solver, self.y, self.truth = solver, y, truth
        self.truth_norm = None if truth is None else float(torch.linalg.vector_norm(truth))
        self.depth, self.every, self.keep, self.keep_imaginary = depth, every, keep, keep_imaginary
        self.on_progress, self.heartbeat, self.start = on_progress, heartbeat, start
        self.trace = Trace(image=np.zeros(0, dtype=np.float32))
        self.restart, self.layer = 0, 0  # of the previous record
        self.last_coeffs: torch.Tensor | None = None  # of the last recorded layer
        self.beat = time.perf_counter()
        self.recording = 0.0  # seconds spent in this callback, left out of Trace.time

    def image_of(self, coeffs: torch.Tensor) -> torch.Tensor:
        """The image of wavelet coefficients (complex, or its real part)."""
        from solver.firenet import to_image

        A = self.solver.A
        return A.wavelet.inverse(coeffs) if self.keep_imaginary else to_image(A, coeffs)

    def __call__(self, record: Any) -> bool:
        """The network's callback: :meth:`step`, its own time kept out of ``Trace.time``."""
        entered = time.perf_counter()
        try:
            return self.step(record, entered)
        finally:
            self.recording += time.perf_counter() - entered

    def step(self, record: Any, entered: float) -> bool:
        """Handle one layer's record; ``True`` stops the network."""
        if self.heartbeat_stops(record.layer):
            self.trace.stopped = True
            return True
        restarted = self.note_restart(record)
        if not self.due(record.layer, restarted):
            return False
        image = self.record(record, entered)
        return self.snapshot(record.layer, image)

    def heartbeat_stops(self, layer: int) -> bool:
        """Call the heartbeat if it is due; whether it asked to stop."""
        if self.heartbeat is None:
            return False
        now = time.perf_counter()
        if now - self.beat < HEARTBEAT_SECONDS:
            return False
        self.beat = now
        return self.heartbeat(layer) is True

    def note_restart(self, record: Any) -> bool:
        """Keep the restart layers and FIRENET's targets; whether this layer began a restart."""
        restarted = record.restart != self.restart
        if restarted:
            self.trace.restart_layers.append(self.layer)
            self.restart = record.restart
        self.layer = record.layer
        if record.eps is not None and (restarted or record.layer == 1):
            self.trace.eps.append(float(record.eps))
        return restarted

    def due(self, layer: int, restarted: bool) -> bool:
        """Whether the layer is recorded: every ``every`` layers, at restarts, snapshots and the end."""
        return not (layer % self.every and not restarted and layer != self.depth and layer not in self.keep)

    def record(self, record: Any, entered: float) -> torch.Tensor:
        """Error, objective, dual value and time at this layer; the layer's image."""
        from solver.objective import record_metrics

        image = self.image_of(record.coeffs)
        self.last_coeffs = record.coeffs
        report = record_metrics(record, self.y, self.solver.A, self.solver.lam, self.solver.weights)
        trace = self.trace
        trace.layer.append(record.layer)
        trace.error.append(math.nan if not self.truth_norm  # no reference, or an all-zero one
                           else float(torch.linalg.vector_norm(image - self.truth)) / self.truth_norm)
        trace.objective.append(float(report.objective))
        trace.dual.append(float(report.dual_value))
        trace.time.append(entered - self.start - self.recording)
        return image

    def snapshot(self, layer: int, image: torch.Tensor) -> bool:
        """Keep the image at a snapshot depth and report progress; ``True`` stops the network."""
        if layer not in self.keep and layer != self.depth:
            return False
        self.trace.snapshots[layer] = image.numpy().copy()
        if self.on_progress is not None and self.on_progress(self.trace, layer) is True:
            self.trace.stopped = True
            return True
        return False


def own_certificate(curve: Any) -> list[float]:
    """A run's certified relative gaps from its own dual values alone, as it went.

    At each recorded layer ``(F(x_k) - L_k) / L_k`` with ``L_k`` the best dual value the
    run had recorded up to there (floored at :data:`GAP_FLOOR`; nan before a positive
    one): what the run could certify about itself at that moment, with no other run's
    bound and nothing from its future. Set beside :func:`certify`'s curve (whose bound
    comes from every run and layer, so near the true gap once some run has converged) it
    shows how tight the run's own certificate is.

    Parameters
    ----------
    curve : Trace or mapping
        With "objective" and "dual" lists.
    """
    objective = curve.objective if isinstance(curve, Trace) else curve.get("objective", ())
    duals = curve.dual if isinstance(curve, Trace) else curve.get("dual", ())
    gaps, best = [], -math.inf
    for f, d in zip(objective, duals):
        if math.isfinite(d):
            best = max(best, d)
        gaps.append(max((f - best) / best, GAP_FLOOR) if best > 0 else math.nan)
    return gaps


def certify(curves: Mapping[str, Any]) -> tuple[dict[str, list[float]], float]:
    """Certified relative gaps ``(F(x_k) - L) / L`` with one lower bound for all runs.

    Every dual-feasible point gives ``D(z) <= F*``, whichever run produced it, so the
    best dual value ``L`` over all the given runs (which must solve the same problem,
    same data) certifies every primal point: ``F(x_k) - F* <= F(x_k) - L``. The values
    recorded by :func:`run` are evaluated in double precision whatever the run's dtype,
    so this holds for single-precision runs too (:mod:`solver.objective`).

    Parameters
    ----------
    curves : mapping
        Name -> :class:`Trace` or a mapping with "objective" and "dual" lists.

    Returns
    -------
    gaps : dict
        Name -> certified relative gaps (floored at :data:`GAP_FLOOR`; nan when no run
        gave a positive dual value).
    lower_bound : float
        ``L`` (nan when no positive dual value was recorded).
    """
    def values(curve: Any, key: str) -> list[float]:
        return list(getattr(curve, key)) if isinstance(curve, Trace) else list(curve.get(key, ()))

    duals = [d for c in curves.values() for d in values(c, "dual") if d > 0 and math.isfinite(d)]
    bound = max(duals) if duals else math.nan
    gaps = {name: [max((f - bound) / bound, GAP_FLOOR) if duals else math.nan
                   for f in values(curve, "objective")]
            for name, curve in curves.items()}
    return gaps, bound
