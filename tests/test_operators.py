"""Measurement operators: adjointness, A A* = I, unitarity, and agreement with references.

References are computed independently: numpy's FFT for the centred DFT, and scipy's
Sylvester-Hadamard matrix with rows sorted by counted sign changes for the Walsh transform.
"""

import numpy as np
import pytest
import scipy.linalg
import torch

from solver.operators import (
    SubsampledFourier,
    SubsampledWalsh,
    WaveletMeasurement,
    make_operator,
    walsh_sequency_permutation,
)
from solver.sampling import PATTERNS, make_mask
from solver.wavelets import Wavelet2D

KINDS = ["fourier", "walsh"]


def random_mask(size, rate, seed):
    """Seeded random mask with a fully sampled centre square (centre-dense, like DAS)."""
    rng = np.random.default_rng(seed)
    mask = rng.random((size, size)) < rate
    c = size // 2
    r = max(1, size // 8)
    mask[c - r:c + r, c - r:c + r] = True
    return mask


def line_mask(size, seed):
    """Random full rows (Cartesian line sampling) plus the centre row."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((size, size), bool)
    mask[rng.choice(size, size // 4, replace=False)] = True
    mask[size // 2] = True
    return mask


def single_mask(size):
    mask = np.zeros((size, size), bool)
    mask[size // 2, size // 2] = True
    return mask


MASKS = {
    "random25": lambda n: random_mask(n, 0.25, 1),
    "random60": lambda n: random_mask(n, 0.6, 2),
    "lines": lambda n: line_mask(n, 3),
    "dc_only": single_mask,
    "full": lambda n: np.ones((n, n), bool),
}


def crandn(shape, seed, dtype=torch.complex128):
    g = torch.Generator().manual_seed(seed)
    real = torch.randn(*shape, generator=g, dtype=torch.float64)
    imag = torch.randn(*shape, generator=g, dtype=torch.float64)
    return torch.complex(real, imag).to(dtype)


def cdot(a, b):
    return torch.sum(a.conj() * b)


def dense_centred_walsh(n):
    """Unitary centred sequency Walsh matrix, built without the module's bit tricks."""
    h = scipy.linalg.hadamard(n).astype(np.float64)
    sign_changes = (np.diff(h, axis=1) != 0).sum(axis=1)
    assert sorted(sign_changes) == list(range(n))  # one row per sequency
    by_sequency = h[np.argsort(sign_changes)]
    d = np.arange(n) - n // 2
    seq = np.where(d >= 0, 2 * d, 2 * np.abs(d) - 1)
    return by_sequency[seq] / np.sqrt(n)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("mask_name", list(MASKS))
def test_adjoint_dot_product_and_rows_orthonormal(kind, size, mask_name):
    A = make_operator(kind, MASKS[mask_name](size))
    x = crandn((2, size, size), 10)
    z = crandn((2, A.num_measurements), 11)
    lhs = cdot(A.forward(x), z)
    rhs = cdot(x, A.adjoint(z))
    assert abs(lhs - rhs) <= 1e-10 * abs(lhs)
    # A A* = I on random measurements
    assert torch.allclose(A.forward(A.adjoint(z)), z, rtol=0, atol=1e-10)
    assert A.norm == 1.0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", [32, 64])
def test_full_transform_is_unitary(kind, size):
    A = make_operator(kind, random_mask(size, 0.3, 4))
    x = crandn((3, size, size), 12)
    k = A.full(x)
    assert k.shape == x.shape and k.dtype == torch.complex128
    assert torch.allclose(torch.linalg.vector_norm(k, dim=(-2, -1)),
                          torch.linalg.vector_norm(x, dim=(-2, -1)), rtol=1e-12, atol=0)
    # forward is the full transform read at the mask in row-major order
    assert torch.allclose(A.forward(x), k[..., A.mask], rtol=0, atol=1e-12)


@pytest.mark.parametrize("size", [16, 32, 64])
def test_fourier_matches_numpy_centred_fft(size):
    mask = random_mask(size, 0.3, 5)
    A = SubsampledFourier(mask)
    x = crandn((2, size, size), 13)
    ref = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x.numpy(), axes=(-2, -1)), norm="ortho"), axes=(-2, -1))
    np.testing.assert_allclose(A.full(x).numpy(), ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(A.forward(x).numpy(), ref[:, mask], rtol=0, atol=1e-12)
    # zero-filled adjoint = inverse centred FFT of the zero-filled k-space
    z = crandn((A.num_measurements,), 14)
    kspace = np.zeros((size, size), complex)
    kspace[mask] = z.numpy()
    ref_adj = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(kspace), norm="ortho"))
    np.testing.assert_allclose(A.adjoint(z).numpy(), ref_adj, rtol=0, atol=1e-12)


