"""Image-quality and stability measures.

Conventions
-----------
- Inputs may be NumPy arrays or torch tensors (any device, with or without autograd);
  tensors are detached and copied to the CPU. Everything is computed in float64.
- Reconstructions may be complex (the minimiser of the sqrt-LASSO is complex even for a
  real image). By default (``part="real"``) the image measures compare the **real
  part** of both arguments, which is right when the truth is real. For complex truths
  (MR images carry a phase) pass ``part="complex"``: the error of the complex image
  (``||x - ref|| / ||ref||``, PSNR from ``mean |x - ref|^2``), which counts a wrong
  phase as an error; or ``part="magnitude"`` to compare ``|x|`` with ``|ref|`` (what a
  magnitude display shows; blind to the phase). SSIM takes "real" or "magnitude".
- Ground truths are scaled to [0, 1], so PSNR and SSIM use a fixed ``data_range = 1``
  rather than one estimated from the data (which would make scores of different
  reconstructions of the same truth incomparable).
- `stability_ratio` measures measurement vectors with their full complex modulus.
- Shapes must match exactly (no broadcasting) and every value must be finite; otherwise
  a ValueError names the argument.
"""

from __future__ import annotations

import math

import numpy as np

from solver.validation import check_positive

__all__ = ["PARTS", "l2_norm", "psnr", "relative_error", "ssim", "stability_ratio"]


def _to_numpy(value, name: str) -> np.ndarray:
    """NumPy array or torch tensor -> NumPy array (float64 or complex128)."""
    if type(value).__module__.split(".")[0] == "torch":
        tensor = value.detach().cpu()
        # resolve_conj/neg: lazily conjugated or negated views cannot be exported.
        tensor = tensor.resolve_conj().resolve_neg()
        tensor = tensor.cdouble() if tensor.is_complex() else tensor.double()
        array = tensor.numpy()
    else:
        array = np.asarray(value)
    if array.dtype.kind not in "biufc":
        raise ValueError(f"{name} must be a numeric array, got dtype {array.dtype}")
    if array.dtype.kind == "c":
        return array.astype(np.complex128, copy=False)
    return array.astype(np.float64, copy=False)


PARTS = ("real", "complex", "magnitude")


