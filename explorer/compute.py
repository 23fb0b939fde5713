"""The explorer's only caching layer: everything the page computes, keyed on its inputs.

Three kinds of cache, each for what it fits:

* ``st.cache_resource`` for objects that are built once and shared (the pattern registry,
  operators, wavelets, the trained network);
* ``st.cache_data`` for plain arrays (test images, masks, validated uploads);
* :class:`_Store`, a small LRU dictionary (itself a cached resource) for results that are
  produced with live progress: reconstructions (FIRENET streams its convergence curve
  while it runs), worst-case perturbations and stability curves. Their keys are tuples of
  the frozen settings they depend on, so a change of view (colour scale, depth, which
  panels are shown) never recomputes anything, and going back to earlier settings is
  instant.

Warnings raised by the solver inside a cached function are captured and returned with the
result, so they are shown on every rerun, not only on the first (a cached function does
not run again).

Nothing here draws; progress goes through plain callbacks that ``app.py`` connects to
Streamlit elements.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import streamlit as st
import torch

from explorer.settings import (
    FirenetSettings,
    ImageSettings,
    MeasurementSettings,
    PerturbationSettings,
)

# Two shared cores: OpenMP threads spin-waiting under contention made one FIRENET layer
# ~50x slower (153 ms instead of 3 ms at N = 256). One thread per rerun is fastest here.
torch.set_num_threads(1)
# A FIRENET run is a Python loop of small torch calls that holds the GIL most of the
# time; with the default 5 ms switch interval the server's event loop (websocket
# messages, the page's JavaScript files on a first visit) waited behind it. Measured on
# a cold page load: the complete page appeared ~4 s sooner at 0.5 ms, at no cost to the
# run itself.
sys.setswitchinterval(0.0005)


def _warm_up() -> None:
    # The first PSNR/SSIM call imports scikit-image's metrics and scipy.ndimage (~1 s on a
    # busy machine); do it beside the first FIRENET run instead of after it.
    from solver.metrics import psnr, ssim

    image = np.linspace(0.0, 1.0, 64).reshape(8, 8)
    psnr(image, image[::-1]), ssim(image, image[::-1])


threading.Thread(target=_warm_up, name="explorer-warm-up", daemon=True).start()

__all__ = [
    "DTYPE",
    "pattern_registry",
    "firenet_presets",
    "test_image",
    "user_image",
    "sampling_mask",
    "Problem",
    "base_problem",
    "Reconstruction",
    "reconstruct",
    "cached_reconstruction",
    "network",
    "Variant",
    "variant",
    "attack",
    "stability",
    "metrics",
    "kspace_log",
    "figure",
    "certified",
    "GAP_FLOOR",
]

#: Complex dtype of all app computations (float32 precision, twice the speed of float64).
DTYPE = torch.complex64

# Paper / recommended FIRENET parameters, in the explorer's setting names.
_FIRENET_NAMES = {"restarts": "n", "layers": "p", "nu": "nu", "sharpness": "C", "lam": "lam"}


# --------------------------------------------------------------------------------------
# Registries
# --------------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def pattern_registry() -> Mapping[str, Any]:
    """The solver's sampling patterns (name -> spec with description and parameters)."""
    from solver.sampling import PATTERNS

    return PATTERNS


@st.cache_resource(show_spinner=False)
def firenet_presets(size: int = 256) -> dict[str, dict[str, Any]]:
    """``{"paper": {...}, "recommended": {...}}`` FIRENET settings (n, p, nu, C, ...).

    "recommended" are the values measured for images of side ``size``
    (``solver.firenet.recommended``: one schedule for N >= 256, another for smaller).
    """
    from solver.firenet import PAPER_DEFAULTS, recommended

    def convert(values: Mapping[str, Any], output: str) -> dict[str, Any]:
        out = {ours: values[theirs] for theirs, ours in _FIRENET_NAMES.items() if theirs in values}
        out["n"], out["p"] = int(out["n"]), int(out["p"])
        out["nu"], out["C"], out["lam"] = float(out["nu"]), float(out["C"]), float(out["lam"])
        out.update(wavelet="haar", levels=0, weights="levels", output=values.get("output", output))
        return out

    paper = convert(PAPER_DEFAULTS, "ergodic")
    # The paper's experiments at these sizes use 5 restarts of 5 layers (its table); 16
    # restarts are its convergence experiment (see the "convergence" preset).
    paper["n"] = 5
    return {"paper": paper, "recommended": convert(recommended(int(size)), "last")}


