"""Every file from outside is hostile until checked: the corpus of ``tests/hostile_files.py``
through every library loader and every uploader.

Each hostile file is read in a child process (a crash there fails the test instead of
the test run: the virtual dataset used to kill the reading process with a segmentation
fault), by all three loaders, and must give a ``ValueError`` naming the file, no other
exception, no result holding a byte of the server's files, and a peak RSS of the
reading process under 300 MB above its RSS before the calls (the peak ``VmHWM`` reset
through ``/proc/self/clear_refs``), and of the HDF5 reader process under 300 MB
(``resource.getrusage``). The
uploaders are then driven through ``AppTest``: a message, no exception, the previous
state kept. Valid files the new checks must keep accepting are read as before.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from solver.array_files import NpzArchive, read_npy
from solver.kspace import image_to_kspace, load_kspace
from tests.hostile_files import RSS_PEAK_SINCE_HERE, SECRET, build

ROOT = Path(__file__).resolve().parents[1]
# Peak RSS a hostile file may add to the reading process.
RSS_BOUND_MB = 300

_PROBE = r"""
import json, resource, sys
import numpy as np
from solver.kspace import load_kspace
from solver.mask_files import load_mask
from solver.uploads import decode_upload
path, name = sys.argv[1], sys.argv[2]
secret = open(sys.argv[3], "rb").read()
data = open(path, "rb").read()
""" + RSS_PEAK_SINCE_HERE + r"""
loaders = {"kspace": lambda: load_kspace(data, name), "mask": lambda: load_mask(data, name),
           "image": lambda: decode_upload(data, filename=name)}
out = {}
for kind, load in loaders.items():
    try:
        result = load()
    except ValueError as error:
        out[kind] = {"error": "ValueError", "message": str(error)}
    except BaseException as error:
        out[kind] = {"error": "!" + type(error).__name__, "message": str(error)[:300]}
    else:
        arrays = [np.asarray(a) for a in (getattr(result, "kspace", None), getattr(result, "mask", None),
                                          result[0] if isinstance(result, tuple) else None) if a is not None]
        leaked = any(secret[:16] in a.tobytes() or secret[:16] in np.asarray(a, np.uint8).tobytes()
                     for a in arrays if a.size)
        out[kind] = {"error": None, "leaked": leaked}
