"""Wavelet transform: equals PyWavelets' periodized coefficients, is unitary and differentiable."""

import numpy as np
import pytest
import pywt
import torch

from solver.wavelets import Wavelet2D, level_weights

NAMES = ["haar", "db2", "db4", "sym4", "coif2"]


def pywt_packed(x, name, levels):
    """PyWavelets oracle: packed periodized coefficients of each (N, N) slice."""
    flat = x.reshape(-1, *x.shape[-2:])
    out = [pywt.coeffs_to_array(pywt.wavedec2(a, name, mode="periodization", level=levels))[0] for a in flat]
    return np.stack(out).reshape(x.shape)


def level_cases():
    for name in NAMES:
        for size in (32, 64):
            top = Wavelet2D.max_levels(name, size)
            for levels in sorted({1, 2, top}):
                if levels <= top:
                    yield name, size, levels


CASES = list(level_cases())


@pytest.mark.parametrize("name,size,levels", CASES)
def test_matches_pywavelets_and_inverts(name, size, levels):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, size, size)) + 1j * rng.standard_normal((2, size, size))
    W = Wavelet2D(name, levels, size)
    c = W.forward(torch.from_numpy(x))
    assert c.dtype == torch.complex128 and c.shape == x.shape
    ref = pywt_packed(x.real, name, levels) + 1j * pywt_packed(x.imag, name, levels)
    np.testing.assert_allclose(c.numpy(), ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(W.inverse(c).numpy(), x, rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-4), (torch.float64, 1e-10)])
def test_real_dtypes_preserved(name, dtype, tol):
    size = 32
    W = Wavelet2D(name, None, size)
    x = torch.rand(3, size, size, dtype=torch.float64)
    c = W.forward(x.to(dtype))
    assert c.dtype == dtype
    np.testing.assert_allclose(c.double().numpy(), pywt_packed(x.numpy(), name, W.levels), rtol=0, atol=tol)
    assert torch.allclose(W.inverse(c).double(), x, rtol=0, atol=tol)


@pytest.mark.parametrize("name", ["haar", "db4"])
def test_unitary_norm_and_adjoint(name):
    size = 64
    W = Wavelet2D(name, None, size)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(size, size, dtype=torch.complex128, generator=g)
    c = torch.randn(size, size, dtype=torch.complex128, generator=g)
    assert torch.linalg.vector_norm(W.forward(x)).item() == pytest.approx(torch.linalg.vector_norm(x).item(), rel=1e-12)
    lhs = torch.sum(W.forward(x).conj() * c)
    rhs = torch.sum(x.conj() * W.inverse(c))
    assert abs(lhs - rhs) <= 1e-10 * abs(lhs)


def test_haar_large_and_complex64():
    # the hot path at a FIRENET size: fast butterflies plus the dense tail
    size = 256
    W = Wavelet2D("haar", None, size)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((size, size)) + 1j * rng.standard_normal((size, size))
    ref = pywt_packed(x.real, "haar", 8) + 1j * pywt_packed(x.imag, "haar", 8)
    c = W.forward(torch.from_numpy(x).to(torch.complex64))
    assert c.dtype == torch.complex64
    np.testing.assert_allclose(c.numpy(), ref, rtol=0, atol=1e-4)
    np.testing.assert_allclose(W.inverse(c).numpy(), x, rtol=0, atol=1e-4)


@pytest.mark.parametrize("name,size,levels", [("haar", 8, None), ("haar", 32, 3), ("db2", 8, None)])
def test_gradcheck(name, size, levels):
    # haar at 32 runs the reshape butterflies and the dense tail, at 8 the dense tail only
    W = Wavelet2D(name, levels, size)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(size, size, dtype=torch.complex128, generator=g, requires_grad=True)
    torch.autograd.gradcheck(W.forward, (x,), fast_mode=True)
    torch.autograd.gradcheck(W.inverse, (x,), fast_mode=True)
    r = torch.randn(2, size, size, dtype=torch.float64, generator=g, requires_grad=True)
    torch.autograd.gradcheck(lambda t: W.inverse(W.forward(t) * 2.0), (r,), fast_mode=True)


