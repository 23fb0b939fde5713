"""The five experiments as lists of independent tasks, and the code that runs one task.

A *task* is a flat dict of plain settings (JSON scalars): the experiment, the method and
every parameter it is built with, the problem (image seed, size, sampling, noise) and the
experiment's own settings (budget, contrast, extra samples) with their seeds. Every
parameter is resolved when the sweep is planned (e.g. FIRENET's restarts and layers from
:func:`solver.legacy.fixed_schedule`), so the settings alone say what was computed, and a
rerun of the same settings (one torch thread) reproduces every number. :func:`execute`
runs one task in whatever process it lands in and returns its measured values.

:func:`plan` checks every setting (:mod:`solver.reproduce.settings`) and the
combinations that only fail together (a rate the pattern cannot reach, too many wavelet
levels, the U-Net away from its training size, a text wider than the image) before any
task runs. A convergence task also records its problem's reference optimum: a long run of
the adaptive FIRENET, which certifies its own gap (:data:`REFERENCE_LAYERS`).

Presets
-------
``small`` runs in about two minutes on two cores (used by the tests and docs/reproduce.md);
``full`` is the size of a paper figure or table; ``--dry-run`` prints its cost, estimated
from the per-task costs ``benchmarks/bench_reproduce.py --full-cost --write`` measured
(:mod:`solver.reproduce.costs`). The U-Net was trained for N = 256 (Fourier, multilevel
25 %, mask seed 0), so every preset that includes it works at N = 256; the others use N = 64.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from solver import methods as M
from solver import recipe
from solver.reproduce import settings as setting_checks
from solver.validation import check_choice, check_int

__all__ = [
    "EXPERIMENTS",
    "KEPT_RATIO",
    "PRESETS",
    "PROBLEM_KEYS",
    "REFERENCE_GAP",
    "REFERENCE_LAYERS",
    "available_methods",
    "execute",
    "method_settings",
    "plan",
]

#: A detail counts as kept when its recovered contrast is at least this fraction of the
#: inserted contrast (the same network's reconstruction without the detail as reference).
KEPT_RATIO = 0.5

# Settings every task of an experiment shares unless the preset says otherwise.
_PROBLEM = {
    "size": 64,
    "pattern": recipe.PATTERN,
    "rate": recipe.RATE,
    "mask_seed": 0,
    "transform": recipe.TRANSFORM,
    "wavelet": recipe.WAVELET,
    "levels": recipe.LEVELS,    # 0 = the maximal number of levels
    "lam": recipe.LAM,
    "weights": recipe.WEIGHTS,  # l1 weights per level from the truth's sparsity (the page's default)
    "noise": 0.0,
    "noise_seed": 0,
}

_ATTACK = {"steps": 100, "lr": 0.002, "momentum": 0.9, "mu": 0.002, "random_trials": 1, "on_budget": "project"}

#: Grids of each experiment and preset. Lists are swept (Cartesian product); ``images``
#: is a number of held-out test images (seeds 800000, 800001, ...).
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "convergence": {
        "small": {"size": 64, "images": 2, "noise": 0.02,
                  "method": [M.FIRENET, M.FIRENET_PAPER, M.CP, M.FISTA], "iterations": 300},
        "full": {"size": 256, "images": 50, "noise": 0.02,
                 "method": [M.FIRENET, M.FIRENET_PAPER, M.CP, M.CP_ADAPTIVE, M.CP_TUNED, M.FISTA, M.UNET_FIRENET],
                 "iterations": 300},
    },
    "stability": {
        "small": {"size": 256, "images": 1, "method": [M.UNET, M.FIRENET_5X5, M.ZERO_FILLED],
                  "budget": [0.01, 0.03, 0.1], "steps": 8, "lr": 0.01, "attack_seed": [0]},
        "full": {"size": 256, "images": 5, "on_budget": "stop",
                 "method": [M.UNET, M.FIRENET, M.FIRENET_5X5, M.UNET_FIRENET, M.CP, M.ZERO_FILLED],
                 "budget": [0.005, 0.01, 0.02, 0.05, 0.1, 0.2], "steps": 100, "attack_seed": [0, 1],
                 "iterations": 25, "random_trials": 3},
    },
    "robustness": {
        "small": {"size": 256, "images": 2, "method": [M.UNET, M.FIRENET_5X5, M.ZERO_FILLED],
                  "budget": [0.05], "steps": 8, "lr": 0.01, "attack_seed": [0]},
        "full": {"size": 256, "images": 200, "on_budget": "stop",
                 "method": [M.UNET, M.FIRENET, M.FIRENET_5X5, M.UNET_FIRENET, M.CP, M.ZERO_FILLED],
                 "budget": [0.02, 0.05], "steps": 100, "attack_seed": [0, 1, 2], "iterations": 25},
    },
    "detail": {
        "small": {"size": 256, "images": 2, "method": [M.UNET, M.FIRENET_5X5, M.ZERO_FILLED],
                  "contrast": [0.05, 0.15], "text": "Can u see it?"},
        "full": {"size": 256, "images": 50,
                 "method": [M.UNET, M.FIRENET, M.FIRENET_5X5, M.UNET_FIRENET, M.ZERO_FILLED],
                 "contrast": [0.02, 0.05, 0.1, 0.2], "text": "Can u see it?"},
    },
    "sampling_change": {
        "small": {"size": 256, "images": 1, "method": [M.UNET, M.FIRENET_5X5, M.ZERO_FILLED],
                  "extra": [0.0, 0.05, 0.15, 0.3], "extra_pattern": "uniform"},
        "full": {"size": 256, "images": 20,
                 "method": [M.UNET, M.FIRENET, M.FIRENET_5X5, M.UNET_FIRENET, M.ZERO_FILLED],
                 "extra": [0.0, 0.02, 0.05, 0.1, 0.15, 0.25, 0.4], "extra_pattern": "uniform"},
    },
}

EXPERIMENTS = tuple(PRESETS)


def method_settings(method: str, size: int, *, iterations: int = recipe.ITERATIONS) -> dict[str, Any]:
    """Every parameter ``method`` is built with at image side ``size``, resolved now.

    ``method`` is a key of ``solver.methods.METHODS`` or of its ``SWEEP_VARIANTS``
    (``firenet_paper`` is the paper's 16 x 5 network here, ``firenet_5x5`` its 5 x 5 one).
    FIRENET's keys (``restarts``, ``layers``, ``nu``, ``sharpness``, ``output``,
    ``tau``, ``sigma``, ``delta``) are None for methods without FIRENET; ``iterations``
    is None for methods without a fixed iteration count.
    """
    key = M.sweep_entry(method)[0]
    schedule = M.sweep_schedule(method, size)
    out: dict[str, Any] = {k: None for k in _SCHEDULE_KEYS}
    out["iterations"] = None
    if schedule is not None:
        out.update({k: schedule[k] for k in _SCHEDULE_KEYS})
    if "iterations" in M.METHODS[key].depends_on:
        out["iterations"] = check_int("iterations", iterations, low=1)
    return out


#: FIRENET's parameters a task carries.
_SCHEDULE_KEYS = ("restarts", "layers", "nu", "sharpness", "output", "tau", "sigma", "delta")


@functools.lru_cache(maxsize=1)
def _weights_sha256() -> str:
    # Learned tasks carry the weights' hash, so new weights are new tasks (hashed once).
    from solver.networks import DEFAULT_WEIGHTS, file_sha256

    return file_sha256(DEFAULT_WEIGHTS)


def plan(experiment: str, preset: str = "small", *, images: int | None = None,
         first_image: int = 0, overrides: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The tasks of ``experiment`` at ``preset``, in a fixed order.

    Parameters
    ----------
    experiment : str
        One of :data:`EXPERIMENTS`.
    preset : {"small", "full"}
    images : int, optional
        Number of held-out test images instead of the preset's.
    first_image : int, default 0
        Index of the first test image (seed ``800000 + first_image``).
    overrides : mapping, optional
        Setting -> value replacing the preset's (a list is swept), e.g.
        ``{"size": 128, "method": ["firenet", "cp"]}``.

    Returns
    -------
    list of dict
        One flat settings dict per task.
    """
    check_choice("experiment", experiment, EXPERIMENTS)
    check_choice("preset", preset, PRESETS[experiment])
    grid = dict(PRESETS[experiment][preset])
    preset_images = grid.pop("images")
    grid.update(overrides or {})
    grid = {name: setting_checks.normalise(experiment, name, value) for name, value in grid.items()}
    count = check_int("images", preset_images if images is None else images, low=1)
    iterations = grid.pop("iterations", 300 if experiment == "convergence" else 25)
    if isinstance(iterations, list):  # methods without a fixed depth would repeat a task
        raise ValueError(f"iterations takes one value, not a list, got {iterations}")
    first_image = check_int("first_image", first_image, low=0)
    from solver.datasets import split_seed

    seeds = [split_seed("test", first_image + i) for i in range(count)]
    base = {**_PROBLEM, **({} if experiment in ("convergence", "detail", "sampling_change") else _ATTACK)}
    base.update({k: v for k, v in grid.items() if not isinstance(v, list)})
    swept = {k: v for k, v in grid.items() if isinstance(v, list)}
    names = list(swept)
    tasks = []
    for image_seed, values in itertools.product(seeds, itertools.product(*swept.values())):
        task = {"experiment": experiment, "preset": preset, **base, "image_seed": image_seed,
                **dict(zip(names, values))}
        _check_combination(task)
        task.update(method_settings(task["method"], int(task["size"]), iterations=iterations))
        if M.METHODS[M.sweep_entry(task["method"])[0]].learned:
            task["unet_sha256"] = _weights_sha256()
        tasks.append(task)
    return tasks


