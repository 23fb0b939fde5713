"""Random weighted sqrt-LASSO problems for the certificate's property tests.

Problem ``seed`` (one of :data:`SEEDS`) is drawn from ``numpy.random.default_rng(seed)``:
the pattern cycles through :data:`PATTERNS`; the side is 16, 32 or 64 (radial and line
masks, whose references take 2,000-20,000 layers: 32 for the first of each, then 16); a
sampling rate near
25-40 %; a random-ellipses image, real or times a smooth random phase; level weights or
unit weights; noiseless data or 1 % complex Gaussian noise. Masks come from
:func:`solver.sampling.make_mask`, which starts at side 32: a side-16 mask is the centre
16 x 16 block of a side-32 mask of the same pattern (still centre-dense, still lines
or spokes). The data ``y`` are rounded to complex64 and cast back, so the single- and
double-precision runs solve the same problem exactly.

The references (``tests/data/certificate_references.npz``, made by
``tests/data/make_certificate_references.py``) hold per problem a primal point and a dual
point in complex128 whose objective and dual value are within 1e-12 relative: they pin
``F*`` to that precision by weak duality, whatever computed them.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from solver.operators import SubsampledFourier, WaveletMeasurement
from solver.phantoms import random_ellipses
from solver.sampling import make_mask
from solver.wavelets import Wavelet2D, level_weights

LAM = 2.5e-4
#: The problems' seeds. Seed 35 (random lines, N = 16) is left out: its reference run
#: stopped at a certified 8.6e-12 after 40,000 layers, and a harder dual polish (10 rounds
#: of 300 steps) only reached 8.5e-12.
SEEDS = tuple(seed for seed in range(53) if seed != 35)
COUNT = len(SEEDS)
PATTERNS = ("multilevel", "uniform", "radial", "lines_random")
REFERENCES = Path(__file__).parent / "data" / "certificate_references.npz"


class Spec(NamedTuple):
    pattern: str
    size: int
    rate: float
    complex_image: bool
    level_weights: bool
    noise: float


class Problem(NamedTuple):
    spec: Spec
    A: WaveletMeasurement
    y: torch.Tensor  # complex128, exactly representable in complex64
    w: torch.Tensor | None


def spec(seed: int) -> Spec:
    """The random choices of problem ``seed``."""
    rng = np.random.default_rng(seed)
    pattern = PATTERNS[seed % len(PATTERNS)]
    slow = pattern in ("radial", "lines_random")
    size = int(rng.choice([16, 32, 64])) if not slow else 32 if seed < 4 else 16
    # whole lines at side 32: rates k/32
    rate = int(rng.integers(9, 14)) / 32 if pattern == "lines_random" else round(float(rng.uniform(0.25, 0.4)), 2)
    return Spec(pattern, size, rate, bool(rng.random() < 0.5), bool(rng.random() < 0.5),
                0.01 if rng.random() < 0.5 else 0.0)


def _mask(s: Spec, seed: int) -> np.ndarray:
    if s.size >= 32:
        return make_mask(s.pattern, s.size, s.rate, seed=seed)
    big = make_mask(s.pattern, 2 * s.size, s.rate, seed=seed)
    lo = s.size // 2
    return np.ascontiguousarray(big[lo:lo + s.size, lo:lo + s.size])


def build(seed: int) -> Problem:
    """Problem ``seed``: its operator ``A = P F W^-1`` (Haar, maximal levels), data, weights."""
    s = spec(seed)
    A = WaveletMeasurement(SubsampledFourier(_mask(s, seed)), Wavelet2D("haar", None, s.size))
    image = torch.as_tensor(random_ellipses(s.size, seed), dtype=torch.complex128)
    rng = np.random.default_rng(1000 + seed)
    if s.complex_image:
        grid = torch.linspace(-1.0, 1.0, s.size, dtype=torch.float64)
        a, b = rng.uniform(0.5, 2.0, size=2)
        image = image * torch.exp(1j * (a * grid[:, None] + b * grid[None, :] ** 2))
    w = level_weights(image, A.wavelet, domain="image") if s.level_weights else None
    y = A.sampling.forward(image)
    if s.noise:
        e = torch.as_tensor(rng.standard_normal(y.shape) + 1j * rng.standard_normal(y.shape))
        y = y + s.noise * torch.linalg.vector_norm(y) * e / torch.linalg.vector_norm(e)
    return Problem(s, A, y.to(torch.complex64).to(torch.complex128), w)
