"""Sweep: accuracy and stability of the U-Net and FIRENET, to choose the page's demonstration.

Setting: N = 256, Fourier, multilevel 25 % (seed 0: the shipped U-Net's training mask),
held-out ellipse images ``example_image(800000 + i, 256)`` (odd seeds carry a faint
detail), complex64 data as in the app.

Each row of the CSV is one (image, network, perturbation, budget):

* ``clean``: the network on noiseless data (relative error, PSNR).
* ``own-meas``: the network's own worst case in measurement space,
  ``||e|| <= budget ||y||`` (:func:`solver.attacks.worst_case_perturbation`).
* ``own-image``: its own image-domain worst case, data ``A(x + r)`` with
  ``||r|| <= budget ||x||`` (:func:`solver.attacks.worst_case_image_perturbation`), the
  instability literature's setting (the data are those of the image ``x + r``).
* ``unet-meas`` / ``unet-image``: the shipped U-Net's own worst case given to this
  network (:func:`solver.attacks.transfer`).
* ``random``: complex Gaussian noise of the budget's norm.

Columns: ``rel_e`` = ||e|| / ||y|| of the data perturbation actually applied;
``img_rel`` = ||A* e|| / ||x|| (measurement domain) or ||r|| / ||x|| (image domain), and
``img_max`` the largest pixel of that perturbation image (how visible it is: the images
lie in [0, 1]); ``err_clean`` / ``err_pert`` the relative error to the truth ``x``
without / with the perturbation (``psnr_*`` likewise), ``growth`` their ratio;
``err_pert_xr`` the error to ``x + r`` (image domain: what an accurate method returns);
``change`` = ||f(y + e) - f(y)|| / ||f(y)||; ``K`` = change / rel_e.

Networks (``--networks``, comma separated):

* ``unet``: the shipped U-Net with its data-consistency last layer;
* ``unet-nodc``: the same weights without that layer;
* ``unet-plain``: the earlier plain U-Net of commit 23e609b (no such layer);
* ``fire-paper``: FIRENET with the paper's 5 x 5 layers, ergodic output;
* ``fire-rec``: FIRENET RECOMMENDED (15 x 20 layers, last iterate);
* options appended with ``:``, e.g. ``fire-rec:lam=1e-2:w=unit:n=5:p=20:out=ergodic``
  (``w`` is ``levels``, the app's default, or ``unit``).

Rows already in the CSV (same key) are skipped, so an interrupted sweep resumes. Run::

    OMP_NUM_THREADS=1 python benchmarks/sweep_paradox.py --images 0,1 \
        --networks unet,fire-paper,fire-rec --kinds clean,own-meas --budgets 0.01,0.05
    python benchmarks/sweep_paradox.py --table      # the markdown table of the CSV
"""

from __future__ import annotations

import argparse
import csv
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = ROOT / "benchmarks" / "results" / "sweep_paradox.csv"
SIZE = 256
TEST_SEED = 800000
PLAIN_UNET_COMMIT = "23e609b"
KINDS = ("clean", "own-meas", "own-image", "unet-meas", "unet-image", "random")
KEY = ("image", "network", "kind", "budget", "steps", "lr")
FIELDS = KEY + (
    "detail", "rel_e", "img_rel", "img_max", "err_clean", "psnr_clean", "err_pert",
    "psnr_pert", "growth", "err_pert_xr", "change", "K", "lam_w_norm", "seconds",
)


# --------------------------------------------------------------------------------------
# networks
# --------------------------------------------------------------------------------------
def _plain_unet_path(tmp: Path) -> Path:
    """The plain U-Net of commit 23e609b, written with its card into ``tmp``."""
    out = tmp / "unet_multilevel_r25_n256.safetensors"
    for suffix in ("safetensors", "json"):
        blob = subprocess.run(["git", "show", f"{PLAIN_UNET_COMMIT}:weights/unet_multilevel_r25_n256.{suffix}"],
                              cwd=ROOT, capture_output=True, check=True).stdout
        out.with_suffix("." + suffix).write_bytes(blob)
    return out


