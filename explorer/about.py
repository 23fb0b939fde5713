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
from A, not learned. The paper restarts it every p layers with a rescaled problem whose
accuracy target eps_k shrinks by a factor nu (the fixed schedule: "FIRENET 5x5 (paper)").
The page's FIRENET restarts when its own certified duality gap says so and balances its
two step sizes from the moves since the last restart (the adaptive schedule; each layer an
over-relaxed primal-dual step): no per-problem table, and its certificate is its own.

**What the measurements say here** (docs/sweep.md). With the paper's
5 x 5 layers FIRENET stalls far from the minimiser of the sqrt-LASSO: it is 12 dB less
accurate than the U-Net and clearly more stable (its output moves about twice as much as
the data, relatively, under its own worst case; the U-Net's three times; under the
U-Net's worst case half as much as the U-Net's). Run to the minimiser, FIRENET is as
accurate as the U-Net on these images and *less* stable: with a small lam the minimiser
fits the data exactly, and its own worst case moves it 5-7 times as much as the data. So
in this setting accuracy and stability trade off through FIRENET's depth and lam; the
sentence at the top of the page states what the numbers on screen show.
"""

PANELS = """
- **Sampling**: the mask (white = sampled) and the log-magnitude of the image's full
  k-space (Fourier) or sequency (Walsh) coefficients; the achieved sampling rate.
- **Reconstructions**: ground truth and each method on one colour scale, the absolute
  error underneath; PSNR, SSIM and relative error under each. All panels zoom together.
- **Perturbation** (when one is chosen): the perturbation as an image, how much it
  changed each network's output (|f(y + e) - f(y)|), each network's error to the truth
  under it (and how many times its clean error) and its output change per unit of data
  perturbation.
- **Convergence**: relative error to the truth and the *certified* relative gap against
  layer, for FIRENET and (when asked) plain and adaptive Chambolle-Pock. Every
  dual-feasible point z gives D(z) <= F*, whichever method produced it, so the best dual
  value L of all the runs on these data certifies each iterate: (F(x_k) - L) / L bounds
  (F - F*)/F* with no minimiser needed. Objective and dual values are evaluated in double
  precision, so the bound holds although the page computes in single precision. The
  adaptive FIRENET never resets its dual, so its own certificate is tight (measured at
  N = 32 from layer 50 on: median 1.00-1.05x the true gap, at most 1.4x; with the
  data-consistent output up to 6-71x mid-run); its output is the best point it has
  certified so far, so more layers never give a worse one. The paper's
  fixed schedule resets it at every restart and certifies poorly on its own. Dotted lines
  mark restarts; with the fixed schedule the dashed step line is FIRENET's target eps_k on
  the same scale (divided by L): where the gap stays flat while eps_k keeps falling,
  FIRENET has stalled. The depth slider shows the reconstructions after that many layers.
  The third panel draws the same gaps against the seconds each run computed (its
  recording left out). The dotted curve beside FIRENET's gap is its *own* certificate as
  it ran: its objective against the best of its own dual values so far, nothing
  borrowed; where it meets the solid curve, its certificate is as good as the best bound
  of all runs. At the last layer FIRENET polishes its best dual where small violations
  of |A* z| <= lam w are what limit the certificate (docs/schedules.md),
  so both curves can drop there. On line, spiral and 10 % radial masks the certificate
  falls far more slowly than on 2-D random ones: in double precision 3,500-7,300 layers
  to 1e-6 where 2-D random masks need 230-1,870, and on some not within 8,000
  (docs/schedules.md). Values
  below about 1e-4 are at the limit of the app's single precision: its runs stall at
  certified gaps of 4e-6 to 8e-5 (measured); the tables in docs/schedules.md are in double precision.
- **Stability**: output change against perturbation size, log-log, worst case (solid)
  and random (dashed) for each network; the dotted diagonal is "change = perturbation".

Reference: M. J. Colbrook, V. Antun, A. C. Hansen, *The difficulty of computing stable and
accurate neural networks: On the barriers of deep learning and Smale's 18th problem*,
PNAS 119(12) e2107151119 (2022), [arXiv:2101.08286](https://arxiv.org/abs/2101.08286).
"""
