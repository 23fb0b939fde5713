"""The paradox instance and Table 1 (solver.paradox), against closed forms, a convex solver and
the authors' own script's printed table."""

import re
from pathlib import Path

import numpy as np
import pytest

from solver import paradox as P

DATA = Path(__file__).parent / "data"


def _authors_rows(name):
    """The nine distances printed by the authors' Demo_test_firenet.py, in their order."""
    lines = (DATA / name).read_text().splitlines()
    assert lines[0].startswith("# command")
    rows = [re.match(r"\s*&\s*(\S+)\s*&\s*\$n = (\d+)\$.*\$K = (\d+)\$", line) for line in lines]
    return [(int(m.group(3)), int(m.group(2)), float(m.group(1))) for m in rows if m]


def _authors_inputs(row_index, K, n):
    """The inputs the authors' loop builds for its row: the loop variable ``j`` (0, 1, 2 for
    K = 1, 3, 6) is passed as the data's ``j``, so by Python's negative indexing the raised
    entries wrap around, and their reference point ``x_star`` (the exact instance's ``x``
    built with ``j - 1``) sits at index ``(j - 2) mod 22``: coordinate 21 or 22 for K = 1, 3,
    not the minimiser's coordinate."""
    jj = row_index // 3
    exact = P.inexact_instance(K, n, j=(jj - 2) % 2 + 1)
    inexact = P.inexact_instance(K, n, j=(jj - 1) % 2 + 1)
    reference = np.zeros(22)
    reference[(jj - 2) % 22] = exact.x[exact.j - 1]
    return exact, inexact, reference


def test_firenet_column_equals_the_authors_script_to_1e6_relative():
    authors = _authors_rows("authors_table1_firenet_17g.txt")
    printed = _authors_rows("authors_table1_firenet.txt")
    assert [(K, n) for K, n, _ in authors] == [(K, n) for K in P.K_VALUES for n in P.N_VALUES]
    inputs = [_authors_inputs(i, K, n) for i, (K, n, _) in enumerate(authors)]
    outputs = P.firenet(np.stack([b.A for _, b, _ in inputs]), np.stack([b.y for _, b, _ in inputs]))
    for (K, n, theirs), (_, _, shown), (_, _, reference), output in zip(authors, printed, inputs, outputs):
        ours = np.linalg.norm(output - reference)
        assert ours == pytest.approx(theirs, rel=1e-6), (K, n)
        assert abs(ours - shown) <= 0.5e-7 + 1e-6 * shown, (K, n)  # their 7 printed decimals


def test_the_authors_reference_point_is_off_the_minimiser_for_k_1_and_3_only():
    """Why their K = 1, 3 rows read 0.2598 x 10^-(K-1) where the distance to the minimiser set
    is 0.15 x 10^-(K-1): the reference point is not the minimiser there."""
    for index, (K, n) in enumerate([(K, n) for K in P.K_VALUES for n in P.N_VALUES]):
        exact, _, reference = _authors_inputs(index, K, n)
        off = P.distance_to_minimisers(reference, exact)
        if K == 6:
            assert off < 1e-20
        else:
            assert off == pytest.approx(3 * 10.0**-K, rel=1e-3)


def test_table1_distances_and_digits_as_measured():
    rows = P.table1()
    assert [(r.K, r.n) for r in rows] == [(K, n) for K in P.K_VALUES for n in P.N_VALUES]
    for row in rows:
        # The inputs agree to 2^-n, the minimisers are 3 x 10^-K apart.
        assert row.input_gap_A <= 2.0**-row.n and row.input_gap_y <= 2.0**-row.n
        assert row.minimiser_gap == pytest.approx(3 * 10.0**-row.K, rel=1e-3)
        # Hedging halves the gap: K - 1 digits, not K.
        assert row.hedging == pytest.approx(row.minimiser_gap / 2, rel=1e-12)
        assert row.digits()["hedging"] == row.K - 1
        # FIRENET lands on the hedging point (to 1e-3 relative): K - 1 digits, never K.
        assert row.firenet == pytest.approx(row.hedging, rel=1e-3)
        assert row.digits()["firenet"] == row.K - 1


@pytest.mark.slow
def test_swapping_the_raised_entries_leaves_the_table_unchanged():
    """The authors' K = 3 row swaps which entry is raised; by symmetry the distance is the same."""
    plain = P.table1((3,), (20,))[0]
    swapped = P.table1((3,), (20,), j_exact=2, j_inexact=1)[0]
    assert swapped.firenet == pytest.approx(plain.firenet, rel=1e-9)


@pytest.mark.parametrize("K,n,j", [(1, 10, 1), *(pytest.param(*case, marks=pytest.mark.slow) for case in ((1, 10, 2), (2, 8, 1)))])
def test_closed_form_minimiser_matches_cvxpy(K, n, j):
    cp = pytest.importorskip("cvxpy")
    instance = P.inexact_instance(K, n, j=j)
    z = cp.Variable(instance.A.shape[1])
    objective = instance.lam * cp.norm1(z) + cp.norm2(instance.A @ z - instance.y)
    problem = cp.Problem(cp.Minimize(objective))
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    closed = P.minimiser_vertices(instance)
    assert closed.shape[0] == 1
    np.testing.assert_allclose(closed[0], instance.x, rtol=1e-12, atol=0)
    value = instance.lam * np.abs(closed[0]).sum() + np.linalg.norm(instance.A @ closed[0] - instance.y)
    assert problem.value == pytest.approx(value, rel=1e-7)
    # The solver's answer sits on the closed form's coordinate: far closer to it than the
    # 3 x 10^-K that separates it from the other instance's minimiser.
    assert P.distance_to_minimisers(z.value, instance) < 1e-4 * 10.0**-K


