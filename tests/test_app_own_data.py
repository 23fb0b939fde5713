"""Bringing one's own data to the page: mask files, measured k-space, FIRENET's advanced
settings, Walsh in the published order, the MR test image and the published presets.

Driven through ``AppTest`` at N = 128 with a shallow FIRENET (2 x 5 layers) set through
the URL. What the page computed is checked against the solver run directly: the page's
reconstructions are stored in ``explorer.compute.store()`` under the content of the
problem and the FIRENET settings, so finding one under a problem built here by the solver
shows that the page built exactly that problem, and its image is compared with a direct
``solver.trace.run``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from explorer import compute
from explorer import specs as K
from explorer.presets import PRESETS
from explorer.settings import FirenetSettings
from explorer.state import memory
from explorer.text import WORD_JOINER
from solver.kspace import image_to_kspace, load_kspace
from solver.mask_files import walsh_mask_to_uncentred
from solver.methods import build
from solver.metrics import relative_error
from solver.phantoms import make_test_image
from solver.problem import make_problem, problem_from_kspace
from solver.sampling import make_mask
from solver.sparsity_weights import sparsity_level_weights
from solver.trace import run
from solver.wavelets import Wavelet2D
from tests.page_switch import open_page

APP = str(Path(__file__).resolve().parents[1] / "app.py")
N = 128
SMALL = {"size": str(N), "schedule": "fixed", "n": "2", "p": "5", "perturbation": "none", "image": "shepp_logan", "image_seed": "0"}


def small_app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update({**SMALL, **query})
    return at


def texts(elements) -> str:
    # Messages from files are shown with markdown escaped: compare the plain text.
    return "\n".join(str(e.value) for e in elements).replace("\\", "").replace(WORD_JOINER, "")


def ok(at: AppTest) -> None:
    assert not at.exception, texts(at.exception)


def page_firenet(at: AppTest) -> FirenetSettings:
    """The FIRENET settings of the page (as the page's session state holds them)."""
    ss = at.session_state
    return FirenetSettings(**{(K.SPECS[k].param or k): ss[k] for k in K.FIRENET_KEYS})


def page_image(problem, fs: FirenetSettings, method: str = "firenet") -> np.ndarray:
    """The page's stored reconstruction of exactly ``problem`` (fails if the page built
    another problem or did not run)."""
    found = compute.cached_reconstruction(method, problem, fs)
    assert found is not None, "the page did not reconstruct this problem"
    return found.image


def direct_firenet(problem, fs: FirenetSettings, weights=None, keep_imaginary=False) -> np.ndarray:
    A = problem.measurement(fs.wavelet, fs.levels or None)
    net = build("firenet", A, lam=fs.lam, weights=weights, firenet=fs.network_options())
    return run(net, problem.y, keep_imaginary=keep_imaginary).image


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def phantom():
    return make_test_image("shepp_logan", N)[0]


@pytest.fixture(scope="module")
def mask():
    return make_mask("multilevel", N, 0.25, seed=3)


# --------------------------------------------------------------------------------------
# 1. Mask files
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_uploaded_mask_is_used_by_every_method_and_a_bad_one_changes_nothing(phantom):
    at = small_app(pattern="user", show="zero_filled,firenet,unet").run()
    ok(at)
    assert "no mask file has been uploaded yet" in texts(at.error)
    # The fastMRI/numpy habit: an uncentred (plain fft2 order) 0/255 PNG, radial lines.
    centred = make_mask("radial", N, 0.2, seed=0)
    open_page(at, "own_data")  # the uploaders are on the own-data page
    # The image's and the mask's uploaders state the files' own limits (MiB), not
    # Streamlit's 200 MB; k-space keeps it (a fastMRI file holds a whole volume).
    limits = {u.key: u.proto.max_upload_size_mb for u in at.file_uploader}
    assert limits == {"upload_file": 129, "mask_file": 16, "kspace_file": 200}
    at.file_uploader(key="mask_file").upload("radial.png", png(np.fft.ifftshift(centred).astype(np.uint8) * 255),
                                              "image/png").run()
    ok(at)
    assert memory(at.session_state).user_mask[0] == "radial.png"
    assert f"achieved rate {centred.mean():.1%}" in texts(at.caption)
    open_page(at, "reconstruction")
    ok(at)
    rate = [m.value for m in at.metric if m.label == "Achieved sampling rate"]
    assert rate == [f"{centred.mean():.1%}"]
    expected = make_problem(phantom, centred)  # the layout was detected and undone
    fs = page_firenet(at)
    for method in ("zero_filled", "firenet", "unet"):
        page_image(expected, fs, method)
    assert "U-Net:" in texts(at.warning)  # trained on another mask
    # A file that is not binary, with markdown in its name: refused, shown literally,
    # the radial mask stays.
    values = np.arange(N * N).reshape(N, N) % 3
    open_page(at, "own_data")
    at.file_uploader(key="mask_file").clear()
    at.file_uploader(key="mask_file").upload("[x](y)_*m*.npy", npy(values)).run()
    ok(at)
    from tests.test_text import commonmark_text

    errors = [commonmark_text(str(e.value)).replace(WORD_JOINER, "") for e in at.error]  # all escaped
    assert any("Mask file [x](y)_*m*.npy rejected" in e and "binary" in e for e in errors), errors
    assert memory(at.session_state).user_mask[0] == "radial.png"
    open_page(at, "reconstruction")
    ok(at)
    page_image(expected, fs)


# --------------------------------------------------------------------------------------
# 2. Measured k-space
# --------------------------------------------------------------------------------------
def cfl_pair(k: np.ndarray) -> list[tuple[str, bytes, str]]:
    """BART's writecfl: dims in the .hdr, complex64, first dimension fastest."""
    hdr = "# Dimensions\n" + " ".join(map(str, list(k.shape) + [1] * 14)) + "\n"
    cfl = np.asarray(k, dtype="<c8").ravel(order="F").tobytes()
    return [("scan.cfl", cfl, "application/octet-stream"), ("scan.hdr", hdr.encode(), "text/plain")]


@pytest.mark.slow
def test_bart_and_unshifted_kspace_reconstruct_to_the_same_image(phantom, mask):
    at = small_app(image="kspace", weights="uniform", show="zero_filled,firenet").run()
    ok(at)
    assert "Upload a measured k-space" in texts(at.info)
    # BART's convention (fft -u 3): the project's.
    bart = image_to_kspace(phantom) * mask
    open_page(at, "own_data")
    at.file_uploader(key="kspace_file").set_value(cfl_pair(bart)).run()
    ok(at)
    open_page(at, "reconstruction")
    labels = [m.label for m in at.metric]
    assert "PSNR" not in labels and "Data residual" in labels and "Certified gap" in labels
    assert "no ground truth" in texts(at.info)
    # Measured data bring their own samples: no sampling controls, and no error panel.
    assert not [w for w in (*at.slider, *at.selectbox, *at.number_input)
                if w.key in ("rate", "pattern", "mask_seed")]
    open_page(at, "convergence")  # the convergence chart: no error panel without a truth
    charts = [e.proto.spec for e in at.get("plotly_chart")]
    assert any("Certified gap against seconds" in c for c in charts)
    assert not any("Relative error to the truth" in c for c in charts)
    open_page(at, "reconstruction")
    fs = page_firenet(at)
    expected = problem_from_kspace(load_kspace(cfl_pair(bart)[0][1], "scan.cfl", hdr=cfl_pair(bart)[1][1]))
    from_bart = page_image(expected, fs)
    # Measured data keep their imaginary part (the image may have a phase).
    np.testing.assert_allclose(from_bart, direct_firenet(expected, fs, keep_imaginary=True), atol=1e-5)
    # Unshifted: plain fft2(x), image origin at pixel 0 and DC at (0, 0).
    unshifted = np.fft.fft2(phantom, norm="ortho") * np.fft.ifftshift(mask)
    open_page(at, "own_data")
    at.file_uploader(key="kspace_file").set_value(("plain.npy", npy(unshifted.astype(np.complex64)),
                                                   "application/octet-stream")).run()
    ok(at)
    assert "convention: corner, layout: uncentred" in texts(at.caption)
    open_page(at, "reconstruction")
    assert "convention: corner, layout: uncentred" in texts(at.caption)
    shown = [m.value for m in at.metric if m.label == "Data residual"]
    plain = page_image(problem_from_kspace(load_kspace(npy(unshifted.astype(np.complex64)), "plain.npy")), fs)
    np.testing.assert_allclose(plain, from_bart, atol=1e-4)
    # Both are the phantom that made the data (25 % sampling, 10 layers: a rough image).
    assert relative_error(from_bart, phantom) < 0.35
    # Declaring the wrong convention gives the image split into the four corners.
    open_page(at, "own_data")
    at.selectbox(key="kspace_convention").set_value("centred").run()
    open_page(at, "reconstruction")
    ok(at)
    wrong = [m.value for m in at.metric if m.label == "Data residual"]
    assert wrong  # the page still runs, data-consistent in its own convention
    wrong_problem = problem_from_kspace(load_kspace(npy(unshifted.astype(np.complex64)), "plain.npy",
                                                    convention="centred"))
    assert relative_error(page_image(wrong_problem, fs), phantom) > 0.8
    assert shown


@pytest.mark.slow
def test_fastmri_hdf5_and_a_bad_kspace_file(phantom):
    h5py = pytest.importorskip("h5py")
    rows, cols = 160, 144
    lines = make_mask("lines_random", N, 0.3, seed=1)[0]
    stored = np.zeros(cols)
    stored[(cols - N) // 2:(cols - N) // 2 + N] = lines
    padded = np.zeros((rows, cols), complex)
    r0, c0 = (rows - N) // 2, (cols - N) // 2
    padded[r0:r0 + N, c0:c0 + N] = image_to_kspace(phantom)
    k = padded * stored[None, :]
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_dataset("kspace", data=np.stack([0 * k, k, 2 * k]).astype(np.complex64))
        f.create_dataset("mask", data=stored.astype(np.float32))
    data = buffer.getvalue()
    at = open_page(small_app(image="kspace", weights="uniform", show="zero_filled,firenet"), "own_data")
    at.file_uploader(key="kspace_file").set_value(("file1000001.h5", data, "application/x-hdf5")).run()
    ok(at)
    assert "stored 160 x 144, used 128 x 128" in texts(at.caption)
    open_page(at, "reconstruction")
    expected = problem_from_kspace(load_kspace(data, "file1000001.h5", size=N))
    np.testing.assert_array_equal(expected.mask, np.broadcast_to(lines[None, :], (N, N)))
    image = page_image(expected, page_firenet(at))
    assert relative_error(image, phantom) < 0.5
    rate = [m.value for m in at.metric if m.label == "Achieved sampling rate"]
    assert rate == [f"{lines.mean():.1%}"]
    # A .hdr without its .cfl: refused, the HDF5 stays.
    open_page(at, "own_data")
    at.file_uploader(key="kspace_file").set_value(("only.hdr", b"# Dimensions\n128 128 1\n", "text/plain")).run()
    ok(at)
    assert "k-space file only.hdr rejected" in texts(at.error) and "needs both" in texts(at.error)
    assert memory(at.session_state).user_kspace[0][0] == "file1000001.h5"
    open_page(at, "reconstruction")
    # Measured data have no truth to insert a detail into: refused with a message.
    at.selectbox(key="perturbation").set_value("detail").run()
    ok(at)
    assert "needs a ground truth" in texts(at.error)


# --------------------------------------------------------------------------------------
# 3. Advanced FIRENET, 4. Walsh in the published order
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_advanced_firenet_settings_reach_the_solver(phantom):
    at = small_app(tau="0.5", sigma="2", delta="1e-6", eps0="5", levels="4", weights="authors",
                   threshold="0.2", show="zero_filled,firenet").run()
    ok(at)
    fs = page_firenet(at)
    options = fs.network_options()
    assert (options["tau"], options["sigma"], options["delta"], options["eps0"]) == (0.5, 2.0, 1e-6, 5.0)
    problem = make_problem(phantom, make_mask("multilevel", N, 0.25))
    weights = sparsity_level_weights(phantom, Wavelet2D("haar", levels=4, size=N), threshold=0.2)
    np.testing.assert_allclose(page_image(problem, fs), direct_firenet(problem, fs, weights), atol=1e-5)
    # A typed list: valid, then a bad entry (reported, the previous list kept).
    open_page(at, "convergence")  # FIRENET's settings are beside its convergence chart
    at.radio(key="weights").set_value("typed").run()
    at.text_input(key="sparsities").input("4, 12, 48, 50").run()
    ok(at)
    assert memory(at.session_state).last_good_sparsities == "4, 12, 48, 50"
    at.text_input(key="sparsities").input("4, x").run()
    ok(at)
    assert "Typed sparsities not used" in texts(at.error) and "'x'" in texts(at.error)
    assert "previous list (4, 12, 48, 50) is kept" in texts(at.error)
    # Steps that would not converge: reported and sigma lowered to 1 / tau.
    at.number_input(key="sigma").set_value(3.0).run()
    ok(at)
    assert "τσ = 1.5 > 1" in texts(at.error)


@pytest.mark.slow
def test_walsh_in_the_published_order(phantom):
    at = small_app(transform="walsh", show="zero_filled,firenet").run()
    ok(at)
    fs = page_firenet(at)
    mask = make_mask("multilevel", N, 0.25)
    centred = page_image(make_problem(phantom, mask, transform="walsh"), fs)
    at = small_app(transform="walsh_uncentred", show="zero_filled,firenet").run()
    ok(at)
    # The same sequencies sampled, y in another order: the same reconstruction.
    uncentred = page_image(make_problem(phantom, mask, transform="walsh_uncentred"), fs)
    np.testing.assert_allclose(uncentred, centred, atol=1e-5)
    # A mask file in the published order (sequency s at index s) is converted.
    at.selectbox(key="pattern").set_value("user").run()
    published = walsh_mask_to_uncentred(make_mask("das", N, 0.2))
    open_page(at, "own_data")
    at.file_uploader(key="mask_file").upload("das_walsh.npy", npy(published)).run()
    ok(at)
    open_page(at, "reconstruction")
    page_image(make_problem(phantom, make_mask("das", N, 0.2), transform="walsh_uncentred"), fs)


# --------------------------------------------------------------------------------------
# 6. Complex images
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_complex_image_keeps_its_phase_end_to_end(phantom):
    from solver.complex_images import complex_test_image
    from solver.metrics import psnr

    at = small_app(phase="1", weights="uniform", show="zero_filled,firenet,unet").run()
    ok(at)
    assert "trained on real images" in texts(at.info)
    truth = complex_test_image(phantom, seed=0)
    problem = make_problem(truth, make_mask("multilevel", N, 0.25))
    fs = page_firenet(at)
    image = page_image(problem, fs)
    assert np.iscomplexobj(image)
    np.testing.assert_allclose(image, direct_firenet(problem, fs, keep_imaginary=True), atol=1e-5)
    error = relative_error(image, truth, part="complex")
    # The real part alone is further from the complex truth (measured: 0.44 against 0.34
    # after 10 layers): nothing was dropped.
    assert relative_error(image.real, truth, part="complex") > 1.2 * error
    shown = [m.value for m in at.metric if m.label == "Relative error"]
    assert f"{error:.4f}" in shown
    assert f"{psnr(image, truth, part='complex'):.2f} dB" in [m.value for m in at.metric if m.label == "PSNR"]
    zero_filled = page_image(problem, fs, "zero_filled")
    assert np.iscomplexobj(zero_filled)
    np.testing.assert_allclose(zero_filled, problem.operator.adjoint(problem.y).numpy(), atol=1e-6)


# --------------------------------------------------------------------------------------
# 5. The MR slice, 7. the published presets
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_mri_slice_with_its_licence():
    at = small_app(image="mni_t1", show="firenet").run()
    ok(at)
    assert "PSNR" in [m.label for m in at.metric]
    assert "McGill University" in texts(at.caption)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in PRESETS if n.startswith("published_")])
def test_published_presets_run(name):
    at = small_app(show="firenet").run()
    memory(at.session_state).preset_overrides = {"size": N, "n": 2, "p": 5, "max_layers": 20, "compare": False,
                                                   "perturbation": "none",
                                                   "show": ("zero_filled", "firenet")}
    at.button(key=f"preset_{name}").click().run()
    ok(at)
    assert not [e for e in at.error], texts(at.error)
    preset = PRESETS[name]
    for key in ("weights", "tau", "levels", "pattern"):
        if key in preset.values:
            assert at.session_state[key] == preset.values[key]
