"""Long results persisted on disk: round trips, misses, files that are not ours, entries
edited with their key kept, planted links and folders, and the size bound."""

import json
import os

import pytest
import torch

from explorer import persist


def test_tensor_round_trip_and_misses(tmp_path, monkeypatch):
    monkeypatch.setenv("FIRENET_CACHE_DIR", str(tmp_path))
    e = torch.randn(50, dtype=torch.complex64, generator=torch.Generator().manual_seed(0))
    key = ("attack", "unet", "abc", 0.05, 20, 0, persist.code_version(("w.safetensors", 1.0)))
    assert persist.load_tensor(key) is None
    persist.save_tensor(key, e)
    back = persist.load_tensor(key)
    assert back.dtype == torch.complex64 and torch.equal(back, e)
    assert persist.load_tensor(key[:-1] + ("other version",)) is None
    # A file that is not a safetensors file (truncated, overwritten) is a miss, not a crash.
    (path,) = tmp_path.glob("*.safetensors")
    path.write_bytes(b"\x00" * 7)
    assert persist.load_tensor(key) is None


def test_json_round_trip_and_a_foreign_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FIRENET_CACHE_DIR", str(tmp_path))
    curves = {"U-Net, worst case": {"size": [0.01, 0.05], "change": [0.03, 0.2]}}
    persist.save_json(("stability", 1), curves)
    assert persist.load_json(("stability", 1)) == curves
    assert persist.load_json(("stability", 2)) is None
    (path,) = tmp_path.glob("*.json")
    path.write_text("[1, 2")  # not JSON
    assert persist.load_json(("stability", 1)) is None


def test_code_version_names_the_weights_in_use():
    a = persist.code_version(("a.safetensors", 1.0))
    assert a != persist.code_version(("a.safetensors", 2.0))
    assert a.startswith(persist.code_version())


# ---------------------------------------------------------------------------- tampering
def _cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("FIRENET_CACHE_DIR", str(folder))
    monkeypatch.delenv("FIRENET_CACHE_SECRET", raising=False)
    monkeypatch.delenv("FIRENET_CACHE_MAX_BYTES", raising=False)
    return folder


