"""One reconstruction problem and its perturbed variants.

A :class:`Problem` is what every method is given: the ground truth (for the metrics),
the sampling mask and transform (the operator), and the data ``y = A x + e``. The
variants change one thing and keep the rest, so their reconstructions can be compared
with the clean ones: the data (random or worst-case perturbation), the truth (an
inserted detail, same noise), or the mask (more samples than before, a superset).

Examples
--------
>>> from solver.sampling import make_mask
>>> from solver.phantoms import shepp_logan
>>> problem = make_problem(shepp_logan(64), make_mask("multilevel", 64, 0.25), noise=0.01)
>>> problem.rate, problem.y.shape                                   # doctest: +SKIP
(0.25, torch.Size([1024]))
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from solver.recipe import TRANSFORM
from solver.validation import check_choice, check_positive, check_seed

__all__ = [
    "Problem",
    "make_problem",
    "problem_from_kspace",
    "with_perturbation",
    "with_random_perturbation",
    "with_text_detail",
    "with_more_samples",
    "superset_mask",
]

TRANSFORMS = ("fourier", "walsh", "walsh_uncentred")


@dataclass(frozen=True, eq=False)
class Problem:
    """The truth, the sampling and the data of one reconstruction.

    Attributes
    ----------
    truth : np.ndarray, shape (N, N), float64 or complex128
        Ground truth the metrics compare with.
    mask : np.ndarray, shape (N, N), bool
        Sampling mask (centred order).
    transform : {"fourier", "walsh", "walsh_uncentred"}
    y : torch.Tensor, shape (M,), complex
        The data, noise and perturbation included.
    noise : float
        Level of the measurement noise in ``y`` (``||e|| / ||A x||``), seeded by
        ``noise_seed``.
    notes : tuple of str
        What was adjusted or added on the way (shown with the results).
    operator : SubsampledFourier or SubsampledWalsh
        ``P F`` for ``mask`` (built once).
    has_truth : bool
        False for measured data (:func:`problem_from_kspace`): ``truth`` is then zero
        and only data-side measures (:meth:`residual`, the certified gap) mean anything.
    """

    truth: np.ndarray
    mask: np.ndarray
    transform: str
    y: torch.Tensor
    noise: float = 0.0
    noise_seed: int = 0
    notes: tuple[str, ...] = ()
    operator: Any = field(default=None, repr=False)
    has_truth: bool = True

    def __post_init__(self) -> None:
        if self.operator is None:
            from solver.operators import make_operator

            object.__setattr__(self, "operator", make_operator(self.transform, self.mask))

    @property
    def size(self) -> int:
        """Image side N."""
        return int(self.truth.shape[0])

    @property
    def rate(self) -> float:
        """Achieved sampling rate (fraction of the N x N coefficients measured)."""
        return float(self.mask.mean())

    def measure(self, image: np.ndarray) -> torch.Tensor:
        """Noiseless data ``P F image`` in the dtype of ``y``."""
        with torch.no_grad():
            return self.operator.forward(torch.as_tensor(np.asarray(image)).to(self.y.dtype))

    def residual(self, image: Any) -> float:
        """Relative data residual ``||P F image - y|| / ||y||`` (any real or complex image)."""
        r = self.measure(image) - self.y
        return float(torch.linalg.vector_norm(r) / torch.linalg.vector_norm(self.y).clamp(min=1e-30))

    def measurement(self, wavelet: str = "haar", levels: int | None = None) -> Any:
        """``A = P F W^-1`` for FIRENET and the baselines (``levels=None``: maximal)."""
        from solver.operators import WaveletMeasurement
        from solver.wavelets import Wavelet2D

        return WaveletMeasurement(self.operator, Wavelet2D(wavelet, levels=levels or None, size=self.size))


def _noise(y: torch.Tensor, level: float, seed: int) -> torch.Tensor:
    from solver.perturbations import complex_gaussian_noise

    return complex_gaussian_noise(y, level, seed=seed) if level > 0 else torch.zeros_like(y)


def make_problem(
    truth: Any,
    mask: Any,
    *,
    transform: str = TRANSFORM,
    noise: float = 0.0,
    noise_seed: int = 0,
    dtype: torch.dtype = torch.complex64,
) -> Problem:
    """Measure ``truth`` through ``mask``: ``y = P F x + e`` with ``||e|| = noise ||P F x||``.

    Parameters
    ----------
    truth : array_like, shape (N, N), real or complex
        Ground truth (kept complex128 when complex, e.g. an MR image with its phase).
    mask : array_like, shape (N, N), bool
        Sampling mask in centred order (``solver.sampling.make_mask``).
    transform : {"fourier", "walsh", "walsh_uncentred"}
        ``"walsh_uncentred"``: the published plain sequency order (same samples as
        "walsh" for the same centred ``mask``, ``y`` in another order).
    noise : float, default 0
        Relative level of complex Gaussian measurement noise, >= 0.
    noise_seed : int, default 0
    dtype : torch.dtype, default complex64
        Complex dtype of ``y`` (complex64 in the app, complex128 in tests).

    Raises
    ------
    ValueError
        Naming the parameter (shapes, a transform or level out of range).
    """
    check_choice("transform", transform, TRANSFORMS)
    noise = check_positive("noise", noise, allow_zero=True)
    noise_seed = check_seed(noise_seed, "noise_seed")
    if not isinstance(dtype, torch.dtype) or not dtype.is_complex:
        raise ValueError(f"dtype must be a complex torch dtype, got {dtype!r}")
    x = np.asarray(truth)
    x = x.astype(np.complex128 if np.iscomplexobj(x) else np.float64)  # a complex truth stays complex
    m = np.asarray(mask, dtype=bool)
    if x.ndim != 2 or x.shape[0] != x.shape[1]:
        raise ValueError(f"truth must be a square 2-D image, got shape {x.shape}")
    if m.shape != x.shape:
        raise ValueError(f"mask must have the truth's shape {x.shape}, got {m.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("truth must be finite (it has NaN or inf values)")
    blank = Problem(x, m, transform, torch.zeros(int(m.sum()), dtype=dtype))
    clean = blank.measure(x)
    return replace(blank, y=clean + _noise(clean, noise, noise_seed), noise=noise,
                   noise_seed=noise_seed)


def problem_from_kspace(data: Any, *, dtype: torch.dtype = torch.complex64) -> Problem:
    """The problem of a measured k-space (``solver.kspace.KSpaceData``): no ground truth.

    ``y`` is ``data.y`` (the project's convention, ``SubsampledFourier(data.mask)``'s
    order), ``truth`` is zero and ``has_truth`` False; the data's notes are kept.

    Raises
    ------
    ValueError
        If ``data`` is not a ``KSpaceData`` or ``dtype`` is not complex.
    """
    from solver.kspace import KSpaceData

    if not isinstance(data, KSpaceData):
        raise ValueError(f"data must be a KSpaceData (solver.kspace.load_kspace), got {type(data).__name__}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_complex:
        raise ValueError(f"dtype must be a complex torch dtype, got {dtype!r}")
    n = data.size
    y = torch.as_tensor(np.asarray(data.y)).to(dtype)
    return Problem(np.zeros((n, n)), np.asarray(data.mask, dtype=bool), "fourier", y,
                   notes=tuple(data.notes), has_truth=False)


def with_perturbation(problem: Problem, e: torch.Tensor, note: str = "") -> Problem:
    """The same problem with data ``y + e``."""
    if not torch.is_tensor(e) or e.shape != problem.y.shape:
        raise ValueError(f"e must be a tensor of the data's shape {tuple(problem.y.shape)}, "
                         f"got {getattr(e, 'shape', type(e).__name__)}")
    notes = problem.notes + ((note,) if note else ())
    return replace(problem, y=problem.y + e.detach().to(problem.y.dtype), notes=notes)


def with_random_perturbation(problem: Problem, level: float, *, seed: int = 0) -> tuple[Problem, torch.Tensor]:
    """Add complex Gaussian noise ``e`` with ``||e|| = level ||y||``; returns the
    perturbed problem and ``e``."""
    level = check_positive("level", level, allow_zero=True)
    e = _noise(problem.y, level, check_seed(seed))
    return with_perturbation(problem, e), e


def with_text_detail(
    problem: Problem, contrast: float, *, text: str = "Can u see it?", height: int | None = None
) -> Problem:
    """Insert a small text of ``contrast`` into the truth, keep the same noise.

    The text is centred, about 4 % of the image high by default (the paper's "Can u see
    it?"). The new data are ``P F (x + detail) + e`` with the problem's own ``e``.
    """
    from solver.phantoms import insert_detail, text_detail

    contrast = float(contrast)
    if not -1.0 <= contrast <= 1.0:
        raise ValueError(f"contrast must be in [-1, 1], got {contrast}")
    size = problem.size
    detail = text_detail(size, text, height=height or max(6, size // 24))
    truth = insert_detail(problem.truth, detail, contrast) if contrast else problem.truth
    noise = problem.y - problem.measure(problem.truth)
    return replace(problem, truth=truth, y=problem.measure(truth) + noise)


def superset_mask(
    mask: np.ndarray, target: float, *, pattern: str, seed: int = 0, **params: Any
) -> np.ndarray:
    """``mask`` plus samples of ``pattern`` (another seed) up to the rate ``target``.

    The union of two masks overlaps, so the second mask's rate is found by bisection (a
    few mask builds, milliseconds each) to bring the union's rate closest to ``target``.
    """
    from solver.sampling import make_mask

    mask = np.asarray(mask, dtype=bool)
    target = float(target)
    if not 0 < target <= 1:
        raise ValueError(f"target must be in (0, 1], got {target}")
    if target >= 1.0:
        return np.ones_like(mask)
    low, high = 0.01, 1.0
    best = mask
    for _ in range(12):
        rate = 0.5 * (low + high)
        try:
            more = make_mask(pattern, mask.shape[0], round(rate, 4), seed=seed + 1, **params)
        except ValueError:  # a rate the pattern cannot make: try a larger one
            low = rate
            continue
        union = mask | np.asarray(more, dtype=bool)
        if abs(union.mean() - target) < abs(best.mean() - target):
            best = union
        if union.mean() < target:
            low = rate
        else:
            high = rate
    return best


def with_more_samples(problem: Problem, extra: float, *, pattern: str, seed: int = 0, **params: Any) -> Problem:
    """The same truth measured on a superset of the mask, ``extra`` more of k-space.

    The noise is drawn again at the problem's level and seed for the larger data.
    """
    extra = check_positive("extra", extra, allow_zero=True)
    mask = superset_mask(problem.mask, min(1.0, problem.rate + extra), pattern=pattern, seed=seed, **params)
    note = (f"Sampling rate raised from {problem.rate:.1%} to {mask.mean():.1%} (a superset "
            "of the original mask).")
    bigger = make_problem(problem.truth, mask, transform=problem.transform, noise=problem.noise,
                          noise_seed=problem.noise_seed, dtype=problem.y.dtype)
    return replace(bigger, notes=problem.notes + (note,))
