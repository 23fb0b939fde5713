"""A user's image file (PNG, JPEG or NPY bytes) decoded into a validated test image.

Everything a file states about itself is checked before it costs memory: the byte count
first, then the pixel count from the header (Pillow reads only the header when it opens
a file; an NPY header gives shape and dtype), and only then the pixels are decoded.
Decoding keeps one float64 copy of the (square) image and no more: colour is converted
to grayscale in bands of rows, the NPY data are read in place from the caller's bytes,
and the anti-aliasing filter of a shrink runs in place.

Public surface
--------------
decode_upload(data, *, filename, max_side, max_bytes, max_pixels)
    Bytes -> square float64 image in [0, 1] (at most ``max_side`` on a side) and notes.
    Keep this, not the bytes: :func:`fit_to_size` makes any N x N from it.
fit_to_size(image, size)
    A square image in [0, 1] -> N x N in [0, 1], and a note if it was resized.
load_user_image(data, filename, size, max_pixels)
    Both in one step, from the file's full resolution.
MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS
    The default limits.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from solver.validation import check_int

__all__ = [
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_PIXELS",
    "decode_upload",
    "fit_to_size",
    "load_user_image",
]

#: Largest image accepted, in pixels (a 4096 x 4096 image).
MAX_UPLOAD_PIXELS = 4096 * 4096
#: Largest file accepted, in bytes: a largest image at 8 bytes a pixel (float64 NPY, or
#: 16-bit RGBA PNG stored without compression) plus 1 MiB for headers and chunks.
MAX_UPLOAD_BYTES = 8 * MAX_UPLOAD_PIXELS + 2**20

_MIN_SIZE, _MAX_SIZE = 8, 4096
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_NPY_MAGIC = b"\x93NUMPY"
# ITU-R 601-2 luma, the weights Pillow's own "L" conversion uses.
_LUMA = np.array([0.299, 0.587, 0.114])
# Grayscale conversion works on bands of rows whose float64 RGB copy (24 bytes a pixel,
# made by the matrix product) is at most 2 MiB.
_BAND_BYTES = 2**21
_MAX_NPY_HEADER = 10_000


class _UploadError(ValueError):
    """A refusal with a message for the user (kept apart from decoders' own ValueErrors)."""


def decode_upload(
    data: bytes,
    *,
    filename: str = "upload",
    max_side: int | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_UPLOAD_PIXELS,
) -> tuple[np.ndarray, list[str]]:
    """Validate and decode an uploaded PNG, JPEG or NPY file into a square image.

    Parameters
    ----------
    data : bytes
        The file's content. The format is recognised from its first bytes, not from the
        file name. Nothing keeps a reference to it: the caller can drop it afterwards.
    filename : str, keyword-only
        Used in messages only.
    max_side : int, optional, keyword-only
        If the square is larger, it is shrunk to ``max_side`` (anti-aliased), so what
        the caller keeps is small (1024 x 1024 float64 is 8 MiB). Default: no shrink.
    max_bytes : int, keyword-only
        Largest accepted file, checked first.
    max_pixels : int, keyword-only
        Largest accepted image (rows x cols), checked from the header before decoding,
        so a small file that declares a huge image (a decompression bomb) costs nothing.

    Returns
    -------
    image : np.ndarray, shape (S, S), float64, values in [0, 1] (min 0, max 1)
    notes : list of str
        What was changed on the way, for display: colour to grayscale, alpha dropped,
        16-bit data, extra frames, centre crop to a square, shrink.

    Raises
    ------
    ValueError
        With a message for the user: empty or too large a file; not a PNG, JPEG or NPY
        image; too many pixels; undecodable or corrupt file; NPY that needs pickle, is
        complex, not 2-D, not numeric, or holds NaN / Inf; constant image (it cannot be
        scaled to [0, 1]); or an invalid argument.

    Notes
    -----
    16-bit PNG data keep their 16 bits; colour, palette and grayscale-with-alpha images
    are converted with ITU-R 601 luma weights, with a colour note only when the channels
    differ (when colour is actually lost). Non-square images are centre-cropped to the
    largest square; values are mapped linearly onto [0, 1].
    """
    max_bytes = check_int("max_bytes", max_bytes, low=1)
    max_pixels = check_int("max_pixels", max_pixels, low=1)
    if max_side is not None:
        max_side = check_int("max_side", max_side, low=_MIN_SIZE, high=_MAX_SIZE)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"data must be bytes, got {type(data).__name__}")
    filename = str(filename)
    if len(data) == 0:
        raise _UploadError(f"{filename!r} is empty (0 bytes)")
    if len(data) > max_bytes:
        raise _UploadError(
            f"{filename!r} is {len(data):,} bytes, more than the {max_bytes:,} allowed; "
            "refusing to read it"
        )
    notes: list[str] = []
    head = bytes(data[:8])
    if head.startswith(_PNG_MAGIC) or head.startswith(_JPEG_MAGIC):
        pixels = _decode_raster(data, filename, max_pixels, notes)
    elif head.startswith(_NPY_MAGIC):
        pixels = _decode_npy(data, filename, max_pixels, notes)
    else:
        raise _UploadError(f"{filename!r} is not a PNG, JPEG or NPY image")
    _scale01_in_place(pixels, repr(filename))
    if max_side is not None and pixels.shape[0] > max_side:
        side = pixels.shape[0]
        pixels = _resize_in_place(pixels, max_side)
        _scale01_in_place(pixels, repr(filename))
        notes.append(f"shrunk from {side} x {side} to {max_side} x {max_side}")
    return pixels, notes


