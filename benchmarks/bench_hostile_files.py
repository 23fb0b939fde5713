"""Peak memory and time per hostile file: what each file of ``tests/hostile_files.py`` costs.

Each file is read by the loader it targets in a fresh process: the peak RSS of the
reading process above its RSS just before the call (Linux: the peak ``VmHWM`` is reset
through ``/proc/self/clear_refs`` after the imports and the file's bytes are in memory,
so the imports' own transient peak does not hide the loader's), for HDF5 also the peak
of the capped child process that parses the file (``resource.getrusage``,
``RUSAGE_CHILDREN``), the time, and the outcome (refused, with the start of the
message), as a markdown table.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_hostile_files.py [--out table.md]``
(about two minutes on one core). Two valid files of realistic size close the table, for
comparison.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.hostile_files import RSS_PEAK_SINCE_HERE  # noqa: E402 (the path above first)

_PROBE = r"""
import json, resource, sys, time
from solver.kspace import load_kspace
from solver.mask_files import load_mask
from solver.uploads import decode_upload
path, name, kind = sys.argv[1:4]
data = open(path, "rb").read()
loaders = {"kspace": lambda: load_kspace(data, name), "mask": lambda: load_mask(data, name),
           "image": lambda: decode_upload(data, filename=name)}
""" + RSS_PEAK_SINCE_HERE + r"""
start = time.perf_counter()
try:
    loaders[kind]()
    outcome = "ACCEPTED"
except ValueError as error:
    outcome = "refused: " + str(error)
except BaseException as error:
    outcome = f"CRASHED {type(error).__name__}: {error}"
seconds = time.perf_counter() - start
own = peak() - base
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"outcome": outcome, "seconds": seconds, "rss_mb": own, "child_mb": child}))
"""


def measure(folder: Path, name: str, kind: str) -> dict:
    """One file in a fresh process: its outcome, time and peak RSS."""
    done = subprocess.run([sys.executable, "-c", _PROBE, str(folder / name), name, kind],
                          capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    if done.returncode != 0:
        return {"outcome": f"PROCESS ENDED {done.returncode}", "seconds": float("nan"),
                "rss_mb": float("nan"), "child_mb": float("nan")}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _valid_files() -> list:
    """Two valid files of realistic size, for comparison: a fastMRI-like single-coil HDF5
    (10 slices of 640 x 368 complex64, 19 MB) and the same stack as a compressed NPZ."""
    import io

    import h5py
    import numpy as np

    from tests.hostile_files import Hostile

    rng = np.random.default_rng(0)
    stack = (rng.standard_normal((10, 640, 368)) + 1j * rng.standard_normal((10, 640, 368))).astype(np.complex64)
    stack[:, :, ::3] = 0  # undersampled columns
    h5 = io.BytesIO()
    with h5py.File(h5, "w") as f:
        f["kspace"] = stack
        f["mask"] = (np.arange(368) % 3 != 0).astype(np.float32)
    npz = io.BytesIO()
    np.savez_compressed(npz, kspace=stack)
    return [Hostile("valid_fastmri_like.h5", h5.getvalue(), "kspace", "valid"),
            Hostile("valid_stack.npz", npz.getvalue(), "kspace", "valid")]


def main() -> None:
    from tests.hostile_files import build

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="Also write the table to this file.")
    options = parser.parse_args()
    lines = ["| file | size (bytes) | loader | peak RSS above baseline (MB) | HDF5 reader process peak (MB) "
             "| seconds | outcome |", "|---|---:|---|---:|---:|---:|---|"]
    with tempfile.TemporaryDirectory() as folder:
        files = build(folder) + _valid_files()
        for item in files:
            (Path(folder) / item.name).write_bytes(item.data)
            row = measure(Path(folder), item.name, item.kind)
            child = f"{row['child_mb']:.0f}" if item.name.endswith(".h5") else "-"
            outcome = row["outcome"].replace("|", "/")[:90]
            lines.append(f"| {item.name} | {len(item.data):,} | {item.kind} | {row['rss_mb']:.1f} | {child} "
                         f"| {row['seconds']:.2f} | {outcome} |")
            print(lines[-1], flush=True)
    if options.out is not None:
        options.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
