"""One-click set-ups of the paper's experiments, at sizes that run on a laptop.

A preset is a set of settings (keys of ``explorer.state.SPECS``); applying it resets
every other setting to its default first, so a preset always gives the same page. Some
presets also ask for a long computation (a worst-case search) to start at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

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
    """

    label: str
    description: str
    values: dict[str, Any] = field(default_factory=dict)
    request: tuple[str, ...] = ()


PRESETS: dict[str, Preset] = {
    "convergence": Preset(
        "Convergence: FIRENET vs Chambolle-Pock",
        "The paper's convergence experiment (supplement) at N = 256: Shepp-Logan, "
        "multilevel Fourier sampling at 15%, noise ||e|| = 0.02 ||y||, the paper's 16 "
        "restarts of 5 layers. Watch the certified gap against the eps_k schedule: with "
        "these values FIRENET stalls here; press 'Recommended' to compare.",
        {"image": "shepp_logan", "size": 256, "pattern": "multilevel", "rate": 0.15,
         "noise": 0.02, "n": 16, "p": 5, "nu": math.exp(-1.0), "C": 1.0, "output": "ergodic",
         "show": ("zero_filled", "firenet", "cp", "cp_tuned")},
    ),
    "detail": Preset(
        "\"Can u see it?\": a small detail",
        "Random ellipses with a faint text detail, multilevel Fourier sampling at 25% "
        "(the U-Net's training setting). Zoom into the text: all panels zoom together.",
        {"image": "ellipses_text", "size": 256, "image_seed": 7, "pattern": "multilevel",
         "rate": 0.25, "show": ("zero_filled", "firenet", "unet", "unet_firenet")},
    ),
    "worst_case": Preset(
        "Worst case: U-Net vs FIRENET",
        "A perturbation of 5% of ||y|| found by gradient ascent against the U-Net, given "
        "to every method: the U-Net's output changes visibly, FIRENET's barely.",
        {"image": "random_ellipses", "size": 256, "image_seed": 3, "pattern": "multilevel",
         "rate": 0.25, "perturbation": "worst_unet", "budget": 0.05,
         "show": ("zero_filled", "firenet", "unet", "unet_firenet")},
        request=("attack",),
    ),
    "noise": Preset(
        "U-Net under growing noise",
        "Random complex Gaussian noise on the data of an image like the U-Net's training "
        "images; raise the noise slider (or the budget) and compare how the errors grow, "
        "or compute the stability curves below (random and worst case, every size).",
        {"image": "random_ellipses", "size": 256, "image_seed": 5, "pattern": "multilevel",
         "rate": 0.25, "noise": 0.05, "perturbation": "random", "budget": 0.1,
         "show": ("zero_filled", "firenet", "unet")},
    ),
    "more_samples": Preset(
        "More samples than trained",
        "The U-Net was trained at 25%; here it gets 15% more k-space (a superset of its "
        "mask). FIRENET uses the extra data; the trained network may get worse.",
        {"image": "random_ellipses", "size": 256, "image_seed": 11, "pattern": "multilevel",
         "rate": 0.25, "perturbation": "more_samples", "budget": 0.15,
         "show": ("zero_filled", "firenet", "unet")},
    ),
}
