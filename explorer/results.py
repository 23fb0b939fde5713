"""The page's reconstructions of one run: each method's trace on the data it is given."""

from __future__ import annotations

from dataclasses import dataclass, field

from solver.problem import Problem
from solver.trace import Trace

__all__ = ["Results"]


@dataclass
class Results:
    """Each method's reconstruction on the data it is given (``main``), on the clean data
    (``clean``: the same object when no perturbation is active), the problem each was
    given, and why a method could not run."""

    main: dict[str, Trace] = field(default_factory=dict)
    clean: dict[str, Trace] = field(default_factory=dict)
    problems: dict[str, Problem] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