def parse_network(spec: str) -> tuple[str, dict[str, str]]:
    """``"fire-rec:lam=1e-2:w=unit"`` -> ``("fire-rec", {"lam": "1e-2", "w": "unit"})``."""
    base, *options = spec.split(":")
    values = {}
    for option in options:
        name, _, value = option.partition("=")
        if name not in ("lam", "w", "n", "p", "out") or not value:
            raise ValueError(f"network option must be lam=, w=, n=, p= or out=, got {option!r} in {spec!r}")
        values[name] = value
    if base not in ("unet", "unet-nodc", "unet-plain", "fire-paper", "fire-rec"):
        raise ValueError(f"unknown network {base!r}")
    if base.startswith("unet") and values:
        raise ValueError(f"the U-Nets take no options, got {spec!r}")
    return base, values


class Setting:
    """Operator, mask, networks, built once per process."""

    def __init__(self) -> None:
        from solver.networks import DEFAULT_WEIGHTS, LearnedReconstruction, load_network
        from solver.operators import WaveletMeasurement, make_operator
        from solver.sampling import make_mask
        from solver.wavelets import Wavelet2D

        self.mask = make_mask("multilevel", SIZE, 0.25, seed=0)
        self.A = make_operator("fourier", self.mask)
        self.W = Wavelet2D("haar", None, SIZE)
        self.AW = WaveletMeasurement(self.A, self.W)
        unet, _ = load_network(DEFAULT_WEIGHTS)
        self.unet = LearnedReconstruction(self.A, unet)
        self._nets = {"unet": self.unet}
        self._tmp = tempfile.TemporaryDirectory()
        self._load_network = load_network
        self._learned = LearnedReconstruction

    def network(self, spec: str, truth: np.ndarray) -> tuple[torch.nn.Module, float]:
        """The network of ``spec`` for ``truth`` (level weights come from the truth, as in the
        app) and ``lam ||w||_2`` (nan for the U-Nets): below 1 the sqrt-LASSO minimiser fits
        the data exactly."""
        base, opt = parse_network(spec)
        if base == "unet":
            return self.unet, math.nan
        if base == "unet-nodc":
            if "unet-nodc" not in self._nets:
                unet, _ = self._load_network()
                unet.data_consistency = False
                self._nets["unet-nodc"] = self._learned(self.A, unet)
            return self._nets["unet-nodc"], math.nan
        if base == "unet-plain":
            if "unet-plain" not in self._nets:
                unet, card = self._load_network(_plain_unet_path(Path(self._tmp.name)))
                assert not unet.data_consistency, card["architecture"]
                self._nets["unet-plain"] = self._learned(self.A, unet)
            return self._nets["unet-plain"], math.nan
        from solver.firenet import FIRENET, PAPER_DEFAULTS, RECOMMENDED
        from solver.wavelets import level_weights

        params = dict(PAPER_DEFAULTS, restarts=5, layers=5) if base == "fire-paper" else dict(RECOMMENDED)
        if "lam" in opt:
            params["lam"] = float(opt["lam"])
        if "n" in opt:
            params["restarts"] = int(opt["n"])
        if "p" in opt:
            params["layers"] = int(opt["p"])
        if "out" in opt:
            params["output"] = opt["out"]
        weights = None
        if opt.get("w", "levels") == "levels":
            weights = level_weights(torch.as_tensor(truth, dtype=torch.float32), self.W, domain="image")
        elif opt["w"] != "unit":
            raise ValueError(f"w must be levels or unit, got {opt['w']!r}")
        w_norm = float(torch.linalg.vector_norm(weights.double())) if weights is not None else float(SIZE)
        return FIRENET(self.AW, weights=weights, **params), params["lam"] * w_norm


# --------------------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------------------
def _norm(t: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(t.to(torch.complex128 if t.is_complex() else torch.float64)))


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return _norm(a.double() - b.double()) / _norm(b.double())


