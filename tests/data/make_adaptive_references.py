"""Make tests/data/adaptive_references.npz: outputs of the adaptive schedule, kept bit for bit.

:func:`solver.schedules.adaptive_primal_dual` is a sequence of decisions on gaps (restart,
output, best dual, polish, stop) whose outcome a rewrite must not change. Every case of
:data:`CASES` runs it on a small fixed problem (Shepp-Logan and a second, phase-modulated
image as a batch of two, unitary centred Fourier, Haar with maximal levels, lam = 2.5e-4,
masks from ``solver.sampling.make_mask`` with seed 0) in complex128 and in complex64, with
and without restarts, callback, target gap, data-consistent candidate, plain steps,
in-place buffers, a given primal weight and the dual polish (radial mask, unit weights). Stored per case:
the output, and with a callback the per-layer history of the records (restart count,
certified gap and dual value, sums of the output, dual point and iterate in double
precision) and the last record's dual point and iterate (its ``coeffs`` is the output). ``tests/test_adaptive_steps.py`` reruns every
case and compares with ``np.array_equal``; the file was made from the code before the
schedule was split into steps, so it pins that code's behaviour.

Run from the repository root, one thread (the sums of a multi-threaded reduction may
round differently)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python tests/data/make_adaptive_references.py
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from solver.operators import SubsampledFourier, WaveletMeasurement
from solver.phantoms import shepp_logan
from solver.primal_dual import threshold_unit
from solver.sampling import make_mask
from solver.schedules import AdaptiveRule, adaptive_primal_dual
from solver.wavelets import Wavelet2D, level_weights

REFERENCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "adaptive_references.npz")
LAM = 2.5e-4
SIZE = 32

#: The single-precision path below the floor (the code the references were made from had
#: no other; before the rule had the field, this was empty).
_SINGLE = {"mixed_precision": False} if "mixed_precision" in AdaptiveRule.__dataclass_fields__ else {}

#: name: (mask pattern, dtype, keyword arguments of adaptive_primal_dual, with a callback).
CASES: dict[str, tuple[str, torch.dtype, dict[str, Any], bool]] = {}
for _tag, _dtype in (("c128", torch.complex128), ("c64", torch.complex64)):
    CASES.update({
        f"plain-{_tag}": ("multilevel", _dtype, dict(max_layers=120), False),
        f"record-{_tag}": ("multilevel", _dtype, dict(max_layers=120), True),
        f"inplace-record-{_tag}": ("multilevel", _dtype, dict(max_layers=120, inplace=True), True),
        f"inplace-{_tag}": ("multilevel", _dtype, dict(max_layers=120, inplace=True), False),
        f"norestart-record-{_tag}": ("multilevel", _dtype, dict(max_layers=120, restart=False), True),
        f"norestart-inplace-{_tag}": ("multilevel", _dtype, dict(max_layers=120, restart=False, inplace=True),
                                      False),
        f"target-record-{_tag}": ("multilevel", _dtype, dict(max_layers=400, target_gap=1e-3), True),
        f"target-inplace-{_tag}": ("multilevel", _dtype, dict(max_layers=400, target_gap=1e-3, inplace=True),
                                   False),
        f"consistent-record-{_tag}": ("multilevel", _dtype,
                                      dict(max_layers=120, rule=AdaptiveRule(data_consistent=True)), True),
        f"steps1-inplace-record-{_tag}": ("multilevel", _dtype,
                                          dict(max_layers=120, inplace=True, rule=AdaptiveRule(relaxation=1.0)),
                                          True),
        f"omega-record-{_tag}": ("variable_density", _dtype, dict(max_layers=100, omega=3.0), True),
        # unit weights on radial lines: the best dual is polished (at the last layer here)
        f"radial-consistent-record-{_tag}": ("radial", _dtype,
                                             dict(max_layers=400, rule=AdaptiveRule(data_consistent=True)), True),
        # a target below the single-precision floor: the single-precision path itself (the
        # references predate the switch to double precision, mixed_precision=False keeps it)
        f"radial-consistent-target-record-{_tag}": ("radial", _dtype, dict(
            max_layers=600, target_gap=1e-7, rule=AdaptiveRule(data_consistent=True, **_SINGLE)), True),
    })


def problem(pattern: str, dtype: torch.dtype) -> tuple[WaveletMeasurement, torch.Tensor, torch.Tensor]:
    """``(A, y, lam w)``: a batch of two images (Shepp-Logan, and a scaled copy with a smooth
    phase) measured at ``SIZE`` on ``pattern``; level weights of the first (unit weights on
    radial lines), ``lam w`` in float64 (as the networks pass it)."""
    A = WaveletMeasurement(SubsampledFourier(make_mask(pattern, SIZE, 0.25, seed=0)),
                           Wavelet2D("haar", None, SIZE))
    image = torch.as_tensor(shepp_logan(SIZE), dtype=torch.complex128)
    grid = torch.linspace(-1.0, 1.0, SIZE, dtype=torch.float64)
    phased = 0.7 * image * torch.exp(1j * (1.5 * grid[:, None] + 0.8 * grid[None, :] ** 2))
    y = A.sampling.forward(torch.stack([image, phased]))
    w = None if pattern == "radial" else level_weights(image, A.wavelet, domain="image").to(torch.float64)
    thr = threshold_unit(LAM, w, y)
    return A, y.to(dtype), thr


def run_case(name: str) -> dict[str, np.ndarray]:
    """The arrays stored for case ``name`` (keys without the case's prefix)."""
    pattern, dtype, kwargs, with_callback = CASES[name]
    A, y, thr = problem(pattern, dtype)
    x0 = torch.zeros(y.shape[:-1] + (SIZE, SIZE), dtype=dtype)
    records = []
    callback = records.append if with_callback else None
    with torch.no_grad():
        out = adaptive_primal_dual(A, y, x0, thr, callback=callback, **kwargs)
    arrays = {"out": out.numpy().copy()}
    if records:
        def total(t: torch.Tensor) -> np.ndarray:
            return torch.view_as_real(t.to(torch.complex128)).sum(dim=(-3, -2, -1) if t.dim() > 2 else (-2, -1)
                                                                     ).numpy()

        arrays["layer"] = np.array([r.layer for r in records])
        arrays["restart"] = np.array([r.restart for r in records])
        arrays["gap"] = np.stack([r.gap.numpy() for r in records])
        arrays["dual_value"] = np.stack([r.dual_value.numpy() for r in records])
        arrays["coeffs_sum"] = np.stack([total(r.coeffs) for r in records])
        arrays["dual_sum"] = np.stack([total(r.dual) for r in records])
        arrays["iterate_sum"] = np.stack([total(r.iterate) for r in records])
        last = records[-1]
        arrays["last_dual"] = last.dual.numpy().copy()
        arrays["last_iterate"] = last.iterate.numpy().copy()
    return arrays


def main() -> None:
    """Run every case and write :data:`REFERENCES`."""
    torch.set_num_threads(1)
    stored = {}
    for name in CASES:
        for key, value in run_case(name).items():
            stored[f"{name}/{key}"] = value
        print(name, "layers:", int(stored.get(f"{name}/layer", np.array([0]))[-1]), flush=True)
    np.savez_compressed(REFERENCES, **stored)
    print(REFERENCES, os.path.getsize(REFERENCES), "bytes")


if __name__ == "__main__":
    main()
