"""Benchmark: what one layer of the adaptive FIRENET costs, and what its parts cost.

Per layer, over one ``A`` plus one ``A^*`` timed in the same process (Shepp-Logan,
multilevel 25 %, Haar, level weights, complex64, one torch thread, ``--layers`` layers per
call, medians of interleaved rounds of CPU time): the adaptive schedule as shipped;
without its gap checks (``check_every`` beyond the depth: one check at the end); with
plain steps (``relaxation = 1``); with neither; and with a check after every layer. The
relaxation's share is the second minus the fourth. The checks' share is printed twice:
the first minus the second (small against this machine's timing noise), and a tenth of
"check every layer" minus "no checks" (one check's cost: candidates, gaps, restarts,
measured ten times over), the share at the shipped one check per 10 layers.

Run::

    python benchmarks/layer_cost_firenet.py --sizes 128 256 512 --layers 300 --rounds 8
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
from solver.operators import SubsampledFourier, WaveletMeasurement  # noqa: E402
from solver.phantoms import shepp_logan  # noqa: E402
from solver.sampling import make_mask  # noqa: E402
from solver.schedules import AdaptiveRule  # noqa: E402
from solver.wavelets import Wavelet2D, level_weights  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512])
    parser.add_argument("--layers", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    never = 10 * args.layers
    variants = {
        "adaptive": AdaptiveRule(),
        "no checks": AdaptiveRule(check_every=never),
        "plain steps": AdaptiveRule(relaxation=1.0),
        "plain, no checks": AdaptiveRule(check_every=never, relaxation=1.0),
        "check every layer": AdaptiveRule(check_every=1),
    }
    print(f"CPU time per layer / (one A + one A*), {args.layers} layers, complex64, one thread")
    print(f"{'N':>4} {'A + A* (ms)':>11} " + " ".join(f"{name:>17}" for name in variants)
          + f" {'checks':>7} {'one check/10':>13}")
    for n in args.sizes:
        A = WaveletMeasurement(SubsampledFourier(make_mask("multilevel", n, 0.25, seed=0)),
                               Wavelet2D("haar", None, n))
        truth = torch.as_tensor(shepp_logan(n), dtype=torch.float64)
        y = A.sampling.forward(truth).to(torch.complex64)
        w = level_weights(truth, A.wavelet, domain="image").float()
        coeffs = A.adjoint(y)
        calls = {"pair": lambda: [(A.forward(coeffs), A.adjoint(y)) for _ in range(args.layers)]}
        for name, rule in variants.items():
            net = FIRENET(A, weights=w, schedule="adaptive", max_layers=args.layers, rule=rule)
            calls[name] = (lambda net: lambda: net.solve(y))(net)
        times = {name: [] for name in calls}
        with torch.no_grad():
            for call in calls.values():
                call()
            for _ in range(args.rounds):
                for name, call in calls.items():
                    start = time.process_time()
                    call()
                    times[name].append((time.process_time() - start) / args.layers)
        pair = statistics.median(times["pair"])
        ratio = {name: statistics.median(times[name]) / pair for name in variants}
        checks = ratio["adaptive"] - ratio["no checks"]
        # one check per layer costs this many pairs per layer; the schedule checks every 10th
        one_check = ratio["check every layer"] - ratio["no checks"]
        print(f"{n:>4} {pair * 1e3:11.2f} " + " ".join(f"{ratio[name]:17.3f}" for name in variants)
              + f" {checks:7.1%} {one_check / AdaptiveRule().check_every:13.1%}", flush=True)


if __name__ == "__main__":
    main()
