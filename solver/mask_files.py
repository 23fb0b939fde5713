"""Sampling masks from files (PNG or NPY), in the common conventions, validated.

The project's masks are boolean (N, N) arrays in *centred* order (DC at
``(N//2, N//2)``, see :mod:`solver.sampling`). Masks in the wild come as

- PNG images (the published FIRENET masks: 8-bit, 0/255) or NPY arrays (fastMRI-style
  mask functions): boolean, 0/1 or 0/255 (also 0/65535 for 16-bit PNG);
- centred or uncentred (``np.fft.fftshift`` order vs plain ``fft2`` order, DC at
  (0, 0)). Detected from where the samples are densest: every practical pattern samples
  the low frequencies densely, so the (N/8 x N/8) block around DC is denser than the
  same block at the corners (the other layout's DC). When the two densities are equal
  (e.g. a full or uniformly random mask) the mask is taken as centred, with a note;
- 1-D line masks (fastMRI's mask over the phase-encode axis): expanded to whole columns
  (the project's and fastMRI's convention, ``lines="columns"``) or whole rows.

A mask is resized only when that is exact: a mask of side ``k N`` whose k x k blocks are
each all sampled or all unsampled becomes the (N, N) mask of those blocks. Otherwise a
different size is an error.

Walsh. For the sequency-ordered Walsh transform "centred" means the project's centred
sequency order (:func:`solver.operators.walsh_sequency_permutation`) and "uncentred"
the plain sequency order of the published code (sequency s at index s);
:func:`walsh_mask_to_centred` and :func:`walsh_mask_to_uncentred` convert between them.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import numpy as np

from solver.array_files import read_npy
from solver.sampling import MAX_SIZE, MIN_SIZE, user_mask
from solver.validation import check_choice, check_int

__all__ = [
    "MAX_MASK_BYTES",
    "LoadedMask",
    "load_mask",
    "prepare_mask",
    "walsh_mask_to_centred",
    "walsh_mask_to_uncentred",
]

#: Largest mask file accepted (a 1024 x 1024 int64 NPY is 8 MiB).
MAX_MASK_BYTES = 16 * 1024 * 1024

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_NPY_MAGIC = b"\x93NUMPY"
# The densities around the two candidate DC positions must differ by this factor.
_AMBIGUOUS_RATIO = 1.2


@dataclass(frozen=True)
class LoadedMask:
    """A validated mask and what was done to it.

    Attributes
    ----------
    mask : np.ndarray, bool, (N, N)
        Centred order (DC at ``(N//2, N//2)``).
    was_centred : bool
        Whether the input was in centred order (detected or declared).
    notes : tuple of str
        One sentence per detection or change.
    """

    mask: np.ndarray
    was_centred: bool
    notes: tuple

    @property
    def rate(self) -> float:
        """Sampled fraction."""
        return float(self.mask.mean())


class _Refused(ValueError):
    """A refusal raised inside the decoding block, passed on as it is."""


def _decode(data: bytes, filename: str) -> np.ndarray:
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError(f"data must be bytes, got {type(data).__name__}")
    if len(data) > MAX_MASK_BYTES:
        raise ValueError(f"{filename}: the file is too big ({len(data)} bytes, at most {MAX_MASK_BYTES})")
    data = bytes(data)
    ext = os.path.splitext(str(filename).lower())[1]
    is_npy = data.startswith(_NPY_MAGIC) or (ext == ".npy" and not data.startswith(_PNG_MAGIC))
    if not is_npy and (data.startswith(_PNG_MAGIC) or ext == ".png"):
        from PIL import Image  # only when a PNG is read

        try:
            with Image.open(io.BytesIO(data)) as im:
                if im.width * im.height > MAX_SIZE * MAX_SIZE:
                    raise _Refused(
                        f"{filename}: the image is too big ({im.width} x {im.height}; at most "
                        f"{MAX_SIZE} x {MAX_SIZE})"
                    )
                if im.mode in ("I;16", "I;16B", "I;16L", "I", "1", "L"):
                    arr = np.array(im)
                else:
                    arr = np.array(im.convert("L"))
        except _Refused:
            raise
        except Image.DecompressionBombError:
            raise ValueError(f"{filename}: the PNG states an enormous image (a decompression bomb); "
                             "refused before decoding") from None
        except Exception as exc:  # noqa: BLE001 - Pillow's decoders raise OSError, SyntaxError, ValueError, ...
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise ValueError(f"{filename}: not a readable PNG ({reason})") from None
        return arr
    if is_npy:
        return np.array(read_npy(data, filename, max_bytes=MAX_SIZE * MAX_SIZE * 8, what="mask"))
    raise ValueError(f"filename: a mask must be a .png or .npy file, got {filename!r}")


def _binary(arr: np.ndarray, what: str) -> np.ndarray:
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{what} must be boolean or numeric, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{what} must contain only finite values")
    values = np.unique(arr)
    for high in (1, 255, 65535):
        if np.isin(values, (0, high)).all():
            return arr == high
    shown = ", ".join(f"{v:g}" for v in values[:6])
    raise ValueError(
        f"{what} must be binary (boolean, 0/1 or 0/255), got the values {shown}"
        f"{', ...' if values.size > 6 else ''}"
    )


def _exact_downsample(mask: np.ndarray, size: int, what: str) -> tuple[np.ndarray, str | None]:
    """Reduce a mask of side k*size whose k-blocks are constant; else raise."""
    n = mask.shape[-1]
    if n == size:
        return mask, None
    if n > size and n % size == 0:
        k = n // size
        shape = (size, k) if mask.ndim == 1 else (size, k, size, k)
        blocks = mask.reshape(shape)
        axes = (1,) if mask.ndim == 1 else (1, 3)
        if (blocks.all(axis=axes) == blocks.any(axis=axes)).all():
            note = f"The mask of side {n} was reduced exactly to {size} ({k} x {k} blocks)."
            return blocks.any(axis=axes), note
    raise ValueError(
        f"{what} has side {n} but the image has side {size}; a mask is resized only when "
        "it is exact (side a multiple of the image's, every block all sampled or all not)"
    )


def _density_near(mask: np.ndarray, row: int, col: int) -> float:
    n = mask.shape[0]
    half = max(1, n // 16)
    rolled = np.roll(mask, (half - row, half - col), axis=(0, 1))
    return float(rolled[: 2 * half, : 2 * half].mean())


def _line_or_square(mask) -> np.ndarray:
    """``mask`` as an array, 1-D for a line mask (also given as (1, N) or (N, 1)), checked
    to be a line or a square of at most ``MAX_SIZE``."""
    arr = np.asarray(mask)
    if arr.ndim == 2 and 1 in arr.shape and arr.size > 1:
        arr = arr.reshape(-1)
    if arr.ndim not in (1, 2):
        raise ValueError(f"mask must be 2-D (or a 1-D line mask), got shape {arr.shape}")
    if arr.ndim == 2 and arr.shape[0] != arr.shape[1]:
        raise ValueError(f"mask must be square, got shape {arr.shape}")
    if arr.shape[0] > MAX_SIZE:
        raise ValueError(f"mask is too big: side {arr.shape[0]}, at most {MAX_SIZE}")
    return arr


def _detect_centred(binary: np.ndarray, notes: list[str]) -> str:
    """The mask's order, "centred" or "uncentred", from where it samples densest (module notes)."""
    n = binary.shape[0]
    at_centre = _density_near(binary, n // 2, n // 2)
    at_corner = _density_near(binary, 0, 0)
    if at_corner > _AMBIGUOUS_RATIO * at_centre:
        notes.append(
            f"Detected an uncentred mask (DC at the corners): {at_corner:.0%} sampled near the "
            f"corners against {at_centre:.0%} near the centre; it was fftshift-ed."
        )
        return "uncentred"
    if at_centre > _AMBIGUOUS_RATIO * at_corner:
        notes.append(
            f"Detected a centred mask: {at_centre:.0%} sampled near the centre, "
            f"{at_corner:.0%} near the corners."
        )
    else:
        notes.append(
            f"Could not tell whether the mask is centred ({at_centre:.0%} sampled near the "
            f"centre, {at_corner:.0%} near the corners); taken as centred."
        )
    return "centred"


def prepare_mask(
    mask,
    *,
    size: int | None = None,
    centred: str = "auto",
    lines: str = "columns",
    notes=(),
) -> LoadedMask:
    """Validate and convert a mask array to the project's convention.

    Parameters
    ----------
    mask : array_like, (N, N) or (N,) (or (1, N) / (N, 1))
        Boolean, 0/1, 0/255 or 0/65535; a 1-D mask is a line mask.
    size : int, optional
        The required N (a power of two in [32, 1024]); default the mask's own side.
    centred : {"auto", "centred", "uncentred"}
        The mask's order; "auto" detects it (see the module notes).
    lines : {"columns", "rows"}
        How a 1-D mask is expanded: entry j samples the whole column j (fastMRI, the
        project's line patterns) or the whole row j.
    notes : sequence of str
        Earlier notes to carry.

    Returns
    -------
    LoadedMask

    Raises
    ------
    ValueError
        If the mask is not 1-D or 2-D, not square, not binary, empty, too big, or of a
        size that cannot be matched exactly; each message names the problem.
    """
    centred = check_choice("centred", centred, ("auto", "centred", "uncentred"))
    lines = check_choice("lines", lines, ("columns", "rows"))
    notes = list(notes)
    binary = _binary(_line_or_square(mask), "mask")
    if not binary.any():
        raise ValueError("mask is empty: it samples nothing")
    if size is not None:
        size = check_int("size", size, MIN_SIZE, MAX_SIZE)
        binary, note = _exact_downsample(binary, size, "mask")
        if note:
            notes.append(note)
    n = binary.shape[0]
    if not (MIN_SIZE <= n <= MAX_SIZE) or n & (n - 1):
        raise ValueError(f"mask side must be a power of two in [{MIN_SIZE}, {MAX_SIZE}], got {n}")
    if binary.ndim == 1:
        notes.append(f"The 1-D mask was expanded to whole {lines} ({int(binary.sum())} of {n} lines).")
        binary = np.broadcast_to(binary[None, :] if lines == "columns" else binary[:, None], (n, n)).copy()
    if centred == "auto":
        centred = _detect_centred(binary, notes)
    was_centred = centred == "centred"
    if not was_centred:
        binary = np.fft.fftshift(binary)
    if not binary[n // 2, n // 2]:
        notes.append("DC is not sampled: the image mean cannot be recovered from these data.")
    return LoadedMask(mask=user_mask(binary, size), was_centred=was_centred, notes=tuple(notes))


def load_mask(
    data: bytes,
    filename: str,
    *,
    size: int | None = None,
    centred: str = "auto",
    lines: str = "columns",
) -> LoadedMask:
    """Read a mask from PNG or NPY file contents and validate it (:func:`prepare_mask`).

    Parameters
    ----------
    data : bytes
        The file's contents (at most :data:`MAX_MASK_BYTES`).
    filename : str
        Its name (used for messages; the content's signature picks the reader, the
        extension when there is none).
    size, centred, lines
        See :func:`prepare_mask`.

    Returns
    -------
    LoadedMask

    Examples
    --------
    >>> loaded = load_mask(uploaded.getvalue(), uploaded.name, size=256)   # doctest: +SKIP
    >>> loaded.mask.shape, loaded.rate, loaded.notes                       # doctest: +SKIP
    """
    arr = _decode(data, filename)
    return prepare_mask(arr, size=size, centred=centred, lines=lines, notes=(f"Read {filename}.",))


def _walsh_sequency_of_centred(size: int) -> np.ndarray:
    d = np.arange(size) - size // 2
    return np.where(d >= 0, 2 * d, -2 * d - 1)


def walsh_mask_to_uncentred(mask) -> np.ndarray:
    """Centred-sequency Walsh mask -> plain sequency order (sequency s at index s).

    Parameters
    ----------
    mask : array_like, bool, (N, N)
        Project order: centred position ``N//2 + d`` holds sequency ``2d`` (d >= 0) or
        ``2|d| - 1`` (d < 0).

    Returns
    -------
    np.ndarray, bool, (N, N)
        The same sampled sequencies, indexed by sequency.
    """
    m = user_mask(mask)
    seq = _walsh_sequency_of_centred(m.shape[0])
    out = np.empty_like(m)
    out[np.ix_(seq, seq)] = m
    return out


def walsh_mask_to_centred(mask) -> np.ndarray:
    """Plain sequency-order Walsh mask -> the project's centred sequency order."""
    m = user_mask(mask)
    seq = _walsh_sequency_of_centred(m.shape[0])
    return m[np.ix_(seq, seq)]