def test_level_map_layout():
    W = Wavelet2D("haar", 3, 32)
    lm = W.level_map
    assert lm.shape == (32, 32) and lm.dtype.kind == "i"
    assert (lm[:4, :4] == 0).all()
    assert (lm[:8, :8][lm[:8, :8] != 0] == 1).all() and (lm[4:8, :8] == 1).all()
    assert (lm[16:, :] == 3).all() and (lm[:16, 16:] == 3).all()
    assert np.bincount(lm.ravel()).tolist() == [16, 48, 192, 768]
    # pywt's packed slices agree with the map
    _, slices = pywt.coeffs_to_array(pywt.wavedec2(np.zeros((32, 32)), "haar", mode="periodization", level=3))
    for lvl in (1, 2, 3):
        for s in slices[lvl].values():
            assert (lm[s] == lvl).all()


def test_level_weights():
    W = Wavelet2D("haar", 2, 16)
    c = np.zeros((16, 16))
    c[0, 0] = 1.0           # approximation: 1 significant
    c[0, 4:6] = 0.5         # level 1: 2 significant
    c[8:12, 8] = 0.3        # level 2: 4 significant
    c[15, 15] = 1e-4        # below the threshold
    w = level_weights(c, W, threshold=1e-2)
    assert w.shape == (16, 16) and w.dtype == torch.float64
    s = 7
    assert w[0, 0].item() == pytest.approx(np.sqrt(s / 1))
    assert w[0, 4].item() == pytest.approx(np.sqrt(s / 2))
    assert w[15, 15].item() == pytest.approx(np.sqrt(s / 4))
    # a level without significant coefficients gets s_j = 1, a finite weight
    c2 = np.zeros((16, 16))
    c2[0, 0] = 1.0
    c2[12, 12] = 1.0
    w2 = level_weights(c2, W)
    assert torch.isfinite(w2).all() and w2[0, 4].item() == pytest.approx(np.sqrt(2))
    assert torch.equal(level_weights(np.zeros((16, 16)), W), torch.ones(16, 16, dtype=torch.float64))
    # image domain: same as transforming first
    img = torch.rand(16, 16, dtype=torch.float32)
    wi = level_weights(img, W, domain="image")
    assert wi.dtype == torch.float32
    assert torch.equal(wi, level_weights(W.forward(img), W))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(name="nope", size=32), "wavelet"),
        (dict(name="bior2.2", size=32), "wavelet"),
        (dict(name="dmey", size=32), "wavelet"),
        (dict(name=3, size=32), "wavelet"),
        (dict(name="haar", levels=6, size=32), "levels"),
        (dict(name="db4", levels=3, size=32), "levels"),
        (dict(name="haar", levels=0, size=32), "levels"),
        (dict(name="haar", levels=1.5, size=32), "levels"),
        (dict(name="haar", size=48), "size"),
        (dict(name="haar"), "size"),
        (dict(name="coif5", size=16), "size"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Wavelet2D(**kwargs)


def test_bad_inputs():
    W = Wavelet2D("haar", None, 32)
    with pytest.raises(ValueError, match="image"):
        W.forward(torch.zeros(16, 16))
    with pytest.raises(ValueError, match="coeffs"):
        W.inverse(torch.zeros(32, 32, dtype=torch.int32))
    with pytest.raises(ValueError, match="threshold"):
        level_weights(np.ones((32, 32)), W, threshold=1.5)
    with pytest.raises(ValueError, match="domain"):
        level_weights(np.ones((32, 32)), W, domain="pixels")
    with pytest.raises(ValueError, match="wavelet"):
        level_weights(np.ones((32, 32)), "haar")
    with pytest.raises(ValueError, match="wavelet"):
        Wavelet2D.max_levels("bior2.2", 32)


# The Haar fast path as it was before its views became as_strided calls and its dense
# tail a transposed product: the regression oracle for the present one.
def _previous_haar_analysis(x, fast_levels, dense):
    batch, n = x.shape[:-2], x.shape[-1]
    out = torch.empty_like(x)
    cur = x
    for lvl in range(fast_levels):
        h = n // 2
        v0, v1 = cur.reshape(*batch, h, 2, h, 2).unbind(-1)
        p0, p1 = torch.add(v0, v1).mul_(0.5).unbind(-2)
        q0, q1 = torch.sub(v0, v1).mul_(0.5).unbind(-2)
        last = lvl == fast_levels - 1 and dense is None
        nxt = out[..., :h, :h] if last else torch.empty(*batch, h, h, dtype=x.dtype)
        torch.add(p0, p1, out=nxt)
        torch.add(q0, q1, out=out[..., :h, h:n])
        torch.sub(p0, p1, out=out[..., h:n, :h])
        torch.sub(q0, q1, out=out[..., h:n, h:n])
        cur, n = nxt, h
    if dense is not None:
        flat = cur.reshape(*batch, n * n)
        if flat.is_complex():
            res = torch.view_as_complex(torch.matmul(dense, torch.view_as_real(flat)))
        else:
            res = torch.matmul(flat, dense.T)
        out[..., :n, :n] = res.reshape(*batch, n, n)
    return out


def _previous_haar_synthesis(c, fast_levels, dense):
    batch, n = c.shape[:-2], c.shape[-1] >> fast_levels
    if dense is not None:
        flat = c[..., :n, :n].reshape(*batch, n * n)
        if flat.is_complex():
            res = torch.view_as_complex(torch.matmul(dense.T, torch.view_as_real(flat)))
        else:
            res = torch.matmul(flat, dense)
        cur = res.reshape(*batch, n, n)
    else:
        cur = c[..., :n, :n]
    for _ in range(fast_levels):
        h, n = n, 2 * n
        ad, da, dd = c[..., :h, h:n], c[..., h:n, :h], c[..., h:n, h:n]
        p0, p1, q0, q1 = cur + da, cur - da, ad + dd, ad - dd
        new = torch.empty(*batch, h, 2, h, 2, dtype=c.dtype)
        torch.add(p0, q0, out=new[..., :, 0, :, 0])
        torch.sub(p0, q0, out=new[..., :, 0, :, 1])
        torch.add(p1, q1, out=new[..., :, 1, :, 0])
        torch.sub(p1, q1, out=new[..., :, 1, :, 1])
        cur = new.mul_(0.5).view(*batch, n, n)
    return cur


HAAR_LAYOUTS = [(2, 1), (8, 3), (32, 1), (32, 2), (32, 5), (64, 6), (128, 4), (256, 8)]


@pytest.mark.parametrize("size,levels", HAAR_LAYOUTS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.complex64, torch.complex128])
def test_haar_equals_previous_fast_path(size, levels, dtype):
    # the butterflies are the same additions in the same order, so they agree bit for bit;
    # the dense tail sums its products in another order: one rounding of the real dtype
    W = Wavelet2D("haar", levels, size)
    g = torch.Generator().manual_seed(size + levels)
    x = torch.randn(3, size, size, dtype=dtype, generator=g)
    dense = W._haar_dense(dtype)
    tol = 1e-6 if dtype in (torch.float32, torch.complex64) else 1e-12
    new_c, old_c = W.forward(x), _previous_haar_analysis(x, W._haar_fast, dense)
    new_x, old_x = W.inverse(x), _previous_haar_synthesis(x, W._haar_fast, dense)
    assert new_c.dtype == dtype and new_x.dtype == dtype
    scale = float(x.abs().max())
    assert float((new_c - old_c).abs().max()) <= tol * scale
    assert float((new_x - old_x).abs().max()) <= tol * scale
    if dense is None:
        assert torch.equal(new_c, old_c) and torch.equal(new_x, old_x)
    # and the fast path stays PyWavelets' transform
    xd = x.to(torch.complex128).numpy()
    ref = pywt_packed(xd.real, "haar", levels) + 1j * pywt_packed(xd.imag, "haar", levels)
    np.testing.assert_allclose(new_c.to(torch.complex128).numpy(), ref, rtol=0, atol=100 * tol * scale)


