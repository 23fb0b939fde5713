"""The library's problem, method registry and run API, checked against direct computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from solver import methods
from solver.objective import objective
from solver.phantoms import shepp_logan
from solver.problem import (
    make_problem,
    superset_mask,
    with_more_samples,
    with_random_perturbation,
    with_text_detail,
)
from solver.sampling import make_mask
from solver.trace import GAP_FLOOR, certify, own_certificate, run
from solver.wavelets import level_weights

N = 32


@pytest.fixture(scope="module")
def problem():
    return make_problem(shepp_logan(N), make_mask("multilevel", N, 0.3, seed=1), noise=0.02,
                        noise_seed=3, dtype=torch.complex128)


def test_problem_data_are_the_measured_truth_plus_noise_of_the_asked_level(problem):
    clean = problem.measure(problem.truth)
    e = problem.y - clean
    assert problem.y.shape == (int(problem.mask.sum()),)
    assert float(e.norm() / clean.norm()) == pytest.approx(0.02, rel=1e-12)
    again = make_problem(problem.truth, problem.mask, noise=0.02, noise_seed=3, dtype=torch.complex128)
    assert torch.equal(again.y, problem.y)  # seeded


@pytest.mark.parametrize("kwargs, name", [({"transform": "radon"}, "transform"),
                                          ({"noise": -0.1}, "noise"),
                                          ({"noise_seed": -1}, "noise_seed"),
                                          ({"dtype": torch.float32}, "dtype")])
def test_make_problem_names_a_bad_parameter(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} "):
        make_problem(np.zeros((8, 8)), np.ones((8, 8), bool), **kwargs)


def test_text_detail_changes_the_truth_and_keeps_the_noise(problem):
    detailed = with_text_detail(problem, 0.2, text="Hi", height=6)
    assert not np.array_equal(detailed.truth, problem.truth)
    noise_before = problem.y - problem.measure(problem.truth)
    noise_after = detailed.y - detailed.measure(detailed.truth)
    assert torch.allclose(noise_before, noise_after, atol=1e-12)


def test_random_perturbation_has_the_asked_size(problem):
    perturbed, e = with_random_perturbation(problem, 0.05, seed=9)
    assert float(e.norm() / problem.y.norm()) == pytest.approx(0.05, rel=1e-9)
    assert torch.equal(perturbed.y, problem.y + e)


def test_superset_mask_contains_the_mask_and_reaches_the_rate():
    mask = make_mask("multilevel", 64, 0.2, seed=0)
    bigger = superset_mask(mask, 0.35, pattern="multilevel", seed=0)
    assert np.all(bigger[mask])
    assert abs(bigger.mean() - 0.35) < 0.01
    assert superset_mask(mask, 1.0, pattern="multilevel").all()


def test_more_samples_measure_the_same_truth_on_the_superset(problem):
    more = with_more_samples(problem, 0.15, pattern="multilevel", seed=1)
    assert np.all(more.mask[problem.mask]) and more.rate == pytest.approx(problem.rate + 0.15, abs=0.01)
    assert np.array_equal(more.truth, problem.truth) and more.noise == problem.noise
    assert "superset" in more.notes[-1]


def test_registry_builds_every_method_that_needs_no_training(problem):
    A = problem.measurement("haar")
    for name, method in methods.METHODS.items():
        if method.learned:
            with pytest.raises(ValueError, match="unet is needed"):
                methods.build(name, A)
            continue
        net = methods.build(name, A, iterations=20, firenet={"restarts": 2, "layers": 5})
        with torch.no_grad():
            image = net(problem.y)
        assert image.shape == (N, N) and image.dtype == torch.float64 and torch.isfinite(image).all()
    with pytest.raises(ValueError, match="^name must be one of"):
        methods.build("admm", A)


def test_the_adaptive_methods_need_no_table_and_get_the_page_options(problem):
    from solver.baselines import AdaptiveChambollePock

    A = problem.measurement("haar")
    assert isinstance(methods.build("cp_adaptive", A, iterations=30), AdaptiveChambollePock)
    net = methods.build("firenet", A, firenet={"schedule": "adaptive", "max_layers": 40, "target_gap": 1e-3})
    assert net.adaptive and net.depth == 40
    paper = methods.build("firenet_paper", A)
    assert (paper.restarts, paper.layers, paper.output) == (5, 5, "ergodic")


@pytest.mark.slow
def test_run_records_the_network_exactly(problem):
    A = problem.measurement("haar")
    weights = level_weights(torch.as_tensor(problem.truth), A.wavelet, domain="image")
    net = methods.build("firenet", A, weights=weights,
                        firenet={"restarts": 4, "layers": 10, "output": "last"})
    trace = run(net, problem.y, reference=problem.truth, snapshots=(10, 20, 30, 40))
    with torch.no_grad():
        direct = net(problem.y)
        coeffs = net.solve(problem.y)
        early = methods.build("firenet", A, weights=weights,
                              firenet={"restarts": 2, "layers": 10, "output": "last"})(problem.y)
    assert np.array_equal(trace.image, direct.numpy())
    assert np.array_equal(trace.at_depth(20), early.numpy())
    assert trace.restart_layers == [10, 20, 30] and len(trace.eps) == 4
    assert trace.layer[-1] == 40
    f = float(objective(coeffs, problem.y, A, net.lam, weights))
    assert trace.objective[-1] == pytest.approx(f, rel=1e-12)
    error = np.linalg.norm(direct.numpy() - problem.truth) / np.linalg.norm(problem.truth)
    assert trace.error[-1] == pytest.approx(error, rel=1e-12)


def test_run_stops_when_asked(problem):
    net = methods.build("cp", problem.measurement("haar"), iterations=50)
    trace = run(net, problem.y, snapshots=(10, 20, 30), on_progress=lambda t, layer: layer >= 20)
    assert trace.stopped and max(trace.snapshots) == 20 and trace.layer[-1] == 20
    assert all(math.isnan(e) for e in trace.error)  # no reference given


def test_one_shot_methods_give_just_the_image(problem):
    trace = run(methods.build("zero_filled", problem.measurement("haar")), problem.y)
    assert trace.layer == [] and trace.image.shape == (N, N)


@pytest.mark.slow
def test_certified_gaps_share_the_best_dual_of_all_runs(problem):
    A = problem.measurement("haar")
    cp = run(methods.build("cp_adaptive", A, iterations=400), problem.y)
    fire = run(methods.build("firenet", A, firenet={"restarts": 3, "layers": 10}), problem.y)
    gaps, bound = certify({"cp": cp, "firenet": fire})
    assert bound == max(cp.dual + fire.dual)
    assert bound <= min(cp.objective + fire.objective)  # weak duality
    assert gaps["firenet"] == [max((f - bound) / bound, GAP_FLOOR) for f in fire.objective]
    none, nan = certify({"x": {"objective": [1.0], "dual": [-1.0]}})
    assert math.isnan(nan) and math.isnan(none["x"][0])


@pytest.mark.slow
def test_own_certificate_uses_only_the_runs_past_duals(problem):
    curve = {"objective": [3.0, 2.0, 1.5, 1.2], "dual": [-1.0, 1.0, 0.5, 1.1]}
    gaps = own_certificate(curve)
    assert math.isnan(gaps[0])  # no positive dual value yet
    # the best value so far: 1.0 at layer 3 (its own 0.5 is lower), 1.1 at layer 4
    assert gaps[1:] == pytest.approx([1.0, 0.5, 0.1 / 1.1])
    # An adaptive FIRENET's records carry its running best dual: its own certificate is
    # the record's gap, and never below the certificate with every run's bound.
    A = problem.measurement("haar")
    fire = run(methods.build("firenet", A, firenet={"schedule": "adaptive", "max_layers": 200}), problem.y)
    cp = run(methods.build("cp_adaptive", A, iterations=400), problem.y)
    own = own_certificate(fire)
    shared, _ = certify({"firenet": fire, "cp": cp})
    certified = [(o, s) for o, s in zip(own, shared["firenet"]) if not math.isnan(o)]
    assert len(certified) >= len(own) - 10  # from its first gap check on (every 10 layers)
    assert all(o >= s * (1 - 1e-12) for o, s in certified)
    assert own[-1] <= 2 * max(shared["firenet"][-1], GAP_FLOOR)  # tight at the end


@pytest.mark.slow
def test_trace_times_exclude_the_recording(problem, monkeypatch):
    import time

    import solver.trace

    # Every record takes at least 20 ms more (a slow metric): Trace.time must leave all of
    # it out, whatever else the machine runs, while the run's wall time includes it.
    record = solver.trace._Recorder.record

    def slow_record(self, *args, **kwargs):
        time.sleep(0.02)
        return record(self, *args, **kwargs)

    monkeypatch.setattr(solver.trace._Recorder, "record", slow_record)
    A = problem.measurement("haar")
    net = methods.build("firenet", A, firenet={"schedule": "adaptive", "max_layers": 100})
    trace = run(net, problem.y, reference=problem.truth, every=1)
    assert len(trace.time) == len(trace.layer) == 100
    assert all(b >= a for a, b in zip(trace.time, trace.time[1:])) and trace.time[0] >= 0
    # The last layer's time stops before its own record; the 99 records before it and the
    # last one's 20 ms lie between it and the end of the run.
    assert trace.seconds - trace.time[-1] >= 100 * 0.02


def test_the_package_exports_its_public_api_lazily():
    import subprocess
    import sys

    import solver

    for name in solver.__all__:
        assert getattr(solver, name) is not None, name
    # Importing the package loads none of its heavy modules (torch, the networks).
    code = "import sys, solver; print(sorted(m for m in sys.modules if m.startswith(('solver.', 'torch'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        solver.nothing  # noqa: B018


@pytest.mark.slow
def test_the_documented_example_runs():
    import doctest

    import solver

    failures, tried = doctest.testmod(solver, verbose=False)
    assert tried >= 6 and failures == 0
