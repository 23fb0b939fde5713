"""The ``firenet-reproduce`` command (and ``python -m solver.reproduce``).

Checks that the ``[reproduce]`` extra is installed before importing the command line,
which needs it, so a plain ``pip install`` of the solver gets a one-line message naming the
extra instead of a ``ModuleNotFoundError`` traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from solver.reproduce.extra import require

__all__ = ["main"]


def main(args: Sequence[str] | None = None, prog_name: str | None = None) -> None:
    """Run the command line with ``args`` (default: ``sys.argv[1:]``); exit 2 without the extra."""
    try:
        require()
    except ImportError as error:
        print(f"{prog_name or 'firenet-reproduce'}: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    from solver.reproduce.cli import main as command_line

    command_line(args=None if args is None else list(args), prog_name=prog_name)
