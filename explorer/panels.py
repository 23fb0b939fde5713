"""The page's sections: each draws one panel from the settings and computed results.

``app.py`` calls these top to bottom. Computation goes through ``explorer.compute``
(cached); figures come from ``explorer.figures`` (pure); this module only arranges them
on the page and reports warnings and errors. Running the methods (with live progress) is
``explorer.runs``; turning settings into the problem is ``explorer.inputs``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import streamlit as st

from explorer import compute, runs, sources, state, variants
from explorer.estimates import approximately, duration
from explorer.about import ABOUT, PANELS
from explorer.charts import (
    CHART,
    STABILITY_BUDGETS,
    convergence_curves,
    draw_convergence,
    kernel_networks,
    stability_networks,
)
from explorer.specs import STABILITY_PROTOCOLS
from explorer.downloads import arrays_npz, curves_csv, png_zip, result_arrays
from explorer.chart_style import DEFAULT_TEXT
from explorer.figures import ERROR_SCALE, perturbation_ranges
from explorer.image_bytes import coloured_png
from explorer.picture_grid import ColourBar, Picture, picture_columns, picture_row
from explorer.presentation import chart_text
from explorer.results import Results
from explorer.settings import Settings
from explorer.specs import METHOD_LABELS
from explorer.text import plain
from solver.methods import FIRENET_PAPER, FIRENET_PAPER_10, ZERO_FILLED
from solver.metrics import l2_norm
from solver.problem import Problem

__all__ = [
    "about",
    "convergence",
    "notices",
    "perturbation",
    "sampling",
    "share",
    "stability",
    "stability_caption",
]


# --------------------------------------------------------------------------------------
# Notices
# --------------------------------------------------------------------------------------
def notices() -> None:
    """Messages from the last action: rejected URL values, a preset's note, an upload."""
    memory = state.memory()
    for message in memory.url_notes:
        st.warning(plain(message, limit=400))
    memory.url_notes = ()
    if memory.preset_note:
        st.info(memory.preset_note)
        # Shown once, but kept while the computation it asked for is still requested.
        if not (memory.attack_request or memory.stability_request):
            memory.preset_note = None
    if memory.upload_error:
        st.error(plain(memory.upload_error, limit=400))


# --------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------
def sampling(used: Problem, base: Problem, *, text_size: int = DEFAULT_TEXT, chart: bool = True) -> None:
    """The mask the methods were given (``used``: a superset of ``base``'s after "more
    samples"), the log k-space magnitude (unless not ``chart``) and the achieved rate
    (chart text of ``text_size`` pixels)."""
    c1, c2 = st.columns([4, 1])
    if chart:
        kspace = sources.kspace_log(used.truth if used.has_truth else compute.zero_filled_image(used),
                                    used.transform)
        c1.plotly_chart(compute.figure("mask_figure", used.mask, kspace, used.rate,
                                       used.transform, text_size=text_size), key="mask_fig", config=CHART)
        if used.transform != "fourier":
            c1.caption("Walsh coefficients in sequency order, centred: the lowest sequencies in the middle, "
                       "as the mask's.")
    with c2:
        st.metric("Achieved sampling rate", f"{used.rate:.1%}",
                  delta=None if used.rate == base.rate else f"{used.rate - base.rate:+.1%} added",
                  help="Fraction of the N × N coefficients measured.")
        st.metric("Measurements M", f"{int(used.mask.sum()):,}")
        st.metric("Image", f"{used.size} x {used.size}")


