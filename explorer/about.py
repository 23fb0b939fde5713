"""The "About" text: the paradox, FIRENET, what each panel shows, the reference."""

from __future__ import annotations

__all__ = ["ABOUT", "PANELS"]

ABOUT = """
**The paradox.** Trained neural networks for inverse problems, such as a U-Net that turns
undersampled MRI data into an image, can be very accurate on the kind of images they were
trained on and still be *unstable*: a perturbation of a few per cent of the data, chosen
well, produces artefacts, removes real details or hallucinates new ones. Colbrook, Antun
and Hansen prove that stable and accurate networks *exist* for such problems but in
general *cannot be computed* (trained) by any algorithm, however much data and computing
power it has. Under sparsity conditions (robust null space property) they can.

**The U-Net** here is the paper's network (four down-sampling stages, input the
zero-filled image A* y), trained on random-ellipse images for one sampling mask (N = 256,
multilevel 25%). Its last layer, x + Re A*(y - A x), has no trained weights: it puts the
measured Fourier coefficients back, so the U-Net only fills in the ones that were not
measured. That makes it more accurate on its training images, not more stable: what a
worst-case perturbation changes is mostly what the U-Net invents.

**FIRENET** (Fast Iterative REstarted NETwork) is their construction. Each layer is one
primal-dual (Chambolle-Pock) step for the weighted square-root LASSO

    minimise  lam ||x||_{1,w} + ||A x - y||_2   over wavelet coefficients x,

with A = sampling . Fourier (or Walsh) . inverse wavelet. Its weights are *computed*
from A, not learned. After every p layers it restarts with a rescaled problem whose
accuracy target eps_k shrinks by a factor nu, which makes it converge exponentially in
its depth; it is provably stable: its output moves by about as much as its input.

**Careful measurement** shows that with the paper's parameters (p = 5) FIRENET can stall
on subsampled problems: the schedule lowers eps_k on a fixed clock whatever the real gap
is. The explorer shows this honestly (eps_k next to the certified gap) and offers
parameters measured to converge here ("Recommended").
"""

PANELS = """
- **Sampling**: the mask (white = sampled) and the log-magnitude of the image's full
  k-space (Fourier) or sequency (Walsh) coefficients; the achieved sampling rate.
- **Reconstructions**: ground truth and each method on one colour scale, the absolute
  error underneath; PSNR, SSIM and relative error under each. All panels zoom together.
- **Perturbation** (when one is chosen): the perturbation as an image and how much it
  changed each network's output (|f(y + e) - f(y)|).
- **Convergence**: relative error to the truth and the *certified* relative gap against
  layer, for FIRENET and plain / tuned-ratio Chambolle-Pock. Every dual-feasible point z
  gives D(z) <= F*, whichever method produced it, so the best dual value L of all the
  runs on these data certifies each iterate: (F(x_k) - L) / L bounds (F - F*)/F* with no
  minimiser needed. (FIRENET's own duals are reset at every restart and certify poorly;
  tuned Chambolle-Pock's converge, so its curve sharpens everyone's certificate once it
  has run.) Dotted lines mark restarts; the dashed step line is FIRENET's target eps_k on
  the same scale (divided by L): where the gap stays flat while eps_k keeps falling,
  FIRENET has stalled. The depth slider shows the reconstructions after that many layers. Values
  below about 1e-6 are at the limit of the app's single precision.
- **Stability**: output change against perturbation size, log-log, worst case (solid)
  and random (dashed) for each network; the dotted diagonal is "change = perturbation".

Reference: M. J. Colbrook, V. Antun, A. C. Hansen, *The difficulty of computing stable and
accurate neural networks: On the barriers of deep learning and Smale's 18th problem*,
PNAS 119(12) e2107151119 (2022), [arXiv:2101.08286](https://arxiv.org/abs/2101.08286).
"""