out["rss_mb"] = peak() - base
out["child_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    files = build(folder)
    for item in files:
        (folder / item.name).write_bytes(item.data)
    return folder, {item.name: item for item in files}


def _probe(folder: Path, name: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _PROBE, str(folder / name), name, str(folder / "server_secret.bin")],
                          capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, f"{name}: the reading process ended with {done.returncode}: {done.stderr[-800:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_the_corpus_has_every_kind_of_attack(corpus):
    _, files = corpus
    attacks = " ".join(item.attack for item in files.values())
    for needed in ("virtual dataset", "external storage", "external link", "soft links naming each other",
                   "fill value", "chunk", "deflate bomb", "stored member", "1e10", "garbage",
                   "encrypted", "compression method", "30,000^2 PNG"):
        assert needed in attacks, needed
    assert {item.kind for item in files.values()} == {"kspace", "mask", "image"}


@pytest.mark.slow
def test_every_hostile_file_is_refused_by_every_loader_with_a_message(corpus):
    folder, files = corpus
    problems = []
    for name, item in files.items():
        outcome = _probe(folder, name)
        for kind in ("kspace", "mask", "image"):
            result = outcome[kind]
            if result["error"] != "ValueError" or not result["message"].strip():
                problems.append(f"{name} via {kind}: {result}")
        if name not in outcome[item.kind]["message"]:  # the loader it was made for names it
            problems.append(f"{name}: the message does not name the file: {outcome[item.kind]['message']}")
        if outcome["rss_mb"] >= RSS_BOUND_MB or outcome["child_mb"] >= RSS_BOUND_MB:
            problems.append(f"{name}: peak RSS +{outcome['rss_mb']:.0f} MB, HDF5 reader {outcome['child_mb']:.0f} MB")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_no_byte_of_a_server_file_reaches_a_result(corpus):
    folder, files = corpus
    for name in ("virtual_server_source.h5", "external_storage_secret.h5", "external_link.h5"):
        outcome = _probe(folder, name)
        assert outcome["kspace"]["error"] == "ValueError", outcome
        assert "refused" in outcome["kspace"]["message"]
    # The stand-ins really hold the secret: read directly, the source gives it back.
    import h5py

    with h5py.File(folder / "server_source.h5", "r") as f:
        assert f["kspace"][()].tobytes() == SECRET


# ------------------------------------------------------------------ valid files still read
def _phantom_kspace(n: int = 64) -> np.ndarray:
    from solver.phantoms import shepp_logan

    return image_to_kspace(shepp_logan(n))


@pytest.mark.parametrize("compression", [None, *(pytest.param(c, marks=pytest.mark.slow) for c in ("gzip", "lzf", "shuffle+gzip"))])
def test_a_valid_hdf5_reads_the_same_with_every_allowed_filter(compression):
    h5py = pytest.importorskip("h5py")
    k = _phantom_kspace()
    stack = np.stack([k, 2 * k]).astype(np.complex64)
    options = {} if compression is None else {"chunks": (1, 32, 32)}
    if compression == "shuffle+gzip":
        options.update(shuffle=True, compression="gzip")
    elif compression:
        options.update(compression=compression)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_dataset("kspace", data=stack, **options)
        f.create_group("meta").create_dataset("note", data=np.arange(3))
    data = load_kspace(buffer.getvalue(), "scan.h5", slice_index=1, convention="centred", layout="centred")
    np.testing.assert_allclose(data.kspace, 2 * k.astype(np.complex64), rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_a_slice_index_out_of_range_is_named_from_the_child():
    h5py = pytest.importorskip("h5py")
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f["kspace"] = np.ones((2, 32, 32), np.complex64)
    with pytest.raises(ValueError, match="slice_index"):
        load_kspace(buffer.getvalue(), "scan.h5", slice_index=5)


def test_npz_members_are_checked_from_the_directory_and_header_before_reading():
    k = _phantom_kspace().astype(np.complex64)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, kspace=k, mask=np.abs(k) > 0, extra=np.zeros((1000, 1000)))
    with NpzArchive(buffer.getvalue(), "scan.npz", max_member_bytes=16 * 2**20) as archive:
        assert archive.headers["kspace"].shape == (64, 64)
        assert archive.headers["extra"].nbytes == 8_000_000
        np.testing.assert_array_equal(archive.read("kspace"), k)
    with pytest.raises(ValueError, match=r"'extra.npy' inflates to 8,000,128 bytes"):
        NpzArchive(buffer.getvalue(), "scan.npz", max_member_bytes=4 * 2**20)
    # The same file through the k-space loader (its cap is 64 MiB): accepted.
    data = load_kspace(buffer.getvalue(), "scan.npz", convention="centred", layout="centred")
    np.testing.assert_allclose(data.kspace, k, atol=1e-6)


def test_an_npy_header_is_trusted_for_nothing():
    array = np.arange(12, dtype="<f4").reshape(3, 4)
    stream = io.BytesIO()
    np.save(stream, array)
    np.testing.assert_array_equal(read_npy(stream.getvalue(), "a.npy", max_bytes=48), array)
    with pytest.raises(ValueError, match="more than the 47 allowed"):
        read_npy(stream.getvalue(), "a.npy", max_bytes=47)
    with pytest.raises(ValueError, match="truncated"):
        read_npy(stream.getvalue()[:-1], "a.npy", max_bytes=48)
    fortran = io.BytesIO()
    np.save(fortran, np.asfortranarray(array))
    np.testing.assert_array_equal(read_npy(fortran.getvalue(), "f.npy", max_bytes=48), array)


def test_a_zip_member_whose_data_inflate_beyond_the_directory_is_cut_and_refused():
    # The directory states 200 bytes; the deflate stream holds 1 MiB: zipfile stops at
    # 200 bytes and the header's 1 MiB of data are never there.
    member = io.BytesIO()
    np.save(member, np.zeros(2**17))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("kspace.npy", member.getvalue())
    data = bytearray(archive.getvalue())
    central = data.rindex(b"PK\x01\x02")
    data[central + 24: central + 28] = (200).to_bytes(4, "little")  # the stated size
    with pytest.raises(ValueError, match="more than the member holds|corrupt"):
        load_kspace(bytes(data), "lie.npz")


# ------------------------------------------------------------------ the uploaders (AppTest)
_UPLOADERS = """
import streamlit as st
from explorer import own_data, state, uploads
from explorer.specs import all_specs
specs = all_specs()
state.init(st.session_state, specs)
own_data.mask_controls()
own_data.kspace_controls(specs)
accepted = uploads.accept(st.file_uploader("image", key="upload_file"))
if state.memory().upload_error:
    own_data.show_error(state.memory().upload_error)
"""


def _upload(at, key: str, name: str, data: bytes) -> None:
    at.file_uploader(key=key).set_value((name, data, "application/octet-stream")).run()


@pytest.mark.slow
def test_every_uploader_gives_a_message_and_keeps_the_previous_file(corpus):
    from streamlit.testing.v1 import AppTest

    from explorer.state import memory
    from explorer.text import WORD_JOINER

    _, files = corpus
    at = AppTest.from_string(_UPLOADERS, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    k = _phantom_kspace(128).astype(np.complex64)
    good = io.BytesIO()
    np.save(good, k)
    _upload(at, "kspace_file", "good.npy", good.getvalue())
    side = int(at.session_state["size"])
    mask = np.zeros((side, side), np.uint8)
    mask[:, side // 4: side // 2 + side // 4] = 1
    good_mask = io.BytesIO()
    np.save(good_mask, mask)
    _upload(at, "mask_file", "good_mask.npy", good_mask.getvalue())
    assert not at.exception and memory(at.session_state).user_kspace[0][0] == "good.npy"
    assert memory(at.session_state).user_mask[0] == "good_mask.npy"
    image = io.BytesIO()
    np.save(image, np.outer(np.arange(64.0), np.ones(64)))
    _upload(at, "upload_file", "good_image.npy", image.getvalue())
    assert memory(at.session_state).user_upload[0] == "good_image.npy"
    keys = {"kspace": "kspace_file", "mask": "mask_file", "image": "upload_file"}
    for item in files.values():
        _upload(at, keys[item.kind], item.name, item.data)
        assert not at.exception, (item.name, [e.value for e in at.exception])
        errors = "\n".join(str(e.value) for e in at.error).replace("\\", "").replace(WORD_JOINER, "")
        assert "rejected" in errors and item.name in errors, (item.name, errors)
        assert memory(at.session_state).user_kspace[0][0] == "good.npy"
        assert memory(at.session_state).user_mask[0] == "good_mask.npy"
        assert memory(at.session_state).user_upload[0] == "good_image.npy"


# ------------------------------------------------------------------ the model card's text
def test_card_text_fields_with_markdown_show_as_literal_text():
    from explorer.pictures import unet_card_warnings
    from tests.test_text import commonmark_text

    link = "[Session expired: log in again](https://evil.example/login)"
    image = "![x](https://evil.example/pixel.png)"
    card = {"sampling": {"pattern": link + " " + image, "rate": 0.25, "seed": image, "mask_sha256": link},
            "image_size": 64, "operator": image + " <img src=https://evil.example/i.png>",
            "architecture": {"depth": 2}}
    mask = np.ones((64, 64), bool)
    warnings = unet_card_warnings(card, "radial", 0.5, 128, "fourier", mask)
    shown = [commonmark_text(w).replace("\u2060", "") for w in warnings]  # every markdown character escaped
    assert any(link in text for text in shown) and any(image in text for text in shown)
    assert any("<img src" in text for text in shown)
    # Same setting but another mask: the seed (from the card) is quoted, literally.
    same = {**card, "sampling": {**card["sampling"], "pattern": "radial", "rate": 0.5}, "image_size": 128,
            "operator": "fourier"}
    (only,) = unet_card_warnings(same, "radial", 0.5, 128, "fourier", mask)
    assert image in commonmark_text(only).replace("\u2060", "")
    # A card whose fields break the check itself: one warning naming the card, no traceback.
    (broken,) = unet_card_warnings({"sampling": {"rate": "lots"}}, "radial", 0.5, 128, "fourier", mask)
    assert "U-Net model card rejected" in commonmark_text(broken)