def fit_to_size(image: np.ndarray, size: int) -> tuple[np.ndarray, list[str]]:
    """A square image in [0, 1] resized to ``size`` x ``size``, mapped onto [0, 1] again.

    Parameters
    ----------
    image : np.ndarray, shape (S, S), real
        E.g. from :func:`decode_upload`. Not changed.
    size : int
        Output side N, in [8, 4096].

    Returns
    -------
    image : np.ndarray, shape (N, N), float64, values in [0, 1] (min 0, max 1)
    notes : list of str
        ``["resized from S x S to N x N"]``, or empty when S = N.

    Raises
    ------
    ValueError
        If ``image`` is not a finite, non-constant square 2-D real array, or ``size`` is
        out of range.
    """
    size = check_int("size", size, low=_MIN_SIZE, high=_MAX_SIZE)
    array = np.asarray(image)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.dtype.kind not in "biuf":
        raise ValueError(
            f"image must be a square 2-D real array, got shape {array.shape} {array.dtype}"
        )
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError("image must be finite")
    pixels = array.astype(np.float64)  # a copy: the filter below runs in place
    notes = []
    side = pixels.shape[0]
    if side != size:
        pixels = _resize_in_place(pixels, size)
        notes.append(f"resized from {side} x {side} to {size} x {size}")
    _scale01_in_place(pixels, "image")
    return pixels, notes


