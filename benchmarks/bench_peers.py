"""Benchmark: a FIRENET layer beside one bare A + A*, a BART ``pics`` iteration and a sigpy
``L1WaveletRecon`` iteration, on the same problems.

Problems: Shepp-Logan, unitary centred Fourier, variable-density 25 % mask (seed 0), Haar
with the maximal number of levels (ours), unit weights, complex64, one thread
(``OMP_NUM_THREADS=1`` for every peer and ``torch.set_num_threads(1)`` here). Each
round times, one after the other in this order: ``--layers`` of ``A`` plus ``A^*`` (the
bare pair), the fixed FIRENET (5 layers per restart), the adaptive FIRENET, then BART
and sigpy. A round's ratios are taken within that round (so a busy machine slows both
sides of a ratio alike), and the tables give the minimum and the median over the
rounds of those paired ratios. Times are CPU seconds of this process
(``time.process_time``) or, for BART, of its child processes
(``resource.getrusage(RUSAGE_CHILDREN)``).

Peers (optional, never project requirements; a peer that is not installed is skipped
and the table says so):

* BART (Debian's ``bart`` package): ``bart pics -l1 -r LAM -n --wavelet haar -w 1 -i K``
  (FISTA, no random cycle spinning, no data rescaling) on single-coil data with unit
  sensitivities. One iteration = the difference of the CPU times of two runs with
  ``--peer-iterations`` and a fifth of them, over the difference of the counts: the
  start-up and the files cancel.
* sigpy (``pip install sigpy``): ``sigpy.mri.app.L1WaveletRecon(y, ones, LAM,
  weights=mask, wave_name="haar", alpha=1, max_iter=K)`` (accelerated proximal
  gradient; the step 1 is ``1 / ||A||^2``, so no power iteration), timed the same way.

The lam of the peers (``--peer-lam``) only sets their threshold: the time of an
iteration does not depend on it.

With ``--psnr-size N`` a second table gives, on the problem at N with 5 Haar levels (that
of ``bench_firenet.py``'s "bart" problem), the iterations each method needs until its
image's PSNR against the phantom is within 0.1 dB of its own PSNR after
``--psnr-iterations`` (its minimiser's, to that accuracy), and that count times its median
per-iteration CPU time from the first table at the same N. The problems are not
matched: each method converges to the minimiser of its own objective (ours the
square-root LASSO with lam = ``LAM``, the peers the LASSO with ``--peer-lam``), so the
final PSNRs are printed beside the counts. BART restarts for every count (it has no
callback), on the grid ``BART_COUNTS``. The load average (``os.getloadavg``) is printed with
each table: on a shared machine absolute times are inflated, the ratios less so.

With ``--certified-rounds R`` a third part times answers on BART's own problem
(``bart phantom -x 256``, ``bart poisson -Y 256 -Z 256 -y 2 -z 2 -C 24 -s 0``: Shepp-Logan
with a Poisson-disc mask at 25.6 %; our Haar with maximal levels, unit weights, lam
``--certified-lam``), with the peers' lam matched: ``lam x ||A x* - y||`` for our minimiser
``x*`` (a ``--reference-layers`` complex128 run), for which the LASSO ``1/2 ||A x - y||^2 +
lam' ||x||_1`` has the same minimiser (the final PSNRs show where a peer's problem still
differs). Printed: our layers, certified gap and CPU time to the certified relative gap
1e-6 in complex64 alone, complex128 alone and mixed precision (``AdaptiveRule.mixed_precision``);
then per method the iterations until the PSNR is within 0.1 dB of its minimiser's (ours:
the reference run's PSNR; the peers': their PSNR after 500 iterations) and until 1e-6 (ours:
certified, mixed precision; the peers': relative change of the image per iteration, which
certifies nothing, found by doubling and three bisections); and the ratios of our times
to the peers' (ours: a whole run timed, the peers': the count times that round's
per-iteration time), min / median over ``R`` interleaved rounds, with the load average.

With ``--check-intervals K ...`` the adaptive layer is also timed with ``K`` layers between
its checks (``AdaptiveRule.check_every``; 10 by default), to show what the checks cost.

Run::

    python benchmarks/bench_peers.py --sizes 128 256 1024 --rounds 7 --psnr-size 256
    python benchmarks/bench_peers.py --no-peers --sizes 256 1024 --layers 120 --check-intervals 10 20 40 80
    python benchmarks/bench_peers.py --rounds 0 --certified-rounds 3
"""

