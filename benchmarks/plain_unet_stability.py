"""Is the U-Net trained by the paper's plain recipe unstable by the paper's measures?

Network: ``solver/weights/unet_plain_multilevel_r25_n64.safetensors`` (32 base features,
input A* y, no residual, no data-consistency layer; N = 64, Fourier, multilevel 25 %,
seed 0). For comparison at the same N and mask: FIRENET with the paper's fixed schedules
(5 x 5 and 5 x 10, Haar, level weights from the image, lam = 2.5e-4) and the zero-filled
map. Held-out test images ``solver.datasets.example_image(800000 + i, 64)``, noiseless,
complex128, one torch thread. For each network and image:

* accuracy: PSNR and relative error to the truth;
* the least-squares line error = a + b ||e|| through the clean error and the two worst
  cases below (absolute norms): b is the measured counterpart of the theorem's C2;
* worst case on the data (``worst_case_perturbation``, 20 steps, lr 0.005, seed 0) at 1 %
  and 5 % of ||y||: K = relative output change / (||e|| / ||y||), and the relative error
  to the truth under it; random noise of the same norm at 5 %;
* the paper's image search (``paper_image_attack``: Nesterov, lr 0.01, penalty 0.01, stop
  at ||r|| = 5 % of ||A x||, up to 300 steps): K of the data perturbation ``e = A r`` it
  produces, and the error to the truth under it;
* the kernel lower bound (``solver.kernel_bound``) on ``x`` and ``x`` plus the text "Can u
  see it?" (contrast 0.2) less its measured part.

Prints one line per network and image and the means, as JSON at the end (``--json`` writes
it to a file, e.g. to copy into the model card). ``--weights`` measures another trained
U-Net the same way, at its own N and mask (the page's: N = 256).

Run::

    OMP_NUM_THREADS=1 python benchmarks/plain_unet_stability.py --images 3
    OMP_NUM_THREADS=1 python benchmarks/plain_unet_stability.py --images 1 \
        --weights solver/weights/unet_multilevel_r25_n256.safetensors
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from solver.attacks import paper_image_attack, worst_case_perturbation  # noqa: E402
from solver.baselines import ZeroFilled  # noqa: E402
from solver.datasets import example_image  # noqa: E402
from solver.kernel_bound import kernel_detail, kernel_lower_bound  # noqa: E402
from solver.methods import build  # noqa: E402
from solver.metrics import psnr  # noqa: E402
from solver.networks import LearnedReconstruction, load_network  # noqa: E402
from solver.operators import WaveletMeasurement, make_operator  # noqa: E402
from solver.perturbations import complex_gaussian_noise  # noqa: E402
from solver.phantoms import text_detail  # noqa: E402
from solver.sampling import make_mask  # noqa: E402
from solver.stability import error_slope  # noqa: E402
from solver.wavelets import Wavelet2D, level_weights  # noqa: E402

WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "solver", "weights",
                       "unet_plain_multilevel_r25_n64.safetensors")


def norm(t: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(t))


def measure(net, A, x: np.ndarray, steps: int) -> dict[str, float]:
    xt = torch.as_tensor(x)
    y = A.forward(xt.to(torch.complex128))
    xn = norm(xt)
    with torch.no_grad():
        clean = net(y)
    row = {"psnr_db": float(psnr(clean.numpy(), x, data_range=1.0)), "error": norm(clean - xt) / xn}
    sizes, errors = [0.0], [norm(clean - xt)]
    for budget in (0.01, 0.05):
        res = worst_case_perturbation(net, y, budget=budget, steps=steps, lr=0.005, seed=0)
        row[f"K_worst_{budget:g}"] = res.relative_output_change / res.relative_norm
        row[f"error_worst_{budget:g}"] = norm(res.perturbed_output - xt) / xn
        sizes.append(res.norm)
        errors.append(norm(res.perturbed_output - xt))
    # The theorem's form, error = a + b ||e||: the least-squares line through the clean
    # error and the two worst cases (absolute norms).
    row["fit_a"], row["slope_b"] = error_slope(sizes, errors)
    e = complex_gaussian_noise(y, res.relative_norm, seed=1)
    with torch.no_grad():
        noisy = net(y + e)
    row["K_random_0.05"] = (norm(noisy - clean) / norm(clean)) / res.relative_norm
    paper = paper_image_attack(net, A, xt, relative_norm=0.05, seed=0)
    e_norm = norm(paper.perturbed_data - paper.clean_data)
    row["K_paper_image"] = (norm(paper.perturbed_output - paper.clean_output) / norm(paper.clean_output)) / (e_norm / norm(y))
    row["paper_steps"] = paper.steps
    row["paper_reached"] = paper.reached
    row["paper_e_over_y"] = e_norm / norm(y)
    row["error_paper_image"] = norm(paper.perturbed_output - xt) / xn
    detail = 0.2 * text_detail(x.shape[0], "Can u see it?", height=max(6, x.shape[0] // 24))
    bound = kernel_lower_bound(net, A, x, x + kernel_detail(A, detail))
    row.update(kernel_bound=bound.bound, kernel_quotient=bound.quotient, kernel_distance=bound.distance,
               kernel_data_distance=bound.data_distance, kernel_errors=bound.error + bound.error_other)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--json", default=None, help="write the means to this file")
    parser.add_argument("--weights", default=WEIGHTS,
                        help="another trained U-Net (e.g. the page's, solver/weights/unet_multilevel_r25_n256"
                             ".safetensors), measured at its own N and mask")
    args = parser.parse_args()
    torch.set_num_threads(1)
    unet, card = load_network(args.weights)
    size, sampling = card["image_size"], card["sampling"]
    mask = make_mask(sampling["pattern"], size, sampling["rate"], seed=sampling["seed"])
    A = make_operator(card["operator"], mask)
    W = Wavelet2D("haar", None, size)
    results: dict[str, list[dict]] = {}
    start = time.perf_counter()
    for i in range(args.images):
        x = example_image(800_000 + i, size)
        w = level_weights(torch.as_tensor(x), W, domain="image")
        nets = {
            card["name"]: LearnedReconstruction(A, unet),
            "FIRENET 5 x 5 (paper)": build("firenet_paper", WaveletMeasurement(A, W), weights=w),
            "FIRENET 5 x 10 (paper)": build("firenet_paper_10", WaveletMeasurement(A, W), weights=w),
            "zero-filled": ZeroFilled(WaveletMeasurement(A, W)),
        }
        for name, net in nets.items():
            row = measure(net, A, x, args.steps)
            results.setdefault(name, []).append(row)
            print(f"image {800_000 + i} {name}: " + ", ".join(
                f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)
    means = {name: {k: float(np.mean([r[k] for r in rows])) for k in rows[0]} for name, rows in results.items()}
    print(f"{time.perf_counter() - start:.0f} s")
    print(json.dumps(means, indent=1))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"images": [800_000 + i for i in range(args.images)], "means": means,
                       "per_image": results}, handle, indent=1)


if __name__ == "__main__":
    main()