class Sweep:
    """Measures rows and appends them to the CSV ``out``; rows already there are skipped.

    The U-Net's own worst cases are kept per (image, domain, budget), so giving them to
    several networks searches them once per process.
    """

    def __init__(self, setting: Setting, steps: int, lr: float, out: Path) -> None:
        self.s = setting
        self.steps = steps
        self.lr = lr
        self.out = out
        self._unet_attacks: dict = {}
        self.done = set()
        if out.is_file():
            with out.open() as f:
                self.done = {tuple(row[k] for k in KEY) for row in csv.DictReader(f)}

    def key(self, seed: int, spec: str, kind: str, budget: float) -> tuple[str, ...]:
        """The CSV key of a row (searches' steps and lr are 0 for rows without a search)."""
        steps = 0 if kind in ("clean", "random") else self.steps
        lr = 0.0 if kind in ("clean", "random") else self.lr
        return (str(seed), spec, kind, f"{budget:g}", str(steps), f"{lr:g}")

    def attack(self, net, kind: str, x: torch.Tensor, y: torch.Tensor, budget: float):
        from solver.attacks import (
            worst_case_image_perturbation,
            worst_case_perturbation,
        )

        if kind == "meas":
            return worst_case_perturbation(net, y, budget=budget, steps=self.steps, lr=self.lr, seed=0)
        return worst_case_image_perturbation(net, self.s.A, x, budget=budget, steps=self.steps, lr=self.lr, seed=0)

    def unet_attack(self, seed: int, kind: str, x: torch.Tensor, y: torch.Tensor, budget: float):
        key = (seed, kind, budget)
        if key not in self._unet_attacks:
            self._unet_attacks[key] = self.attack(self.s.unet, kind, x, y, budget)
        return self._unet_attacks[key]

    def row(self, seed: int, spec: str, kind: str, budget: float) -> dict | None:
        """Measure one row and append it to the CSV; None when it is there already."""
        from solver.attacks import evaluate_perturbation
        from solver.datasets import example_image, has_detail
        from solver.metrics import psnr
        from solver.perturbations import complex_gaussian_noise

        key = self.key(seed, spec, kind, budget)
        if key in self.done:
            return None
        start = time.perf_counter()
        truth = example_image(seed, SIZE)
        x = torch.as_tensor(truth, dtype=torch.float32)
        y = self.s.A.forward(x.to(torch.complex64))
        net, lam_w = self.s.network(spec, truth)
        r = None
        if kind == "clean":
            y_pert = y
        elif kind == "random":
            y_pert = y + complex_gaussian_noise(y, budget, seed=1)
        else:
            source, domain = kind.split("-")
            result = (self.attack(net, domain, x, y, budget) if source == "own"
                      else self.unet_attack(seed, domain, x, y, budget))
            y_pert = result.perturbed_data
            if domain == "image":
                r = result.perturbation
        eff = evaluate_perturbation(net, y, y_pert, truth=x)
        e = y_pert - y
        pert_image = r if r is not None else self.s.A.adjoint(e).real
        row = dict(zip(KEY, key))
        row.update(
            detail=int(has_detail(seed)),
            rel_e=_norm(e) / _norm(y),
            img_rel=_norm(pert_image) / _norm(x),
            img_max=float(pert_image.abs().max()),
            err_clean=eff.clean_error,
            psnr_clean=psnr(eff.clean_output, truth),
            err_pert=eff.perturbed_error,
            psnr_pert=psnr(eff.perturbed_output, truth),
            growth=eff.perturbed_error / eff.clean_error,
            err_pert_xr=_rel(eff.perturbed_output, x + r) if r is not None else math.nan,
            change=eff.relative_output_change,
            K=eff.amplification if kind != "clean" else math.nan,
            lam_w_norm=lam_w,
            seconds=time.perf_counter() - start,
        )
        self.write(row)
        self.done.add(key)
        return row

    def write(self, row: dict) -> None:
        new = not self.out.is_file()
        self.out.parent.mkdir(parents=True, exist_ok=True)
        with self.out.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=FIELDS)
            if new:
                writer.writeheader()
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})


