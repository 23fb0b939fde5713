"""What the double-precision certificate costs: CPU time of the adaptive FIRENET on the page's
default problem (N = 256, multilevel 25 %, Haar, level weights, Shepp-Logan, complex64,
300 layers, one torch thread), as a plain forward pass (no record read: one complex128
``A`` per check for the output's objective) and through ``solver.run`` as the page records
it (every layer; records carry the network's double-precision values, so recording applies
no ``A``; the certificate adds one complex128 ``A^*`` per check).

To compare with another version of the library, run the same file with that version's
``solver`` first on the path, interleaving the two::

    git archive bc8ee5b solver | tar -x -C /tmp/old
    for i in 1 2; do
      OMP_NUM_THREADS=1 PYTHONPATH=/tmp/old python benchmarks/run_cost_certificates.py
      OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/run_cost_certificates.py
    done
"""

from __future__ import annotations

import time

import torch

from solver.firenet import FIRENET
from solver.operators import SubsampledFourier, WaveletMeasurement
from solver.phantoms import shepp_logan
from solver.sampling import make_mask
from solver.trace import run
from solver.wavelets import Wavelet2D, level_weights


def main(size: int = 256, layers: int = 300) -> None:
    torch.set_num_threads(1)
    A = WaveletMeasurement(SubsampledFourier(make_mask("multilevel", size, 0.25, seed=0)), Wavelet2D("haar", None, size))
    image = torch.as_tensor(shepp_logan(size), dtype=torch.complex64)
    y = A.sampling.forward(image)
    net = FIRENET(A, weights=level_weights(image, A.wavelet, domain="image"), schedule="adaptive", max_layers=layers)
    start = time.process_time()
    with torch.no_grad():
        net(y)
    plain = time.process_time() - start
    start = time.process_time()
    run(net, y, reference=shepp_logan(size))
    print(f"forward {plain:.2f} s CPU, solver.run {time.process_time() - start:.2f} s CPU", flush=True)


if __name__ == "__main__":
    main()