def test_tied_first_row_gives_a_simplex_that_cvxpy_lands_in():
    """With the raise removed the minimiser set is the segment between the two coordinates:
    a convex solver's answer lies on it and its distance to either end is positive."""
    cp = pytest.importorskip("cvxpy")
    instance = P.inexact_instance(1, 10, j=1)
    row = np.full(2, instance.row[1])
    tied = P.InexactInstance(**{**instance.__dict__, "row": row,
                                "A": P._dct(P._assemble(row, 20)[0])})
    vertices = P.minimiser_vertices(tied)
    assert vertices.shape == (2, 22)
    midpoint = vertices.mean(axis=0)
    assert P.distance_to_minimisers(midpoint, tied) == pytest.approx(0, abs=1e-15)
    assert P.distance_to_minimisers(midpoint + 0.01 * np.eye(22)[5], tied) == pytest.approx(0.01, rel=1e-12)
    z = cp.Variable(22)
    cp.Problem(cp.Minimize(cp.norm1(z) + cp.norm2(tied.A @ z - tied.y))).solve(solver=cp.CLARABEL)
    assert P.distance_to_minimisers(z.value, tied) < 1e-6


def test_band_path_jumps_at_the_midpoint():
    exact, inexact = P.inexact_instance(3, 20, j=1), P.inexact_instance(3, 20, j=2)
    path = P.band_path(exact, inexact, np.array([0.0, 0.25, 0.49, 0.51, 1.0, 2.0]))
    np.testing.assert_allclose(path["input_distance"][4], np.linalg.norm(inexact.A - exact.A, 2), rtol=1e-6)
    assert path["distance"][0] == 0
    assert np.all(path["distance"][:3] < 1e-6 * 3e-3)  # moves continuously, by ~ t 2^-n / a^2
    np.testing.assert_allclose(path["distance"][3:], 3e-3, rtol=1e-3)


def test_training_set_samples_are_exact_data_of_sparse_vectors():
    instance = P.inexact_instance(3, 10, j=2)
    ys, xs = P.training_set(50, instance, sparsity=5, seed=5)
    assert ys.shape == (50, 21) and xs.shape == (50, 22)
    np.testing.assert_allclose(xs @ instance.A.T, ys, rtol=0, atol=1e-12)
    assert np.all(xs[:, 1] == instance.x[1]) and np.all(xs[:, 0] == 0)
    assert np.all(np.count_nonzero(xs[:, 2:], axis=1) == 5)
    again, _ = P.training_set(50, instance, sparsity=5, seed=5)
    other, _ = P.training_set(50, instance, sparsity=5, seed=6)
    assert np.array_equal(ys, again) and not np.allclose(ys, other)


def test_firenet_batch_equals_one_at_a_time():
    instances = [P.inexact_instance(K, 10, j=2) for K in (1, 3)]
    batch = P.firenet(np.stack([i.A for i in instances]), np.stack([i.y for i in instances]), p=5, restarts=3)
    for instance, row in zip(instances, batch):
        np.testing.assert_allclose(P.firenet(instance.A, instance.y, p=5, restarts=3), row, rtol=1e-12)


@pytest.mark.parametrize("distance,digits", [(1.5e-3, 2), (1e-3, 3), (0.99e-3, 3), (0.3, 0), (3.0, 0), (0.0, 16)])
def test_correct_digits(distance, digits):
    assert P.correct_digits(distance) == digits


@pytest.mark.parametrize("kwargs,name", [({"K": 0, "n": 10}, "K"), ({"K": 1, "n": 0}, "n"),
                                         ({"K": 1, "n": 10, "j": 3}, "j"), ({"K": 1, "n": 10, "j": 0}, "j"),
                                         ({"K": 1, "n": 10, "lam": 2.0}, "lam"),
                                         ({"K": 1, "n": 10, "delta": 0.3}, "delta"),
                                         ({"K": 1.5, "n": 10}, "K"), ({"K": 1, "n": 10, "N1": 1}, "N1")])
def test_bad_parameters_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        P.inexact_instance(**kwargs)


def test_firenet_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="y"):
        P.firenet(np.zeros((3, 4)), np.zeros(5))
    with pytest.raises(ValueError, match="restarts"):
        P.firenet(np.eye(3), np.ones(3), restarts=0)


def test_kernel_vector_breaks_every_null_space_property():
    import scipy.linalg

    instance = P.inexact_instance(3, 10, j=1)
    kernel = scipy.linalg.null_space(instance.A)
    assert kernel.shape[1] == 1  # one direction, on the first two coordinates
    v = kernel[:, 0]
    np.testing.assert_allclose(v[2:], 0, atol=1e-12)
    ratio = max(abs(v[0]) / abs(v[1]), abs(v[1]) / abs(v[0]))
    assert ratio == pytest.approx(P.null_space_ratio(instance), rel=1e-9)
    assert P.null_space_ratio(instance) > 1


def test_compare_on_band_measures_each_output():
    view = P.compare_on_band(3, 10, lista=lambda y: np.zeros(22))
    assert view.distances["input_minimiser"] == pytest.approx(3e-3, rel=1e-3)
    assert view.distances["hedging"] == pytest.approx(1.5e-3, rel=1e-3)
    assert view.distances["lista"] == pytest.approx(np.linalg.norm(view.exact.x), rel=1e-12)
    assert view.digits()["firenet"] == 2
    jump = np.flatnonzero(np.diff(view.path["distance"]) > 1e-3)
    assert jump.size == 1
    np.testing.assert_allclose(view.path["input_distance"][jump[0] + 1], view.input_gap / 2, rtol=1e-6)
