"""Subsampled unitary measurement operators (Fourier, Walsh) and A = P F W^-1, in torch.

Every operator knows its adjoint, has ``norm == 1`` and satisfies ``A A* = I`` (the rows
of a unitary matrix). Images and measurements are torch tensors with any leading batch
dimensions; complex64 and complex128 are supported (real float32 / float64 images are
promoted to complex64 / complex128). Operators are ``torch.nn.Module`` s whose masks and
index tables are (non-persistent) buffers, so a parent module's ``.to(device)`` moves
them; calling ``.to(...)`` on an operator itself returns a moved *copy* and leaves the
original where it was.

Centred grid convention (shared with ``solver.sampling``): index ``(N//2, N//2)`` holds
the zero frequency / zero sequency, and measurements ``y`` list the sampled coefficients
in row-major order of that centred grid, i.e. ``y = full(x)[..., mask]``.

- Fourier: ``full(x) = fftshift(fft2(ifftshift(x), norm="ortho"))``.
- Walsh: the unitary 2-D Walsh-Hadamard transform in sequency order, computed by a fast
  in-place butterfly (O(N^2 log N), no dense matrix), placed so that along each axis the
  centred position ``N//2 + d`` holds sequency ``2d`` for ``d >= 0`` and ``2|d| - 1`` for
  ``d < 0``: low sequencies sit at the centre, so centre-dense masks mean the same thing
  for both transforms.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from solver.validation import check_choice, check_int
from solver.wavelets import Wavelet2D

__all__ = [
    "SubsampledFourier",
    "SubsampledWalsh",
    "WaveletMeasurement",
    "make_operator",
    "measurement",
    "walsh_sequency_permutation",
]

_COMPLEX_OF = {
    torch.float32: torch.complex64,
    torch.float64: torch.complex128,
    torch.complex64: torch.complex64,
    torch.complex128: torch.complex128,
}


def _check_mask(mask) -> torch.Tensor:
    """Validate a boolean (N, N) mask, N a power of two, at least one True -> torch bool."""
    if isinstance(mask, np.ndarray):
        if mask.dtype != np.bool_:
            raise ValueError(f"mask must be a boolean array, got dtype {mask.dtype}")
        t = torch.from_numpy(mask.copy())
    elif isinstance(mask, torch.Tensor):
        if mask.dtype != torch.bool:
            raise ValueError(f"mask must be a boolean tensor, got dtype {mask.dtype}")
        t = mask.detach().clone()
    else:
        raise ValueError(f"mask must be a numpy array or torch tensor, got {type(mask).__name__}")
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError(f"mask must be square (N, N), got shape {tuple(t.shape)}")
    n = t.shape[0]
    if n < 2 or n & (n - 1):
        raise ValueError(f"mask side must be a power of two >= 2, got {n}")
    if not bool(t.any()):
        raise ValueError("mask must sample at least one coefficient, got an all-False mask")
    return t


def walsh_sequency_permutation(size: int, *, ordering: str = "centred") -> np.ndarray:
    """Natural (Sylvester-Hadamard) row index held by each centred position along one axis.

    Parameters
    ----------
    size : int
        N, a power of two.
    ordering : {"centred", "uncentred"}
        "uncentred" is plain sequency order (position p holds sequency p, DC at 0), the
        order of the published FIRENET code.

    Returns
    -------
    np.ndarray, int64, shape (N,)
        ``perm[p]`` is the natural-order Hadamard row that has sequency ``s(p)``, where
        ``s(N//2 + d) = 2d`` for ``d >= 0`` and ``2|d| - 1`` for ``d < 0``.

    Notes
    -----
    Sequency s is natural row ``bitreverse(gray(s))`` with ``gray(s) = s ^ (s >> 1)``.
    """
    size = check_int("size", size, low=1)
    if size & (size - 1):
        raise ValueError(f"size must be a power of two, got {size}")
    if ordering not in ("centred", "uncentred"):
        raise ValueError(f"ordering must be 'centred' or 'uncentred', got {ordering!r}")
    bits = int(size).bit_length() - 1
    d = np.arange(size) - size // 2
    seq = np.where(d >= 0, 2 * d, -2 * d - 1) if ordering == "centred" else np.arange(size)
    gray = seq ^ (seq >> 1)
    rev = np.zeros_like(gray)
    for b in range(bits):
        rev |= ((gray >> b) & 1) << (bits - 1 - b)
    return rev.astype(np.int64)


def _wht_inplace(v: torch.Tensor) -> torch.Tensor:
    """Unnormalised natural-order Walsh-Hadamard transform of the last axis, in place."""
    n = v.shape[-1]
    lead = v.shape[:-1]
    h = n // 2
    while h >= 1:
        a, b = v.view(*lead, n // (2 * h), 2, h).unbind(-2)
        t = a.clone()
        a.add_(b)
        torch.sub(t, b, out=b)
        h //= 2
    return v


class _WHT2(torch.autograd.Function):
    """Unitary natural-order 2-D WHT of (..., N, N) via the N^2-point 1-D WHT.

    Sylvester matrices satisfy H_N (x) H_N = H_{N^2}, so the 2-D transform of a row-major
    image is the 1-D transform of its flattening. The matrix is real and symmetric, so
    the backward pass (adjoint) is the same transform.
    """

    @staticmethod
    def forward(ctx, x):
        n = x.shape[-1]
        v = x.reshape(*x.shape[:-2], n * n).clone()
        _wht_inplace(v)
        v.mul_(1.0 / n)
        return v.view(x.shape)

    @staticmethod
    def backward(ctx, grad):
        return _WHT2.apply(grad)


class _SubsampledUnitary(torch.nn.Module):
    """Shared machinery: mask, gather indices into the uncentred full transform."""

    def __init__(self, mask):
        super().__init__()
        m = _check_mask(mask)
        n = m.shape[0]
        self.size = int(n)
        self.num_measurements = int(m.sum())
        self.norm = 1.0
        rows, cols = torch.nonzero(m, as_tuple=True)  # row-major order of the centred grid
        self.register_buffer("mask", m, persistent=False)
        self.register_buffer("_index", self._raw_index(rows, cols), persistent=False)

    # subclasses: _raw_index, _raw_forward (uncentred full transform), _raw_adjoint, full

    def _check_image(self, image) -> torch.Tensor:
        if not isinstance(image, torch.Tensor):
            raise ValueError(f"image must be a torch.Tensor, got {type(image).__name__}")
        n = self.size
        if image.ndim < 2 or image.shape[-2:] != (n, n):
            raise ValueError(f"image must have shape (..., {n}, {n}), got {tuple(image.shape)}")
        if image.dtype not in _COMPLEX_OF:
            raise ValueError(f"image must be float32/64 or complex64/128, got {image.dtype}")
        if image.device != self.mask.device:
            raise ValueError(f"image is on {image.device} but the operator is on {self.mask.device}")
        return image.to(_COMPLEX_OF[image.dtype])

    def _check_measurements(self, y) -> torch.Tensor:
        if not isinstance(y, torch.Tensor):
            raise ValueError(f"y must be a torch.Tensor, got {type(y).__name__}")
        if y.ndim < 1 or y.shape[-1] != self.num_measurements:
            raise ValueError(f"y must have shape (..., {self.num_measurements}), got {tuple(y.shape)}")
        if y.dtype not in _COMPLEX_OF:
            raise ValueError(f"y must be float32/64 or complex64/128, got {y.dtype}")
        if y.device != self.mask.device:
            raise ValueError(f"y is on {y.device} but the operator is on {self.mask.device}")
        return y.to(_COMPLEX_OF[y.dtype])

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """A x: image (..., N, N) -> measurements (..., M), complex, row-major centred order."""
        x = self._check_image(image)
        n = self.size
        k = self._raw_forward(x).reshape(*x.shape[:-2], n * n)
        return self._post_gather(k.index_select(-1, self._index))

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        """A* y: measurements (..., M) -> zero-filled image (..., N, N), complex."""
        y = self._check_measurements(y)
        n = self.size
        z = y.new_zeros(*y.shape[:-1], n * n).index_copy_(-1, self._index, self._post_gather(y))
        return self._raw_adjoint(z.view(*y.shape[:-1], n, n))

    def _post_gather(self, v: torch.Tensor) -> torch.Tensor:
        return v

    def to(self, *args, **kwargs):
        """Return a copy on the requested device (the original stays where it is)."""
        return super(_SubsampledUnitary, copy.deepcopy(self)).to(*args, **kwargs)

    def extra_repr(self) -> str:
        return f"size={self.size}, num_measurements={self.num_measurements}"


class SubsampledFourier(_SubsampledUnitary):
    """Subsampled unitary centred 2-D DFT, ``y = (fftshift(fft2(ifftshift(x), norm="ortho")))[mask]``.

    Parameters
    ----------
    mask : np.ndarray or torch.Tensor, bool, shape (N, N)
        Sampled coefficients on the centred grid (DC at ``(N//2, N//2)``); N a power of
        two, at least one True.

    Attributes
    ----------
    mask : torch.Tensor, bool, (N, N)
    size : int, N
    num_measurements : int, M = mask.sum()
    norm : float, 1.0 (``A A* = I``)

    Notes
    -----
    For even N, ``fftshift(fft2(ifftshift(x)))`` at centred position p equals
    ``(-1)^(k1 + k2) fft2(x)[k]`` with ``k = (p + N//2) mod N``, so the shifts reduce to a
    sign on the M gathered values (no full-size roll).

    Examples
    --------
    >>> mask = np.zeros((32, 32), bool); mask[12:20, 12:20] = True
    >>> A = SubsampledFourier(mask)
    >>> A.forward(torch.rand(32, 32)).shape
    torch.Size([64])
    """

    def __init__(self, mask):
        super().__init__(mask)
        n = self.size
        rows, cols = torch.nonzero(self.mask, as_tuple=True)
        ku, kv = (rows + n // 2) % n, (cols + n // 2) % n
        sign = 1.0 - 2.0 * ((ku + kv) % 2).to(torch.float64)
        # one (M, 2) copy per real dtype, the sign repeated for the real and imaginary
        # parts: multiplying the real view by it is a plain same-shape product (with the
        # float64 vector converted on every call and broadcast over the last dim it took
        # 6-9x longer on one CPU thread: 81 against 12 us at M = 16,384, median)
        pairs = sign.unsqueeze(-1).expand(-1, 2).contiguous()
        self.register_buffer("_sign_pairs64", pairs, persistent=False)
        self.register_buffer("_sign_pairs32", pairs.to(torch.float32), persistent=False)

    def _raw_index(self, rows, cols):
        n = self.size
        return ((rows + n // 2) % n) * n + (cols + n // 2) % n

    def _raw_forward(self, x):
        return torch.fft.fft2(x, norm="ortho")

    def _raw_adjoint(self, k):
        return torch.fft.ifft2(k, norm="ortho")

    def _post_gather(self, v):
        # real-view multiply: avoids promoting the sign vector to complex on every call
        pairs = self._sign_pairs32 if v.dtype == torch.complex64 else self._sign_pairs64
        return torch.view_as_complex(torch.view_as_real(v.contiguous()) * pairs)

    def full(self, image: torch.Tensor) -> torch.Tensor:
        """Full centred unitary DFT (..., N, N), complex (for k-space display)."""
        x = self._check_image(image)
        dims = (-2, -1)
        return torch.fft.fftshift(torch.fft.fft2(torch.fft.ifftshift(x, dim=dims), norm="ortho"), dim=dims)


class SubsampledWalsh(_SubsampledUnitary):
    """Subsampled unitary sequency-ordered 2-D Walsh-Hadamard transform on the centred grid.

    Parameters
    ----------
    mask : np.ndarray or torch.Tensor, bool, shape (N, N)
        Sampled coefficients on the centred grid; N a power of two, at least one True.
    ordering : {"centred", "uncentred"}, keyword-only
        "uncentred": the grid (mask, ``y``'s order, ``full``) is in plain sequency order,
        sequency ``s`` at index ``s`` (DC at (0, 0)), as in the published FIRENET code;
        convert project masks with ``solver.mask_files.walsh_mask_to_uncentred``.

    Attributes
    ----------
    mask, size, num_measurements, norm : as for :class:`SubsampledFourier`.

    Notes
    -----
    ``full(x)[p, q] = (H x H^T)[perm[p], perm[q]] / N`` with ``H`` the natural-order
    Sylvester-Hadamard matrix and ``perm = walsh_sequency_permutation(N)``. The transform
    is real and symmetric in natural order; computed by an in-place radix-2 butterfly.
    """

    def __init__(self, mask, *, ordering: str = "centred"):
        # the permutation must exist before the base class builds the gather index
        m = _check_mask(mask)
        self._perm_np = walsh_sequency_permutation(m.shape[0], ordering=ordering)
        self.ordering = ordering
        super().__init__(m)
        self.register_buffer("_perm", torch.from_numpy(self._perm_np), persistent=False)

    def _raw_index(self, rows, cols):
        perm = torch.from_numpy(self._perm_np)
        n = len(self._perm_np)
        return perm[rows] * n + perm[cols]

    def _raw_forward(self, x):
        return _WHT2.apply(x)

    def _raw_adjoint(self, k):
        return _WHT2.apply(k)

    def full(self, image: torch.Tensor) -> torch.Tensor:
        """Full centred sequency-ordered unitary WHT (..., N, N), complex."""
        x = self._check_image(image)
        nat = _WHT2.apply(x)
        return nat.index_select(-2, self._perm).index_select(-1, self._perm)


class WaveletMeasurement(torch.nn.Module):
    """A = P F W^-1 acting on packed wavelet coefficients.

    Parameters
    ----------
    sampling : SubsampledFourier or SubsampledWalsh
        P F (or P of the Walsh transform).
    wavelet : Wavelet2D
        W, with ``wavelet.size == sampling.size``.

    Attributes
    ----------
    sampling, wavelet, size, num_measurements, mask, norm (1.0; ``A A* = I`` since W is
    unitary).
    """

    def __init__(self, sampling, wavelet):
        super().__init__()
        if not isinstance(sampling, _SubsampledUnitary):
            raise ValueError(
                f"sampling must be a SubsampledFourier or SubsampledWalsh, got {type(sampling).__name__}"
            )
        if not isinstance(wavelet, Wavelet2D):
            raise ValueError(f"wavelet must be a Wavelet2D, got {type(wavelet).__name__}")
        if wavelet.size != sampling.size:
            raise ValueError(f"wavelet size {wavelet.size} does not match the mask size {sampling.size}")
        self.sampling = sampling
        self.wavelet = wavelet
        self.size = sampling.size
        self.num_measurements = sampling.num_measurements
        self.norm = 1.0

    @property
    def mask(self) -> torch.Tensor:
        return self.sampling.mask

    def forward(self, coeffs: torch.Tensor) -> torch.Tensor:
        """A c: coefficients (..., N, N) -> measurements (..., M), complex."""
        return self.sampling.forward(self.wavelet.inverse(coeffs))

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        """A* y: measurements (..., M) -> coefficients (..., N, N), complex."""
        return self.wavelet.forward(self.sampling.adjoint(y))

    def to(self, *args, **kwargs):
        """Return a copy on the requested device (the original stays where it is)."""
        return super(WaveletMeasurement, copy.deepcopy(self)).to(*args, **kwargs)

    def extra_repr(self) -> str:
        return f"size={self.size}, num_measurements={self.num_measurements}"


def make_operator(kind: str, mask):
    """Build the subsampled operator of ``kind`` for ``mask`` (centred order).

    ``kind`` is "fourier", "walsh" (centred sequency order) or "walsh_uncentred": the
    Walsh transform in the published code's plain sequency order, for the same sampled
    sequencies (``mask`` is converted with ``solver.mask_files.walsh_mask_to_uncentred``;
    only the order of ``y`` differs from "walsh").
    """
    kinds = {"fourier": SubsampledFourier, "walsh": SubsampledWalsh, "walsh_uncentred": None}
    check_choice("kind", kind, kinds)
    if kind == "walsh_uncentred":
        from solver.mask_files import walsh_mask_to_uncentred

        m = mask.cpu().numpy() if torch.is_tensor(mask) else np.asarray(mask)
        return SubsampledWalsh(walsh_mask_to_uncentred(m), ordering="uncentred")
    return kinds[kind](mask)


def measurement(kind: str, mask, *, wavelet: str = "haar", levels: int | None = None) -> WaveletMeasurement:
    """``A = P T W^-1`` for FIRENET and the baselines in one call.

    Parameters
    ----------
    kind : {"fourier", "walsh", "walsh_uncentred"}
        The transform ``T`` (see :func:`make_operator`).
    mask : array_like, shape (N, N), bool
        Sampling mask in centred order.
    wavelet : str, default "haar"
        PyWavelets name of the orthonormal wavelet ``W``.
    levels : int, optional
        Decomposition levels (maximal when ``None``).

    Examples
    --------
    >>> from solver.sampling import make_mask
    >>> A = measurement("fourier", make_mask("multilevel", 64, 0.25), wavelet="haar")
    >>> A.size, A.norm
    (64, 1.0)
    """
    from solver.wavelets import Wavelet2D

    sampling = make_operator(kind, mask)
    return WaveletMeasurement(sampling, Wavelet2D(wavelet, levels=levels, size=sampling.size))

