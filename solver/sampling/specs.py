"""Descriptions of patterns and of their keyword parameters, enough to build a widget.

A pattern module declares the :class:`ParamSpec` of each keyword parameter next to the
function that takes it, and validates the call's values with :func:`validated`; the
registry (:mod:`solver.sampling.registry`) pairs each function with its specs in a
:class:`PatternSpec`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from solver.validation import check_choice, check_int

__all__ = ["ParamSpec", "PatternSpec", "validated"]


@dataclass(frozen=True)
class ParamSpec:
    """Description of one keyword parameter of a pattern, enough to build a widget.

    Attributes
    ----------
    name : str
        Keyword name in the pattern function and in :func:`make_mask`.
    label : str
        Short human label.
    type : type
        ``int``, ``float`` or ``str``.
    default : int | float | str
        Default value (inside the range / among the choices).
    min, max : int | float | None
        Inclusive range for numbers; ``None`` for choices.
    step : int | float | None
        Suggested widget step for numbers.
    choices : tuple
        Allowed values; non-empty means "pick one of these" (a select box).
    help : str
        One-sentence explanation.
    """

    name: str
    label: str
    type: type
    default: Any
    min: Any = None
    max: Any = None
    step: Any = None
    choices: tuple = ()
    help: str = ""

    def validate(self, value: Any) -> Any:
        """Return ``value`` coerced to :attr:`type`, or raise ``ValueError`` naming it."""
        if self.type is str:
            if not isinstance(value, str):
                raise ValueError(f"{self.name} must be a string, got {value!r}")
            return check_choice(self.name, value, self.choices) if self.choices else value
        if self.type is int:
            value = check_int(self.name, value, self.min, self.max)
        else:
            value = self._real(value)
        return check_choice(self.name, value, self.choices) if self.choices else value

    def _real(self, value: Any) -> float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)
        ):
            raise ValueError(f"{self.name} must be a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{self.name} must be finite, got {value!r}")
        if (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        ):
            raise ValueError(f"{self.name} must be in [{self.min}, {self.max}], got {value!r}")
        return value


@dataclass(frozen=True)
class PatternSpec:
    """A registered sampling pattern.

    Attributes
    ----------
    name : str
        Registry key.
    label : str
        Human label for menus.
    description : str
        One or two sentences for help text.
    function : callable
        ``function(size, rate, seed=0, **params) -> np.ndarray`` (bool, (N, N)).
    params : tuple of ParamSpec
        The keyword parameters ``function`` accepts besides size, rate and seed.
    random : bool
        Whether the mask depends on ``seed`` (a UI can hide the seed otherwise).
    """

    name: str
    label: str
    description: str
    function: Callable[..., np.ndarray]
    params: tuple[ParamSpec, ...] = field(default_factory=tuple)
    random: bool = True

    def defaults(self) -> dict[str, Any]:
        """Default keyword parameters, ``{name: default}``."""
        return {p.name: p.default for p in self.params}

    def param(self, name: str) -> ParamSpec:
        """The :class:`ParamSpec` called ``name`` (``KeyError`` if absent)."""
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


def validated(specs: tuple[ParamSpec, ...], **values: Any) -> dict[str, Any]:
    """``{name: value}`` with every value checked by the spec of the same name."""
    by_name = {spec.name: spec for spec in specs}
    return {name: by_name[name].validate(value) for name, value in values.items()}
