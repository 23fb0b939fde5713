"""FIRENET: a restarted, unrolled primal-dual network for the weighted sqrt-LASSO.

Each *layer* is one Chambolle-Pock step for::

    minimise  lam * ||x||_{1,w} + ||A x - y||_2          (x: wavelet coefficients)

with ``A = P_Omega F W^-1`` (``||A|| = 1``)::

    x_new = soft(x - tau A^* z, tau lam w)                 # complex soft threshold
    z     = proj_{||z|| <= 1}(z + sigma (A (2 x_new - x) - y))

``p`` layers form a *block* whose output is the ergodic average of the ``x_new`` (the
paper's choice) or the last one. ``n`` restarts chain blocks, each on a rescaled
problem::

    eps_k = nu (delta + eps_{k-1}),   eps_0 = ||y||
    alpha = 2 ||A|| / (C eps_k p)
    psi   = block(alpha y, alpha psi) / alpha              # dual z reset to 0

Because ``F`` is positively homogeneous, the rescaled block equals a block on the
original data with steps ``tau / alpha`` and ``sigma alpha``; that is how it is
computed here. ``C = 1`` and ``nu = e^-1`` are the paper's (Colbrook, Antun and Hansen,
PNAS 2022); ``C`` is the sharpness scale of WARPd (Colbrook, SIAM J. Imaging Sci. 2022).

Notes
-----
* The effective step ratio of restart ``k`` is ``(tau/sigma) (C eps_k p / 2)^2``: the
  accuracy schedule fixes the step ratio. Scaling ``tau/sigma`` by ``r`` (keeping
  ``tau sigma`` fixed) is therefore exactly the same as scaling ``C`` by ``sqrt(r)``.
* With the paper's ``p = 5`` and subsampled data, the iteration stalls: ``eps_k`` keeps
  shrinking on a fixed clock, the primal step ``tau C eps_k p / 2`` goes to zero and
  the iterate freezes well above the minimiser. :data:`RECOMMENDED` holds measured
  parameters that avoid this on the explorer's default problem.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import torch
from torch import nn

__all__ = [
    "FIRENET",
    "LayerRecord",
    "PAPER_DEFAULTS",
    "RECOMMENDED",
    "RECOMMENDED_SMALL",
    "recommended",
    "primal_dual_block",
    "BlockResult",
    "norm_last",
    "soft_threshold",
    "project_ball",
]

#: The paper's parameters (PNAS 2022; 16 restarts as in its convergence experiment,
#: 5 in its other experiments).
PAPER_DEFAULTS: dict[str, Any] = {
    "lam": 2.5e-4,
    "layers": 5,
    "restarts": 16,
    "tau": 1.0,
    "sigma": 1.0,
    "delta": 1e-9,
    "nu": math.exp(-1.0),
    "sharpness": 1.0,
    "output": "ergodic",
}

#: Parameters chosen by measurement on the explorer's default problem (N = 256, Fourier,
#: multilevel 25 %, Haar, lam = 2.5e-4; Shepp-Logan and random ellipses, noiseless and
#: 2 % noise, level or unit weights, maximal levels or one fewer: 9 problems). After
#: 300 layers the image error is within 2 % of the minimiser's on all 9 (the paper's
#: 16 x 5 ergodic stops 9 % to 3.7x above it, 0.15-0.18 absolute where the minimiser is
#: exact) and the relative objective gap is below 1e-3 (below 1e-4 on 5 of 9). Measured
#: alternatives: p = 10 floors at gaps of 5e-4 to 1.7e-2 on 8 of 9; p = 50 needs 250-400
#: layers for 1e-3, p = 100 more than 450; C = 0.5..2 and nu = 0.25..0.5 behave alike,
#: C >= 10 or nu = 0.7 are slower; the ergodic output is worse than the last iterate at
#: every p tried. The step ratio inside FIRENET needs no separate setting: tau/sigma = r
#: with tau sigma = 1 is the same as C sqrt(r).
RECOMMENDED: dict[str, Any] = {
    "lam": 2.5e-4,
    "layers": 20,
    "restarts": 15,
    "tau": 1.0,
    "sigma": 1.0,
    "delta": 1e-9,
    "nu": math.exp(-1.0),
    "sharpness": 1.0,
    "output": "last",
}

#: Measured for N <= 128 (same problems, level weights, 300 layers): the 15 x 20, C = 1
#: schedule leaves Shepp-Logan at 0.057 image error against the minimiser's 0.021 at
#: N = 128 and 0.30 against 0.18 at N = 64; 10 x 30 with C = 3 gives 0.029 and 0.184
#: (gaps 1e-4), and within 3 % of (or below) the minimiser's error on random ellipses and at
#: N = 32.
#: The good step ratio grows quickly as N shrinks (see solver.baselines.TUNED_RATIO), so
#: smaller images need a larger C p.
RECOMMENDED_SMALL: dict[str, Any] = {**RECOMMENDED, "layers": 30, "restarts": 10, "sharpness": 3.0}


def recommended(size: int) -> dict[str, Any]:
    """Measured FIRENET parameters for images of side ``size``.

    :data:`RECOMMENDED` for ``size >= 256`` (also measured at 512), else
    :data:`RECOMMENDED_SMALL`. Returns a new dict.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 2:
        raise ValueError(f"size must be an integer >= 2, got {size!r}")
    return dict(RECOMMENDED if size >= 256 else RECOMMENDED_SMALL)