# --------------------------------------------------------------------------------------
# table
# --------------------------------------------------------------------------------------
def markdown(path: Path) -> str:
    """The CSV as one markdown table, rows grouped by network, kind and budget."""
    with path.open() as f:
        rows = list(csv.DictReader(f))
    head = ("image", "network", "kind", "budget", "rel_e", "img_rel", "img_max", "err_clean",
            "err_pert", "psnr_clean", "psnr_pert", "growth", "change", "K", "err_pert_xr", "lam_w_norm", "seconds")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def fmt(v: str) -> str:
        try:
            f = float(v)
        except ValueError:
            return v
        if math.isnan(f):
            return ""
        return f"{f:.3g}" if abs(f) < 1000 else f"{f:.0f}"

    for row in rows:
        lines.append("| " + " | ".join(fmt(row[h]) for h in head) + " |")
    return "\n".join(lines)


def summary(path: Path) -> str:
    """Compact markdown tables of the CSV, averaged over the images each row has.

    Accuracy: mean PSNR and relative error per network on noiseless data. Stability: per
    (network, kind, budget, steps), mean error to the truth clean -> perturbed, its growth,
    the relative output change, K, the perturbation's size in the image and its largest
    pixel.
    """
    import pandas as pd

    d = pd.read_csv(path)
    clean = d[d.kind == "clean"].groupby("network").agg(
        images=("image", "count"), psnr=("psnr_clean", "mean"), error=("err_clean", "mean"),
        lam_w_norm=("lam_w_norm", "first")).sort_values("psnr", ascending=False)
    lines = ["| network | images | PSNR (dB) | relative error | lam * norm(w) |", "|---|---|---|---|---|"]
    for name, r in clean.iterrows():
        lam_w = "" if math.isnan(r.lam_w_norm) else f"{r.lam_w_norm:.3g}"
        lines.append(f"| {name} | {int(r.images)} | {r.psnr:.2f} | {r.error:.4f} | {lam_w} |")
    attacked = d[d.kind != "clean"].groupby(["network", "kind", "budget", "steps"], sort=False).agg(
        images=("image", "count"), err_clean=("err_clean", "mean"), err_pert=("err_pert", "mean"),
        growth=("growth", "mean"), change=("change", "mean"), K=("K", "mean"),
        img_rel=("img_rel", "mean"), img_max=("img_max", "mean"), err_xr=("err_pert_xr", "mean"))
    attacked = attacked.sort_values(["kind", "budget", "steps"], kind="stable")
    lines += ["", "| network | perturbation | budget | steps | images | error clean -> perturbed | growth | "
              "output change | K | perturbation in image: rel / max pixel | error to x + r |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (name, kind, budget, steps), r in attacked.iterrows():
        xr = "" if math.isnan(r.err_xr) else f"{r.err_xr:.4f}"
        lines.append(f"| {name} | {kind} | {budget:g} | {steps} | {int(r.images)} | {r.err_clean:.4f} -> "
                     f"{r.err_pert:.4f} | {r.growth:.2f} | {r.change:.4f} | {r.K:.2f} | "
                     f"{r.img_rel:.4f} / {r.img_max:.4f} | {xr} |")
    return "\n".join(lines)


def minimiser_check(seed: int = TEST_SEED, budget: float = 0.01, steps: int = 20, lr: float = 0.005) -> None:
    """Is FIRENET's worst case a property of the sqrt-LASSO minimiser, not of float32 or depth?

    Searches the worst case against a 40-layer FIRENET (2 x 20, level weights, complex64),
    then applies it in complex128 to FIRENETs of 40, 300 and 1200 layers (the last at the
    minimiser) and to the U-Net.
    """
    from solver.attacks import evaluate_perturbation, worst_case_perturbation
    from solver.datasets import example_image
    from solver.firenet import FIRENET, RECOMMENDED
    from solver.wavelets import level_weights

    s = Setting()
    truth = example_image(seed, SIZE)
    x = torch.as_tensor(truth, dtype=torch.float32)
    y = s.A.forward(x.to(torch.complex64))
    net, _ = s.network("fire-rec:n=2:p=20", truth)
    found = worst_case_perturbation(net, y, budget=budget, steps=steps, lr=lr, seed=0)
    print(f"image {seed}: worst case of FIRENET 2 x 20 (complex64), ||e||/||y|| = {found.relative_norm:.4f}, "
          f"K = {found.relative_output_change / found.relative_norm:.2f}")
    y64, e64 = y.to(torch.complex128), found.perturbation.to(torch.complex128)
    w = level_weights(torch.as_tensor(truth), s.W, domain="image")
    for n in (2, 15, 60):
        f = FIRENET(s.AW, weights=w, **{**RECOMMENDED, "restarts": n, "layers": 20})
        eff = evaluate_perturbation(f, y64, y64 + e64, truth=torch.as_tensor(truth))
        print(f"  FIRENET {n} x 20 (complex128): error {eff.clean_error:.4f} -> {eff.perturbed_error:.4f}, "
              f"output change {eff.relative_output_change:.4f}, K {eff.amplification:.2f}")
    eff = evaluate_perturbation(s.unet, y, y + found.perturbation, truth=x)
    print(f"  U-Net: error {eff.clean_error:.4f} -> {eff.perturbed_error:.4f}, "
          f"output change {eff.relative_output_change:.4f}, K {eff.amplification:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default="0", help="held-out indices i (seed 800000 + i), comma separated")
    parser.add_argument("--networks", default="unet,fire-paper,fire-rec")
    parser.add_argument("--kinds", default="clean,own-meas", help=f"comma separated, of {KINDS}")
    parser.add_argument("--budgets", default="0.01,0.05", help="relative budgets (ignored by 'clean')")
    parser.add_argument("--steps", type=int, default=20, help="attack steps")
    parser.add_argument("--lr", type=float, default=0.005, help="attack step relative to ||y|| (or ||x||)")
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--table", action="store_true", help="only print the CSV as a markdown table")
    parser.add_argument("--summary", action="store_true",
                        help="only print mean accuracy and stability per network as markdown tables")
    parser.add_argument("--minimiser-check", action="store_true",
                        help="only check that FIRENET's worst case is the minimiser's (complex128, 1200 layers)")
    args = parser.parse_args()
    if args.minimiser_check:
        torch.set_num_threads(1)
        minimiser_check()
        return
    if args.table:
        print(markdown(args.csv))
        return
    if args.summary:
        print(summary(args.csv))
        return
    kinds = args.kinds.split(",")
    for kind in kinds:
        if kind not in KINDS:
            raise SystemExit(f"--kinds: unknown {kind!r}, expected some of {KINDS}")
    specs = args.networks.split(",")
    for spec in specs:
        parse_network(spec)
    budgets = [float(b) for b in args.budgets.split(",")]
    seeds = [TEST_SEED + int(i) for i in args.images.split(",")]

    torch.set_num_threads(1)
    sweep = Sweep(Setting(), args.steps, args.lr, args.csv)
    for seed in seeds:
        for kind in kinds:
            for spec in specs:
                for budget in ([0.0] if kind == "clean" else budgets):
                    row = sweep.row(seed, spec, kind, budget)
                    if row is not None:
                        print(f"{seed} {spec:28s} {kind:10s} {budget:5.3f}: err {row['err_clean']:.4f} -> "
                              f"{row['err_pert']:.4f} (x{row['growth']:.2f}), change {row['change']:.4f}, "
                              f"K {row['K']:.2f}, rel_e {row['rel_e']:.4f}, img_max {row['img_max']:.4f}, "
                              f"{row['seconds']:.1f} s", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