# --------------------------------------------------------------------------------------
# Perturbation
# --------------------------------------------------------------------------------------
def perturbation(settings: Settings, results: Results, base: Problem,
                 variant: variants.Variant | None, slot: Any) -> None:
    """The perturbation and what it changed in each network's output."""
    if variant is None:
        return
    with slot:
        if variant.pending is not None:
            from explorer.inputs import search_estimate

            budget = state.memory().work_budget_seconds
            why = ("it was cancelled" if runs.attack_cancelled() else
                   f"that is more than the {duration(budget)} the page starts by itself")
            st.info(f"This perturbation needs a {variant.pending} (gradient ascent, "
                    f"{settings.perturbation.steps} steps, "
                    f"{approximately(search_estimate(settings, results))}); {why}. The page above shows "
                    "the unperturbed data until it has run.")
            st.button("Run the worst-case search", key="run_attack", type="primary",
                      on_click=_request, args=("attack_request",))
            return
        st.caption(plain(variant.note, limit=400))
        changes = {}
        rows = []
        for method in settings.view.show:
            if method not in results.main:
                continue
            main, clean = results.main[method], results.clean[method]
            given = results.problems[method]
            changes[METHOD_LABELS[method]] = main.image - clean.image
            rows.append((METHOD_LABELS[method], _stability_numbers(main.image, clean.image, given, base)))
        if not changes or variant.display is None:
            return
        _perturbation_pictures(variant.display, changes, variant.title, chart_text(settings.view.present))
        # Each method's numbers under its change picture, named once above them as in the
        # reconstructions' row (labels with the method's name ended in "..." at 1280 x 720),
        # aligned at the bottom so that a name on two lines leaves the numbers in line.
        columns = st.columns(picture_columns(len(rows) + 1), vertical_alignment="bottom")[1:]
        for column, (name, numbers) in zip(columns, rows):
            column.markdown(f"**{name}**")
            column.metric("Output change", f"{numbers['change']:.4f}", help="‖f(perturbed) − f(clean)‖ / ‖f(clean)‖")
            column.metric("Error to the truth", f"{numbers['error']:.4f}",
                          delta=f"{numbers['error'] - numbers['error_clean']:+.4f}", delta_color="off",
                          help=f"‖f(perturbed) − x‖ / ‖x‖; unperturbed {numbers['error_clean']:.4f}. The delta is "
                               "the change from the unperturbed error (a difference, not a ratio: a ratio favours "
                               "the network whose unperturbed error is larger). FIRENET's stability theorem "
                               "bounds this error: C₁ σ + C₂ ‖e‖ + depth term.")
            if numbers["ratio"] is not None:
                column.metric("Change ratio", f"{numbers['ratio']:.2f}",
                              help="Output change divided by the data's, ‖e‖ / ‖y‖: how many times the data's "
                                   "relative change the output moved; 1 means as much as the data.")


def _perturbation_pictures(perturbation: np.ndarray, changes: Mapping[str, np.ndarray], title: str,
                           text_size: int) -> None:
    """The perturbation and what it changed in each output, as plain pictures: the
    perturbation on its own range (black to white, named in its title), the changes on
    one scale up to the largest of them (the colour bar; two bars stacked beside one row
    of pictures left their labels on top of each other at 1024 x 768)."""
    shown_range, top = perturbation_ranges(perturbation, changes)
    low, high = float(np.min(perturbation)), float(np.max(perturbation))
    magnitudes = {name: np.abs(change) for name, change in changes.items()}
    picture_row([Picture(coloured_png(perturbation, shown_range, "gray"), f"{title}, {low:.3g} to {high:.3g}",
                         perturbation),
                 *(Picture(coloured_png(magnitude, top, ERROR_SCALE), f"change in {name}", magnitude)
                   for name, magnitude in magnitudes.items())],
                [ColourBar(ERROR_SCALE, top, "|change|")], text_size, key="perturbation_pictures")


def _stability_numbers(perturbed: np.ndarray, clean: np.ndarray, given: Problem, base: Problem) -> dict:
    """Output change, error to the truth (perturbed and clean) and the
    change per unit of data perturbation (None when the data were not perturbed in place:
    a new detail or more samples)."""
    truth_norm = max(l2_norm(given.truth), 1e-12)
    change = l2_norm(perturbed - clean) / max(l2_norm(clean), 1e-12)
    error = l2_norm(perturbed - given.truth) / truth_norm
    error_clean = l2_norm(clean - base.truth) / max(l2_norm(base.truth), 1e-12)
    ratio = None
    if given.y.shape == base.y.shape and np.array_equal(given.truth, base.truth):
        size = float((given.y - base.y).norm() / base.y.norm())
        ratio = change / size if size > 0 else None
    return {"change": change, "error": error, "error_clean": error_clean, "ratio": ratio}


