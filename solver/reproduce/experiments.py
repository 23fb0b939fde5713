"""The five experiments as lists of independent tasks, and the code that runs one task.

A *task* is a flat dict of plain settings (JSON scalars): the experiment, the method and
every parameter it is built with, the problem (image seed, size, sampling, noise) and the
experiment's own settings (budget, contrast, extra samples) with their seeds. Every
parameter is resolved when the sweep is planned (e.g. FIRENET's restarts and layers from
:func:`solver.legacy.fixed_schedule`), so the settings alone say what was computed, and a
rerun of the same settings (one torch thread) reproduces every number. :func:`execute`
runs one task in whatever process it lands in and returns its measured values.

Presets
-------
``small`` runs in well under two minutes on two cores (used by the tests and the README);
``full`` is the size of a paper figure or table; its cost, measured with
``benchmarks/bench_reproduce.py --full-cost``, is in the README. The U-Net was trained for N = 256 (Fourier, multilevel 25 %, mask
seed 0), so every preset that includes it works at N = 256; the others use N = 64.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from solver.validation import check_choice, check_int

__all__ = [
    "EXPERIMENTS",
    "KEPT_RATIO",
    "METHOD_VARIANTS",
    "PRESETS",
    "execute",
    "method_settings",
    "plan",
]

#: A detail counts as kept when its recovered contrast is at least this fraction of the
#: inserted contrast (the same network's reconstruction without the detail as reference).
KEPT_RATIO = 0.5

#: Method names of the sweeps -> (name in ``solver.methods.METHODS``, how its parameters
#: are chosen). "firenet" uses the measured defaults for the size, "firenet_paper" the
#: paper's 16 x 5 ergodic schedule, "firenet_5x5" the paper's 5 x 5 network of its
#: stability and detail experiments (shallow enough to attack: a worst-case step through
#: the 300-layer default costs ~6 s at N = 64, through 5 x 5 ~0.2 s).
METHOD_VARIANTS: dict[str, str] = {
    "zero_filled": "zero_filled",
    "firenet": "firenet",
    "firenet_paper": "firenet",
    "firenet_5x5": "firenet",
    "cp": "cp",
    "cp_tuned": "cp_tuned",
    "fista": "fista",
    "unet": "unet",
    "unet_firenet": "unet_firenet",
}

# Settings every task of an experiment shares unless the preset says otherwise.
_PROBLEM = {
    "size": 64,
    "pattern": "multilevel",
    "rate": 0.25,
    "mask_seed": 0,
    "transform": "fourier",
    "wavelet": "haar",
    "levels": 0,          # 0 = the maximal number of levels
    "lam": 2.5e-4,
    "weights": "levels",  # l1 weights per level from the truth's sparsity (the page's default)
    "noise": 0.0,
    "noise_seed": 0,
}

_ATTACK = {"steps": 100, "lr": 0.002, "momentum": 0.9, "mu": 0.002, "random_trials": 1}

#: Grids of each experiment and preset. Lists are swept (Cartesian product); ``images``
#: is a number of held-out test images (seeds 800000, 800001, ...).
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "convergence": {
        "small": {"size": 64, "images": 2, "noise": 0.02,
                  "method": ["firenet", "firenet_paper", "cp", "fista"], "iterations": 300},
        "full": {"size": 256, "images": 50, "noise": 0.02,
                 "method": ["firenet", "firenet_paper", "cp", "cp_tuned", "fista", "unet_firenet"],
                 "iterations": 300},
    },
    "stability": {
        "small": {"size": 256, "images": 1, "method": ["unet", "firenet_5x5", "zero_filled"],
                  "budget": [0.01, 0.03, 0.1], "steps": 8, "lr": 0.01, "attack_seed": [0]},
        "full": {"size": 256, "images": 5,
                 "method": ["unet", "firenet_5x5", "unet_firenet", "cp", "zero_filled"],
                 "budget": [0.005, 0.01, 0.02, 0.05, 0.1, 0.2], "steps": 100, "attack_seed": [0, 1],
                 "iterations": 25, "random_trials": 3},
    },
    "robustness": {
        "small": {"size": 256, "images": 2, "method": ["unet", "firenet_5x5", "zero_filled"],
                  "budget": [0.05], "steps": 8, "lr": 0.01, "attack_seed": [0]},
        "full": {"size": 256, "images": 200,
                 "method": ["unet", "firenet_5x5", "unet_firenet", "cp", "zero_filled"],
                 "budget": [0.02, 0.05], "steps": 100, "attack_seed": [0, 1, 2], "iterations": 25},
    },
    "detail": {
        "small": {"size": 256, "images": 2, "method": ["unet", "firenet_5x5", "zero_filled"],
                  "contrast": [0.05, 0.15], "text": "Can u see it?"},
        "full": {"size": 256, "images": 50,
                 "method": ["unet", "firenet", "firenet_5x5", "unet_firenet", "zero_filled"],
                 "contrast": [0.02, 0.05, 0.1, 0.2], "text": "Can u see it?"},
    },
    "sampling_change": {
        "small": {"size": 256, "images": 1, "method": ["unet", "firenet_5x5", "zero_filled"],
                  "extra": [0.0, 0.05, 0.15, 0.3], "extra_pattern": "uniform"},
        "full": {"size": 256, "images": 20,
                 "method": ["unet", "firenet", "firenet_5x5", "unet_firenet", "zero_filled"],
                 "extra": [0.0, 0.02, 0.05, 0.1, 0.15, 0.25, 0.4], "extra_pattern": "uniform"},
    },
}

EXPERIMENTS = tuple(PRESETS)


def method_settings(method: str, size: int, *, iterations: int = 300) -> dict[str, Any]:
    """Every parameter ``method`` is built with at image side ``size``, resolved now.

    FIRENET's keys (``restarts``, ``layers``, ``nu``, ``sharpness``, ``output``,
    ``tau``, ``sigma``, ``delta``) are None for methods without FIRENET; ``iterations``
    is None for methods without a fixed iteration count.
    """
    check_choice("method", method, METHOD_VARIANTS)
    from solver.firenet import PAPER_DEFAULTS
    from solver.legacy import fixed_schedule

    keys = ("restarts", "layers", "nu", "sharpness", "output", "tau", "sigma", "delta")
    out: dict[str, Any] = {k: None for k in keys}
    out["iterations"] = None
    if method in ("firenet", "firenet_paper", "firenet_5x5", "unet_firenet"):
        if method == "firenet":
            params = fixed_schedule(size)
        else:  # the paper's network; the tail after the U-Net is its 5 x 5 one too
            params = dict(PAPER_DEFAULTS, restarts=16 if method == "firenet_paper" else 5)
        out.update({k: params[k] for k in keys})
    elif method in ("cp", "cp_tuned", "fista"):
        out["iterations"] = check_int("iterations", iterations, low=1)
    return out


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
    allowed = set(grid) | set(_PROBLEM) | {"iterations"} | ({"text"} if experiment == "detail" else set()) | (
        set(_ATTACK) | {"budget", "attack_seed"} if experiment in ("stability", "robustness") else set())
    for name, value in dict(overrides or {}).items():
        check_choice("overrides key", name, sorted(allowed))
        grid[name] = list(value) if isinstance(value, tuple) else value
    preset_images = grid.pop("images")
    count = check_int("images", preset_images if images is None else images, low=1)
    iterations = check_int("iterations", grid.pop("iterations", 300 if experiment == "convergence" else 25), low=1)
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
        task.update(method_settings(task["method"], int(task["size"]), iterations=iterations))
        if METHOD_VARIANTS[task["method"]] in ("unet", "unet_firenet"):
            task["unet_sha256"] = _weights_sha256()
        tasks.append(task)
    return tasks


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


def _network(s: Mapping[str, Any], problem: Any) -> Any:
    import torch

    from solver import methods
    from solver.wavelets import Wavelet2D, level_weights

    levels = int(s["levels"]) or None
    A = problem.measurement(s["wavelet"], levels)
    weights = None
    if s["weights"] == "levels":
        wavelet = Wavelet2D(s["wavelet"], levels=levels, size=problem.size)
        weights = level_weights(torch.as_tensor(problem.truth, dtype=torch.float32), wavelet,
                                domain="image").to(torch.float32)
    elif s["weights"] != "uniform":
        raise ValueError(f"weights must be 'levels' or 'uniform', got {s['weights']!r}")
    firenet = {k: s[k] for k in ("restarts", "layers", "nu", "sharpness", "output", "tau", "sigma",
                                 "delta") if s.get(k) is not None}
    name = METHOD_VARIANTS[s["method"]]
    unet = _unet() if methods.METHODS[name].learned else None
    return methods.build(name, A, lam=float(s["lam"]), weights=weights,
                         iterations=int(s["iterations"] or 1), firenet=firenet, unet=unet)


def _image_metrics(image: Any, truth: np.ndarray, prefix: str = "") -> dict[str, float]:
    from solver.metrics import psnr, relative_error, ssim

    x = np.asarray(image, dtype=np.float64).reshape(truth.shape)
    return {f"{prefix}error": relative_error(x, truth), f"{prefix}psnr": psnr(x, truth),
            f"{prefix}ssim": ssim(x, truth)}


def _convergence(s: Mapping[str, Any]) -> dict[str, Any]:
    from solver.trace import run

    problem = _problem(s)
    trace = run(_network(s, problem), problem.y, reference=problem.truth)
    return {**_image_metrics(trace.image, problem.truth), "depth": max(trace.layer, default=0),
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
                                    seed=int(s["attack_seed"]))
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
    detail = text_detail(problem.size, s["text"], height=max(6, problem.size // 24))
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