def test_haar_batch_views_and_offsets():
    # leading dims, a non-contiguous input and a view with a storage offset
    W = Wavelet2D("haar", None, 64)
    g = torch.Generator().manual_seed(5)
    base = torch.randn(2, 3, 2, 64, 64, dtype=torch.complex128, generator=g)
    x = base[:, :, 1]  # storage offset, non-contiguous
    c = W.forward(x)
    assert c.shape == x.shape
    for i in range(2):
        for j in range(3):
            assert torch.equal(c[i, j], W.forward(x[i, j].clone()))
    assert torch.allclose(W.inverse(c), x, rtol=0, atol=1e-12)
    shifted = torch.randn(64 * 64 + 7, dtype=torch.complex128, generator=g)[7:].view(64, 64)
    assert torch.equal(W.forward(shifted), W.forward(shifted.clone()))
    assert torch.equal(W.inverse(shifted), W.inverse(shifted.clone()))


def test_haar_work_buffers_never_leak_into_outputs_or_across_threads():
    """The fast path keeps work buffers per thread: an output is never overwritten by a
    later call (of either transform, other shapes and dtypes in between, more of them than
    a thread keeps), and threads transforming at once get their own results."""
    from concurrent.futures import ThreadPoolExecutor

    g = torch.Generator().manual_seed(11)
    inputs = [(Wavelet2D("haar", levels, size), torch.randn(batch, size, size, dtype=dtype, generator=g))
              for size, levels, batch, dtype in ((64, 6, 1, torch.complex64), (64, 3, 2, torch.complex64),
                                                 (32, 5, 1, torch.float64), (128, 7, 3, torch.complex128),
                                                 (64, 6, 1, torch.float32), (16, 4, 1, torch.complex64))]
    expected = [(_previous_haar_analysis(x, W._haar_fast, W._haar_dense(x.dtype)),
                 _previous_haar_synthesis(x, W._haar_fast, W._haar_dense(x.dtype))) for W, x in inputs]
    kept, negated = [], []
    for W, x in inputs:  # each transform twice in a row (the same work buffers), then the next ones
        kept.append((W.forward(x), W.inverse(x)))
        negated.append((W.forward(-x), W.inverse(-x)))
    for (c, r), (c_neg, r_neg), (old_c, old_r) in zip(kept, negated, expected):
        tol = 1e-5 if c.dtype in (torch.float32, torch.complex64) else 1e-12
        assert float((c - old_c).abs().max()) <= tol and float((r - old_r).abs().max()) <= tol
        assert torch.equal(c_neg, -c) and torch.equal(r_neg, -r)

    def transform_many(index):
        W, x = inputs[index % len(inputs)]
        return [(W.forward(x), W.inverse(x)) for _ in range(20)][-1]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(transform_many, range(12)))
    for index, (c, r) in enumerate(results):
        c0, r0 = kept[index % len(inputs)]
        assert torch.equal(c, c0) and torch.equal(r, r0)


