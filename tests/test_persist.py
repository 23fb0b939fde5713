"""Long results persisted on disk: round trips, misses, and files that are not ours."""

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
