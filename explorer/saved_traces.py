"""Reconstructions on disk: a :class:`~solver.trace.Trace` written to and read from the
disk cache of ``explorer.persist``, so a restarted server, a second server on the same
machine or ``make talk --warm-only`` never computes a reconstruction twice.

A trace is two entries, each with its keyed digest: its pictures (the image and the
snapshots the depth slider shows, one tensor) and its curves (JSON). Anything read is
checked like every entry of the folder, and then its structure, dtype and shape; a miss
is computed again. The key names the code version (``explorer.compute`` adds it), so
changed code or weights never read an old result.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from explorer import persist
from solver.trace import Trace

__all__ = ["load", "save"]

#: The fields of a :class:`~solver.trace.Trace` that are lists of numbers.
_CURVES = ("layer", "error", "objective", "dual", "time", "eps", "restart_layers")
#: The pictures' dtypes a trace is stored in, and its tensor's dtype on disk.
_DTYPES = {"<f4": torch.float32, "<f8": torch.float64, "<c8": torch.complex64, "<c16": torch.complex128}


def save(key: tuple, trace: Trace) -> None:
    """Write ``trace`` under ``key`` (a tuple that names the code version): its image and
    snapshots as one tensor, its curves as JSON, each with its digest. A stopped run or one with a
    non-finite number is not written (the result stays in memory)."""
    if trace.stopped:
        return
    layers = sorted(trace.snapshots)
    pictures = [np.asarray(trace.image), *(np.asarray(trace.snapshots[k]) for k in layers)]
    # Stored exactly or not at all: one dtype and one square shape for every picture.
    if len({(a.dtype.str, a.shape) for a in pictures}) != 1 or pictures[0].ndim != 2 \
            or pictures[0].dtype.str not in _DTYPES:
        return
    images = np.stack(pictures)
    tensor = torch.from_numpy(np.ascontiguousarray(images))
    meta = {name: [float(v) for v in getattr(trace, name)] for name in _CURVES}
    if not all(np.isfinite(values).all() for values in meta.values()) or not np.isfinite(trace.seconds):
        return  # e.g. no error curve without a truth: JSON holds no NaN
    meta.update(snapshots=layers, seconds=float(trace.seconds), dtype=images.dtype.str,
                shape=list(tensor.shape))
    persist.save_tensor(key + ("images",), tensor)
    persist.save_json(key + ("curves",), meta)


def _is_trace_meta(value: Any) -> bool:
    if not isinstance(value, dict) or set(value) != {*_CURVES, "snapshots", "seconds", "dtype", "shape"}:
        return False
    numbers = all(isinstance(value[n], list) and all(isinstance(v, (int, float)) for v in value[n])
                  for n in (*_CURVES, "snapshots", "shape"))
    return (numbers and isinstance(value["seconds"], (int, float)) and value["dtype"] in _DTYPES
            and all(v == int(v) for v in value["snapshots"]))


def load(key: tuple, size: int) -> Trace | None:
    """The trace stored under ``key`` whose pictures are ``size`` x ``size``, or None:
    missing, or anything that does not check (digest, structure, another shape)."""
    meta = persist.load_json(key + ("curves",), check=_is_trace_meta)
    if meta is None:
        return None
    shape = (1 + len(meta["snapshots"]), size, size)
    tensor = persist.load_tensor(key + ("images",), shape=shape, dtype=_DTYPES[meta["dtype"]])
    if tensor is None or list(meta["shape"]) != list(shape):
        return None
    images = tensor.numpy()
    layers = [int(v) for v in meta["snapshots"]]
    curves = {name: list(meta[name]) for name in _CURVES}
    for name in ("layer", "restart_layers"):
        curves[name] = [int(v) for v in curves[name]]
    return Trace(image=images[0], snapshots={k: images[i + 1] for i, k in enumerate(layers)},
                 seconds=float(meta["seconds"]), **curves)
