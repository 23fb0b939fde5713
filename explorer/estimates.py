"""How long a reconstruction or a worst-case search will take, and how much memory a
search's gradient needs, calibrated on this machine.

The cost of one layer (forward, recorded, forward + backward) is measured once per
process, problem shape and schedule by running short copies of the same network on the
same data (two lengths: what a run costs besides its layers, and per layer), then
multiplied by the depth and the number of steps. Calibration costs a few dozen
layers (about 0.1 s at N = 256, one-off); a one-shot network (the U-Net) is timed once
per size. Numbers are wall-clock on this machine *now*: a machine that gets busier after
the calibration makes them low (``benchmarks/bench_visitors.py`` reports estimate
against actual).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from typing import Any

import torch

from explorer.compute import network
from explorer.settings import FirenetSettings, PerturbationSettings
import solver.trace  # run through its module, where the tests replace it
from solver.attacks import run_network
from solver.methods import FIRENET, METHODS
from solver.problem import Problem
from solver.segments import Segmented, chunk_for_memory, graph_bytes_per_layer, segment_memory
from solver.trace import recorded_layers

__all__ = [
    "attack_chunk",
    "attack_memory_bytes",
    "approximately",
    "attack_seconds",
    "busy_factor",
    "duration",
    "forget",
    "reconstruction_seconds",
]

#: Layers of the short networks timed for calibration.
CALIBRATION_LAYERS = 12

_measured: dict[Any, Any] = {}
_lock = threading.Lock()


def forget() -> None:
    """Drop every calibration (the next estimate measures again)."""
    with _lock:
        _measured.clear()


def _shape(problem: Problem, fs: FirenetSettings) -> tuple:
    """What a layer's cost depends on: the problem's size, the transform, the weights and
    the schedule (an adaptive layer checks and restarts by itself; one calibration for
    both had the adaptive run of 300 layers estimated at twice its time)."""
    return (problem.truth.shape[0], int(problem.mask.sum()), problem.transform, fs.wavelet, fs.levels,
            fs.weights, fs.schedule, str(problem.y.dtype))


def _cached(key: Any, measure: Any) -> Any:
    with _lock:
        if key in _measured:
            return _measured[key]
    value = measure()
    with _lock:
        _measured[key] = value
    return value


def _short(fs: FirenetSettings, layers: int) -> FirenetSettings:
    """A shorter FIRENET of the same kind for timing: two restarts of half ``layers``, or
    an adaptive one of ``layers`` layers."""
    if fs.adaptive:
        return replace(fs, max_layers=max(2, layers))
    half = max(1, layers // 2)
    return replace(fs, restarts=2, layers=half)


def _layer_costs(method: str, problem: Problem, fs: FirenetSettings) -> tuple[float, float, float]:
    """(seconds of a run besides its layers, seconds per layer, extra seconds per recorded
    layer) of ``method`` in ``run``.

    Two lengths are timed (:data:`CALIBRATION_LAYERS` and three times as many): the
    difference is the layers' own cost, the rest the run's set-up and its end (the
    adaptive schedule's final certificate and dual polish, about 60 operator pairs),
    which a single short run spreads over its few layers: at N = 256 a 12-layer adaptive
    run came to 5.1 ms a layer, where a layer of a 300-layer run costs 2.3-2.6 ms."""

    def measure() -> tuple[float, float, float]:
        short, long = _short(fs, CALIBRATION_LAYERS), _short(fs, 3 * CALIBRATION_LAYERS)
        nets = network(method, problem, short), network(method, problem, long)
        reference = problem.truth if problem.has_truth else None
        solver.trace.run(nets[0], problem.y, every=short.depth)  # warm-up (first calls allocate)
        plain = [float("inf"), float("inf")]
        recorded = float("inf")
        for _ in range(2):  # the faster of two: a busy moment is not the machine's speed
            for k, (net, depth) in enumerate(((nets[0], short.depth), (nets[1], long.depth))):
                start = time.perf_counter()
                solver.trace.run(net, problem.y, reference=reference, every=depth)
                plain[k] = min(plain[k], time.perf_counter() - start)
            start = time.perf_counter()
            solver.trace.run(nets[0], problem.y, reference=reference, every=1)
            recorded = min(recorded, time.perf_counter() - start)
        # every=depth records the restarts and the last layer (2 here); every=1 all of them.
        extra = max(recorded - plain[0], 0.0) / max(short.depth - 2, 1)
        per_layer = max(plain[1] - plain[0], 1e-6 * (long.depth - short.depth)) / (long.depth - short.depth)
        fixed = max(plain[0] - short.depth * per_layer - 2 * extra, 0.0)
        return fixed, per_layer, extra

    return _cached(("layers", method, _shape(problem, fs), fs.output), measure)


def _one_shot(method: str, problem: Problem, fs: FirenetSettings) -> float:
    def measure() -> float:
        net = network(method, problem, fs)
        with torch.no_grad():
            net(problem.y)  # warm-up
            start = time.perf_counter()
            net(problem.y)
        return time.perf_counter() - start

    return _cached(("one-shot", method, _shape(problem, fs)), measure)


def reconstruction_seconds(method: str, problem: Problem, fs: FirenetSettings) -> float:
    """Seconds ``explorer.compute.reconstruct(method, problem, fs)`` will take here: a
    one-shot method timed once, an iterative one per layer times the depth, a method of
    stages (``solver.methods.Method.stages``) the sum of its stages."""
    entry = METHODS[method]
    if entry.stages:
        return sum(reconstruction_seconds(stage, problem, fs) for stage in entry.stages)
    if not entry.iterative:
        return _one_shot(method, problem, fs)
    depth = fs.depth
    fixed, per_layer, per_record = _layer_costs(method, problem, fs)
    return fixed + depth * per_layer + recorded_layers(depth, fs.restarts, fs.restarts) * per_record


# --------------------------------------------------------------------------------------
# Worst-case searches
# --------------------------------------------------------------------------------------
def _state_bytes(problem: Problem, fs: FirenetSettings) -> float:
    n = problem.truth.shape[0]
    item = torch.empty((), dtype=problem.y.dtype).element_size()
    planes = 3 if fs.output == "ergodic" else 2  # x and the running sum (N x N), z (M)
    return item * ((planes - 1) * n * n + int(problem.mask.sum()))


def _layer_bytes(problem: Problem, fs: FirenetSettings) -> float:
    def measure() -> float:
        return graph_bytes_per_layer(network(FIRENET, problem, _short(fs, 4)), problem.y)

    return _cached(("bytes", _shape(problem, fs), fs.output), measure)


def attack_chunk(problem: Problem, fs: FirenetSettings, memory_bytes: float) -> int:
    """FIRENET layers per checkpoint segment of a search within ``memory_bytes``, or 0
    when the whole network's graph fits (no checkpointing: it would cost 1.3-1.7x the
    time)."""
    layer_bytes = _layer_bytes(problem, fs)
    if fs.depth * layer_bytes <= memory_bytes:
        return 0
    return chunk_for_memory(fs.layers, fs.restarts, layer_bytes, _state_bytes(problem, fs), memory_bytes)


def attack_memory_bytes(target: str, problem: Problem, fs: FirenetSettings, memory_bytes: float) -> float:
    """Bytes of one gradient step of a search against ``target`` (FIRENET: segments
    chosen for ``memory_bytes``; the U-Net: its measured graph)."""
    if not METHODS[target].iterative:
        return 0.0
    chunk = attack_chunk(problem, fs, memory_bytes)
    if not chunk:
        return fs.depth * _layer_bytes(problem, fs)
    return segment_memory(fs.layers, fs.restarts, chunk, _layer_bytes(problem, fs), _state_bytes(problem, fs))


def _gradient_seconds(target: str, problem: Problem, fs: FirenetSettings, chunk: int) -> float:
    """Seconds of one forward + backward through ``target`` per layer (FIRENET, in
    checkpoint segments of ``chunk`` layers as the search does, or whole for 0) or in all
    (a one-shot network)."""
    layered = METHODS[target].iterative
    if layered:
        # Two restarts of segments as long as the search's (up to the calibration's
        # length): each segment has a fixed cost (the restart's schedule) besides its layers.
        # A whole graph is timed on 48 layers: a backward pass through a graph larger than
        # the processor's caches costs more per layer (12 layers read 0.7 of the time of
        # a 300-layer graph at N = 128).
        layers = min(chunk, CALIBRATION_LAYERS) if chunk else 2 * CALIBRATION_LAYERS
        short = _short(fs, 2 * layers)
    else:
        short = fs

    def measure() -> float:
        net = network(target, problem, short)
        wrapped = Segmented(net, chunk=max(chunk, 1))
        best = float("inf")
        for attempt in range(3 if layered else 2):  # the first is a warm-up
            start = time.perf_counter()
            data = problem.y.detach().clone().requires_grad_(True)
            out = run_network(wrapped, data, checkpoint=chunk > 0)
            torch.autograd.grad(0.5 * torch.sum(out * out), data)
            if attempt:
                best = min(best, time.perf_counter() - start)
        return best / (short.depth if layered else 1)

    return _cached(("gradient", target, _shape(problem, fs), fs.output, short.layers, chunk > 0), measure)


def attack_seconds(target: str, problem: Problem, fs: FirenetSettings, ps: PerturbationSettings,
                   memory_bytes: float) -> float:
    """Seconds of a worst-case search of ``ps.steps`` steps against ``target`` within
    ``memory_bytes`` per step: two plain forward passes and one forward + backward per
    step (checkpointed when the graph does not fit)."""
    if METHODS[target].iterative:
        fixed, per_layer, _ = _layer_costs(target, problem, fs)
        chunk = attack_chunk(problem, fs, memory_bytes)
        return 2 * (fixed + fs.depth * per_layer) + fs.depth * ps.steps * _gradient_seconds(target, problem, fs, chunk)
    return 2 * _one_shot(target, problem, fs) + ps.steps * _gradient_seconds(target, problem, fs, 0)


#: A busy factor from which the page states a range instead of one number: below it the
#: single estimate stays within the 1.5x that estimates are held to on a quiet machine.
RANGE_FROM = 1.5


def busy_factor(load: float | None = None, cores: int | None = None) -> float:
    """How many times longer than estimated a one-thread run may take now.

    The estimates are calibrated as the faster of two runs, i.e. for a core of its own.
    With ``load`` runnable processes (the 1-minute load average, read from the system
    when not given) besides this one on ``cores`` cores, each gets about
    ``cores / (load + 1)`` of a core: 1 on a quiet machine.
    """
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # no load average on this system
            return 1.0
    if cores is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:
            cores = os.cpu_count() or 1
    return max(1.0, (float(load) + 1.0) / max(int(cores), 1))


def approximately(seconds: float, factor: float | None = None) -> str:
    """An estimate in words for the page: "about 4 s" on a quiet server, a range such as
    "4 s to 9 s, the server being busy" when other work may slow the run down by
    ``factor`` (:func:`busy_factor` now, when not given) of :data:`RANGE_FROM` or more."""
    factor = busy_factor() if factor is None else factor
    if factor < RANGE_FROM:
        return f"about {duration(seconds)}"
    return f"{duration(seconds)} to {duration(seconds * factor)}, the server being busy"


def duration(seconds: float) -> str:
    """``seconds`` in words for the page: "4 s", "2.5 min", "3 h"."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