@pytest.mark.parametrize("size", [16, 32])
def test_walsh_matches_dense_sequency_hadamard(size):
    mask = random_mask(size, 0.3, 6)
    A = SubsampledWalsh(mask)
    H = dense_centred_walsh(size)
    x = crandn((2, size, size), 15)
    ref = H @ x.numpy() @ H.T
    np.testing.assert_allclose(A.full(x).numpy(), ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(A.forward(x).numpy(), ref[:, mask], rtol=0, atol=1e-12)


def test_walsh_centre_holds_low_sequency():
    # constant image: all energy at sequency (0, 0) = centred (N/2, N/2), like the DFT's DC
    n = 32
    A = SubsampledWalsh(np.ones((n, n), bool))
    k = A.full(torch.ones(n, n, dtype=torch.float64))
    assert k[n // 2, n // 2].real == pytest.approx(n)
    assert torch.count_nonzero(k.abs() > 1e-9) == 1
    perm = walsh_sequency_permutation(n)
    assert sorted(perm) == list(range(n))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("wavelet,levels", [("haar", None), ("haar", 2), ("db4", 2)])
def test_wavelet_measurement_adjoint_and_identity(kind, wavelet, levels):
    size = 32
    A = WaveletMeasurement(make_operator(kind, random_mask(size, 0.25, 7)), Wavelet2D(wavelet, levels, size))
    c = crandn((2, size, size), 16)
    z = crandn((2, A.num_measurements), 17)
    lhs = cdot(A.forward(c), z)
    assert abs(lhs - cdot(c, A.adjoint(z))) <= 1e-10 * abs(lhs)
    assert torch.allclose(A.forward(A.adjoint(z)), z, rtol=0, atol=1e-10)
    assert A.norm == 1.0 and A.size == size and A.mask.shape == (size, size)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype,cdtype,tol", [(torch.float32, torch.complex64, 1e-5),
                                              (torch.float64, torch.complex128, 1e-12)])
def test_dtypes_and_batches(kind, dtype, cdtype, tol):
    size = 32
    A = make_operator(kind, random_mask(size, 0.3, 8))
    x = torch.rand(4, 3, size, size, dtype=dtype)
    y = A.forward(x)  # real input promoted
    assert y.shape == (4, 3, A.num_measurements) and y.dtype == cdtype
    assert A.adjoint(y).dtype == cdtype and A.adjoint(y).shape == (4, 3, size, size)
    y1 = A.forward(x[1, 2].to(cdtype))
    assert torch.allclose(y[1, 2], y1, atol=tol)
    assert A.full(x).dtype == cdtype


@pytest.mark.parametrize("kind", KINDS)
def test_differentiable(kind):
    size = 8
    A = make_operator(kind, random_mask(size, 0.3, 9))
    x = crandn((size, size), 18).requires_grad_()
    torch.autograd.gradcheck(lambda t: A.forward(t), (x,), fast_mode=True)
    z = crandn((A.num_measurements,), 19).requires_grad_()
    torch.autograd.gradcheck(lambda t: A.adjoint(t), (z,), fast_mode=True)


def test_to_returns_copy_and_mask_accessors():
    mask = random_mask(32, 0.3, 10)
    A = SubsampledWalsh(mask)
    B = A.to("cpu")
    assert B is not A and B.mask.device.type == "cpu"
    assert torch.equal(A.mask, torch.from_numpy(mask))
    assert A.size == 32 and A.num_measurements == int(mask.sum())
    assert SubsampledFourier(torch.from_numpy(mask)).num_measurements == int(mask.sum())


@pytest.mark.parametrize(
    "mask,match",
    [
        (np.zeros((32, 32), bool), "mask"),
        (np.ones((32, 16), bool), "mask"),
        (np.ones((24, 24), bool), "mask"),
        (np.ones((32, 32)), "mask"),
        (np.ones((2, 32, 32), bool), "mask"),
        ([[True]], "mask"),
    ],
)
def test_bad_masks_raise(mask, match):
    for kind in KINDS:
        with pytest.raises(ValueError, match=match):
            make_operator(kind, mask)


def test_bad_inputs_raise():
    A = SubsampledFourier(random_mask(32, 0.3, 11))
    with pytest.raises(ValueError, match="image"):
        A.forward(torch.zeros(16, 16, dtype=torch.complex128))
    with pytest.raises(ValueError, match="image"):
        A.forward(np.zeros((32, 32)))
    with pytest.raises(ValueError, match="image"):
        A.forward(torch.zeros(32, 32, dtype=torch.int64))
    with pytest.raises(ValueError, match="y"):
        A.adjoint(torch.zeros(A.num_measurements + 1, dtype=torch.complex128))
    with pytest.raises(ValueError, match="kind"):
        make_operator("radon", random_mask(32, 0.3, 11))
    with pytest.raises(ValueError, match="wavelet"):
        WaveletMeasurement(A, Wavelet2D("haar", None, 64))
    with pytest.raises(ValueError, match="sampling"):
        WaveletMeasurement("fourier", Wavelet2D("haar", None, 32))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_project_sampling_patterns_give_orthonormal_rows(kind, pattern):
    size = 32
    A = make_operator(kind, make_mask(pattern, size, 0.25, seed=0))
    x = crandn((size, size), 20)
    z = crandn((A.num_measurements,), 21)
    lhs = cdot(A.forward(x), z)
    assert abs(lhs - cdot(x, A.adjoint(z))) <= 1e-10 * abs(lhs)
    assert torch.allclose(A.forward(A.adjoint(z)), z, rtol=0, atol=1e-10)


def test_wavelet_measurement_to_returns_copy():
    A = WaveletMeasurement(SubsampledFourier(random_mask(32, 0.3, 12)), Wavelet2D("haar", None, 32))
    B = A.to("cpu")
    assert B is not A and B.sampling is not A.sampling
    c = crandn((32, 32), 22)
    assert torch.equal(A.forward(c), B.forward(c))
