"""Measured single-coil k-space from files: NPY, NPZ, BART .cfl/.hdr and fastMRI HDF5.

The project's measurement operator (:class:`solver.operators.SubsampledFourier`) uses
the unitary centred DFT ``K = fftshift(fft2(ifftshift(x), norm="ortho"))`` (BART's
``fft -u 3``, fastMRI's ``fft2c``): DC at ``(N//2, N//2)`` and the image's centre at
pixel ``(N//2, N//2)``. Files come in other conventions too:

- *image origin*: ``fftshift(fft2(x))`` (MATLAB code, the published FIRENET code) puts
  the image's origin at pixel (0, 0). For even N this multiplies every sample by
  ``(-1)^(row + col)``; read with the wrong convention the image comes out shifted by
  half the field of view in both directions (the object split into the four corners),
  and the sqrt-LASSO objective is far from the right one;
- *k-space layout*: ``fft2(...)`` without the final ``fftshift`` stores DC at (0, 0).

:func:`load_kspace` detects both, unless told:

- the layout from where the k-space energy sits: the central quarter of the grid
  (``[N/4, 3N/4)^2``) for centred data, the corners for uncentred;
- the image origin from the zero-filled image's border: MR images have a dark background
  at the border of the field of view, and the wrong convention shifts the image by half
  the field of view, moving the object onto the border. The convention with less energy
  in the border frame (width N/8) wins. When the two energies are within 10 % of each
  other the data cannot tell, the project's convention is kept and a note says so.
  Measured on noisy (2 %) undersampled data (N = 64 and 256; six patterns at 12.5 % and
  25 %; both conventions and layouts): Shepp-Logan, 13 ellipse images and the MNI brain
  slice 1388 of 1440 right, 52 undecided, none wrong; the layout 1536 of 1536 right.
  A photograph that fills the frame breaks the assumption: the camera image was read
  wrongly in 92 of 96 cases. So the page should show the zero-filled image with the
  detected convention and let the user switch.

Sizes. The operators need a square power-of-two grid; the result has side N in
[32, 512]: by default the largest power of two not above the smaller side (at most
512, at least 32). ``resize="kspace"`` (default) crops or zero-pads k-space about DC:
the measured samples are kept as they are, each axis keeps its field of view and changes
its resolution, and padded positions are unsampled (outside the mask).
``resize="image"`` crops or pads the image (keeps the resolution, changes the field of
view; fastMRI's readout oversampling is removed this way); it mixes samples, so it
needs fully sampled data.

The mask: from the file (fastMRI ``mask`` of the last axis, an NPZ ``mask``), from the
caller, or else the nonzero samples.

Files come from outside: NPY and NPZ are read header first (:mod:`solver.array_files`:
stated sizes, dtypes, zip methods and encryption checked before anything is
decompressed), HDF5 in a capped child process that refuses links, virtual datasets and
external storage before reading (:mod:`solver.hdf5_files`); one slice has at most
:data:`MAX_KSPACE_ELEMENTS` elements. Every refusal is a ``ValueError`` naming the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from solver.array_files import NpzArchive, read_npy
from solver.hdf5_files import read_fastmri
from solver.validation import check_choice, check_int

__all__ = [
    "CONVENTIONS",
    "LAYOUTS",
    "MAX_KSPACE_ELEMENTS",
    "MAX_KSPACE_FILE_BYTES",
    "MAX_KSPACE_SIDE",
    "MAX_SIZE",
    "MIN_SIZE",
    "KSpaceData",
    "image_to_kspace",
    "kspace_to_image",
    "load_kspace",
    "prepare_kspace",
    "read_kspace_array",
]

#: Image-origin conventions: the project's (BART ``fft -u 3``, fastMRI ``fft2c``) and
#: ``fftshift(fft2(x))``.
CONVENTIONS = {
    "centred": "fftshift(fft2(ifftshift(x))): image centre at N/2 (this project, BART fft -u 3, fastMRI)",
    "corner": "fftshift(fft2(x)): image origin at pixel 0 (MATLAB fftshift(fft2(x)))",
}
#: Where DC sits in the stored array.
LAYOUTS = {
    "centred": "DC at (N//2, N//2) (after fftshift)",
    "uncentred": "DC at (0, 0) (plain fft2 output)",
}
MIN_SIZE = 32
MAX_SIZE = 512
#: Largest side of a stored k-space array accepted (before cropping).
MAX_KSPACE_SIDE = 4096
#: Most elements of the one 2-D slice taken from a file (e.g. 2048 x 1024; a fastMRI
#: slice is 640 x 368): checked from the file's header or metadata before anything is read.
MAX_KSPACE_ELEMENTS = 2**21
#: Largest array an NPY or NPZ member may state (a stack of slices is read whole):
#: 64 MiB, e.g. 2048 x 2048 complex128 or 35 slices of 640 x 368 complex64.
MAX_KSPACE_FILE_BYTES = 64 * 2**20

# Central quarter vs corners: decided only when one exceeds the other by this factor.
_AMBIGUOUS_RATIO = 1.1


@dataclass(frozen=True)
class KSpaceData:
    """A measured k-space in the project's convention, ready for the operators.

    Attributes
    ----------
    kspace : np.ndarray, complex128, (N, N)
        Centred layout, project convention; zero outside ``mask``.
    mask : np.ndarray, bool, (N, N)
        Sampled positions (centred).
    y : np.ndarray, complex128, (M,)
        ``kspace[mask]``: the data vector of ``SubsampledFourier(mask)`` (row-major order
        of the centred grid).
    convention : str
        The file's image-origin convention (a key of :data:`CONVENTIONS`).
    layout : str
        The file's k-space layout (a key of :data:`LAYOUTS`).
    scores : dict
        Detection evidence: shares of the energy of k-space in its central quarter
        (``"kspace_centre"``) and corners (``"kspace_corners"``), and of the zero-filled
        image in its border frame read in either convention (``"image_border_centred"``,
        ``"image_border_corner"``).
    scale : float
        The factor the stored values were divided by (1 unless ``normalise``).
    original_shape : tuple
        The stored 2-D slice's shape.
    notes : tuple of str
        What was detected, assumed or changed, one sentence each.
    """

    kspace: np.ndarray
    mask: np.ndarray
    y: np.ndarray
    convention: str
    layout: str
    scores: dict
    scale: float
    original_shape: tuple
    notes: tuple

    @property
    def size(self) -> int:
        """N."""
        return int(self.kspace.shape[0])

    @property
    def rate(self) -> float:
        """Sampled fraction of the grid."""
        return float(self.mask.mean())

    def zero_filled(self) -> np.ndarray:
        """The zero-filled image ``A^* y`` (complex128 (N, N), project convention)."""
        return kspace_to_image(self.kspace)


# ----------------------------------------------------------------------------- FFTs


def image_to_kspace(image, *, convention: str = "centred", layout: str = "centred") -> np.ndarray:
    """Unitary 2-D DFT of an image in the given convention (for tests and examples).

    Parameters
    ----------
    image : array_like, (N, N), real or complex
    convention : {"centred", "corner"}
        ``ifftshift`` the image first (centred) or not (corner).
    layout : {"centred", "uncentred"}
        ``fftshift`` the result (DC at N//2) or not (DC at 0).

    Returns
    -------
    np.ndarray, complex128, (N, N)
    """
    check_choice("convention", convention, CONVENTIONS)
    check_choice("layout", layout, LAYOUTS)
    x = np.asarray(image)
    if x.ndim != 2:
        raise ValueError(f"image must be 2-D, got shape {x.shape}")
    if convention == "centred":
        x = np.fft.ifftshift(x)
    k = np.fft.fft2(x, norm="ortho")
    return np.fft.fftshift(k) if layout == "centred" else k


def kspace_to_image(kspace) -> np.ndarray:
    """Inverse of the project's transform: ``fftshift(ifft2(ifftshift(K)))``, unitary, complex128."""
    k = np.asarray(kspace)
    if k.ndim != 2:
        raise ValueError(f"kspace must be 2-D, got shape {k.shape}")
    return np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(k), norm="ortho"))


