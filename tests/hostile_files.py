"""A corpus of hostile files: what a careless or hostile visitor could upload.

``python -m tests.hostile_files DIR`` writes every file into DIR; :func:`build` returns
them as :class:`Hostile` records for the tests (``tests/test_hostile_files.py``) and the
benchmark (``benchmarks/bench_hostile_files.py``).

Two files stand for the server's own files: ``server_secret.bin`` (4 KB of a recognisable
pattern, :data:`SECRET`) and ``server_source.h5`` (an HDF5 file whose ``kspace`` holds the
same bytes). Hostile files point at them (and at ``/etc/passwd``) by name; a loader that
follows a name lets those bytes reach its result, which the tests look for.

Kinds: ``"kspace"`` (``solver.kspace.load_kspace``), ``"mask"``
(``solver.mask_files.load_mask``), ``"image"`` (``solver.uploads.decode_upload``).
"""

from __future__ import annotations

import io
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["SECRET", "Hostile", "build", "write"]

#: The content of the stand-in for a server file (4,096 bytes).
#: Python source a reading process runs first (after its imports and the file's bytes are in
#: memory): defines ``peak()``, the peak resident memory in MB since that point, with
#: ``base`` subtracted by the caller. The test and the benchmark both measure with it.
RSS_PEAK_SINCE_HERE = r"""
import resource
def _status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
try:
    open("/proc/self/clear_refs", "w").write("5")  # the peak (VmHWM) starts again from here
    base, peak = _status("VmRSS"), lambda: _status("VmHWM")
except OSError:  # not Linux: the process's peak so far (imports included) is the baseline
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

SECRET = (b"SERVER-SECRET-0123456789abcdef!" * 140)[:4096]


@dataclass(frozen=True)
class Hostile:
    """One hostile file: its name, content, the loader it targets and what it tries."""

    name: str
    data: bytes
    kind: str
    attack: str


# ------------------------------------------------------------------------------ helpers
def _h5(build_file) -> bytes:
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        build_file(f)
    return buffer.getvalue()


def _npy_header(shape: tuple, dtype: str = "<c8") -> bytes:
    """An NPY 1.0 header stating ``shape`` and ``dtype`` (no data)."""
    text = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape!r}, }}"
    text += " " * (63 - (10 + len(text)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


def _zip_member(name: str, payload: bytes, size: int, crc: int, *, method: int = 8, flags: int = 0,
                stated_size: int | None = None) -> bytes:
    """A one-member zip archive written by hand (so sizes, method and flags can lie)."""
    stated = size if stated_size is None else stated_size
    raw_name = name.encode()
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, flags, method, 0, 0, crc, len(payload),
                        stated, len(raw_name), 0) + raw_name
    central = struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, flags, method, 0, 0, crc, len(payload),
                          stated, len(raw_name), 0, 0, 0, 0, 0, 0) + raw_name
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(payload), 0)
    return local + payload + central + end


def _png(width: int, height: int, depth: int, colour: int, idat: bytes) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">2I5B", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _png_zeros(width: int, height: int) -> bytes:
    """A 1-bit grayscale PNG of ``width`` x ``height`` zeros (compressed: tiny file)."""
    row = (width + 7) // 8 + 1
    packer = zlib.compressobj(9)
    line = bytes(row)
    body = b"".join(packer.compress(line) for _ in range(height)) + packer.flush()
    return _png(width, height, 1, 0, body)


# ------------------------------------------------------------------------------ the corpus
def _server_files(folder: Path) -> tuple[Path, Path]:
    import h5py

    folder.mkdir(parents=True, exist_ok=True)
    secret = folder / "server_secret.bin"
    secret.write_bytes(SECRET)
    source = folder / "server_source.h5"
    with h5py.File(source, "w") as f:
        f["kspace"] = np.frombuffer(SECRET, dtype="<c8").reshape(16, 32)
    return secret, source


def _kspace_files(secret: Path, source: Path) -> list[Hostile]:
    import h5py

    good = (np.random.default_rng(0).standard_normal((64, 64)) + 1j).astype(np.complex64)
    files = []

    def add(name: str, attack: str, build_file) -> None:
        files.append(Hostile(name, _h5(build_file), "kspace", attack))

    def virtual(f, target: str) -> None:
        layout = h5py.VirtualLayout(shape=(16, 32), dtype="c8")
        layout[:] = h5py.VirtualSource(target, "kspace", shape=(16, 32))
        f.create_virtual_dataset("kspace", layout)

    add("virtual_server_source.h5", "virtual dataset whose source file exists on the server (crashed it)",
        lambda f: virtual(f, str(source)))
    add("virtual_missing_source.h5", "virtual dataset naming a missing file",
        lambda f: virtual(f, "/nonexistent/none.h5"))
    add("external_storage_secret.h5", "external storage: raw data in a named server file",
        lambda f: f.create_dataset("kspace", shape=(16, 32), dtype="<c8", external=[(str(secret), 0, 4096)]))
    add("external_storage_passwd.h5", "external storage naming /etc/passwd",
        lambda f: f.create_dataset("kspace", shape=(8, 64), dtype="u1", external=[("/etc/passwd", 0, 512)]))

    def external_link(f) -> None:
        f["kspace"] = h5py.ExternalLink(str(source), "kspace")

    add("external_link.h5", "external link to a server file", external_link)

    def soft_loop(f) -> None:
        f["kspace"] = h5py.SoftLink("/other")
        f["other"] = h5py.SoftLink("/kspace")

    add("soft_link_loop.h5", "soft links naming each other", soft_loop)

    def soft_to_data(f) -> None:
        f["data"] = good
        f["kspace"] = h5py.SoftLink("/data")

    add("soft_link.h5", "a soft link (not followed, by rule)", soft_to_data)

    def hard_loop(f) -> None:
        group = f.create_group("g")
        group["loop"] = group  # a hard link to itself: an endless tree
        f["kspace"] = good

    add("hard_link_loop.h5", "a group hard-linked into itself", hard_loop)
    add("huge_fill.h5", "1e10 elements never written (fill value): 1.4 KB file",
        lambda f: f.create_dataset("kspace", shape=(100_000, 100_000), dtype="<c8", chunks=(1, 4096)))
    add("huge_chunk.h5", "one chunk of 128 MiB",
        lambda f: f.create_dataset("kspace", shape=(4096, 4096), dtype="<c8", chunks=(4096, 4096)))

    def huge_mask(f) -> None:
        f["kspace"] = good
        f.create_dataset("mask", shape=(50_000, 50_000), dtype="u1", chunks=(1, 50_000))

    add("huge_mask.h5", "a mask of 2.5e9 elements", huge_mask)

    def stack_claim(f) -> None:
        f.create_dataset("kspace", shape=(2, 50_000, 50_000), dtype="<c8", chunks=(1, 1, 50_000))

    add("huge_slice.h5", "a stack whose one slice is 2.5e9 elements", stack_claim)

    def chunk_bomb(f) -> None:
        ds = f.create_dataset("kspace", shape=(64, 64), dtype="<c8", chunks=(64, 64), compression="gzip")
        ds.id.write_direct_chunk((0, 0), zlib.compress(bytes(2**20 * 64), 9))

    add("chunk_bomb.h5", "a gzip chunk that inflates to 64 MiB for a 32 KiB chunk", chunk_bomb)

    def corrupt_chunk(f) -> None:
        ds = f.create_dataset("kspace", shape=(64, 64), dtype="<c8", chunks=(64, 64), compression="gzip")
        ds.id.write_direct_chunk((0, 0), b"\x78\x9c" + bytes(range(256)) * 8)

    add("corrupt_chunk.h5", "a gzip chunk of garbage", corrupt_chunk)

    def unknown_filter(f) -> None:
        ds = f.create_dataset("kspace", shape=(64, 64), dtype="<c8", chunks=(64, 64), compression=307,
                              allow_unknown_filter=True)
        ds.id.write_direct_chunk((0, 0), b"BZh9" + bytes(100))

    add("unknown_filter.h5", "an unavailable compression filter (bzip2 plugin)", unknown_filter)
    add("kspace_group.h5", "'kspace' is a group", lambda f: f.create_group("kspace"))
    add("string_kspace.h5", "'kspace' holds strings", lambda f: f.create_dataset("kspace", data=["a", "b"]))
    valid = _h5(lambda f: f.create_dataset("kspace", data=good))
    files.append(Hostile("truncated.h5", valid[: len(valid) // 2], "kspace", "a truncated HDF5 file"))
    files.append(Hostile("not_hdf5.h5", b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 4, "kspace",
                         "an HDF5 signature then garbage"))

    # NPZ / NPY k-space
    size = 8192 * 8192 * 8
    member = _npy_header((8192, 8192))
    files.append(Hostile("deflate_bomb.npz", _zip_member(
        "kspace.npy", _recompress_zeros(size, member), len(member) + size, _crc_zeros(member, size)),
        "kspace", "deflate bomb: 0.5 MB inflating to 512 MiB"))
    small = _npy_header((100_000, 100_000)) + bytes(1024)
    files.append(Hostile("raw_huge_member.npz", _zip_member(
        "kspace.npy", small, len(small), zlib.crc32(small), method=0, stated_size=2**32 - 2),
        "kspace", "a stored member whose directory states 4 GiB"))
    files.append(Hostile("lying_member.npz", _zip_member(
        "kspace.npy", small, len(small), zlib.crc32(small), method=0),
        "kspace", "a member whose NPY header states 1e10 elements"))
    inner = _npy_header((64, 64)) + good.tobytes()
    files.append(Hostile("encrypted.npz", _zip_member(
        "kspace.npy", inner, len(inner), zlib.crc32(inner), method=0, flags=1), "kspace",
        "an encrypted member"))
    files.append(Hostile("unsupported_method.npz", _zip_member(
        "kspace.npy", inner, len(inner), zlib.crc32(inner), method=97), "kspace",
        "compression method 97 (WavPack)"))
    files.append(Hostile("corrupt_deflate.npz", _zip_member(
        "kspace.npy", bytes(range(256)) * 8, len(inner), zlib.crc32(inner)), "kspace",
        "a deflate stream of garbage"))
    files.append(Hostile("bad_crc.npz", _zip_member(
        "kspace.npy", inner, len(inner), 12345, method=0), "kspace", "a member whose CRC is wrong"))
    objects = io.BytesIO()
    np.savez(objects, kspace=np.array([{"a": 1}, None], dtype=object))
    files.append(Hostile("object_member.npz", objects.getvalue(), "kspace", "a pickled object member"))
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as archive:
        archive.writestr("kspace", b"not an array")
    files.append(Hostile("raw_member.npz", raw.getvalue(), "kspace", "a member that is not NPY"))
    files.append(Hostile("many_members.npz", _many_members(100_000), "kspace",
                         "100,000 empty members (a directory that costs memory to list)"))
    files.append(Hostile("claims_1e10.npy", _npy_header((100_000, 100_000)) + bytes(64), "kspace",
                         "a 128-byte NPY stating 1e10 elements"))
    files.append(Hostile("object.npy", _npy_header((2,), "|O") + b"\x80\x04N.", "kspace",
                         "an NPY of pickled objects"))
    return files


def _many_members(count: int) -> bytes:
    """A zip archive of ``count`` empty stored members."""
    local, central = [], []
    offset = 0
    for index in range(count):
        name = f"m{index}.npy".encode()
        header = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name
        central.append(struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name),
                                   0, 0, 0, 0, 0, offset) + name)
        local.append(header)
        offset += len(header)
    directory = b"".join(central)
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, min(count, 0xFFFF), min(count, 0xFFFF),
                      len(directory), offset, 0)
    return b"".join(local) + directory + end


def _crc_zeros(prefix: bytes, count: int) -> int:
    crc, piece, left = zlib.crc32(prefix), bytes(2**20), count
    while left:
        part = piece[: min(left, len(piece))]
        crc = zlib.crc32(part, crc)
        left -= len(part)
    return crc


def _recompress_zeros(count: int, prefix: bytes) -> bytes:
    """Raw deflate of ``prefix`` then ``count`` zeros, as one stream (built in pieces)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = [packer.compress(prefix)]
    piece, left = bytes(2**20), count
    while left:
        part = piece[: min(left, len(piece))]
        out.append(packer.compress(part))
        left -= len(part)
    out.append(packer.flush())
    return b"".join(out)