def _rewrite_tensor(path, transform):
    """Rewrite a stored tensor's values, keeping its metadata (key and digest)."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), framework="pt") as f:
        metadata, value = f.metadata(), f.get_tensor("value")
    save_file({"value": transform(value)}, str(path), metadata=metadata)


@pytest.mark.parametrize("transform", [lambda v: 100 * v, lambda v: torch.full_like(v, float("nan")),
                                       lambda v: v[:-1]], ids=["scaled", "nan", "shorter"])
def test_a_tensor_edited_with_its_key_kept_is_a_miss(tmp_path, monkeypatch, transform):
    folder = _cache(tmp_path, monkeypatch)
    e = torch.randn(40, dtype=torch.complex64, generator=torch.Generator().manual_seed(1))
    key = ("attack", "unet", "k", 0.05)
    persist.save_tensor(key, e)
    (path,) = folder.glob("*.safetensors")
    _rewrite_tensor(path, transform)
    assert persist.load_tensor(key) is None
    persist.save_tensor(key, e)  # recomputed and written again: a hit with the true values
    assert torch.equal(persist.load_tensor(key, shape=(40,), dtype=torch.complex64), e)


def test_a_tensor_of_another_shape_or_dtype_than_asked_is_a_miss(tmp_path, monkeypatch):
    _cache(tmp_path, monkeypatch)
    e = torch.ones(8, dtype=torch.complex64)
    persist.save_tensor(("k",), e)
    assert persist.load_tensor(("k",), shape=(9,)) is None
    assert persist.load_tensor(("k",), dtype=torch.complex128) is None
    assert persist.load_tensor(("k",), shape=(8,), dtype=torch.complex64) is not None
    persist.save_tensor(("nan",), torch.full((3,), float("nan")))  # never written
    assert persist.load_tensor(("nan",)) is None


def test_an_entry_copied_from_another_key_is_a_miss(tmp_path, monkeypatch):
    folder = _cache(tmp_path, monkeypatch)
    persist.save_json(("a",), {"v": [1.0]})
    persist.save_json(("b",), {"v": [2.0]})
    a, b = (folder / f"{persist._name(k)}.json" for k in (("a",), ("b",)))
    entry = json.loads(a.read_text())
    entry["key"] = repr(("b",))  # a's value and digest under b's name and key
    b.write_text(json.dumps(entry))
    assert persist.load_json(("b",)) is None
    assert persist.load_json(("a",)) == {"v": [1.0]}


@pytest.mark.parametrize("edit", ["scaled", "nan", "structure", "digest"])
def test_edited_json_is_a_miss(tmp_path, monkeypatch, edit):
    folder = _cache(tmp_path, monkeypatch)
    curves = {"U-Net, worst case": {"size": [0.01, 0.05], "change": [0.03, 0.2]}}
    key = ("stability", 3)
    persist.save_json(key, curves)
    (path,) = folder.glob("*.json")
    entry = json.loads(path.read_text())
    if edit == "scaled":
        entry["value"]["U-Net, worst case"]["change"] = [30.0, 200.0]
        text = json.dumps(entry)
    elif edit == "nan":
        text = json.dumps(entry).replace("0.2", "NaN")
    elif edit == "structure":
        entry["value"] = [1, 2, 3]
        text = json.dumps(entry)
    else:
        entry["digest"] = "0" * 64
        text = json.dumps(entry)
    path.write_text(text)
    assert persist.load_json(key) is None
    # A structure check refuses a value with a valid digest too.
    persist.save_json(key, {"other": 1})
    assert persist.load_json(key) == {"other": 1}
    assert persist.load_json(key, check=lambda v: "U-Net, worst case" in v) is None


def test_planted_partial_folder_and_symlink_are_never_written_through(tmp_path, monkeypatch):
    folder = _cache(tmp_path, monkeypatch)
    folder.mkdir()
    key = ("stability", 7)
    stem = persist._name(key)
    (folder / f"{stem}.partial").mkdir()  # what the old writer used as its temporary name
    outside = tmp_path / "outside.txt"
    outside.write_text("the server's own file")
    (folder / f"{stem}.json").symlink_to(outside)
    assert persist.load_json(key) is None  # the link is not followed for reading
    persist.save_json(key, {"v": [1.5]})
    assert outside.read_text() == "the server's own file"
    assert not (folder / f"{stem}.json").is_symlink()
    assert persist.load_json(key) == {"v": [1.5]}
    # An entry that is a folder is a miss, and writing it fails quietly.
    tensor_key = ("attack", 1)
    (folder / f"{persist._name(tensor_key)}.safetensors").mkdir()
    persist.save_tensor(tensor_key, torch.ones(3))
    assert persist.load_tensor(tensor_key) is None
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial") and p.is_file()]


def test_the_folder_is_bounded_least_recently_used_first(tmp_path, monkeypatch):
    folder = _cache(tmp_path, monkeypatch)
    one = torch.zeros(1000, dtype=torch.float32)  # 4,000 bytes of data, about 4.2 kB a file
    persist.save_tensor(("t", 0), one)
    size = next(folder.glob("*.safetensors")).stat().st_size
    monkeypatch.setenv("FIRENET_CACHE_MAX_BYTES", str(3 * size + size // 2))
    for i in range(1, 3):
        persist.save_tensor(("t", i), one)
    stamp = 1_000_000_000
    for i in range(3):  # entry 0 oldest; then used again: entry 1 becomes the oldest
        os.utime(folder / f"{persist._name(('t', i))}.safetensors", (stamp + i, stamp + i))
    assert persist.load_tensor(("t", 0)) is not None
    persist.save_tensor(("t", 3), one)
    kept = {i for i in range(4) if (folder / f"{persist._name(('t', i))}.safetensors").exists()}
    assert kept == {0, 2, 3}
    assert sum(p.stat().st_size for p in folder.glob("*.safetensors")) <= 3 * size + size // 2
    # A file that is not an entry is never deleted, whatever the bound.
    (folder / "notes.txt").write_text("x" * 10 * size)
    monkeypatch.setenv("FIRENET_CACHE_MAX_BYTES", "0")
    persist.save_tensor(("t", 4), one)
    assert (folder / "notes.txt").exists() and not list(folder.glob("*.safetensors"))


def test_max_bytes_reads_the_variable(monkeypatch):
    monkeypatch.setenv("FIRENET_CACHE_MAX_BYTES", "12345")
    assert persist.max_bytes() == 12345
    for bad in ("", "lots", "-1"):
        monkeypatch.setenv("FIRENET_CACHE_MAX_BYTES", bad)
        assert persist.max_bytes() == persist.DEFAULT_MAX_BYTES == 2 * 2**30


def test_a_read_creates_nothing_and_the_folder_is_private(tmp_path, monkeypatch):
    folder = _cache(tmp_path, monkeypatch)
    assert persist.load_json(("nothing",)) is None and not folder.exists()
    persist.save_json(("x",), 1)
    assert folder.stat().st_mode & 0o077 == 0
    assert (folder / ".secret").stat().st_mode & 0o777 == 0o600


# --------------------------------------------------------------------------------------
# Reconstructions (explorer.compute)
# --------------------------------------------------------------------------------------
def _trace(dtype, size=32, seed=0):
    import numpy as np

    from solver.trace import Trace

    rng = np.random.default_rng(seed)

    def picture():
        values = rng.standard_normal((size, size))
        return (values + 1j * rng.standard_normal((size, size)) if np.dtype(dtype).kind == "c" else values).astype(dtype)

    return Trace(image=picture(), layer=[1, 2, 3, 4], error=[0.5, 0.3, 0.2, 0.1], objective=[4.0, 3.0, 2.5, 2.4],
                 dual=[1.0, 2.0, 2.2, 2.3], time=[0.01, 0.02, 0.03, 0.04], snapshots={2: picture(), 4: picture()},
                 eps=[0.1, 0.01], restart_layers=[2], seconds=0.05)


def _problem(size=32):
    import numpy as np

    from solver.problem import make_problem
    from solver.sampling import make_mask

    return make_problem(np.random.default_rng(1).random((size, size)), make_mask("uniform", size, 0.4, seed=1))


@pytest.mark.parametrize("dtype", ["float32", "complex64", "float64"])
def test_a_reconstruction_round_trips_exactly(tmp_path, monkeypatch, dtype):
    import numpy as np

    from explorer import saved_traces

    monkeypatch.setenv("FIRENET_CACHE_DIR", str(tmp_path))
    trace, key = _trace(dtype), ("trace", ("recon", "firenet", "abc", None, None), "code version")
    assert saved_traces.load(key, 32) is None
    saved_traces.save(key, trace)
    back = saved_traces.load(key, 32)
    assert back.image.dtype == np.dtype(dtype) and np.array_equal(back.image, trace.image)
    assert sorted(back.snapshots) == [2, 4]
    for layer in (2, 4):
        assert np.array_equal(back.snapshots[layer], trace.snapshots[layer])
    for name in ("layer", "error", "objective", "dual", "time", "eps", "restart_layers", "seconds"):
        assert getattr(back, name) == getattr(trace, name), name
    assert not back.stopped and np.array_equal(back.at_depth(3), trace.at_depth(3))
    # Another key (another code version) or pictures of another size: a miss.
    assert saved_traces.load(key[:-1] + ("other code version",), 32) is None
    assert saved_traces.load(key, 64) is None


def test_an_edited_or_unfinished_reconstruction_is_never_read(tmp_path, monkeypatch):
    from dataclasses import replace

    from explorer import saved_traces

    monkeypatch.setenv("FIRENET_CACHE_DIR", str(tmp_path))
    saved_traces.save(("stopped",), replace(_trace("float32"), stopped=True))
    saved_traces.save(("no truth",), replace(_trace("float32"), error=[float("nan")] * 4))
    assert list(tmp_path.glob("*.json")) == [] and list(tmp_path.glob("*.safetensors")) == []
    saved_traces.save(("ok",), _trace("float32"))
    (entry,) = tmp_path.glob("*.json")
    stored = json.loads(entry.read_text())
    stored["value"]["error"][0] = 0.01  # a better first error, digest kept
    entry.write_text(json.dumps(stored))
    assert saved_traces.load(("ok",), 32) is None


def test_the_page_reads_a_reconstruction_from_disk_instead_of_running_it(tmp_path, monkeypatch):
    import numpy as np

    import solver.trace
    from explorer import compute
    from explorer.settings import FirenetSettings

    monkeypatch.setenv("FIRENET_CACHE_DIR", str(tmp_path))
    problem, fs = _problem(), FirenetSettings(schedule="fixed", restarts=2, layers=2)
    first = compute.reconstruct("firenet", problem, fs)
    fresh = compute._Store(8)  # a new server's memory
    monkeypatch.setattr(compute, "store", lambda: fresh)

    def refused(*args, **kwargs):
        raise AssertionError("the reconstruction was computed again")

    monkeypatch.setattr(solver.trace, "run", refused)
    again = compute.cached_reconstruction("firenet", problem, fs)
    assert again is not None and np.array_equal(again.image, first.image) and again.error == first.error
    assert np.array_equal(compute.reconstruct("firenet", problem, fs).image, first.image)
    assert fresh.get(compute.reconstruction_key("firenet", problem, fs)) is again  # kept in memory
    # Another solver code (or weights): the stored one is never read.
    monkeypatch.setattr(compute, "store", lambda: compute._Store(8))
    monkeypatch.setattr(persist, "code_version", lambda weights=None: "changed code")
    assert compute.cached_reconstruction("firenet", problem, fs) is None