OUTPUTS = ("ergodic", "last")


@dataclass(frozen=True)
class LayerRecord:
    """What a network reports after each layer (cheap: references, no extra work).

    Attributes
    ----------
    layer : int
        Number of layers applied so far (1 after the first layer).
    restart : int
        Index of the restart (block) this layer belongs to, from 0.
    coeffs : torch.Tensor, shape (..., N, N), complex
        The network's output if it stopped here, in wavelet coefficients: the running
        ergodic average of the current block, or the current iterate for
        ``output="last"``. Unscaled (same scale as the image).
    dual : torch.Tensor, shape (..., M), complex
        The dual iterate ``z`` (||z|| <= 1). Rescaled into the dual-feasible set it
        certifies a gap for ``y`` (see :func:`solver.objective.certified_gap`). FIRENET
        resets it every restart and it does not converge with the primal iterate: as a
        certificate it is weak (see :class:`solver.objective.GapTracker`).
    eps : torch.Tensor or None, shape (...), real
        The accuracy target ``eps_k`` of this restart (``None`` for methods without
        restarts).
    iterate : torch.Tensor, shape (..., N, N), complex
        The current primal iterate ``x`` (equals ``coeffs`` for ``output="last"``).
    """

    layer: int
    restart: int
    coeffs: torch.Tensor
    dual: torch.Tensor
    eps: torch.Tensor | None
    iterate: torch.Tensor


Callback = Callable[[LayerRecord], Any]


def soft_threshold(u: torch.Tensor, thr: torch.Tensor) -> torch.Tensor:
    """Complex soft threshold ``sign(u) max(|u| - thr, 0)``, autograd-safe at 0.

    Parameters
    ----------
    u : torch.Tensor, shape (..., N, N), complex or real
    thr : torch.Tensor, broadcastable to ``u``, real, > 0

    Returns
    -------
    torch.Tensor, same shape and dtype as ``u``
    """
    # u (1 - t / max(|u|, t)): no 0/0 at u = 0 (value and gradient stay finite), and
    # max(|u|, t) >= t makes the factor lie in [0, 1) without a clamp
    return u * (1.0 - thr / torch.maximum(u.abs(), thr))


def norm_last(v: torch.Tensor, keepdim: bool = False) -> torch.Tensor:
    """l2 norm over the last dim, shape (...) (or (..., 1) with ``keepdim``).

    Computed on the real view for complex input: torch's complex ``vector_norm`` took
    360 us for 16k complex64 entries on one CPU thread, the real view 14 us.
    """
    if v.is_complex():
        n = torch.linalg.vector_norm(torch.view_as_real(v), dim=(-2, -1))
        return n.unsqueeze(-1) if keepdim else n
    return torch.linalg.vector_norm(v, dim=-1, keepdim=keepdim)


def project_ball(v: torch.Tensor) -> torch.Tensor:
    """Project onto the unit l2 ball over the last dim: ``v / max(1, ||v||)``."""
    return v / norm_last(v, keepdim=True).clamp(min=1.0)


def _soft_threshold_(u: torch.Tensor, thr: torch.Tensor, one: torch.Tensor) -> torch.Tensor:
    """In-place soft threshold of a fresh complex buffer (no autograd).

    ``u * max(1 - thr / |u|, 0)`` with ``1/|u| = rsqrt(re^2 + im^2)``: complex ``abs``
    costs ~4 ns per entry on one CPU thread, this about half (``|u| = 0`` gives
    ``1 - inf``, clamped to 0).
    """
    if u.is_complex():
        sq = torch.view_as_real(u).square()
        inv = torch.add(sq[..., 0], sq[..., 1]).rsqrt_()
    else:
        inv = u.abs().reciprocal_()
    return u.mul_(torch.addcmul(one, thr, inv, value=-1.0, out=inv).clamp_(min=0.0))


