"""Checks for the public functions' arguments, one place for each kind of value.

Every check raises ``ValueError`` whose message names the parameter and shows the value
it got, so a caller (the explorer, a script) can show the message as it is.
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any

__all__ = ["check_seed", "check_int", "check_positive", "check_fraction", "check_choice"]


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an ``int`` in ``[low, high]`` (bools rejected)."""
    try:
        if isinstance(value, bool):
            raise TypeError
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer{_range(low, high)}, got {value!r}") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer{_range(low, high)}, got {value}")
    return int(value)


def check_seed(value: Any, name: str = "seed") -> int:
    """A random seed: an integer >= 0."""
    return check_int(name, value, low=0)


def check_positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """A finite real number > 0 (or >= 0 with ``allow_zero``)."""
    number = _real(name, value)
    if not (number >= 0 if allow_zero else number > 0):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return number


def check_fraction(name: str, value: Any, *, low_open: bool = True, high_open: bool = False) -> float:
    """A number in the interval (0, 1] (the ends open or closed as asked)."""
    number = _real(name, value)
    ok_low = number > 0 if low_open else number >= 0
    ok_high = number < 1 if high_open else number <= 1
    if not (ok_low and ok_high):
        interval = f"{'(' if low_open else '['}0, 1{')' if high_open else ']'}"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return number


def check_choice(name: str, value: Any, choices: Any) -> Any:
    """``value`` if it is one of ``choices``."""
    options = tuple(choices)
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def _range(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f" in [{low}, {high}]"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""
