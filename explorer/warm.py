"""Every preset's results computed before a talk, exactly as the page computes them.

A preset opened on stage should come from the caches, not run for a minute in front of
the audience. :func:`warm_preset` builds a preset's settings the way the page does (the
defaults, the preset's values, the same :func:`explorer.controls.settings_from_state`
and :func:`explorer.inputs.checked_firenet`) and calls the page's own cached functions
on them, so every result lands under the key the page looks up:

* the worst-case perturbation(s) of a searched preset (:func:`explorer.variants.attack`;
  memory and disk);
* the reconstructions of every method shown, clean and perturbed, and the
  Chambolle-Pock baselines when the preset compares with them
  (:func:`explorer.compute.reconstruct`; memory and disk);
* the stability curves of the stability panel (:func:`explorer.variants.stability`;
  memory and disk).

Run inside the server's process (``python -m explorer.talk``) it fills both the memory
store the visitors' pages read and the disk cache; the work takes turns with visitors'
runs (``explorer.work``), and a page asking for a result being warmed waits for it
instead of computing it twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from explorer import compute, controls, inputs, own_data, sources, variants
from explorer import specs as K
from explorer import state as S
from explorer.charts import STABILITY_BUDGETS, stability_networks
from explorer.presets import PRESETS
from explorer.spec import widget_value
from explorer.specs import METHOD_LABELS

from solver.methods import FIRENET, METHODS

__all__ = ["DEFAULT_PAGE", "PROGRESS_SECONDS", "STORE_ROOM", "Step", "preset_settings", "preset_steps", "warm_first_page",
           "warm_preset", "warm_presets"]


#: Entries the in-memory result store is given for a warm-up: what the page without a
#: preset and the shipped presets keep (about 63 reconstructions, 4 worst cases and 11
#: stability curves), plus the visitors' own 64.
STORE_ROOM = 64 + 80


@dataclass(frozen=True)
class Step:
    """One piece of a preset's warm-up.

    Attributes
    ----------
    what : str
        What it computes, for the progress line.
    run : callable
        Computes it (or finds it stored) and returns the result.
    """

    what: str
    run: Callable[[], Any]


#: The name :func:`preset_settings` gives the page a visitor first sees (no preset):
#: warmed first, since a talk opens on it.
DEFAULT_PAGE = "default"


def preset_settings(name: str, overrides: Mapping[str, Any] | None = None) -> Any:
    """The :class:`~explorer.settings.Settings` the page has after preset ``name``'s
    button (with ``overrides`` as the memory's ``preset_overrides``), or for
    :data:`DEFAULT_PAGE` on a fresh page (the defaults, with ``overrides``)."""
    if name != DEFAULT_PAGE and name not in PRESETS:
        raise ValueError(f"name must be {DEFAULT_PAGE} or one of {', '.join(PRESETS)}, not {name!r}")
    specs = K.all_specs(sources.pattern_registry())
    state: dict[str, Any] = {}
    S.init(state, specs)
    if name == DEFAULT_PAGE:
        state.update({key: widget_value(value) for key, value in (overrides or {}).items()})
    else:
        state.update(controls.preset_values(name, overrides))
    unknown = sorted(set(state) - set(specs) - {S.MEMORY_KEY})
    if unknown:
        raise ValueError(f"overrides name no setting: {', '.join(unknown)}")
    for key, value in (overrides or {}).items():
        options = specs[key].options
        chosen = value if isinstance(value, (list, tuple)) else [value]
        if options is not None and not set(chosen) <= set(options):
            raise ValueError(f"overrides: {key} must be among {options}, not {value!r}")
    settings = controls.settings_from_state(specs, None, state)
    return inputs.checked_firenet(settings, quiet=True)


#: Shortest time between two progress lines inside one long step (seconds).
PROGRESS_SECONDS = 30.0


def preset_steps(name: str, overrides: Mapping[str, Any] | None = None,
                 progress: Callable[[float, str], None] | None = None, *, stability: bool = True) -> list[Step]:
    """The steps that warm preset ``name``, in the order the page needs their results
    (the stability curves last, and only with ``stability``); the searches and the
    stability curves call ``progress(fraction, text)`` as they go."""
    settings = preset_settings(name, overrides)
    image, ms, ps, fs = settings.image, settings.measurement, settings.perturbation, settings.firenet
    truth, _ = sources.test_image(image.name, image.size, image.seed)
    truth = own_data.with_phase(truth, image)
    base = compute.base_problem(image, truth, ms, ps.noise, ps.noise_seed)
    memory = float(S.PageMemory().attack_memory_mb) * 2**20  # a fresh session's
    steps = [Step(f"worst-case search against {METHODS[t].name_in_text}",
                  lambda t=t: variants.attack(t, base, fs, ps, progress=progress, memory_bytes=memory))
             for t in variants.SEARCH_TARGETS.get(ps.kind, ())]

    def reconstructions() -> list[tuple[str, Any]]:
        """(method, problem) pairs the page reconstructs, perturbation searched first."""
        variant = variants.variant(base, ps, fs, ms)
        card, _ = compute.unet_status()
        perturbed = variant is not None and variant.pending is None
        pairs = []
        for method in [FIRENET, *[m for m in settings.view.show if m != FIRENET]]:
            if METHODS[method].learned and card is None:
                continue
            given = variant.problems[method] if perturbed else base
            pairs += [(method, given)] + ([(method, base)] if given is not base else [])
        if settings.view.compare:
            given = variant.problems[FIRENET] if perturbed else base
            pairs += [(m, given) for m, entry in METHODS.items() if entry.baseline]
        return list(dict.fromkeys(pairs))

    def reconstruct_all() -> int:
        pairs = reconstructions()
        for method, problem in pairs:
            compute.reconstruct(method, problem, fs)
        return len(pairs)

    shown = ", ".join(label for m, label in METHOD_LABELS.items() if m == FIRENET or m in settings.view.show)
    steps.append(Step(f"reconstructions ({shown})", reconstruct_all))
    if not stability:
        return steps
    steps.append(Step("stability curves",
                      lambda: variants.stability(base, fs, stability_networks(settings), STABILITY_BUDGETS,
                                                 ps.stability_steps, progress=progress,
                                                 protocol=ps.stability_protocol)))
    return steps


def warm_preset(name: str, overrides: Mapping[str, Any] | None = None,
                report: Callable[[str], None] | None = None, *, stability: bool = True) -> float:
    """Compute (or find stored) everything preset ``name`` shows (its stability curves
    only with ``stability``); the seconds it took.

    ``report(line)`` is called before each step and, inside a long search or stability
    computation, at most every :data:`PROGRESS_SECONDS` with its fraction done.
    """
    start = time.perf_counter()
    current = [""]
    last = [start]

    def progress(fraction: float, text: str) -> None:
        now = time.perf_counter()
        if report is not None and now - last[0] >= PROGRESS_SECONDS:
            last[0] = now
            report(f"{current[0]}: {fraction:.0%}, {text} ({now - start:.0f} s so far)")

    for step in preset_steps(name, overrides, progress, stability=stability):
        current[0] = step.what
        last[0] = time.perf_counter()
        if report is not None:
            report(f"{step.what} ({last[0] - start:.0f} s so far)")
        step.run()
    return time.perf_counter() - start


def warm_presets(names: list[str] | None = None, overrides: Mapping[str, Any] | None = None,
                 report: Callable[[str], None] = print) -> dict[str, float | str]:
    """Warm the default page and every preset (or ``names``) in turn, reporting
    ``"warming preset 3/11: <label>: <step>"`` lines; a preset that fails is reported and
    skipped (the page will show its error in place). Returns name -> seconds, or the
    error message."""
    chosen = [DEFAULT_PAGE, *PRESETS] if names is None else list(names)
    store = compute.store()
    store.capacity = max(store.capacity, STORE_ROOM)
    outcome: dict[str, float | str] = {}
    total = time.perf_counter()
    for number, name in enumerate(chosen, start=1):
        label = PRESETS[name].label if name in PRESETS else "the page without a preset"
        prefix = f"warming preset {number}/{len(chosen)}: {label}"
        try:
            seconds = warm_preset(name, overrides, lambda line, prefix=prefix: report(f"{prefix}: {line}"))
        except (RuntimeError, ValueError) as error:
            outcome[name] = str(error)
            report(f"{prefix}: failed: {error}")
            continue
        outcome[name] = seconds
        report(f"{prefix}: done in {seconds:.0f} s")
    report(f"warming done: {len(chosen)} presets in {time.perf_counter() - total:.0f} s")
    return outcome


def warm_first_page(report: Callable[[str], None] = print) -> float:
    """The page a visitor first sees (no preset) computed, or found on disk: its
    worst-case search and reconstructions, not its stability curves (a visitor asks for
    those); the seconds it took. ``make app`` runs it before it starts the server, so a
    new install's first visit opens from disk instead of computing for half a minute."""
    seconds = warm_preset(DEFAULT_PAGE, report=lambda line: report(f"the first page: {line}"), stability=False)
    report(f"the first page: ready in {seconds:.0f} s")
    return seconds