# ----------------------------------------------------------------------------------
# The compiled Haar kernels (numba) and the torch path they replace on the CPU
# ----------------------------------------------------------------------------------

COMPILED_LAYOUTS = [(2, 1), (4, 2), (8, 3), (16, 4), (32, 1), (32, 2), (32, 5), (64, 6), (128, 4), (128, 7),
                    (256, 8), (512, 9)]
DTYPES = [torch.float32, torch.float64, torch.complex64, torch.complex128]


@pytest.fixture
def torch_path(monkeypatch):
    """Every Haar transform on the torch path, as where numba is not installed."""
    import solver.wavelets as wavelets

    monkeypatch.setattr(wavelets, "_COMPILED", None)


def test_the_compiled_kernels_are_in_use_here():
    import solver.wavelets as wavelets

    assert wavelets._compiled_haar() is not None, "numba is a requirement: the compiled path must load"


@pytest.mark.parametrize("size,levels", COMPILED_LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_compiled_haar_is_the_butterflies_bit_for_bit_and_the_torch_path_within_one_rounding(
        size, levels, dtype, monkeypatch):
    import solver.wavelets as wavelets

    W = Wavelet2D("haar", levels, size)
    g = torch.Generator().manual_seed(7 * size + levels)
    x = torch.randn(2, 3, size, size, dtype=dtype, generator=g)
    compiled_c, compiled_x = W.forward(x), W.inverse(x)
    assert compiled_c.dtype == dtype and compiled_c.shape == x.shape and compiled_x.shape == x.shape
    # every level a butterfly with its factor 1/2: the same additions in the same order
    assert torch.equal(compiled_c, _previous_haar_analysis(x, levels, None))
    assert torch.equal(compiled_x, _previous_haar_synthesis(x, levels, None))
    monkeypatch.setattr(wavelets, "_COMPILED", None)
    torch_c, torch_x = W.forward(x), W.inverse(x)
    if W._haar_fast == levels:
        assert torch.equal(compiled_c, torch_c) and torch.equal(compiled_x, torch_x)
    else:
        # the torch path's dense tail sums the small levels in another order: one rounding
        # of the real dtype (relative to the largest entry), the bound of the tail itself
        tol = 1e-6 if dtype in (torch.float32, torch.complex64) else 1e-12
        scale = float(x.abs().max())
        assert float((compiled_c - torch_c).abs().max()) <= tol * scale
        assert float((compiled_x - torch_x).abs().max()) <= tol * scale
    xd = x.to(torch.complex128).numpy()
    ref = pywt_packed(xd.real, "haar", levels) + 1j * pywt_packed(xd.imag, "haar", levels)
    tol = 1e-5 if dtype in (torch.float32, torch.complex64) else 1e-12
    np.testing.assert_allclose(compiled_c.to(torch.complex128).numpy(), ref, rtol=0, atol=tol * float(x.abs().max()))


def test_compiled_haar_takes_conjugate_negative_and_offset_views():
    W = Wavelet2D("haar", None, 32)
    g = torch.Generator().manual_seed(8)
    base = torch.randn(3, 32, 32, dtype=torch.complex64, generator=g)
    for view in (base.conj(), -base.conj(), base[1], base.transpose(-1, -2)):
        assert torch.equal(W.forward(view), W.forward(view.resolve_conj().resolve_neg().contiguous()))
        assert torch.equal(W.inverse(view), W.inverse(view.resolve_conj().resolve_neg().contiguous()))
    assert torch.equal(W.forward(base[:0]), base[:0])  # an empty batch


@pytest.mark.parametrize("size,levels", [(8, None), (32, 3), (32, None)])
def test_gradcheck_on_the_torch_path(size, levels, torch_path):
    W = Wavelet2D("haar", levels, size)
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2, size, size, dtype=torch.complex128, generator=g, requires_grad=True)
    torch.autograd.gradcheck(W.forward, (x,), fast_mode=True)
    torch.autograd.gradcheck(W.inverse, (x,), fast_mode=True)


