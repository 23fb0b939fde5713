"""Baselines on FIRENET's problem: zero-filled, plain / tuned Chambolle-Pock, FISTA.

N = 32, unitary centred Fourier, multilevel 25 %, Haar, Shepp-Logan, complex128.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from solver.baselines import FISTA, ChambollePock, ZeroFilled, zero_filled
from solver.legacy import CP_FIXED_RATIO
from solver.objective import certified_gap, objective
from solver.operators import SubsampledFourier, WaveletMeasurement
from solver.phantoms import shepp_logan
from solver.sampling import make_mask
from solver.wavelets import Wavelet2D

N = 32



@pytest.fixture(scope="module")
def problem():
    A = WaveletMeasurement(SubsampledFourier(make_mask("multilevel", N, 0.25, seed=0)), Wavelet2D("haar", None, N))
    truth = torch.as_tensor(shepp_logan(N), dtype=torch.float64)
    return A, A.sampling.forward(truth), truth


def test_zero_filled_is_the_adjoint_image(problem):
    A, y, _ = problem
    net = zero_filled(A)
    assert isinstance(net, ZeroFilled)
    records = []
    image = net(y, callback=records.append)
    expected = A.sampling.adjoint(y).real
    assert torch.allclose(image, expected, atol=1e-13)
    assert len(records) == 1 and records[0].layer == 0
    assert float(torch.linalg.vector_norm(records[0].dual)) == pytest.approx(1.0)


def literal_cp(A, y, lam, tau, sigma, iterations):
    x = torch.zeros(N, N, dtype=torch.complex128)
    z = torch.zeros_like(y)
    for _ in range(iterations):
        u = x - tau * A.adjoint(z)
        a = u.abs()
        x_new = torch.where(a > tau * lam, u / a.clamp(min=1e-300) * (a - tau * lam), torch.zeros_like(u))
        v = z + sigma * (A.forward(2 * x_new - x) - y)
        z = v / max(1.0, float(torch.linalg.vector_norm(v)))
        x = x_new
    return x


@pytest.mark.parametrize("kwargs,tau,sigma", [({}, 1.0, 1.0),
                                              pytest.param({"ratio": 100.0}, 10.0, 0.1, marks=pytest.mark.slow),
                                              ({"tau": 0.5, "sigma": 2.0}, 0.5, 2.0)])
def test_chambolle_pock_is_the_literal_iteration(problem, kwargs, tau, sigma):
    A, y, _ = problem
    net = ChambollePock(A, iterations=25, **kwargs)
    assert (net.tau, net.sigma) == pytest.approx((tau, sigma))
    expected = literal_cp(A, y, 2.5e-4, tau, sigma, 25)
    with torch.no_grad():
        got = net.solve(y)
    assert float((got - expected).abs().max()) < 1e-12 * float(expected.abs().max())
    # the differentiable path gives the same numbers
    got_grad = net.solve(y.clone().requires_grad_(True)).detach()
    assert float((got_grad - expected).abs().max()) < 1e-12 * float(expected.abs().max())


@pytest.mark.slow
def test_tuned_ratio_beats_unit_steps(problem):
    """Same depth, same cost per layer: the step ratio decides (measured at 500 layers:
    relative certified gap 0.91 with tau = sigma = 1, 9.9e-5 with ratio 1e5)."""
    A, y, _ = problem
    gaps = []
    for net in (ChambollePock(A, iterations=500), ChambollePock(A, iterations=500, ratio=CP_FIXED_RATIO[N])):
        rec = []
        with torch.no_grad():
            net.solve(y, callback=lambda r: rec.append(r) if r.layer == 500 else None)
        gap, d = certified_gap(rec[0].coeffs, rec[0].dual, y, A, 2.5e-4)
        gaps.append(float(gap / d))
    assert gaps[0] > 0.5
    assert gaps[1] < 1e-3


@pytest.mark.slow
def test_fista_matched_lam2_shares_the_sqrt_lasso_minimiser(problem):
    """KKT: with r = ||A x* - y|| > 0, the squared LASSO with lam2 = lam r has the same
    minimiser. lam = 0.05 (lam ||w||_2 = 1.6 > 1, so r > 0); x* from certified CP."""
    A, y, _ = problem
    lam = 0.05
    with torch.no_grad():
        x_star = ChambollePock(A, lam=lam, iterations=600, ratio=10.0).solve(y)
        r = float(torch.linalg.vector_norm(A.forward(x_star) - y))
        # measured: CP certified to 1e-15 relative after 500 iterations
        gap, d = certified_gap(x_star, torch.zeros_like(y) + (y - A.forward(x_star)), y, A, lam)
        x_fista = FISTA(A, lam=lam, iterations=500, residual=r).solve(y)
        x_direct = FISTA(A, lam=lam, iterations=500, lam2=lam * r).solve(y)
    assert r > 0.1
    assert float(gap / d) < 1e-10
    # measured relative distance 3.7e-9 after 500 iterations
    assert float(torch.linalg.vector_norm(x_fista - x_star) / torch.linalg.vector_norm(x_star)) < 1e-7
    assert torch.equal(x_fista, x_direct)
    f_star = float(objective(x_star, y, A, lam))
    assert float(objective(x_fista, y, A, lam)) == pytest.approx(f_star, rel=1e-12)


def test_fista_streams_records_and_returns_real_images(problem):
    A, y, _ = problem
    records = []
    net = FISTA(A, iterations=7)
    image = net(y.to(torch.complex64), callback=records.append)
    assert image.dtype == torch.float32 and image.shape == (N, N)
    assert [r.layer for r in records] == list(range(1, 8))
    assert all(r.eps is None and r.restart == 0 for r in records)


@pytest.mark.parametrize(
    "cls,kwargs,name",
    [
        (ChambollePock, dict(iterations=0), "iterations"),
        (ChambollePock, dict(lam=0.0), "lam"),
        (ChambollePock, dict(ratio=0.0), "ratio"),
        (ChambollePock, dict(ratio=2.0, tau=1.0), "ratio"),
        (ChambollePock, dict(tau=2.0, sigma=1.0), "tau"),
        (ChambollePock, dict(output="mean"), "output"),
        (ChambollePock, dict(weights=-np.ones((N, N))), "weights"),
        (FISTA, dict(iterations=0), "iterations"),
        (FISTA, dict(lam=-1.0), "lam"),
        (FISTA, dict(residual=0.0), "residual"),
        (FISTA, dict(lam2=-1.0), "lam2"),
        (FISTA, dict(residual=1.0, lam2=1.0), "lam2"),
    ],
)
def test_bad_arguments_raise_naming_the_parameter(problem, cls, kwargs, name):
    with pytest.raises(ValueError, match=name):
        cls(problem[0], **kwargs)


def test_wrong_measurement_length_raises(problem):
    A, y, _ = problem
    for net in (zero_filled(A), ChambollePock(A, iterations=1), FISTA(A, iterations=1)):
        with pytest.raises(ValueError, match="y must have shape"):
            net(y[:-3])


def test_fixed_ratio_table_covers_app_sizes():
    assert all(CP_FIXED_RATIO[n] > 0 for n in (32, 64, 128, 256, 512, 1024))
    assert math.isfinite(sum(CP_FIXED_RATIO.values()))
