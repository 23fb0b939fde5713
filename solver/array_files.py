"""NPY and NPZ files from outside, read header first: nothing is decompressed or allocated
before the sizes the file states about itself are checked.

An NPY file starts with a short header (format version, dtype, shape, order); NPZ is a zip
archive of NPY members whose central directory states each member's *uncompressed* size
and compression method. ``np.load`` trusts both: a 128-byte NPY claiming 10^10 elements
asks for the memory, and a 3 MB NPZ whose member inflates to 3 GB is inflated. Here

- the NPY header is parsed alone (``numpy.lib.format.read_magic`` and
  ``read_array_header_1_0/2_0``, header at most 10,000 bytes), the dtype must be a plain
  number (no objects, so no pickle; no structured or sub-array types), and
  ``prod(shape) * itemsize`` is checked against a cap and against the bytes present;
- an NPZ's directory is checked before any member is opened: its size from the end
  record first (at most :data:`MAX_DIRECTORY_BYTES`), then at most :data:`MAX_MEMBERS`
  members, no encrypted member, only stored or deflated members
  (what ``np.savez`` and ``np.savez_compressed`` write), each member's stated size at most
  the cap and the sum of stated sizes at most :data:`MAX_NPZ_TOTAL_BYTES`. A member is
  then read through :mod:`zipfile`, which never returns more than the directory's size
  (and checks the CRC), a fixed number of bytes at a time: a member that inflates beyond
  what its header claims is never held.

Every refusal is a ``ValueError`` whose message names the file and the reason.
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

__all__ = [
    "MAX_DIRECTORY_BYTES",
    "MAX_MEMBERS",
    "MAX_NPZ_TOTAL_BYTES",
    "NpyHeader",
    "NpzArchive",
    "read_npy",
    "read_npy_header",
]

#: Most members an NPZ may have.
MAX_MEMBERS = 64
#: Largest zip directory read (64 members with names of up to 4 KiB).
MAX_DIRECTORY_BYTES = 64 * (46 + 4096)
#: Largest sum of the members' uncompressed sizes an NPZ may state (what inflating all of
#: it would cost in time, not memory: members are read one at a time).
MAX_NPZ_TOTAL_BYTES = 2**30

_MAX_HEADER = 10_000
_NPY_MAGIC = b"\x93NUMPY"
# Bytes read from a zip member per call: zipfile inflates at most about this much at once.
_PIECE = 2**20
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}


@dataclass(frozen=True)
class NpyHeader:
    """What an NPY header states.

    Attributes
    ----------
    shape : tuple of int
    fortran_order : bool
    dtype : np.dtype
        A plain numeric dtype (kind b, i, u, f or c).
    offset : int
        Where the data start (bytes from the start of the NPY stream).
    """

    shape: tuple
    fortran_order: bool
    dtype: np.dtype
    offset: int

    @property
    def count(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape, dtype=object))

    @property
    def nbytes(self) -> int:
        """Bytes of data the header promises."""
        return self.count * self.dtype.itemsize


def read_npy_header(stream: BinaryIO, filename: str, *, what: str = "array") -> NpyHeader:
    """Parse and check an NPY header from ``stream`` (left at the start of the data).

    Parameters
    ----------
    stream : binary file-like
        Positioned at the start of an NPY stream.
    filename : str
        For messages (the file, or ``"archive.npz: member x.npy"``).
    what : str
        What the array is, for messages.

    Returns
    -------
    NpyHeader

    Raises
    ------
    ValueError
        Not an NPY stream, an unknown version, a header over 10,000 bytes, or a dtype
        that is not a plain number (objects would need pickle: refused).
    """
    start = stream.tell() if stream.seekable() else 0
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream, max_header_size=_MAX_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream, max_header_size=_MAX_HEADER)
        else:
            raise ValueError(f"NPY format version {version[0]}.{version[1]} is not read (1.0 and 2.0 are)")
    except Exception as error:  # noqa: BLE001 - the header parser raises ValueError, EOFError, SyntaxError, ...
        raise ValueError(f"{filename}: not a readable NPY {what} ({_reason(error)})") from None
    if dtype.hasobject:
        raise ValueError(f"{filename}: the {what} holds Python objects, which only pickle could read; "
                         "refused (save a plain numeric array)")
    if dtype.kind not in "biufc" or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(f"{filename}: the {what} has dtype {dtype}; a plain numeric array is needed")
    if any(not isinstance(n, int) or n < 0 for n in shape):
        raise ValueError(f"{filename}: the {what} header states a bad shape {shape}")
    offset = (stream.tell() - start) if stream.seekable() else 0
    return NpyHeader(tuple(int(n) for n in shape), bool(fortran), dtype, offset)


def _check_directory_size(data: bytes, filename: str) -> None:
    """Refuse a zip whose central directory is larger than :data:`MAX_DIRECTORY_BYTES`.

    ``zipfile`` builds an object per directory entry before anything can be checked: a
    200 MB file of empty entries would cost gigabytes. The directory's size is read from
    the end record (or its zip64 form) first.
    """
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        raise ValueError(f"{filename}: not a readable NPZ archive (no zip directory)")
    (size,) = struct.unpack("<I", data[end + 12: end + 16])
    locator = end - 20
    if locator >= 0 and data[locator: locator + 4] == b"PK\x06\x07":
        (record,) = struct.unpack("<Q", data[locator + 8: locator + 16])
        if data[record: record + 4] == b"PK\x06\x06" and record + 56 <= len(data):
            (size,) = struct.unpack("<Q", data[record + 40: record + 48])
    if size > MAX_DIRECTORY_BYTES:
        raise ValueError(f"{filename}: its zip directory is {size:,} bytes, more than the "
                         f"{MAX_DIRECTORY_BYTES:,} allowed (too many members); refused before reading it")


def _reason(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]


def _check_size(header: NpyHeader, filename: str, max_bytes: int, what: str) -> None:
    if header.nbytes > max_bytes:
        raise ValueError(
            f"{filename}: the {what} header states shape {header.shape} of {header.dtype} "
            f"({header.nbytes:,} bytes), more than the {max_bytes:,} allowed; refused before reading"
        )


def read_npy(data: bytes, filename: str, *, max_bytes: int, what: str = "array") -> np.ndarray:
    """An NPY file's array, checked from its header first; a view of ``data`` (no copy).

    Parameters
    ----------
    data : bytes
        The file's contents.
    filename : str
        For messages.
    max_bytes : int
        Largest ``prod(shape) * itemsize`` accepted.
    what : str
        What the array is, for messages.

    Returns
    -------
    np.ndarray
        Read-only, viewing ``data``.

    Raises
    ------
    ValueError
        See :func:`read_npy_header`; also a stated size over ``max_bytes`` or more than
        the file holds.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"data must be bytes, got {type(data).__name__}")
    if not bytes(data[:6]) == _NPY_MAGIC:
        raise ValueError(f"{filename}: not a readable NPY {what} (it does not start with the NPY signature)")
    stream = io.BytesIO(data)
    header = read_npy_header(stream, filename, what=what)
    _check_size(header, filename, max_bytes, what)
    present = len(data) - header.offset
    if present < header.nbytes:
        raise ValueError(f"{filename}: the {what} is truncated ({present:,} of {header.nbytes:,} data bytes)")
    flat = np.frombuffer(data, dtype=header.dtype, count=header.count, offset=header.offset)
    return flat.reshape(header.shape, order="F" if header.fortran_order else "C")


