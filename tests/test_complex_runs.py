"""Complex truths, measured data and the published Walsh order in the run API."""

import numpy as np
import pytest
import torch

from solver.complex_images import complex_test_image
from solver.kspace import image_to_kspace, prepare_kspace
from solver.methods import build
from solver.operators import make_operator
from solver.phantoms import shepp_logan
from solver.problem import make_problem, problem_from_kspace
from solver.sampling import make_mask
from solver.trace import run

N = 32


@pytest.fixture(scope="module")
def mask():
    return make_mask("multilevel", N, 0.3, seed=1)


def test_complex_truth_is_measured_with_its_imaginary_part(mask):
    truth = complex_test_image(shepp_logan(N), seed=2)
    problem = make_problem(truth, mask, dtype=torch.complex128)
    assert problem.truth.dtype == np.complex128
    full = image_to_kspace(truth)  # the project's unitary centred DFT, independently
    np.testing.assert_allclose(problem.y.numpy(), full[mask], atol=1e-12)
    assert problem.residual(truth) < 1e-12
    assert problem.residual(truth.real) > 0.1


def test_keep_imaginary_records_the_complex_output_of_the_same_run(mask):
    truth = complex_test_image(shepp_logan(N), seed=2)
    problem = make_problem(truth, mask, dtype=torch.complex128)
    net = build("firenet", problem.measurement("haar"), firenet={"restarts": 3, "layers": 4})
    real = run(net, problem.y, reference=truth.real, snapshots=(4, 8))
    full = run(net, problem.y, reference=truth, snapshots=(4, 8), keep_imaginary=True)
    assert np.iscomplexobj(full.image) and not np.iscomplexobj(real.image)
    np.testing.assert_allclose(full.image.real, real.image, atol=1e-12)
    np.testing.assert_allclose(full.snapshots[4].real, real.snapshots[4], atol=1e-12)
    # The recorded error is the complex one.
    expected = np.linalg.norm(full.image - truth) / np.linalg.norm(truth)
    assert full.error[-1] == pytest.approx(expected, rel=1e-9)
    zero_filled = run(build("zero_filled", problem.measurement("haar")), problem.y, keep_imaginary=True)
    np.testing.assert_allclose(zero_filled.image, problem.operator.adjoint(problem.y).numpy(), atol=1e-12)


def test_measured_problem_has_no_truth_and_the_operators_data(mask):
    image = shepp_logan(N)
    data = prepare_kspace(image_to_kspace(image) * mask)
    problem = problem_from_kspace(data, dtype=torch.complex128)
    assert not problem.has_truth and not problem.truth.any()
    np.testing.assert_allclose(problem.y.numpy(), image_to_kspace(image)[mask], atol=1e-12)
    assert problem.residual(image) < 1e-12
    with pytest.raises(ValueError, match="data"):
        problem_from_kspace(image)


def test_walsh_in_published_order_samples_the_same_sequencies(mask):
    x = torch.as_tensor(shepp_logan(N), dtype=torch.complex128)
    centred, published = make_operator("walsh", mask), make_operator("walsh_uncentred", mask)
    # Both project onto the same sampled coefficients: A* A x agrees, y is a permutation.
    np.testing.assert_allclose(published.adjoint(published.forward(x)), centred.adjoint(centred.forward(x)),
                               atol=1e-12)
    np.testing.assert_allclose(np.sort_complex(published.forward(x).numpy()),
                               np.sort_complex(centred.forward(x).numpy()), atol=1e-12)
    with pytest.raises(ValueError, match="kind"):
        make_operator("hadamard", mask)
