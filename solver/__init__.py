"""FIRENET and friends: computed (not trained) networks for image reconstruction, and a trained U-Net.

The numerics of FIRENET Explorer as a library: sampling patterns, Fourier and Walsh
operators, wavelets, FIRENET (Colbrook, Antun and Hansen, PNAS 2022) and the baselines,
the trained U-Net, worst-case perturbations and stability curves. Everything is a
``torch.nn.Module`` mapping data ``y`` to an image, so attacks differentiate through it.

The names below are importable from ``solver`` directly, and so is every module of the
package (``solver.problem``, ``solver.kspace``, ...); each module is imported when it or
one of its names is first used, so ``import solver`` stays cheap.

Examples
--------
>>> import solver
>>> mask = solver.make_mask("multilevel", 64, 0.25, seed=0)
>>> problem = solver.make_problem(solver.shepp_logan(64), mask, noise=0.01)
>>> A = solver.measurement("fourier", mask, wavelet="haar")
>>> net = solver.build("firenet", A, firenet=solver.RECOMMENDED)
>>> trace = solver.run(net, problem.y, reference=problem.truth)
>>> trace.image.shape
(64, 64)
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

#: Public name -> the module that defines it.
_EXPORTS = {
    # problems and the run API
    "Problem": "problem", "make_problem": "problem", "with_perturbation": "problem",
    "with_random_perturbation": "problem", "with_text_detail": "problem",
    "with_more_samples": "problem", "superset_mask": "problem",
    "METHODS": "methods", "build": "methods",
    "Trace": "trace", "run": "trace", "certify": "trace",
    # operators, sampling, wavelets
    "measurement": "operators", "make_operator": "operators", "WaveletMeasurement": "operators",
    "SubsampledFourier": "operators", "SubsampledWalsh": "operators",
    "make_mask": "sampling", "PATTERNS": "sampling",
    "Wavelet2D": "wavelets", "level_weights": "wavelets",
    # networks
    "FIRENET": "firenet", "PAPER_DEFAULTS": "firenet", "RECOMMENDED": "firenet",
    "LayerRecord": "firenet",
    "ChambollePock": "baselines", "FISTA": "baselines", "ZeroFilled": "baselines",
    "UNet": "networks", "LearnedReconstruction": "networks", "load_network": "networks",
    # certificates, metrics, images ("objective" is the module solver.objective: a function
    # of the same name exported here would replace the module depending on import order)
    "dual_value": "objective", "polish_dual": "objective",
    "SINGLE_PRECISION_FLOOR": "objective",
    "psnr": "metrics", "ssim": "metrics", "relative_error": "metrics",
    "make_test_image": "phantoms", "shepp_logan": "phantoms",
    # perturbations and stability
    "worst_case_perturbation": "attacks", "worst_case_image_perturbation": "attacks",
    "stability_curve": "stability",
    # bringing your own data
    "load_kspace": "kspace", "load_mask": "mask_files",
}

__all__ = sorted(_EXPORTS)


def _submodules() -> list[str]:
    return [info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"solver.{module}"), name)
    elif name in _submodules():
        value = importlib.import_module(f"solver.{name}")
    else:
        raise AttributeError(f"module 'solver' has no attribute {name!r}")
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_submodules()))