# ----------------------------------------------------------------------------- readers


def _select_slice(arr: np.ndarray, slice_index, what: str) -> tuple[np.ndarray, list[str]]:
    """2-D array from a 2-D or (slices, rows, cols) array; the middle slice by default."""
    notes = []
    arr = np.squeeze(arr) if arr.ndim > 3 else arr
    if arr.ndim == 2:
        if slice_index not in (None, 0):
            raise ValueError(
                f"slice_index must be None or 0 for a single 2-D k-space in {what}, got {slice_index!r}"
            )
        return arr, notes
    if arr.ndim != 3:
        raise ValueError(
            f"{what} must hold a 2-D k-space or a stack (slices, rows, cols); got shape "
            f"{arr.shape} (multi-coil data must be combined first)"
        )
    n = arr.shape[0]
    if slice_index is None:
        slice_index = n // 2
        notes.append(f"Slice {slice_index} of {n} (the middle one) was taken.")
    slice_index = check_int("slice_index", slice_index, 0, n - 1)
    return arr[slice_index], notes


def _pick_npz(archive: NpzArchive, filename: str) -> tuple[np.ndarray, np.ndarray | None, str]:
    """The k-space member (and a 'mask' member), chosen from the headers; only those are read."""
    headers = archive.headers
    keys = list(headers)
    mask = archive.read("mask") if "mask" in headers else None
    if "kspace" in headers:
        return archive.read("kspace"), mask, "kspace"
    candidates = [k for k in keys if headers[k].dtype.kind == "c" and len(headers[k].shape) in (2, 3)]
    if len(candidates) != 1:
        raise ValueError(
            f"{filename}: cannot tell which array is the k-space (arrays {keys}); name it "
            "'kspace', or keep exactly one complex 2-D/3-D array in the file"
        )
    return archive.read(candidates[0]), mask, candidates[0]


