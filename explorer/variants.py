"""The perturbed problems the page shows, and the worst-case searches and stability curves
behind them, cached like every other result (``explorer.compute.store``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from explorer import estimates, persist, work
from explorer.compute import digest, network, store, unet_version
from explorer.settings import FirenetSettings, MeasurementSettings, PerturbationSettings
import solver.attacks  # the searches run through their modules, where the tests replace them
import solver.stability
from solver import problem as P
from solver.kernel_bound import kernel_detail, kernel_lower_bound
from solver.methods import FIRENET, METHODS, UNET
from solver.phantoms import text_detail
from solver.problem import Problem
from solver.segments import Segmented

__all__ = ["ATTACK_MEMORY_BYTES", "KERNEL_DETAIL_CONTRAST", "SEARCH_TARGETS", "Variant", "attack", "attack_key",
           "kernel_bounds", "kernel_pair", "search_seconds", "stability", "variant"]


# --------------------------------------------------------------------------------------
# Perturbations
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Variant:
    """The perturbed problems and what to show about the perturbation.

    Attributes
    ----------
    problems : dict
        Method -> the perturbed problem it is given (the same one for all methods,
        except for transferred perturbations).
    display : np.ndarray (N, N) or None
        The perturbation as an image (``|A* e|`` or the inserted detail).
    title, note : str
        What the perturbation is, and one sentence on what was done.
    pending : str or None
        Why the perturbation is not there yet (a search still to run), else None.
    """

    problems: dict[str, Problem]
    display: np.ndarray | None
    title: str
    note: str
    pending: str | None = None


#: The networks each searched perturbation is computed against.
SEARCH_TARGETS = {"worst_unet": (UNET,), "worst_firenet": (FIRENET,), "transfer": (UNET, FIRENET)}


def _stored(key: tuple, load: Callable[[tuple], Any]) -> Any:
    """The result under ``key``: from memory, else from disk (then kept in memory), else None."""
    found = store().get(key)
    if found is None:
        found = load(key)
        if found is not None:
            store().put(key, found)
    return found


def _adjoint_image(problem: Problem, e: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return problem.operator.adjoint(e).abs().numpy().astype(np.float32)


def attack_key(target: str, problem: Problem, fs: FirenetSettings, ps: PerturbationSettings) -> tuple:
    """What a worst-case search's result is stored under (memory and disk)."""
    relevant = fs if METHODS[target].depends_on else None
    return ("attack", target, digest(problem), relevant, ps.budget, ps.steps, ps.noise_seed,
            persist.code_version(unet_version()))


#: Memory allowed for one gradient step of a search (FIRENET is checkpointed in segments
#: chosen to fit; the page may pass its own budget).
ATTACK_MEMORY_BYTES = 256 * 2**20


