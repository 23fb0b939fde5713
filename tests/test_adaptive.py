"""The adaptive FIRENET schedule and parameter-free Chambolle-Pock, against independent facts.

Problems (Shepp-Logan unless said, unitary centred Fourier, Haar with maximal levels,
lam = 2.5e-4, noiseless, complex128), masks from ``solver.sampling.make_mask`` (seed 0):

* "vd32-levels": variable density 25 %, N = 32, level weights;
* "multilevel64-unit": multilevel 25 %, N = 64, unit weights;
* "complex32-levels": a complex image (Shepp-Logan times a smooth phase), multilevel
  25 %, N = 32, level weights;
* "radial32-unit": radial lines 25 %, N = 32, unit weights.

References: for every problem a long adaptive run whose best dual value D_ref and best
objective F_ref bracket F* (weak duality: D_ref <= F* <= F_ref whatever method produced
them), certified to 1e-9 relative (radial lines: see the test); for "vd32-levels" also
cvxpy/Clarabel on the dense matrix (accurate to ~3e-7 relative).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pytest
import torch

from solver.attacks import worst_case_perturbation
from solver.baselines import AdaptiveChambollePock
from solver.firenet import FIRENET, PAPER_DEFAULTS
from solver.objective import GapTracker, dual_value, objective, polish_dual, record_metrics
from solver.operators import SubsampledFourier, WaveletMeasurement
from solver.phantoms import shepp_logan
from solver.sampling import make_mask
from solver.schedules import AdaptiveRule, restart_targets
from solver.segments import Segmented
from solver.wavelets import Wavelet2D, level_weights

LAM = 2.5e-4
BUDGET = 1000


class Problem(NamedTuple):
    A: WaveletMeasurement
    y: torch.Tensor
    w: torch.Tensor | None


SPECS = {
    # name: (pattern, N, weights, complex image, layers of the reference run)
    "vd32-levels": ("variable_density", 32, "levels", False, 2000),
    "multilevel64-unit": ("multilevel", 64, "unit", False, 2000),
    "complex32-levels": ("multilevel", 32, "levels", True, 2000),
    "radial32-unit": ("radial", 32, "unit", False, 4000),
}


def build(name: str) -> Problem:
    pattern, n, weights, is_complex, _ = SPECS[name]
    A = WaveletMeasurement(SubsampledFourier(make_mask(pattern, n, 0.25, seed=0)), Wavelet2D("haar", None, n))
    image = torch.as_tensor(shepp_logan(n), dtype=torch.complex128)
    if is_complex:
        grid = torch.linspace(-1.0, 1.0, n, dtype=torch.float64)
        phase = 1.5 * grid[:, None] + 0.8 * grid[None, :] ** 2
        image = image * torch.exp(1j * phase)
    w = level_weights(image, A.wavelet, domain="image") if weights == "levels" else None
    return Problem(A, A.sampling.forward(image), w)


@pytest.fixture(scope="module")
def problems() -> dict:
    return {name: build(name) for name in SPECS}


@pytest.fixture(scope="module")
def references(problems) -> dict:
    """Per problem: (F_ref, D_ref) from a long adaptive run; D_ref <= F* <= F_ref by weak
    duality whatever produced them, so F* is pinned to (F_ref - D_ref)/D_ref."""
    out = {}
    for name, (A, y, w) in problems.items():
        tracker = GapTracker(y, A, LAM, w)
        best_f = [math.inf]

        def cb(r, tracker=tracker, best_f=best_f):
            if r.layer % 10 == 0:
                best_f[0] = min(best_f[0], float(tracker(r).objective))

        net = FIRENET(A, weights=w, schedule="adaptive", max_layers=SPECS[name][4], target_gap=1e-11)
        with torch.no_grad():
            net.solve(y, callback=cb)
        out[name] = (best_f[0], float(tracker.best_dual))
    return out


def adaptive_run(net, y, every: int = 1):
    """(layer, objective, own certified gap, own dual value, record) every ``every`` layers."""
    rows = []

    def cb(r):
        if r.layer % every == 0:
            m = record_metrics(r, y, net.A, LAM, net.weights)
            rows.append((r.layer, float(m.objective), float(r.gap), float(m.dual_value), r))

    with torch.no_grad():
        net.solve(y, callback=cb)
    return rows


@pytest.fixture(scope="module")
def runs(problems) -> dict:
    out = {}
    for name, (A, y, w) in problems.items():
        out[name] = adaptive_run(FIRENET(A, weights=w, schedule="adaptive", max_layers=BUDGET), y, every=5)
    return out


def first_layer_below(rows, target):
    return next((layer for layer, _, gap, d, _ in rows if d > 0 and gap <= target * d), None)


@pytest.mark.slow
def test_references_are_certified(problems, references):
    """The reference runs certify themselves: (F - D)/D <= 1e-10 (measured 8e-12 to 1e-11);
    radial lines after 4,000 layers <= 1e-6 (measured 1.1e-7)."""
    for name, (f_ref, d_ref) in references.items():
        assert (f_ref - d_ref) / d_ref <= (1e-6 if name.startswith("radial") else 1e-10), name


@pytest.mark.slow
def test_vd_reference_agrees_with_cvxpy(problems, references):
    cvxpy = pytest.importorskip("cvxpy")
    A, y, w = problems["vd32-levels"]
    n = 32 * 32
    with torch.no_grad():
        matrix = A.forward(torch.eye(n, dtype=torch.complex128).reshape(n, 32, 32)).T.numpy()
    weights = np.broadcast_to(w.numpy(), (32, 32)).reshape(-1)
    x = cvxpy.Variable(n, complex=True)
    cost = LAM * cvxpy.sum(cvxpy.multiply(weights, cvxpy.abs(x))) + cvxpy.norm(matrix @ x - y.numpy(), 2)
    cvxpy.Problem(cvxpy.Minimize(cost)).solve(solver=cvxpy.CLARABEL)
    f_cvx = float(objective(torch.as_tensor(x.value).reshape(32, 32), y, A, LAM, w))
    f_ref, d_ref = references["vd32-levels"]
    assert f_cvx >= d_ref * (1 - 1e-12)  # weak duality: no primal point below a dual value
    assert abs(f_cvx - f_ref) / f_ref < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vd32-levels", "multilevel64-unit", "complex32-levels"])
def test_adaptive_certifies_1e8_within_1000_layers(runs, name):
    # measured (layers to certified 1e-6 / 1e-8): vd32-levels 245 / 320,
    # multilevel64-unit 280 / 365, complex32-levels 210 / 285 (plain steps, relaxation 1:
    # 445 / 590, 515 / 690, 365 / 480)
    rows = runs[name]
    assert first_layer_below(rows, 1e-6) <= 300
    assert first_layer_below(rows, 1e-8) <= 400


@pytest.mark.slow
def test_primal_weight_starts_near_the_solutions_ratio(problems, runs):
    """The start min(1, ||lam w||_2) / ||y|| is within 2x of ||z*|| / ||x*|| (the
    solutions' ratio, read off the 1,000-layer runs: measured 1.3-1.6x above it); the
    earlier start 1/||y|| was 88-198x above it on these exact-fit problems."""
    for name, (A, y, w) in problems.items():
        record = runs[name][-1][-1]
        ratio = float(torch.linalg.vector_norm(record.dual) / torch.linalg.vector_norm(record.coeffs))
        thr = LAM * (torch.ones(A.size, A.size, dtype=torch.float64) if w is None else w.expand(A.size, A.size))
        y_norm = float(torch.linalg.vector_norm(y))
        start = min(1.0, float(torch.linalg.vector_norm(thr))) / y_norm
        assert 0.5 <= start / ratio <= 2.0, (name, start / ratio)
        assert (1.0 / y_norm) / ratio >= 50, name


@pytest.mark.slow
def test_relaxation_saves_layers(problems, runs):
    """Over-relaxed steps (1.9) against plain ones (1.0), same rule otherwise: layers to a
    certified 1e-6 fall 1.7-1.8x on every test problem (measured 445 -> 245, 515 -> 280,
    365 -> 210)."""
    for name in ("vd32-levels", "multilevel64-unit", "complex32-levels"):
        A, y, w = problems[name]
        plain = adaptive_run(FIRENET(A, weights=w, schedule="adaptive", max_layers=BUDGET,
                                     rule=AdaptiveRule(relaxation=1.0), target_gap=1e-6), y, every=5)
        assert first_layer_below(plain, 1e-6) >= 1.5 * first_layer_below(runs[name], 1e-6), name


@pytest.mark.slow
def test_adaptive_on_radial_lines_is_slow_but_converges(runs):
    """Radial lines are the hard case, for every fixed step ratio too: measured certified
    3.7e-5 after 1,000 layers (4.3e-5 before the last layer's dual polish; plain steps
    7.9e-4; CP at its best fixed ratio, 1e5: 1.2e-3 after 1,000). Both sides lag: at
    layer 1,000 the output's objective is 3.6e-5 above F* and the dual's value 7e-6 below
    D* (against the reference); with the data-consistent candidate the primal part falls
    to 1.9e-7 and the polished dual certifies 1.4e-6 (tests below). The 1e-6 asked of the
    schedule within 1,000 layers is not met here."""
    rows = runs["radial32-unit"]
    gaps = [gap / d for _, _, gap, d, _ in rows if d > 0]
    assert gaps[-1] < 1e-4
    assert gaps[-1] < 1e-3 * gaps[len(gaps) // 10]  # three decades from layer 100 to 1,000


@pytest.mark.slow
def test_data_consistent_candidate_certifies_radial_lines(problems, references):
    """With the candidate also corrected onto {A x = y} (one A^* per check), radial lines
    reach a certified 1e-6 (measured at layer 1,250; 1.8e-7 at 1,500) and the output fits
    the data exactly (lam ||w||_2 = 0.008 <= 1, where the minimiser does too). The
    certificate still bounds the true gap at every check."""
    A, y, w = problems["radial32-unit"]
    f_ref, _ = references["radial32-unit"]
    net = FIRENET(A, weights=w, schedule="adaptive", max_layers=1500, rule=AdaptiveRule(data_consistent=True))
    rows = adaptive_run(net, y, every=10)
    assert first_layer_below(rows, 1e-6) <= 1300
    for _, f, gap, _, _ in rows:
        assert gap >= (f - f_ref) - 1e-12 * f_ref
    out = rows[-1][-1].coeffs
    residual = float(torch.linalg.vector_norm(A.forward(out) - y) / torch.linalg.vector_norm(y))
    assert residual <= 1e-12


@pytest.mark.slow
def test_certificate_is_never_below_the_true_gap_and_tight(runs, references):
    """F - D_own >= F - F* at every layer; certified / true gap <= 2 from layer 50 on
    wherever the true gap is resolved by the reference (measured max 1.40; in the first
    20 layers, before the dual settles, up to 7.6)."""
    for name, rows in runs.items():
        f_ref, d_ref = references[name]
        resolved = 1e3 * (f_ref - d_ref)  # the reference pins F* to within f_ref - d_ref
        ratios = []
        for layer, f, gap, d, _ in rows:
            assert d <= f_ref * (1 + 1e-12), name  # a dual value never exceeds F*
            true_gap = f - f_ref
            assert gap >= true_gap - 1e-12 * f_ref, name
            if layer >= 50 and true_gap > max(resolved, 1e-9 * f_ref):
                ratios.append(gap / true_gap)
        assert len(ratios) > 20, name
        assert max(ratios) <= 2.0, (name, max(ratios))


@pytest.mark.slow
def test_record_gap_is_the_records_own_certificate(runs, problems):
    """The gap and dual value a record carries are F(coeffs) - D(dual) and D(dual),
    recomputed here from the record's points."""
    A, y, w = problems["vd32-levels"]
    for _, f, gap, d, record in runs["vd32-levels"][::10]:
        f_here = float(objective(record.coeffs, y, A, LAM, w))
        d_here = float(dual_value(record.dual, y, A, LAM, w))
        assert d == pytest.approx(d_here, rel=1e-12, abs=0)
        assert gap == pytest.approx(f_here - d_here, rel=1e-9, abs=1e-15)
        assert record.eps is None


@pytest.mark.slow
def test_fixed_schedule_records_carry_no_gap(problems):
    A, y, w = problems["vd32-levels"]
    records = []
    with torch.no_grad():
        FIRENET(A, weights=w, restarts=2, layers=3).solve(y, callback=records.append)
    assert len(records) == 6 and all(r.gap is None for r in records)


@pytest.mark.slow
def test_parameter_free_cp_certifies_1e6_within_1000(problems):
    A, y, w = problems["multilevel64-unit"]
    net = AdaptiveChambollePock(A, weights=w, iterations=BUDGET, target_gap=1e-6)
    rows = []
    with torch.no_grad():
        net.solve(y, callback=lambda r: rows.append((r.layer, float(record_metrics(r, y, A, LAM, w).dual_value),
                                                     float(r.gap))))
    layer, d, gap = rows[-1]
    assert gap <= 1e-6 * d
    assert layer < BUDGET  # stopped early at the target


@pytest.mark.slow
def test_target_gap_stops_early_with_a_certified_output(problems, references):
    A, y, w = problems["vd32-levels"]
    net = FIRENET(A, weights=w, schedule="adaptive", max_layers=BUDGET, target_gap=1e-4)
    records = []
    with torch.no_grad():
        out = net.solve(y, callback=records.append)
    assert records[-1].layer < BUDGET
    assert torch.equal(out, records[-1].coeffs)
    f = float(objective(out, y, A, LAM, w))
    f_ref, _ = references["vd32-levels"]
    assert (f - f_ref) / f_ref <= 1e-4


@pytest.mark.slow
def test_batched_equals_one_by_one(problems):
    A, y, w = problems["complex32-levels"]
    g = torch.Generator().manual_seed(0)
    e = torch.complex(torch.randn(y.shape, generator=g, dtype=torch.float64),
                      torch.randn(y.shape, generator=g, dtype=torch.float64))
    ys = torch.stack([y, 0.3 * y + 0.05 * e, y + 0.2 * e])
    for target in (None, 1e-3):
        net = FIRENET(A, weights=w, schedule="adaptive", max_layers=120, target_gap=target)
        with torch.no_grad():
            batch = net.solve(ys)
            single = torch.stack([net.solve(v) for v in ys])
        assert float((batch - single).abs().max()) <= 1e-12 * float(single.abs().max())


@pytest.mark.slow
def test_autograd_and_inplace_paths_agree_and_scale(problems):
    """Same numbers with and without gradient; positively homogeneous: f(s y) = s f(y)."""
    A, y, w = problems["vd32-levels"]
    net = FIRENET(A, weights=w, schedule="adaptive", max_layers=60)
    with torch.no_grad():
        fast = net.solve(y)
        scaled = net.solve(7.0 * y)
    slow = net.solve(y.clone().requires_grad_(True)).detach()
    scale = float(fast.abs().max())
    assert float((fast - slow).abs().max()) <= 1e-12 * scale
    assert float((scaled - 7.0 * fast).abs().max()) <= 1e-11 * 7.0 * scale


@pytest.mark.slow
def test_gradient_matches_finite_differences():
    """Restarts and step-balance decisions are piecewise constant; between them the network
    is smooth in y, so its gradient is the finite-difference one (30 layers: 3 checks)."""
    size = 8
    mask = np.zeros((size, size), dtype=bool)
    mask[3:5, :] = True
    mask[[0, 6], [1, 5]] = True
    A = WaveletMeasurement(SubsampledFourier(mask), Wavelet2D("haar", None, size))
    g = torch.Generator().manual_seed(0)
    y0 = A.sampling.forward(torch.rand(size, size, generator=g, dtype=torch.float64))
    net = FIRENET(A, lam=1e-2, schedule="adaptive", max_layers=30)
    restarts = []
    with torch.no_grad():
        net.solve(y0, callback=lambda r: restarts.append(r.restart))
    assert restarts[-1] >= 2  # the decisions are exercised

    def f(re, im):
        return net(y0 + torch.complex(re, im))

    re = torch.zeros(y0.shape, dtype=torch.float64, requires_grad=True)
    im = torch.zeros(y0.shape, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(f, (re, im), eps=1e-7, atol=1e-6, rtol=1e-4, fast_mode=True)


@pytest.mark.slow
def test_worst_case_search_runs_through_the_adaptive_network(problems):
    A, y, w = problems["vd32-levels"]
    net = FIRENET(A, weights=w, schedule="adaptive", max_layers=60)
    assert net.checkpoint_segments(y) == []  # run whole (no per-restart segments)
    res = worst_case_perturbation(net, y, budget=0.02, steps=3, seed=0)
    size = float(torch.linalg.vector_norm(res.perturbation) / torch.linalg.vector_norm(y))
    assert 0 < size <= 0.02 * (1 + 1e-9)
    assert res.output_change > 0


def test_fixed_schedule_targets_are_written_once(problems):
    A, y, _ = problems["vd32-levels"]
    net = FIRENET(A, **{**PAPER_DEFAULTS, "restarts": 4})
    eps0 = torch.linalg.vector_norm(y)
    expected = [eps0 * math.exp(-k) + 1e-9 * sum(math.exp(-j) for j in range(1, k + 1)) for k in range(1, 5)]
    assert torch.allclose(net.schedule(y), torch.stack(expected), rtol=1e-12)
    targets = restart_targets(eps0, nu=math.exp(-1), delta=1e-9, restarts=4)
    assert torch.equal(torch.stack(targets), net.schedule(y))
    segments = net.checkpoint_segments(y)
    assert len(segments) == 4 + 2
    state = y
    with torch.no_grad():
        for segment in segments:
            state = segment(state)
        expected = net(y)  # in-place buffers there, autograd-style ops in the segments
    assert float((state - expected).abs().max()) <= 1e-12 * float(expected.abs().max())


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(schedule="restart"), "schedule"),
        (dict(schedule="adaptive", max_layers=0), "max_layers"),
        (dict(schedule="adaptive", target_gap=0.0), "target_gap"),
        (dict(target_gap=1e-6), "target_gap"),
        (dict(schedule="adaptive", rule="fast"), "rule"),
    ],
)
def test_bad_arguments_raise_naming_the_parameter(problems, kwargs, name):
    with pytest.raises(ValueError, match=name):
        FIRENET(problems["vd32-levels"].A, **kwargs)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(check_every=0), "check_every"),
        (dict(sufficient=1.0), "sufficient"),
        (dict(necessary=0.0), "necessary"),
        (dict(sufficient=0.9, necessary=0.5), "sufficient"),
        (dict(artificial=1.5), "artificial"),
        (dict(smoothing=-0.1), "smoothing"),
        (dict(relaxation=2.0), "relaxation"),
        (dict(relaxation=0.0), "relaxation"),
        (dict(relaxation=True), "relaxation"),
        (dict(relaxation=float("nan")), "relaxation"),
        (dict(data_consistent=1), "data_consistent"),
        (dict(polish_iterations=-1), "polish_iterations"),
        (dict(polish_iterations=2.5), "polish_iterations"),
        (dict(polish_rounds=0), "polish_rounds"),
        (dict(polish_share=1.5), "polish_share"),
    ],
)
def test_bad_rules_raise_naming_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        AdaptiveRule(**kwargs)