def available_methods() -> tuple[str, ...]:
    """The methods a sweep can run: every key of :data:`solver.methods.METHODS` and the
    sweeps' own names for FIRENET at the paper's schedules."""
    return M.sweep_names()


@functools.lru_cache(maxsize=1)
def _unet_training() -> tuple[int, str]:
    # The size and measurement the shipped U-Net was trained for, from its model card.
    from solver.networks import load_network

    card = load_network()[1]
    return int(card["image_size"]), str(card["operator"])


@functools.lru_cache(maxsize=256)
def _check_problem(pattern: str, size: int, rate: float, mask_seed: int, wavelet: str, levels: int) -> None:
    from solver.sampling import make_mask
    from solver.wavelets import Wavelet2D

    make_mask(pattern, size, rate, seed=mask_seed)  # a rate the pattern cannot reach, a size it cannot take
    deepest = Wavelet2D.max_levels(wavelet, size)
    if levels > deepest:
        raise ValueError(f"levels must be in [0, {deepest}] for wavelet {wavelet!r} at size {size}, got {levels}")


def _check_combination(task: Mapping[str, Any]) -> None:
    """Checks of settings that are only wrong together (each value alone was checked)."""
    method = task["method"]
    if M.METHODS[M.sweep_entry(method)[0]].learned:
        size, transform = _unet_training()
        if task["size"] != size or task["transform"] != transform:
            raise ValueError(f"method {method!r} uses the U-Net trained only at size {size} with {transform} "
                             f"measurements, got size {task['size']} and transform {task['transform']!r}")
    _check_problem(task["pattern"], task["size"], task["rate"], task["mask_seed"], task["wavelet"], task["levels"])
    if "extra" in task and task["rate"] + task["extra"] > 1:
        raise ValueError(f"extra must be at most 1 - rate = {1 - task['rate']:g}, got {task['extra']:g}")
    if "text" in task:
        _check_text(task["size"], task["text"])


