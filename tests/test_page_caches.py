"""The caches that make a revisited page fast give what the uncached computation gives:
encoded pictures (``explorer.image_bytes``) and problem digests (``explorer.compute``)."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import plotly.colors
import pytest
from PIL import Image

from explorer import compute, image_bytes
from explorer.memo import Memo, array_digest
from solver.problem import make_problem
from solver.sampling import make_mask


def _uncached_png(image: np.ndarray, value_range: tuple[float, float], scale: str) -> np.ndarray:
    """The RGB picture a palette PNG must show, computed independently of the module: the
    value's index among 256 colours of the plotly scale."""
    lo, hi = value_range
    index = np.round(np.clip((np.abs(image) - lo) / (hi - lo), 0, 1) * 255).astype(int)
    colours = np.array([plotly.colors.unlabel_rgb(c) for c in plotly.colors.sample_colorscale(
        image_bytes.colourscale(scale), list(np.linspace(0, 1, 256)))]).round()
    return colours[index]


def test_a_remembered_picture_is_the_picture_of_the_arrays_content_now():
    rng = np.random.default_rng(3)
    image = rng.random((24, 24))
    first = image_bytes.coloured_png(image, (0.1, 0.9), "viridis")
    assert image_bytes.coloured_png(image.copy(), (0.1, 0.9), "viridis") is first  # same content: kept
    decoded = np.asarray(Image.open(io.BytesIO(first)).convert("RGB"), float)
    np.testing.assert_array_equal(decoded, _uncached_png(image, (0.1, 0.9), "viridis"))
    # The key is the content, not the object: an array changed in place gets its new picture.
    image[:12] = 1.0 - image[:12]
    changed = np.asarray(Image.open(io.BytesIO(image_bytes.coloured_png(image, (0.1, 0.9), "viridis")))
                         .convert("RGB"), float)
    np.testing.assert_array_equal(changed, _uncached_png(image, (0.1, 0.9), "viridis"))
    # Another range, scale, format or dtype is another picture.
    assert image_bytes.coloured_png(image, (0.0, 1.0), "viridis") != image_bytes.coloured_png(image, (0.1, 0.9),
                                                                                             "viridis")
    assert image_bytes.coloured_png(image, (0.1, 0.9), "gray") != image_bytes.coloured_png(image, (0.1, 0.9),
                                                                                          "viridis")
    lossless = image_bytes.coloured_webp_lossless(image, (0.1, 0.9), "viridis")
    assert lossless[8:12] == b"WEBP"
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(lossless)).convert("RGB"), float),
                                  _uncached_png(image, (0.1, 0.9), "viridis"))


@pytest.mark.parametrize("scale", plotly.colors.named_colorscales())
def test_every_named_colour_scale_draws_plotlys_colours(scale):
    # a ramp through all 256 levels: each pixel is the plotly scale sampled at its level
    ramp = (np.arange(256, dtype=float) / 255).reshape(16, 16)
    decoded = np.asarray(Image.open(io.BytesIO(image_bytes.coloured_png(ramp, (0.0, 1.0), scale))).convert("RGB"))
    np.testing.assert_array_equal(decoded, _uncached_png(ramp, (0.0, 1.0), scale))


@pytest.mark.parametrize("scale", ["viridis", "magma", "cividis", "inferno", "gray", "rdbu"])
def test_a_png_in_another_colour_scale_is_the_file_encoded_in_it(scale):
    # every scale but the base one is the base PNG with its palette swapped: byte for byte
    # the file Pillow writes for those indices and that scale's colours
    image = np.random.default_rng(5).random((40, 40)) * 1.4 - 0.2
    index = np.round(np.clip((image - 0.1) / 0.8, 0, 1) * 255).astype(np.uint8)
    palette = [int(v) for c in plotly.colors.sample_colorscale(
        image_bytes.colourscale(scale), list(np.linspace(0, 1, 256))) for v in plotly.colors.unlabel_rgb(c)]
    direct = Image.fromarray(index, mode="P")
    direct.putpalette(palette)
    buffer = io.BytesIO()
    direct.save(buffer, "PNG", compress_level=image_bytes.PNG_LEVEL)
    image_bytes.coloured_png(image, (0.1, 0.9), "gray")  # the base file first, as a page draws it
    assert image_bytes.coloured_png(image, (0.1, 0.9), scale) == buffer.getvalue()
    assert image_bytes.coloured_png(image.copy(), (0.1, 0.9), scale) == buffer.getvalue()  # from the memory


