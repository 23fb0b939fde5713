"""One description of a reconstruction, and every default of it written once.

A :class:`Recipe` says what is computed from a problem's data: the method (a key of
``solver.methods.METHODS``), the sparsity weight ``lam``, the wavelet and its number of
levels, the scheme of the l1 weights, FIRENET's schedule, the depth of the fixed-depth
baselines and the dtype of the data. The explorer's widgets, the reproduction sweeps and
the library's own signatures take their defaults from the constants here, so a default
is changed in one place. ``solver.methods.from_recipe`` builds the network.

Examples
--------
>>> from solver import phantoms, problem, sampling
>>> from solver.recipe import RATE, Recipe
>>> p = problem.make_problem(phantoms.shepp_logan(32), sampling.make_mask("multilevel", 32, RATE))
>>> recipe = Recipe("firenet", levels=3)
>>> recipe.transform(p.size).levels
3
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from solver.sparsity_weights import DEFAULT_THRESHOLD
from solver.validation import check_choice, check_int, check_positive

__all__ = [
    "DTYPE",
    "ITERATIONS",
    "LAM",
    "LEVELS",
    "PATTERN",
    "RATE",
    "TRANSFORM",
    "WAVELET",
    "WEIGHTS",
    "WEIGHT_SCHEMES",
    "Recipe",
    "l1_weights",
    "wavelet_transform",
]

#: Weight of the l1 term of the sqrt-LASSO (the paper's value).
LAM = 2.5e-4
#: Transform, sampling pattern and rate of a fresh problem (those the U-Net was trained
#: with).
TRANSFORM = "fourier"
PATTERN = "multilevel"
RATE = 0.25
#: Wavelet and its number of levels (0: as many as the size allows).
WAVELET = "haar"
LEVELS = 0
#: Schemes of the l1 weights: unit weights, per level from the reference's sparsity
#: (``solver.wavelets.level_weights``), the published per-level scheme with an absolute
#: threshold (``solver.sparsity_weights.sparsity_level_weights``), or typed sparsities per
#: level (``solver.sparsity_weights.weights_from_sparsities``).
WEIGHT_SCHEMES = ("uniform", "levels", "authors", "typed")
WEIGHTS = "levels"
#: Depth of the fixed-depth baselines (Chambolle-Pock, FISTA), and the page's limit on the
#: adaptive FIRENET's layers.
ITERATIONS = 300
#: Dtype of the data in the app (float32 images); tests use complex128.
DTYPE = torch.complex64


@dataclass(frozen=True)
class Recipe:
    """What a reconstruction computes from a problem's data.

    Attributes
    ----------
    method : str
        A key of ``solver.methods.METHODS``.
    lam : float
        Weight of the l1 term, > 0.
    wavelet : str
        PyWavelets name of the sparsifying wavelet.
    levels : int
        Wavelet levels; 0 for as many as the size allows.
    weights : str
        One of :data:`WEIGHT_SCHEMES`.
    threshold : float
        Absolute threshold of the published scheme (``weights="authors"``).
    sparsities : str
        Typed sparsities per level (``weights="typed"``), e.g. ``"4, 12, 48"``.
    schedule : mapping
        Keyword arguments of ``solver.firenet.FIRENET`` (``restarts``, ``layers``, ``nu``,
        ... or ``schedule="adaptive"``); the paper's values where missing.
    iterations : int
        Depth of the fixed-depth baselines.
    dtype : torch.dtype
        Complex dtype of the data.
    """

    method: str
    lam: float = LAM
    wavelet: str = WAVELET
    levels: int = LEVELS
    weights: str = WEIGHTS
    threshold: float = DEFAULT_THRESHOLD
    sparsities: str = ""
    schedule: Mapping[str, Any] = field(default_factory=dict)
    iterations: int = ITERATIONS
    dtype: torch.dtype = DTYPE

    def __post_init__(self) -> None:
        check_positive("lam", self.lam)
        check_int("levels", self.levels, low=0)
        check_choice("weights", self.weights, WEIGHT_SCHEMES)
        check_int("iterations", self.iterations, low=1)

    def transform(self, size: int) -> Any:
        """The recipe's wavelet transform for ``size`` x ``size`` images."""
        return wavelet_transform(self.wavelet, self.levels, size)

    def measurement(self, problem: Any) -> Any:
        """``A = P F W^-1`` of ``problem`` with this recipe's wavelet."""
        return problem.measurement(self.wavelet, self.levels or None)


def wavelet_transform(wavelet: str, levels: int, size: int) -> Any:
    """``solver.wavelets.Wavelet2D`` for ``levels`` levels (0: the most ``size`` allows)."""
    from solver.wavelets import Wavelet2D

    return Wavelet2D(wavelet, levels=check_int("levels", levels, low=0) or None, size=size)


def l1_weights(scheme: str, wavelet: str, levels: int, size: int, *, reference: np.ndarray | None = None,
               threshold: float = DEFAULT_THRESHOLD, sparsities: str = "") -> torch.Tensor | None:
    """The l1 weights of ``scheme`` (None: unit weights), float32 (N, N).

    Parameters
    ----------
    scheme : str
        One of :data:`WEIGHT_SCHEMES`.
    reference : np.ndarray, shape (N, N), real, optional
        The image the per-level schemes read (the truth, or without one the zero-filled
        image's magnitude); needed by ``"levels"`` and ``"authors"``.
    threshold, sparsities
        As in :class:`Recipe`.

    Raises
    ------
    ValueError
        For an unknown scheme, a missing reference, or typed sparsities that do not fit
        the levels.
    """
    check_choice("weights", scheme, WEIGHT_SCHEMES)
    if scheme == "uniform":
        return None
    transform = wavelet_transform(wavelet, levels, size)
    if scheme == "typed":
        from solver.sparsity_weights import parse_sparsities, weights_from_sparsities

        return weights_from_sparsities(parse_sparsities(sparsities), transform).to(torch.float32)
    if reference is None:
        raise ValueError(f"reference is needed for the weights {scheme!r} (an image to read the sparsity of)")
    if scheme == "authors":
        from solver.sparsity_weights import sparsity_level_weights

        return sparsity_level_weights(reference, transform, threshold=threshold).to(torch.float32)
    from solver.wavelets import level_weights

    return level_weights(torch.as_tensor(reference, dtype=torch.float32), transform,
                         domain="image").to(torch.float32)