def attack(target: str, problem: Problem, fs: FirenetSettings, ps: PerturbationSettings,
           progress: Callable[[float, str], None] | None = None, run: bool = True, *,
           tick: Callable[[float | None, str | None], Any] | None = None,
           memory_bytes: float = ATTACK_MEMORY_BYTES) -> torch.Tensor | None:
    """Worst-case measurement perturbation ``e`` against ``target`` (a key of
    ``solver.methods.METHODS``: the U-Net or FIRENET).

    Returns the stored perturbation, or runs the search when ``run`` (reporting progress
    as a fraction after every step), else returns None. The search takes turns with other
    visitors' work and runs once for visitors asking for it at the same time
    (``explorer.work``); ``tick(fraction or None, note or None)`` is called about every
    0.25 s meanwhile, also inside a step (the page's chance to stop it). Against FIRENET
    the gradient is checkpointed in segments of as many layers as fit in
    ``memory_bytes``.
    """
    key = attack_key(target, problem, fs, ps)

    def lookup() -> torch.Tensor | None:
        # A stored perturbation must fit the data it perturbs: anything else is a miss.
        return _stored(key, lambda k: persist.load_tensor(k, shape=tuple(problem.y.shape), dtype=problem.y.dtype))

    found = lookup()
    if found is not None or not run:
        return found
    def compute(report: Callable[[float], None]) -> torch.Tensor:
        workers = work.pool()
        done = [0.0]

        def waiting() -> None:
            if tick is not None:
                tick(None, "waiting for a free worker")

        def on_step(step: Any) -> None:
            done[0] = min(1.0, step.step / max(step.steps, 1))
            report(done[0])
            if progress is not None:
                progress(done[0], f"step {step.step}/{step.steps}: ‖e‖/‖y‖ = {step.relative_norm:.3f}, "
                                  f"output change {step.relative_output_change:.3f}")

        net = network(target, problem, fs)
        chunk = estimates.attack_chunk(problem, fs, memory_bytes) if METHODS[target].iterative else 0
        with workers.turn(work.visitor(), waiting) as turn:
            def heartbeat() -> None:
                if tick is not None:
                    tick(done[0], None)
                workers.share(turn, waiting)

            wrapped = Segmented(net, chunk=max(chunk, 1), heartbeat=heartbeat)
            result = solver.attacks.worst_case_perturbation(
                wrapped, problem.y, budget=max(ps.budget, 1e-6), steps=ps.steps, seed=ps.noise_seed,
                callback=on_step, checkpoint=chunk > 0)
        e = result.perturbation.detach()
        store().put(key, e)
        persist.save_tensor(key, e)
        return e

    def follow(fraction: float) -> None:
        if tick is not None:
            tick(fraction, "the same search for another visitor")

    return work.once(key, lookup, compute, follow)


def variant(base: Problem, ps: PerturbationSettings, fs: FirenetSettings,
            ms: MeasurementSettings) -> Variant | None:
    """The perturbed problem(s) for ``ps.kind`` (None for no perturbation).

    Worst-case searches are only looked up here (``pending`` says so when one is still
    to run); :func:`attack` runs them.
    """
    kind = ps.kind
    if kind == "none":
        return None
    if kind == "random":
        perturbed, e = P.with_random_perturbation(base, ps.budget, seed=ps.noise_seed + 1)
        return Variant(dict.fromkeys(METHODS, perturbed), _adjoint_image(base, e), "|A* e| (random)",
                       f"Random complex Gaussian perturbation, ‖e‖ = {ps.budget:.3f} ‖y‖.")
    if kind in ("worst_unet", "worst_firenet"):
        (target,) = SEARCH_TARGETS[kind]
        name = METHODS[target].name_in_text
        e = attack(target, base, fs, ps, run=False)
        if e is None:
            return Variant({}, None, "", "", pending=f"worst-case search against {name}")
        rel = float(torch.linalg.vector_norm(e) / torch.linalg.vector_norm(base.y))
        return Variant(dict.fromkeys(METHODS, P.with_perturbation(base, e)), _adjoint_image(base, e),
                       f"|A* e| (worst case vs {name})",
                       f"Worst-case perturbation against {name} ({ps.steps} gradient steps), "
                       f"‖e‖ = {rel:.3f} ‖y‖, given to every method.")
    if kind == "transfer":
        found = {t: attack(t, base, fs, ps, run=False) for t in SEARCH_TARGETS[kind]}
        missing = [METHODS[t].name_in_text for t, e in found.items() if e is None]
        if missing:
            return Variant({}, None, "", "", pending="worst-case searches against " + " and ".join(missing))
        # The learned methods get the perturbation found against FIRENET, the others the
        # one found against the U-Net.
        against_unet = P.with_perturbation(base, found[UNET])
        against_firenet = P.with_perturbation(base, found[FIRENET])
        problems = {m: against_firenet if entry.learned else against_unet for m, entry in METHODS.items()}
        return Variant(problems, _adjoint_image(base, found[FIRENET]), "|A* e| found against FIRENET",
                       "Transferred: the U-Net (and U-Net then FIRENET) get the perturbation found "
                       "against FIRENET; every other method gets the one found against the U-Net.")
    if kind == "detail":
        detailed = P.with_text_detail(base, ps.budget)
        return Variant(dict.fromkeys(METHODS, detailed), (detailed.truth - base.truth).astype(np.float32),
                       "inserted detail",
                       f"A small text detail of contrast {ps.budget:.3f} inserted into the image "
                       "(absent from the U-Net's training images in this form).")
    if kind == "more_samples":
        more = P.with_more_samples(base, ps.budget, pattern=ms.pattern, seed=ms.seed, **ms.param_dict)
        return Variant(dict.fromkeys(METHODS, more), (more.mask & ~base.mask).astype(np.float32),
                       "added samples", more.notes[-1])
    raise ValueError(f"perturbation kind unknown: {kind!r}")