def test_parameter_free_cp_bad_arguments(problems):
    A = problems["vd32-levels"].A
    for kwargs, name in ((dict(iterations=0), "iterations"), (dict(lam=0.0), "lam"),
                         (dict(target_gap=-1.0), "target_gap")):
        with pytest.raises(ValueError, match=name):
            AdaptiveChambollePock(A, **kwargs)


class _CountingA:
    """``A`` that counts its applications (forward and adjoint)."""

    def __init__(self, A):
        self.A, self.calls = A, 0

    def __getattr__(self, name):
        return getattr(self.A, name)

    def forward(self, x):
        self.calls += 1
        return self.A.forward(x)

    def adjoint(self, z):
        self.calls += 1
        return self.A.adjoint(z)


@pytest.mark.slow
def test_polished_dual_certifies_radial_lines_tighter_and_stays_a_lower_bound(problems, references):
    """On radial lines the data-consistent run's own dual after 1,000 layers certifies
    7.2e-6, limited by its violations of |A^* z| <= lam w (a rescaling costs their size
    in full); polish_dual (2 rounds of 30 steps) certifies 1.4e-6 (measured), and its
    value stays below F* (weak duality against the reference's objective)."""
    A, y, w = problems["radial32-unit"]
    f_ref, d_ref = references["radial32-unit"]
    rule = AdaptiveRule(data_consistent=True, polish_iterations=0)
    last = []
    with torch.no_grad():
        out = FIRENET(A, weights=w, schedule="adaptive", max_layers=1000, rule=rule).solve(
            y, callback=lambda r: last.__setitem__(slice(None), [r]))
    f = float(objective(out, y, A, LAM, w))
    d_own = float(dual_value(last[0].dual, y, A, LAM, w))
    polished = polish_dual(last[0].dual, y, A, LAM, w, coeffs=out)
    d_polished = float(dual_value(polished, y, A, LAM, w))
    assert (f - d_own) / d_own >= 5e-6
    assert (f - d_polished) / d_polished <= 2e-6
    assert d_polished <= f_ref * (1 + 1e-12)


