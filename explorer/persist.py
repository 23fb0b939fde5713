"""Long results on disk, so a preset shown once never has to run again on stage.

Worst-case perturbations and stability curves take tens of seconds to minutes. Besides the
in-memory store they are written to a cache folder, keyed on everything they depend on
*and on the code version* (a digest of the solver's source and of the U-Net weights in
use), so a server restart, an evicted memory entry or a second server on the same
machine finds them, and a change of code or weights never reuses a stale one.

The folder is outside the page's control, so nothing read from it is believed:

- Tensors are stored with safetensors and curves as JSON: nothing is ever unpickled.
- Every entry carries a keyed digest (HMAC-SHA256) of its key and its content. The digest
  key is :data:`SECRET_VARIABLE` if set, else a random key made at the first write in the
  folder's ``.secret`` file (mode 0600; the folder is made with mode 0700). An entry whose digest does not match (edited values,
  another key's entry copied over, a truncated or foreign file), that is malformed,
  holds NaN or Inf, or has another shape or structure than the caller expects is a
  *miss*: the result is computed again, and the bad entry is never shown. Someone who can
  read the digest key can forge entries: keep the folder private, or the key elsewhere.
- Files are opened without following symbolic links, and written to a fresh temporary
  file in the same folder (created exclusively, so a planted ``.partial`` file, folder
  or link is never written through) then moved over the entry with ``os.replace``.
- The folder is bounded: after each write the least recently used entries (a hit
  refreshes an entry's time stamp) are deleted until the entries take at most
  ``$FIRENET_CACHE_MAX_BYTES`` bytes (default :data:`DEFAULT_MAX_BYTES`, 2 GiB). Only
  files named like entries are ever deleted.

Folder: ``$FIRENET_CACHE_DIR``, else ``~/.cache/firenet-explorer``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import safetensors.torch
import torch

import solver

__all__ = [
    "CACHE_VARIABLE",
    "DEFAULT_MAX_BYTES",
    "MAX_BYTES_VARIABLE",
    "SECRET_VARIABLE",
    "cache_dir",
    "code_version",
    "finite_number",
    "load_json",
    "load_tensor",
    "max_bytes",
    "save_json",
    "save_tensor",
]

CACHE_VARIABLE = "FIRENET_CACHE_DIR"
MAX_BYTES_VARIABLE = "FIRENET_CACHE_MAX_BYTES"
SECRET_VARIABLE = "FIRENET_CACHE_SECRET"
#: The folder's size bound when ``$FIRENET_CACHE_MAX_BYTES`` is not set (2 GiB).
DEFAULT_MAX_BYTES = 2 * 2**30

_ENTRY = re.compile(r"^[0-9a-f]{32}\.(safetensors|json)$")
_PARTIAL = re.compile(r"^\.[0-9a-f]{32}\..*\.partial$")
_SECRET_FILE = ".secret"
# A temporary file older than this is a leftover of a stopped writer (deleted on eviction).
_STALE_SECONDS = 3600
_KEY_LIMIT = 4000


def cache_dir() -> Path:
    """The folder of the persisted results (created on first write)."""
    return Path(os.environ.get(CACHE_VARIABLE) or Path.home() / ".cache" / "firenet-explorer")


def max_bytes() -> int:
    """The folder's size bound: ``$FIRENET_CACHE_MAX_BYTES`` (bytes, an integer >= 0), else
    :data:`DEFAULT_MAX_BYTES`; a value that is not such an integer gives the default."""
    text = os.environ.get(MAX_BYTES_VARIABLE, "").strip()
    try:
        value = int(text)
    except ValueError:
        return DEFAULT_MAX_BYTES
    return value if value >= 0 else DEFAULT_MAX_BYTES


@functools.cache
def _solver_digest() -> str:
    h = hashlib.blake2b(digest_size=12)
    root = Path(solver.__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def code_version(weights: tuple[str, float | None] | None = None) -> str:
    """A digest of the solver's source, plus the weights file (path, time stamp) in use."""
    return _solver_digest() + ("" if weights is None else f"-{weights[0]}-{weights[1]}")


