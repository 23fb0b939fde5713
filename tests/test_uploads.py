"""Uploaded image files: decoded, validated and costed before anything is kept."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from solver import uploads
from solver.uploads import decode_upload, fit_to_size, load_user_image


def _png(array, mode=None):
    buffer = io.BytesIO()
    image = Image.fromarray(array)
    if mode is not None:
        image = image.convert(mode)
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _png_declaring(width, height):
    """A tiny PNG whose header claims width x height (valid CRC): a decompression bomb."""
    data = bytearray(_png(np.zeros((8, 8), dtype=np.uint8)))
    # Signature (8) + IHDR length (4); then type 'IHDR' + 13 data bytes + CRC.
    chunk = bytearray(data[12:29])
    chunk[4:12] = struct.pack(">II", width, height)
    data[12:29] = chunk
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(chunk)) & 0xFFFFFFFF)
    return bytes(data)


def test_grayscale_png_of_the_right_size_loads_unchanged_up_to_scaling():
    array = (np.arange(64 * 64).reshape(64, 64) % 251).astype(np.uint8)
    image, warnings = load_user_image(_png(array), "scan.png", 64)
    assert warnings == []
    np.testing.assert_allclose(image, array / 250.0, atol=1e-15)


def test_sixteen_bit_png_keeps_all_sixteen_bits_with_a_warning():
    array = np.zeros((32, 32), dtype=np.uint16)
    array[0, 1] = 1000  # not a multiple of 256: lost if reduced to 8 bits
    array[0, 2] = 65535
    image, warnings = load_user_image(_png(array), "deep.png", 32)
    assert image[0, 1] == pytest.approx(1000 / 65535, abs=1e-12)
    assert any("16-bit" in w for w in warnings)


def test_rgba_png_is_converted_to_grayscale_with_warnings():
    rgba = np.zeros((32, 32, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[:, 16:, 1] = 100
    rgba[..., 3] = 128
    image, warnings = load_user_image(_png(rgba), "colour.png", 32)
    # Luma 0.299 R + 0.587 G: 59.8 on the left, 118.5 on the right -> 0 and 1.
    assert np.all(image[:, :16] == 0.0) and np.all(image[:, 16:] == 1.0)
    assert any("grayscale" in w for w in warnings)
    assert any("alpha" in w for w in warnings)


def test_non_square_images_are_centre_cropped_then_resized_with_warnings():
    array = np.zeros((40, 60), dtype=np.uint8)
    array[:, 10:50] = np.arange(40, dtype=np.uint8)[:, None] * 5
    image, warnings = load_user_image(_png(array), "wide.png", 40)
    np.testing.assert_allclose(image, array[:, 10:50] / 195.0, atol=1e-15)
    assert any("centre-cropped to 40 x 40" in w for w in warnings)
    image, warnings = load_user_image(_png(array), "wide.png", 32)
    assert image.shape == (32, 32) and image.min() == 0.0 and image.max() == 1.0
    assert any("resized from 40 x 40 to 32 x 32" in w for w in warnings)


def test_jpeg_is_accepted():
    buffer = io.BytesIO()
    array = np.tile(np.linspace(0, 255, 48).astype(np.uint8), (48, 1))
    Image.fromarray(array).save(buffer, format="JPEG", quality=95)
    image, _ = load_user_image(buffer.getvalue(), "photo.jpg", 48)
    assert np.abs(image - array / 255.0).max() < 0.05


def test_an_8000_by_8000_png_is_refused_before_decoding():
    with pytest.raises(ValueError, match="8000 x 8000 pixels"):
        load_user_image(_png_declaring(8000, 8000), "bomb.png", 256)


def test_the_pixel_limit_is_adjustable():
    with pytest.raises(ValueError, match="more than the 100 allowed"):
        load_user_image(_png(np.eye(20, dtype=np.uint8)), "small.png", 16, max_pixels=100)
    with pytest.raises(ValueError, match="more than the 100 allowed"):
        load_user_image(_npy(np.eye(20)), "small.npy", 16, max_pixels=100)


@pytest.mark.parametrize(
    "data, match",
    [
        (b"", "empty"),
        (b"GIF89a not supported here", "not a PNG, JPEG or NPY image"),
        (b"hello, I am a text file", "not a PNG, JPEG or NPY image"),
        (_png(np.eye(8, dtype=np.uint8))[:40], "corrupt or truncated"),
        (_npy(np.full((8, 8), np.nan)), "NaN"),
        (_npy(np.array([[1.0, np.inf], [0.0, 1.0]])), "infinite"),
        (_npy(np.eye(8) + 1j), "complex"),
        (_npy(np.zeros((4, 8, 8))), "2-D"),
        (_npy(np.array([["a", "b"], ["c", "d"]])), "real numeric"),
        (_npy(np.array([[1, None], [2, 3]], dtype=object), allow_pickle=True), "pickle"),
        (_npy(np.eye(8))[:-10], "not a readable NPY"),
        (_npy(np.full((8, 8), 3.0)), "constant"),
        (_png(np.full((8, 8), 7, dtype=np.uint8)), "cannot scale it to"),
    ],
    ids=[
        "empty",
        "gif",
        "text",
        "truncated-png",
        "npy-nan",
        "npy-inf",
        "npy-complex",
        "npy-3d",
        "npy-strings",
        "npy-object-pickle",
        "npy-truncated",
        "npy-constant",
        "png-constant",
    ],
)
def test_bad_uploads_raise_a_specific_value_error(data, match):
    with pytest.raises(ValueError, match=match):
        load_user_image(data, "upload", 32)


def test_a_corrupted_png_chunk_is_refused():
    data = bytearray(_png(np.eye(16, dtype=np.uint8) * 255))
    data[-20] ^= 0xFF  # inside the image data: CRC no longer matches
    with pytest.raises(ValueError, match="could not be decoded"):
        load_user_image(bytes(data), "broken.png", 16)


def test_npy_integer_and_boolean_arrays_are_scaled():
    image, warnings = load_user_image(_npy(np.eye(16, dtype=bool)), "mask.npy", 16)
    np.testing.assert_array_equal(image, np.eye(16))
    assert warnings == []
    ramp = np.arange(256, dtype=np.int16).reshape(16, 16) - 100
    image, _ = load_user_image(_npy(ramp), "i.npy", 16)
    assert image[0, 0] == 0.0 and image[-1, -1] == 1.0


def test_upload_arguments_are_validated():
    with pytest.raises(ValueError, match="size"):
        load_user_image(_npy(np.eye(16)), "a.npy", 2)
    with pytest.raises(ValueError, match="max_pixels"):
        load_user_image(_npy(np.eye(16)), "a.npy", 16, max_pixels=0)
    with pytest.raises(ValueError, match="data must be bytes"):
        load_user_image("not bytes", "a.npy", 16)


def _npy_header_only(shape, dtype="<f8", data=b""):
    """An NPY file whose header declares ``shape`` but which holds only ``data``."""
    header = repr({"descr": dtype, "fortran_order": False, "shape": tuple(shape)}).encode()
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + data


def test_resizing_gives_scikit_image_s_numbers():
    # The anti-aliasing filter runs in place here; the result must be scikit-image's.
    from skimage.transform import resize

    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, (300, 300), dtype=np.uint8)
    image, notes = load_user_image(_png(array), "noise.png", 64)
    expected = resize(array / 255.0, (64, 64), order=1, mode="reflect", anti_aliasing=True,
                      preserve_range=True)
    expected = (expected - expected.min()) / (expected.max() - expected.min())
    np.testing.assert_allclose(image, expected, atol=1e-12)
    assert notes == ["resized from 300 x 300 to 64 x 64"]


def test_the_byte_limit_is_checked_first():
    with pytest.raises(ValueError, match="more than the 100 allowed"):
        decode_upload(b"\x89PNG" + b"\0" * 200, filename="big.png", max_bytes=100)
    assert uploads.MAX_UPLOAD_BYTES >= 8 * uploads.MAX_UPLOAD_PIXELS  # a float64 NPY fits


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (_npy_header_only((100_000, 100_000)), "100000 x 100000 pixels"),
        (_npy_header_only((64, 64), data=b"\0" * 100), "truncated"),
        (_npy_header_only((0, 5)), "empty array"),
        (_npy_header_only((8, 8), dtype="<c16"), "complex"),
        (_npy_header_only((8, 8), dtype="|O"), "pickle"),
        (b"\x93NUMPY\x01\x00\xff\xff" + b"{" * 70_000, "not a readable NPY"),
        (b"\x93NUMPY\x09\x00" + _npy_header_only((8, 8))[8:], "unknown format version"),
    ],
    ids=["declares-10-gigapixels", "truncated-data", "empty", "complex", "object", "huge-header",
         "unknown-version"],
)
def test_npy_headers_are_checked_before_any_data_is_read(data, match):
    with pytest.raises(ValueError, match=match):
        decode_upload(data, filename="bomb.npy")


def test_npy_byte_order_and_fortran_order_are_honoured():
    ramp = np.arange(64, dtype=">f8").reshape(8, 8) ** 2
    image, _ = load_user_image(_npy(np.asfortranarray(ramp)), "f.npy", 8)
    np.testing.assert_allclose(image, ramp / ramp.max(), atol=1e-15)


def test_decoding_keeps_the_square_and_nothing_of_the_file():
    array = np.arange(40 * 60, dtype=np.float64).reshape(40, 60)
    data = _npy(array)
    image, notes = decode_upload(data, filename="wide.npy")
    expected = array[:, 10:50]
    np.testing.assert_allclose(image, (expected - expected.min()) / np.ptp(expected), atol=1e-15)
    assert notes == ["'wide.npy' is 60 x 40; centre-cropped to 40 x 40"]
    assert image.flags.owndata and image.flags.writeable
    assert not np.shares_memory(image, np.frombuffer(data, dtype=np.uint8))


def test_a_kept_decoded_image_gives_the_same_test_image_as_the_file():
    rng = np.random.default_rng(1)
    data = _png(rng.integers(0, 256, (96, 96, 3), dtype=np.uint8))
    kept, notes = decode_upload(data, filename="c.png")
    assert kept.shape == (96, 96) and any("grayscale" in n for n in notes)
    for size in (32, 96, 128):
        direct, _ = load_user_image(data, "c.png", size)
        fitted, _ = fit_to_size(kept, size)
        np.testing.assert_allclose(fitted, direct, atol=1e-12)
    small, notes = decode_upload(data, filename="c.png", max_side=48)
    assert small.shape == (48, 48) and notes[-1] == "shrunk from 96 x 96 to 48 x 48"
    assert small.min() == 0.0 and small.max() == 1.0


def test_fit_to_size_validates_its_image():
    for bad in (np.zeros((4, 5)), np.full((8, 8), np.nan), np.zeros((2, 8, 8)), np.ones((8, 8))):
        with pytest.raises(ValueError):
            fit_to_size(bad, 8)
    with pytest.raises(ValueError, match="size"):
        fit_to_size(np.eye(8), 4)


@pytest.mark.parametrize("kind", [pytest.param("rgba-png", marks=pytest.mark.slow), "float64-npy"])
def test_decoding_holds_about_one_float64_copy_of_the_image(kind):
    # numpy's allocations are traced by tracemalloc: the peak while decoding a 1024 x 1024
    # image to 256 x 256 stays under 1.6 float64 copies of the image (8 MiB each); decoding
    # the whole RGBA image to float64 at once would need 4, a copy of the file 1 more.
    import tracemalloc

    rng = np.random.default_rng(2)
    side = 1024
    if kind == "rgba-png":
        data = _png(rng.integers(0, 256, (side, side, 4), dtype=np.uint8))
    else:
        data = _npy(rng.random((side, side)))
    load_user_image(_png(np.eye(32, dtype=np.uint8)), "warm-up.png", 16)  # imports
    tracemalloc.start()
    try:
        image, _ = load_user_image(data, kind, 256)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert image.shape == (256, 256)
    print(f"{kind}: traced peak {peak / 2**20:.1f} MiB")
    assert peak < 1.6 * side * side * 8, f"peak {peak / 2**20:.1f} MiB"
