"""Reading measured k-space: formats, FFT conventions, sizes and FIRENET on the result."""

import io
from pathlib import Path

import numpy as np
import pytest
import torch

from solver.firenet import FIRENET
from solver.legacy import fixed_schedule
from solver.kspace import image_to_kspace, kspace_to_image, load_kspace, prepare_kspace
from solver.metrics import relative_error
from solver.operators import SubsampledFourier, WaveletMeasurement
from solver.phantoms import random_ellipses, shepp_logan
from solver.sampling import make_mask
from solver.wavelets import Wavelet2D

N = 64


@pytest.fixture(scope="module")
def phantom():
    return shepp_logan(N)


@pytest.fixture(scope="module")
def mask():
    return make_mask("multilevel", N, 0.25, seed=3)


def _project_data(image, mask):
    """y from the project's own operator (the reference every reader must reproduce)."""
    A = SubsampledFourier(mask)
    return A.forward(torch.from_numpy(image)).numpy()


def _write_cfl(path_base, array):
    """BART's writecfl: dims in the .hdr, complex64 little-endian, first dimension fastest."""
    dims = list(array.shape) + [1] * (16 - array.ndim)
    with open(f"{path_base}.hdr", "w") as f:
        f.write("# Dimensions\n" + " ".join(map(str, dims)) + "\n")
    np.asarray(array, dtype="<c8").ravel(order="F").tofile(f"{path_base}.cfl")


def _pad_about_dc(k, shape):
    out = np.zeros(shape, dtype=k.dtype)
    r0 = shape[0] // 2 - k.shape[0] // 2
    c0 = shape[1] // 2 - k.shape[1] // 2
    out[r0:r0 + k.shape[0], c0:c0 + k.shape[1]] = k
    return out


def test_project_convention_matches_the_operator(phantom, mask):
    # image_to_kspace(..., "centred") is the operator's full transform, sample by sample
    k = image_to_kspace(phantom)
    np.testing.assert_allclose(k[mask], _project_data(phantom, mask), atol=1e-12)
    np.testing.assert_allclose(kspace_to_image(k).real, phantom, atol=1e-12)


def test_conventions_differ_by_checkerboard_sign(phantom):
    centred = image_to_kspace(phantom, convention="centred")
    corner = image_to_kspace(phantom, convention="corner")
    sign = (-1.0) ** np.add.outer(np.arange(N), np.arange(N))
    np.testing.assert_allclose(centred, sign * corner, atol=1e-12)


@pytest.mark.parametrize("convention", ["centred", "corner"])
@pytest.mark.parametrize("layout", ["centred", "uncentred"])
def test_npy_round_trip_detects_convention_and_layout(phantom, mask, convention, layout):
    stored_mask = mask if layout == "centred" else np.fft.ifftshift(mask)
    k = image_to_kspace(phantom, convention=convention, layout=layout) * stored_mask
    buf = io.BytesIO()
    np.save(buf, k.astype(np.complex64))
    data = load_kspace(buf.getvalue(), "scan.npy")
    assert (data.convention, data.layout) == (convention, layout)
    np.testing.assert_array_equal(data.mask, mask)
    np.testing.assert_allclose(data.y, _project_data(phantom, mask), atol=1e-6)
    assert any("Detected" in note for note in data.notes)


