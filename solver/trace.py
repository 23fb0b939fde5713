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
        with torch.no_grad():
            if keep_imaginary and hasattr(net, "solve") and hasattr(net, "A"):
                image = net.A.wavelet.inverse(net.solve(y))  # the zero-filled image, complex
            else:
                image = net(y)
        return Trace(image=image.numpy(), seconds=time.perf_counter() - start)

    from solver.firenet import to_image
    from solver.objective import record_metrics

    def image_of(coeffs: torch.Tensor) -> torch.Tensor:
        return solver.A.wavelet.inverse(coeffs) if keep_imaginary else to_image(solver.A, coeffs)

    every = max(1, depth // POINTS) if every is None else max(1, int(every))
    keep = {int(k) for k in snapshots if 0 < int(k) <= depth}
    trace = Trace(image=np.zeros(0, dtype=np.float32))
    truth_norm = None if truth is None else float(torch.linalg.vector_norm(truth))
    previous = {"restart": 0, "layer": 0}
    last: dict[str, Any] = {}
    beat = [time.perf_counter()]
    recording = [0.0]  # seconds spent in this callback, left out of Trace.time

    def callback(record: Any) -> bool:
        entered = time.perf_counter()
        try:
            return record_layer(record, entered)
        finally:
            recording[0] += time.perf_counter() - entered

    def record_layer(record: Any, entered: float) -> bool:
        layer = record.layer
        if heartbeat is not None:
            now = time.perf_counter()
            if now - beat[0] >= HEARTBEAT_SECONDS:
                beat[0] = now
                if heartbeat(layer) is True:
                    trace.stopped = True
                    return True
        restarted = record.restart != previous["restart"]
        if restarted:
            trace.restart_layers.append(previous["layer"])
            previous["restart"] = record.restart
        previous["layer"] = layer
        if record.eps is not None and (restarted or layer == 1):
            trace.eps.append(float(record.eps))
        if layer % every and not restarted and layer != depth and layer not in keep:
            return False
        image = image_of(record.coeffs)
        last["coeffs"] = record.coeffs
        report = record_metrics(record, y, solver.A, solver.lam, solver.weights)
        trace.layer.append(layer)
        trace.error.append(math.nan if not truth_norm  # no reference, or an all-zero one
                           else float(torch.linalg.vector_norm(image - truth)) / truth_norm)
        trace.objective.append(float(report.objective))
        trace.dual.append(float(report.dual_value))
        trace.time.append(entered - start - recording[0])
        if layer in keep or layer == depth:
            trace.snapshots[layer] = image.numpy().copy()
            if on_progress is not None and on_progress(trace, layer) is True:
                trace.stopped = True
                return True
        return False

    with torch.no_grad():
        image = net(y, callback=callback)
        if keep_imaginary and "coeffs" in last:
            # The last record's coefficients are the network's output (LayerRecord.coeffs).
            image = image_of(last["coeffs"])
    trace.image = image.numpy()
    trace.seconds = time.perf_counter() - start
    return trace


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
