"""Masks given by the user: checked and copied, never drawn."""

from __future__ import annotations

from typing import Any

import numpy as np

from solver.sampling.common import MAX_SIZE, MIN_SIZE, check_size

__all__ = ["user_mask"]


def user_mask(mask: Any, size: int | None = None) -> np.ndarray:
    """Validate a user-given mask and return it as a new boolean array.

    Parameters
    ----------
    mask : array_like, bool or integer 0/1, shape (N, N)
        The mask in centred k-space order (DC at ``(N // 2, N // 2)``); N a power
        of two in [32, 1024].
    size : int, optional
        If given, the required N.

    Returns
    -------
    np.ndarray, bool, shape (N, N)
        A copy; the input is not modified.

    Raises
    ------
    ValueError
        If the mask is not 2-D and square with a power-of-two side in [32, 1024],
        is not boolean / integer 0-1, has no sampled entry, or does not match
        ``size``.
    """
    if size is not None:
        size = check_size(size)
    try:
        arr = np.asarray(mask)
    except Exception as exc:  # e.g. ragged nested lists
        raise ValueError(f"mask must be a 2-D boolean array, got {type(mask).__name__}") from exc
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"mask must be a square 2-D array, got shape {arr.shape}")
    n = arr.shape[0]
    if not (MIN_SIZE <= n <= MAX_SIZE) or n & (n - 1):
        raise ValueError(
            f"mask must have a power-of-two side in [{MIN_SIZE}, {MAX_SIZE}], got shape "
            f"{arr.shape}"
        )
    if size is not None and n != size:
        raise ValueError(f"mask has side {n} but size={size} was requested")
    if arr.dtype == bool:
        out = arr.copy()
    elif np.issubdtype(arr.dtype, np.integer):
        if not np.isin(arr, (0, 1)).all():
            raise ValueError(
                "mask of integers must contain only 0 and 1, got values "
                f"{np.unique(arr)[:5].tolist()}..."
            )
        out = arr.astype(bool)
    else:
        raise ValueError(f"mask must be boolean or 0/1 integers, got dtype {arr.dtype}")
    if not out.any():
        raise ValueError("mask must sample at least one coefficient, got an empty mask")
    return out