def test_explicit_convention_overrides_detection(phantom, mask):
    k = image_to_kspace(phantom, convention="corner") * mask
    data = prepare_kspace(k, convention="centred")  # deliberately wrong
    assert data.convention == "centred"
    # read with the wrong convention the image is shifted by half the field of view
    shifted = np.roll(phantom, (N // 2, N // 2), axis=(0, 1))
    np.testing.assert_allclose(data.y, _project_data(shifted, mask), atol=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_detection_on_noisy_undersampled_ellipses(seed):
    image = random_ellipses(N, seed)
    rng = np.random.default_rng(seed)
    m = make_mask("lines_random", N, 0.3, seed=seed)
    for convention in ("centred", "corner"):
        k = image_to_kspace(image, convention=convention)
        white = rng.standard_normal(k.shape) + 1j * rng.standard_normal(k.shape)
        noise = 0.02 * np.abs(k[m]).mean() * white
        assert prepare_kspace((k + noise) * m).convention == convention


def test_ambiguous_image_keeps_project_convention_with_a_note():
    # a flat image fills the field of view: no border to tell the conventions apart
    k = image_to_kspace(np.ones((N, N)), convention="corner")
    data = prepare_kspace(k)
    assert data.convention == "centred"
    assert any("could not be detected" in note for note in data.notes)


def test_bart_cfl_pair_from_path_and_bytes(tmp_path, phantom, mask):
    k = image_to_kspace(phantom) * mask  # BART's fft -u 3 is this project's transform
    _write_cfl(tmp_path / "ksp", k)
    from_path = load_kspace(tmp_path / "ksp.cfl")
    from_bytes = load_kspace(
        (tmp_path / "ksp.cfl").read_bytes(), "ksp.cfl", hdr=(tmp_path / "ksp.hdr").read_bytes()
    )
    for data in (from_path, from_bytes):
        assert data.convention == "centred" and data.layout == "centred"
        np.testing.assert_array_equal(data.mask, mask)
        np.testing.assert_allclose(data.y, _project_data(phantom, mask), atol=1e-6)


def test_bart_cfl_errors(tmp_path, phantom):
    _write_cfl(tmp_path / "k", image_to_kspace(phantom))
    cfl = (tmp_path / "k.cfl").read_bytes()
    with pytest.raises(ValueError, match="hdr"):
        load_kspace(cfl, "k.cfl")
    with pytest.raises(ValueError, match="need"):
        load_kspace(cfl[:-8], "k.cfl", hdr=(tmp_path / "k.hdr").read_bytes())
    with pytest.raises(ValueError, match="coils"):
        load_kspace(np.zeros(N * N * 2, "<c8").tobytes(), "k.cfl", hdr=f"# Dimensions\n{N} {N} 1 2\n")


@pytest.mark.slow
def test_fastmri_hdf5_slice_mask_and_crop(phantom):
    h5py = pytest.importorskip("h5py")
    rows, cols = 80, 72
    lines = make_mask("lines_random", N, 0.3, seed=1)[0]  # one row of a column mask
    stored_mask = _pad_about_dc(lines[None, :], (1, cols))[0]
    k = _pad_about_dc(image_to_kspace(phantom), (rows, cols)) * stored_mask[None, :]
    stack = np.stack([np.zeros_like(k), k, 2 * k]).astype(np.complex64)  # middle slice = 1
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_dataset("kspace", data=stack)
        f.create_dataset("mask", data=stored_mask.astype(np.float32))
    data = load_kspace(buf.getvalue(), "file1000001.h5")
    assert data.size == N and data.original_shape == (rows, cols)
    full_mask = np.broadcast_to(lines[None, :], (N, N))
    np.testing.assert_array_equal(data.mask, full_mask)
    np.testing.assert_allclose(data.y, _project_data(phantom, full_mask), atol=1e-6)
    twice = load_kspace(buf.getvalue(), "file1000001.h5", slice_index=2)
    np.testing.assert_allclose(twice.y, 2 * data.y, rtol=1e-6)
    with pytest.raises(ValueError, match="slice_index"):
        load_kspace(buf.getvalue(), "file1000001.h5", slice_index=3)


def test_npz_named_and_unnamed_arrays(phantom, mask):
    k = image_to_kspace(phantom) * mask
    named = io.BytesIO()
    np.savez(named, kspace=k, other=np.ones(3, complex), mask=mask)
    unnamed = io.BytesIO()
    np.savez(unnamed, data=k, meta=np.arange(4))
    for buf in (named, unnamed):
        data = load_kspace(buf.getvalue(), "scan.npz")
        np.testing.assert_allclose(data.y, _project_data(phantom, mask), atol=1e-12)
    ambiguous = io.BytesIO()
    np.savez(ambiguous, a=k, b=k)
    with pytest.raises(ValueError, match="cannot tell"):
        load_kspace(ambiguous.getvalue(), "scan.npz")


def test_kspace_crop_keeps_measured_samples_and_pad_marks_unmeasured(phantom):
    k = image_to_kspace(phantom)
    cropped = prepare_kspace(k, size=32)
    np.testing.assert_array_equal(cropped.kspace, k[16:48, 16:48])
    padded = prepare_kspace(k, size=128)
    assert padded.mask.sum() == N * N and padded.mask[32:96, 32:96].all()
    np.testing.assert_array_equal(padded.kspace[32:96, 32:96], k)


def test_image_resize_needs_full_sampling_and_crops_the_field_of_view(phantom, mask):
    big = np.zeros((128, 128))
    big[32:96, 32:96] = phantom
    for convention in ("centred", "corner"):
        data = prepare_kspace(image_to_kspace(big, convention=convention), size=N, resize="image")
        assert data.convention == convention
        np.testing.assert_allclose(data.zero_filled().real, phantom, atol=1e-10)
    with pytest.raises(ValueError, match="resize"):
        prepare_kspace(_pad_about_dc(image_to_kspace(phantom) * mask, (128, 128)), size=N, resize="image")


def test_normalise_scales_zero_filled_peak_to_one(phantom, mask):
    data = prepare_kspace(3.0 * image_to_kspace(phantom) * mask, normalise=True)
    assert np.abs(data.zero_filled()).max() == pytest.approx(1.0)
    plain = prepare_kspace(3.0 * image_to_kspace(phantom) * mask)
    np.testing.assert_allclose(data.y * data.scale, plain.y)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((N, N), complex), "all zero"),
        (np.ones((4, N, N), complex), "2-D"),
        (np.full((N, N), np.nan, complex), "finite"),
        (np.ones((4, 4), complex), "sides"),
    ],
)
def test_prepare_rejects_bad_arrays(bad, match):
    with pytest.raises(ValueError, match=match):
        prepare_kspace(bad)


