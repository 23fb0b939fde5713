"""Benchmark: layers and wall time to a relative objective gap, and the cost of a layer.

Problem: N x N Shepp-Logan, unitary centred Fourier, multilevel sampling (25 %), Haar
(maximal levels), weighted sqrt-LASSO with lam = 2.5e-4 and level weights from the
image (the explorer's default), noiseless unless ``--noise``.

For each dtype it prints, for FIRENET with the paper's parameters, FIRENET with the
recommended ones, plain Chambolle-Pock (tau = sigma = 1) and tuned-ratio
Chambolle-Pock: the layers and the wall time needed to reach relative objective gaps
(F - F*)/F* of 1e-2, 1e-4 and 1e-6 ("not reached" within the cap). F* comes from a
long tuned Chambolle-Pock run in complex128 certified by its duality gap, which is
printed; gaps are always evaluated in complex128. Wall time = layers x the per-layer
time of a separate run without callbacks.

It also prints FIRENET's per-layer time divided by the bare cost of one A plus one A*
(FFT pair plus wavelet pair) measured in the same run.

Run::

    python benchmarks/bench_firenet.py --size 256 --dtype both
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from solver.baselines import TUNED_RATIO, TUNED_RATIO_UNIFORM, ChambollePock  # noqa: E402
from solver.firenet import FIRENET, PAPER_DEFAULTS, RECOMMENDED  # noqa: E402
from solver.objective import dual_value, objective  # noqa: E402
from solver.operators import SubsampledFourier, WaveletMeasurement  # noqa: E402
from solver.phantoms import shepp_logan  # noqa: E402
from solver.sampling import make_mask  # noqa: E402
from solver.wavelets import Wavelet2D, level_weights  # noqa: E402

TARGETS = (1e-2, 1e-4, 1e-6)
DTYPES = {"complex64": torch.complex64, "complex128": torch.complex128}


def build(size: int, rate: float, noise: float, weights: str, seed: int = 0):
    """Operator, data (complex128), ground truth and weights (float64 or None)."""
    mask = make_mask("multilevel", size, rate, seed=seed)
    A = WaveletMeasurement(SubsampledFourier(mask), Wavelet2D("haar", None, size))
    truth = torch.as_tensor(shepp_logan(size), dtype=torch.float64)
    y = A.sampling.forward(truth)
    if noise > 0:
        g = torch.Generator().manual_seed(seed + 1)
        e = torch.complex(torch.randn(y.shape, generator=g, dtype=torch.float64),
                          torch.randn(y.shape, generator=g, dtype=torch.float64))
        y = y + noise * torch.linalg.vector_norm(y) * e / torch.linalg.vector_norm(e)
    w = level_weights(truth, A.wavelet, domain="image") if weights == "levels" else None
    return A, y, truth, w


def reference(A, y, w, lam, ratio, iterations):
    """F* from a long tuned Chambolle-Pock run in complex128, with its certificate."""
    best = {"F": math.inf, "D": -math.inf}

    def cb(r):
        if r.layer % 10 and r.layer < iterations - 20:
            return
        best["F"] = min(best["F"], float(objective(r.coeffs, y, A, lam, w)))
        best["D"] = max(best["D"], float(dual_value(r.dual, y, A, lam, w)))

    start = time.perf_counter()
    with torch.no_grad():
        ChambollePock(A, lam=lam, weights=w, iterations=iterations, ratio=ratio).solve(y, callback=cb)
    return best["F"], best["D"], time.perf_counter() - start


def layers_to_targets(net, y, y128, A, w, lam, f_star, cap):
    """First layer at which (F - F*)/F* (complex128) falls below each target."""
    hits = {t: None for t in TARGETS}
    best = [math.inf]

    def cb(r):
        f = float(objective(r.coeffs.to(torch.complex128), y128, A, lam, w))
        g = (f - f_star) / f_star
        best[0] = min(best[0], g)
        for t in TARGETS:
            if hits[t] is None and g < t:
                hits[t] = r.layer
        if hits[TARGETS[-1]] is not None or r.layer >= cap:
            return True
        return None

    with torch.no_grad():
        net.solve(y, callback=cb)
    return hits, best[0]


def interleaved_medians(fns: dict, rounds: int) -> tuple[dict, dict]:
    """Median wall and CPU time per call of each ``(function, repeats)``, measured in
    interleaved rounds of similar length so that a busy machine slows all of them alike.
    CPU time (this process) is the steadier measure when other jobs share the cores."""
    wall = {name: [] for name in fns}
    cpu = {name: [] for name in fns}
    for fn, _ in fns.values():
        fn()
    for _ in range(rounds):
        for name, (fn, repeats) in fns.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            for _ in range(repeats):
                fn()
            wall[name].append((time.perf_counter() - start) / repeats)
            cpu[name].append((time.process_time() - start_cpu) / repeats)
    return ({n: statistics.median(v) for n, v in wall.items()},
            {n: statistics.median(v) for n, v in cpu.items()})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--dtype", choices=("complex64", "complex128", "both"), default="both")
    parser.add_argument("--rate", type=float, default=0.25)
    parser.add_argument("--noise", type=float, default=0.0, help="noise level relative to ||y||")
    parser.add_argument("--weights", choices=("levels", "ones"), default="levels")
    parser.add_argument("--cap", type=int, default=1200, help="max layers per method")
    parser.add_argument("--reference-iterations", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    lam = PAPER_DEFAULTS["lam"]
    ratio = (TUNED_RATIO if args.weights == "levels" else TUNED_RATIO_UNIFORM).get(args.size, 300.0)

    A, y128, truth, w = build(args.size, args.rate, args.noise, args.weights)
    print(f"N = {args.size}, Fourier, multilevel {args.rate:.0%} (M = {A.num_measurements}), "
          f"Haar levels = {A.wavelet.levels}, lam = {lam:g}, weights = {args.weights}, "
          f"noise = {args.noise:g}, Shepp-Logan, torch threads = {args.threads}")
    f_star, d_best, secs = reference(A, y128, w, lam, ratio, args.reference_iterations)
    print(f"reference: tuned CP (ratio {ratio:g}), {args.reference_iterations} iterations, complex128, "
          f"{secs:.0f} s: F* = {f_star:.12g}, certified relative gap (F - D)/D = "
          f"{(f_star - d_best) / d_best:.1e}")
    rec = RECOMMENDED
    print(f"paper: p = {PAPER_DEFAULTS['layers']}, nu = 1/e, C = {PAPER_DEFAULTS['sharpness']:g}, "
          f"{PAPER_DEFAULTS['output']}; recommended: p = {rec['layers']}, nu = {rec['nu']:.3g}, "
          f"C = {rec['sharpness']:g}, {rec['output']} (default depth {rec['restarts'] * rec['layers']}); "
          f"every method capped at {args.cap} layers; gaps evaluated in complex128")

    def firenet(params):
        return lambda layers: FIRENET(A, weights=w, **{**params, "restarts": math.ceil(layers / params["layers"])})

    methods = {
        "FIRENET paper": firenet(PAPER_DEFAULTS),
        "FIRENET recommended": firenet(RECOMMENDED),
        "CP tau=sigma=1": lambda layers: ChambollePock(A, lam=lam, weights=w, iterations=layers),
        f"CP ratio={ratio:g}": lambda layers: ChambollePock(A, lam=lam, weights=w, iterations=layers, ratio=ratio),
    }
    dtypes = list(DTYPES) if args.dtype == "both" else [args.dtype]
    for name in dtypes:
        dtype = DTYPES[name]
        y = y128.to(dtype)
        coeffs = A.adjoint(y)
        timing_nets = {label: make(40) for label, make in methods.items()}
        with torch.no_grad():
            # each entry runs ~40 layers' worth of work per round; many short interleaved
            # rounds keep the comparison fair when other jobs come and go
            fns = {
                "pair": (lambda: (A.forward(coeffs), A.adjoint(y)), 40),
                "fft": (lambda: (A.sampling.forward(coeffs), A.sampling.adjoint(y)), 40),
                "wavelet": (lambda: (A.wavelet.forward(coeffs), A.wavelet.inverse(coeffs)), 40),
            }
            for label, net in timing_nets.items():
                fns[label] = ((lambda net: lambda: net.solve(y))(net), 1)
            t, c = interleaved_medians(fns, rounds=15)
        for label, net in timing_nets.items():
            depth = net.depth if hasattr(net, "depth") else net.iterations
            t[label] /= depth
            c[label] /= depth
        print()
        print(f"== {name}: one A + one A* = {t['pair'] * 1e3:.2f} ms wall, {c['pair'] * 1e3:.2f} ms CPU "
              f"(FFT pair with gather/scatter {c['fft'] * 1e3:.2f} ms CPU, Haar pair {c['wavelet'] * 1e3:.2f} ms CPU); "
              "medians of 15 interleaved rounds")
        head = f"{'method':<22} {'ms/layer':>8} {'/(A+A*)':>7} {'CPU':>5}"
        for target in TARGETS:
            head += f" | {'gap < ' + format(target, '.0e'):^19}"
        print(head + " | best gap")
        sub = "".join(f" | {'layers':>8} {'time s':>8} " for _ in TARGETS)
        print(f"{'':<22} {'wall':>8} {'wall':>7} {'':>5}" + sub)
        for label, make in methods.items():
            hits, best = layers_to_targets(make(args.cap), y, y128, A, w, lam, f_star, args.cap)
            row = f"{label:<22} {t[label] * 1e3:8.2f} {t[label] / t['pair']:7.2f} {c[label] / c['pair']:5.2f}"
            for target in TARGETS:
                layer = hits[target]
                cell = f"{'not reached':>17}" if layer is None else f"{layer:>8} {layer * t[label]:8.2f}"
                row += f" | {cell} "
            print(row + f" | {best:.1e}", flush=True)


if __name__ == "__main__":
    main()