@pytest.mark.slow
def test_polish_never_lowers_the_dual_value_batched_as_one_by_one(problems):
    """Per batch element the polished value is at least the input's (the better of the
    two is kept), on an easy problem too, and a batch gives its elements' numbers."""
    A, y, w = problems["complex32-levels"]
    g = torch.Generator().manual_seed(1)
    e = torch.complex(torch.randn(y.shape, generator=g, dtype=torch.float64),
                      torch.randn(y.shape, generator=g, dtype=torch.float64))
    ys = torch.stack([y, y + 0.1 * e])
    records = []
    with torch.no_grad():
        xs = FIRENET(A, weights=w, schedule="adaptive", max_layers=80,
                     rule=AdaptiveRule(polish_iterations=0)).solve(ys, callback=records.append)
    z = records[-1].dual
    batch = polish_dual(z, ys, A, LAM, w, coeffs=xs, iterations=10, rounds=2)
    single = torch.stack([polish_dual(z[i], ys[i], A, LAM, w, coeffs=xs[i], iterations=10, rounds=2)
                          for i in range(2)])
    assert float((batch - single).abs().max()) <= 1e-12 * float(single.abs().max())
    before = dual_value(z, ys, A, LAM, w)
    after = dual_value(batch, ys, A, LAM, w)
    assert bool((after >= before).all())