def search_seconds(targets: tuple[str, ...], problem: Problem, fs: FirenetSettings, ps: PerturbationSettings,
                   memory_bytes: float) -> float:
    """Seconds of the worst-case searches against ``targets`` that are not stored yet."""
    return sum(estimates.attack_seconds(t, problem, fs, ps, memory_bytes) for t in targets
               if attack(t, problem, fs, ps, run=False) is None)


# --------------------------------------------------------------------------------------
# Stability curves
# --------------------------------------------------------------------------------------
def _are_curves(value: Any, names: tuple[str, ...]) -> bool:
    """Whether a stored value has the shape :func:`stability` returns for ``names``."""
    expected = {f"{METHODS[n].label}, {kind}" for n in names for kind in ("worst case", "random")}
    if not isinstance(value, dict) or set(value) != expected:
        return False
    for curve in value.values():
        # size and change always; norm, error (lists) and clean_error (a number) with a truth
        if not isinstance(curve, dict) or not {"size", "change"} <= set(curve) <= _CURVE_FIELDS:
            return False
        lists = [curve[k] for k in ("size", "change", "norm", "error") if k in curve]
        if not all(isinstance(v, list) and len(v) == len(lists[0]) for v in lists):
            return False
        numbers = [v for values in lists for v in values] + ([curve["clean_error"]] if "clean_error" in curve else [])
        if not all(persist.finite_number(v) for v in numbers):
            return False
    return True


_CURVE_FIELDS = {"size", "change", "norm", "error", "clean_error"}