def _request(request: str) -> None:
    """A button's ``on_click``: the memory's ``request`` (e.g. ``"attack_request"``) set."""
    setattr(state.memory(), request, True)


# --------------------------------------------------------------------------------------
# Convergence
# --------------------------------------------------------------------------------------
def convergence(settings: Settings, results: Results, slot: Any) -> None:
    """Error and certified gap against layer, with restarts and the eps_k schedule."""
    draw_convergence(settings, results, slot)


# --------------------------------------------------------------------------------------
# Stability
# --------------------------------------------------------------------------------------
def seconds_per_step(results: Results, names: tuple[str, ...]) -> float:
    """Rough time of one gradient step against each of ``names`` (forward + backward
    through the network, about three forward passes)."""
    seconds = {n: results.main[n].seconds for n in names if n in results.main}
    if FIRENET_PAPER_10 in names and FIRENET_PAPER in results.main:
        # Not run on the page: twice the layers of the 5 x 5 schedule, twice its time.
        seconds.setdefault(FIRENET_PAPER_10, 2.0 * results.main[FIRENET_PAPER].seconds)
    return sum(3.0 * s for s in seconds.values())


def stability(settings: Settings, base: Problem, results: Results) -> Any:
    """The stability panel: the error to the truth against ||e|| with each network's
    fitted line beside it, and the kernel lower bound; returns the slot where a requested
    computation reports."""
    from solver.attacks import PAPER_IMAGE_ATTACK

    ps = settings.perturbation
    steps, protocol = ps.stability_steps, ps.stability_protocol
    names = stability_networks(settings)
    per_size = PAPER_IMAGE_ATTACK["max_steps"] / len(STABILITY_BUDGETS) if protocol == "image" else steps
    estimate = seconds_per_step(results, names) * per_size * len(STABILITY_BUDGETS)
    stored = variants.stability(base, settings.firenet, names, STABILITY_BUDGETS, steps, run=False,
                                protocol=protocol)
    st.caption(stability_caption(names, steps, protocol, stored))
    c1, c2, c3 = st.columns([1, 2, 2])
    c1.number_input("Gradient steps per size", min_value=1, max_value=200, step=1,
                    key="stability_steps", disabled=protocol == "image")
    c2.selectbox("Perturbation", options=tuple(STABILITY_PROTOCOLS), format_func=STABILITY_PROTOCOLS.get,
                 key="stability_protocol")
    slot = c3.empty()
    if stored is not None:
        slot.empty()
        c_fig, c_table = st.columns([1, 1])
        figure = compute.figure("stability_figure", stored, text_size=chart_text(settings.view.present))
        c_fig.plotly_chart(figure, key="stab_fig", config=CHART)
        with c_table:
            _slope_table(stored, l2_norm(base.truth) if base.has_truth else None)
        _kernel_panel(base, settings, kernel_networks(settings, tuple(results.main)))
        return st.container()
    if not state.memory().stability_request:
        slot.button(f"Compute the stability curves and the kernel bound ({'up to ' if protocol == 'image' else ''}"
                    f"{approximately(estimate)})",
                    key="run_stability", on_click=_request, args=("stability_request",),
                    help="Runs worst-case searches against each network at every size; "
                         "the rest of the page stays usable and the progress is shown.")
    return st.container()