from __future__ import annotations

import os

# one thread for numpy, BLAS and the FFTs of every peer (set before numpy is imported)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from solver.firenet import FIRENET  # noqa: E402
from solver.metrics import psnr  # noqa: E402
from solver.operators import SubsampledFourier, WaveletMeasurement  # noqa: E402
from solver.phantoms import shepp_logan  # noqa: E402
from solver.schedules import AdaptiveRule  # noqa: E402
from solver.sampling import make_mask  # noqa: E402
from solver.wavelets import Wavelet2D  # noqa: E402

LAM = 0.0093  # ours (square-root LASSO, unit weights), as bench_firenet's "bart" problem
PEER_LAM = 0.005  # the peers' (LASSO); see --peer-lam
PSNR_LEVELS = 5  # Haar levels of the PSNR problem (bench_firenet's "bart" problem)
PSNR_MARGIN = 0.1  # dB below the final PSNR that counts as reached
BART_COUNTS = (5, 10, 15, 20, 30, 40, 50, 60, 80, 100, 130, 160, 200, 250, 300, 400, 500)


def build(size: int, levels: int | None = None):
    """Operator, mask (numpy bool), truth and complex64 data of the problem at ``size``."""
    mask = make_mask("variable_density", size, 0.25, seed=0)
    A = WaveletMeasurement(SubsampledFourier(mask), Wavelet2D("haar", levels, size))
    truth = torch.as_tensor(shepp_logan(size), dtype=torch.float64)
    y = A.sampling.forward(truth).to(torch.complex64)
    return A, np.asarray(mask, dtype=bool), truth, y


def write_cfl(path: str, array: np.ndarray) -> None:
    """BART's file pair: ``path.hdr`` (dimensions) and ``path.cfl`` (complex64, column-major)."""
    with open(path + ".hdr", "w") as f:
        f.write("# Dimensions\n" + " ".join(str(d) for d in array.shape) + "\n")
    np.asarray(array, dtype=np.complex64).ravel(order="F").tofile(path + ".cfl")


class BartPeer:
    """``bart pics`` on one problem, in its own temporary folder."""

    name = "BART"

    def __init__(self, executable: str, A, mask: np.ndarray, y: torch.Tensor, lam: float):
        self.executable = executable
        self.lam = lam
        self.folder = tempfile.mkdtemp(prefix="bench-peers-")
        size = mask.shape[0]
        kspace = np.zeros((size, size), dtype=np.complex64)
        kspace[mask] = y.numpy()  # y lists the sampled entries in row-major centred order
        write_cfl(os.path.join(self.folder, "kspace"), kspace.reshape(size, size, 1, 1))
        write_cfl(os.path.join(self.folder, "sens"), np.ones((size, size, 1, 1), dtype=np.complex64))
        self.env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def run(self, iterations: int) -> float:
        """CPU seconds (user + system) of one ``pics`` run of ``iterations`` iterations."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(
            [self.executable, "pics", "-l1", "-r", str(self.lam), "-n", "--wavelet", "haar", "-w", "1",
             "-i", str(iterations), "kspace", "sens", "out"],
            cwd=self.folder, env=self.env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    def image(self, iterations: int) -> np.ndarray:
        """The (N, N) complex image of a run of ``iterations`` iterations."""
        self.run(iterations)
        size = int(np.sqrt(np.fromfile(os.path.join(self.folder, "sens.cfl"), dtype=np.complex64).size))
        out = np.fromfile(os.path.join(self.folder, "out.cfl"), dtype=np.complex64)
        return out.reshape(size, size, order="F")

    def psnr_curve(self, truth: np.ndarray, last: int) -> dict:
        return {k: psnr(self.image(k), truth) for k in (*[c for c in BART_COUNTS if c < last], last)}

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class SigpyPeer:
    """``sigpy.mri.app.L1WaveletRecon`` on one problem, in this process."""

    name = "sigpy"

    def __init__(self, app_module, A, mask: np.ndarray, y: torch.Tensor, lam: float):
        self.app = app_module
        size = mask.shape[0]
        kspace = np.zeros((1, size, size), dtype=np.complex64)
        kspace[0][mask] = y.numpy()
        self.kspace = kspace
        self.mps = np.ones((1, size, size), dtype=np.complex64)
        self.weights = mask.astype(np.float32)
        self.lam = lam

    def run(self, iterations: int) -> float:
        start = time.process_time()
        self.app.L1WaveletRecon(self.kspace, self.mps, self.lam, weights=self.weights, wave_name="haar",
                                alpha=1.0, max_iter=iterations, show_pbar=False).run()
        return time.process_time() - start

    def psnr_curve(self, truth: np.ndarray, last: int) -> dict:
        """PSNR after every iteration of one run of ``last`` iterations."""
        app = self.app.L1WaveletRecon(self.kspace, self.mps, self.lam, weights=self.weights, wave_name="haar",
                                      alpha=1.0, max_iter=last, show_pbar=False)
        curve = {}
        for k in range(1, last + 1):
            app.alg.update()
            curve[k] = psnr(np.asarray(app.x), truth)
        return curve

    def close(self) -> None:
        pass


def find_peers() -> tuple[dict, dict]:
    """The installed peers' constructors and, for each missing one, why it is skipped."""
    found, missing = {}, {}
    bart = shutil.which("bart")
    if bart:
        found["BART"] = lambda A, mask, y, lam: BartPeer(bart, A, mask, y, lam)
    else:
        missing["BART"] = "no `bart` on PATH (Debian: apt-get install bart)"
    try:
        import sigpy.mri.app as sigpy_app
    except ImportError as exc:
        missing["sigpy"] = f"not importable ({exc}; pip install sigpy)"
    else:
        found["sigpy"] = lambda A, mask, y, lam: SigpyPeer(sigpy_app, A, mask, y, lam)
    return found, missing


