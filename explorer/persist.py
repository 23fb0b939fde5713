"""Long results on disk, so a preset shown once never has to run again on stage.

Worst-case perturbations and stability curves take tens of seconds to minutes. Besides the
in-memory store they are written to a cache folder, keyed on everything they depend on
*and on the code version* (a digest of the solver's source and of the U-Net weights in
use), so a server restart, an evicted memory entry or a second server on the same
machine finds them, and a change of code or weights never reuses a stale one.

Tensors are stored with safetensors and curves as JSON: nothing is ever unpickled.
Folder: ``$FIRENET_CACHE_DIR``, else ``~/.cache/firenet-explorer``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

__all__ = ["cache_dir", "code_version", "load_tensor", "save_tensor", "load_json", "save_json"]

CACHE_VARIABLE = "FIRENET_CACHE_DIR"


def cache_dir() -> Path:
    """The folder of the persisted results (created on first write)."""
    return Path(os.environ.get(CACHE_VARIABLE) or Path.home() / ".cache" / "firenet-explorer")


@functools.cache
def _solver_digest() -> str:
    import solver

    h = hashlib.blake2b(digest_size=12)
    root = Path(solver.__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def code_version(weights: tuple[str, float | None] | None = None) -> str:
    """A digest of the solver's source, plus the weights file (path, time stamp) in use."""
    return _solver_digest() + ("" if weights is None else f"-{weights[0]}-{weights[1]}")


def _path(key: Any, suffix: str) -> Path:
    name = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    return cache_dir() / f"{name}{suffix}"


def save_tensor(key: Any, tensor: torch.Tensor) -> None:
    """Write ``tensor`` under ``key`` (a repr-able tuple); failures to write are ignored:
    the result stays in memory and the page goes on."""
    from safetensors.torch import save_file

    path = _path(key, ".safetensors")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".partial")
        save_file({"value": tensor.detach().contiguous().cpu()}, str(temporary),
                  metadata={"key": repr(key)[:4000]})
        temporary.replace(path)  # atomic: a reader never sees half a file
    except OSError:
        pass


def load_tensor(key: Any) -> torch.Tensor | None:
    """The tensor stored under ``key``, or None (missing, unreadable or another key)."""
    from safetensors import safe_open

    path = _path(key, ".safetensors")
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            if (f.metadata() or {}).get("key") != repr(key)[:4000]:
                return None
            return f.get_tensor("value")
    except Exception:  # noqa: BLE001 - any unreadable file is a cache miss
        return None


def save_json(key: Any, value: Any) -> None:
    """Write a JSON-serialisable ``value`` under ``key`` (failures ignored, as above)."""
    path = _path(key, ".json")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".partial")
        temporary.write_text(json.dumps({"key": repr(key), "value": value}))
        temporary.replace(path)
    except OSError:
        pass


def load_json(key: Any) -> Any:
    """The value stored under ``key``, or None."""
    path = _path(key, ".json")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data["value"] if isinstance(data, dict) and data.get("key") == repr(key) else None
