"""Stability of FIRENET's schedules: worst-case output change per perturbation size.

Problem (the explorer's default): N = 256, Fourier, multilevel 25 % (seed 0), Haar with
maximal levels, level weights from the image, lam = 2.5e-4, noiseless, complex64, one
torch thread. Images: Shepp-Logan and a held-out random-ellipse image
(``solver.datasets.example_image(800000, 256)``). Networks: the adaptive schedule
(``--layers`` layers; ``adaptive_dc``: with the data-consistent candidate), the
paper's 5 x 5 (ergodic) and RECOMMENDED (15 x 20, last iterate). For each, a worst-case measurement perturbation (``worst_case_perturbation``,
``--steps`` steps, seed 0) at each budget; printed: the relative perturbation ``||e||/||y||``,
the relative output change ``||f(y+e) - f(y)|| / ||f(y)||``, their ratio ``K`` and the
relative error to the true image before and after.

Run::

    python benchmarks/stability_firenet.py --steps 20 --budgets 0.01 0.05
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from solver.attacks import worst_case_perturbation  # noqa: E402
from solver.datasets import example_image  # noqa: E402
from solver.firenet import FIRENET, PAPER_DEFAULTS, RECOMMENDED  # noqa: E402
from solver.operators import SubsampledFourier, WaveletMeasurement  # noqa: E402
from solver.phantoms import shepp_logan  # noqa: E402
from solver.sampling import make_mask  # noqa: E402
from solver.schedules import AdaptiveRule  # noqa: E402
from solver.wavelets import Wavelet2D, level_weights  # noqa: E402


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(a) / torch.linalg.vector_norm(b))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--layers", type=int, default=300, help="depth of the adaptive schedule")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--budgets", type=float, nargs="+", default=[0.01, 0.05])
    parser.add_argument("--images", nargs="+", default=["shepp_logan", "ellipse_800000"])
    parser.add_argument("--networks", nargs="+", default=["adaptive", "paper", "recommended"],
                        choices=("adaptive", "adaptive_dc", "paper", "recommended"))
    parser.add_argument("--checkpoint", choices=("auto", "off"), default="auto",
                        help="'off' keeps the whole graph (faster; ~1 GB per 300 layers at N = 256)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    n = args.size
    A = WaveletMeasurement(SubsampledFourier(make_mask("multilevel", n, 0.25, seed=0)), Wavelet2D("haar", None, n))
    print(f"N = {n}, Fourier multilevel 25 %, Haar, level weights, lam = 2.5e-4, complex64, "
          f"{args.steps} attack steps; K = relative output change / relative perturbation")
    print(f"{'image':<15} {'network':<22} {'budget':>6} {'||e||/||y||':>11} {'change':>8} {'K':>6} "
          f"{'err clean':>9} {'err pert':>9} {'seconds':>7}", flush=True)
    for name in args.images:
        image = shepp_logan(n) if name == "shepp_logan" else example_image(int(name.split("_")[1]), n)
        truth = torch.as_tensor(image, dtype=torch.float32)
        y = A.sampling.forward(truth.to(torch.complex64))
        w = level_weights(truth.double(), A.wavelet, domain="image")
        nets = {
            "adaptive": (f"adaptive {args.layers}", FIRENET(A, weights=w, schedule="adaptive", max_layers=args.layers)),
            "adaptive_dc": (f"adaptive {args.layers}, data-c.", FIRENET(
                A, weights=w, schedule="adaptive", max_layers=args.layers, rule=AdaptiveRule(data_consistent=True))),
            "paper": ("paper 5 x 5 ergodic", FIRENET(A, weights=w, **{**PAPER_DEFAULTS, "restarts": 5})),
            "recommended": ("RECOMMENDED 15 x 20", FIRENET(A, weights=w, **RECOMMENDED)),
        }
        for key in args.networks:
            label, net = nets[key]
            for budget in args.budgets:
                start = time.perf_counter()
                res = worst_case_perturbation(net, y, budget=budget, steps=args.steps, seed=0,
                                              checkpoint=False if args.checkpoint == "off" else "auto")
                secs = time.perf_counter() - start
                size = relative(res.perturbation, y)
                change = relative(res.perturbed_output - res.clean_output, res.clean_output)
                err0 = relative(res.clean_output - truth, truth)
                err1 = relative(res.perturbed_output - truth, truth)
                print(f"{name:<15} {label:<22} {budget:6.2f} {size:11.4f} {change:8.4f} {change / size:6.2f} "
                      f"{err0:9.4f} {err1:9.4f} {secs:7.0f}", flush=True)


if __name__ == "__main__":
    main()
