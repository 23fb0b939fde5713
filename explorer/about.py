"""The "About" text: the paper's claims, FIRENET, what each panel shows, the reference.

Markdown with its maths in LaTeX (``$...$``, ``$$...$$``: Streamlit draws it with KaTeX).
"""

from __future__ import annotations

__all__ = ["ABOUT", "PANELS"]

ABOUT = r"""
**What the paper claims.** Colbrook, Antun and Hansen make three claims. (1) *The
paradox* (their main theorem): for a constructed class of sparse-regression problems
whose inputs are known only approximately, stable and accurate networks exist, yet no
algorithm, even a randomised one, can compute one that is correct to K digits with
probability over 1/2; K-1 digits can be computed but need arbitrarily many training data,
K-2 digits need at most L. It is about computability on that class, not about MRI.
(2) Under sparsity in levels and the weighted robust null space property in levels
(rNSPL; subsampled Fourier or Walsh data with multilevel sampling and wavelets have it
with high probability), stable and accurate networks *can* be computed: FIRENET. Its
theorem (SI, Theorem 3) bounds the *error to the truth*,
$\|\Phi(y + e) - x\| \le C_1\, \sigma_{s,M}(x) / \sqrt{s} + C_2 \|e\|$ + a term that falls
exponentially in the number of restarts, with $C_1$ and $C_2$ set by the rNSPL constants
($\rho$, $\gamma$) and the weights (for 7 wavelet levels $C_2$ is at least about $17\gamma$). It
does not promise that the output moves less than the data. (3) Trained networks can be
very accurate on their training images and unstable; the paper's explanation is the
kernel of $A$: a map that recovers two images $x, x'$ well while $\|A(x - x')\|$ is small has
a local Lipschitz constant of at least $(\|x - x'\| - \text{the two errors}) / \|A(x - x')\|$.
This page measures claims (2) and (3) on MRI-like problems; the paradox is computed on
its own instance (docs/claims.md says which command measures what).

**The U-Net** on this page has the layout of the paper's (four down-sampling stages,
input the zero-filled image A* y) but not its recipe: base width 16 instead of 32, a
residual connection, and a last layer x + Re A*(y - A x) with no trained weights, which
puts the measured Fourier coefficients back so the U-Net only fills in the ones that were
not measured (random ellipses, N = 256, multilevel 25%). That design makes it more
accurate and comparatively stable for a trained network (its own worst case moves its
output about 3 times as much as the data, relatively); it is not the paper's unstable
example (AUTOMAP, and a plain U-Net). A U-Net trained by the paper's plain recipe (32 base
features, no residual, no data-consistency layer) at N = 64 for 22 CPU minutes ships with
the library (solver/weights/unet_plain_multilevel_r25_n64); it is not unstable by the
paper's measure either: its own worst case moves its output about 2.6 times as much as
the data (FIRENET 5 x 5 at that N: 1.1), and the kernel bound forces nothing on it, since
its errors are far larger than the faint detail (docs/claims.md).

**FIRENET** (Fast Iterative REstarted NETwork) is their construction. Each layer is one
primal-dual (Chambolle-Pock) step for the weighted square-root LASSO

$$\min_{x} \; \lambda \|x\|_{1,w} + \|A x - y\|_2 \quad \text{over wavelet coefficients } x,$$

with $A$ = sampling $\circ$ Fourier (or Walsh) $\circ$ inverse wavelet. Its weights are *computed*
from $A$, not learned. The paper restarts it every $p$ layers with a rescaled problem whose
accuracy target $\varepsilon_k$ shrinks by a factor $\nu$ (the fixed schedule: "FIRENET 5x5 (paper)";
the paper uses 5 x 5 on its ellipse images and 5 x 10 on its brain image). The stability
theorem covers these fixed schedules, under the rNSPL assumptions. The page's FIRENET
restarts when its own certified duality gap says so and balances its two step sizes from
the moves since the last restart (the adaptive schedule; each layer an over-relaxed
primal-dual step): its decisions depend on y, so the theorem does not cover it; its
stability is measured here, not proved.

**What the measurements say here** (docs/sweep.md). With the paper's
5 x 5 layers FIRENET stalls far from the minimiser of the sqrt-LASSO: it is 12 dB less
accurate than the U-Net, and under its own worst case its output moves about twice as
much as the data, relatively (the U-Net's three times). Run to the minimiser, FIRENET is
as accurate as the U-Net on these images, and its own worst case moves its output 5-7
times as much as the data. The theorem's measure is the error to the truth against
$\|e\|$: the stability panel plots it and fits its slope for each network, the paper's
fixed schedules included. In this setting accuracy and the size of that slope trade off
through FIRENET's depth and $\lambda$; the sentence at the top of the page states what the
numbers on screen show.
"""

