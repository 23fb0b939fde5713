"""One-click set-ups of the paper's experiments, at sizes that run on a laptop.

A preset is a set of settings (keys of ``explorer.state.SPECS``); applying it resets
every other setting to its default first, so a preset always gives the same page. Some
presets also ask for a long computation (a worst-case search) to start at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from solver import methods as M
from solver.recipe import LAM

__all__ = ["Preset", "PRESETS"]


@dataclass(frozen=True)
class Preset:
    """A named experiment.

    Attributes
    ----------
    label : str
        Button text.
    description : str
        What it shows and how it relates to the paper (tooltip and note).
    values : dict
        Settings to apply on top of the defaults.
    request : tuple of str
        Long computations to start right away (``"attack"``, ``"stability"``).
    page : str
        The page it opens (``explorer.links.PAGE_PATHS``): a preset about convergence
        opens the convergence page.
    """

    label: str
    description: str
    values: dict[str, Any] = field(default_factory=dict)
    request: tuple[str, ...] = ()
    page: str = "reconstruction"


PRESETS: dict[str, Preset] = {
    "convergence": Preset(
        "Convergence: FIRENET vs Chambolle-Pock",
        "The paper's convergence experiment (supplement) at N = 256: Shepp-Logan, "
        "multilevel Fourier sampling at 15%, noise ‖e‖ = 0.02 ‖y‖, the paper's 16 "
        "restarts of 5 layers. The Convergence page opens: FIRENET's error and certified gap "
        "against the layers, beside both Chambolle-Pock runs and the εₖ schedule. With "
        "these values FIRENET stalls here; press 'Adaptive' (FIRENET settings, beside the "
        "chart) to compare.",
        {"image": "shepp_logan", "size": 256, "pattern": "multilevel", "rate": 0.15,
         "noise": 0.02, "perturbation": "none", "schedule": "fixed", "n": 16, "p": 5, "nu": math.exp(-1.0), "C": 1.0, "output": "ergodic",
         "show": (M.ZERO_FILLED, M.FIRENET, M.CP, M.CP_ADAPTIVE)},
        page="convergence",
    ),
    "detail": Preset(
        "\"Can u see it?\": a small detail",
        "Random ellipses with a faint text detail, multilevel Fourier sampling at 25% "
        "(the U-Net's training setting). Drag a box around the text: every picture zooms to it.",
        {"image": "ellipses_text", "size": 256, "image_seed": 7, "pattern": "multilevel",
         "rate": 0.25, "perturbation": "none",
         "show": (M.ZERO_FILLED, M.FIRENET, M.UNET, M.UNET_FIRENET)},
    ),
    "worst_case": Preset(
        "Worst case at 2%: U-Net vs FIRENET",
        "The default page with a smaller perturbation: 2% of ‖y‖ (largest pixel change of "
        "the zero-filled image about 0.04 instead of 0.1), found by gradient ascent against "
        "the U-Net (20 steps) and given to every method. The sentence at the top states what "
        "it did to each network.",
        {"image": "random_ellipses", "size": 256, "image_seed": 800_000, "pattern": "multilevel",
         "rate": 0.25, "perturbation": "worst_unet", "budget": 0.02,
         "show": (M.ZERO_FILLED, M.FIRENET_PAPER, M.FIRENET, M.UNET)},
        request=("attack",),
    ),
    "own_worst_case": Preset(
        "FIRENET's own worst case at 2%",
        "The default page with the perturbation searched against FIRENET itself (run to "
        "convergence) instead of the U-Net: 2% of ‖y‖, 20 gradient steps through all of "
        "its layers (a minute or more). The measured table in docs/sweep.md has the outcome "
        "for both FIRENETs and the U-Net.",
        {"image": "random_ellipses", "size": 256, "image_seed": 800_000, "pattern": "multilevel",
         "rate": 0.25, "perturbation": "worst_firenet", "budget": 0.02,
         "show": (M.ZERO_FILLED, M.FIRENET_PAPER, M.FIRENET, M.UNET)},
        request=("attack",),
    ),
    "noise": Preset(
        "U-Net under growing noise",
        "Random complex Gaussian noise on the data of an image like the U-Net's training "
        "images; raise the noise slider (or the budget) and compare how the errors grow, "
        "or open the stability panel below for the curves (random and worst case, every size).",
        {"image": "random_ellipses", "size": 256, "image_seed": 5, "pattern": "multilevel",
         "rate": 0.25, "noise": 0.05, "perturbation": "random", "budget": 0.1,
         "show": (M.ZERO_FILLED, M.FIRENET, M.UNET)},
    ),
    "more_samples": Preset(
        "More samples than trained",
        "The U-Net was trained at 25%; here it gets 15% more k-space (a superset of its "
        "mask). FIRENET uses the extra data; the trained network may get worse.",
        {"image": "random_ellipses", "size": 256, "image_seed": 11, "pattern": "multilevel",
         "rate": 0.25, "perturbation": "more_samples", "budget": 0.15,
         "show": (M.ZERO_FILLED, M.FIRENET, M.UNET)},
    ),
    # The published scripts' set-ups, as closely as the page's settings allow.
    "published_convergence": Preset(
        "Convergence figure (supplement), published weights and DAS",
        "The supplement's convergence experiment with the published code's choices: "
        "Shepp-Logan, DAS blocks sampled at 15% from the phantom's own sparsities, noise "
        "‖e‖ = 0.02 ‖y‖, 16 restarts of 5 layers, τ = σ = 1, weights from the "
        "published scheme (threshold 0.1), one wavelet level fewer than the maximum. "
        "Differs: N = 256 instead of 1024 (7 Haar levels instead of 9); our seeded DAS "
        "draw, not the published mask file. The Convergence page opens: FIRENET's error and "
        "certified gap against the layers, beside both Chambolle-Pock runs.",
        {"image": "shepp_logan", "size": 256, "pattern": "das", "pp_das_reference": "shepp_logan",
         "rate": 0.15, "noise": 0.02, "schedule": "fixed", "n": 16, "p": 5, "nu": math.exp(-1.0), "C": 1.0,
         "lam": LAM, "output": "ergodic", "levels": 7, "weights": "authors", "threshold": 0.1,
         "perturbation": "none",
         "show": (M.ZERO_FILLED, M.FIRENET, M.CP, M.CP_ADAPTIVE)},
        page="convergence",
    ),
    "published_ellipses": Preset(
        "Ellipse experiment (published script): τ = σ = 0.6",
        "The published ellipse experiment's parameters: τ = σ = 0.6, λ = 1e-3, "
        "δ = 1e-6, unit weights, ergodic output, one wavelet level fewer than the "
        "maximum, DAS sampling at 25%. Differs: our seeded random-ellipse generator and "
        "N = 256; 5 restarts of 5 layers (the paper's table).",
        {"image": "random_ellipses", "size": 256, "image_seed": 3, "pattern": "das",
         "rate": 0.25, "tau": 0.6, "sigma": 0.6, "lam": 1e-3, "delta": 1e-6,
         "weights": "uniform", "levels": 7, "schedule": "fixed", "n": 5, "p": 5, "nu": math.exp(-1.0), "C": 1.0,
         "output": "ergodic", "perturbation": "none", "show": (M.ZERO_FILLED, M.FIRENET, M.UNET)},
    ),
    "published_detail": Preset(
        "\"Can u see it?\" figure, published weights (threshold 0.5)",
        "The detail figure with the published text-detail demo's weights (absolute "
        "threshold 0.5): ellipses with a faint text, DAS at 15%, 5 restarts of 5 layers. "
        "Differs: N = 256 instead of 1024 (7 Haar levels instead of 9), our ellipse image.",
        {"image": "ellipses_text", "size": 256, "image_seed": 7, "pattern": "das", "rate": 0.15,
         "weights": "authors", "threshold": 0.5, "levels": 7, "schedule": "fixed", "n": 5, "p": 5,
         "nu": math.exp(-1.0), "C": 1.0, "lam": LAM, "output": "ergodic", "perturbation": "none",
         "show": (M.ZERO_FILLED, M.FIRENET, M.UNET, M.UNET_FIRENET)},
    ),
    "published_stability": Preset(
        "Worst case on FIRENET (stability figure), typed sparsities",
        "The stability experiment: N = 256, DAS at 25%, Haar with 6 levels, 5 restarts of "
        "5 layers, level weights from the typed sparsities 4, 12, 48, 50, 100, 100, and a "
        "worst-case perturbation searched against FIRENET. Differs: the perturbation size "
        "is relative (5% of ‖y‖) instead of the published absolute ‖r‖ up to 8, and "
        "the image is our ellipse image.",
        {"image": "random_ellipses", "size": 256, "image_seed": 3, "pattern": "das",
         "rate": 0.25, "levels": 6, "weights": "typed", "sparsities": "4, 12, 48, 50, 100, 100",
         "schedule": "fixed", "n": 5, "p": 5, "nu": math.exp(-1.0), "C": 1.0, "lam": LAM, "output": "ergodic",
         "perturbation": "worst_firenet", "budget": 0.05,
         "show": (M.ZERO_FILLED, M.FIRENET, M.UNET)},
        request=("attack",),
    ),
}