def test_bad_options_are_named(phantom):
    k = image_to_kspace(phantom)
    with pytest.raises(ValueError, match="convention"):
        prepare_kspace(k, convention="bart")
    with pytest.raises(ValueError, match="size"):
        prepare_kspace(k, size=48)
    with pytest.raises(ValueError, match="filename"):
        load_kspace(b"123", "scan.mat")
    with pytest.raises(ValueError, match="mask"):
        prepare_kspace(k, mask=np.ones(5))


@pytest.mark.slow
def test_firenet_on_files_matches_the_project_operator(tmp_path, phantom, mask):
    """FIRENET from a BART file and from fftshift(fft2(x)) data: the same error as from A x."""
    W = Wavelet2D("haar", size=N)
    A = WaveletMeasurement(SubsampledFourier(mask), W)
    net = FIRENET(A, **fixed_schedule(N))

    def error(y):
        return relative_error(net(torch.from_numpy(np.asarray(y, np.complex128))), phantom)

    reference = error(_project_data(phantom, mask))
    _write_cfl(tmp_path / "bart", image_to_kspace(phantom) * mask)
    from_bart = load_kspace(tmp_path / "bart.cfl")
    corner = io.BytesIO()
    np.save(corner, np.fft.fft2(phantom, norm="ortho") * np.fft.ifftshift(mask))  # fft2(x), no shifts
    from_corner = load_kspace(corner.getvalue(), "unshifted.npy")
    assert from_corner.convention == "corner" and from_corner.layout == "uncentred"
    assert reference < 0.25
    for data in (from_bart, from_corner):
        np.testing.assert_array_equal(data.mask, mask)
        assert error(data.y) == pytest.approx(reference, abs=1e-5)
    # read with the wrong convention the data give a useless reconstruction
    wrong = prepare_kspace(image_to_kspace(phantom, convention="corner") * mask, convention="centred")
    assert error(wrong.y) > 0.9


@pytest.mark.slow
def test_kspace_made_by_bart_reconstructs_like_the_project_operator(phantom, mask):
    """tests/data/bart_shepp_logan_64 was made by BART v0.8.00 itself (fft -u 3, fmac; see
    tests/data/make_bart_kspace.py) from the same phantom and mask."""
    path = Path(__file__).parent / "data" / "bart_shepp_logan_64.cfl"
    data = load_kspace(path)
    assert (data.convention, data.layout) == ("centred", "centred")
    np.testing.assert_array_equal(data.mask, mask)
    y_project = _project_data(phantom, mask)
    # BART stores complex64: agreement to single precision
    assert np.abs(data.y - y_project).max() < 1e-6 * np.abs(y_project).max()
    A = WaveletMeasurement(SubsampledFourier(mask), Wavelet2D("haar", size=N))
    net = FIRENET(A, **fixed_schedule(N))
    errors = [
        relative_error(net(torch.from_numpy(y.astype(np.complex128))), phantom) for y in (data.y, y_project)
    ]
    assert errors[0] == pytest.approx(errors[1], abs=1e-5) and errors[1] < 0.25