PANELS = r"""
- **Sampling**: the mask (white = sampled) and the log-magnitude of the image's full
  k-space (Fourier) or sequency (Walsh) coefficients; the achieved sampling rate.
- **Reconstructions**: ground truth and each method on one colour scale, the absolute
  error underneath; PSNR, SSIM and relative error under each. A box dragged on any
  picture zooms all of them (double-click: the whole pictures); hovering a pixel shows
  each picture's value there.
- **Perturbation** (when one is chosen): the perturbation as an image, how much it
  changed each network's output ($|f(y + e) - f(y)|$), each network's error to the truth
  under it (and its change from the unperturbed error) and its change ratio: its relative
  output change per unit of relative data perturbation.
- **Convergence**: relative error to the truth and the *certified* relative gap against
  layer, for FIRENET and (when asked) plain and adaptive Chambolle-Pock. Every
  dual-feasible point $z$ gives $D(z) \le F^*$, whichever method produced it, so the best dual
  value $L$ of all the runs on these data certifies each iterate: $(F(x_k) - L) / L$ bounds
  $(F - F^*)/F^*$ with no minimiser needed. Objective and dual values are evaluated in double
  precision, so the bound holds although the page computes in single precision. The
  adaptive FIRENET never resets its dual, so its own certificate is tight (measured at
  N = 32 from layer 50 on: median 1.00-1.05x the true gap, at most 1.4x; with the
  data-consistent output up to 6-71x mid-run); its output is the best point it has
  certified so far, so more layers never give a worse one. The paper's
  fixed schedule resets it at every restart and certifies poorly on its own. Dotted lines
  mark restarts; with the fixed schedule the dashed step line is FIRENET's target $\varepsilon_k$ on
  the same scale (divided by L): where the gap stays flat while $\varepsilon_k$ keeps falling,
  FIRENET has stalled. The depth slider (on the Convergence page, beside the chart) shows
  the reconstructions after that many layers.
  The third panel draws the same gaps against the seconds each run computed (its
  recording left out). The dotted curve beside FIRENET's gap is its *own* certificate as
  it ran: its objective against the best of its own dual values so far, nothing
  borrowed; where it meets the solid curve, its certificate is as good as the best bound
  of all runs. At the last layer FIRENET polishes its best dual where small violations
  of $|A^* z| \le \lambda w$ are what limit the certificate (docs/schedules.md),
  so both curves can drop there. On line, spiral and 10 % radial masks the certificate
  falls far more slowly than on 2-D random ones: in double precision 3,500-7,300 layers
  to 1e-6 where 2-D random masks need 230-1,870, and on some not within 8,000
  (docs/schedules.md). Values
  below about 1e-4 are at the limit of the app's single precision: its runs stall at
  certified gaps of 4e-6 to 8e-5 (measured); the tables in docs/schedules.md are in double precision.
- **Stability**: the error to the truth $\|f(y + e) - x\|$ against the perturbation's size
  $\|e\|$, the quantity FIRENET's theorem bounds ($C_1 \sigma + C_2 \|e\|$ + depth term), for
  the worst case found against each network (solid) and random noise of the same size
  (dashed), for the page's networks and the paper's fixed FIRENET schedules (5 x 5 and
  5 x 10). Beside it, each worst-case line's least-squares intercept and slope: the slope
  is the measured counterpart of $C_2$ for the perturbations found (a lower estimate of the
  worst case, not a bound). The perturbation is on the data ($e$, $\|e\| \le \eta \|y\|$) or, as
  in the paper, on the image ($r$, Nesterov ascent on the raw gradient, stopped at a norm).
  Under it, the kernel lower bound: for an image with and without a faint detail that the
  mask hardly measures, $(\|x - x'\| - \text{both errors}) / \|A(x - x')\|$ for each network.

Reference: M. J. Colbrook, V. Antun, A. C. Hansen, *The difficulty of computing stable and
accurate neural networks: On the barriers of deep learning and Smale's 18th problem*,
PNAS 119(12) e2107151119 (2022), [arXiv:2101.08286](https://arxiv.org/abs/2101.08286).
"""
