"""The page's plotly figures of curves: convergence against layers and seconds, and the
error against the size of a perturbation (no Streamlit here).

A curve's colour is its method's (``solver.methods.METHODS``), the same in every panel
and chart; log axes label whole numbers, never the bare digits plotly writes within a
decade. Every builder takes ``text_size`` (pixels, ``explorer.chart_style``).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.chart_style import DEFAULT_TEXT, NARROWEST_CHART, legend_below, style_text, title_lines, wrap

__all__ = ["convergence_figure", "stability_figure", "method_colour", "log_axis"]

#: Colours for curves that are not a method's (a method's colour is its registry entry's).
_SPARE_COLOURS = ("#8c564b", "#e377c2", "#bcbd22", "#393b79", "#637939")


def method_colour(name: str) -> str:
    """The colour of the curve named ``name`` (a method's label): the method's own, the
    same in every panel and chart (``solver.methods.METHODS``), and for any other name one
    chosen from the name itself, so it never depends on the order or the panel the curve
    is drawn in."""
    from solver.methods import METHODS

    found = {method.label: method.colour for method in METHODS.values()}.get(name)
    return found if found is not None else _SPARE_COLOURS[zlib.crc32(name.encode()) % len(_SPARE_COLOURS)]


def log_axis(values: Sequence[float]) -> dict[str, Any]:
    """Properties of a log axis over ``values`` whose labels are whole numbers.

    Over three powers of ten or more: a label at every power of ten, unlabelled minor ticks
    between. Over fewer, a power or two alone left most of a curve unlabelled (a relative
    error from 1 down to 0.035 read "1" and "10^-1" only), and within a decade plotly would
    label the digits 2 ... 9 alone ("9 8 7 ... 2"): there the 1-2-5 values inside (or every
    digit's value when fewer than two fall inside) are labelled in full.
    """
    positive = [float(v) for v in values if v is not None and math.isfinite(v) and v > 0]
    axis: dict[str, Any] = {"type": "log", "exponentformat": "power"}
    if not positive:
        return axis
    low, high = min(positive), max(positive)
    decades = range(math.floor(math.log10(low)), math.floor(math.log10(high)) + 2)
    if sum(low <= 10.0**k <= high for k in decades) >= 3:
        return {**axis, "dtick": 1, "minor": dict(dtick="D1", ticks="outside", ticklen=3, showgrid=False)}
    ticks: list[float] = []
    for digits in ((1, 2, 5), range(1, 10)):
        ticks = [float(f"{m}e{k}") for k in decades for m in digits if low <= float(f"{m}e{k}") <= high]
        if len(ticks) >= 2:
            break
    if len(ticks) < 2:
        ticks = [float(f"{low:.2g}"), float(f"{high:.2g}")]
    return {**axis, "tickvals": ticks, "ticktext": [_tick_text(t) for t in ticks]}


def _tick_text(value: float) -> str:
    """``value`` in full between 0.001 and 10,000 ("0.05"), else as m x 10^k."""
    if 1e-3 <= value < 1e4:
        return f"{value:g}"
    mantissa, exponent = f"{value:.1e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    power = f"10<sup>{int(exponent)}</sup>"
    return power if mantissa == "1" else f"{mantissa}×{power}"


def _layout(fig: go.Figure, entries: list[str], titles: Sequence[str], text_size: int, *, plot_height: int) -> None:
    """Height, margins and a legend under the plot for ``text_size``: the plot area keeps
    ``plot_height`` pixels whatever the titles' lines and the legend's rows take."""
    legend, bottom = legend_below(entries, width=NARROWEST_CHART, text_size=text_size)
    top = int(title_lines(list(titles)) * 1.3 * text_size) + 12
    fig.update_layout(height=plot_height + top + bottom, margin=dict(l=10, r=10, t=top, b=bottom),
                      legend=legend)
    style_text(fig, text_size)


def convergence_figure(
    curves: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    restart_layers: Sequence[int] = (),
    eps: Sequence[float] | None = None,
    depth: int | None = None,
    last_layer: int | None = None,
    text_size: int = DEFAULT_TEXT,
) -> go.Figure:
    """Relative error to the truth, and the certified duality gap against layer and seconds.

    Parameters
    ----------
    curves : mapping
        Method -> ``{"layer": [...], "error": [...], "gap": [...]}`` (the certified
        relative gap, an upper bound on ``(F - F*)/F*``; see
        ``solver.trace.certify``), optionally with ``"seconds"`` (the run's compute time
        at each layer: the gap is then also drawn against it) and ``"own"`` (the run's
        own certificate, ``solver.trace.own_certificate``: drawn dotted beside its gap).
    restart_layers : sequence of int
        Layers after which FIRENET restarts (dotted vertical lines).
    eps : sequence of float, optional
        FIRENET's target ``eps_k`` per restart, on the gap's relative scale (drawn as a
        step line on the gap panel), so a stall (gap flat while eps keeps falling) shows.
    depth : int, optional
        The depth shown in the images (a vertical line).
    last_layer : int, optional
        Where the last restart's ``eps_k`` step ends (FIRENET's depth).
    text_size : int
        Pixels of every text of the figure.
    """
    # Measured data have no truth: no error curve, and no empty panel for it.
    with_error = any(v is not None and math.isfinite(v) for curve in curves.values() for v in curve["error"])
    first = 1 if with_error else 0  # the gap panels' columns are first + 1 and first + 2
    titles = [*(["Relative error to the truth"] if with_error else []),
              "Certified gap (≥ (F − F*) / F*) against layers", "Certified gap against seconds"]
    titles = [wrap(t, width=NARROWEST_CHART / len(titles) - 40, text_size=text_size) for t in titles]
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles,
                        horizontal_spacing=0.09 if text_size <= DEFAULT_TEXT else 0.12)
    for name, curve in curves.items():
        _add_method(fig, name, curve, with_error, first)
    if eps is not None and len(eps):
        fig.add_trace(_eps_steps(eps, restart_layers, last_layer), row=1, col=first + 1)
    fig.update_layout(shapes=_layer_lines(restart_layers, depth, panels=1 + first))
    _convergence_axes(fig, curves, eps, with_error, first)
    entries = [t.name for t in fig.data if t.showlegend is not False]
    _layout(fig, entries, titles, text_size, plot_height=260 if text_size <= DEFAULT_TEXT else 300)
    return fig


def _add_method(fig: go.Figure, name: str, curve: Mapping[str, Sequence[float]], with_error: bool,
                first: int) -> None:
    """One method's curves: error against layers, gap (and its own certificate) against
    layers and, when timed, gap against seconds; one legend entry for all of them."""
    colour = method_colour(name)
    layers = list(curve["layer"])
    line = dict(name=name, mode="lines", line=dict(color=colour), legendgroup=name)
    if with_error:
        fig.add_trace(go.Scatter(x=layers, y=list(curve["error"]), **line), row=1, col=1)
    fig.add_trace(go.Scatter(x=layers, y=list(curve["gap"]), showlegend=not with_error, **line),
                  row=1, col=first + 1)
    if curve.get("own"):
        fig.add_trace(go.Scatter(x=layers, y=list(curve["own"]), name=f"{name}, its own certificate",
                                 mode="lines", line=dict(color=colour, dash="dot", width=1.5)),
                      row=1, col=first + 1)
    if curve.get("seconds"):
        fig.add_trace(go.Scatter(x=list(curve["seconds"]), y=list(curve["gap"]), showlegend=False, **line),
                      row=1, col=first + 2)


def _eps_steps(eps: Sequence[float], restart_layers: Sequence[int], last_layer: int | None) -> go.Scatter:
    """FIRENET's eps_k as a step line: the accuracy its schedule *assumes* after restart k."""
    xs, ys = [], []
    starts = [0, *restart_layers]
    ends = [*restart_layers, last_layer or max(restart_layers, default=0)]
    for start, end, e in zip(starts, ends, eps):
        xs += [start, end]
        ys += [e, e]
    return go.Scatter(x=xs, y=ys, name="FIRENET εₖ (schedule)", mode="lines",
                      line=dict(color="#d62728", dash="dash", width=1))


def _layer_lines(restart_layers: Sequence[int], depth: int | None, *, panels: int) -> list[dict]:
    """Restarts (dotted) and the depth shown (solid) as vertical lines on the first
    ``panels`` panels, whose axis is the layer: plain layout shapes, as add_vline costs
    ~10 ms per line."""
    shapes = []
    for xref, yref in (("x", "y domain"), ("x2", "y2 domain"))[:panels]:
        for layer in restart_layers:
            shapes.append(dict(type="line", xref=xref, yref=yref, x0=layer, x1=layer, y0=0, y1=1,
                               line=dict(color="rgba(120,120,120,0.35)", width=1, dash="dot")))
        if depth:
            shapes.append(dict(type="line", xref=xref, yref=yref, x0=depth, x1=depth, y0=0, y1=1,
                               line=dict(color="black", width=1.5)))
    return shapes


def _convergence_axes(fig: go.Figure, curves: Mapping[str, Mapping[str, Sequence[float]]],
                      eps: Sequence[float] | None, with_error: bool, first: int) -> None:
    gaps = [v for curve in curves.values() for key in ("gap", "own") for v in curve.get(key) or ()]
    if with_error:
        fig.update_yaxes(**log_axis([v for curve in curves.values() for v in curve["error"]]),
                         title_text="‖x − x_true‖ / ‖x_true‖", row=1, col=1)
        fig.update_xaxes(title_text="layer (iterations)", row=1, col=1)
    fig.update_yaxes(**log_axis([*gaps, *(eps or ())]), title_text="(F(x) - L) / L", row=1, col=first + 1)
    fig.update_yaxes(**log_axis(gaps), row=1, col=first + 2)
    fig.update_xaxes(title_text="layer (iterations)", row=1, col=first + 1)
    fig.update_xaxes(title_text="seconds of computation", row=1, col=first + 2)


def stability_figure(curves: Mapping[str, Mapping[str, Any]], *, text_size: int = DEFAULT_TEXT) -> go.Figure:
    """Error to the truth against the data perturbation's size, the theorem's axes.

    Parameters
    ----------
    curves : mapping
        Label (e.g. "U-Net, worst case") -> ``{"size": [...], "change": [...]}`` and, when
        the truth is known, ``"norm"`` (``||e||``), ``"error"`` (``||f(y + e) - x||``) and
        ``"clean_error"`` (``||f(y) - x||``). With errors, each line starts at its clean
        error at ``||e|| = 0`` on linear axes (FIRENET's theorem: C1 sigma + C2 ||e|| +
        depth term, a line in ``||e||``). Without (measured data, or points still
        arriving), the relative output change against the relative size, log-log.
    text_size : int
        Pixels of every text of the figure.
    """
    fig = go.Figure()
    with_errors = bool(curves) and all("error" in c for c in curves.values())
    for name, curve in curves.items():
        dash = "dash" if "random" in name.lower() else "solid"
        if with_errors:
            x = [0.0, *curve["norm"]]
            y = [curve["clean_error"], *curve["error"]]
        else:
            x, y = list(curve["size"]), list(curve["change"])
        method = name.rsplit(", ", 1)[0]  # "U-Net, worst case" -> "U-Net"
        fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines+markers",
                                 line=dict(dash=dash, color=method_colour(method))))
    if with_errors:
        fig.update_xaxes(title_text="data perturbation ‖e‖", rangemode="tozero")
        fig.update_yaxes(title_text="error to the truth", rangemode="tozero")
    else:
        sizes = [s for c in curves.values() for s in c["size"] if s > 0]
        changes = [v for c in curves.values() for v in c["change"]]
        fig.update_xaxes(**log_axis(sizes), title_text="‖e‖ / ‖y‖ (where each search ended)")
        fig.update_yaxes(**log_axis([*changes, *sizes]), title_text="output change (relative)")
    # Ticks outside keep the two axes' "0" labels apart at the origin; the chart sits in
    # half the page's width.
    fig.update_xaxes(ticks="outside", ticklen=max(6, text_size // 2))
    fig.update_yaxes(ticks="outside", ticklen=max(6, text_size // 2))
    legend, bottom = legend_below(list(curves), width=NARROWEST_CHART / 2, text_size=text_size)
    fig.update_layout(height=300 + 30 + bottom, margin=dict(l=10, r=10, t=30, b=bottom), legend=legend)
    style_text(fig, text_size)
    return fig
