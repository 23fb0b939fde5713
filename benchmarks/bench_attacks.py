"""Speed and peak memory of the worst-case perturbation search.

For the U-Net and for FIRENET (5 restarts x 5 layers, the paper's attack setting, with
and without per-restart checkpointing), at N = 128 and 256, and for the explorer's deeper
recommended FIRENET (``solver.firenet.RECOMMENDED``) at N = 128 (multilevel Fourier sampling,
25 %, complex64 as in the app), one thread: gradient steps per second and the peak memory
added by the search.

Each configuration runs in a fresh subprocess. Peak memory is the growth of the process's
peak resident set (``ru_maxrss``) during the search, after the problem and the network are
built and run once; torch's CPU allocations are invisible to ``tracemalloc``. The child
sets ``MALLOC_MMAP_THRESHOLD_`` so that every tensor of 64 KiB or more is its own mapping,
returned to the system when freed: with glibc's default adaptive threshold, freed tensors
stay in the heap and the peak resident set overstates the live memory.

Usage::

    python benchmarks/bench_attacks.py            # the table (a few minutes on one core)
    python benchmarks/bench_attacks.py --steps 3  # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CONFIGS = [
    ("U-Net", 128, False),
    ("U-Net", 256, False),
    ("FIRENET 5x5", 128, False),
    ("FIRENET 5x5", 128, True),
    ("FIRENET 5x5", 256, False),
    ("FIRENET 5x5", 256, True),
    ("FIRENET rec.", 128, False),
    ("FIRENET rec.", 128, True),
]


def child(network: str, size: int, checkpoint: bool, steps: int) -> dict:
    import resource

    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(ROOT))
    from solver.attacks import worst_case_perturbation
    from solver.firenet import FIRENET, PAPER_DEFAULTS, RECOMMENDED
    from solver.networks import (
        DEFAULT_WEIGHTS,
        LearnedReconstruction,
        UNet,
        load_network,
    )
    from solver.operators import WaveletMeasurement, make_operator
    from solver.phantoms import random_ellipses
    from solver.sampling import make_mask
    from solver.wavelets import Wavelet2D, level_weights

    x = random_ellipses(size, 800_000)
    A = make_operator("fourier", make_mask("multilevel", size, 0.25, seed=0))
    y = A.forward(torch.as_tensor(x, dtype=torch.complex64))
    if network == "U-Net":
        if DEFAULT_WEIGHTS.is_file():
            unet, _ = load_network(DEFAULT_WEIGHTS)
            source = "shipped weights"
        else:
            unet = UNet()
            source = "untrained, default architecture"
        net = LearnedReconstruction(A, unet)
        source += f", base width {unet.base_width}"
    else:
        W = Wavelet2D("haar", None, size)
        w = level_weights(torch.as_tensor(x, dtype=torch.float32), W, domain="image")
        if network == "FIRENET 5x5":
            params, source = {**PAPER_DEFAULTS, "restarts": 5, "layers": 5}, "paper parameters"
        else:
            params, source = RECOMMENDED, "RECOMMENDED parameters"
        net = FIRENET(WaveletMeasurement(A, W), weights=w, **params)
        source += f" ({net.restarts} x {net.layers} layers), level weights"
    with torch.no_grad():
        net(y)
    if checkpoint:  # the first non-reentrant checkpoint call in a process costs ~3 s of set-up
        from torch.utils.checkpoint import checkpoint as ckpt

        t = torch.zeros(1, requires_grad=True)
        ckpt(lambda v: v * 2, t, use_reentrant=False).sum().backward()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    worst_case_perturbation(net, y, budget=0.05, steps=steps, checkpoint=checkpoint)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "network": network,
        "size": size,
        "checkpoint": checkpoint,
        "steps": steps,
        # steps + 1 evaluations: each step is a forward and a backward, plus one last forward
        "steps_per_s": steps / elapsed,
        "peak_mb": (peak - base) / 1024.0,
        "source": source,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5, help="gradient steps per configuration")
    parser.add_argument("--child", nargs=3, metavar=("NETWORK", "SIZE", "CHECKPOINT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        network, size, ck = args.child
        print(json.dumps(child(network, int(size), ck == "1", args.steps)))
        return

    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", OMP_NUM_THREADS="1")
    rows = []
    for network, size, ck in CONFIGS:
        cmd = [sys.executable, __file__, "--steps", str(args.steps), "--child", network, str(size), "1" if ck else "0"]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd=ROOT)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(f"Worst-case search, budget 5 %, {args.steps} steps, multilevel Fourier 25 %, complex64, 1 thread")
    header = f"| {'network':<12} | {'N':>4} | {'checkpoint':<10} | {'steps/s':>8} | {'s/step':>7} | {'peak MB':>8} |"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for r in rows:
        print(
            f"| {r['network']:<12} | {r['size']:>4} | {'yes' if r['checkpoint'] else 'no':<10} | "
            f"{r['steps_per_s']:>8.2f} | {1 / r['steps_per_s']:>7.3f} | {r['peak_mb']:>8.0f} |"
        )
    for source in sorted({f"{r['network']}: {r['source']}" for r in rows}):
        print(source)


if __name__ == "__main__":
    main()