@pytest.mark.parametrize("encode", [image_bytes.coloured_png, image_bytes.coloured_jpeg])
def test_a_picture_drawn_narrower_is_the_mean_of_the_pixels_it_covers(encode):
    # 40 x 60 drawn 30 wide: 20 x 30 pixels, each the mean of a 2 x 2 block
    image = np.random.default_rng(6).random((40, 60))
    picture = Image.open(io.BytesIO(encode(image, (0.0, 1.0), "gray", width=30)))
    assert picture.size == (30, 20)
    blocks = image.reshape(20, 2, 30, 2).mean(axis=(1, 3))
    shown = np.asarray(picture.convert("RGB"), float)
    difference = np.abs(shown - _uncached_png(blocks, (0.0, 1.0), "gray"))
    if encode is image_bytes.coloured_png:
        assert difference.max() == 0
    else:  # lossy: JPEG's error on noise at quality 90
        assert difference.mean() < 8  # (a pixel of each block instead of the mean: about 50)
    # as wide as asked or narrower: drawn at its own size
    assert Image.open(io.BytesIO(encode(image, (0.0, 1.0), "gray", width=60))).size == (60, 40)


@pytest.mark.parametrize("width", [0, -3, 2.5, True, "150"])
def test_a_width_that_is_not_a_number_of_pixels_is_refused(width):
    for encode in (image_bytes.coloured_png, image_bytes.coloured_jpeg):
        with pytest.raises(ValueError, match="width must be a positive number of pixels"):
            encode(np.zeros((4, 4)), (0.0, 1.0), "gray", width=width)


def test_a_picture_drawn_at_its_display_width_is_sent_as_it_is():
    # st.image(width=w) shrinks (decodes and encodes again) only pictures wider than w
    from streamlit.elements.lib.image_utils import _ensure_image_size_and_format
    from streamlit.elements.lib.layout_utils import LayoutConfig

    image = np.random.default_rng(8).random((256, 256))
    for encode, kind in ((image_bytes.coloured_png, "PNG"), (image_bytes.coloured_jpeg, "JPEG")):
        data = encode(image, (0.0, 1.0), "gray", width=150)
        assert _ensure_image_size_and_format(data, LayoutConfig(width=150), kind) is data
        full = encode(image, (0.0, 1.0), "gray")
        assert _ensure_image_size_and_format(full, LayoutConfig(width=150), kind) is not full


def test_a_memory_keeps_the_most_recently_used_values():
    memo = Memo(3)
    for k in range(5):
        memo.get_or_make(("k", k), lambda k=k: k)
    assert len(memo) == 3
    assert memo.get_or_make(("k", 2), lambda: "made again") == 2  # kept: not made again
    memo.get_or_make(("k", 5), lambda: 5)  # full: the least recently used (3) goes
    assert memo.get_or_make(("k", 3), lambda: "made again") == "made again"
    assert memo.get_or_make(("k", 2), lambda: "made again") == 2


def test_an_arrays_digest_is_its_values_dtype_and_shape():
    values = np.arange(12, dtype=np.float64)
    assert array_digest(values) == array_digest(values.copy())
    assert array_digest(values[::2]) == array_digest(values[::2].copy())  # strided views: the values
    assert array_digest(values) != array_digest(values.reshape(3, 4))
    assert array_digest(values) != array_digest(values.view(np.int64))
    changed = values.copy()
    changed[7] += 1e-12
    assert array_digest(values) != array_digest(changed)


def _content_digest(problem) -> str:
    h = hashlib.blake2b(digest_size=16)
    for array in (problem.y.numpy(), problem.truth, problem.mask):
        h.update(np.ascontiguousarray(array).view(np.uint8).ravel())
    h.update(problem.transform.encode())
    return h.hexdigest()


def test_a_problems_digest_is_its_content_and_is_computed_once(monkeypatch):
    rng = np.random.default_rng(0)
    truth = rng.random((32, 32))
    mask = make_mask("uniform", 32, 0.4, seed=1)
    problem = make_problem(truth, mask)
    twin = make_problem(truth.copy(), mask.copy())
    other = make_problem(truth, mask, noise=0.05, noise_seed=2)
    assert compute.digest(problem) == _content_digest(problem) == compute.digest(twin)
    assert compute.digest(other) == _content_digest(other) != compute.digest(problem)
    # Asked again, the digest is not computed again (no hashing).
    expected = _content_digest(problem)
    calls = []
    blake2b = hashlib.blake2b
    monkeypatch.setattr(compute.hashlib, "blake2b", lambda *a, **k: calls.append(1) or blake2b(*a, **k))
    assert compute.digest(problem) == expected
    assert calls == []
    fresh = make_problem(truth, mask, noise=0.01, noise_seed=3)
    assert compute.digest(fresh) != expected and calls == [1]
    monkeypatch.undo()
    assert compute.digest(fresh) == _content_digest(fresh)
