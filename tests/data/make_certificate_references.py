"""Make tests/data/certificate_references.npz: reference optima of the certificate tests.

For every problem of ``tests/certificate_problems.py`` a long complex128 run of the
adaptive FIRENET (data-consistent candidate, which certifies radial and line masks
sooner) until its own certificate is at most 1e-12 relative; stored are its output ``x``
and its best dual point ``z`` (complex128). The tests recompute ``F(x)`` and ``D(z)``
(``D(z) <= F* <= F(x)`` by weak duality, whatever produced them) and check that they are
within 1e-12 relative, so the file is checked, not trusted. It took 36 minutes on a shared
core (radial and line masks need up to 21,000 layers), hence stored.

Run from the repository root (seeds as arguments recompute only those, into the existing
file)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python tests/data/make_certificate_references.py
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from solver.firenet import FIRENET
from solver.objective import dual_value, objective
from solver.schedules import AdaptiveRule
from tests.certificate_problems import LAM, REFERENCES, SEEDS, build

TARGET = 1e-12
MAX_LAYERS = 40_000


def reference(seed: int) -> tuple[np.ndarray, np.ndarray, float, int]:
    """(x, z, certified relative gap, layers) of problem ``seed``."""
    A, y, w = build(seed)[1:]
    last = []
    net = FIRENET(A, lam=LAM, weights=w, schedule="adaptive", max_layers=MAX_LAYERS, target_gap=TARGET,
                  rule=AdaptiveRule(data_consistent=True))
    with torch.no_grad():
        x = net.solve(y, callback=lambda r: last.__setitem__(slice(None), [r]))
    z = last[0].dual
    f, d = float(objective(x, y, A, LAM, w)), float(dual_value(z, y, A, LAM, w))
    return x.numpy(), z.numpy(), (f - d) / d, last[0].layer


def main() -> int:
    """Compute every reference, or (arguments) only the given seeds' into the existing file."""
    torch.set_num_threads(1)
    seeds = [int(a) for a in sys.argv[1:]] or list(SEEDS)
    kept = {f"{kind}{seed}" for seed in SEEDS for kind in "xz"}
    arrays = {k: v for k, v in np.load(REFERENCES).items() if k in kept} if sys.argv[1:] else {}
    failed = []
    for seed in seeds:
        start = time.perf_counter()
        x, z, gap, layers = reference(seed)
        print(f"{seed:3d} {layers:6d} layers  certified {gap:.2e}  {time.perf_counter() - start:6.1f} s", flush=True)
        if not gap <= TARGET:
            failed.append(seed)
        arrays[f"x{seed}"], arrays[f"z{seed}"] = x, z
    np.savez_compressed(REFERENCES, **arrays)
    print(f"wrote {REFERENCES}; not certified to {TARGET:g}: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