def test_compiled_haar_gradient_is_the_inverse_transform():
    # the gradient of <W x, g> (real part) with respect to x is W^-1 g: orthogonal W
    W = Wavelet2D("haar", None, 64)
    gen = torch.Generator().manual_seed(9)
    x = torch.randn(2, 64, 64, dtype=torch.complex64, generator=gen, requires_grad=True)
    g = torch.randn(2, 64, 64, dtype=torch.complex64, generator=gen)
    (torch.view_as_real(W.forward(x)) * torch.view_as_real(g)).sum().backward()
    assert torch.equal(x.grad, W.inverse(g))
    assert torch.equal(torch.autograd.grad(W.inverse(x).abs().sum(), x)[0],
                       W.forward(torch.sgn(W.inverse(x.detach()))))


def test_tensors_off_the_cpu_take_the_torch_path(monkeypatch):
    import solver.wavelets as wavelets

    def refuse(*args):
        raise AssertionError("the compiled kernels ran on a tensor off the CPU")

    monkeypatch.setattr(wavelets, "_haar_compiled", refuse)
    W = Wavelet2D("haar", None, 32).to("meta")
    x = torch.empty(2, 32, 32, dtype=torch.complex64, device="meta")
    assert W.forward(x).device.type == "meta" and W.inverse(x).shape == x.shape


def test_without_numba_the_transform_is_the_torch_path():
    import subprocess
    import sys

    code = ("import sys; sys.modules['numba'] = None\n"
            "import numpy as np, pywt, torch\n"
            "import solver.wavelets as wavelets\n"
            "W = wavelets.Wavelet2D('haar', None, 64)\n"
            "x = torch.randn(2, 64, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(1))\n"
            "c = W.forward(x)\n"
            "ref = np.stack([pywt.coeffs_to_array(pywt.wavedec2(a, 'haar', mode='periodization'))[0] "
            "for a in x.numpy()])\n"
            "print(wavelets._compiled_haar() is None, float(abs(c.numpy() - ref).max()) < 1e-12, "
            "float((W.inverse(c) - x).abs().max()) < 1e-12, 'solver.compiled_haar' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=str(__import__("pathlib").Path(__file__).parents[1]))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "False"]
