"""Memory-bounded, interruptible gradients through FIRENET: checkpoint segments of a
chosen number of layers.

A worst-case search (``solver.attacks``) differentiates through every layer of the
attacked network. ``checkpoint=True`` there keeps one autograd graph per FIRENET
*restart*; with 500 layers per restart at N = 512 that is still about 5 GB. :class:`Segmented`
wraps a network and offers ``checkpoint_segments`` of at most ``chunk`` layers (the
attack code uses a network's own segments when it has them), so the memory of a step is
about ``chunk`` layers' graph plus one small state per segment; :func:`chunk_for_memory`
picks ``chunk`` from a memory budget and the measured graph size of one layer
(:func:`graph_bytes_per_layer`). Between segments, in the forward pass and in the
recomputation of the backward pass, and every few layers in a plain forward, it calls
``heartbeat()``: a server uses it to report progress and to stop the search when its
visitor leaves (an exception raised there ends the step).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import torch

from solver.validation import check_int, check_positive

__all__ = ["Segmented", "chunk_for_memory", "graph_bytes_per_layer", "segment_memory"]


def _firenet_type() -> type:
    from solver.firenet import FIRENET

    return FIRENET


class Segmented(torch.nn.Module):
    """``network`` with checkpoint segments of at most ``chunk`` FIRENET layers.

    Parameters
    ----------
    network : torch.nn.Module
        Any reconstruction network; only a plain :class:`solver.firenet.FIRENET` is cut
        into segments (others run whole: ``checkpoint_segments`` returns an empty list).
    chunk : int
        Layers per segment (>= 1).
    heartbeat : callable(), optional
        Called at the start of every segment, and at most every ``interval`` seconds
        inside a plain forward pass.
    interval : float
        Shortest time between heartbeats inside a forward pass (seconds).
    """

    def __init__(self, network: torch.nn.Module, *, chunk: int,
                 heartbeat: Callable[[], Any] | None = None, interval: float = 0.25) -> None:
        super().__init__()
        self.network = network
        self.chunk = check_int("chunk", chunk, low=1)
        self.interval = check_positive("interval", interval)
        self.heartbeat = heartbeat
        self._last = time.perf_counter()

    @property
    def depth(self) -> int:
        """The wrapped network's number of layers (0 for a one-shot network)."""
        inner = self.network
        return int(getattr(inner, "depth", 0) or 0)

    def _beat(self, force: bool = False) -> None:
        if self.heartbeat is None:
            return
        now = time.perf_counter()
        if force or now - self._last >= self.interval:
            self._last = now
            self.heartbeat()

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """``network(y)``, with heartbeats every few layers when it takes a callback."""
        self._beat(force=True)
        if type(self.network) is _firenet_type():
            # the records serve the heartbeat alone: no certificate (the same output)
            return self.network(y, callback=lambda record: self._beat(), certificate=False)
        return self.network(y)

    def checkpoint_segments(self, y: torch.Tensor) -> list[Callable[[Any], Any]]:
        """Callables chained from ``y`` whose composition is ``network(y)``: the start,
        pieces of at most ``chunk`` layers of each restart, the synthesis. Empty for a
        network that is not a plain FIRENET."""
        net = self.network
        if type(net) is not _firenet_type() or net.adaptive:
            return []  # the adaptive schedule's state between layers is more than (x, z): whole
        from solver import firenet as fn

        p, ergodic = net.layers, net.output == "ergodic"

        def start(data: torch.Tensor) -> tuple:
            self._beat(force=True)
            data = fn.check_measurements(data, net.num_measurements)
            return fn.start_coeffs(net.A, None, data.shape[:-1], data.dtype, data.device), None, None

        def piece(k: int, first: int, count: int) -> Callable[[tuple], tuple]:
            def run(state: tuple) -> tuple:
                self._beat(force=True)
                x, z, total = state
                # The restart's schedule, exactly as FIRENET.solve computes it.
                eps = net.schedule(y)[k]
                tau, sigma = net.restart_steps(eps)
                if first == 0:
                    z, total = torch.zeros_like(y), None
                sums = [total]

                def accumulate(record: Any) -> None:
                    # The running sum in FIRENET's own order, so the average is exact.
                    if ergodic:
                        sums[0] = record.iterate if sums[0] is None else sums[0] + record.iterate
                    self._beat()

                block = fn.primal_dual_block(net.A, y, x, z, tau=tau, sigma=sigma, thr_unit=net.threshold_unit(y),
                                             layers=count, output="last", callback=accumulate,
                                             layer_offset=k * p + first, restart=k, eps=eps, inplace=False)
                x, z, total = block.x, block.z, sums[0]
                if first + count == p:  # end of the restart: its output starts the next one
                    return (total / p if ergodic else x), None, None
                return x, z, total

            return run

        pieces = [piece(k, first, min(self.chunk, p - first))
                  for k in range(net.restarts) for first in range(0, p, self.chunk)]
        return [start, *pieces, lambda state: fn.to_image(net.A, state[0])]


def graph_bytes_per_layer(network: torch.nn.Module, y: torch.Tensor, *, layers: int = 4) -> float:
    """Bytes autograd keeps per FIRENET layer for a gradient through ``network`` at ``y``'s
    size: the tensors saved for the backward pass of ``layers`` layers, measured, divided
    by ``layers``."""
    from solver import firenet as fn

    check_int("layers", layers, low=1)
    if type(network) is not _firenet_type():
        raise ValueError(f"network must be a FIRENET, got {type(network).__name__}")
    net = fn.FIRENET(network.A, lam=network.lam, weights=network.weights, restarts=1, layers=layers,
                     tau=network.tau, sigma=network.sigma, delta=network.delta, eps0=network.eps0,
                     nu=network.nu, sharpness=network.sharpness, output=network.output)
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        # Count each storage once (a tensor is often saved by several operations).
        saved[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    data = y.detach().clone().requires_grad_(True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = net(data)
    del out
    return sum(saved.values()) / layers


def chunk_for_memory(layers: int, restarts: int, layer_bytes: float, state_bytes: float,
                     budget_bytes: float) -> int:
    """The longest segment (in layers, <= ``layers``) whose graph, with the states kept at
    every segment boundary, fits in ``budget_bytes`` (at least 1).

    Parameters
    ----------
    layers, restarts : int
        FIRENET's layers per restart and restarts.
    layer_bytes : float
        Graph bytes per layer (:func:`graph_bytes_per_layer`).
    state_bytes : float
        Bytes of one boundary state (primal and dual iterates, and the running sum).
    budget_bytes : float
        Memory allowed for one gradient step.
    """
    layers, restarts = check_int("layers", layers), check_int("restarts", restarts)
    for name, value in (("layer_bytes", layer_bytes), ("state_bytes", state_bytes),
                        ("budget_bytes", budget_bytes)):
        check_positive(name, value)
    best = 1
    for chunk in range(1, layers + 1):
        if segment_memory(layers, restarts, chunk, layer_bytes, state_bytes) <= budget_bytes:
            best = chunk
    return best


def segment_memory(layers: int, restarts: int, chunk: int, layer_bytes: float,
                   state_bytes: float) -> float:
    """Bytes of one gradient step through segments of ``chunk`` layers: one segment's
    graph (recomputed in the backward pass) plus the state kept at every boundary."""
    segments = restarts * math.ceil(layers / chunk)
    return min(chunk, layers) * layer_bytes + segments * state_bytes