def _read_cfl(cfl: bytes, hdr: bytes | str, filename: str) -> np.ndarray:
    text = hdr.decode("ascii", "replace") if isinstance(hdr, bytes) else str(hdr)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    try:
        dims = [int(v) for v in lines[0].split()]
    except (IndexError, ValueError):
        raise ValueError(f"{filename}: the .hdr must hold a line of dimensions, got {text[:80]!r}") from None
    if not dims or any(d < 1 for d in dims):
        raise ValueError(f"{filename}: bad dimensions in the .hdr: {dims}")
    count = int(np.prod(dims))
    if len(cfl) != 8 * count:
        raise ValueError(
            f"{filename}: the .cfl holds {len(cfl)} bytes, but the .hdr dimensions {dims} "
            f"need {8 * count} (complex64)"
        )
    arr = np.frombuffer(cfl, dtype="<c8").reshape(dims, order="F")  # BART: first dim fastest
    if len(dims) > 3 and dims[3] > 1:
        raise ValueError(f"{filename}: {dims[3]} coils (BART dim 3); only single-coil k-space is supported")
    shape2 = dims[:2]
    rest = [d for d in dims[2:] if d > 1]
    if len(rest) > 1:
        raise ValueError(f"{filename}: more than one extra non-singleton dimension in {dims}")
    arr = arr.reshape(shape2 + rest, order="F")
    return np.moveaxis(arr, 2, 0) if rest else arr


