"""HDF5 files from outside (fastMRI single-coil k-space), read in a child process after
their structure is checked.

An HDF5 file can point outside itself: an *external link* names another file, a
*virtual dataset* maps its data onto datasets of other files, and *external storage*
keeps a dataset's raw bytes in a named file (any file the server can read, e.g. the
system password file). Reading such a dataset reads that file, and a virtual dataset
whose source exists on the server crashed the reading process (a segmentation fault in
the HDF5 library). A *soft link* names a path, possibly itself (a loop). And the library
parses a binary format in C: a corrupt or crafted file can crash or exhaust it in ways
no check in Python foresees.

So the file is handed to a separate Python process (``python -m solver.hdf5_files``),
bytes on its standard input, which

1. caps its own address space (:data:`CHILD_MEMORY_BYTES`) and runs for at most
   :data:`CHILD_SECONDS`;
2. walks every link of the file without following any (hard links only: a soft,
   external or user-defined link anywhere is refused; at most :data:`MAX_OBJECTS`
   objects and :data:`MAX_DEPTH` levels, which also ends hard-link loops);
3. checks every dataset's creation properties before any data is read: the layout must
   be compact, contiguous or chunked (virtual refused), no external storage, filters
   only deflate, shuffle, LZF and Fletcher-32, chunks at most :data:`MAX_CHUNK_BYTES`;
4. checks the ``kspace`` and ``mask`` datasets' type (plain numbers) and the size of
   what will be read (one slice, and the mask) from the metadata;
5. only then reads, and writes the arrays back as NPY, which this process reads with
   :func:`solver.array_files.read_npy` (header first).

A crash, a timeout or an exhausted memory in the child is a refusal with a message;
the calling process (the page's server) is never touched.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

__all__ = [
    "CHILD_MEMORY_BYTES",
    "CHILD_SECONDS",
    "MAX_CHUNK_BYTES",
    "MAX_DEPTH",
    "MAX_OBJECTS",
    "read_fastmri",
]

#: Address space the reading process may use (Python, numpy and h5py take about 0.5 GiB).
CHILD_MEMORY_BYTES = 2 * 2**30
#: Wall-clock seconds the reading process may take.
CHILD_SECONDS = 60
#: Largest chunk (uncompressed) a dataset may have.
MAX_CHUNK_BYTES = 16 * 2**20
#: Most objects (groups, datasets, named types) a file may have, and how deep.
MAX_OBJECTS = 1024
MAX_DEPTH = 16

# h5z filter codes: deflate (gzip), shuffle, Fletcher-32 checksum, LZF (h5py's own).
_FILTERS = {1: "deflate", 2: "shuffle", 3: "fletcher32", 32000: "lzf"}
# The result comes back as: one JSON line, then the k-space NPY, then the mask NPY.
_OK = "ok"


def read_fastmri(data: bytes, filename: str, slice_index: int | None, *, max_elements: int,
                 ) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """The ``kspace`` slice and the ``mask`` of a fastMRI-style HDF5 file, read safely.

    Parameters
    ----------
    data : bytes
        The file's contents.
    filename : str
        For messages.
    slice_index : int or None
        For a (slices, rows, cols) ``kspace``; the middle slice when None.
    max_elements : int
        Most elements of the slice read (and of the mask).

    Returns
    -------
    kspace : np.ndarray, (rows, cols)
    mask : np.ndarray or None
    notes : list of str

    Raises
    ------
    ValueError
        For every file that is refused or cannot be read; the message names the file
        and the reason.
    """
    from solver.array_files import read_npy

    request = json.dumps({"slice_index": slice_index, "max_elements": int(max_elements),
                          "filename": filename}).encode()
    root = str(Path(__file__).resolve().parent.parent)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env.update(PYTHONPATH=root, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               HDF5_PLUGIN_PATH="", HDF5_USE_FILE_LOCKING="FALSE")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "solver.hdf5_files"], input=request + b"\n" + bytes(data),
            capture_output=True, timeout=CHILD_SECONDS, env=env, cwd=root, check=False)
    except subprocess.TimeoutExpired:
        raise ValueError(f"{filename}: reading the HDF5 file took more than {CHILD_SECONDS} s; refused") from None
    except OSError as error:
        raise ValueError(f"{filename}: the HDF5 reader could not start ({error})") from None
    if done.returncode != 0:
        how = (f"was stopped by signal {-done.returncode}" if done.returncode < 0
               else f"failed (exit status {done.returncode})")
        memory = " (out of memory?)" if b"MemoryError" in done.stderr[-2000:] else ""
        raise ValueError(f"{filename}: the HDF5 reader {how}{memory} on this file: it is corrupt or "
                         "crafted; refused")
    line, _, rest = done.stdout.partition(b"\n")
    try:
        answer = json.loads(line)
    except ValueError:
        raise ValueError(f"{filename}: the HDF5 reader gave no answer; refused") from None
    if answer.get("status") != _OK:
        raise ValueError(str(answer.get("message", f"{filename}: refused")))
    limit = int(max_elements) * 16
    kspace_bytes = int(answer["kspace_bytes"])
    kspace = read_npy(rest[:kspace_bytes], filename, max_bytes=limit, what="'kspace' dataset")
    mask = None
    if answer["has_mask"]:
        mask = read_npy(rest[kspace_bytes:], filename, max_bytes=limit, what="'mask' dataset")
    return np.array(kspace), (None if mask is None else np.array(mask)), list(answer["notes"])


# --------------------------------------------------------------------------------------
# The child process
# --------------------------------------------------------------------------------------
class _Refused(Exception):
    """A refusal with the message for the user."""


def _check_dataset(dataset, path: str, filename: str) -> None:
    import h5py

    plist = dataset.id.get_create_plist()
    layout = plist.get_layout()
    if layout == h5py.h5d.VIRTUAL:
        raise _Refused(f"{filename}: dataset {path!r} is a virtual dataset (its data live in other "
                       "files); refused, nothing was read")
    if layout not in (h5py.h5d.COMPACT, h5py.h5d.CONTIGUOUS, h5py.h5d.CHUNKED):
        raise _Refused(f"{filename}: dataset {path!r} has an unknown storage layout ({layout}); refused")
    if plist.get_external_count() > 0:
        raise _Refused(f"{filename}: dataset {path!r} keeps its data in external files (named "
                       "inside the file); refused, nothing was read")
    for index in range(plist.get_nfilters()):
        code = plist.get_filter(index)[0]
        if code not in _FILTERS:
            raise _Refused(f"{filename}: dataset {path!r} uses compression filter {code}; only "
                           f"{', '.join(_FILTERS.values())} are read")
    if layout == h5py.h5d.CHUNKED:
        chunk = plist.get_chunk()
        nbytes = int(np.prod(chunk, dtype=object)) * dataset.id.get_type().get_size()
        if nbytes > MAX_CHUNK_BYTES:
            raise _Refused(f"{filename}: dataset {path!r} has chunks of shape {tuple(chunk)} "
                           f"({nbytes:,} bytes), more than the {MAX_CHUNK_BYTES:,} allowed; refused")


def _walk(handle, filename: str) -> None:
    """Check every link and dataset of the file, following no link but hard ones."""
    import h5py

    pending = [(handle, "", 0)]
    objects = 0
    while pending:
        group, path, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise _Refused(f"{filename}: groups nested more than {MAX_DEPTH} deep; refused")
        names = []
        group.id.links.iterate(lambda name: names.append(name) if len(names) <= MAX_OBJECTS else 1)
        for name in names:
            objects += 1
            where = f"{path}/{name.decode('utf-8', 'replace')}"
            if objects > MAX_OBJECTS:
                raise _Refused(f"{filename}: more than {MAX_OBJECTS} objects (or a loop of links); refused")
            kind = group.id.links.get_info(name).type
            if kind == h5py.h5l.TYPE_SOFT:
                raise _Refused(f"{filename}: {where!r} is a soft link (a name for another path); "
                               "refused, no link is followed")
            if kind == h5py.h5l.TYPE_EXTERNAL:
                raise _Refused(f"{filename}: {where!r} is an external link (to another file); "
                               "refused, no link is followed")
            if kind != h5py.h5l.TYPE_HARD:
                raise _Refused(f"{filename}: {where!r} is a user-defined link; refused")
            item = group[name]
            if isinstance(item, h5py.Group):
                pending.append((item, where, depth + 1))
            elif isinstance(item, h5py.Dataset):
                _check_dataset(item, where, filename)


def _plain_dataset(handle, name: str, filename: str):
    import h5py

    if name not in handle:
        return None
    item = handle[name]
    if not isinstance(item, h5py.Dataset):
        raise _Refused(f"{filename}: {name!r} is a {type(item).__name__.lower()}, not a dataset")
    if item.shape is None:
        raise _Refused(f"{filename}: {name!r} is an empty dataset (no dataspace)")
    dtype = item.dtype
    if dtype.kind not in "biufc" or dtype.fields is not None or dtype.subdtype is not None:
        raise _Refused(f"{filename}: {name!r} has type {dtype}; plain numbers are needed")
    return item


def _count(shape) -> int:
    return int(np.prod(shape, dtype=object))


def _read(data: bytes, request: dict) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    import h5py

    from solver.validation import check_int

    filename = str(request["filename"])
    max_elements = int(request["max_elements"])
    slice_index = request["slice_index"]
    notes: list[str] = []
    try:
        handle = h5py.File(io.BytesIO(data), "r")
    except Exception as error:  # noqa: BLE001 - OSError, ValueError, ... from the HDF5 library
        raise _Refused(f"{filename}: not a readable HDF5 file ({_first_line(error)})") from None
    with handle:
        _walk(handle, filename)
        kspace = _plain_dataset(handle, "kspace", filename)
        if kspace is None:
            names = ", ".join(repr(n) for n in list(handle.keys())[:20])
            raise _Refused(f"{filename}: no 'kspace' dataset (fastMRI layout); datasets: {names}")
        shape = kspace.shape
        if len(shape) == 2:
            selection: tuple = ()
            read_shape = shape
        elif len(shape) == 3:
            n = shape[0]
            if slice_index is None:
                slice_index = n // 2
                notes.append(f"Slice {slice_index} of {n} (the middle one) was taken.")
            try:
                slice_index = check_int("slice_index", slice_index, 0, n - 1)
            except ValueError as error:
                raise _Refused(str(error)) from None
            selection = (slice_index,)
            read_shape = shape[1:]
        else:
            raise _Refused(f"{filename}: 'kspace' has shape {shape}; single-coil (slices, rows, cols) "
                           "is supported (multi-coil data must be combined first)")
        if _count(read_shape) > max_elements:
            raise _Refused(f"{filename}: a 'kspace' slice of shape {read_shape} has {_count(read_shape):,} "
                           f"elements, more than the {max_elements:,} allowed; refused before reading")
        stored_mask = _plain_dataset(handle, "mask", filename)
        if stored_mask is not None and _count(stored_mask.shape) > max_elements:
            raise _Refused(f"{filename}: 'mask' of shape {stored_mask.shape} is larger than the "
                           f"{max_elements:,} elements allowed; refused before reading")
        try:
            arr = kspace[selection] if selection else kspace[()]
            mask = None if stored_mask is None else stored_mask[()]
        except MemoryError:
            raise _Refused(f"{filename}: reading it needs more memory than allowed; refused") from None
        except Exception as error:  # noqa: BLE001 - OSError (corrupt chunk, filter), ...
            raise _Refused(f"{filename}: the data cannot be read ({_first_line(error)})") from None
    with_mask = " and its 'mask'." if mask is not None else "."
    notes.append("HDF5 (fastMRI layout): dataset 'kspace'" + with_mask)
    return np.asarray(arr), (None if mask is None else np.asarray(mask)), notes


def _first_line(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]


def _limit_self() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file


def _child_main() -> int:
    _limit_self()
    line = sys.stdin.buffer.readline()
    data = sys.stdin.buffer.read()
    out = sys.stdout.buffer
    try:
        request = json.loads(line)
        kspace, mask, notes = _read(data, request)
    except _Refused as refusal:
        out.write(json.dumps({"status": "refused", "message": str(refusal)}).encode() + b"\n")
        return 0
    buffers = []
    for array in (kspace, mask):
        if array is not None:
            stream = io.BytesIO()
            np.save(stream, np.ascontiguousarray(array), allow_pickle=False)
            buffers.append(stream.getvalue())
    answer = {"status": _OK, "notes": notes, "has_mask": mask is not None,
              "kspace_bytes": len(buffers[0])}
    out.write(json.dumps(answer).encode() + b"\n")
    for buffer in buffers:
        out.write(buffer)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