# --------------------------------------------------------------------------------------
# Images and masks (plain arrays: st.cache_data)
# --------------------------------------------------------------------------------------
_IMAGE_NAMES = {"random_ellipses": "ellipses"}  # explorer name -> solver registry name


@st.cache_data(max_entries=32, show_spinner=False)
def test_image(name: str, size: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """A test image (N, N) float64 in [0, 1] and its detail mask (or None)."""
    from solver.phantoms import make_test_image

    return make_test_image(_IMAGE_NAMES.get(name, name), size, seed)


@st.cache_data(max_entries=8, show_spinner=False)
def user_image(data: bytes, filename: str, size: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """A validated upload as (N, N) float64 in [0, 1], with what was changed on the way.

    Raises
    ------
    ValueError
        With a message for the user (not an image, too large, NaN, constant, ...).
    """
    from solver.uploads import load_user_image

    image, notes = load_user_image(data, filename, size)
    return image, tuple(notes)


def _captured(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, tuple[str, ...]]:
    """Run ``function`` and return its value with the warnings it raised (as text)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = function(*args, **kwargs)
    return value, tuple(dict.fromkeys(str(w.message) for w in caught))


@st.cache_data(max_entries=64, show_spinner=False)
def sampling_mask(
    pattern: str, size: int, rate: float, seed: int, params: tuple[tuple[str, Any], ...]
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The sampling mask (N, N) bool and any warnings (e.g. a rate that was adjusted).

    Raises
    ------
    ValueError
        When the pattern cannot reach the rate or a parameter is out of range.
    """
    from solver.sampling import make_mask

    mask, notes = _captured(make_mask, pattern, size, rate, seed=seed, **dict(params))
    mask = np.asarray(mask, dtype=bool)
    achieved = float(mask.mean())
    if abs(achieved - rate) > 0.005:
        notes = notes + (
            f"The {pattern} pattern reaches {achieved:.1%}, not the requested {rate:.1%}.",)
    return mask, notes


@st.cache_data(max_entries=64, show_spinner=False)
def kspace_log(image: np.ndarray, transform: str) -> np.ndarray:
    """``log10 |T x|`` of the full (unsampled) transform, for display, float32 (N, N)."""
    op = _operator(transform, np.ones(image.shape, dtype=bool))
    with torch.no_grad():
        full = op.full(torch.as_tensor(image, dtype=torch.float32).to(DTYPE))
    magnitude = full.abs().numpy()
    return np.log10(magnitude + 1e-6 * max(float(magnitude.max()), 1e-30)).astype(np.float32)


# --------------------------------------------------------------------------------------
# Operators and networks (shared objects: st.cache_resource)
# --------------------------------------------------------------------------------------
@st.cache_resource(max_entries=16, show_spinner=False)
def _operator(transform: str, mask: np.ndarray) -> Any:
    from solver.operators import make_operator

    return make_operator(transform, mask)


@st.cache_resource(max_entries=16, show_spinner=False)
def _wavelet(name: str, levels: int, size: int) -> Any:
    from solver.wavelets import Wavelet2D

    return Wavelet2D(name, levels=levels or None, size=size)


@st.cache_resource(max_entries=16, show_spinner=False)
def _measurement(transform: str, mask: np.ndarray, wavelet: str, levels: int) -> Any:
    from solver.operators import WaveletMeasurement

    return WaveletMeasurement(_operator(transform, mask), _wavelet(wavelet, levels, mask.shape[0]))


#: Environment variable naming another U-Net weights file (a .safetensors with its card).
WEIGHTS_VARIABLE = "FIRENET_UNET_WEIGHTS"


def unet_path() -> str:
    """The U-Net weights in use: ``$FIRENET_UNET_WEIGHTS`` or the shipped file."""
    from solver.networks import DEFAULT_WEIGHTS

    return os.environ.get(WEIGHTS_VARIABLE) or str(DEFAULT_WEIGHTS)


def unet_version() -> tuple[str, float | None]:
    """Which weights: their path and time stamp (part of every U-Net result's key, so
    replaced weights are picked up without a restart and never mixed with old results)."""
    path = unet_path()
    return path, (os.path.getmtime(path) if os.path.exists(path) else None)


def _unet() -> tuple[Any, dict[str, Any] | None, str | None]:
    return _load_unet(*unet_version())


@st.cache_resource(show_spinner=False, max_entries=2)
def _load_unet(path: str, stamp: float | None) -> tuple[Any, dict[str, Any] | None, str | None]:
    """The trained U-Net and its card, or ``(None, None, reason)``."""
    from solver.networks import load_network

    try:
        model, card = load_network(path)
    except (FileNotFoundError, ValueError) as error:
        return None, None, f"The trained U-Net is not available: {error}"
    return model, card, None


def unet_status() -> tuple[dict[str, Any] | None, str | None]:
    """The U-Net's model card (None if unavailable) and the reason it is unavailable."""
    _, card, reason = _unet()
    return card, reason


# --------------------------------------------------------------------------------------
# The problem: truth, mask, operator, data
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Problem:
    """One reconstruction problem: what every method is given.

    Attributes
    ----------
    key : tuple
        Hashable identity (the settings it was built from, plus the variant).
    truth : np.ndarray, shape (N, N), float64
        Ground truth the metrics compare with.
    mask : np.ndarray, shape (N, N), bool
    transform : str
    y : torch.Tensor, shape (M,), complex64
        Data (noise included).
    warnings : tuple of str
    """

    key: tuple
    truth: np.ndarray
    mask: np.ndarray
    transform: str
    y: torch.Tensor
    warnings: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return int(self.truth.shape[0])

    @property
    def rate(self) -> float:
        return float(self.mask.mean())

    @property
    def operator(self) -> Any:
        return _operator(self.transform, self.mask)

    def measurement(self, fs: FirenetSettings) -> Any:
        return _measurement(self.transform, self.mask, fs.wavelet, fs.levels)


def measure(transform: str, mask: np.ndarray, image: np.ndarray) -> torch.Tensor:
    """Noiseless data ``A x`` (M,) complex64 of a real image."""
    with torch.no_grad():
        return _operator(transform, mask).forward(torch.as_tensor(image, dtype=torch.float32).to(DTYPE))


def base_problem(
    image: ImageSettings,
    truth: np.ndarray,
    ms: MeasurementSettings,
    noise: float,
    noise_seed: int,
) -> Problem:
    """The unperturbed problem: mask from ``ms``, data ``A x + e`` (``||e|| = noise ||y||``).

    Raises
    ------
    ValueError
        From the sampling code (rate out of reach, bad parameter).
    """
    mask, notes = sampling_mask(ms.pattern, image.size, ms.rate, ms.seed, ms.params)
    y = measure(ms.transform, mask, truth)
    if noise > 0:
        from solver.perturbations import add_noise

        y = add_noise(y, noise, seed=noise_seed)
    key = ("base", image, ms, noise, noise_seed if noise > 0 else 0)
    return Problem(key, truth, mask, ms.transform, y, notes)


def firenet_weights(problem: Problem, fs: FirenetSettings) -> torch.Tensor | None:
    """The l1 weights: None (uniform) or per level from the problem's image sparsity."""
    if fs.weights == "uniform":
        return None
    return _level_weights(problem.truth, fs.wavelet, fs.levels)


@st.cache_data(max_entries=32, show_spinner=False)
def _level_weights(truth: np.ndarray, wavelet: str, levels: int) -> torch.Tensor:
    from solver.wavelets import level_weights

    w = level_weights(torch.as_tensor(truth, dtype=torch.float32), _wavelet(wavelet, levels, truth.shape[0]),
                      domain="image")
    return w.to(torch.float32)


# --------------------------------------------------------------------------------------
# Reconstruction networks
# --------------------------------------------------------------------------------------
def network(method: str, problem: Problem, fs: FirenetSettings, weights: torch.Tensor | None) -> torch.nn.Module:
    """The reconstruction network of ``method`` for ``problem`` (y -> real image).

    Raises
    ------
    RuntimeError
        If the method needs the trained U-Net and it is not available.
    """
    from solver.baselines import TUNED_RATIO, ChambollePock, zero_filled
    from solver.firenet import FIRENET

    A = problem.measurement(fs)
    if method == "zero_filled":
        return zero_filled(A)
    if method in ("firenet", "unet_firenet"):
        net = FIRENET(A, lam=fs.lam, weights=weights, restarts=fs.n, layers=fs.p, nu=fs.nu,
                      sharpness=fs.C, output=fs.output)
        if method == "firenet":
            return net
        from solver.networks import UNetThenFIRENET

        return UNetThenFIRENET(network("unet", problem, fs, weights), net)
    if method == "unet":
        from solver.networks import LearnedReconstruction

        model, _, reason = _unet()
        if model is None:
            raise RuntimeError(reason)
        return LearnedReconstruction(problem.operator, model)
    if method == "cp":
        return ChambollePock(A, lam=fs.lam, weights=weights, iterations=fs.layers)
    if method == "cp_tuned":
        ratio = TUNED_RATIO.get(problem.size, 10.0)
        return ChambollePock(A, lam=fs.lam, weights=weights, iterations=fs.layers, ratio=ratio)
    raise ValueError(f"method must be one of zero_filled, firenet, unet, unet_firenet, cp, cp_tuned; got {method!r}")


#: Methods whose layers are primal-dual steps (they have a convergence curve).
ITERATIVE = ("firenet", "unet_firenet", "cp", "cp_tuned")


@dataclass
class Reconstruction:
    """One method's output on one problem, with its convergence record.

    Attributes
    ----------
    image : np.ndarray, shape (N, N), float32
    curve : dict or None
        For iterative methods, ``{"layer": [...], "error": [...], "objective": [...],
        "dual": [...]}``: the relative error to the truth, the objective ``F(x_k)`` and
        the dual value ``D(z_k)`` of the method's own (rescaled) dual iterate, a few times
        per restart. :func:`certified` turns them into certified relative gaps.
    snapshots : dict of int to np.ndarray
        Layer -> image after that many layers (every restart for FIRENET, every ``p``
        layers for Chambolle-Pock).
    eps : list of float
        FIRENET's accuracy targets ``eps_k`` per restart (objective units: ``eps_k`` is
        what the schedule assumes ``F - F*`` to be after restart k).
    restart_layers : list of int
    seconds : float
        Wall time of the run.
    warnings : tuple of str
        Warnings the solver raised while running (shown with the result).
    """

    image: np.ndarray
    curve: dict[str, list[float]] | None = None
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)
    eps: list[float] = field(default_factory=list)
    restart_layers: list[int] = field(default_factory=list)
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()

    def at_depth(self, depth: int) -> np.ndarray:
        """The image after ``depth`` layers (the nearest snapshot at or below it)."""
        if not self.snapshots or depth <= 0:
            return self.image
        layers = [k for k in self.snapshots if k <= depth]
        return self.snapshots[max(layers)] if layers else self.image


class _Store:
    """A thread-safe LRU dictionary for results computed with live progress."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@st.cache_resource(show_spinner=False)
def _store() -> _Store:
    # ~40 reconstructions at N = 256 with their snapshots is well under 1 GB.
    return _Store(64)


def _recon_key(method: str, problem: Problem, fs: FirenetSettings) -> tuple:
    # Zero-filled and the U-Net do not depend on FIRENET's settings.
    relevant = fs if method != "unet" and method != "zero_filled" else None
    if method in ("cp", "cp_tuned") and relevant is not None:
        relevant = replace(fs, nu=0.0, C=0.0, n=1, p=fs.layers, output="last")
    weights = unet_version() if method in ("unet", "unet_firenet") else None
    return ("recon", method, problem.key, relevant, weights)


def cached_reconstruction(method: str, problem: Problem, fs: FirenetSettings) -> Reconstruction | None:
    """The stored reconstruction, or None if it has not been computed yet."""
    return _store().get(_recon_key(method, problem, fs))


def reconstruct(
    method: str,
    problem: Problem,
    fs: FirenetSettings,
    on_restart: Callable[[Reconstruction, int], None] | None = None,
) -> Reconstruction:
    """Run ``method`` on ``problem`` (or return the stored result).

    Parameters
    ----------
    on_restart : callable(partial Reconstruction, restarts done), optional
        Called at the end of every restart (every ``p`` layers) while running, with the
        curve so far: the app redraws the convergence plot from it.
    """
    key = _recon_key(method, problem, fs)
    found = _store().get(key)
    if found is not None:
        return found
    weights = firenet_weights(problem, fs) if method != "unet" else None
    net = network(method, problem, fs, weights)
    start = time.perf_counter()
    if method not in ITERATIVE:
        with torch.no_grad():
            image, notes = _captured(net, problem.y)
        result = Reconstruction(image=image.numpy().astype(np.float32),
                                seconds=time.perf_counter() - start, warnings=notes)
        _store().put(key, result)
        return result

    from solver.firenet import to_image
    from solver.objective import record_metrics

    A = problem.measurement(fs)
    y = problem.y
    truth = torch.as_tensor(problem.truth, dtype=torch.float32)
    truth_norm = float(torch.linalg.vector_norm(truth))
    total = fs.layers
    p = fs.p
    # The certified gap and the error cost about 1.5 layers (A, A* and W^-1): record them
    # about five times per restart and at every restart's end, not after every layer
    # (every layer would more than double the run).
    stride = max(1, p // 5, total // 200)
    partial = Reconstruction(image=np.zeros_like(problem.truth, dtype=np.float32),
                             curve={"layer": [], "error": [], "objective": [], "dual": []},
                             restart_layers=[p * k for k in range(1, fs.n + 1)])
    lam = fs.lam

    def callback(record: Any) -> None:
        layer = record.layer
        at_restart = layer % p == 0
        if layer % stride and not at_restart and layer != total:
            return
        image = to_image(A, record.coeffs)
        error = float(torch.linalg.vector_norm(image - truth)) / truth_norm
        report = record_metrics(record, y, A, lam, weights)
        curve = partial.curve
        curve["layer"].append(layer)
        curve["error"].append(error)
        curve["objective"].append(float(report.objective))
        curve["dual"].append(float(report.dual_value))
        if at_restart or layer == total:
            partial.snapshots[layer] = image.numpy().astype(np.float32).copy()
            if record.eps is not None and method in ("firenet", "unet_firenet"):
                partial.eps.append(float(record.eps))
            if on_restart is not None and at_restart:
                on_restart(partial, layer // p)

    with torch.no_grad():
        image, partial.warnings = _captured(net, y, callback=callback)
    partial.image = image.numpy().astype(np.float32)
    partial.seconds = time.perf_counter() - start
    if method in ("cp", "cp_tuned"):
        partial.restart_layers = []
    _store().put(key, partial)
    return partial


#: Smallest relative gap drawn: the app computes in single precision, where F - D is
#: rounding noise below about 1e-7 of F.
GAP_FLOOR = 1e-7


def certified(curves: Mapping[str, Mapping[str, list[float]]]) -> tuple[dict[str, dict[str, list[float]]], float]:
    """Certified relative gaps ``(F(x_k) - L) / L`` with one lower bound for all curves.

    Every dual-feasible point gives ``D(z) <= F*``, whichever run produced it, so the
    best dual value ``L`` over all the given curves (which must solve the same problem,
    same data) certifies every primal point: ``F(x_k) - F* <= F(x_k) - L``. This matters:
    FIRENET resets its dual at every restart and its own duals certify only ~0.4 on the
    default problem while its true gap is ~1e-5; tuned Chambolle-Pock's dual converges
    (``solver.objective.GapTracker`` documents the measurement).

    Parameters
    ----------
    curves : mapping
        Name -> curve with "objective" and "dual" lists (see :class:`Reconstruction`).

    Returns
    -------
    curves : dict
        The same curves with a "gap" list added (floored at :data:`GAP_FLOOR`).
    lower_bound : float
        ``L`` (nan when no positive dual value was recorded).
    """
    duals = [d for c in curves.values() for d in c.get("dual", ()) if d > 0 and math.isfinite(d)]
    bound = max(duals) if duals else math.nan
    out = {}
    for name, curve in curves.items():
        gaps = [max((f - bound) / bound, GAP_FLOOR) if duals else math.nan
                for f in curve.get("objective", ())]
        out[name] = {**curve, "gap": gaps}
    return out, bound


# --------------------------------------------------------------------------------------
# Perturbations
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Variant:
    """The perturbed problems and what to show about the perturbation.

    Attributes
    ----------
    problems : dict
        Method -> the perturbed problem it is given (the same one for all methods,
        except for transferred perturbations).
    display : np.ndarray (N, N) or None
        The perturbation as an image (``|A* e|`` or the inserted detail).
    title : str
    note : str
        One sentence on what was done (size of the perturbation, ...).
    pending : str or None
        Why the perturbation is not there yet (a search still to run), else None.
    """

    problems: dict[str, Problem]
    display: np.ndarray | None
    title: str
    note: str
    pending: str | None = None


def _with_data(problem: Problem, y: torch.Tensor, tag: tuple) -> Problem:
    return Problem(problem.key + tag, problem.truth, problem.mask, problem.transform, y, problem.warnings)


def _adjoint_image(problem: Problem, e: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return problem.operator.adjoint(e).abs().numpy().astype(np.float32)


def attack_key(target: str, problem: Problem, fs: FirenetSettings, ps: PerturbationSettings,
               steps: int) -> tuple:
    relevant = fs if target == "firenet" else unet_version()
    return ("attack", target, problem.key, relevant, ps.budget, steps, ps.noise_seed)


def attack(
    target: str,
    problem: Problem,
    fs: FirenetSettings,
    ps: PerturbationSettings,
    steps: int,
    progress: Callable[[float, str], None] | None = None,
    run: bool = True,
) -> torch.Tensor | None:
    """Worst-case measurement perturbation ``e`` against ``target`` ("unet" or "firenet").

    Returns the stored perturbation, or runs the search when ``run`` (reporting progress
    as a fraction), else returns None.
    """
    key = attack_key(target, problem, fs, ps, steps)
    found = _store().get(key)
    if found is not None or not run:
        return found
    from solver.attacks import worst_case_perturbation

    weights = firenet_weights(problem, fs)
    net = network(target, problem, fs, weights)

    def on_step(step: Any) -> None:
        if progress is not None:
            progress(min(1.0, step.step / max(step.steps, 1)),
                     f"step {step.step}/{step.steps}: ||e||/||y|| = {step.relative_norm:.3f}, "
                     f"output change {step.relative_output_change:.3f}")

    result = worst_case_perturbation(net, problem.y, budget=max(ps.budget, 1e-6), steps=steps,
                                     seed=ps.noise_seed, callback=on_step)
    e = result.perturbation.detach()
    _store().put(key, e)
    return e


def variant(
    base: Problem,
    ps: PerturbationSettings,
    fs: FirenetSettings,
    image: ImageSettings,
    ms: MeasurementSettings,
    detail: np.ndarray | None,
    steps: int,
) -> Variant | None:
    """The perturbed problem(s) for ``ps.kind`` (None for no perturbation).

    Worst-case searches are only looked up here (``pending`` says so when one is still
    to run); :func:`attack` runs them.
    """
    kind = ps.kind
    if kind == "none":
        return None
    methods = ("zero_filled", "firenet", "unet", "unet_firenet", "cp", "cp_tuned")
    if kind == "random":
        from solver.perturbations import complex_gaussian_noise

        e = complex_gaussian_noise(base.y, ps.budget, seed=ps.noise_seed + 1)
        p = _with_data(base, base.y + e, ("random", ps.budget, ps.noise_seed))
        return Variant({m: p for m in methods}, _adjoint_image(base, e), "|A* e| (random)",
                       f"Random complex Gaussian perturbation, ||e|| = {ps.budget:.3f} ||y||.")
    if kind in ("worst_unet", "worst_firenet"):
        target = "unet" if kind == "worst_unet" else "firenet"
        e = attack(target, base, fs, ps, steps, run=False)
        name = "the U-Net" if target == "unet" else "FIRENET"
        if e is None:
            return Variant({}, None, "", "", pending=f"worst-case search against {name}")
        rel = float(torch.linalg.vector_norm(e) / torch.linalg.vector_norm(base.y))
        p = _with_data(base, base.y + e, (kind, attack_key(target, base, fs, ps, steps)))
        return Variant({m: p for m in methods}, _adjoint_image(base, e),
                       f"|A* e| (worst case vs {name})",
                       f"Worst-case perturbation against {name} ({steps} gradient steps), "
                       f"||e|| = {rel:.3f} ||y||, given to every method.")
    if kind == "transfer":
        e_unet = attack("unet", base, fs, ps, steps, run=False)
        e_fire = attack("firenet", base, fs, ps, steps, run=False)
        if e_unet is None or e_fire is None:
            missing = [n for n, e in (("the U-Net", e_unet), ("FIRENET", e_fire)) if e is None]
            return Variant({}, None, "", "", pending="worst-case searches against " + " and ".join(missing))
        from_unet = _with_data(base, base.y + e_unet,
                               ("transfer", attack_key("unet", base, fs, ps, steps)))
        from_fire = _with_data(base, base.y + e_fire,
                               ("transfer", attack_key("firenet", base, fs, ps, steps)))
        problems = {m: from_unet for m in methods}
        problems["unet"] = problems["unet_firenet"] = from_fire
        return Variant(problems, _adjoint_image(base, e_fire), "|A* e| found against FIRENET",
                       "Transferred: the U-Net (and U-Net then FIRENET) get the perturbation "
                       "found against FIRENET; every other method gets the one found against "
                       "the U-Net.")
    if kind == "detail":
        from solver.phantoms import insert_detail, text_detail

        size = base.size
        # Centred, about 4% of the image high: small, like the paper's "Can u see it?".
        mask_detail = text_detail(size, "Can u see it?", height=max(6, size // 24))
        truth = insert_detail(base.truth, mask_detail, ps.budget) if ps.budget > 0 else base.truth
        y = measure(base.transform, base.mask, truth)
        y = y + (base.y - measure(base.transform, base.mask, base.truth))  # same noise
        p = Problem(base.key + ("detail", ps.budget), truth, base.mask, base.transform, y, base.warnings)
        return Variant({m: p for m in methods}, (truth - base.truth).astype(np.float32),
                       "inserted detail",
                       f"A small text detail of contrast {ps.budget:.3f} inserted into the image "
                       "(absent from the U-Net's training images in this form).")
    if kind == "more_samples":
        mask = _superset_mask(base.mask, ms, image.size, min(1.0, base.rate + ps.budget))
        y = measure(base.transform, mask, base.truth)
        if ps.noise > 0:
            from solver.perturbations import add_noise

            y = add_noise(y, ps.noise, seed=ps.noise_seed)
        notes = (f"Sampling rate raised from {base.rate:.1%} to {mask.mean():.1%} (a superset "
                 "of the original mask).",)
        p = Problem(base.key + ("more", ps.budget), base.truth, mask, base.transform, y,
                    base.warnings + notes)
        return Variant({m: p for m in methods}, (mask & ~base.mask).astype(np.float32),
                       "added samples", notes[0])
    raise ValueError(f"perturbation kind unknown: {kind!r}")


def _superset_mask(mask: np.ndarray, ms: MeasurementSettings, size: int, target: float) -> np.ndarray:
    """``mask`` plus samples of the same pattern (another seed) up to rate ``target``.

    The union of two masks overlaps, so the second mask's rate is found by bisection
    (a few mask builds, milliseconds each) to make the union's rate hit ``target``.
    """
    if target >= 1.0:
        return np.ones_like(mask)
    low, high = 0.01, 1.0
    best = mask
    for _ in range(12):
        rate = 0.5 * (low + high)
        try:
            more, _ = sampling_mask(ms.pattern, size, round(rate, 4), ms.seed + 1, ms.params)
        except ValueError:  # a rate the pattern cannot make: try a larger one
            low = rate
            continue
        union = mask | more
        if abs(union.mean() - target) < abs(best.mean() - target):
            best = union
        if union.mean() < target:
            low = rate
        else:
            high = rate
    return best


# --------------------------------------------------------------------------------------
# Stability curves
# --------------------------------------------------------------------------------------
def stability_key(problem: Problem, fs: FirenetSettings, budgets: tuple[float, ...], steps: int,
                  names: tuple[str, ...]) -> tuple:
    return ("stability", problem.key, fs, budgets, steps, names, unet_version())


def stability(
    problem: Problem,
    fs: FirenetSettings,
    names: tuple[str, ...],
    budgets: tuple[float, ...],
    steps: int,
    progress: Callable[[float, str], None] | None = None,
    run: bool = True,
) -> dict[str, dict[str, list[float]]] | None:
    """Output change against perturbation size for each network, worst case and random.

    Returns ``{"<network>, worst case": {"size": [...], "change": [...]}, ...}``, or None
    when not stored and ``run`` is False.
    """
    key = stability_key(problem, fs, budgets, steps, names)
    found = _store().get(key)
    if found is not None or not run:
        return found
    from solver.stability import stability_curve

    weights = firenet_weights(problem, fs)
    nets = {name: network(name, problem, fs, weights) for name in names}

    def on_progress(info: Any) -> None:
        if progress is not None:
            progress(info.fraction, f"{info.network}: budget {info.budget:.3g}")

    curve = stability_curve(nets, problem.y, budgets, steps=steps, seed=0, callback=on_progress)
    from explorer.state import METHODS

    out: dict[str, dict[str, list[float]]] = {}
    for name in names:
        label = METHODS.get(name, name)
        sizes = [float(s) for s in curve.perturbation_norms[name]]
        out[f"{label}, worst case"] = {"size": sizes, "change": [float(v) for v in curve.worst[name]]}
        out[f"{label}, random"] = {"size": sizes, "change": [float(v) for v in curve.random[name]]}
    _store().put(key, out)
    return out


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------
@st.cache_resource(max_entries=48, show_spinner=False)
def figure(builder: str, *args: Any, **kwargs: Any) -> Any:
    """``explorer.figures.<builder>(*args, **kwargs)``, memoised on its inputs.

    Building a plotly figure of eight 256 x 256 heatmaps takes ~0.15 s (property
    validation), four times the cost of sending it; a rerun that changes nothing in a
    figure reuses it. Shared, not copied: callers must not modify the result.
    """
    from explorer import figures

    return getattr(figures, builder)(*args, **kwargs)


# --------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------
@st.cache_data(max_entries=256, show_spinner=False)
def metrics(image: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """PSNR (dB), SSIM and relative error of ``image`` against ``truth`` (data range 1)."""
    from solver import metrics as m

    return {
        "psnr": float(m.psnr(image, truth, data_range=1.0)),
        "ssim": float(m.ssim(image, truth, data_range=1.0)),
        "relative_error": float(m.relative_error(image, truth)),
    }
