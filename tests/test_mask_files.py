"""Masks from PNG/NPY files, and the Walsh transform in plain (uncentred) sequency order."""

import io

import numpy as np
import pytest
import scipy.linalg
import torch
from PIL import Image

from solver.firenet import FIRENET
from solver.legacy import fixed_schedule
from solver.mask_files import (
    load_mask,
    prepare_mask,
    walsh_mask_to_centred,
    walsh_mask_to_uncentred,
)
from solver.metrics import relative_error
from solver.operators import SubsampledFourier, SubsampledWalsh, WaveletMeasurement
from solver.phantoms import shepp_logan
from solver.sampling import make_mask
from solver.wavelets import Wavelet2D

N = 64


def _png(array, mode=None):
    buf = io.BytesIO()
    Image.fromarray(array, mode).save(buf, format="PNG")
    return buf.getvalue()


def _npy(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


@pytest.fixture(scope="module")
def mask():
    return make_mask("variable_density", N, 0.3, seed=5)


@pytest.mark.parametrize(
    "encode",
    [
        lambda m: _png((m * 255).astype(np.uint8)),
        lambda m: _png(m.astype(np.uint8) * 1),  # 0/1 in an 8-bit PNG
        lambda m: _png((m * 65535).astype(np.uint16)),
        lambda m: _npy(m),
        lambda m: _npy(m.astype(np.int64)),
        lambda m: _npy(m.astype(np.float32)),
        lambda m: _npy((m * 255).astype(np.uint8)),
    ],
    ids=["png255", "png01", "png16", "npy-bool", "npy-int", "npy-float", "npy-255"],
)
@pytest.mark.parametrize("layout", ["centred", "uncentred"])
def test_formats_and_layouts_give_the_centred_mask(mask, encode, layout):
    stored = mask if layout == "centred" else np.fft.ifftshift(mask)
    loaded = load_mask(encode(stored), "mask.png", size=N)
    np.testing.assert_array_equal(loaded.mask, mask)
    assert loaded.was_centred == (layout == "centred")
    assert loaded.rate == pytest.approx(mask.mean())


def test_published_style_palette_png_is_read(mask):
    img = Image.fromarray((mask * 255).astype(np.uint8)).convert("P")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    np.testing.assert_array_equal(load_mask(buf.getvalue(), "spf2_DAS_N_64_srate_30_db1.png").mask, mask)


@pytest.mark.parametrize("lines", ["columns", "rows"])
def test_line_mask_expands_to_whole_lines(lines):
    line = make_mask("lines_random", N, 0.25, seed=1)[0]  # 1-D over the columns
    loaded = load_mask(_npy(line), "lines.npy", lines=lines)
    expected = np.broadcast_to(line[None, :], (N, N))
    np.testing.assert_array_equal(loaded.mask, expected if lines == "columns" else expected.T)
    uncentred = load_mask(_npy(np.fft.ifftshift(line)), "lines.npy")  # fastMRI order
    np.testing.assert_array_equal(uncentred.mask, expected)
    png_row = load_mask(_png((line[None, :] * 255).astype(np.uint8)), "lines.png")  # a 1 x N PNG
    np.testing.assert_array_equal(png_row.mask, expected)


def test_explicit_layout_overrides_detection(mask):
    as_uncentred = prepare_mask(mask, centred="uncentred")
    np.testing.assert_array_equal(as_uncentred.mask, np.fft.fftshift(mask))


def test_uniform_mask_is_ambiguous_and_kept_centred():
    m = make_mask("uniform", N, 0.5, seed=0)
    loaded = prepare_mask(m)
    np.testing.assert_array_equal(loaded.mask, m)
    assert any("Could not tell" in note for note in loaded.notes)


def test_exact_downsampling_only(mask):
    big = np.kron(mask, np.ones((2, 2), dtype=bool))
    np.testing.assert_array_equal(prepare_mask(big, size=N).mask, mask)
    big[0, 1] = ~big[0, 1]  # one block no longer constant
    with pytest.raises(ValueError, match="exact"):
        prepare_mask(big, size=N)
    with pytest.raises(ValueError, match="side 64"):
        prepare_mask(mask, size=128)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.ones((2, N, N), bool), "2-D"),
        (np.ones((N, N // 2), bool), "square"),
        (np.zeros((N, N), bool), "empty"),
        (np.full((N, N), 0.5), "binary"),
        (np.arange(N * N).reshape(N, N) % 3, "binary"),
        (np.ones((48, 48), bool), "power of two"),
        (np.ones((2048, 2048), bool), "too big"),
    ],
)
def test_validation_messages(bad, match):
    with pytest.raises(ValueError, match=match):
        prepare_mask(bad)


def test_file_errors():
    with pytest.raises(ValueError, match="png"):
        load_mask(b"hello", "mask.txt")
    with pytest.raises(ValueError, match="PNG"):
        load_mask(b"\x89PNG\r\n\x1a\nbroken", "mask.png")
    with pytest.raises(ValueError, match="centred"):
        prepare_mask(np.ones((N, N), bool), centred="yes")
    with pytest.raises(ValueError, match="size"):
        prepare_mask(np.ones((N, N), bool), size=50)


@pytest.mark.slow
def test_uploaded_mask_reconstructs_like_the_generated_one(mask):
    image = shepp_logan(N)
    loaded = load_mask(_png((np.fft.ifftshift(mask) * 255).astype(np.uint8)), "mask.png", size=N)
    errors = []
    for m in (mask, loaded.mask):
        A = WaveletMeasurement(SubsampledFourier(m), Wavelet2D("haar", size=N))
        y = SubsampledFourier(m).forward(torch.from_numpy(image))
        errors.append(relative_error(FIRENET(A, **fixed_schedule(N))(y), image))
    assert errors[0] == errors[1] and errors[0] < 0.3


# ----------------------------------------------------------------------- Walsh ordering


def _sequency_walsh_matrix(n):
    """Rows of the Hadamard matrix sorted by their number of sign changes (sequency)."""
    h = scipy.linalg.hadamard(n)
    changes = (np.diff(h, axis=1) != 0).sum(1)
    return h[np.argsort(changes)] / np.sqrt(n)


@pytest.mark.parametrize("n", [32, 64])
def test_uncentred_walsh_full_transform_is_the_sequency_matrix(n):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    op = SubsampledWalsh(np.ones((n, n), bool), ordering="uncentred")
    w = _sequency_walsh_matrix(n)
    np.testing.assert_allclose(op.full(torch.from_numpy(x)).numpy(), w @ x @ w.T, atol=1e-12)


def test_uncentred_walsh_adjoint_and_rows_orthonormal(mask):
    uncentred = walsh_mask_to_uncentred(mask)
    op = SubsampledWalsh(uncentred, ordering="uncentred")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, N, dtype=torch.complex128, generator=g)
    y = torch.randn(op.num_measurements, dtype=torch.complex128, generator=g)
    lhs = torch.vdot(op.forward(x).flatten(), y)
    rhs = torch.vdot(x.flatten(), op.adjoint(y).flatten())
    assert abs(lhs - rhs) < 1e-10 * abs(lhs)
    torch.testing.assert_close(op.forward(op.adjoint(y)), y)  # A A* = I


def test_walsh_orderings_measure_the_same_coefficients(mask):
    uncentred = walsh_mask_to_uncentred(mask)
    np.testing.assert_array_equal(walsh_mask_to_centred(uncentred), mask)
    assert uncentred[0, 0] and uncentred.sum() == mask.sum()  # DC moves to (0, 0)
    x = torch.from_numpy(shepp_logan(N))
    centred_op = SubsampledWalsh(mask)
    uncentred_op = SubsampledWalsh(uncentred, ordering="uncentred")
    np.testing.assert_allclose(
        np.sort_complex(centred_op.forward(x).numpy()),
        np.sort_complex(uncentred_op.forward(x).numpy()),
        atol=1e-12,
    )
    # centred position N/2 + d holds sequency 2d (d >= 0) or 2|d| - 1 (d < 0)
    d = np.arange(N) - N // 2
    seq = np.where(d >= 0, 2 * d, -2 * d - 1)
    full_u = uncentred_op.full(x).numpy()
    np.testing.assert_allclose(full_u[np.ix_(seq, seq)], centred_op.full(x).numpy(), atol=1e-12)


def test_walsh_ordering_is_validated(mask):
    with pytest.raises(ValueError, match="ordering"):
        SubsampledWalsh(mask, ordering="natural")
