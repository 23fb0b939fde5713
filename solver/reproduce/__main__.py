"""``python -m solver.reproduce``: see :mod:`solver.reproduce.cli`."""

from solver.reproduce.command import main

if __name__ == "__main__":
    main(prog_name="python -m solver.reproduce")