@pytest.mark.slow
def test_schedule_polishes_its_dual_only_where_it_is_read(problems):
    """The polish serves the certificate: the last record of a data-consistent run on
    radial lines certifies 1.4e-6 with it, 7.2e-6 without (measured); without a
    callback or target (an attack's forward pass) it costs no application of A, and it
    never changes the output. A read certificate also costs one A^* per check (the dual
    point's value in double precision)."""
    A, y, w = problems["radial32-unit"]
    gaps, outs, calls = {}, {}, {}
    for polish in (0, 30):
        rule = AdaptiveRule(data_consistent=True, polish_iterations=polish)
        for read in (False, True):
            counting = _CountingA(A)
            net = FIRENET(counting, weights=w, schedule="adaptive", max_layers=1000, rule=rule)
            last = []
            with torch.no_grad():
                outs[polish, read] = net.solve(y, callback=(lambda r: last.__setitem__(slice(None), [r]))
                                               if read else None)
            calls[polish, read] = counting.calls
            if read:
                gaps[polish] = float(last[0].gap) / float(dual_value(last[0].dual, y, A, LAM, w))
    assert gaps[0] >= 5e-6 and gaps[30] <= 2e-6
    assert calls[30, False] == calls[0, False] == calls[0, True] - 1000 // 10
    # 2 rounds of 30 steps, A^* y, A^* z, and the polished point's value
    assert calls[30, True] == calls[0, True] + 2 * (2 * 30 + 2) + 2 + 1
    for key in outs:
        assert torch.equal(outs[key], outs[0, False])


