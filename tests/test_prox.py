"""Proximal maps: the projection onto the unit ball and the soft threshold against their closed forms."""

import numpy as np
import pytest
import torch

from solver.prox import norm_last, project_ball, project_ball_, soft_threshold, soft_threshold_


def _numpy_projection(v: np.ndarray) -> np.ndarray:
    norms = np.sqrt((np.abs(v) ** 2).sum(axis=-1, keepdims=True))
    return v / np.maximum(norms, 1.0)


@pytest.mark.parametrize("dtype,tol", [(torch.complex64, 1e-6), (torch.complex128, 1e-15),
                                       (torch.float32, 1e-6), (torch.float64, 1e-15)])
def test_projection_matches_closed_form(dtype, tol):
    g = torch.Generator().manual_seed(0)
    # rows inside, on and outside the unit ball
    v = torch.randn(4, 300, dtype=dtype, generator=g)
    v[0] *= 0.01
    v[1] /= norm_last(v[1])
    v[2] *= 10.0
    expected = _numpy_projection(v.to(torch.complex128 if v.is_complex() else torch.float64).numpy())
    out = project_ball(v)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), expected, rtol=0, atol=tol * 10)
    assert torch.equal(out[0], v[0])  # inside the ball: untouched
    # the in-place variant writes the same numbers into its argument
    w = v.clone()
    assert project_ball_(w) is w
    assert torch.equal(w, out)
    assert float(norm_last(out).max()) <= 1.0 + 10 * tol


def test_projection_on_real_view_rounds_like_real_division():
    # each part divided by the real norm, correctly rounded: the same as dividing the
    # real and imaginary parts as real tensors
    g = torch.Generator().manual_seed(1)
    v = 5.0 * torch.randn(3, 1000, dtype=torch.complex64, generator=g)
    scale = norm_last(v, keepdim=True)
    expected = torch.complex(v.real / scale, v.imag / scale)
    assert torch.equal(project_ball(v), expected)


def test_projection_is_differentiable_and_takes_conjugate_views():
    g = torch.Generator().manual_seed(2)
    v = (3.0 * torch.randn(2, 50, dtype=torch.complex128, generator=g)).requires_grad_()
    torch.autograd.gradcheck(project_ball, (v,), fast_mode=True)
    w = torch.randn(2, 50, dtype=torch.complex128, generator=g) * 3.0
    assert torch.allclose(project_ball(w.conj()), project_ball(w.conj().resolve_conj()), rtol=0, atol=0)


@pytest.mark.parametrize("dtype,tol", [(torch.complex64, 1e-6), (torch.complex128, 1e-14)])
def test_soft_threshold_matches_closed_form(dtype, tol):
    g = torch.Generator().manual_seed(3)
    u = torch.randn(64, 64, dtype=dtype, generator=g)
    u[0, :5] = 0
    thr = torch.rand(64, 64, dtype=u.real.dtype, generator=g)
    un = u.to(torch.complex128).numpy()
    mag = np.abs(un)
    expected = np.where(mag > thr.numpy(), (1 - thr.numpy() / np.maximum(mag, 1e-300)) * un, 0)
    np.testing.assert_allclose(soft_threshold(u, thr).numpy(), expected, rtol=0, atol=tol * 10)
    one = torch.ones((), dtype=thr.dtype)
    np.testing.assert_allclose(soft_threshold_(u.clone(), thr, one).numpy(), expected, rtol=0, atol=tol * 10)