def _real_pair(
    x, ref, x_name: str = "x", ref_name: str = "ref", part: str = "real"
) -> tuple[np.ndarray, np.ndarray]:
    """Validate two images and return their real parts (or moduli, or both as complex)."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    a = _to_numpy(x, x_name)
    b = _to_numpy(ref, ref_name)
    if a.shape != b.shape:
        raise ValueError(
            f"{x_name} and {ref_name} must have the same shape, got {x_name} {a.shape} and "
            f"{ref_name} {b.shape}"
        )
    if a.size == 0:
        raise ValueError(f"{x_name} and {ref_name} must not be empty, got shape {a.shape}")
    convert = {"real": np.real, "magnitude": np.abs, "complex": lambda v: v.astype(np.complex128)}[part]
    a = np.ascontiguousarray(convert(a))
    b = np.ascontiguousarray(convert(b))
    for name, arr in ((x_name, a), (ref_name, b)):
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must contain only finite values (found NaN or Inf)")
    return a, b


def l2_norm(array: np.ndarray) -> float:
    """``sqrt(sum |a|^2)`` over all entries, accumulated in the array's precision.

    Without BLAS: ``np.linalg.norm`` of a 256 x 256 float64 image took 5-19 ms inside a
    page's run on a busy 2-core machine (its threads spin up for the dot product), this
    about 0.05 ms.
    """
    array = np.asarray(array)
    if np.iscomplexobj(array):
        return math.sqrt(float(np.sum(array.real**2 + array.imag**2)))
    return math.sqrt(float(np.sum(array * array)))


def relative_error(x, ref, *, part: str = "real") -> float:
    """Relative l2 (Frobenius) error ``||Re x - Re ref|| / ||Re ref||`` (or of ``part``).

    Parameters
    ----------
    x : np.ndarray or torch.Tensor, shape (...), real or complex
        Reconstruction.
    ref : np.ndarray or torch.Tensor, same shape as ``x``
        Ground truth (not identically zero).
    part : {"real", "complex", "magnitude"}
        What is compared (see the module notes): real parts, the complex images, or the
        moduli.

    Returns
    -------
    float
        Over all entries together (a batch gives one number).

    Examples
    --------
    >>> relative_error(np.array([[3.0, 1.0]]), np.array([[3.0, 4.0]]))
    0.6
    """
    a, b = _real_pair(x, ref, part=part)
    ref_norm = l2_norm(b)
    if ref_norm == 0.0:
        raise ValueError("ref is identically zero; the relative error is undefined")
    return l2_norm(a - b) / ref_norm


def psnr(x, ref, data_range: float = 1.0, *, part: str = "real") -> float:
    """Peak signal-to-noise ratio ``10 log10(data_range^2 / MSE)`` in dB.

    Parameters
    ----------
    x : np.ndarray or torch.Tensor, shape (...), real or complex
        Reconstruction (real part used unless ``part`` says otherwise).
    ref : np.ndarray or torch.Tensor, same shape as ``x``
        Ground truth in [0, data_range].
    data_range : float
        Peak value; 1 for our [0, 1] images (for complex images: of the modulus).
    part : {"real", "complex", "magnitude"}
        What is compared (see the module notes).

    Returns
    -------
    float
        PSNR in dB over all entries; ``inf`` when the compared parts are identical.

    Notes
    -----
    Computed with ``skimage.metrics.peak_signal_noise_ratio(ref, x, data_range=...)``;
    for ``part="complex"`` as ``10 log10(data_range^2 / mean |x - ref|^2)``.
    """
    data_range = check_positive("data_range", data_range)
    a, b = _real_pair(x, ref, part=part)
    if np.array_equal(a, b):
        # skimage divides by zero here (with a RuntimeWarning); the answer is +inf.
        return math.inf
    if part == "complex":
        diff = a - b
        mse = float(np.mean(diff.real**2 + diff.imag**2))
        return 10.0 * math.log10(data_range**2 / mse)
    from skimage.metrics import peak_signal_noise_ratio

    return float(peak_signal_noise_ratio(b, a, data_range=data_range))


def ssim(x, ref, data_range: float = 1.0, *, part: str = "real") -> float:
    """Structural similarity index (mean SSIM) of two 2-D images.

    Parameters
    ----------
    x : np.ndarray or torch.Tensor, shape (N, M), real or complex
        Reconstruction (real part or modulus, see ``part``). Both sides at least 7.
    ref : np.ndarray or torch.Tensor, same shape as ``x``
        Ground truth in [0, data_range].
    data_range : float
        Dynamic range used in the stabilising constants (1 for our images).
    part : {"real", "magnitude"}
        Compare real parts or moduli (SSIM is defined for real images).

    Returns
    -------
    float
        Mean SSIM in [-1, 1]; 1 exactly for identical images.

    Notes
    -----
    ``skimage.metrics.structural_similarity`` with its defaults (7 x 7 uniform window,
    sample covariance, K1 = 0.01, K2 = 0.03), so numbers match scikit-image's.
    """
    data_range = check_positive("data_range", data_range)
    if part == "complex":
        raise ValueError("part must be 'real' or 'magnitude' for SSIM, got 'complex'")
    a, b = _real_pair(x, ref, part=part)
    if a.ndim != 2:
        raise ValueError(f"x and ref must be 2-D images for SSIM, got shape {a.shape}")
    if min(a.shape) < 7:
        raise ValueError(f"x and ref must be at least 7 x 7 for SSIM, got shape {a.shape}")
    from skimage.metrics import structural_similarity

    return float(structural_similarity(b, a, data_range=data_range))


def stability_ratio(out_perturbed, out_clean, e, y, *, relative: bool = True) -> float:
    """How much a reconstruction moves per unit of measurement perturbation.

    With ``f`` the reconstruction map, ``out_perturbed = f(y + e)`` and
    ``out_clean = f(y)``:

    - ``relative=True`` (default): ``(||f(y+e) - f(y)|| / ||f(y)||) / (||e|| / ||y||)``,
      the relative change of the output per relative change of the input: scale-free;
      values of 10 or more mean a small perturbation had a large effect. It is not the
      paper's measure of stability: FIRENET's theorem bounds the error to the truth,
      ``C1 sigma + C2 ||e|| + depth term`` (``solver.stability``), and a method can move
      its output several times as much as the data while staying within that bound.
    - ``relative=False``: ``||f(y+e) - f(y)|| / ||e||``, a lower bound on the local
      Lipschitz constant of f.

    Parameters
    ----------
    out_perturbed, out_clean : np.ndarray or torch.Tensor, shape (..., N, N)
        Reconstructions from the perturbed and clean data (real parts compared).
    e : np.ndarray or torch.Tensor, shape (..., M), complex or real
        The perturbation (non-zero); full complex modulus used.
    y : np.ndarray or torch.Tensor, shape (..., M)
        The clean measurements (non-zero when ``relative``).
    relative : bool
        Which ratio, see above.

    Returns
    -------
    float
        Over all entries together.
    """
    a, b = _real_pair(out_perturbed, out_clean, "out_perturbed", "out_clean")
    e_arr = _to_numpy(e, "e")
    y_arr = _to_numpy(y, "y")
    if e_arr.shape != y_arr.shape:
        raise ValueError(
            f"e and y must have the same shape, got e {e_arr.shape} and y {y_arr.shape}"
        )
    for name, arr in (("e", e_arr), ("y", y_arr)):
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must contain only finite values (found NaN or Inf)")
    e_norm = l2_norm(e_arr)
    if e_norm == 0.0:
        raise ValueError("e is zero; the stability ratio needs a non-zero perturbation")
    change = l2_norm(a - b)
    if not relative:
        return change / e_norm
    y_norm = l2_norm(y_arr)
    out_norm = l2_norm(b)
    if y_norm == 0.0:
        raise ValueError("y is zero; the relative stability ratio is undefined")
    if out_norm == 0.0:
        raise ValueError("out_clean is zero; the relative stability ratio is undefined")
    return (change / out_norm) / (e_norm / y_norm)