class NpzArchive:
    """An NPZ archive whose directory and member headers were checked; members read on demand.

    Parameters
    ----------
    data : bytes
        The file's contents.
    filename : str
        For messages.
    max_member_bytes : int
        Largest uncompressed size of one member (and of the array it states).

    Attributes
    ----------
    headers : dict
        Array name (member name without ``.npy``) -> :class:`NpyHeader`.

    Raises
    ------
    ValueError
        Not a zip archive; too many members; an encrypted member; a compression method
        other than stored or deflate; a stated size over the caps; a member that is not
        an NPY array, or whose header states more than the member holds.
    """

    def __init__(self, data: bytes, filename: str, *, max_member_bytes: int) -> None:
        self.filename = filename
        self._max = int(max_member_bytes)
        _check_directory_size(data, filename)
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except Exception as error:  # noqa: BLE001 - zipfile raises BadZipFile, OSError, ValueError, ...
            raise ValueError(f"{filename}: not a readable NPZ archive ({_reason(error)})") from None
        if len(infos) > MAX_MEMBERS:
            raise ValueError(f"{filename}: {len(infos)} members, at most {MAX_MEMBERS}")
        total = 0
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            member = f"{filename}: member {info.filename!r}"
            if info.flag_bits & 0x1:
                raise ValueError(f"{member} is encrypted; refused")
            if info.compress_type not in _METHODS:
                raise ValueError(f"{member} uses compression method {info.compress_type}; only stored "
                                 "and deflate (np.savez, np.savez_compressed) are read")
            if info.file_size > self._max:
                raise ValueError(f"{member} inflates to {info.file_size:,} bytes (stated in the archive), "
                                 f"more than the {self._max:,} allowed; refused before decompressing")
            total += info.file_size
            if not info.filename.endswith(".npy"):
                raise ValueError(f"{member} is not an NPY array (an NPZ holds only .npy members)")
            self._infos[info.filename[:-4]] = info
        if total > MAX_NPZ_TOTAL_BYTES:
            raise ValueError(f"{filename}: the members inflate to {total:,} bytes in all, more than the "
                             f"{MAX_NPZ_TOTAL_BYTES:,} allowed; refused before decompressing")
        self.headers = {name: self._header(name) for name in self._infos}

    def _open(self, name: str):
        try:
            return self._zip.open(self._infos[name])
        except Exception as error:  # noqa: BLE001 - RuntimeError (encrypted), NotImplementedError, ...
            raise ValueError(f"{self.filename}: member {name!r} cannot be read ({_reason(error)})") from None

    def _header(self, name: str) -> NpyHeader:
        where = f"{self.filename}: member {name!r}"
        with self._open(name) as stream:
            head = io.BytesIO(self._read(stream, min(_MAX_HEADER + 16, self._infos[name].file_size), name))
        header = read_npy_header(head, where)
        _check_size(header, where, self._max, "array")
        if header.offset + header.nbytes > self._infos[name].file_size:
            raise ValueError(f"{where}: its header states {header.nbytes:,} bytes of data, more than the "
                             "member holds")
        return header

    def _read(self, stream, count: int, name: str) -> bytes:
        pieces = []
        left = count
        try:
            while left > 0:
                piece = stream.read(min(left, _PIECE))
                if not piece:
                    break
                pieces.append(piece)
                left -= len(piece)
        except Exception as error:  # noqa: BLE001 - zlib.error, BadZipFile (CRC), EOFError, ...
            raise ValueError(f"{self.filename}: member {name!r} is corrupt ({_reason(error)})") from None
        return b"".join(pieces)

    def read(self, name: str) -> np.ndarray:
        """The array ``name`` (its header already checked), at most ``max_member_bytes``."""
        header = self.headers[name]
        with self._open(name) as stream:
            self._read(stream, header.offset, name)
            raw = self._read(stream, header.nbytes, name)
        if len(raw) != header.nbytes:
            raise ValueError(f"{self.filename}: member {name!r} is truncated ({len(raw):,} of "
                             f"{header.nbytes:,} data bytes)")
        flat = np.frombuffer(raw, dtype=header.dtype, count=header.count)
        return flat.reshape(header.shape, order="F" if header.fortran_order else "C")

    def close(self) -> None:
        """Release the archive."""
        self._zip.close()

    def __enter__(self) -> "NpzArchive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