def _name(key: Any) -> str:
    return hashlib.sha256(repr(key).encode()).hexdigest()[:32]


def _path(key: Any, suffix: str) -> Path:
    return cache_dir() / f"{_name(key)}{suffix}"


# --------------------------------------------------------------------------------------
# Files: no link followed, atomic replacement, bounded reads
# --------------------------------------------------------------------------------------
def _read(path: Path, limit: int) -> bytes | None:
    """The bytes of a regular file at ``path`` (not through a link), at most ``limit``; else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not (info.st_mode & 0o170000 == 0o100000) or info.st_size > limit:
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) <= limit else None


def _write(path: Path, data: bytes) -> bool:
    """Write ``data`` at ``path`` atomically; False when it could not be written."""
    folder = path.parent
    try:
        _make_folder(folder)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.stem}.", suffix=".partial")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)  # replaces a link or file at path, never writes through it
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return False
    return True


_SECRETS: dict[str, bytes] = {}


def _secret_for(folder: str, variable: str | None, create: bool) -> bytes | None:
    if variable:
        return hashlib.sha256(variable.encode()).digest()
    if folder in _SECRETS:
        return _SECRETS[folder]
    path = Path(folder) / _SECRET_FILE
    found = _read(path, 1024)
    if found is None and create:
        try:
            _make_folder(Path(folder))
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            found = _read(path, 1024)  # another process made it meanwhile
        except OSError:
            return None
        else:
            found = secrets.token_bytes(32)
            with os.fdopen(fd, "wb") as handle:
                handle.write(found)
    if found is None or len(found) < 32:
        return None
    _SECRETS[folder] = found
    return found


def _secret(*, create: bool) -> bytes | None:
    """The digest key; None (no caching) when none can be had. Only a write makes one: a
    read without one is a miss."""
    return _secret_for(str(cache_dir()), os.environ.get(SECRET_VARIABLE) or None, create)


def _make_folder(folder: Path) -> None:
    """The cache folder, private to this user when this process makes it."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)


def _digest(secret: bytes, key: Any, *parts: bytes) -> str:
    mac = hmac.new(secret, repr(key).encode(), hashlib.sha256)
    for part in parts:
        mac.update(struct.pack("<Q", len(part)))
        mac.update(part)
    return mac.hexdigest()


def _touch(path: Path) -> None:
    """Mark an entry as just used (least-recently-used eviction goes by this time)."""
    try:
        os.utime(path, follow_symlinks=False)
    except OSError:
        pass


def _evict(bound: int) -> None:
    """Delete the least recently used entries until they take at most ``bound`` bytes."""
    folder = cache_dir()
    entries = []
    now = time.time()
    try:
        listing = list(os.scandir(folder))
    except OSError:
        return
    for item in listing:
        try:
            info = item.stat(follow_symlinks=False)
        except OSError:
            continue
        regular = info.st_mode & 0o170000 == 0o100000
        if _PARTIAL.match(item.name) and regular and now - info.st_mtime > _STALE_SECONDS:
            _remove(item.path)
        elif _ENTRY.match(item.name) and regular:
            entries.append((info.st_mtime, info.st_size, item.path))
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries):
        if total <= bound:
            break
        if _remove(path):
            total -= size


def _remove(path: str) -> bool:
    try:
        os.unlink(path)
    except OSError:
        return False
    return True


def _store(path: Path, data: bytes) -> None:
    bound = max_bytes()
    if len(data) <= bound:  # an entry larger than the whole bound is not kept
        _write(path, data)
    _evict(bound)


# --------------------------------------------------------------------------------------
# Tensors
# --------------------------------------------------------------------------------------
def _tensor_parts(tensor: torch.Tensor) -> tuple[bytes, ...]:
    plain = tensor.detach().contiguous().cpu()
    raw = plain.reshape(-1).view(torch.uint8).numpy().tobytes() if plain.numel() else b""
    return str(plain.dtype).encode(), repr(tuple(plain.shape)).encode(), raw