def _extrapolate(x: torch.Tensor, x_new: torch.Tensor) -> torch.Tensor:
    """``2 x_new - x`` in one pass (complex ``lerp`` is slower than on the real view)."""
    if x.is_complex() and x.shape == x_new.shape:
        return torch.view_as_complex(torch.lerp(torch.view_as_real(x), torch.view_as_real(x_new), 2.0))
    return torch.lerp(x, x_new, 2.0)


def _shares_memory(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


class BlockResult(NamedTuple):
    """What :func:`primal_dual_block` returns."""

    out: torch.Tensor  # block output (ergodic average or last iterate), (..., N, N)
    x: torch.Tensor  # last primal iterate
    z: torch.Tensor  # last dual iterate, (..., M)
    stopped: bool  # whether the callback asked to stop
    a_out: torch.Tensor | None  # A(out) when known (in-place path), else None


def primal_dual_block(
    A: Any,
    y: torch.Tensor,
    x: torch.Tensor,
    z: torch.Tensor,
    tau: float | torch.Tensor,
    sigma: float | torch.Tensor,
    thr_unit: torch.Tensor,
    layers: int,
    output: str = "ergodic",
    callback: Callback | None = None,
    layer_offset: int = 0,
    restart: int = 0,
    eps: torch.Tensor | None = None,
    inplace: bool = False,
    ax: torch.Tensor | None = None,
) -> BlockResult:
    """Run ``layers`` Chambolle-Pock steps from ``(x, z)`` on the unscaled data ``y``.

    Parameters
    ----------
    A : WaveletMeasurement
        ``forward(coeffs (..., N, N)) -> (..., M)`` and ``adjoint``.
    y : torch.Tensor, shape (..., M), complex
    x : torch.Tensor, shape (..., N, N), complex
        Starting primal point.
    z : torch.Tensor, shape (..., M), complex
        Starting dual point.
    tau, sigma : float or torch.Tensor
        Step sizes; tensors broadcast as (..., 1, 1) and (..., 1).
    thr_unit : torch.Tensor, broadcastable to (..., N, N), real
        ``lam * w``; the threshold is ``tau * thr_unit``.
    layers : int
    output : {"ergodic", "last"}
    callback : callable, optional
        Called with a :class:`LayerRecord` after every layer; returning ``True`` stops
        the run after that layer.
    layer_offset, restart, eps
        Bookkeeping passed into the records.
    inplace : bool
        Reuse freshly allocated buffers in place (only valid when no gradient is
        needed). This path also forms ``A(2 x_new - x) = 2 A x_new - A x`` in
        measurement space (a quarter of the entries at 25 % sampling), keeping ``A x``
        from the previous layer, so each layer still applies ``A`` and ``A^*`` once.
    ax : torch.Tensor, shape (..., M), optional
        ``A x`` for the starting ``x`` (in-place path; computed here when ``None``).

    Returns
    -------
    BlockResult
        ``(out, x, z, stopped, a_out)``.
    """
    ergodic = output == "ergodic"
    thr = tau * thr_unit
    if not torch.is_tensor(thr):
        thr = torch.as_tensor(thr)
    thr = thr.to(device=x.device, dtype=x.real.dtype)
    sy = sigma * y  # the bias of this block's dual step
    one = torch.ones((), dtype=thr.dtype, device=thr.device)
    total = a_total = None
    out = x
    count = 0
    if inplace and ax is None:
        ax = A.forward(x)
    for i in range(layers):
        atz = A.adjoint(z)
        if inplace:
            if _shares_memory(atz, z):
                atz = atz.clone()
            # u = x - tau A^* z, soft threshold, all in the fresh buffer atz
            if isinstance(tau, float):
                u = torch.add(x, atz, alpha=-tau, out=atz)
            else:
                u = atz.mul_(-tau).add_(x)
            x_new = _soft_threshold_(u, thr, one)
            ax_new = A.forward(x_new)
            # z + sigma (A(2 x_new - x) - y), with A(2 x_new - x) = 2 A x_new - A x
            v = _extrapolate(ax, ax_new)
            if isinstance(sigma, float):
                v = torch.add(z, v, alpha=sigma, out=v).sub_(sy)
            else:
                v = v.mul_(sigma).sub_(sy).add_(z)
            z = v.div_(norm_last(v, keepdim=True).clamp_(min=1.0))
            if ergodic:
                total = x_new.clone() if total is None else total.add_(x_new)
                a_total = ax_new.clone() if a_total is None else a_total.add_(ax_new)
            ax = ax_new
        else:
            x_new = soft_threshold(x - tau * atz, thr)
            v = z + (sigma * A.forward(_extrapolate(x, x_new)) - sy)
            z = project_ball(v)
            if ergodic:
                total = x_new if total is None else total + x_new
        x = x_new
        count = i + 1
        stop = False
        if callback is not None:
            out = total / count if ergodic else x
            stop = callback(LayerRecord(layer_offset + count, restart, out, z, eps, x)) is True
        if stop or count == layers:
            break
    if ergodic and total is not None:
        out = total / count
        a_out = a_total / count if a_total is not None else None
    else:
        out = x
        a_out = ax if inplace else None
    return BlockResult(out, x, z, stop, a_out)


def _num_measurements(A: Any) -> int:
    for owner in (A, getattr(A, "sampling", None)):
        if owner is None:
            continue
        m = getattr(owner, "num_measurements", None)
        if m is not None:
            return int(m)
        mask = getattr(owner, "mask", None)
        if mask is not None:
            return int(torch.as_tensor(mask).sum())
    raise ValueError("A must expose num_measurements (or a sampling operator with a mask)")


def _size(A: Any) -> int:
    for owner in (A, getattr(A, "sampling", None), getattr(A, "wavelet", None)):
        if owner is not None and getattr(owner, "size", None) is not None:
            return int(owner.size)
    raise ValueError("A must expose size (or a sampling operator with a size)")


def _complex_dtype(t: torch.Tensor) -> torch.dtype:
    if t.is_complex():
        return t.dtype
    return torch.complex128 if t.dtype == torch.float64 else torch.complex64


def check_weights(weights: Any, size: int) -> torch.Tensor | None:
    """Validate per-coefficient weights; return a float64 tensor or ``None``."""
    if weights is None:
        return None
    w = torch.as_tensor(weights)
    if w.is_complex():
        raise ValueError(f"weights must be real, got dtype {w.dtype}")
    w = w.to(torch.float64)
    try:
        torch.broadcast_shapes(w.shape, (size, size))
    except RuntimeError:
        raise ValueError(
            f"weights must broadcast to ({size}, {size}), got shape {tuple(w.shape)}"
        ) from None
    if not bool(torch.all(w > 0)) or not bool(torch.all(torch.isfinite(w))):
        raise ValueError("weights must be finite and > 0")
    return w


def check_measurements(y: Any, m: int) -> torch.Tensor:
    """Validate ``y`` (last dim ``m``) and return it as a complex tensor."""
    if not torch.is_tensor(y):
        y = torch.as_tensor(y)
    if y.dim() < 1 or y.shape[-1] != m:
        raise ValueError(
            f"y must have shape (..., {m}) (one entry per sample), got {tuple(y.shape)}"
        )
    return y.to(_complex_dtype(y))


def check_output(output: str) -> str:
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
    return output


def check_steps(tau: float, sigma: float, norm: float) -> None:
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    if tau * sigma * norm**2 > 1.0 + 1e-9:
        raise ValueError(
            f"tau*sigma*||A||^2 must be <= 1 for convergence, got tau={tau}, sigma={sigma}, "
            f"||A||={norm} (product {tau * sigma * norm**2:.6g})"
        )


def check_int(name: str, value: Any, low: int = 1) -> int:
    """Validate an integer parameter ``>= low`` (bools rejected)."""
    try:
        if isinstance(value, bool):
            raise TypeError
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}") from None
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value}")
    return value