def load_user_image(
    data: bytes,
    filename: str,
    size: int,
    max_pixels: int = MAX_UPLOAD_PIXELS,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> tuple[np.ndarray, list[str]]:
    """Validate and convert an uploaded PNG, JPEG or NPY file into an N x N test image.

    :func:`decode_upload` at the file's full resolution, then :func:`fit_to_size`: one
    resize from the file to N x N.

    Parameters
    ----------
    data : bytes
        The file's content (see :func:`decode_upload`).
    filename : str
        Used in messages only.
    size : int
        Output side N, in [8, 4096].
    max_pixels : int
        Largest accepted image (rows x cols), checked from the header before decoding.
    max_bytes : int, keyword-only
        Largest accepted file.

    Returns
    -------
    image : np.ndarray, shape (N, N), float64, values in [0, 1] (min 0, max 1)
    warnings : list of str
        What was changed on the way (see :func:`decode_upload`), and the resize.

    Raises
    ------
    ValueError
        As :func:`decode_upload`, or if ``size`` is out of range.

    Notes
    -----
    Processing: decode, centre-crop to the largest square, map onto [0, 1], resize to
    N x N (bilinear, Gaussian anti-aliasing when shrinking), map onto [0, 1] again
    (a resize is an average, so this only undoes rounding and the range a shrink loses).
    """
    size = check_int("size", size, low=_MIN_SIZE, high=_MAX_SIZE)
    pixels, notes = decode_upload(data, filename=filename, max_bytes=max_bytes,
                                  max_pixels=max_pixels)
    side = pixels.shape[0]
    if side != size:
        pixels = _resize_in_place(pixels, size)
        _scale01_in_place(pixels, repr(str(filename)))
        notes.append(f"resized from {side} x {side} to {size} x {size}")
    return pixels, notes


# --------------------------------------------------------------------------- decoding


def _too_many_pixels(filename: str, rows: int, cols: int, max_pixels: int) -> _UploadError:
    return _UploadError(
        f"{filename!r} is {cols} x {rows} pixels ({rows * cols:,}), more than the "
        f"{max_pixels:,} allowed; refusing to decode it (downscale it first)"
    )


def _square_box(rows: int, cols: int) -> tuple[int, int, int]:
    """Top row, left column and side of the centred largest square."""
    side = min(rows, cols)
    return (rows - side) // 2, (cols - side) // 2, side


def _crop_note(filename: str, rows: int, cols: int, notes: list[str]) -> None:
    if rows != cols:
        notes.append(f"{filename!r} is {cols} x {rows}; centre-cropped to "
                     f"{min(rows, cols)} x {min(rows, cols)}")


def _decode_raster(data: Any, filename: str, max_pixels: int, notes: list[str]) -> np.ndarray:
    """PNG / JPEG bytes -> the centred square, float64 grayscale on its original scale."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as probe:
            cols, rows = probe.size
            if rows * cols > max_pixels:
                raise _too_many_pixels(filename, rows, cols, max_pixels)
            # verify() checks the structure (e.g. PNG chunk CRCs) without decoding;
            # it leaves the object unusable, so the image is opened again below.
            probe.verify()
        with Image.open(io.BytesIO(data)) as im:
            if getattr(im, "n_frames", 1) > 1:
                notes.append(f"{filename!r} has {im.n_frames} frames; using the first")
            im.load()
            pixels = _pixels_from_pillow(im, filename, notes)
    except _UploadError:
        raise
    except Image.DecompressionBombError:
        raise _UploadError(
            f"{filename!r} declares an enormous image (a decompression bomb); refused"
        ) from None
    except Image.UnidentifiedImageError:
        raise _UploadError(
            f"{filename!r} could not be decoded as an image: it starts like a PNG or JPEG "
            "but is corrupt or truncated"
        ) from None
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, ...
        raise _UploadError(
            f"{filename!r} could not be decoded as an image (corrupt or truncated?): {exc}"
        ) from None
    _crop_note(filename, rows, cols, notes)
    return pixels


def _pixels_from_pillow(im: Any, filename: str, notes: list[str]) -> np.ndarray:
    """A loaded Pillow image -> its centred square as float64 2-D, original value scale."""
    cols, rows = im.size
    top, left, side = _square_box(rows, cols)
    box = (left, top, left + side, top + side)
    square = im if side == rows == cols else im.crop(box)
    mode = square.mode
    if mode.startswith("I;16"):
        # np.asarray gives uint16 here: all 16 bits are kept (no reduction to 8 bits).
        notes.append(
            f"{filename!r} is a 16-bit grayscale image; its full 16-bit range is kept and "
            "scaled to [0, 1]"
        )
        return np.asarray(square).astype(np.float64)
    if mode in ("L", "I", "F", "1"):
        return np.asarray(square).astype(np.float64)
    if mode == "LA":
        notes.append(f"{filename!r} has an alpha channel; it was ignored")
        return np.asarray(square.getchannel("L")).astype(np.float64)
    has_alpha = "A" in mode or "transparency" in square.info
    rgb_mode = "RGBA" if has_alpha else "RGB"
    if mode != rgb_mode:  # palette, CMYK, YCbCr, ...: one converted copy (8-bit)
        square = square.convert(rgb_mode)
    # Grayscale in bands of rows: the float64 temporaries stay a few MiB, whatever the
    # image size (a whole 4096 x 4096 RGBA image in float64 is 512 MiB).
    out = np.empty((side, side))
    coloured = False
    rows = max(1, _BAND_BYTES // (24 * side))
    for start in range(0, side, rows):
        stop = min(side, start + rows)
        band = np.asarray(square.crop((0, start, side, stop)))[..., :3]
        coloured = coloured or not (band == band[..., :1]).all()
        np.matmul(band, _LUMA, out=out[start:stop])
    if coloured:
        notes.append(
            f"{filename!r} is a colour ({mode}) image; converted to grayscale "
            "(luma 0.299 R + 0.587 G + 0.114 B)"
        )
    if has_alpha:
        notes.append(f"{filename!r} has an alpha channel; it was ignored")
    return out


def _decode_npy(data: Any, filename: str, max_pixels: int, notes: list[str]) -> np.ndarray:
    """NPY bytes -> the centred square as float64; refuses pickles, complex, non-2-D, NaN/Inf.

    The header (shape, dtype) is read and checked first; the data are then viewed in
    place in ``data`` (no copy of the file), and only the square is converted.
    """
    from numpy.lib import format as npy

    stream = io.BytesIO(data)
    try:
        version = npy.read_magic(stream)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f"unknown format version {version}")
        if version == (1, 0):
            shape, fortran_order, dtype = npy.read_array_header_1_0(
                stream, max_header_size=_MAX_NPY_HEADER)
        else:
            shape, fortran_order, dtype = npy.read_array_header_2_0(
                stream, max_header_size=_MAX_NPY_HEADER)
    except Exception as exc:  # ValueError, EOFError, SyntaxError from the header parser
        raise _UploadError(f"{filename!r} is not a readable NPY file: {exc}") from None
    if dtype.hasobject:
        raise _UploadError(
            f"{filename!r} holds Python objects (object dtype), which could only be "
            "read with pickle; that is refused for safety. Save a plain numeric array "
            "(np.save of a float or integer array)"
        )
    if dtype.kind == "c":
        raise _UploadError(
            f"{filename!r} holds a complex array ({dtype}); upload a real image "
            "(e.g. its magnitude or real part)"
        )
    if dtype.kind not in "biuf" or dtype.subdtype is not None:
        raise _UploadError(f"{filename!r} holds a {dtype} array; a real numeric array is needed")
    if len(shape) != 2:
        raise _UploadError(f"{filename!r} must hold a 2-D array, got shape {shape}")
    rows, cols = shape
    if rows * cols > max_pixels:
        raise _too_many_pixels(filename, rows, cols, max_pixels)
    offset = stream.tell()
    needed = rows * cols * dtype.itemsize
    if len(data) - offset < needed:
        raise _UploadError(
            f"{filename!r} is not a readable NPY file: truncated ({len(data) - offset:,} of "
            f"{needed:,} data bytes)"
        )
    if rows * cols == 0:
        raise _UploadError(f"{filename!r} holds an empty array (shape {shape})")
    flat = np.frombuffer(data, dtype=dtype, count=rows * cols, offset=offset)
    array = flat.reshape(shape, order="F" if fortran_order else "C")
    if dtype.kind == "f" and not np.isfinite(array).all():
        n_nan = int(np.isnan(array).sum())
        n_inf = int(np.isinf(array).sum())
        raise _UploadError(
            f"{filename!r} contains NaN or infinite values ({n_nan} NaN, {n_inf} Inf); "
            "every pixel must be finite"
        )
    top, left, side = _square_box(rows, cols)
    _crop_note(filename, rows, cols, notes)
    return array[top : top + side, left : left + side].astype(np.float64)


# --------------------------------------------------------------------------- scaling


def _scale01_in_place(image: np.ndarray, what: str) -> None:
    """Map an array linearly onto [0, 1] (min -> 0, max -> 1); constant input is an error."""
    lo = float(image.min())
    hi = float(image.max())
    if not hi > lo:
        raise _UploadError(
            f"{what} is constant (every value is {lo:g}); cannot scale it to [0, 1]"
        )
    image -= lo
    image /= hi - lo
    # Rounding can leave values a few ulps outside [0, 1]; the contract is exact.
    np.clip(image, 0.0, 1.0, out=image)


def _resize_in_place(image: np.ndarray, size: int) -> np.ndarray:
    """Square float64 image -> size x size: bilinear, Gaussian anti-aliasing when shrinking.

    The same numbers as ``skimage.transform.resize(image, (size, size), order=1,
    mode="reflect", anti_aliasing=True, preserve_range=True)``, but the anti-aliasing
    filter overwrites ``image`` instead of allocating a second full-size copy.
    """
    from scipy import ndimage
    from skimage.transform import resize

    side = image.shape[0]
    if side > size:
        sigma = max(0.0, (side / size - 1) / 2)
        # skimage's mode "reflect" is ndimage's "mirror".
        ndimage.gaussian_filter(image, sigma, output=image, mode="mirror")
    return resize(image, (size, size), order=1, mode="reflect", anti_aliasing=False,
                  preserve_range=True).astype(np.float64, copy=False)

