"""Benchmark: layers and seconds to a certified relative gap, and the cost of a layer.

Problems (Shepp-Logan, unitary centred Fourier, Haar, noiseless):

* ``default``: the explorer's default at N = 128, 256, 512: multilevel 25 %, maximal
  levels, level weights from the image, lam = 2.5e-4.
* ``bart``: N = 256, variable-density 25 % (random, dense centre: a Poisson-like
  mask), Haar with 5 levels, unit weights, lam = 0.0093 (the problem of BART's
  ``pics -l1 -r 0.005`` in this scaling).

Methods: FIRENET with the paper's parameters (5 layers per restart, ergodic), with
RECOMMENDED (20 layers per restart, last iterate), with the adaptive schedule (the
default; with the data-consistent candidate, ``DC``; with plain unrelaxed steps,
``rho=1``);
Chambolle-Pock with the fixed ratio of ``solver.legacy.CP_FIXED_RATIO`` (level weights) or
``CP_FIXED_RATIO_UNIFORM`` (unit weights), parameter-free Chambolle-Pock
(``AdaptiveChambollePock``), and FISTA on the matched squared LASSO (``residual`` taken
from the reference minimiser; with ``||A x* - y|| ~ 0`` no lam2 matches and FISTA
converges to a different problem).

Certified relative gap of a method at a layer: ``(F(x) - D*) / D*`` with ``D*`` the best
dual value of a long adaptive reference run on the same data (a lower bound on ``F*``,
so this is an upper bound on the true relative gap, whatever method produced ``x``);
the reference's own certified gap is printed. Gaps are evaluated in complex128 every
``--every`` layers (layer counts are rounded up to that). Seconds = layers x the
per-layer time of the same network in complex64 (the explorer's dtype) without
callbacks, one torch thread, medians of interleaved rounds; on a shared machine compare
the per-layer ratios to ``one A + one A*`` rather than absolute times.

Run::

    python benchmarks/bench_firenet.py --problems 128 256 512 bart
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

from solver.baselines import FISTA, AdaptiveChambollePock, ChambollePock  # noqa: E402
from solver.firenet import FIRENET, PAPER_DEFAULTS, RECOMMENDED  # noqa: E402
from solver.legacy import CP_FIXED_RATIO, CP_FIXED_RATIO_UNIFORM  # noqa: E402
from solver.schedules import AdaptiveRule  # noqa: E402
from solver.objective import dual_value, objective  # noqa: E402
from solver.operators import SubsampledFourier, WaveletMeasurement  # noqa: E402
from solver.phantoms import shepp_logan  # noqa: E402
from solver.sampling import make_mask  # noqa: E402
from solver.wavelets import Wavelet2D, level_weights  # noqa: E402

TARGETS = (1e-4, 1e-6, 1e-8)
BART_LAM = 0.0093
TIMING_LAYERS = 60  # per timed call: a network's set-up is then a small part of its time


def build(problem: str):
    """Operator, data (complex128), weights (float64 or None), lam and a label."""
    if problem == "bart":
        size, levels, pattern, lam = 256, 5, "variable_density", BART_LAM
    else:
        size, levels, pattern, lam = int(problem), None, "multilevel", PAPER_DEFAULTS["lam"]
    mask = make_mask(pattern, size, 0.25, seed=0)
    A = WaveletMeasurement(SubsampledFourier(mask), Wavelet2D("haar", levels, size))
    truth = torch.as_tensor(shepp_logan(size), dtype=torch.float64)
    y = A.sampling.forward(truth)
    w = None if problem == "bart" else level_weights(truth, A.wavelet, domain="image")
    label = (f"N = {size}, Fourier {pattern} 25 % (M = {A.num_measurements}), Haar {A.wavelet.levels} levels, "
             f"{'unit' if w is None else 'level'} weights, lam = {lam:g}")
    return A, y, w, lam, label


def reference(A, y, w, lam, layers):
    """Best objective and best dual value of a long adaptive FIRENET run (complex128)."""
    best = {"F": math.inf, "D": -math.inf, "x": None}

    def cb(r):
        if r.layer % 10 and r.layer < layers:
            return
        f = float(objective(r.coeffs, y, A, lam, w))
        if f < best["F"]:
            best["F"], best["x"] = f, r.coeffs
        best["D"] = max(best["D"], float(dual_value(r.dual, y, A, lam, w)))

    start = time.perf_counter()
    with torch.no_grad():
        FIRENET(A, lam=lam, weights=w, schedule="adaptive", max_layers=layers, target_gap=1e-12).solve(y, callback=cb)
    return best, time.perf_counter() - start


def layers_to_targets(net, y, A, w, lam, d_star, cap, every):
    """First layer (checked every ``every``) at which (F - D*)/D* falls below each target."""
    hits = {t: None for t in TARGETS}
    best = [math.inf]

    def cb(r):
        if r.layer % every:
            return None
        g = (float(objective(r.coeffs, y, A, lam, w)) - d_star) / d_star
        best[0] = min(best[0], g)
        for t in TARGETS:
            if hits[t] is None and g <= t:
                hits[t] = r.layer
        return True if (hits[TARGETS[-1]] is not None or r.layer >= cap) else None

    with torch.no_grad():
        net.solve(y, callback=cb)
    return hits, best[0]


def interleaved_medians(fns: dict, rounds: int) -> dict:
    """Median CPU time per call of each ``(function, repeats)``, in interleaved rounds so
    that a busy machine slows all of them alike (this process's CPU time is steadier than
    wall time when other jobs share the cores)."""
    cpu = {name: [] for name in fns}
    for fn, _ in fns.values():
        fn()
    for _ in range(rounds):
        for name, (fn, repeats) in fns.items():
            start = time.process_time()
            for _ in range(repeats):
                fn()
            cpu[name].append((time.process_time() - start) / repeats)
    return {n: statistics.median(v) for n, v in cpu.items()}


def methods(A, w, lam, size, residual):
    ratio = (CP_FIXED_RATIO if w is not None else CP_FIXED_RATIO_UNIFORM).get(size, 300.0)

    def firenet(params):
        return lambda layers: FIRENET(A, weights=w, **{**params, "lam": lam,
                                                    "restarts": math.ceil(layers / params["layers"])})

    return {
        "FIRENET paper (p=5)": firenet(PAPER_DEFAULTS),
        "FIRENET RECOMMENDED": firenet(RECOMMENDED),
        "FIRENET adaptive": lambda layers: FIRENET(A, lam=lam, weights=w, schedule="adaptive", max_layers=layers),
        "FIRENET adaptive, DC": lambda layers: FIRENET(A, lam=lam, weights=w, schedule="adaptive", max_layers=layers,
                                                       rule=AdaptiveRule(data_consistent=True)),
        "FIRENET adaptive, rho=1": lambda layers: FIRENET(A, lam=lam, weights=w, schedule="adaptive",
                                                          max_layers=layers, rule=AdaptiveRule(relaxation=1.0)),
        f"CP tuned ratio {ratio:g}": lambda layers: ChambollePock(A, lam=lam, weights=w, iterations=layers, ratio=ratio),
        "CP parameter-free": lambda layers: AdaptiveChambollePock(A, lam=lam, weights=w, iterations=layers),
        "FISTA (matched)": lambda layers: FISTA(A, lam=lam, weights=w, iterations=layers,
                                                **({"residual": residual} if residual else {})),
    }


def run_problem(problem: str, cap: int, every: int, reference_layers: int) -> None:
    A, y, w, lam, label = build(problem)
    print(f"\n### {label}", flush=True)
    ref, secs = reference(A, y, w, lam, reference_layers)
    d_star = ref["D"]
    residual = float(torch.linalg.vector_norm(A.forward(ref["x"]) - y))
    y_norm = float(torch.linalg.vector_norm(y))
    print(f"reference: adaptive FIRENET {reference_layers} layers max, complex128, {secs:.0f} s: "
          f"F = {ref['F']:.12g}, certified (F - D)/D = {(ref['F'] - d_star) / d_star:.1e}, "
          f"||A x* - y|| / ||y|| = {residual / y_norm:.2e}", flush=True)
    fista_residual = residual if residual > 1e-6 * y_norm else None
    makers = methods(A, w, lam, A.wavelet.size if hasattr(A.wavelet, "size") else int(problem), fista_residual)
    y64 = y.to(torch.complex64)
    coeffs = A.adjoint(y64)
    with torch.no_grad():
        fns = {"pair": (lambda: (A.forward(coeffs), A.adjoint(y64)), TIMING_LAYERS)}
        for name, make in makers.items():
            net = make(TIMING_LAYERS)
            fns[name] = ((lambda net: lambda: net.solve(y64))(net), 1)
        cpu = interleaved_medians(fns, rounds=9)
    head = f"{'method':<24} {'ms/layer':>8} {'/(A+A*)':>7}"
    for t in TARGETS:
        head += f" | {'cert. gap <= ' + format(t, '.0e'):^17}"
    print(f"one A + one A* (complex64): {cpu['pair'] * 1e3:.2f} ms CPU")
    print(head + " | best gap")
    print(f"{'':<24} {'CPU':>8} {'':>7}" + "".join(f" | {'layers':>7} {'s':>8} " for _ in TARGETS))
    for name, make in makers.items():
        per_layer = cpu[name] / TIMING_LAYERS
        hits, best = layers_to_targets(make(cap), y, A, w, lam, d_star, cap, every)
        row = f"{name:<24} {per_layer * 1e3:8.2f} {per_layer / cpu['pair']:7.2f}"
        for t in TARGETS:
            layer = hits[t]
            row += f" | {'-':>7} {'-':>8} " if layer is None else f" | {layer:>7} {layer * per_layer:8.2f} "
        print(row + f" | {best:.1e}", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", nargs="+", default=["128", "256", "512", "bart"])
    parser.add_argument("--cap", type=int, default=1000, help="max layers per method")
    parser.add_argument("--every", type=int, default=5, help="evaluate the gap every this many layers")
    parser.add_argument("--reference-layers", type=int, default=3000)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"layers to certified relative gap (F - D*)/D*, D* from the reference run; '-' = not within "
          f"{args.cap} layers; per-layer CPU time in complex64, {TIMING_LAYERS} layers, medians of 9 interleaved rounds")
    for problem in args.problems:
        run_problem(problem, args.cap, args.every, args.reference_layers)


if __name__ == "__main__":
    main()
