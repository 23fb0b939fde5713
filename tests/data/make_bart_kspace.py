"""Regenerate tests/data/bart_shepp_logan_64.{cfl,hdr} with BART (run from the repository root).

Writes the project's Shepp-Logan phantom (N = 64) and a multilevel 25 % mask (seed 3) as
BART files, then lets BART itself transform and undersample them::

    bart fft -u 3 image kspace          # unitary centred FFT over dimensions 0 and 1
    bart fmac kspace mask kspace_us     # keep the sampled positions

Needs the ``bart`` command line tool (Debian package ``bart``, tested with v0.8.00); the
tests read only the result.
"""

import pathlib
import shutil
import subprocess
import tempfile

import numpy as np

from solver.phantoms import shepp_logan
from solver.sampling import make_mask

OUT = pathlib.Path(__file__).resolve().parent / "bart_shepp_logan_64"


def write_cfl(base, array):
    dims = list(array.shape) + [1] * (16 - array.ndim)
    pathlib.Path(f"{base}.hdr").write_text("# Dimensions\n" + " ".join(map(str, dims)) + "\n")
    np.asarray(array, dtype="<c8").ravel(order="F").tofile(f"{base}.cfl")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        write_cfl(f"{tmp}/image", shepp_logan(64))
        write_cfl(f"{tmp}/mask", make_mask("multilevel", 64, 0.25, seed=3).astype(np.complex64))
        # relative names, so the header's history holds no local paths
        subprocess.run(["bart", "fft", "-u", "3", "image", "kspace"], check=True, cwd=tmp)
        subprocess.run(["bart", "fmac", "kspace", "mask", OUT.name], check=True, cwd=tmp)
        for ext in (".cfl", ".hdr"):
            shutil.copyfile(f"{tmp}/{OUT.name}{ext}", f"{OUT}{ext}")
    print(f"wrote {OUT}.cfl / .hdr")


if __name__ == "__main__":
    main()