def stability_caption(names: Sequence[str], steps: int, protocol: str,
                      curves: Mapping[str, Mapping[str, Any]] | None) -> str:
    """What the stability chart plots: the error to the truth against ||e||, how the
    perturbations were found, what the theorem says about it, and, once computed, the
    sizes the searches ended at (a search may stop inside its budget)."""
    sizes = ", ".join(map(str, STABILITY_BUDGETS))
    where = (f"data perturbations $e$ with $\\|e\\| / \\|y\\|$ up to the budgets {sizes} (gradient ascent, {steps} steps per "
             "size, each size starting from the last one's perturbation)" if protocol == "measurements" else
             f"the paper's image perturbations $r$ with $\\|r\\| / \\|Ax\\|$ up to the budgets {sizes} (Nesterov ascent on "
             "$\\tfrac12\\|f(A(x + r)) - f(Ax)\\|^2 - 0.005\\|r\\|^2$, learning rate 0.01, one search per network "
             "stopped at the largest size or after 300 steps; the data perturbation is $e = Ar$)")
    text = (f"Error to the truth $\\|f(y + e) - x\\|$ against $\\|e\\|$ for "
            f"{', '.join(METHOD_LABELS[n] for n in names)}: worst case (solid) and random noise of the same size "
            f"(dashed), {where}. FIRENET's stability theorem bounds this error by "
            "$C_1\\sigma + C_2\\|e\\|$ + a term falling in the depth, for the paper's fixed schedules "
            "under its assumptions; the page's adaptive FIRENET is measured, not covered (About). The table fits "
            "each worst-case line: its slope is the measured counterpart of $C_2$ (an estimate from below, not a "
            "bound).")
    reached = [v for curve in (curves or {}).values() for v in curve["size"]]
    if reached:
        text += (" Each point sits where its search ended, at most at its budget: the sizes $\\|e\\| / \\|y\\|$ reached "
                 f"here run from {min(reached):.3f} to {max(reached):.3f}.")
    return text


def _slope_table(curves: Mapping[str, Mapping[str, Any]], truth_norm: float | None) -> None:
    """Least-squares line error = a + b ||e|| through each worst-case curve and its clean
    error: the measured counterparts of the theorem's C1 sigma + depth term (a) and C2 (b)."""
    from solver.stability import error_slope

    rows = []
    for name, curve in curves.items():
        if not name.endswith("worst case") or "error" not in curve:
            continue
        sizes, errors = [0.0, *curve["norm"]], [curve["clean_error"], *curve["error"]]
        try:
            intercept, slope = error_slope(sizes, errors)
        except ValueError:  # e.g. every perturbation of size 0 (a search that never moved)
            continue
        rows.append({"network": name.removesuffix(", worst case"), "error, clean": f"{curve['clean_error']:.3g}",
                     "error, largest ‖e‖": f"{errors[-1]:.3g}", "a": f"{intercept:.3g}",
                     "slope b (cf. C₂)": f"{slope:.3g}"})
    if not rows:
        st.caption("No error to the truth here (measured data have none): the plot shows the output change.")
        return
    # A plain table, whose columns share its width: in the data grid the slope, the column
    # this table is for, lay beyond the panel's edge at 1280 x 720.
    st.table(rows, hide_index=True)
    st.caption("Fit: error $= a + b\\|e\\|$ (least squares over the clean point and the worst cases). Errors and "
               f"$\\|e\\|$ are Euclidean norms over all pixels and measurements ($\\|x\\| = {truth_norm:.3g}$).")


def _kernel_panel(base: Problem, settings: Settings, names: tuple[str, ...]) -> None:
    """The kernel lower bound of each network on the page's pair (when computed)."""
    bounds = variants.kernel_bounds(base, settings.firenet, names, run=False)
    if bounds is None:
        return
    x, other = variants.kernel_pair(base)
    st.markdown("**The kernel lower bound** (the paper's explanation of instability)")
    c_other, c_pic, c_table = st.columns([1, 1, 3])
    difference = other - x
    top = float(np.abs(difference).max()) or 1.0
    c_other.image(compute.figure("image_png", other), caption="x': the truth x with the detail", width=180)
    c_pic.image(compute.figure("image_png", np.abs(difference), (0.0, top)),
                caption=f"|x' - x|: a faint text (contrast {variants.KERNEL_DETAIL_CONTRAST:g}) less what the "
                        f"mask measures, scaled to {top:.3g}", width=180)
    rows = [{"network": label, "bound": f"{b['bound']:.3g}",
             "‖f(Ax) − f(Ax′)‖ / ‖A(x − x′)‖": f"{b['quotient']:.3g}", "err(x)": f"{b['error']:.3g}",
             "err(x')": f"{b['error_other']:.3g}"} for label, b in bounds.items()]
    first = next(iter(bounds.values()))
    with c_table:
        st.table(rows, hide_index=True)  # plain, as the slope table: every column within the panel
        st.caption(
            f"$\\|x - x'\\| = {first['distance']:.3g}$ while $\\|A(x - x')\\| = {first['data_distance']:.3g}$: the mask "
            "hardly measures the detail. A map that recovers both images has local Lipschitz constant at least "
            "$(\\|x - x'\\| - \\mathrm{err}(x) - \\mathrm{err}(x')) / \\|A(x - x')\\|$; a bound of 0 or below means "
            "the network does not "
            "recover both (it misses the detail), so the argument forces nothing on it.")


