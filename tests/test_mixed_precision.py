"""Mixed precision in the adaptive schedule: single-precision data with a target below what
single precision certifies is iterated in double precision from the floor on.

Problem: Shepp-Logan, N = 32, variable density 25 % (seed 0), unitary centred Fourier,
Haar with maximal levels, unit weights, lam = 0.002. Measured: in complex64 alone the
certified gap stalls above 1e-6 (3.2e-6 after 1,500 layers); complex128 certifies 1e-6 in
210 layers, the mixed run in 230.
"""

from __future__ import annotations

import pytest
import torch

from solver.firenet import FIRENET
from solver.objective import SINGLE_PRECISION_FLOOR, dual_value, objective
from solver.operators import SubsampledFourier, WaveletMeasurement
from solver.phantoms import shepp_logan
from solver.sampling import make_mask
from solver.schedules import AdaptiveRule
from solver.wavelets import Wavelet2D

LAM = 0.002
SIZE = 32
TARGET = 1e-6
LAYERS = 800


@pytest.fixture(scope="module")
def problem():
    A = WaveletMeasurement(SubsampledFourier(make_mask("variable_density", SIZE, 0.25, seed=0)),
                           Wavelet2D("haar", None, SIZE))
    y = A.sampling.forward(torch.as_tensor(shepp_logan(SIZE), dtype=torch.complex128))
    return A, y


def run(A, y, *, mixed: bool, target: float = TARGET, layers: int = LAYERS):
    records = []
    net = FIRENET(A, lam=LAM, schedule="adaptive", max_layers=layers, target_gap=target,
                  rule=AdaptiveRule(mixed_precision=mixed))
    with torch.no_grad():
        out = net.solve(y, callback=records.append)
    return out, records


def certified(A, y, out, dual) -> float:
    """The relative gap of ``out`` certified by ``dual`` for the data ``y`` as the run got
    it, evaluated here in double precision (weak duality, whatever produced them)."""
    f, d = float(objective(out, y, A, LAM)), float(dual_value(dual, y, A, LAM))
    assert d > 0
    return (f - d) / d


def test_mixed_precision_certifies_a_target_single_precision_stalls_above(problem):
    A, y = problem
    y = y.to(torch.complex64)  # the data the runs get: the certificate is for these
    single_out, single = run(A, y, mixed=False)
    mixed_out, mixed = run(A, y, mixed=True)
    # complex64 alone stalls: all LAYERS run and the certificate stays above the target
    assert single[-1].layer == LAYERS
    assert certified(A, y, single_out, single[-1].dual) > TARGET
    # the mixed run stops early, its returned point and dual certify the target in float64
    assert mixed[-1].layer < LAYERS // 2
    assert certified(A, y, mixed_out, mixed[-1].dual) <= TARGET
    # the output, the dual point and every record keep the data's dtype
    assert mixed_out.dtype == torch.complex64 and mixed[-1].dual.dtype == torch.complex64
    assert {r.iterate.dtype for r in mixed} == {torch.complex64}
    assert {r.coeffs.dtype for r in mixed} == {torch.complex64}


def test_mixed_run_takes_about_the_layers_of_double_precision(problem):
    """Single precision follows double precision's path down to the hand-over: the mixed run
    needs at most 1.5x the layers of a complex128 run (measured 230 against 210)."""
    A, y = problem
    _, wide = run(A, y, mixed=True)
    _, mixed = run(A, y.to(torch.complex64), mixed=True)
    assert mixed[-1].layer <= 1.5 * wide[-1].layer


@pytest.mark.parametrize("target", [2 * SINGLE_PRECISION_FLOOR, 1e-3])
def test_targets_above_the_floor_never_switch(problem, target):
    """Bit for bit the single-precision run: the output and every record."""
    A, y = problem
    y64 = y.to(torch.complex64)
    out_a, rec_a = run(A, y64, mixed=True, target=target, layers=200)
    out_b, rec_b = run(A, y64, mixed=False, target=target, layers=200)
    assert torch.equal(out_a, out_b)
    assert len(rec_a) == len(rec_b)
    assert all(torch.equal(a.iterate, b.iterate) and torch.equal(a.gap, b.gap) for a, b in zip(rec_a, rec_b))


def test_double_precision_data_never_switches(problem):
    A, y = problem
    out_a, _ = run(A, y, mixed=True, layers=100)
    out_b, _ = run(A, y, mixed=False, layers=100)
    assert torch.equal(out_a, out_b)


@pytest.mark.parametrize("kwargs, name", [
    (dict(mixed_precision=1), "mixed_precision"),
    (dict(stall_checks=0), "stall_checks"),
    (dict(stall_checks=2.5), "stall_checks"),
])
def test_bad_mixed_precision_settings_raise_naming_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        AdaptiveRule(**kwargs)
