"""Benchmark: one Haar pair (``W`` then ``W^-1``) on its compiled and its torch path, beside an FFT pair.

Each round times, one after the other, ``--calls`` pairs of each: the compiled path
(:mod:`solver.compiled_haar`), the torch path (as on a GPU or without numba) and
``fft2`` + ``ifft2`` of the same image, one complex64 image, Haar with maximal levels,
one thread, CPU time. Printed per N: the medians (us) and, as min / median of the rounds'
paired ratios, compiled / torch and each path / the FFT pair, with the load average.

Run::

    python benchmarks/haar_pair.py --sizes 128 256 1024 --rounds 7
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import solver.wavelets as wavelets  # noqa: E402


def paired(times: dict, num: str, den: str) -> str:
    r = sorted(a / b for a, b in zip(times[num], times[den]))
    return f"{r[0]:.2f} / {statistics.median(r):.2f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 1024])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=0, help="pairs per timed call (0: 50, 5 from N = 1024)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    kernels = wavelets._compiled_haar()
    if kernels is None:
        raise SystemExit("numba is not installed: there is no compiled path to time")
    print("| N | compiled (us) | torch (us) | FFT pair (us) | compiled / torch | compiled / FFT pair "
          "| torch / FFT pair | load average |")
    print("|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        W = wavelets.Wavelet2D("haar", None, size)
        x = torch.randn(size, size, dtype=torch.complex64, generator=torch.Generator().manual_seed(0))
        calls = args.calls or (5 if size >= 1024 else 50)

        def haar():
            for _ in range(calls):
                W.inverse(W.forward(x))

        def fft():
            for _ in range(calls):
                torch.fft.ifft2(torch.fft.fft2(x, norm="ortho"), norm="ortho")

        paths = {"compiled": (kernels, haar), "torch": (None, haar), "fft": (kernels, fft)}
        times = {name: [] for name in paths}
        loads = [os.getloadavg()[0]]
        with torch.no_grad():
            for _ in range(args.rounds + 1):  # the first round warms up, untimed
                for name, (module, call) in paths.items():
                    wavelets._COMPILED = module
                    start = time.process_time()
                    call()
                    times[name].append((time.process_time() - start) / calls)
                loads.append(os.getloadavg()[0])
        wavelets._COMPILED = kernels
        times = {name: t[1:] for name, t in times.items()}
        medians = " | ".join(f"{statistics.median(times[name]) * 1e6:.0f}" for name in paths)
        print(f"| {size} | {medians} | {paired(times, 'compiled', 'torch')} | {paired(times, 'compiled', 'fft')} "
              f"| {paired(times, 'torch', 'fft')} | {min(loads):.1f}-{max(loads):.1f} |", flush=True)


if __name__ == "__main__":
    main()
