"""The paper's paradox, computed: the inexact-input square-root LASSO instance and Table 1.

Colbrook, Antun & Hansen (PNAS 2022), Theorem 1 and Table 1. Problem (P3) is the
square-root LASSO ::

    min_z  lam ||z||_1 + ||A z - y||_2,

where an algorithm sees only approximations ``(A_n, y_n)`` with ``||A_n - A|| <= 2^-n`` and
``||y_n - y|| <= 2^-n``. The authors' instance (``inexact_input/data_management.py`` in their
repository): ``x`` has ``N1 + N2`` entries; the first row of ``A`` is a constant ``a`` on the
first ``N1`` entries except entry ``j``, raised by about ``2^-n``; the other rows are
``||a||`` times the identity on the last ``N2`` entries; ``y = e_1``; both optionally
multiplied on the left by the orthonormal DCT. The raised entry decides which coordinate
carries the minimiser, so two inputs about ``2^-n`` apart (raise entry 1 or entry 2) have
minimisers about ``3 x 10^-K`` apart: a map of the inexact input cannot be within ``10^-K``
of both.

Public surface
--------------
inexact_instance
    The authors' ``(A, y)`` for given ``K, n, delta, lam, N1, N2, j`` and DCT flag.
training_set
    The authors' training set for LISTA (their seed and random calls).
minimiser_vertices, distance_to_minimisers
    The minimiser set of the instance in closed form (a simplex) and the distance to it.
firenet
    The paper's FIRENET for (P3) with the authors' restart rule, batched over problems.
authors_steps
    The authors' step sizes ``tau = sigma = sqrt(1 / ||A_n||) - 1e-4``.
hedging_point
    The point halfway between the two minimisers: what the best map of the band can output.
correct_digits
    ``floor(-log10(distance))``: the number of correct digits in the paper's sense.
table1, Table1Row
    The paper's Table 1: each method's distance on ``(A_n, y_n)`` to the minimiser set of
    ``(A, y)``, for ``n = 10, 20, 30`` and ``K = 1, 3, 6``.
band_path
    The minimiser along the segment of inputs from ``(A, y)`` to ``(A_n, y_n)``: where it
    jumps.
null_space_ratio
    Why FIRENET's stability theorem does not cover the instance: its kernel holds a
    2-sparse vector that breaks every null space property.
compare_on_band, BandComparison
    Everything the paradox page shows for one ``(K, n)``: the two instances, each method's
    output on ``(A_n, y_n)``, distances, digits and the band path.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.fft

__all__ = [
    "DEFAULTS",
    "InexactInstance",
    "inexact_instance",
    "training_set",
    "minimiser_vertices",
    "distance_to_minimisers",
    "firenet",
    "authors_steps",
    "hedging_point",
    "correct_digits",
    "Table1Row",
    "table1",
    "band_path",
    "null_space_ratio",
    "BandComparison",
    "compare_on_band",
    "K_VALUES",
    "N_VALUES",
]

#: The paper's Table 1 setting (``inexact_input/Demo_test_firenet.py`` and ``config.yml``).
DEFAULTS = {"delta": 1 / 6, "lam": 1.0, "N1": 2, "N2": 20, "sparsity": 5, "use_dct": True}
#: The rows of Table 1.
K_VALUES = (1, 3, 6)
N_VALUES = (10, 20, 30)
#: Largest K and n accepted: beyond them the raised entry is below float64's resolution of a.
_MAX_K = 12
_MAX_N = 60


@dataclass(frozen=True)
class InexactInstance:
    """One instance of (P3) built as the authors build it.

    Attributes
    ----------
    A : np.ndarray, shape (N2 + 1, N1 + N2), float64
        The matrix (after the DCT when ``use_dct``).
    y : np.ndarray, shape (N2 + 1,), float64
        The data (after the DCT when ``use_dct``).
    x : np.ndarray, shape (N1 + N2,), float64
        The authors' minimiser (entry ``j`` equal to ``1 / a_j``).
    row : np.ndarray, shape (N1,), float64
        The first ``N1`` entries of the first row before the DCT: the only entries that
        differ between instances with different ``j`` or ``n``.
    scale : float
        ``||row||``: the diagonal of the identity block before the DCT.
    K, n, j : int
    delta, lam : float
    use_dct : bool
    """

    A: np.ndarray
    y: np.ndarray
    x: np.ndarray
    row: np.ndarray
    scale: float
    K: int
    n: int
    j: int
    delta: float
    lam: float
    use_dct: bool

    @property
    def N1(self) -> int:
        return self.row.size

    @property
    def N2(self) -> int:
        return self.A.shape[0] - 1


def _check_int(name: str, value, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be in {bound}, got {value}")
    return int(value)


def _check_real(name: str, value, low: float, high: float, *, closed_high: bool) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    inside = low < number < high or (closed_high and number == high)
    if not inside:
        bracket = "]" if closed_high else ")"
        raise ValueError(f"{name} must be in ({low}, {high}{bracket}, got {value!r}")
    return number


def _first_row(K: int, n: int, delta: float, lam: float, j: int, N1: int) -> np.ndarray:
    """The authors' first row: constant ``gamma1 lam / rho`` with entry ``j`` at
    ``gamma1 lam / rho_min``, ``rho_min`` chosen so that the raise is ``2^-(n+1)``."""
    gamma1 = np.sqrt(2) * (1 - delta) * (10**K) / (3 * lam)
    row = gamma1 * lam * (1 / (1 - delta)) * np.ones(N1)
    eps = 2 ** (-n - 1)
    rho = 1 - delta
    t = (eps / (gamma1 * lam)) * rho * rho / (1 + (eps / (gamma1 * lam)) * rho)
    rho_min = 1 - delta - t
    row[j - 1] = gamma1 * lam / rho_min
    return row, rho_min / (lam * gamma1)


def _assemble(row: np.ndarray, N2: int) -> tuple[np.ndarray, float]:
    """``[[row, 0], [0, ||row|| I]]`` before the DCT, and ``||row||``."""
    N1 = row.size
    scale = float(np.linalg.norm(row, 2))
    A = np.zeros((N2 + 1, N1 + N2))
    A[0, :N1] = row
    A[1:, N1:] = scale * np.eye(N2)
    return A, scale


def _dct(array: np.ndarray) -> np.ndarray:
    """Orthonormal DCT-II along axis 0 (the authors' ``scipy.fftpack.dct(., axis=0, norm='ortho')``)."""
    return scipy.fft.dct(array, axis=0, norm="ortho")


def inexact_instance(K: int, n: int, *, delta: float = DEFAULTS["delta"], lam: float = DEFAULTS["lam"],
                     N1: int = DEFAULTS["N1"], N2: int = DEFAULTS["N2"], j: int = 1,
                     use_dct: bool = DEFAULTS["use_dct"]) -> InexactInstance:
    """The authors' test triple ``(y, A, x)`` (``generate_test_sample``), in float64.

    Parameters
    ----------
    K : int in [1, 12]
        The minimisers of instances with different ``j`` are about ``3 x 10^-K`` apart.
    n : int in [1, 60]
        Instances with different ``j`` are about ``2^-n`` apart.
    delta : float in (0, 1/4)
    lam : float in (0, 1]
        The weight of the l1 term.
    N1 : int >= 2
        Number of coordinates that may carry the minimiser.
    N2 : int >= 1
        Size of the identity block.
    j : int in [1, N1]
        The raised entry of the first row (where the minimiser lives). The authors' code
        also accepts ``j <= 0`` and wraps it around by Python's negative indexing; here that
        is an error.
    use_dct : bool
        Multiply ``A`` and ``y`` on the left by the orthonormal DCT.

    Returns
    -------
    InexactInstance

    Raises
    ------
    ValueError
        If a parameter is out of range; the message names it.
    """
    K = _check_int("K", K, 1, _MAX_K)
    n = _check_int("n", n, 1, _MAX_N)
    delta = _check_real("delta", delta, 0.0, 0.25, closed_high=False)
    lam = _check_real("lam", lam, 0.0, 1.0, closed_high=True)
    N1 = _check_int("N1", N1, 2, 10_000)
    N2 = _check_int("N2", N2, 1, 10_000)
    j = _check_int("j", j, 1, N1)
    if not isinstance(use_dct, (bool, np.bool_)):
        raise ValueError(f"use_dct must be True or False, got {use_dct!r}")
    row, value = _first_row(K, n, delta, lam, j, N1)
    A, scale = _assemble(row, N2)
    x = np.zeros(N1 + N2)
    x[j - 1] = value
    y = np.zeros(N2 + 1)
    y[0] = 1.0
    if use_dct:
        y, A = _dct(y), _dct(A)
    return InexactInstance(A=A, y=y, x=x, row=row, scale=scale, K=K, n=n, j=j, delta=delta, lam=lam,
                           use_dct=bool(use_dct))


def training_set(size: int, instance: InexactInstance, *, sparsity: int = DEFAULTS["sparsity"],
                 seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """The authors' LISTA training set for ``instance`` (``generate_training_omega``).

    Each sample is a minimiser ``x`` of (P3) for the instance's ``A`` and a data vector
    ``y = A x``: ``x`` has the instance's entry ``j`` and ``sparsity`` random entries among
    the last ``N2`` (standard normal over ``||row||``, at random positions). The authors seed
    numpy's global generator with 5 whatever their ``set_seed`` flag says; a
    ``np.random.RandomState(seed)`` of our own draws the same numbers in the same order
    without touching global state, so ``seed=5`` gives their training set exactly.

    Parameters
    ----------
    size : int >= 1
        Number of samples ``L``.
    instance : InexactInstance
    sparsity : int in [0, N2]
    seed : int >= 0

    Returns
    -------
    ys : np.ndarray, shape (size, N2 + 1), float64
    xs : np.ndarray, shape (size, N1 + N2), float64
    """
    size = _check_int("size", size, 1, 10_000_000)
    if not isinstance(instance, InexactInstance):
        raise ValueError(f"instance must be an InexactInstance, got {type(instance).__name__}")
    sparsity = _check_int("sparsity", sparsity, 0, instance.N2)
    seed = _check_int("seed", seed, 0, 2**32 - 1)
    rng = np.random.RandomState(seed)
    N1, N2 = instance.N1, instance.N2
    xs = np.zeros((N1 + N2, size))
    xs[instance.j - 1, :] = instance.x[instance.j - 1]
    content = rng.randn(sparsity, size) / instance.scale
    for i in range(size):
        positions = N1 + rng.permutation(N2)
        xs[positions[:sparsity], i] = content[:, i]
    ys = np.ones((N2 + 1, size))
    ys[1:, :] = instance.scale * xs[N1:, :]
    if instance.use_dct:
        ys = _dct(ys)
    return ys.T.copy(), xs.T.copy()


def _structured_minimisers(row: np.ndarray, N2: int, lam: float) -> np.ndarray:
    """Vertices of the minimiser set for ``A = [[row, 0], [0, c I]]`` (c > 0), ``y = e_1``.

    The last ``N2`` coordinates vanish (they only add to both terms). On the first block,
    ``||u||_1 >= (row . u) / max(row)`` for ``row > 0``, so the cost is at least
    ``g(s) = lam s / max(row) + |1 - s|`` with ``s = row . u``, with equality exactly for
    ``u >= 0`` supported where ``row`` is largest. If ``lam < max(row)``, ``g`` has its
    unique minimum at ``s = 1``: the minimisers are the simplex with vertices
    ``e_i / max(row)``, ``i`` in the argmax. If ``lam > max(row)``, only ``u = 0``; if they are
    equal, the simplex together with 0.
    """
    top = float(row.max())
    ties = np.flatnonzero(row == top)
    vertices = np.zeros((ties.size, row.size + N2))
    vertices[np.arange(ties.size), ties] = 1.0 / top
    if lam > top:
        return np.zeros((1, row.size + N2))
    if lam == top:
        return np.vstack([vertices, np.zeros(row.size + N2)])
    return vertices


def minimiser_vertices(instance: InexactInstance) -> np.ndarray:
    """The minimiser set of (P3) for ``(instance.A, instance.y)``, in closed form.

    The DCT is orthogonal and acts on the left, so it does not change ``||A z - y||`` and the
    minimisers are those of the instance before the DCT (see ``_structured_minimisers``).

    Returns
    -------
    np.ndarray, shape (V, N1 + N2), float64
        The vertices of the (convex) minimiser set; one row when the minimiser is unique.
    """
    if not isinstance(instance, InexactInstance):
        raise ValueError(f"instance must be an InexactInstance, got {type(instance).__name__}")
    return _structured_minimisers(instance.row, instance.N2, instance.lam)


def _project_simplex(v: np.ndarray, radius: float) -> np.ndarray:
    """Euclidean projection of ``v`` onto ``{u >= 0, sum(u) = radius}`` (sort-based)."""
    u = np.sort(v)[::-1]
    cumulative = np.cumsum(u) - radius
    index = np.arange(1, v.size + 1)
    k = np.flatnonzero(u - cumulative / index > 0)[-1]
    return np.maximum(v - cumulative[k] / (k + 1), 0.0)


def distance_to_minimisers(x, instance: InexactInstance) -> float:
    """Euclidean distance from ``x`` to the minimiser set of ``instance``.

    The set is a simplex ``{u >= 0 on the argmax, sum u = 1 / max(row)}`` (with 0 added when
    ``lam = max(row)``); the distance is computed by projecting onto it exactly.

    Parameters
    ----------
    x : array_like, shape (N1 + N2,)

    Returns
    -------
    float
    """
    vertices = minimiser_vertices(instance)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    if x.shape != (vertices.shape[1],):
        raise ValueError(f"x must have {vertices.shape[1]} entries, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        return math.inf
    support = np.flatnonzero(vertices.any(axis=0))
    if support.size == 0:
        return float(np.linalg.norm(x))
    radius = float(vertices[vertices.any(axis=1)][0].max())
    target = x[support]
    with_zero = len(vertices) > support.size
    if with_zero and np.maximum(target, 0.0).sum() <= radius:
        projected = np.maximum(target, 0.0)
    else:
        projected = _project_simplex(target, radius)
    rest = np.delete(x, support)
    return float(np.sqrt(np.sum((target - projected) ** 2) + np.sum(rest**2)))


def authors_steps(A: np.ndarray) -> tuple[float, float]:
    """The authors' step sizes: ``tau = sigma = sqrt(1 / ||A||_2) - 1e-4``.

    Their docstring asks for ``tau sigma ||A||^2 < 1``; this rule gives ``tau sigma ||A||^2``
    close to ``||A||`` (about ``0.67 x 10^K`` here), so it does not meet that condition for
    ``K >= 1``. Kept because Table 1 was computed with it.
    """
    norm = float(np.linalg.norm(A, 2))
    step = float(np.sqrt(1 / norm) - 1e-4)
    return step, step


def firenet(A, y, *, lam: float = DEFAULTS["lam"], p: int = 50, restarts: int = 30, delta: float = 1e-6,
            eps0=None, tau=None, sigma=None, weights=None) -> np.ndarray:
    """FIRENET for (P3), as in the paper's Table 1, on a batch of problems.

    Restarted primal-dual (Chambolle-Pock) iterations on
    ``min lam ||z||_{1,w} + ||A z - y||_2``. Restart ``k`` sets
    ``eps_k = e^-1 (delta + eps_{k-1})``, ``beta = eps_k / (2 ||A||)``, ``alpha = 1 / (beta p)``,
    runs ``p`` iterations on the rescaled problem ``(alpha y, alpha psi)`` from the previous
    output, and divides their ergodic average by ``alpha``. Each iteration:
    ``x+ = soft(x - tau A^T v, tau lam w)``; ``v+ = P_ball(v + sigma A (2 x+ - x) - sigma alpha y)``.

    Parameters
    ----------
    A : array_like, shape (m, N) or (B, m, N), float64
    y : array_like, shape (m,) or (B, m), float64
    lam : float > 0
    p : int >= 1
        Iterations per restart (the paper's 50).
    restarts : int >= 1
        Number of restarts (the paper's 30).
    delta : float > 0
        The restart rule's floor (the paper's 1e-6).
    eps0 : float or array of shape (B,), optional
        First restart's ``eps``; default ``||y||`` per problem, as the authors.
    tau, sigma : float or array of shape (B,), optional
        Primal and dual steps; default :func:`authors_steps` per problem.
    weights : array_like, shape (N,), optional
        Weights of the l1 norm; default all ones.

    Returns
    -------
    np.ndarray, shape (N,) or (B, N), float64
    """
    A = np.asarray(A, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    single = A.ndim == 2
    if single:
        A, y = A[None], y[None]
    if A.ndim != 3 or y.ndim != 2 or y.shape != A.shape[:2]:
        raise ValueError(f"A must be (m, N) or (B, m, N) and y (m,) or (B, m) to match, got A {A.shape}, "
                         f"y {y.shape}")
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(y))):
        raise ValueError("A and y must be finite")
    lam = _check_real("lam", lam, 0.0, math.inf, closed_high=False)
    p = _check_int("p", p, 1, 100_000)
    restarts = _check_int("restarts", restarts, 1, 100_000)
    delta = _check_real("delta", delta, 0.0, math.inf, closed_high=False)
    batch, _, N = A.shape
    norms = np.array([np.linalg.norm(a, 2) for a in A])
    if tau is None or sigma is None:
        rule = np.array([authors_steps(a) for a in A])
        tau = rule[:, 0] if tau is None else tau
        sigma = rule[:, 1] if sigma is None else sigma
    tau = np.broadcast_to(np.asarray(tau, dtype=np.float64), (batch,))[:, None]
    sigma = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (batch,))[:, None]
    w = np.ones(N) if weights is None else np.asarray(weights, dtype=np.float64).reshape(N)
    eps = np.linalg.norm(y, axis=1) if eps0 is None else np.broadcast_to(
        np.asarray(eps0, dtype=np.float64), (batch,)).copy()
    At = np.swapaxes(A, 1, 2)
    psi = np.zeros((batch, N))
    for _ in range(restarts):
        eps = np.exp(-1) * (delta + eps)
        beta = eps / (2 * norms)
        alpha = (1 / (beta * p))[:, None]
        data = alpha * y
        x = alpha * psi
        v = np.zeros_like(y)
        total = np.zeros_like(x)
        for _ in range(p):
            step = x - tau * np.einsum("bnm,bm->bn", At, v)
            x_next = np.sign(step) * np.maximum(np.abs(step) - tau * lam * w, 0.0)
            v = v + sigma * np.einsum("bmn,bn->bm", A, 2 * x_next - x) - sigma * data
            v = v * np.minimum(1.0, 1.0 / (np.linalg.norm(v, axis=1, keepdims=True) + 1e-43))
            total += x_next
            x = x_next
        psi = (total / p) / alpha
    return psi[0] if single else psi


def hedging_point(exact: InexactInstance, inexact: InexactInstance) -> np.ndarray:
    """Halfway between the minimisers of two instances: the centre of the smallest ball that
    holds both, so the output with the smallest worst-case distance to either minimiser set.

    Returns
    -------
    np.ndarray, shape (N1 + N2,)
    """
    first, second = minimiser_vertices(exact), minimiser_vertices(inexact)
    if len(first) != 1 or len(second) != 1:
        raise ValueError("hedging_point needs instances with a unique minimiser each")
    return (first[0] + second[0]) / 2


def correct_digits(distance: float) -> int:
    """Correct digits in the paper's sense: the largest ``k`` with ``distance <= 10^-k``.

    Never negative (a distance above 1 has 0 correct digits); a zero distance counts as 16,
    float64's resolution. The ``1e-12`` keeps ``10^-k`` itself, rounded in float64, at ``k``.
    """
    distance = float(distance)
    if not distance >= 0:
        raise ValueError(f"distance must be >= 0, got {distance!r}")
    if distance == 0:
        return 16
    return max(int(math.floor(-math.log10(distance) + 1e-12)), 0)


@dataclass(frozen=True)
class Table1Row:
    """One row of Table 1.

    Attributes
    ----------
    K, n : int
    input_gap_A, input_gap_y : float
        ``||A_n - A||_2`` and ``||y_n - y||_2`` (both must be <= 2^-n).
    minimiser_gap : float
        Distance between the minimisers of ``(A, y)`` and ``(A_n, y_n)``.
    firenet : float
        Distance from FIRENET's output on ``(A_n, y_n)`` to the minimiser set of ``(A, y)``.
    lista : float or None
        The same for the trained LISTA (None when no network was given).
    hedging : float
        The same for :func:`hedging_point`.
    """

    K: int
    n: int
    input_gap_A: float
    input_gap_y: float
    minimiser_gap: float
    firenet: float
    lista: float | None
    hedging: float

    def digits(self) -> dict[str, int | None]:
        """Correct digits of each method."""
        return {"firenet": correct_digits(self.firenet),
                "lista": None if self.lista is None else correct_digits(self.lista),
                "hedging": correct_digits(self.hedging)}


def table1(K_values: Sequence[int] = K_VALUES, n_values: Sequence[int] = N_VALUES, *,
           lista: Callable[[int, int, np.ndarray], np.ndarray] | None = None, j_exact: int = 1,
           j_inexact: int = 2, p: int = 50, restarts: int = 30, **instance_options) -> list[Table1Row]:
    """The paper's Table 1, computed.

    For each ``K`` and ``n``: ``(A, y)`` is the instance with entry ``j_exact`` raised,
    ``(A_n, y_n)`` the one with ``j_inexact`` raised (the authors: 1 and 2); FIRENET runs on
    ``(A_n, y_n)`` (all rows in one batch) and so does ``lista``, if given.

    Parameters
    ----------
    K_values, n_values : sequences of int
    lista : callable ``(K, n, y_n) -> x``, optional
        The trained network for row ``(K, n)``, applied to ``y_n`` of shape ``(m,)``.
    j_exact, j_inexact : int
        Raised entries of the exact and the inexact instance (must differ).
    p, restarts : int
        FIRENET's schedule (the paper's 50 and 30).
    **instance_options
        ``delta, lam, N1, N2, use_dct`` for :func:`inexact_instance`.

    Returns
    -------
    list of Table1Row, K-major (the authors' order).
    """
    if j_exact == j_inexact:
        raise ValueError(f"j_exact and j_inexact must differ, got {j_exact} for both")
    pairs = [(inexact_instance(K, n, j=j_exact, **instance_options),
              inexact_instance(K, n, j=j_inexact, **instance_options))
             for K in K_values for n in n_values]
    if not pairs:
        raise ValueError("K_values and n_values must not be empty")
    outputs = firenet(np.stack([b.A for _, b in pairs]), np.stack([b.y for _, b in pairs]),
                      lam=pairs[0][0].lam, p=p, restarts=restarts)
    rows = []
    for (exact, inexact), output in zip(pairs, outputs):
        lista_distance = None
        if lista is not None:
            lista_distance = distance_to_minimisers(lista(exact.K, exact.n, inexact.y), exact)
        rows.append(Table1Row(
            K=exact.K, n=exact.n,
            input_gap_A=float(np.linalg.norm(inexact.A - exact.A, 2)),
            input_gap_y=float(np.linalg.norm(inexact.y - exact.y)),
            minimiser_gap=distance_to_minimisers(minimiser_vertices(inexact)[0], exact),
            firenet=distance_to_minimisers(output, exact), lista=lista_distance,
            hedging=distance_to_minimisers(hedging_point(exact, inexact), exact)))
    return rows


def band_path(exact: InexactInstance, inexact: InexactInstance, steps: np.ndarray) -> dict[str, np.ndarray]:
    """The minimiser along the inputs ``A_t = A + t (A_n - A)`` (``y`` fixed: both are ``e_1``).

    For ``t < 1/2`` the exact instance's entry is the largest and the minimiser stays near
    the exact one; past ``t = 1/2`` it jumps to the other coordinate. Computed in closed form.

    Parameters
    ----------
    exact, inexact : InexactInstance
        Same ``K, n, N1, N2, lam, delta`` and DCT flag, different ``j``.
    steps : array_like of t >= 0

    Returns
    -------
    dict with float64 arrays of the shape of ``steps``:
        ``input_distance``: ``||A_t - A||_2``; ``distance``: the distance from the minimiser
        set of ``(A_t, y)`` to that of ``(A, y)`` (largest over the vertices).
    """
    if exact.row.shape != inexact.row.shape or exact.N2 != inexact.N2 or exact.lam != inexact.lam:
        raise ValueError("exact and inexact must be instances of the same size and lam")
    steps = np.asarray(steps, dtype=np.float64)
    if steps.ndim != 1 or not np.all(np.isfinite(steps)) or np.any(steps < 0):
        raise ValueError("steps must be a 1-D array of finite t >= 0")
    gap = float(np.linalg.norm(inexact.row - exact.row))  # the DCT keeps the norm; one row differs
    distances = np.empty_like(steps)
    for index, t in enumerate(steps):
        row = exact.row + t * (inexact.row - exact.row)
        vertices = _structured_minimisers(row, exact.N2, exact.lam)
        distances[index] = max(distance_to_minimisers(v, exact) for v in vertices)
    return {"input_distance": steps * gap, "distance": distances}


def null_space_ratio(instance: InexactInstance) -> float:
    """``max ||v_S||_1 / ||v_{S^c}||_1`` over the kernel of ``A`` and sets ``|S| = 1``.

    The kernel of ``A`` is ``{(u, 0) : row . u = 0}``: for ``N1 = 2`` the line through
    ``v = (row_2, -row_1, 0, ..., 0)``. With ``S`` the coordinate of the larger entry,
    ``||v_S||_1 / ||v_{S^c}||_1 = max(row) / min(row) > 1``. A null space property of order
    ``s >= 1`` (robust, weighted or in levels, as FIRENET's stability theorem assumes) needs
    this ratio below some ``rho < 1`` for every kernel vector, so none holds here.

    Returns
    -------
    float
        ``max(row) / min(row)`` for ``N1 = 2``; for ``N1 > 2`` the largest ratio over the
        kernel vectors ``row_i e_k - row_k e_i``, the same number.
    """
    if not isinstance(instance, InexactInstance):
        raise ValueError(f"instance must be an InexactInstance, got {type(instance).__name__}")
    return float(instance.row.max() / instance.row.min())


@dataclass(frozen=True)
class BandComparison:
    """What the paradox page shows for one ``(K, n)``.

    Attributes
    ----------
    exact, inexact : InexactInstance
        ``(A, y)`` and ``(A_n, y_n)``.
    outputs : dict str -> np.ndarray, shape (N1 + N2,)
        Each method's output on ``(A_n, y_n)``: ``"firenet"``, ``"lista"`` (when given),
        ``"hedging"`` and ``"input_minimiser"`` (the exact minimiser of the given input).
    distances : dict str -> float
        Distance of each output to the minimiser set of ``(A, y)``.
    input_gap : float
        ``||A_n - A||_2`` (``y_n = y`` here).
    path : dict
        :func:`band_path` over ``t`` from 1e-4 to 10 (log-spaced, with 1/2 on both sides).
    null_space_ratio : float
        See :func:`null_space_ratio` (for ``A``).
    """

    exact: InexactInstance
    inexact: InexactInstance
    outputs: dict
    distances: dict
    input_gap: float
    path: dict
    null_space_ratio: float

    def digits(self) -> dict[str, int]:
        """Correct digits of each output."""
        return {name: correct_digits(d) for name, d in self.distances.items()}


def compare_on_band(K: int, n: int, lista: Callable[[np.ndarray], np.ndarray] | None = None, *,
                    points: int = 241, **instance_options) -> BandComparison:
    """Build ``(A, y)`` (j = 1) and ``(A_n, y_n)`` (j = 2), run FIRENET (the paper's
    schedule) and ``lista`` on ``(A_n, y_n)``, and measure everything against ``(A, y)``.

    Parameters
    ----------
    K, n : int
    lista : callable ``y_n (m,) -> x (N,)``, optional
    points : int >= 8
        Number of ``t`` values on the band path.
    **instance_options
        ``delta, lam, N1, N2, use_dct``.
    """
    points = _check_int("points", points, 8, 100_000)
    exact = inexact_instance(K, n, j=1, **instance_options)
    inexact = inexact_instance(K, n, j=2, **instance_options)
    outputs = {"firenet": firenet(inexact.A, inexact.y, lam=exact.lam),
               "hedging": hedging_point(exact, inexact),
               "input_minimiser": minimiser_vertices(inexact)[0]}
    if lista is not None:
        outputs["lista"] = np.asarray(lista(inexact.y), dtype=np.float64).reshape(-1)
    steps = np.unique(np.concatenate([np.logspace(-4, 1, points), [0.5 * (1 - 1e-9), 0.5 * (1 + 1e-9)]]))
    return BandComparison(
        exact=exact, inexact=inexact, outputs=outputs,
        distances={name: distance_to_minimisers(x, exact) for name, x in outputs.items()},
        input_gap=float(np.linalg.norm(inexact.A - exact.A, 2)),
        path=band_path(exact, inexact, steps), null_space_ratio=null_space_ratio(exact))
