"""Complex test images: a magnitude image with a smooth, seeded phase.

MR images are complex: the magnitude carries the anatomy, the phase varies smoothly (coil
sensitivities, B0 inhomogeneity, the receiver's phase). A real test image times
``exp(i phi)`` with a smooth ``phi`` is the usual stand-in; reconstructions and metrics
must then keep the imaginary part (see ``solver.metrics``, ``part="complex"``).
"""

from __future__ import annotations

import numpy as np

from solver.validation import check_positive, check_seed

__all__ = ["complex_test_image", "smooth_phase"]


def smooth_phase(size: int, *, max_phase: float = np.pi / 2, seed: int = 0) -> np.ndarray:
    """A smooth random phase map: a seeded quadratic polynomial on [-1, 1]^2.

    Parameters
    ----------
    size : int
        N (>= 2).
    max_phase : float, default pi/2
        Largest ``|phi|`` on the grid, in (0, pi].
    seed : int
        Seed (>= 0) of the polynomial's coefficients.

    Returns
    -------
    np.ndarray, float64, (N, N)
        ``phi = c0 + c1 x + c2 y + c3 x^2 + c4 x y + c5 y^2``, scaled so that
        ``max |phi| = max_phase``.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 2:
        raise ValueError(f"size must be an integer >= 2, got {size!r}")
    max_phase = check_positive("max_phase", max_phase)
    if max_phase > np.pi:
        raise ValueError(f"max_phase must be in (0, pi], got {max_phase!r}")
    coeffs = np.random.default_rng(check_seed(seed)).standard_normal(6)
    t = (2.0 * np.arange(size) + 1.0 - size) / size  # pixel centres on [-1, 1]
    y, x = np.meshgrid(t, t, indexing="ij")
    phi = coeffs @ np.stack([np.ones_like(x), x, y, x * x, x * y, y * y]).reshape(6, -1)
    phi = phi.reshape(size, size)
    return phi * (max_phase / np.abs(phi).max())


def complex_test_image(magnitude, *, max_phase: float = np.pi / 2, seed: int = 0) -> np.ndarray:
    """``magnitude * exp(i phi)`` with :func:`smooth_phase`; complex128 (N, N).

    Parameters
    ----------
    magnitude : array_like, real, (N, N)
        E.g. a test image in [0, 1]; its modulus is kept exactly.
    max_phase, seed
        See :func:`smooth_phase`.
    """
    mag = np.asarray(magnitude)
    if mag.ndim != 2 or mag.shape[0] != mag.shape[1] or np.iscomplexobj(mag):
        raise ValueError(
            f"magnitude must be a real square 2-D array, got shape {mag.shape}, dtype {mag.dtype}"
        )
    phase = smooth_phase(mag.shape[0], max_phase=max_phase, seed=seed)
    return mag.astype(np.float64) * np.exp(1j * phase)