def _raster_files() -> list[Hostile]:
    files = []
    bomb = _png_zeros(30_000, 30_000)
    header_bomb = _png(100_000, 100_000, 8, 0, zlib.compress(bytes(100_001 * 4)))
    corrupt = _png(64, 64, 8, 0, b"\x78\x9c" + bytes(range(256)))
    valid = _png(64, 64, 8, 0, zlib.compress(b"".join(b"\x00" + bytes([i]) * 64 for i in range(64))))
    for kind in ("mask", "image"):
        files += [
            Hostile(f"bomb_30000.{kind}.png", bomb, kind, "a 30,000^2 PNG of 0.1 MB"),
            Hostile(f"header_bomb.{kind}.png", header_bomb, kind, "a PNG header stating 1e10 pixels"),
            Hostile(f"corrupt.{kind}.png", corrupt, kind, "a PNG whose image data are garbage"),
            Hostile(f"truncated.{kind}.png", valid[: len(valid) - 30], kind, "a truncated PNG"),
            Hostile(f"claims_1e10.{kind}.npy", _npy_header((100_000, 100_000), "|u1") + bytes(64), kind,
                    "an NPY stating 1e10 elements"),
            Hostile(f"object.{kind}.npy", _npy_header((2,), "|O") + b"\x80\x04N.", kind,
                    "an NPY of pickled objects"),
        ]
    return files


def build(folder: str | Path) -> list[Hostile]:
    """Every hostile file; the server stand-ins are written into ``folder``.

    Parameters
    ----------
    folder : str or Path
        Where ``server_secret.bin`` and ``server_source.h5`` are written (the files the
        hostile ones point at).

    Returns
    -------
    list of Hostile
    """
    secret, source = _server_files(Path(folder))
    return _kspace_files(secret, source) + _raster_files()


def write(folder: str | Path) -> list[Path]:
    """Write the corpus (and the server stand-ins) into ``folder``; return the paths."""
    folder = Path(folder)
    paths = []
    for item in build(folder):
        path = folder / item.name
        path.write_bytes(item.data)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write(sys.argv[1] if len(sys.argv) > 1 else "hostile"):
        print(f"{written.stat().st_size:>10,}  {written}")