def test_certificate_false_skips_the_dual_side_and_keeps_the_output(problems):
    """A callback that only reports progress (``certificate=False``, a heartbeat) costs no
    application of A beyond the run without a callback, its records carry the zero dual
    point (gap = F), and the output is that of the run without a callback and of the run
    whose records read the certificate."""
    A, y, w = problems["radial32-unit"]
    rule = AdaptiveRule(data_consistent=True)
    outs, calls, records = {}, {}, []
    for key, callback, certificate in (("none", None, None), ("progress", records.append, False),
                                       ("read", lambda r: None, None)):
        counting = _CountingA(A)
        net = FIRENET(counting, weights=w, schedule="adaptive", max_layers=200, rule=rule)
        with torch.no_grad():
            outs[key] = net.solve(y, callback=callback, certificate=certificate)
        calls[key] = counting.calls
    assert calls["progress"] == calls["none"] < calls["read"]
    assert torch.equal(outs["progress"], outs["none"]) and torch.equal(outs["read"], outs["none"])
    assert len(records) == 200 and float(records[-1].dual_value) == 0.0
    assert float(records[-1].gap) == pytest.approx(float(objective(records[-1].coeffs, y, A, LAM, w)), rel=1e-12)
    # the heartbeat of a segmented network (an attack's forward pass) reads no certificate
    counting = _CountingA(A)
    net = FIRENET(counting, weights=w, schedule="adaptive", max_layers=200, rule=rule)
    with torch.no_grad():
        image = Segmented(net, chunk=3, heartbeat=lambda: None)(y)
    assert counting.calls == calls["none"]
    assert torch.equal(image, A.wavelet.inverse(outs["none"]).real)
    with pytest.raises(ValueError, match="certificate"):
        FIRENET(A, weights=w, schedule="adaptive", max_layers=10).solve(y, certificate="yes")


def test_polish_dual_bad_arguments_raise_naming_the_parameter(problems):
    A, y, w = problems["vd32-levels"]
    z, x = torch.zeros_like(y), A.adjoint(y)
    for kwargs, name in ((dict(iterations=0), "iterations"), (dict(rounds=0), "rounds"),
                         (dict(iterations=True), "iterations")):
        with pytest.raises(ValueError, match=name):
            polish_dual(z, y, A, LAM, w, coeffs=x, **kwargs)
    with pytest.raises(ValueError, match="lam"):
        polish_dual(z, y, A, 0.0, w, coeffs=x)
