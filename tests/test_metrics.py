"""Metrics checked against closed-form values."""

import math

import numpy as np
import pytest
import torch

from solver.metrics import l2_norm, psnr, relative_error, ssim, stability_ratio


@pytest.fixture
def ref():
    return np.random.default_rng(0).uniform(0.1, 0.9, (32, 32))


def test_psnr_of_a_constant_offset_of_0_01_is_exactly_40_db(ref):
    # MSE = 1e-4, data range 1: 10 log10(1 / 1e-4) = 40.
    assert psnr(ref + 0.01, ref) == pytest.approx(40.0, abs=1e-9)


def test_psnr_grows_by_20_log10_2_when_the_data_range_doubles(ref):
    noisy = ref + 0.05 * np.random.default_rng(1).standard_normal(ref.shape)
    gain = psnr(noisy, ref, data_range=2.0) - psnr(noisy, ref)
    assert gain == pytest.approx(20 * math.log10(2.0), abs=1e-9)


def test_psnr_of_identical_images_is_infinite_without_warning(ref):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert psnr(ref, ref) == math.inf


def test_ssim_of_identical_images_is_one(ref):
    assert ssim(ref, ref) == pytest.approx(1.0, abs=1e-12)


def test_ssim_drops_below_one_with_noise_and_is_symmetric(ref):
    noisy = ref + 0.1 * np.random.default_rng(2).standard_normal(ref.shape)
    value = ssim(noisy, ref)
    assert 0.0 < value < 0.95
    assert ssim(ref, noisy) == pytest.approx(value, abs=1e-12)


def test_relative_error_matches_a_hand_computation():
    truth = np.array([[3.0, 0.0], [0.0, 4.0]])  # norm 5
    recon = np.array([[3.0, 1.0], [0.0, 4.0]])  # difference norm 1
    assert relative_error(recon, truth) == pytest.approx(0.2, abs=1e-15)
    assert relative_error(truth, truth) == 0.0


def test_imaginary_parts_are_ignored(ref):
    complex_recon = ref + 1j * np.random.default_rng(3).standard_normal(ref.shape)
    assert relative_error(complex_recon, ref) == 0.0
    assert psnr(complex_recon + 0.01, ref) == pytest.approx(40.0, abs=1e-9)
    assert ssim(complex_recon, ref) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.complex64, torch.complex128])
def test_torch_tensors_give_the_numpy_numbers(ref, dtype):
    recon = ref + 0.01
    t_recon = torch.tensor(recon, dtype=dtype, requires_grad=True)
    t_ref = torch.tensor(ref, dtype=dtype)
    tol = 1e-5 if dtype in (torch.float32, torch.complex64) else 1e-12
    assert relative_error(t_recon, t_ref) == pytest.approx(relative_error(recon, ref), rel=tol)
    assert psnr(t_recon, t_ref) == pytest.approx(40.0, abs=1e-3 if tol > 1e-6 else 1e-9)
    assert ssim(t_recon, t_ref) == pytest.approx(ssim(recon, ref), abs=1e-5)


def test_conjugated_torch_views_are_read_correctly(ref):
    t = torch.tensor(ref + 0.5j, dtype=torch.complex128).conj()
    assert relative_error(t, ref) == 0.0


def test_shape_mismatch_names_both_shapes(ref):
    with pytest.raises(ValueError, match=r"x \(32, 31\).*ref \(32, 32\)"):
        relative_error(ref[:, :31], ref)
    with pytest.raises(ValueError, match="same shape"):
        psnr(ref, ref[None])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_are_refused(ref, bad):
    broken = ref.copy()
    broken[3, 4] = bad
    for metric in (relative_error, psnr, ssim):
        with pytest.raises(ValueError, match="x must contain only finite"):
            metric(broken, ref)
        with pytest.raises(ValueError, match="ref must contain only finite"):
            metric(ref, broken)


def test_invalid_arguments_are_refused(ref):
    with pytest.raises(ValueError, match="identically zero"):
        relative_error(ref, np.zeros_like(ref))
    with pytest.raises(ValueError, match="data_range"):
        psnr(ref, ref, data_range=0.0)
    with pytest.raises(ValueError, match="data_range"):
        ssim(ref, ref, data_range=-1.0)
    with pytest.raises(ValueError, match="2-D"):
        ssim(ref[None], ref[None])
    with pytest.raises(ValueError, match="at least 7 x 7"):
        ssim(ref[:5, :5], ref[:5, :5])
    with pytest.raises(ValueError, match="numeric"):
        relative_error(np.array([["a"]]), np.array([["b"]]))


def test_stability_ratio_matches_a_hand_computation():
    clean = np.array([[3.0, 4.0]])  # ||f(y)|| = 5
    perturbed = np.array([[3.0, 4.5]])  # ||f(y+e) - f(y)|| = 0.5: 10 % change
    y = np.array([6.0 + 8.0j])  # ||y|| = 10
    e = np.array([0.3 + 0.4j])  # ||e|| = 0.5: 5 % change
    assert stability_ratio(perturbed, clean, e, y) == pytest.approx(2.0, rel=1e-14)
    assert stability_ratio(perturbed, clean, e, y, relative=False) == pytest.approx(1.0, rel=1e-14)


def test_stability_ratio_refuses_degenerate_inputs():
    clean = np.ones((2, 2))
    y = np.ones(3, dtype=complex)
    with pytest.raises(ValueError, match="e is zero"):
        stability_ratio(clean, clean, np.zeros(3), y)
    with pytest.raises(ValueError, match="y is zero"):
        stability_ratio(clean, clean, y, np.zeros(3))
    with pytest.raises(ValueError, match=r"e \(2,\) and y \(3,\)"):
        stability_ratio(clean, clean, np.ones(2), y)
    with pytest.raises(ValueError, match="out_perturbed and out_clean"):
        stability_ratio(clean[:1], clean, y, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_l2_norm_is_the_frobenius_norm(dtype):
    rng = np.random.default_rng(7)
    array = rng.standard_normal((33, 17)).astype(dtype)
    if np.iscomplexobj(array):
        array = array + 1j * rng.standard_normal((33, 17)).astype(array.real.dtype)
    exact = math.sqrt(sum(abs(complex(v)) ** 2 for v in array.ravel().tolist()))
    tolerance = 1e-6 if array.real.dtype == np.float32 else 1e-13
    assert l2_norm(array) == pytest.approx(exact, rel=tolerance)
    assert l2_norm(np.array([[3.0, 4.0]])) == 5.0
