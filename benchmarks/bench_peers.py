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

Run::

    python benchmarks/bench_peers.py --sizes 128 256 1024 --rounds 7 --psnr-size 256
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

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from solver.firenet import FIRENET  # noqa: E402
from solver.metrics import psnr  # noqa: E402
from solver.operators import SubsampledFourier, WaveletMeasurement  # noqa: E402
from solver.phantoms import shepp_logan  # noqa: E402
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


def run_size(size: int, layers: int, rounds: int, peer_iterations: int, peer_lam: float, peers: dict) -> dict:
    A, mask, truth, y = build(size)
    coeffs = A.adjoint(y)
    fixed = FIRENET(A, lam=LAM, restarts=math.ceil(layers / 5), layers=5)
    adaptive = FIRENET(A, lam=LAM, schedule="adaptive", max_layers=layers)
    ours = {
        "pair": lambda: [(A.forward(coeffs), A.adjoint(y)) for _ in range(layers)],
        "fixed": lambda: fixed.solve(y),
        "adaptive": lambda: adaptive.solve(y),
    }
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 1024])
    parser.add_argument("--layers", type=int, default=60, help="layers per timed FIRENET call")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--peer-iterations", type=int, default=50,
                        help="iterations of the longer of a peer's two timed runs")
    parser.add_argument("--peer-lam", type=float, default=PEER_LAM)
    parser.add_argument("--no-peers", action="store_true", help="time the project only")
    parser.add_argument("--psnr-size", type=int, default=None,
                        help="also the iterations to a PSNR within 0.1 dB of the final one at this N "
                             "(one of --sizes)")
    parser.add_argument("--psnr-iterations", type=int, default=500)
    args = parser.parse_args(argv)
    if args.psnr_size is not None and args.psnr_size not in args.sizes:
        raise SystemExit(f"--psnr-size must be one of --sizes {args.sizes}, got {args.psnr_size}")
    if args.layers < 1 or args.rounds < 1 or args.peer_iterations < 2:
        raise SystemExit("--layers and --rounds must be >= 1, --peer-iterations >= 2")
    torch.set_num_threads(1)
    peers, missing = ({}, {"BART": "--no-peers", "sigpy": "--no-peers"}) if args.no_peers else find_peers()
    print(f"torch {torch.__version__}, one thread, complex64; lam = {LAM} (ours), {args.peer_lam} (peers); "
          f"{args.layers} layers per call, peers {args.peer_iterations} and {max(1, args.peer_iterations // 5)} "
          f"iterations, {args.rounds} interleaved rounds; min / median of the rounds' paired ratios")
    for name, why in missing.items():
        print(f"{name}: skipped, {why}")
    results = {}
    for size in args.sizes:
        results[size] = run_size(size, args.layers, args.rounds, args.peer_iterations, args.peer_lam, peers)
        t = results[size]["times"]
        loads = results[size]["loads"]
        ms = {name: statistics.median(v) * 1e3 for name, v in t.items()}
        print(f"N = {size}: A + A* {ms['pair']:.2f} ms, fixed layer {ms['fixed']:.2f} ms, "
              f"adaptive layer {ms['adaptive']:.2f} ms"
              + "".join(f", {name} iteration {ms[name]:.2f} ms" for name in peers)
              + f" (CPU, medians); load average {min(loads):.1f}-{max(loads):.1f}", flush=True)
    print()
    print("| N | fixed layer / (A + A*) | adaptive layer / (A + A*) | adaptive / BART iteration "
          "| adaptive / sigpy iteration | load average |")
    print("|---|---|---|---|---|---|")
    for size, res in results.items():
        t = res["times"]
        print(f"| {size} | {ratios(t, 'fixed', 'pair')} | {ratios(t, 'adaptive', 'pair')} "
              f"| {ratios(t, 'adaptive', 'BART')} | {ratios(t, 'adaptive', 'sigpy')} "
              f"| {min(res['loads']):.1f}-{max(res['loads']):.1f} |")
    if args.psnr_size is not None:
        t = results[args.psnr_size]["times"]
        per_iteration_ms = {"adaptive": statistics.median(t["adaptive"]) * 1e3,
                            **{name: statistics.median(t[name]) * 1e3 for name in peers}}
        psnr_table(args.psnr_size, args.psnr_iterations, args.peer_lam, peers, per_iteration_ms)


if __name__ == "__main__":
    main()
