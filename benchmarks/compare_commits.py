"""Benchmark: the solver at another commit beside the working tree's, in one process.

Both versions of ``solver`` are loaded side by side (the other commit's from ``git
archive``), and each round times, one after the other: the Haar transform pair
(``W`` and ``W^-1``), one ``A`` plus one ``A^*``, a fixed FIRENET layer (5 layers per
restart) and an adaptive FIRENET layer, old then new. The problem is that of
``bench_peers.py`` (Shepp-Logan, variable-density 25 %, Haar, unit weights, complex64,
one thread). Printed: the largest difference of the adaptive outputs, the median CPU
time of each call, and new / old as min / median of the rounds' paired ratios, with
the load average (``os.getloadavg``) over the run.

Run::

    python benchmarks/compare_commits.py bc8ee5b --sizes 128 256 1024 --layers 20 --rounds 9
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from io import BytesIO  # noqa: E402

import torch  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
LAM = 0.0093


def load_solver(root: str, keep: bool = False) -> dict:
    """Import ``solver`` from ``root`` and return its modules, leaving them in sys.modules
    only with ``keep`` (numba's cache imports the compiled kernels' module by name)."""
    for name in [k for k in sys.modules if k == "solver" or k.startswith("solver.")]:
        del sys.modules[name]
    sys.path.insert(0, root)
    try:
        import solver.firenet  # noqa: F401
        import solver.operators  # noqa: F401
        import solver.phantoms  # noqa: F401
        import solver.sampling  # noqa: F401
        import solver.wavelets  # noqa: F401

        # the compiled Haar kernels are imported on first use: import them while ``root``
        # is on the path (commits before them have no such function)
        load_kernels = getattr(solver.wavelets, "_compiled_haar", None)
        if load_kernels is not None:
            load_kernels()
    finally:
        sys.path.remove(root)
    modules = {k: v for k, v in sys.modules.items() if k == "solver" or k.startswith("solver.")}
    if not keep:
        for name in modules:
            del sys.modules[name]
    return modules


def calls(mods: dict, size: int, layers: int):
    """The timed calls of one solver version, its adaptive network and the data."""
    ops, wav = mods["solver.operators"], mods["solver.wavelets"]
    mask = mods["solver.sampling"].make_mask("variable_density", size, 0.25, seed=0)
    A = ops.WaveletMeasurement(ops.SubsampledFourier(mask), wav.Wavelet2D("haar", None, size))
    truth = torch.as_tensor(mods["solver.phantoms"].shepp_logan(size), dtype=torch.float64)
    y = A.sampling.forward(truth).to(torch.complex64)
    net = mods["solver.firenet"].FIRENET
    fixed = net(A, lam=LAM, restarts=math.ceil(layers / 5), layers=5)
    adaptive = net(A, lam=LAM, schedule="adaptive", max_layers=layers)
    coeffs = A.adjoint(y)
    W = A.wavelet
    return {
        "haar pair": lambda: [(W.forward(coeffs), W.inverse(coeffs)) for _ in range(layers)],
        "A + A*": lambda: [(A.forward(coeffs), A.adjoint(y)) for _ in range(layers)],
        "fixed layer": lambda: fixed.solve(y),
        "adaptive layer": lambda: adaptive.solve(y),
    }, adaptive, y


def paired(times: dict, num: str, den: str) -> str:
    r = sorted(a / b for a, b in zip(times[num], times[den]))
    return f"{r[0]:.2f} / {statistics.median(r):.2f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("commit", help="the other commit (any git revision)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 1024])
    parser.add_argument("--layers", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    if args.layers < 1 or args.rounds < 1:
        raise SystemExit("--layers and --rounds must be >= 1")
    torch.set_num_threads(1)
    archive = subprocess.run(["git", "archive", args.commit, "solver"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    with tempfile.TemporaryDirectory(prefix="compare-commits-") as other:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(other, filter="data")
        old, new = load_solver(other), load_solver(ROOT, keep=True)
        kernels = getattr(new["solver.wavelets"], "_compiled_haar", lambda: None)()
        print(f"new Haar transform: {'compiled (numba ' + kernels.numba.__version__ + ')' if kernels else 'torch'}")
        print(f"old = {args.commit}, new = working tree; {args.layers} calls or layers per timed call, "
              f"{args.rounds} interleaved rounds, CPU time, one thread, complex64")
        print("| N | new / old: Haar pair | A + A* | fixed layer | adaptive layer "
              "| adaptive / (A + A*): old | new | load average |")
        print("|---|---|---|---|---|---|---|---|")
        for size in args.sizes:
            fo, ao, y = calls(old, size, args.layers)
            fn, an, _ = calls(new, size, args.layers)
            fns = {**{("old", k): f for k, f in fo.items()}, **{("new", k): f for k, f in fn.items()}}
            times = {k: [] for k in fns}
            loads = [os.getloadavg()[0]]
            with torch.no_grad():
                diff = float((an.solve(y) - ao.solve(y)).abs().max() / ao.solve(y).abs().max())
                for f in fns.values():
                    f()
                for _ in range(args.rounds):
                    for key, f in fns.items():
                        start = time.process_time()
                        f()
                        times[key].append((time.process_time() - start) / args.layers)
                    loads.append(os.getloadavg()[0])
            row = " | ".join(paired(times, ("new", k), ("old", k)) for k in fo)
            print(f"| {size} | {row} | {paired(times, ('old', 'adaptive layer'), ('old', 'A + A*'))} "
                  f"| {paired(times, ('new', 'adaptive layer'), ('new', 'A + A*'))} "
                  f"| {min(loads):.1f}-{max(loads):.1f} |", flush=True)
            print(f"    N = {size}: max |adaptive new - old| / max |old| = {diff:.1e}; medians (ms): "
                  + ", ".join(f"{v} {k} {statistics.median(t) * 1e3:.2f}" for (v, k), t in times.items()), flush=True)


if __name__ == "__main__":
    main()