def per_iteration(run, iterations: int) -> float:
    """CPU seconds of one iteration: two runs, ``iterations`` and a fifth of them."""
    short = max(1, iterations // 5)
    difference = run(iterations) - run(short)
    # on a busy machine a tiny problem can time the shorter run longer: no estimate then
    return difference / (iterations - short) if difference > 0 else math.nan


def ratios(times: dict, num: str, den: str) -> str:
    if num not in times or den not in times:
        return "-"
    r = sorted(a / b for a, b in zip(times[num], times[den]))
    return f"{r[0]:.2f} / {statistics.median(r):.2f}"


def run_size(size: int, layers: int, rounds: int, peer_iterations: int, peer_lam: float, peers: dict,
             check_intervals: tuple[int, ...] = ()) -> dict:
    A, mask, truth, y = build(size)
    coeffs = A.adjoint(y)
    fixed = FIRENET(A, lam=LAM, restarts=math.ceil(layers / 5), layers=5)
    adaptive = FIRENET(A, lam=LAM, schedule="adaptive", max_layers=layers)
    ours = {
        "pair": lambda: [(A.forward(coeffs), A.adjoint(y)) for _ in range(layers)],
        "fixed": lambda: fixed.solve(y),
        "adaptive": lambda: adaptive.solve(y),
    }
    for interval in check_intervals:  # the same schedule, checked less or more often
        net = FIRENET(A, lam=LAM, schedule="adaptive", max_layers=layers, rule=AdaptiveRule(check_every=interval))
        ours[f"checks every {interval}"] = lambda net=net: net.solve(y)
    instances = {name: make(A, mask, y, peer_lam) for name, make in peers.items()}
    times = {name: [] for name in [*ours, *instances]}
    loads = [os.getloadavg()[0]]
    try:
        with torch.no_grad():
            for call in ours.values():  # warm-up: first-call allocations and plans
                call()
            for peer in instances.values():  # and the peers' (sigpy compiles with numba)
                peer.run(2)
            for _ in range(rounds):
                for name, call in ours.items():
                    start = time.process_time()
                    call()
                    times[name].append((time.process_time() - start) / layers)
                for name, peer in instances.items():
                    times[name].append(per_iteration(peer.run, peer_iterations))
                loads.append(os.getloadavg()[0])
    finally:
        for peer in instances.values():
            peer.close()
    return {"times": times, "loads": loads, "M": A.num_measurements}


def first_within(curve: dict, margin: float) -> tuple[int, float]:
    """First count whose PSNR is within ``margin`` dB of the last one's, and the last PSNR."""
    final = curve[max(curve)]
    return min(k for k, v in curve.items() if v >= final - margin), final


def psnr_table(size: int, last: int, peer_lam: float, peers: dict, per_iteration_ms: dict) -> None:
    A, mask, truth, y = build(size, PSNR_LEVELS)
    reference = truth.numpy()
    curves = {}
    record = {}

    def callback(r):
        record[r.layer] = psnr(A.wavelet.inverse(r.coeffs), reference)

    with torch.no_grad():
        FIRENET(A, lam=LAM, schedule="adaptive", max_layers=last).solve(y, callback=callback)
    curves["adaptive"] = record
    for name, make in peers.items():
        peer = make(A, mask, y, peer_lam)
        try:
            curves[name] = peer.psnr_curve(reference, last)
        finally:
            peer.close()
    print(f"\nN = {size}, Haar {PSNR_LEVELS} levels: iterations until the PSNR is within {PSNR_MARGIN} dB of "
          f"its value after {last}, and that many times the median iteration time above; load average "
          f"{os.getloadavg()[0]:.1f}")
    print("| method | final PSNR (dB) | iterations | CPU s | / adaptive |")
    print("|---|---|---|---|---|")
    seconds = {}
    for name, curve in curves.items():
        count, final = first_within(curve, PSNR_MARGIN)
        seconds[name] = count * per_iteration_ms[name] / 1e3
        print(f"| {name} | {final:.2f} | {count} | {seconds[name]:.2f} | {seconds[name] / seconds['adaptive']:.2f} |")


# --- time to a certified answer on BART's own problem -------------------------------------

CERTIFIED_TARGET = 1e-6  # our certified relative gap; the peers' relative change per iteration
PEER_CAP = 1024  # most peer iterations searched for the relative change
OUR_CAP = 1000  # most layers of ours to the certified target
BISECTIONS = 3  # halvings of the bracket found by doubling (the count is known to 1/8 of it)


def read_cfl(path: str) -> np.ndarray:
    """A BART file pair as a complex64 array (column-major, trailing ones dropped)."""
    with open(path + ".hdr") as f:
        dims = [int(d) for d in f.read().split("\n")[1].split()]
    return np.fromfile(path + ".cfl", dtype=np.complex64).reshape(dims, order="F").squeeze()


def bart_problem(executable: str, size: int = 256):
    """BART's Shepp-Logan (``bart phantom -x N``) and its Poisson-disc mask at 25 %
    (``bart poisson -Y N -Z N -y 2 -z 2 -C 24 -s 0``: 16,788 of 65,536 at N = 256) as a problem
    of ours: operator (Haar, maximal levels), mask, image (float64) and complex64 data."""
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as folder:
        for command in (["phantom", "-x", str(size), "image"],
                        ["poisson", "-Y", str(size), "-Z", str(size), "-y", "2", "-z", "2", "-C", "24", "-s", "0",
                         "mask"]):
            subprocess.run([executable, *command], cwd=folder, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        image, mask = read_cfl(os.path.join(folder, "image")), read_cfl(os.path.join(folder, "mask"))
    mask = np.abs(mask) > 0
    A = WaveletMeasurement(SubsampledFourier(mask), Wavelet2D("haar", None, size))
    truth = torch.as_tensor(image.real, dtype=torch.float64)
    return A, mask, truth, A.sampling.forward(truth).to(torch.complex64)


def layers_to_target(A, y, lam: float, *, mixed: bool, layers: int) -> tuple[int, float]:
    """Layers of our adaptive FIRENET until its own certificate is at most the target, and the
    certified relative gap then (``layers`` if never)."""
    last = []
    net = FIRENET(A, lam=lam, schedule="adaptive", max_layers=layers, target_gap=CERTIFIED_TARGET,
                  rule=AdaptiveRule(mixed_precision=mixed))
    with torch.no_grad():
        net.solve(y, callback=lambda r: last.__setitem__(slice(None), [r]))
    return last[0].layer, float(last[0].gap / last[0].dual_value)


def first_small_change(images, cap: int) -> int | None:
    """About the first ``k`` with ``||x_k - x_{k-1}|| <= target ||x_k||`` from ``images(k)``
    (the image after ``k`` iterations): doubling ``k`` from 16, then ``BISECTIONS`` halvings
    of the last bracket (each BART image is a run of its own); ``None`` past ``cap``. The
    change need not fall monotonically: this is the first such ``k`` of the search."""
    def small(k: int) -> bool:
        a, b = images(k - 1), images(k)
        return np.linalg.norm(b - a) <= CERTIFIED_TARGET * np.linalg.norm(b)

    high = 16
    while not small(high):
        if high >= cap:
            return None
        high = min(2 * high, cap)
    low = high // 2
    for _ in range(BISECTIONS):
        middle = (low + high) // 2
        low, high = (low, middle) if small(middle) else (middle, high)
    return high


def sigpy_images(peer) -> Any:
    """``images(k)`` of one sigpy run, stepped once and kept (sigpy is deterministic)."""
    app = peer.app.L1WaveletRecon(peer.kspace, peer.mps, peer.lam, weights=peer.weights, wave_name="haar",
                                  alpha=1.0, max_iter=PEER_CAP + 1, show_pbar=False)
    seen = {0: np.asarray(app.x).copy()}

    def images(k: int) -> np.ndarray:
        while max(seen) < k:
            app.alg.update()
            seen[max(seen) + 1] = np.asarray(app.x).copy()
        return seen[k]

    return images


def certified_table(rounds: int, lam: float, reference_layers: int, peers: dict) -> None:
    """The table of time to an answer on BART's problem (see the module docstring)."""
    bart = shutil.which("bart")
    if bart is None:
        print("time to a certified answer: skipped, it needs BART's problem (no `bart` on PATH)")
        return
    A, mask, truth, y = bart_problem(bart)
    reference = truth.numpy()
    # our minimiser: a long complex128 run; its residual matches the peers' lam (see psnr_table)
    curve = {}
    with torch.no_grad():
        x_star = FIRENET(A, lam=lam, schedule="adaptive", max_layers=reference_layers).solve(
            y.to(torch.complex128), callback=lambda r: curve.__setitem__(r.layer, psnr(
                A.wavelet.inverse(r.coeffs), reference)) if r.layer <= 500 else None)
    residual = float(torch.linalg.vector_norm(A.forward(x_star) - y.to(torch.complex128)))
    print(f"reference run done (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
    peer_lam = lam * residual
    psnr_star = psnr(A.wavelet.inverse(x_star), reference)
    ours_psnr_layers = min(k for k, v in curve.items() if v >= psnr_star - PSNR_MARGIN)
    counts = {name: layers_to_target(A, y, lam, mixed=mixed, layers=OUR_CAP)
              for name, mixed in (("complex64", False), ("mixed", True))}
    counts["complex128"] = layers_to_target(A, y.to(torch.complex128), lam, mixed=False, layers=OUR_CAP)
    print(f"our counts {counts}", file=sys.stderr, flush=True)
    instances = {name: make(A, mask, y, peer_lam) for name, make in peers.items()}
    peer_counts = {}
    for name, peer in instances.items():
        images = sigpy_images(peer) if name == "sigpy" else peer.image
        change = first_small_change(images, PEER_CAP)
        curve = peer.psnr_curve(reference, 500)
        count, final = first_within(curve, PSNR_MARGIN)
        peer_counts[name] = {"psnr": count, "final": final, "change": change}
        print(f"{name} counts {peer_counts[name]}", file=sys.stderr, flush=True)
    ours = {
        "psnr": lambda: FIRENET(A, lam=lam, schedule="adaptive", max_layers=ours_psnr_layers).solve(y),
        **{f"certified {name}": (lambda name=name: FIRENET(
            A, lam=lam, schedule="adaptive", max_layers=OUR_CAP, target_gap=CERTIFIED_TARGET,
            rule=AdaptiveRule(mixed_precision=name == "mixed")).solve(y.to(
                torch.complex128 if name == "complex128" else torch.complex64)))
           for name in ("complex64", "complex128", "mixed")},
    }
    times = {name: [] for name in [*ours, *instances]}
    loads = [os.getloadavg()[0]]
    try:
        with torch.no_grad():
            for _ in range(rounds):
                for name, call in ours.items():
                    start = time.process_time()
                    call()
                    times[name].append(time.process_time() - start)
                for name, peer in instances.items():
                    times[name].append(per_iteration(peer.run, 50))
                loads.append(os.getloadavg()[0])
    finally:
        for peer in instances.values():
            peer.close()
    print_certified(lam, peer_lam, residual, psnr_star, ours_psnr_layers, counts, peer_counts, times, loads, A, mask)


def print_certified(lam, peer_lam, residual, psnr_star, ours_psnr_layers, counts, peer_counts, times, loads, A,
                    mask) -> None:
    """Print the precision table and the time-to-answer table (min / median over the rounds
    of the paired ratios: a peer's time is its count times that round's iteration time)."""
    print(f"\nBART's problem: `bart phantom -x 256`, Poisson disc 25 % ({int(mask.sum())} of {mask.size}), "
          f"Haar {A.wavelet.levels} levels, unit weights; lam = {lam} (ours), the peers' {peer_lam:.4g} "
          f"= lam x ||A x* - y|| ({residual:.4g}, our minimiser: the LASSO with it has the same minimiser); "
          f"load average {min(loads):.1f}-{max(loads):.1f}")
    print(f"\n| ours to certified {CERTIFIED_TARGET:g} | layers | certified | CPU s (min / median) "
          f"| / complex128 (min / median) |")
    print("|---|---|---|---|---|")
    for name in ("complex64", "complex128", "mixed"):
        layers, gap = counts[name]
        t = times[f"certified {name}"]
        print(f"| {name} | {layers} | {gap:.2e} | {min(t):.2f} / {statistics.median(t):.2f} "
              f"| {ratios(times, f'certified {name}', 'certified complex128')} |")
    print(f"\n| method | PSNR of its minimiser (dB) | iterations to within {PSNR_MARGIN} dB | iterations to "
          f"{CERTIFIED_TARGET:g} (ours: certified, peers: relative change) |")
    print("|---|---|---|---|")
    print(f"| adaptive FIRENET (complex64, mixed to 1e-6) | {psnr_star:.2f} | {ours_psnr_layers} "
          f"| {counts['mixed'][0]} |")
    for name, c in peer_counts.items():
        print(f"| {name} | {c['final']:.2f} | {c['psnr']} | {c['change'] or f'> {PEER_CAP}'} |")
    print("\n| ours / peer | time to PSNR within 0.1 dB (min / median) | time to 1e-6 (min / median) |")
    print("|---|---|---|")
    for name, c in peer_counts.items():
        psnr_r = sorted(a / (c["psnr"] * b) for a, b in zip(times["psnr"], times[name]))
        row = f"| ours / {name} | {psnr_r[0]:.2f} / {statistics.median(psnr_r):.2f} | "
        if c["change"]:
            cert_r = sorted(a / (c["change"] * b) for a, b in zip(times["certified mixed"], times[name]))
            row += f"{cert_r[0]:.2f} / {statistics.median(cert_r):.2f} |"
        else:
            row += f"- (no relative change {CERTIFIED_TARGET:g} in {PEER_CAP}) |"
        print(row)



def print_layer_table(results: dict) -> None:
    """The per-layer table: min / median of the rounds' paired ratios, per N."""
    print()
    print("| N | fixed layer / (A + A*) | adaptive layer / (A + A*) | adaptive / BART iteration "
          "| adaptive / sigpy iteration | load average |")
    print("|---|---|---|---|---|---|")
    for size, res in results.items():
        t = res["times"]
        print(f"| {size} | {ratios(t, 'fixed', 'pair')} | {ratios(t, 'adaptive', 'pair')} "
              f"| {ratios(t, 'adaptive', 'BART')} | {ratios(t, 'adaptive', 'sigpy')} "
              f"| {min(res['loads']):.1f}-{max(res['loads']):.1f} |")


def print_interval_table(results: dict, intervals: tuple[int, ...]) -> None:
    """The adaptive layer against the bare pair by the layers between checks (the default
    is ``AdaptiveRule.check_every``); the fixed layer, which has no checks, beside it."""
    print()
    print("| N | fixed layer / (A + A*) | " + " | ".join(f"adaptive, checks every {k} / (A + A*)" for k in intervals)
          + " | load average |")
    print("|---|---|" + "---|" * len(intervals) + "---|")
    for size, res in results.items():
        t = res["times"]
        print(f"| {size} | {ratios(t, 'fixed', 'pair')} | "
              + " | ".join(ratios(t, f"checks every {k}", "pair") for k in intervals)
              + f" | {min(res['loads']):.1f}-{max(res['loads']):.1f} |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 1024])
    parser.add_argument("--layers", type=int, default=60, help="layers per timed FIRENET call")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--peer-iterations", type=int, default=50,
                        help="iterations of the longer of a peer's two timed runs")
    parser.add_argument("--peer-lam", type=float, default=PEER_LAM)
    parser.add_argument("--no-peers", action="store_true", help="time the project only")
    parser.add_argument("--check-intervals", type=int, nargs="*", default=[],
                        help="also the adaptive layer with these layers between checks (default rule: "
                             f"{AdaptiveRule().check_every})")
    parser.add_argument("--psnr-size", type=int, default=None,
                        help="also the iterations to a PSNR within 0.1 dB of the final one at this N "
                             "(one of --sizes)")
    parser.add_argument("--psnr-iterations", type=int, default=500)
    parser.add_argument("--certified-rounds", type=int, default=0,
                        help="also time to a certified answer on BART's own problem, this many rounds (0: skip)")
    parser.add_argument("--certified-lam", type=float, default=LAM, help="our lam on BART's problem")
    parser.add_argument("--reference-layers", type=int, default=1000,
                        help="layers of the complex128 run that gives our minimiser")
    args = parser.parse_args(argv)
    if args.psnr_size is not None and args.psnr_size not in args.sizes:
        raise SystemExit(f"--psnr-size must be one of --sizes {args.sizes}, got {args.psnr_size}")
    if args.layers < 1 or args.rounds < 0 or args.peer_iterations < 2 or args.certified_rounds < 0:
        raise SystemExit("--layers must be >= 1, --rounds and --certified-rounds >= 0, --peer-iterations >= 2")
    if any(k < 1 for k in args.check_intervals):
        raise SystemExit(f"--check-intervals must be >= 1, got {args.check_intervals}")
    torch.set_num_threads(1)
    peers, missing = ({}, {"BART": "--no-peers", "sigpy": "--no-peers"}) if args.no_peers else find_peers()
    print(f"torch {torch.__version__}, one thread, complex64; per layer: lam = {LAM} (ours), {args.peer_lam} (peers); "
          f"{args.layers} layers per call, peers {args.peer_iterations} and {max(1, args.peer_iterations // 5)} "
          f"iterations, {args.rounds} interleaved rounds; min / median of the rounds' paired ratios")
    for name, why in missing.items():
        print(f"{name}: skipped, {why}")
    results = {}
    for size in args.sizes if args.rounds else ():
        results[size] = run_size(size, args.layers, args.rounds, args.peer_iterations, args.peer_lam, peers,
                                 tuple(args.check_intervals))
        t = results[size]["times"]
        loads = results[size]["loads"]
        ms = {name: statistics.median(v) * 1e3 for name, v in t.items()}
        print(f"N = {size}: A + A* {ms['pair']:.2f} ms, fixed layer {ms['fixed']:.2f} ms, "
              f"adaptive layer {ms['adaptive']:.2f} ms"
              + "".join(f", {name} iteration {ms[name]:.2f} ms" for name in peers)
              + f" (CPU, medians); load average {min(loads):.1f}-{max(loads):.1f}", flush=True)
    if results:
        print_layer_table(results)
    if results and args.check_intervals:
        print_interval_table(results, tuple(args.check_intervals))
    if args.psnr_size is not None and results:
        t = results[args.psnr_size]["times"]
        per_iteration_ms = {"adaptive": statistics.median(t["adaptive"]) * 1e3,
                            **{name: statistics.median(t[name]) * 1e3 for name in peers}}
        psnr_table(args.psnr_size, args.psnr_iterations, args.peer_lam, peers, per_iteration_ms)
    if args.certified_rounds:
        certified_table(args.certified_rounds, args.certified_lam, args.reference_layers, peers)


if __name__ == "__main__":
    main()
