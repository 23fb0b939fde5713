"""The compiled primal step ``soft(x - tau A^* z, thr)`` gives the torch calls' numbers bit for
bit (up to the sign of zeros), for one threshold or a map, in place or not, in both
precisions, batched; and it stands back where it does not apply."""

from __future__ import annotations

import pytest
import torch

import solver.wavelets
from solver import primal_dual
from solver.prox import soft_threshold_


def _torch_step(x, atz, tau, thr, overwrite_atz):
    """The torch calls the compiled loop replaces (those of ``primal_dual.step_``)."""
    one = torch.ones((), dtype=x.real.dtype)
    u = torch.add(x, atz, alpha=-tau, out=atz) if overwrite_atz else torch.add(x, atz, alpha=-tau)
    return soft_threshold_(u, thr, one)


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
@pytest.mark.parametrize("shape", [(16, 16), (3, 8, 8)])
@pytest.mark.parametrize("per_entry", [False, True])
@pytest.mark.parametrize("overwrite_atz", [False, True])
def test_compiled_primal_step_is_the_torch_calls_bit_for_bit(dtype, shape, per_entry, overwrite_atz):
    assert solver.wavelets._compiled_haar() is not None, "numba is a requirement: the compiled path must load"
    g = torch.Generator().manual_seed(3)
    x = torch.randn(shape, dtype=dtype, generator=g)
    atz = torch.randn(shape, dtype=dtype, generator=g)
    x.view(-1)[:4] = 0  # |u| = 0 at some entries: the factor's 1 - inf, clamped to 0
    atz.view(-1)[:4] = 0
    real = x.real.dtype
    # thresholds of the size of |u|: a good part of the entries go to 0, not all
    thr = (torch.rand(shape[-2:], dtype=real, generator=g) if per_entry
           else torch.tensor([[0.8]], dtype=real))
    expected_atz = atz.clone()
    expected = _torch_step(x, expected_atz, 0.7, thr, overwrite_atz)
    compiled_atz = atz.clone()
    result = primal_dual._compiled_primal_step(x, compiled_atz, 0.7, thr, overwrite_atz)
    assert result is not None
    assert torch.equal(result, expected)
    assert 0.1 < float((result == 0).double().mean()) < 0.9
    assert torch.equal(compiled_atz, expected_atz)  # atz overwritten with the step, or untouched
    assert (result.untyped_storage().data_ptr() == compiled_atz.untyped_storage().data_ptr()) == overwrite_atz


def test_compiled_primal_step_stands_back_where_it_does_not_apply(monkeypatch):
    x = torch.randn(2, 8, 8, dtype=torch.complex64)
    atz = torch.randn(2, 8, 8, dtype=torch.complex64)
    scalar = torch.tensor([[0.1]])
    step = primal_dual._compiled_primal_step
    assert step(x, atz, torch.tensor(0.5), scalar, False) is None  # a tensor step
    assert step(x, atz, 0.5, torch.full((2, 1, 1), 0.1), False) is None  # a threshold per batch entry
    assert step(x.transpose(-2, -1), atz, 0.5, scalar, False) is None  # not contiguous
    assert step(x.real.contiguous(), atz.real.contiguous(), 0.5, scalar, False) is None  # real data
    assert step(x, atz.to(torch.complex128), 0.5, scalar, False) is None  # mixed dtypes
    monkeypatch.setattr(solver.wavelets, "_COMPILED", None)  # numba missing or turned off
    assert step(x, atz, 0.5, scalar, False) is None