def save_tensor(key: Any, tensor: torch.Tensor) -> None:
    """Write ``tensor`` under ``key`` (a repr-able tuple) with its digest.

    Failures to write are ignored (the result stays in memory and the page goes on); a
    tensor with NaN or Inf is not written.
    """
    secret = _secret(create=True)
    plain = tensor.detach().contiguous().cpu()
    if secret is None or not bool(torch.isfinite(plain).all()):
        return
    metadata = {"key": repr(key)[:_KEY_LIMIT], "digest": _digest(secret, key, *_tensor_parts(plain))}
    _store(_path(key, ".safetensors"), safetensors.torch.save({"value": plain}, metadata=metadata))


def _safetensors_metadata(data: bytes) -> dict | None:
    if len(data) < 8:
        return None
    (length,) = struct.unpack("<Q", data[:8])
    if length > min(len(data) - 8, 10**6):
        return None
    try:
        header = json.loads(data[8 : 8 + length])
    except ValueError:
        return None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return metadata if isinstance(metadata, dict) else None


def load_tensor(key: Any, *, shape: tuple | None = None, dtype: torch.dtype | None = None,
                ) -> torch.Tensor | None:
    """The tensor stored under ``key``, or None: missing, unreadable, another key's, a digest
    that does not match, NaN or Inf, or another ``shape`` / ``dtype`` than given."""
    secret = _secret(create=False)
    path = _path(key, ".safetensors")
    data = None if secret is None else _read(path, max_bytes())
    if data is None:
        return None
    metadata = _safetensors_metadata(data)
    if metadata is None or metadata.get("key") != repr(key)[:_KEY_LIMIT]:
        return None
    try:
        tensors = safetensors.torch.load(data)
    except Exception:  # noqa: BLE001 - any unreadable file is a cache miss
        return None
    value = tensors.get("value")
    if set(tensors) != {"value"} or not isinstance(value, torch.Tensor):
        return None
    expected = _digest(secret, key, *_tensor_parts(value))
    if not hmac.compare_digest(expected, str(metadata.get("digest", ""))):
        return None
    if (shape is not None and tuple(value.shape) != tuple(shape)) or (dtype is not None and value.dtype != dtype):
        return None
    if not bool(torch.isfinite(value).all()):
        return None
    _touch(path)
    return value


# --------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------
def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def save_json(key: Any, value: Any) -> None:
    """Write a JSON-serialisable ``value`` (finite numbers only) under ``key`` with its
    digest; failures are ignored, as above."""
    secret = _secret(create=True)
    if secret is None:
        return
    try:
        body = _canonical(value)
    except (TypeError, ValueError):  # not JSON, or NaN / Inf
        return
    digest = _digest(secret, key, body)
    entry = json.dumps({"key": repr(key), "digest": digest, "value": value}, allow_nan=False).encode()
    _store(_path(key, ".json"), entry)


def load_json(key: Any, check: Callable[[Any], bool] | None = None) -> Any:
    """The value stored under ``key``, or None: missing, malformed, another key's, a digest
    that does not match, NaN or Inf, or (with ``check``) a value ``check`` does not accept."""
    secret = _secret(create=False)
    path = _path(key, ".json")
    data = None if secret is None else _read(path, max_bytes())
    if data is None:
        return None
    try:
        entry = json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != repr(key) or "value" not in entry:
        return None
    value = entry["value"]
    try:
        expected = _digest(secret, key, _canonical(value))
    except (TypeError, ValueError):
        return None
    if not hmac.compare_digest(expected, str(entry.get("digest", ""))):
        return None
    try:
        accepted = check is None or bool(check(value))
    except Exception:  # noqa: BLE001 - a checker that trips on a value is a refusal
        accepted = False
    if not accepted:
        return None
    _touch(path)
    return value


def finite_number(value: Any) -> bool:
    """Whether ``value`` is a finite int or float (not a bool): for ``check`` functions."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
