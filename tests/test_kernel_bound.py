"""The kernel lower bound against closed forms: exact inverses of a diagonal operator,
known errors, and the exact kernel of a conjugate-symmetric Fourier mask."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from solver.kernel_bound import kernel_detail, kernel_lower_bound
from solver.networks import LearnedReconstruction, UNet
from solver.operators import make_operator
from solver.phantoms import blob_detail, random_ellipses
from solver.sampling import make_mask


class Diagonal:
    """A x = a * x (flattened, complex): entry k of the data sees pixel k with gain a_k."""

    def __init__(self, gains: np.ndarray):
        self.a = torch.as_tensor(gains, dtype=torch.complex128)

    def forward(self, image):
        return image.reshape(-1) * self.a


class InverseWithOffset(nn.Module):
    """f(y) = Re(y / a) + c: recovers every image with the error c * N exactly."""

    def __init__(self, operator: Diagonal, n: int, offset: float):
        super().__init__()
        self.a, self.n, self.offset = operator.a, n, offset

    def forward(self, y):
        return (y / self.a).real.reshape(self.n, self.n) + self.offset


def test_exact_inverse_bound_is_one_over_the_small_gain():
    """x - x' along the pixel the operator sees with gain 1e-3: f = A^-1 recovers both, so
    the bound is ||x - x'|| / ||A(x - x')|| = 1000, the quotient too (f is linear)."""
    n = 4
    gains = np.ones(n * n)
    gains[5] = 1e-3
    A = Diagonal(gains)
    x = np.random.default_rng(0).uniform(0, 1, (n, n))
    other = x.copy()
    other.flat[5] += 0.3
    result = kernel_lower_bound(InverseWithOffset(A, n, 0.0), A, x, other)
    assert result.distance == pytest.approx(0.3, rel=1e-12)
    assert result.data_distance == pytest.approx(3e-4, rel=1e-12)
    assert result.error == pytest.approx(0.0, abs=1e-12) and result.error_other == pytest.approx(0.0, abs=1e-12)
    assert result.bound == pytest.approx(1000.0, rel=1e-9) and result.quotient == pytest.approx(1000.0, rel=1e-9)
    assert result.applies


def test_known_errors_lower_the_bound_by_their_sum():
    n = 4
    gains = np.full(n * n, 0.5)
    A = Diagonal(gains)
    x = np.zeros((n, n))
    other = np.zeros((n, n))
    other[1, 2] = 1.0
    # f = A^-1 + c: errors c * n each (n x n pixels of c), ||A(x - x')|| = 0.5.
    result = kernel_lower_bound(InverseWithOffset(A, n, 0.01), A, x, other)
    assert result.error == pytest.approx(0.04, rel=1e-12) and result.error_other == pytest.approx(0.04, rel=1e-12)
    assert result.bound == pytest.approx((1.0 - 0.08) / 0.5, rel=1e-12)
    assert result.quotient == pytest.approx(2.0, rel=1e-12) and result.quotient >= result.bound
    # Errors larger than half the distance: the argument gives no bound.
    assert not kernel_lower_bound(InverseWithOffset(A, n, 0.2), A, x, other).applies


def symmetric_mask(n: int) -> np.ndarray:
    """A multilevel mask closed under k -> -k on the centred grid (index i <-> (n - i) % n)."""
    mask = make_mask("multilevel", n, 0.25, seed=0)
    flip = (n - np.arange(n)) % n
    return mask | mask[flip][:, flip]


def test_kernel_detail_of_a_conjugate_symmetric_mask_lies_in_the_kernel():
    """With a mask closed under k -> -k, A*A d of a real d is real: d - A*A d is exactly
    in the kernel, and (A*A an orthogonal projection) ||d - A*A d||^2 = ||d||^2 - ||A d||^2."""
    n = 32
    A = make_operator("fourier", symmetric_mask(n))
    d = 0.05 * blob_detail(n, (10.0, 20.0), 2.0)
    kd = kernel_detail(A, d, rounds=1)
    assert kd.dtype == np.float64 and kd.shape == (n, n)
    # Further rounds leave a point of the kernel where it is.
    np.testing.assert_allclose(kernel_detail(A, d, rounds=4), kd, atol=1e-14)
    measured = torch.linalg.vector_norm(A.forward(torch.as_tensor(d, dtype=torch.complex128)))
    leftover = torch.linalg.vector_norm(A.forward(torch.as_tensor(kd, dtype=torch.complex128)))
    assert float(leftover) <= 1e-12 * np.linalg.norm(d)
    assert np.linalg.norm(kd) ** 2 == pytest.approx(np.linalg.norm(d) ** 2 - float(measured) ** 2, rel=1e-10)


def test_rounds_of_the_two_projections_shrink_the_measured_part():
    """On a mask that is not symmetric the first round leaves part of the detail measured;
    each further round removes more of it (alternating projections onto two subspaces)."""
    n = 32
    A = make_operator("fourier", make_mask("multilevel", n, 0.25, seed=0))
    d = 0.2 * blob_detail(n, (10.0, 20.0), 2.0)

    def measured(rounds: int) -> float:
        kd = kernel_detail(A, d, rounds=rounds)
        return float(torch.linalg.vector_norm(A.forward(torch.as_tensor(kd, dtype=torch.complex128)))) / np.linalg.norm(kd)

    fractions = [measured(r) for r in (1, 2, 5, 10)]
    assert fractions == sorted(fractions, reverse=True) and fractions[0] > 0.05 and fractions[-1] < 1e-3


def test_bound_never_exceeds_the_difference_quotient_of_a_nonlinear_network():
    n = 32
    A = make_operator("fourier", make_mask("multilevel", n, 0.25, seed=0))
    gen = torch.Generator().manual_seed(0)
    unet = UNet(base_width=4, depth=2)
    with torch.no_grad():
        for p in unet.parameters():
            p.copy_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    net = LearnedReconstruction(A, unet)
    x = random_ellipses(n, 800_000)
    other = x + kernel_detail(A, 0.1 * blob_detail(n, (12.0, 12.0), 3.0))
    result = kernel_lower_bound(net, A, x, other)
    assert result.data_distance < 0.05 * result.distance  # the mask hardly measures the detail
    assert result.bound <= result.quotient


def test_kernel_bound_arguments_are_validated():
    n = 4
    A = Diagonal(np.ones(n * n))
    net = InverseWithOffset(A, n, 0.0)
    x = np.zeros((n, n))
    with pytest.raises(ValueError, match="same data"):
        kernel_lower_bound(net, A, x, x.copy())
    with pytest.raises(ValueError, match="other must have"):
        kernel_lower_bound(net, A, x, np.zeros((n + 1, n + 1)))
    with pytest.raises(ValueError, match="image must be a real"):
        kernel_lower_bound(net, A, x.astype(complex), x)
    with pytest.raises(ValueError, match="operator must have a forward"):
        kernel_lower_bound(net, object(), x, x)
    with pytest.raises(ValueError, match="adjoint"):
        kernel_detail(A, x)
    with pytest.raises(ValueError, match="rounds"):
        kernel_detail(make_operator("fourier", symmetric_mask(32)), np.zeros((32, 32)), rounds=0)
