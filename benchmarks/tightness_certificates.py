"""How tight the adaptive FIRENET's own certificate is: certified gap / true gap, per pattern.

For each sampling pattern (N = 32, 25 %, Shepp-Logan, Haar with maximal levels, lam =
2.5e-4, unit weights, noiseless, complex128 as in the README's tables) a reference run
pins ``F*`` (its objective and best dual value bracket it: ``D_ref <= F* <= F_ref``), then
the adaptive FIRENET runs ``--layers`` layers with the default and with the data-consistent
candidate, and at every check (10 layers) its own certificate ``F(x_k) - D(z_k)`` of the
output is divided by the true gap ``F(x_k) - F*``, wherever that is resolved by the
reference (above 100 times ``F_ref - D_ref`` and above 1e-10 of F*). Printed per pattern
and toggle: the median and largest ratio from layer 50 on, the largest ratio where the
true gap is above 1e-7 of F*, the ratio at the last layer, and the certified and true gaps
there, as a Markdown table (and any check where the certificate read below the true
gap, which would be a bug).

With ``--floor``: the single-precision floor instead (``solver.objective.SINGLE_PRECISION_FLOOR``):
complex64 runs of 1,000 layers on the page's default problem (N = 256, multilevel, level
weights), N = 64 (multilevel, unit weights) and N = 32 (variable density, level weights),
Shepp-Logan at 25 %, default and data-consistent, printing the certified relative gap
(evaluated in double precision) every 100 layers and its smallest value; with
``--property-problems`` the same every 100 layers on the 27 multilevel and uniform
problems of ``tests/certificate_problems.py`` (complex64 data, N = 16-64).

Run from the repository root (about 20 minutes on one idle core, mostly the references of
the radial and line masks; ``--floor`` about 5)::

    OMP_NUM_THREADS=1 python benchmarks/tightness_certificates.py
    OMP_NUM_THREADS=1 python benchmarks/tightness_certificates.py --floor
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from solver.firenet import FIRENET  # noqa: E402
from solver.objective import dual_value, objective  # noqa: E402
from solver.operators import SubsampledFourier, WaveletMeasurement  # noqa: E402
from solver.phantoms import shepp_logan  # noqa: E402
from solver.sampling import make_mask  # noqa: E402
from solver.schedules import AdaptiveRule  # noqa: E402
from solver.wavelets import Wavelet2D, level_weights  # noqa: E402

LAM = 2.5e-4
PATTERNS = ("multilevel", "variable_density", "uniform", "radial", "lines_random", "spiral")


def problem(pattern: str, size: int):
    A = WaveletMeasurement(SubsampledFourier(make_mask(pattern, size, 0.25, seed=0)), Wavelet2D("haar", None, size))
    return A, A.sampling.forward(torch.as_tensor(shepp_logan(size), dtype=torch.complex128))


def reference(A, y, layers: int) -> tuple[float, float]:
    """(F_ref, D_ref) of a long data-consistent run stopped at a certified 1e-12."""
    last = []
    net = FIRENET(A, lam=LAM, schedule="adaptive", max_layers=layers, target_gap=1e-12,
                  rule=AdaptiveRule(data_consistent=True))
    with torch.no_grad():
        x = net.solve(y, callback=lambda r: last.__setitem__(slice(None), [r]))
    return float(objective(x, y, A, LAM)), float(dual_value(last[0].dual, y, A, LAM))


def ratios(A, y, f_ref: float, d_ref: float, layers: int, data_consistent: bool) -> dict:
    rows = []

    def callback(record):
        if record.layer % 10 == 0:
            rows.append((record.layer, float(record.gap), float(objective(record.coeffs, y, A, LAM))))

    net = FIRENET(A, lam=LAM, schedule="adaptive", max_layers=layers, rule=AdaptiveRule(data_consistent=data_consistent))
    with torch.no_grad():
        net.solve(y, callback=callback)
    resolved = max(100 * (f_ref - d_ref), 1e-10 * f_ref)
    late = [(layer, gap / (f - f_ref), (f - f_ref) / f_ref) for layer, gap, f in rows
            if layer >= 50 and f - f_ref > resolved]
    below = [layer for layer, gap, f in rows if gap < (f - f_ref) - 1e-13 * f_ref]  # never, if it is a bound
    layer, gap, f = rows[-1]
    return {
        "median": statistics.median(r for _, r, _ in late) if late else float("nan"),
        "max": max((r for _, r, _ in late), default=float("nan")),
        "max_above_1e-7": max((r for _, r, t in late if t >= 1e-7), default=float("nan")),
        "last": gap / (f - f_ref) if f - f_ref > resolved else float("nan"),
        "cert_last": gap / f_ref, "true_last": (f - f_ref) / f_ref, "violations": len(below),
    }


def floor(layers: int = 1000) -> None:
    """Certified gaps of complex64 runs (see the module docstring)."""
    cases = ((256, "multilevel", True), (64, "multilevel", False), (32, "variable_density", True))
    for size, pattern, weighted in cases:
        A, y = problem(pattern, size)
        image = torch.as_tensor(shepp_logan(size), dtype=torch.complex128)
        w = level_weights(image, A.wavelet, domain="image") if weighted else None
        for consistent in (False, True):
            rows = []
            net = FIRENET(A, lam=LAM, weights=w, schedule="adaptive", max_layers=layers,
                          rule=AdaptiveRule(data_consistent=consistent))
            with torch.no_grad():
                net.solve(y.to(torch.complex64), callback=lambda r: rows.append(
                    (r.layer, float(r.gap / r.dual_value))) if r.layer % 10 == 0 else None)
            smallest = min(rows, key=lambda row: row[1])
            print(f"N = {size} {pattern} {'level' if weighted else 'unit'} weights, "
                  f"{'data-consistent' if consistent else 'default'}: smallest certified {smallest[1]:.2e} "
                  f"at layer {smallest[0]}; " + " ".join(f"{k}:{g:.1e}" for k, g in rows[9::10]), flush=True)


def floor_property_problems(layers: int = 1000) -> None:
    """The same for the multilevel and uniform problems of the certificate's property test
    (``tests/certificate_problems.py``), every 100 layers."""
    from tests.certificate_problems import SEEDS, build

    for seed in SEEDS:
        p = build(seed)
        if p.spec.pattern not in ("multilevel", "uniform"):
            continue
        rows = []
        net = FIRENET(p.A, lam=LAM, weights=p.w, schedule="adaptive", max_layers=layers,
                      rule=AdaptiveRule(data_consistent=bool((seed // 4) % 2)))
        with torch.no_grad():
            net.solve(p.y.to(torch.complex64), callback=lambda r: rows.append(float(r.gap / r.dual_value))
                      if r.layer % 100 == 0 else None)
        print(f"problem {seed} ({p.spec.pattern}, N = {p.spec.size}): " + " ".join(f"{g:.1e}" for g in rows), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--layers", type=int, default=2000, help="layers of the measured runs")
    parser.add_argument("--reference-layers", type=int, default=30_000)
    parser.add_argument("--patterns", nargs="+", default=list(PATTERNS), choices=PATTERNS)
    parser.add_argument("--floor", action="store_true", help="measure the single-precision floor instead")
    parser.add_argument("--property-problems", action="store_true",
                        help="with --floor: on the property test's multilevel and uniform problems")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.floor:
        floor_property_problems() if args.property_problems else floor()
        return
    print(f"N = {args.size}, {args.layers} layers; ratio = certified gap / true gap at the checks\n")
    print("| pattern | output | reference certified | median ratio (layer >= 50) | max ratio | "
          "max ratio, true gap >= 1e-7 | ratio at the last layer | certified / true gap there |")
    print("|---|---|---|---|---|---|---|---|")
    for pattern in args.patterns:
        A, y = problem(pattern, args.size)
        start = time.perf_counter()
        f_ref, d_ref = reference(A, y, args.reference_layers)
        for consistent in (False, True):
            r = ratios(A, y, f_ref, d_ref, args.layers, consistent)
            print(f"| {pattern} | {'data-consistent' if consistent else 'default'} | {(f_ref - d_ref) / d_ref:.1e} | "
                  f"{r['median']:.2f} | {r['max']:.1f} | {r['max_above_1e-7']:.1f} | {r['last']:.1f} | "
                  f"{r['cert_last']:.1e} / {r['true_last']:.1e} |", flush=True)
            if r["violations"]:
                print(f"  ! the certificate read below the true gap at {r['violations']} checks", flush=True)
        print(f"  ({pattern}: {time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
