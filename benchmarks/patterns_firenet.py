"""Layers the adaptive FIRENET needs to a certified relative gap, for every sampling pattern.

Shepp-Logan (or, with ``--image ellipse_800000``, the page's default held-out ellipse
image), unitary centred Fourier, Haar with maximal levels, level weights from the
image, lam = 2.5e-4, noiseless, complex128, one torch thread; masks
``solver.sampling.make_mask(pattern, N, rate, seed=0)`` with default pattern parameters.
Prints, per size, pattern and rate, the first layer at which the network's own
certificate (``record.gap / D``) reaches ``--target`` (checked every 10 layers, where
the adaptive schedule evaluates it), or "-" within ``--max-layers``, and the gap then.

Run::

    python benchmarks/patterns_firenet.py --sizes 128 256 512 --rates 0.1 0.5
    python benchmarks/patterns_firenet.py --sizes 256 --patterns multilevel --rates 0.25 --image ellipse_800000
    python benchmarks/patterns_firenet.py --patterns lines_random lines_equispaced radial spiral --max-layers 8000
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from solver.datasets import example_image  # noqa: E402
from solver.firenet import FIRENET  # noqa: E402
from solver.objective import dual_value  # noqa: E402
from solver.operators import SubsampledFourier, WaveletMeasurement  # noqa: E402
from solver.phantoms import shepp_logan  # noqa: E402
from solver.sampling import PATTERNS, make_mask  # noqa: E402
from solver.schedules import AdaptiveRule  # noqa: E402
from solver.wavelets import Wavelet2D, level_weights  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.1, 0.5])
    parser.add_argument("--patterns", nargs="+", default=list(PATTERNS))
    parser.add_argument("--target", type=float, default=1e-6)
    parser.add_argument("--max-layers", type=int, default=1500)
    parser.add_argument("--image", default="shepp_logan", help="shepp_logan or ellipse_<seed>")
    parser.add_argument("--data-consistent", action="store_true",
                        help="AdaptiveRule(data_consistent=True): also certify x + A^*(y - A x)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"adaptive FIRENET{' (data-consistent candidate)' if args.data_consistent else ''}: layers to a certified relative gap <= {args.target:g} (own certificate), "
          f"max {args.max_layers} layers; {args.image}, Fourier, Haar, level weights, lam = 2.5e-4, complex128")
    print(f"{'N':>4} {'pattern':<17} {'rate':>5} {'layers':>6} {'gap':>8} {'seconds':>7}", flush=True)
    for size in args.sizes:
        image = (shepp_logan(size) if args.image == "shepp_logan"
                 else example_image(int(args.image.split("_")[1]), size))
        truth = torch.as_tensor(image, dtype=torch.float64)
        for pattern in args.patterns:
            for rate in args.rates:
                A = WaveletMeasurement(SubsampledFourier(make_mask(pattern, size, rate, seed=0)),
                                       Wavelet2D("haar", None, size))
                y = A.sampling.forward(truth)
                w = level_weights(truth, A.wavelet, domain="image")
                net = FIRENET(A, weights=w, schedule="adaptive", max_layers=args.max_layers, target_gap=args.target,
                              rule=AdaptiveRule(data_consistent=args.data_consistent))
                last = []  # only the last record: a list of all would hold every layer's image

                def keep(record, last=last):
                    last[:] = [record]

                start = time.perf_counter()
                with torch.no_grad():
                    net.solve(y, callback=keep)
                secs = time.perf_counter() - start
                record = last[0]
                d = float(dual_value(record.dual, y, A, net.lam, w))
                rel = float(record.gap) / d if d > 0 else float("inf")
                layers = f"{record.layer:>6}" if rel <= args.target else f"{'-':>6}"
                print(f"{size:>4} {pattern:<17} {rate:5.2f} {layers} {rel:8.1e} {secs:7.1f}", flush=True)


if __name__ == "__main__":
    main()