def start_coeffs(A: Any, x0: Any, batch: torch.Size, dtype: torch.dtype, device: Any) -> torch.Tensor:
    """Wavelet coefficients of the starting image (zeros when ``x0`` is ``None``)."""
    n = _size(A)
    if x0 is None:
        return torch.zeros(batch + (n, n), dtype=dtype, device=device)
    x0 = torch.as_tensor(x0, device=device)
    if x0.dim() < 2 or tuple(x0.shape[-2:]) != (n, n):
        raise ValueError(f"x0 must be an image of shape (..., {n}, {n}), got {tuple(x0.shape)}")
    c = A.wavelet.forward(x0.to(dtype))
    return c.expand(torch.broadcast_shapes(c.shape, batch + (n, n)))


def needs_grad(*tensors: Any) -> bool:
    """Whether autograd must see the computation (else in-place buffers are used)."""
    if not torch.is_grad_enabled():
        return False
    return any(torch.is_tensor(t) and t.requires_grad for t in tensors)


def to_image(A: Any, coeffs: torch.Tensor) -> torch.Tensor:
    """Real part of ``W^-1 coeffs``, shape (..., N, N)."""
    return A.wavelet.inverse(coeffs).real


class FIRENET(nn.Module):
    """Restarted, unrolled primal-dual network for the weighted sqrt-LASSO.

    Depth ``restarts * layers``; see the module docstring for the maths.

    Parameters
    ----------
    A : WaveletMeasurement
        ``A = P F W^-1`` with ``forward``, ``adjoint``, ``norm`` (= 1), ``wavelet``
        (``forward``/``inverse`` for images) and ``num_measurements``.
    lam : float, default 2.5e-4
        Sparsity weight, > 0.
    weights : array_like, shape broadcastable to (N, N), optional
        Per-coefficient weights ``w_i > 0`` (e.g. ``solver.wavelets.level_weights``);
        unit weights when ``None``.
    restarts : int, default 16
        Number of restarts ``n`` (>= 1).
    layers : int, default 5
        Layers per restart ``p`` (>= 1).
    tau, sigma : float, default 1
        Primal and dual steps of the rescaled problem; ``tau sigma ||A||^2 <= 1``.
    delta : float, default 1e-9
        Accuracy floor in the schedule ``eps_k = nu (delta + eps_{k-1})``, >= 0.
    eps0 : float, optional
        Initial accuracy target; ``||y||`` (per batch element, ``= F(0)``) when ``None``.
        For a warm start ``x0`` the theory asks for a bound on its gap, such as
        ``F(W x0)``; measured at N = 32, a smaller ``eps0`` did not help (the step
        ratio ``(C eps p / 2)^2`` is then far from the good one), so ``||y||`` stays the
        default there too.
    nu : float, default exp(-1)
        Restart factor in (0, 1).
    sharpness : float, default 1
        The sharpness scale ``C`` in ``alpha = 2 ||A|| / (C eps p)``, > 0 (1 is the
        paper's).
    output : {"ergodic", "last"}, default "ergodic"
        Block output: ergodic average of the iterates (the paper's) or the last one.

    Raises
    ------
    ValueError
        For any parameter out of range, naming the parameter.

    Examples
    --------
    >>> net = FIRENET(A, **RECOMMENDED)                     # doctest: +SKIP
    >>> image = net(y)                                      # doctest: +SKIP
    >>> coeffs = net.solve(y, callback=lambda r: print(r.layer, float(r.eps)))  # doctest: +SKIP
    """

    def __init__(
        self,
        A: Any,
        lam: float = 2.5e-4,
        weights: Any = None,
        restarts: int = 16,
        layers: int = 5,
        tau: float = 1.0,
        sigma: float = 1.0,
        delta: float = 1e-9,
        eps0: float | None = None,
        nu: float = math.exp(-1.0),
        sharpness: float = 1.0,
        output: str = "ergodic",
    ) -> None:
        super().__init__()
        if not lam > 0:
            raise ValueError(f"lam must be > 0, got {lam}")
        self.restarts = check_int("restarts", restarts)
        self.layers = check_int("layers", layers)
        norm = float(getattr(A, "norm", 1.0))
        if not norm > 0:
            raise ValueError(f"A.norm must be > 0, got {norm}")
        check_steps(tau, sigma, norm)
        if not delta >= 0:
            raise ValueError(f"delta must be >= 0, got {delta}")
        if eps0 is not None and not eps0 > 0:
            raise ValueError(f"eps0 must be > 0 (or None for ||y||), got {eps0}")
        if not 0 < nu < 1:
            raise ValueError(f"nu must be in (0, 1), got {nu}")
        if not sharpness > 0:
            raise ValueError(f"sharpness must be > 0, got {sharpness}")
        self.output = check_output(output)
        self.A = A
        self.lam = float(lam)
        self.tau = float(tau)
        self.sigma = float(sigma)
        self.delta = float(delta)
        self.eps0 = None if eps0 is None else float(eps0)
        self.nu = float(nu)
        self.sharpness = float(sharpness)
        self.norm = norm
        self.size = _size(A)
        self.num_measurements = _num_measurements(A)
        w = check_weights(weights, self.size)
        self.register_buffer("weights", w, persistent=False)

    @property
    def depth(self) -> int:
        """Total number of layers, ``restarts * layers``."""
        return self.restarts * self.layers

    def extra_repr(self) -> str:
        return (
            f"N={self.size}, M={self.num_measurements}, lam={self.lam:g}, "
            f"restarts={self.restarts}, layers={self.layers}, tau={self.tau:g}, "
            f"sigma={self.sigma:g}, nu={self.nu:.4g}, sharpness={self.sharpness:g}, "
            f"delta={self.delta:g}, output={self.output!r}"
        )

    def schedule(self, y: torch.Tensor) -> torch.Tensor:
        """The accuracy targets ``eps_1 .. eps_n``, shape (n, ...) (real)."""
        y = check_measurements(y, self.num_measurements)
        eps = self._eps0(y)
        out = []
        for _ in range(self.restarts):
            eps = self.nu * (self.delta + eps)
            out.append(eps)
        return torch.stack(out)

    def _eps0(self, y: torch.Tensor) -> torch.Tensor:
        if self.eps0 is not None:
            return torch.full(y.shape[:-1], self.eps0, dtype=y.real.dtype, device=y.device)
        return norm_last(y)

    def threshold_unit(self, y: torch.Tensor) -> torch.Tensor:
        """``lam * w`` in the real dtype and on the device of ``y`` (the threshold per unit step)."""
        real = y.real.dtype
        if self.weights is not None:
            return self.lam * self.weights.to(device=y.device, dtype=real)
        return torch.as_tensor(self.lam, dtype=real, device=y.device)

    def restart_steps(self, eps: torch.Tensor) -> tuple[Any, Any]:
        """Primal and dual steps of the restart with accuracy target ``eps``.

        The rescaled problem (``alpha = 2 ||A|| / (C eps p)``) expressed on the original
        data: ``tau / alpha`` and ``sigma alpha``. Plain floats for one unbatched target
        without gradient, else tensors shaped to broadcast over (..., N, N) and (..., M).
        """
        tiny = torch.finfo(eps.dtype).tiny
        alpha = 2.0 * self.norm / (self.sharpness * eps.clamp(min=tiny) * self.layers)
        tau = self.tau / alpha
        sigma = self.sigma * alpha
        if alpha.dim() == 0 and not alpha.requires_grad:
            return float(tau), float(sigma)
        return tau[..., None, None], sigma[..., None]

    def solve(self, y: torch.Tensor, x0: Any = None, callback: Callback | None = None) -> torch.Tensor:
        """Run the network; return complex wavelet coefficients.

        Parameters
        ----------
        y : torch.Tensor, shape (..., M), complex64 or complex128
            Measurements (a real tensor is promoted to complex).
        x0 : torch.Tensor, shape (..., N, N), optional
            Starting image (e.g. another network's output); zero when ``None``.
        callback : callable, optional
            Called with a :class:`LayerRecord` after each layer; returning ``True``
            stops early and returns that record's ``coeffs``.

        Returns
        -------
        torch.Tensor, shape (..., N, N), dtype of ``y``
            Wavelet coefficients of the reconstruction.
        """
        y = check_measurements(y, self.num_measurements)
        batch = y.shape[:-1]
        thr_unit = self.threshold_unit(y)
        psi = start_coeffs(self.A, x0, batch, y.dtype, y.device)
        inplace = not needs_grad(y, psi, self.weights)
        eps = self._eps0(y)
        p = self.layers
        a_psi = torch.zeros_like(y) if (inplace and x0 is None) else None  # A psi, reused
        for k in range(self.restarts):
            eps = self.nu * (self.delta + eps)
            tau, sigma = self.restart_steps(eps)
            z = torch.zeros_like(y)
            result = primal_dual_block(
                self.A, y, psi, z, tau, sigma, thr_unit, p, self.output,
                callback, k * p, k, eps, inplace, a_psi,
            )  # fmt: skip
            psi, a_psi = result.out, result.a_out
            if result.stopped:
                break
        return psi

    def forward(self, y: torch.Tensor, x0: Any = None, callback: Callback | None = None) -> torch.Tensor:
        """Reconstruct the image: real part of ``W^-1 solve(y, x0, callback)``.

        Returns
        -------
        torch.Tensor, shape (..., N, N), real dtype matching ``y``
        """
        return to_image(self.A, self.solve(y, x0, callback))