def read_kspace_array(
    data,
    filename: str,
    *,
    hdr=None,
    slice_index: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Read one 2-D k-space (and a stored mask, if any) from file contents.

    Parameters
    ----------
    data : bytes
        The file's contents (``.npy``, ``.npz``, ``.cfl``, ``.h5``/``.hdf5``).
    filename : str
        Its name; the extension selects the reader.
    hdr : bytes or str, optional
        The matching ``.hdr`` contents for a ``.cfl`` file.
    slice_index : int, optional
        Slice of a (slices, rows, cols) stack; the middle one when None.

    Returns
    -------
    kspace : np.ndarray, complex, (rows, cols)
    mask : np.ndarray or None
        A stored mask (fastMRI: 1-D over the last axis), as stored.
    notes : list of str
    """
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError(f"data must be bytes, got {type(data).__name__}")
    if not isinstance(filename, str):
        raise ValueError(f"filename must be a string, got {filename!r}")
    ext = os.path.splitext(filename.lower())[1]
    notes: list[str] = []
    mask = None
    if ext == ".npy":
        arr = read_npy(data, filename, max_bytes=MAX_KSPACE_FILE_BYTES, what="k-space")
    elif ext == ".npz":
        with NpzArchive(bytes(data), filename, max_member_bytes=MAX_KSPACE_FILE_BYTES) as archive:
            arr, mask, key = _pick_npz(archive, filename)
        notes.append(f"Array {key!r} of the archive was read as k-space.")
    elif ext == ".cfl":
        if hdr is None:
            raise ValueError(
                f"hdr: a .cfl file needs its .hdr file (dimensions) too; none given for {filename}"
            )
        arr = _read_cfl(bytes(data), hdr, filename)
        notes.append("BART .cfl/.hdr: BART's first dimension is taken as the rows.")
    elif ext in (".h5", ".hdf5"):
        arr, mask, h5notes = read_fastmri(bytes(data), filename, slice_index,
                                          max_elements=MAX_KSPACE_ELEMENTS)
        return arr, mask, notes + h5notes
    else:
        raise ValueError(f"filename must end in .npy, .npz, .cfl, .h5 or .hdf5, got {filename!r}")
    if arr.dtype.kind not in "biufc":
        raise ValueError(f"{filename}: k-space must be numeric, got dtype {arr.dtype}")
    arr, slice_notes = _select_slice(arr, slice_index, filename)
    if arr.size > MAX_KSPACE_ELEMENTS:
        raise ValueError(f"{filename}: a k-space slice of shape {arr.shape} has {arr.size:,} elements, "
                         f"more than the {MAX_KSPACE_ELEMENTS:,} allowed")
    return arr, mask, notes + slice_notes


# ----------------------------------------------------------------------------- preparing


def _default_size(rows: int, cols: int) -> int:
    side = min(rows, cols, MAX_SIZE)
    n = 1 << (side.bit_length() - 1)
    return max(n, MIN_SIZE)


def _fit_axis(arr: np.ndarray, n: int, axis: int, fill) -> np.ndarray:
    """Crop or pad ``axis`` to ``n`` keeping index ``len // 2`` at ``n // 2``."""
    old = arr.shape[axis]
    out_shape = list(arr.shape)
    out_shape[axis] = n
    out = np.full(out_shape, fill, dtype=arr.dtype)
    shift = n // 2 - old // 2  # new index = old index + shift
    lo_old, hi_old = max(0, -shift), min(old, n - shift)
    src = [slice(None)] * arr.ndim
    dst = [slice(None)] * arr.ndim
    src[axis] = slice(lo_old, hi_old)
    dst[axis] = slice(lo_old + shift, hi_old + shift)
    out[tuple(dst)] = arr[tuple(src)]
    return out


def _mask_from_stored(stored: np.ndarray, shape: tuple, notes: list[str]) -> np.ndarray:
    m = np.asarray(stored)
    m = np.squeeze(m)
    if m.ndim == 1 and m.size == shape[1]:
        notes.append("The stored 1-D mask was applied to whole columns (fastMRI: the last axis).")
        m = np.broadcast_to(m[None, :], shape)
    elif m.ndim == 1 and m.size == shape[0]:
        notes.append("The stored 1-D mask was applied to whole rows.")
        m = np.broadcast_to(m[:, None], shape)
    if m.shape != shape:
        raise ValueError(f"mask: the stored mask has shape {np.shape(stored)}, the k-space {shape}")
    if m.dtype != bool:
        if not np.isin(m, (0, 1)).all():
            raise ValueError("mask: the stored mask must hold only 0/1 or booleans")
        m = m.astype(bool)
    return np.array(m)


def _quarter_fraction(energy: np.ndarray) -> float:
    """Share of ``energy`` in the central quarter ``[N/4, 3N/4)^2``."""
    n0, n1 = energy.shape
    total = float(energy.sum())
    if total == 0.0:
        return 0.0
    return float(energy[n0 // 4: n0 - n0 // 4, n1 // 4: n1 - n1 // 4].sum()) / total


def _frame_fraction(energy: np.ndarray) -> float:
    """Share of ``energy`` in the outer frame of width N/8 (the field of view's border)."""
    n0, n1 = energy.shape
    total = float(energy.sum())
    if total == 0.0:
        return 0.0
    w0, w1 = max(1, n0 // 8), max(1, n1 // 8)
    inner = float(energy[w0: n0 - w0, w1: n1 - w1].sum())
    return (total - inner) / total


def prepare_kspace(
    kspace,
    *,
    mask=None,
    convention: str = "auto",
    layout: str = "auto",
    size: int | None = None,
    resize: str = "kspace",
    normalise: bool = False,
    notes=(),
) -> KSpaceData:
    """Bring a 2-D k-space array into the project's convention and a supported size.

    Parameters
    ----------
    kspace : array_like, complex (or real), (rows, cols)
        Zeros where not measured (unless ``mask`` is given).
    mask : array_like, bool or 0/1, optional
        Sampled positions, in the same layout as ``kspace``: (rows, cols), or 1-D over
        the columns (whole columns sampled, fastMRI) or over the rows. Default: the
        nonzero samples.
    convention : {"auto", "centred", "corner"}
        The data's image-origin convention (see :data:`CONVENTIONS`); "auto" detects it.
    layout : {"auto", "centred", "uncentred"}
        Where DC sits in the array; "auto" detects it.
    size : int, optional
        Output side N, a power of two in [32, 512]; default the largest power of two not
        above ``min(rows, cols)`` (within [32, 512]).
    resize : {"kspace", "image"}
        Crop/pad k-space about DC (default) or the image about its centre (needs fully
        sampled data); see the module notes.
    normalise : bool, default False
        Divide by the largest modulus of the zero-filled image, so it peaks at 1 (the
        scale the project's default ``lam`` is chosen for); the factor is ``scale``.
    notes : sequence of str
        Notes from reading, carried into the result.

    Returns
    -------
    KSpaceData

    Raises
    ------
    ValueError
        For arrays that are not 2-D, too large or too small, non-finite, all zero,
        a mask of the wrong shape, or bad options; each message names the argument.
    """
    convention = check_choice("convention", convention, ("auto", *CONVENTIONS))
    layout = check_choice("layout", layout, ("auto", *LAYOUTS))
    resize = check_choice("resize", resize, ("kspace", "image"))
    if not isinstance(normalise, bool):
        raise ValueError(f"normalise must be True or False, got {normalise!r}")
    notes = list(notes)
    k, m, size = _checked_kspace(kspace, mask, size, notes)
    rows, cols = k.shape
    scores: dict[str, float] = {}
    k, m, layout = _dc_to_centre(k, m, layout, scores, notes)
    convention = _image_origin(k, convention, scores, notes)
    k, m = _resized(k, m, size, resize, convention, notes)
    if (rows, cols) != (size, size) and (rows % 2 or cols % 2):
        notes.append("An odd side: the image centre may sit half a pixel off after resizing.")
    scale = 1.0
    if normalise:
        peak = float(np.abs(kspace_to_image(k)).max())
        scale = peak
        k = k / peak
        notes.append(f"Values were divided by {peak:.4g} so that the zero-filled image peaks at 1.")
    k = np.where(m, k, 0)
    return KSpaceData(kspace=k, mask=m, y=k[m], convention=convention, layout=layout, scores=scores, scale=scale,
                      original_shape=(rows, cols), notes=tuple(notes))


def _checked_kspace(kspace, mask, size, notes: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
    """The k-space as complex128 with unmeasured samples zeroed, its mask and the output
    side, after checking all three."""
    k = np.asarray(kspace)
    if k.ndim != 2:
        raise ValueError(f"kspace must be 2-D (rows, cols), got shape {k.shape}")
    if k.dtype.kind not in "biufc":
        raise ValueError(f"kspace must be numeric, got dtype {k.dtype}")
    rows, cols = k.shape
    if max(rows, cols) > MAX_KSPACE_SIDE or min(rows, cols) < 8:
        raise ValueError(f"kspace sides must be in [8, {MAX_KSPACE_SIDE}], got shape {k.shape}")
    k = k.astype(np.complex128)
    if not np.isfinite(k).all():
        raise ValueError("kspace must contain only finite values (found NaN or Inf)")
    if not np.any(k):
        raise ValueError("kspace is all zero")
    if not np.iscomplexobj(np.asarray(kspace)):
        notes.append("The k-space was real; it was read as complex with zero imaginary part.")
    if size is None:
        size = _default_size(rows, cols)
    else:
        size = check_int("size", size, MIN_SIZE, MAX_SIZE)
        if size & (size - 1):
            raise ValueError(f"size must be a power of two in [{MIN_SIZE}, {MAX_SIZE}], got {size}")
    if mask is None:
        m = k != 0
        notes.append(f"The mask was taken as the {int(m.sum())} nonzero samples.")
    else:
        m = _mask_from_stored(mask, k.shape, notes)
        k = np.where(m, k, 0)
    if not m.any():
        raise ValueError("mask samples nothing")
    return k, m, size


def _dc_to_centre(k: np.ndarray, m: np.ndarray, layout: str, scores: dict[str, float], notes: list[str]
                  ) -> tuple[np.ndarray, np.ndarray, str]:
    """Where DC sits (detected for ``layout="auto"``), and the data moved so that it is in the centre."""
    energy = np.abs(k) ** 2
    centre_frac = _quarter_fraction(energy)
    corner_frac = _quarter_fraction(np.fft.fftshift(energy))
    scores.update(kspace_centre=centre_frac, kspace_corners=corner_frac)
    if layout == "auto":
        if corner_frac > _AMBIGUOUS_RATIO * centre_frac:
            layout = "uncentred"
            notes.append(
                f"Detected DC at the corners ({corner_frac:.0%} of the energy there against "
                f"{centre_frac:.0%} in the centre): the k-space was fftshift-ed."
            )
        else:
            layout = "centred"
            notes.append(
                f"Detected DC in the centre ({centre_frac:.0%} of the energy in the central quarter)."
            )
    if layout == "uncentred":
        k, m = np.fft.fftshift(k), np.fft.fftshift(m)
    return k, m, layout


def _image_origin(k: np.ndarray, convention: str, scores: dict[str, float], notes: list[str]) -> str:
    """The data's image-origin convention, detected for ``convention="auto"``.

    MR images have a dark background at the border of the field of view; read with the
    wrong convention the image is shifted by half the field of view, so the object
    reaches the border and the dark background forms a cross through the middle. The
    convention whose border frame holds less energy wins.
    """
    e_img = np.abs(kspace_to_image(k)) ** 2
    border_centred = _frame_fraction(e_img)  # the border if the data are in this project's
    border_corner = _frame_fraction(np.fft.fftshift(e_img))  # ... if in fftshift(fft2(x))
    scores.update(image_border_centred=border_centred, image_border_corner=border_corner)
    if convention != "auto":
        return convention
    evidence = (
        f"{border_centred:.0%} of the zero-filled image's energy in the border frame "
        f"(width N/8) read as this project's convention, {border_corner:.0%} read as "
        "fftshift(fft2(x))"
    )
    if border_centred > _AMBIGUOUS_RATIO * border_corner:
        notes.append(
            f"Detected the fftshift(fft2(x)) convention ({evidence}); every sample was "
            "multiplied by (-1)^(row+col)."
        )
        return "corner"
    if border_corner > _AMBIGUOUS_RATIO * border_centred:
        notes.append(f"Detected this project's convention fftshift(fft2(ifftshift(x))) ({evidence}).")
    else:
        notes.append(
            f"The convention could not be detected ({evidence}); this project's "
            "fftshift(fft2(ifftshift(x))) was assumed: choose the other if the image looks "
            "split into its four corners."
        )
    return "centred"


def _resized(k: np.ndarray, m: np.ndarray, size: int, resize: str, convention: str, notes: list[str]
             ) -> tuple[np.ndarray, np.ndarray]:
    """The centred k-space and mask at ``size x size``, with the image origin moved to the centre."""
    rows, cols = k.shape
    if (rows, cols) == (size, size) or resize == "kspace":
        if (rows, cols) != (size, size):
            k = _fit_axis(_fit_axis(k, size, 0, 0), size, 1, 0)
            m = _fit_axis(_fit_axis(m, size, 0, False), size, 1, False)
            notes.append(
                f"k-space {rows} x {cols} was cropped/zero-padded about DC to {size} x {size} "
                "(field of view kept, resolution changed; padded samples are unmeasured)."
            )
        if convention == "corner":
            # half a field of view: (-1)^f per frequency f, i.e. (-1)^(row + col) on the
            # centred grid for N divisible by 4
            k = k * (-1.0) ** np.add.outer(np.arange(size), np.arange(size))
        return k, m
    if not m.all():
        raise ValueError(
            f"resize: 'image' needs fully sampled k-space ({m.mean():.1%} sampled); use "
            "resize='kspace'"
        )
    img = kspace_to_image(k)
    if convention == "corner":
        img = np.fft.fftshift(img)  # the object from the corners to the centre
    img = _fit_axis(_fit_axis(img, size, 0, 0), size, 1, 0)
    notes.append(
        f"The image {rows} x {cols} was cropped/zero-padded about its centre to {size} x {size} "
        "(resolution kept, field of view changed)."
    )
    return image_to_kspace(img), np.ones((size, size), dtype=bool)


def load_kspace(
    source,
    filename: str | None = None,
    *,
    hdr=None,
    slice_index: int | None = None,
    mask=None,
    convention: str = "auto",
    layout: str = "auto",
    size: int | None = None,
    resize: str = "kspace",
    normalise: bool = False,
) -> KSpaceData:
    """Read a single-coil k-space file and prepare it (:func:`prepare_kspace`).

    Parameters
    ----------
    source : bytes or str or os.PathLike
        File contents (then ``filename`` is required) or a path. For BART give the
        ``.cfl`` (or ``.hdr``, or the base name): the pair is read; with bytes pass the
        ``.hdr`` contents as ``hdr``.
    filename : str, optional
        Name of the file (its extension selects the reader); defaults to the path.
    hdr : bytes or str, optional
        BART header contents, for ``.cfl`` bytes.
    slice_index : int, optional
        For stacks (slices, rows, cols), e.g. fastMRI files; the middle slice by default.
    mask, convention, layout, size, resize, normalise
        See :func:`prepare_kspace`. A ``mask`` given here overrides one stored in the
        file.

    Returns
    -------
    KSpaceData

    Examples
    --------
    >>> data = load_kspace(uploaded.getvalue(), uploaded.name)      # doctest: +SKIP
    >>> A = SubsampledFourier(data.mask); y = torch.from_numpy(data.y)  # doctest: +SKIP
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        base, ext = os.path.splitext(path)
        if ext.lower() in (".cfl", ".hdr", ""):
            with open(base + ".cfl", "rb") as f:
                data = f.read()
            with open(base + ".hdr", "rb") as f:
                hdr = f.read()
            filename = filename or base + ".cfl"
        else:
            with open(path, "rb") as f:
                data = f.read()
            filename = filename or path
    elif isinstance(source, (bytes, bytearray)):
        if filename is None:
            raise ValueError("filename is needed with file contents (its extension selects the reader)")
        data = bytes(source)
    else:
        raise ValueError(f"source must be bytes or a path, got {type(source).__name__}")
    arr, stored_mask, notes = read_kspace_array(data, filename, hdr=hdr, slice_index=slice_index)
    if mask is None and stored_mask is not None:
        mask = stored_mask
    elif mask is not None and stored_mask is not None:
        notes.append("The mask given replaced the one stored in the file.")
    try:
        return prepare_kspace(
            arr, mask=mask, convention=convention, layout=layout, size=size, resize=resize,
            normalise=normalise, notes=notes,
        )
    except ValueError as error:  # name the file: the message reaches the person who sent it
        raise ValueError(f"{filename}: {error}") from None