# --------------------------------------------------------------------------------------
# Share and download, About
# --------------------------------------------------------------------------------------
def share(settings: Settings, shown: Mapping[str, np.ndarray], base: Problem,
          variant: variants.Variant | None, results: Results | None = None) -> None:
    """The URL explanation and the downloads: images, arrays (with the data, the
    perturbation and the clean reconstructions), the plotted curves, and the settings
    (which record whether the perturbation was applied to the images or is still
    pending)."""
    query = "&".join(f"{k}={v}" for k, v in (state.memory().last_query or {}).items())
    st.markdown("Every setting is in the page's address (URL query parameters): copy the "
                "address bar to share exactly this page.")
    # Plain monospace text: a code block would load the browser's syntax highlighter, seconds
    # of script on a busy two-core machine, for one line.
    st.text("?" + query if query else "(default page: no parameters)")
    c1, c2, c3, c4 = st.columns(4)
    # Each file is made when its button is clicked (a callable), not on every run of the page:
    # zipping the PNGs and writing the NPZ took a tenth of a cached page's script time.
    c1.download_button("Images (PNG, zipped)", lambda: png_zip(shown), file_name="firenet_images.zip",
                       mime="application/zip", key="dl_png", on_click="ignore",
                       disabled=not shown)
    applied_variant = variant is not None and variant.pending is None and results is not None
    clean = ({METHOD_LABELS[m]: results.clean[m].at_depth(settings.view.depth)
              for m in settings.view.show if m in results.clean} if applied_variant else None)
    arrays = result_arrays(shown, base, variant.problems.get(ZERO_FILLED) if applied_variant else None,
                           variant.display if applied_variant else None, clean)
    c2.download_button("Arrays (NPZ)", lambda: arrays_npz(arrays), file_name="firenet_arrays.npz",
                       mime="application/octet-stream", key="dl_npz", on_click="ignore",
                       help="The images shown, the mask, the data y and, with a perturbation, the "
                            "perturbed data, the perturbation e and the clean reconstructions.")
    convergence = convergence_curves(settings, results)[0] if results is not None else {}
    stability = variants.stability(base, settings.firenet, stability_networks(settings), STABILITY_BUDGETS,
                                   settings.perturbation.stability_steps, run=False)
    c4.download_button("Curves (CSV)", lambda: curves_csv(convergence, stability), file_name="firenet_curves.csv",
                       mime="text/csv", key="dl_csv", on_click="ignore",
                       disabled=not (convergence or stability),
                       help="The convergence curves and, once computed, the stability curves: one row "
                            "per point.")
    if variant is None:
        applied = "none"
    elif variant.pending is not None:
        applied = f"pending: {variant.pending} not run yet, images show the unperturbed data"
    else:
        applied = f"applied: {variant.note}"
    c3.download_button("Settings (JSON)", settings.to_json(perturbation=applied),
                       file_name="firenet_settings.json", mime="application/json", key="dl_json",
                       on_click="ignore")


def about() -> None:
    """The story and what each panel shows."""
    st.markdown(ABOUT)
    st.markdown("**What each panel shows**")
    st.markdown(PANELS)
