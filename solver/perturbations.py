"""Non-adversarial perturbations: measurement noise, inserted details, changed sampling.

Three of the instability tests in this line of work need no optimisation:

* **noise**: complex Gaussian noise added to the measurements ``y``, either at an exact
  relative level ``||e|| / ||y||`` (equivalently an SNR in dB) or with the paper's
  convention ``e = m (g1 + i g2) / sqrt(|Omega|)``;
* **detail insertion**: a small structured detail (text, a "tumour" blob) absent from the
  training data is added to the true image, and each reconstruction is checked for it;
* **sampling change**: a network is given more (or fewer) samples than it was trained with.

Every reconstruction network here is an ``nn.Module`` mapping ``y`` (..., M) complex to a
real image (..., N, N); the measurement operator maps an image (..., N, N) complex to
``y`` (its ``forward``), as the classes of :mod:`solver.operators` do.

The worst-case (adversarial) perturbations live in :mod:`solver.attacks`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from solver.validation import check_seed

__all__ = [
    "snr_db_to_level",
    "level_to_snr_db",
    "complex_gaussian_noise",
    "add_noise",
    "paper_noise",
    "DetailRecovery",
    "detail_recovery",
    "detail_insertion",
    "SampledProblem",
    "resampled_problem",
    "SamplingChange",
    "sampling_change",
]


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------
def _check_measurements(y, name: str = "y") -> torch.Tensor:
    if not isinstance(y, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(y).__name__}")
    if not y.is_complex():
        raise ValueError(f"{name} must be complex (..., M), got dtype {y.dtype}")
    if y.ndim < 1 or y.shape[-1] == 0:
        raise ValueError(f"{name} must have shape (..., M) with M >= 1, got {tuple(y.shape)}")
    return y


def _standard_normal(shape, seed: int) -> torch.Tensor:
    """Standard normal float64 samples drawn on the CPU from a generator built from ``seed``.

    Drawing on the CPU in float64 and casting afterwards makes the same seed give the same
    perturbation whatever the target dtype or device.
    """
    gen = torch.Generator(device="cpu").manual_seed(seed)
    return torch.randn(tuple(shape), generator=gen, dtype=torch.float64)


# --------------------------------------------------------------------------------------
# noise
# --------------------------------------------------------------------------------------
def snr_db_to_level(snr_db: float) -> float:
    """Relative noise level ``||e|| / ||y||`` for a signal-to-noise ratio in dB.

    The SNR is the ratio of norms (amplitudes), ``SNR = 20 log10(||y|| / ||e||)``, so
    ``level = 10 ** (-snr_db / 20)``: 20 dB is a 10% perturbation, 26 dB about 5%.

    Parameters
    ----------
    snr_db : float
        Finite signal-to-noise ratio in decibels.

    Returns
    -------
    float
        The relative level ``||e|| / ||y||`` (> 0).

    Raises
    ------
    ValueError
        If ``snr_db`` is not finite.
    """
    if not math.isfinite(snr_db):
        raise ValueError(f"snr_db must be finite, got {snr_db}")
    return 10.0 ** (-float(snr_db) / 20.0)


def level_to_snr_db(level: float) -> float:
    """Signal-to-noise ratio in dB of a relative noise level ``||e|| / ||y||``.

    Inverse of :func:`snr_db_to_level`: ``snr_db = -20 log10(level)``.

    Parameters
    ----------
    level : float
        Relative level, finite and > 0.

    Returns
    -------
    float
        The SNR in dB.

    Raises
    ------
    ValueError
        If ``level`` is not a finite positive number.
    """
    if not (math.isfinite(level) and level > 0):
        raise ValueError(f"level must be finite and > 0, got {level}")
    return -20.0 * math.log10(level)


def complex_gaussian_noise(y: torch.Tensor, level: float, seed: int = 0) -> torch.Tensor:
    """Complex Gaussian noise with exactly the relative norm ``level`` (per measurement vector).

    A circular complex Gaussian vector ``g`` is drawn and rescaled so that
    ``||e|| = level * ||y||`` along the last axis; the direction is random, the size exact.

    Parameters
    ----------
    y : torch.Tensor, shape (..., M), complex64 or complex128
        Clean measurements; leading axes are independent vectors, each with its own noise.
    level : float
        Relative size ``||e|| / ||y||`` (>= 0), e.g. 0.05. Use :func:`snr_db_to_level` for
        an SNR in dB.
    seed : int
        Seed of the generator (>= 0); the same seed gives the same noise.

    Returns
    -------
    torch.Tensor, shape (..., M), same dtype and device as ``y``
        The noise ``e`` (not ``y + e``; see :func:`add_noise`).

    Raises
    ------
    ValueError
        If ``y`` is not a complex tensor, ``level`` is negative or not finite, or ``seed`` is
        not an integer >= 0.
    """
    _check_measurements(y)
    if not (math.isfinite(level) and level >= 0):
        raise ValueError(f"level must be finite and >= 0, got {level}")
    seed = check_seed(seed)
    g = _standard_normal((2, *y.shape), seed)
    g = torch.complex(g[0], g[1])
    g_norm = torch.linalg.vector_norm(g, dim=-1, keepdim=True)
    y_norm = torch.linalg.vector_norm(y.detach().to(torch.complex128).cpu(), dim=-1, keepdim=True)
    e = g * (level * y_norm / g_norm)
    return e.to(dtype=y.dtype, device=y.device)


def add_noise(y: torch.Tensor, level: float, seed: int = 0) -> torch.Tensor:
    """Return ``y + e`` with ``e`` from :func:`complex_gaussian_noise` (same arguments)."""
    return y + complex_gaussian_noise(y, level, seed)


def paper_noise(y: torch.Tensor, magnitude: float, seed: int = 0) -> torch.Tensor:
    """Noise in the paper's convention ``e = m (g1 + i g2) / sqrt(|Omega|)``.

    ``g1`` and ``g2`` are independent standard normal vectors of length ``|Omega| = M``
    (the number of samples), so ``||e||^2 = m^2 / M * chi^2_{2M}``: its mean is ``2 m^2``
    and ``||e||`` concentrates at about ``sqrt(2) m`` whatever ``M`` is. Unlike
    :func:`complex_gaussian_noise`, the size is absolute (in the units of ``y``), not
    relative to ``||y||``.

    Parameters
    ----------
    y : torch.Tensor, shape (..., M), complex64 or complex128
        Measurements; only their shape, dtype and device are used.
    magnitude : float
        ``m >= 0`` (the paper uses 2, 5, 7, 10 at N = 512 for images in [0, 1]).
    seed : int
        Seed of the generator (>= 0).

    Returns
    -------
    torch.Tensor, shape (..., M), same dtype and device as ``y``
        The noise ``e``.

    Raises
    ------
    ValueError
        If ``y`` is not complex, ``magnitude`` is negative or not finite, or ``seed`` is bad.
    """
    _check_measurements(y)
    if not (math.isfinite(magnitude) and magnitude >= 0):
        raise ValueError(f"magnitude must be finite and >= 0, got {magnitude}")
    seed = check_seed(seed)
    g = _standard_normal((2, *y.shape), seed)
    e = torch.complex(g[0], g[1]) * (magnitude / math.sqrt(y.shape[-1]))
    return e.to(dtype=y.dtype, device=y.device)


# --------------------------------------------------------------------------------------
# detail insertion
# --------------------------------------------------------------------------------------
def _as_real_image(x, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.is_complex():
            x = x.real
        x = x.numpy()
    x = np.asarray(x)
    if np.iscomplexobj(x):
        x = x.real
    if x.ndim != 2 or x.shape[0] != x.shape[1]:
        raise ValueError(f"{name} must be a square 2-D image (N, N), got shape {x.shape}")
    return x.astype(np.float64)


@dataclass(frozen=True)
class DetailRecovery:
    """How well one reconstruction keeps an inserted detail.

    Attributes
    ----------
    true_contrast : float
        Mean of ``truth - base`` over the detail's region (the contrast actually inserted).
    recovered_contrast : float
        Mean of ``reconstruction - reference`` over the region, where ``reference`` is the
        same network's reconstruction of the image *without* the detail when given (this
        isolates the network's response to the detail from its background error), else the
        true image without the detail.
    contrast_ratio : float
        ``recovered_contrast / true_contrast``: 1 = detail kept at full contrast, 0 = lost,
        negative = inverted.
    region_error : float
        ``||reconstruction - truth|| / ||truth||`` restricted to the region.
    image_error : float
        ``||reconstruction - truth|| / ||truth||`` over the whole image.
    region_pixels : int
        Number of pixels in the region.
    """

    true_contrast: float
    recovered_contrast: float
    contrast_ratio: float
    region_error: float
    image_error: float
    region_pixels: int


def detail_recovery(
    reconstruction,
    truth,
    base,
    detail,
    *,
    reference=None,
    threshold: float = 0.5,
) -> DetailRecovery:
    """Measure whether a reconstruction keeps an inserted detail.

    The region is ``detail >= threshold * detail.max()``.

    Parameters
    ----------
    reconstruction : np.ndarray or torch.Tensor, shape (N, N), real
        A network's reconstruction of ``truth``.
    truth : array, shape (N, N), real
        Image with the detail (e.g. from ``solver.phantoms.insert_detail``).
    base : array, shape (N, N), real
        The same image without the detail.
    detail : array, shape (N, N), real
        The detail mask that was inserted (defines the region).
    reference : array, shape (N, N), real, optional
        The same network's reconstruction of ``base``; see :class:`DetailRecovery`.
    threshold : float
        In (0, 1]: fraction of the mask's maximum that counts as inside.

    Returns
    -------
    DetailRecovery

    Raises
    ------
    ValueError
        If shapes differ, ``threshold`` is outside (0, 1], the region is empty, or no
        contrast was inserted there.
    """
    if not (0 < threshold <= 1):
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    rec = _as_real_image(reconstruction, "reconstruction")
    x = _as_real_image(truth, "truth")
    x0 = _as_real_image(base, "base")
    d = _as_real_image(detail, "detail")
    ref = x0 if reference is None else _as_real_image(reference, "reference")
    for name, arr in (("truth", x), ("base", x0), ("detail", d), ("reference", ref)):
        if arr.shape != rec.shape:
            raise ValueError(f"{name} must have the reconstruction's shape {rec.shape}, got {arr.shape}")
    if d.max() <= 0:
        raise ValueError("detail must have a positive maximum, got an empty mask")
    region = d >= threshold * d.max()
    true_contrast = float(np.mean((x - x0)[region]))
    if true_contrast == 0:
        raise ValueError("truth - base is zero on the detail's region: no detail was inserted")
    recovered = float(np.mean((rec - ref)[region]))
    region_error = float(np.linalg.norm((rec - x)[region]) / np.linalg.norm(x[region]))
    image_error = float(np.linalg.norm(rec - x) / np.linalg.norm(x))
    return DetailRecovery(
        true_contrast=true_contrast,
        recovered_contrast=recovered,
        contrast_ratio=recovered / true_contrast,
        region_error=region_error,
        image_error=image_error,
        region_pixels=int(region.sum()),
    )


def _measure(operator, image: np.ndarray, dtype: torch.dtype, device) -> torch.Tensor:
    x = torch.as_tensor(image, dtype=torch.float64).to(dtype=dtype, device=device)
    return operator.forward(x)


def detail_insertion(
    networks: Mapping[str, torch.nn.Module],
    operator,
    image,
    detail,
    contrast: float,
    *,
    threshold: float = 0.5,
    dtype: torch.dtype = torch.complex64,
    device=None,
) -> dict[str, DetailRecovery]:
    """Insert a detail into ``image`` and measure how each network reconstructs it.

    Both ``y = A(image)`` and ``y_detail = A(image + contrast * detail)`` are reconstructed
    by every network; the reconstruction of ``y`` is the ``reference`` of
    :func:`detail_recovery`, so the contrast ratio measures each network's response to the
    detail alone.

    Parameters
    ----------
    networks : Mapping[str, nn.Module]
        Name -> reconstruction network ``y (..., M) complex -> image (..., N, N) real``,
        all built for ``operator``.
    operator : object with ``forward(image (..., N, N) complex) -> y (..., M) complex``
        The sampling operator, e.g. ``solver.operators.SubsampledFourier``.
    image : array, shape (N, N), real in [0, 1]
        Ground truth without the detail.
    detail : array, shape (N, N), real in [0, 1]
        Detail mask (``solver.phantoms.text_detail`` / ``blob_detail``).
    contrast : float
        Detail contrast in [-1, 1], passed to ``solver.phantoms.insert_detail`` (which
        clips to [0, 1]; the contrast actually inserted is measured from the result).
    threshold : float
        Region threshold passed to :func:`detail_recovery`.
    dtype : torch.dtype
        Complex dtype of the measurements (complex64 in the app, complex128 in tests).
    device : torch.device, optional
        Device of the measurements (default CPU).

    Returns
    -------
    dict[str, DetailRecovery]
        One entry per network, in the order given.

    Raises
    ------
    ValueError
        If ``networks`` is empty or the image/detail arguments are invalid.
    """
    if not networks:
        raise ValueError("networks must contain at least one network, got an empty mapping")
    if not dtype.is_complex:
        raise ValueError(f"dtype must be a complex dtype, got {dtype}")
    from solver.phantoms import insert_detail

    base = _as_real_image(image, "image")
    truth = insert_detail(base, _as_real_image(detail, "detail"), contrast)
    y0 = _measure(operator, base, dtype, device)
    y1 = _measure(operator, truth, dtype, device)
    out: dict[str, DetailRecovery] = {}
    with torch.no_grad():
        for name, net in networks.items():
            out[name] = detail_recovery(net(y1), truth, base, detail, reference=net(y0), threshold=threshold)
    return out


# --------------------------------------------------------------------------------------
# sampling change
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SampledProblem:
    """A sampling mask, its operator and the data of one image.

    Attributes
    ----------
    mask : np.ndarray, shape (N, N), bool
        Sampling mask (centred k-space order).
    operator : SubsampledFourier | SubsampledWalsh
        ``image (..., N, N) complex -> y (..., M) complex``.
    y : torch.Tensor, shape (M,), complex
        Noiseless data of the image.
    rate : float
        Achieved sampling rate ``mask.mean()``.
    """

    mask: np.ndarray
    operator: object
    y: torch.Tensor
    rate: float


def resampled_problem(
    image,
    rate: float,
    *,
    pattern: str = "multilevel",
    seed: int = 0,
    kind: str = "fourier",
    dtype: torch.dtype = torch.complex64,
    device=None,
    **params,
) -> SampledProblem:
    """Build a mask at another rate (same pattern and seed), its operator and the data.

    This is the "sampling change" test: a network trained at one rate is given the
    operator and data of another. A network such as ``LearnedReconstruction`` is rebuilt
    with the returned ``operator`` (its constructor takes it); FIRENET simply uses the new
    operator in its measurement model.

    Parameters
    ----------
    image : array, shape (N, N), real
        Ground truth.
    rate : float
        Sampling rate in (0, 1] (validated by ``solver.sampling.make_mask``).
    pattern : str
        Name in ``solver.sampling.PATTERNS``.
    seed : int
        Mask seed (>= 0). Keep the training seed to change only the rate.
    kind : {"fourier", "walsh"}
        Transform of ``solver.operators.make_operator``.
    dtype : torch.dtype
        Complex dtype of ``y``.
    device : torch.device, optional
        Device of the operator and ``y``.
    **params
        Extra pattern parameters for ``make_mask``.

    Returns
    -------
    SampledProblem
    """
    from solver.operators import make_operator
    from solver.sampling import make_mask

    x = _as_real_image(image, "image")
    seed = check_seed(seed)
    if not dtype.is_complex:
        raise ValueError(f"dtype must be a complex dtype, got {dtype}")
    mask = make_mask(pattern, x.shape[0], rate, seed=seed, **params)
    op = make_operator(kind, mask)
    if device is not None:
        op = op.to(device)
    y = _measure(op, x, dtype, device)
    return SampledProblem(mask=np.asarray(mask, dtype=bool), operator=op, y=y, rate=float(np.mean(mask)))


@dataclass(frozen=True)
class SamplingChange:
    """Reconstruction error of each network as the sampling rate changes.

    Attributes
    ----------
    rates : np.ndarray, shape (R,), float64
        Requested rates.
    achieved_rates : np.ndarray, shape (R,), float64
        Achieved rates of the masks.
    errors : dict[str, np.ndarray]
        Name -> relative error ``||f(y) - x|| / ||x||`` per rate, shape (R,).
    reconstructions : dict[str, list[np.ndarray]]
        Name -> reconstructions (N, N) float64 per rate.
    """

    rates: np.ndarray
    achieved_rates: np.ndarray
    errors: dict
    reconstructions: dict


def sampling_change(
    factories: Mapping[str, Callable[[object], torch.nn.Module]],
    image,
    rates: Sequence[float],
    *,
    pattern: str = "multilevel",
    seed: int = 0,
    kind: str = "fourier",
    dtype: torch.dtype = torch.complex64,
    device=None,
    callback: Callable[[int, int, str, float], None] | None = None,
    **params,
) -> SamplingChange:
    """Reconstruct one image at several sampling rates with several networks.

    Parameters
    ----------
    factories : Mapping[str, Callable[[operator], nn.Module]]
        Name -> function building the network for a given operator, e.g.
        ``lambda A: LearnedReconstruction(unet, A)`` (same trained weights, new operator).
    image : array, shape (N, N), real
        Ground truth.
    rates : sequence of float
        Rates to try, each in (0, 1].
    pattern, seed, kind, dtype, device, **params
        As in :func:`resampled_problem`.
    callback : callable(done, total, name, rate), optional
        Called after each reconstruction (progress).

    Returns
    -------
    SamplingChange
    """
    if not factories:
        raise ValueError("factories must contain at least one network factory, got an empty mapping")
    rates = [float(r) for r in rates]
    if not rates:
        raise ValueError("rates must contain at least one rate, got an empty sequence")
    x = _as_real_image(image, "image")
    x_norm = np.linalg.norm(x)
    errors = {name: np.zeros(len(rates)) for name in factories}
    recons: dict[str, list] = {name: [] for name in factories}
    achieved = np.zeros(len(rates))
    total, done = len(rates) * len(factories), 0
    for i, rate in enumerate(rates):
        prob = resampled_problem(x, rate, pattern=pattern, seed=seed, kind=kind, dtype=dtype, device=device, **params)
        achieved[i] = prob.rate
        for name, factory in factories.items():
            with torch.no_grad():
                out = factory(prob.operator)(prob.y)
            rec = _as_real_image(out.reshape(x.shape), "reconstruction")
            recons[name].append(rec)
            errors[name][i] = np.linalg.norm(rec - x) / x_norm
            done += 1
            if callback is not None:
                callback(done, total, name, rate)
    return SamplingChange(np.asarray(rates), achieved, errors, recons)