def _detail_height(size: int) -> int:
    # Height of the inserted text in pixels: readable at N = 64 and up, the paper's scale at 256.
    return max(6, size // 24)


@functools.lru_cache(maxsize=64)
def _check_text(size: int, text: str) -> None:
    from solver.phantoms import text_detail

    text_detail(size, text, height=_detail_height(size))  # a text too wide for the image


# --------------------------------------------------------------------------------------
# running one task
# --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _unet() -> Any:
    # One load per worker process (safetensors read + hash check, ~0.1 s).
    from solver.networks import load_network

    return load_network()[0]


def _problem(s: Mapping[str, Any]) -> Any:
    from solver.datasets import example_image
    from solver.problem import make_problem
    from solver.sampling import make_mask

    size = int(s["size"])
    mask = make_mask(s["pattern"], size, float(s["rate"]), seed=int(s["mask_seed"]))
    return make_problem(example_image(int(s["image_seed"]), size), mask, transform=s["transform"],
                        noise=float(s["noise"]), noise_seed=int(s["noise_seed"]))


def _recipe(s: Mapping[str, Any]) -> recipe.Recipe:
    """The task's reconstruction (its settings were resolved by :func:`plan`)."""
    key = M.sweep_entry(s["method"])[0]
    schedule = {k: s[k] for k in _SCHEDULE_KEYS if s.get(k) is not None}
    return recipe.Recipe(key, lam=float(s["lam"]), wavelet=s["wavelet"], levels=int(s["levels"]),
                         weights=s["weights"], schedule=schedule, iterations=int(s.get("iterations") or 1))


def _build(r: recipe.Recipe, problem: Any) -> Any:
    """The network of recipe ``r`` for ``problem`` (its weights from the problem's truth)."""
    truth = problem.truth if problem.has_truth else None
    weights = recipe.l1_weights(r.weights, r.wavelet, r.levels, problem.size, reference=truth,
                                threshold=r.threshold, sparsities=r.sparsities)
    unet = _unet() if M.METHODS[r.method].learned else None
    return M.from_recipe(r, r.measurement(problem), weights=weights, unet=unet)


def _network(s: Mapping[str, Any], problem: Any) -> Any:
    return _build(_recipe(s), problem)


#: Settings that fix a convergence task's optimisation problem (data, operator, objective).
PROBLEM_KEYS = ("image_seed", "size", "pattern", "rate", "mask_seed", "transform", "wavelet", "levels", "lam",
                "weights", "noise", "noise_seed")

#: The reference run of each problem: the adaptive FIRENET, which certifies its own gap,
#: until its certified relative gap is below REFERENCE_GAP or it has run REFERENCE_LAYERS
#: layers (single precision certifies down to about 1e-5 within 3,000 layers at N = 64
#: and 256, measured).
REFERENCE_LAYERS = 2000
REFERENCE_GAP = 1e-5


@functools.lru_cache(maxsize=8)
def _reference(problem: tuple) -> tuple[float, float, int]:
    # Cached per worker process: every method of one image shares its reference.
    from solver.trace import run

    s = dict(zip(PROBLEM_KEYS, problem))
    data = _problem(s)
    adaptive = {"schedule": "adaptive", "max_layers": REFERENCE_LAYERS, "target_gap": REFERENCE_GAP}
    net = _build(recipe.Recipe(M.FIRENET, lam=float(s["lam"]), wavelet=s["wavelet"], levels=int(s["levels"]),
                               weights=s["weights"], schedule=adaptive), data)
    trace = run(net, data.y)
    duals = [d for d in trace.dual if math.isfinite(d)]
    return float(min(trace.objective)), float(max(duals, default=math.nan)), int(max(trace.layer))


def _image_metrics(image: Any, truth: np.ndarray, prefix: str = "") -> dict[str, float]:
    from solver.metrics import psnr, relative_error, ssim

    x = np.asarray(image, dtype=np.float64).reshape(truth.shape)
    return {f"{prefix}error": relative_error(x, truth), f"{prefix}psnr": psnr(x, truth),
            f"{prefix}ssim": ssim(x, truth)}


def _convergence(s: Mapping[str, Any]) -> dict[str, Any]:
    from solver.trace import run

    problem = _problem(s)
    trace = run(_network(s, problem), problem.y, reference=problem.truth)
    objective, bound, layers = _reference(tuple(s[k] for k in PROBLEM_KEYS))
    return {**_image_metrics(trace.image, problem.truth), "depth": max(trace.layer, default=0),
            "reference_objective": objective, "reference_bound": bound, "reference_layers": layers,
            "curve_layer": [int(k) for k in trace.layer], "curve_error": list(trace.error),
            "curve_objective": list(trace.objective), "curve_dual": list(trace.dual),
            "restart_layers": [int(k) for k in trace.restart_layers], "eps": list(trace.eps)}


def _attack(s: Mapping[str, Any]) -> dict[str, Any]:
    from solver.attacks import evaluate_perturbation, worst_case_perturbation
    from solver.perturbations import complex_gaussian_noise

    problem = _problem(s)
    net = _network(s, problem)
    found = worst_case_perturbation(net, problem.y, budget=float(s["budget"]), steps=int(s["steps"]),
                                    lr=float(s["lr"]), momentum=float(s["momentum"]), mu=float(s["mu"]),
                                    seed=int(s["attack_seed"]), on_budget=s["on_budget"])
    clean = found.clean_output.detach().numpy()
    worst = found.perturbed_output.detach().numpy()
    changes = []
    for trial in range(int(s["random_trials"])):
        # Random noise of the worst case's norm; its seed is the attack's, shifted per trial.
        e = complex_gaussian_noise(problem.y, found.relative_norm,
                                   seed=int(s["attack_seed"]) * 1000 + 1 + trial)
        changes.append(evaluate_perturbation(net, problem.y, problem.y + e).relative_output_change)
    size = found.relative_norm
    return {**_image_metrics(clean, problem.truth, "clean_"),
            **_image_metrics(worst, problem.truth, "perturbed_"),
            "perturbation": size, "worst_change": found.relative_output_change,
            "random_change": float(np.mean(changes)),
            "amplification": found.relative_output_change / size if size > 0 else math.nan,
            "best_step": int(found.best_step)}


def _detail(s: Mapping[str, Any]) -> dict[str, Any]:
    from solver.perturbations import detail_insertion
    from solver.phantoms import text_detail

    problem = _problem(s)
    net = _network(s, problem)
    detail = text_detail(problem.size, s["text"], height=_detail_height(problem.size))
    found = detail_insertion({s["method"]: net}, problem.operator, problem.truth, detail,
                             float(s["contrast"]))[s["method"]]
    return {"true_contrast": found.true_contrast, "recovered_contrast": found.recovered_contrast,
            "contrast_ratio": found.contrast_ratio, "kept": bool(found.contrast_ratio >= KEPT_RATIO),
            "region_error": found.region_error, "error": found.image_error,
            "region_pixels": found.region_pixels}


def _sampling_change(s: Mapping[str, Any]) -> dict[str, Any]:
    import torch

    from solver.problem import with_more_samples

    problem = _problem(s)
    if float(s["extra"]) > 0:
        problem = with_more_samples(problem, float(s["extra"]), pattern=s["extra_pattern"],
                                    seed=int(s["mask_seed"]))
    with torch.no_grad():
        image = _network(s, problem)(problem.y)
    return {**_image_metrics(image.numpy(), problem.truth), "achieved_rate": problem.rate}


_RUNNERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "convergence": _convergence,
    "stability": _attack,
    "robustness": _attack,
    "detail": _detail,
    "sampling_change": _sampling_change,
}


def execute(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Run one task and return its measured values (not the settings).

    Raises whatever the computation raises (the runner records it); ``seconds`` is the
    task's own wall time, ``cpu_seconds`` its CPU time.
    """
    check_choice("experiment", settings.get("experiment"), EXPERIMENTS)
    start, cpu = time.perf_counter(), time.process_time()
    values = _RUNNERS[settings["experiment"]](settings)
    values["seconds"] = time.perf_counter() - start
    # CPU time of the task: on shared cores its wall time depends on the other load.
    values["cpu_seconds"] = time.process_time() - cpu
    return values