def stability(problem: Problem, fs: FirenetSettings, names: tuple[str, ...], budgets: tuple[float, ...],
              steps: int, progress: Callable[[float, str], None] | None = None,
              run: bool = True, on_curves: Callable[[dict], None] | None = None,
              protocol: str = "measurements",
              ) -> dict[str, dict[str, Any]] | None:
    """Error to the truth and output change against perturbation size for each network,
    worst case and random.

    ``protocol`` is ``"measurements"`` (worst-case ``e`` on the data, ``steps`` normalised
    ascent steps per size, :func:`solver.stability.stability_curve`) or ``"image"`` (the
    paper's search on the image, :func:`solver.stability.paper_stability_curve`; it needs
    the true image). Returns ``{"<network>, worst case": {"size": [...], "change": [...],
    "norm": [...], "error": [...], "clean_error": float}, "<network>, random": ...}``
    (``size`` relative, ``norm`` the data perturbation ``||e||``, ``error`` the error to
    the truth ``||f(y + e) - x||``; the last three only with a truth), or None when not
    stored and ``run`` is False. ``on_curves(curves so far)`` is called after every
    finished budget while running, so the plot can grow as the points arrive.
    """
    if protocol not in ("measurements", "image"):
        raise ValueError(f"protocol must be 'measurements' or 'image', got {protocol!r}")
    key = ("stability", protocol, digest(problem), fs, budgets, steps if protocol == "measurements" else None,
           names, persist.code_version(unet_version()))
    found = _stored(key, lambda k: persist.load_json(k, check=lambda value: _are_curves(value, names)))
    if found is not None or not run:
        return found
    partial: dict[str, dict[str, list[float]]] = {}

    def on_progress(info: Any) -> None:
        if progress is not None:
            progress(info.fraction, f"{METHODS[info.network].label}: budget {info.budget:.3g}")
        if info.point is not None and on_curves is not None:
            size, worst, random = info.point
            label = METHODS[info.network].label
            for kind, change in ((f"{label}, worst case", worst), (f"{label}, random", random)):
                partial.setdefault(kind, {"size": [], "change": []})
                partial[kind]["size"].append(size)
                partial[kind]["change"].append(change)
            on_curves(partial)

    nets = {name: network(name, problem, fs) for name in names}
    real = problem.y.real.dtype
    if protocol == "image":
        if not problem.has_truth:
            raise ValueError("the paper's image-domain search perturbs the true image; measured data have none "
                             "(choose the data perturbation)")
        truth = torch.as_tensor(np.asarray(problem.truth), dtype=real)
        curve = solver.stability.paper_stability_curve(nets, problem.operator, truth, budgets, seed=0,
                                                        callback=on_progress)
    else:
        truth = torch.as_tensor(np.asarray(problem.truth), dtype=real) if problem.has_truth else None
        curve = solver.stability.stability_curve(nets, problem.y, budgets, steps=steps, seed=0,
                                                  callback=on_progress, truth=truth)
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        label = METHODS[name].label
        sizes = [float(s) for s in curve.perturbation_norms[name]]
        for kind, change, error in (("worst case", curve.worst, curve.worst_error),
                                    ("random", curve.random, curve.random_error)):
            entry: dict[str, Any] = {"size": sizes, "change": [float(v) for v in change[name]]}
            if name in error:
                entry.update(norm=[float(v) for v in curve.data_perturbation[name]],
                             error=[float(v) for v in error[name]], clean_error=float(curve.clean_error[name]))
            out[f"{label}, {kind}"] = entry
    store().put(key, out)
    persist.save_json(key, out)
    return out


#: The faint detail of the kernel bound's pair: the text of the paper's detail experiment
#: at this contrast (image units), less the part the mask measures.
KERNEL_DETAIL_CONTRAST = 0.2


def kernel_pair(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """The pair of the kernel bound: the truth ``x`` and ``x'`` = ``x`` plus a faint text
    from which the part the mask measures is removed (``solver.kernel_bound.kernel_detail``)."""
    size = problem.size
    detail = KERNEL_DETAIL_CONTRAST * text_detail(size, "Can u see it?", height=max(6, size // 24))
    x = np.asarray(problem.truth, dtype=np.float64)
    return x, x + kernel_detail(problem.operator, detail)


def kernel_bounds(problem: Problem, fs: FirenetSettings, names: tuple[str, ...],
                  run: bool = True) -> dict[str, dict[str, float]] | None:
    """The kernel lower bound (``solver.kernel_bound``) of each network on :func:`kernel_pair`.

    Returns ``{label: {"distance", "error", "error_other", "data_distance", "bound",
    "quotient"}}``, or None when not stored and ``run`` is False (or the data have no
    truth). Each network runs twice, forward only.
    """
    if not problem.has_truth:
        return None
    key = ("kernel_bound", digest(problem), fs, names, KERNEL_DETAIL_CONTRAST, persist.code_version(unet_version()))
    found = _stored(key, persist.load_json)
    if found is not None or not run:
        return found
    x, other = kernel_pair(problem)
    real = problem.y.real.dtype
    out = {}
    for name in names:
        result = kernel_lower_bound(network(name, problem, fs), problem.operator,
                                    torch.as_tensor(x, dtype=real), torch.as_tensor(other, dtype=real))
        out[METHODS[name].label] = {k: float(getattr(result, k)) for k in
                                    ("distance", "error", "error_other", "data_distance", "bound", "quotient")}
    store().put(key, out)
    persist.save_json(key, out)
    return out
