"""Plotly figures of a results table, and their export to PNG and SVG.

The builders are pure functions of the table (no Streamlit), so the page can show a
results file with the same figures the command line exports. Export uses kaleido with
a local Chromium (the system's ``/usr/bin/chromium`` by default) and no network:
plotly.js comes from the plotly package and MathJax is switched off.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from solver.methods import FIRENET, sweep_entry, sweep_names
from solver.reproduce.results import certified_gaps, experiment_of, optimum_gaps, successful

__all__ = ["FigureExportError", "build_figures", "export_figures", "find_browser"]

_FONT = dict(size=12)


class FigureExportError(RuntimeError):
    """The figures could not be written (no browser, or kaleido failed)."""


def _label(method: str) -> str:
    """What the figures call a sweep's method (the registry's label; the name itself for
    one the registry no longer has)."""
    return sweep_entry(method)[1] if method in sweep_names() else method


def _colour(method: str) -> str:
    """The method's colour in every chart (the registry's)."""
    return sweep_entry(method)[2] if method in sweep_names() else "#333333"


def _band(fig: go.Figure, x: Sequence, low: np.ndarray, high: np.ndarray, colour: str,
          group: str, row: int | None = None, col: int | None = None) -> None:
    """A shaded band between ``low`` and ``high`` (the spread over images)."""
    xs = list(x) + list(x)[::-1]
    ys = list(low) + list(high)[::-1]
    fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=colour, opacity=0.15,
                             line=dict(width=0), hoverinfo="skip", showlegend=False,
                             legendgroup=group), row=row, col=col)


def _stack(rows: pd.Series) -> np.ndarray:
    length = min(len(v) for v in rows)
    return np.array([list(v)[:length] for v in rows], dtype=float)


def convergence_figure(frame: pd.DataFrame) -> go.Figure:
    """Error to the truth, and gap to the optimum, against layer; log scale.

    The gap is ``(F(x_k) - F*) / F*`` with ``F*`` from each image's long reference run
    (:func:`solver.reproduce.results.optimum_gaps`); the dotted line is how well ``F*`` is
    known (certified), the ticks on the x-axis the page's FIRENET's restarts. Tables from
    before the reference runs show the certified gap instead. Median over images, band =
    min to max.
    """
    ok = successful(frame)
    gaps, resolution = optimum_gaps(ok)
    with_reference = any(len(g) for g in gaps)
    ok = ok.assign(gap=gaps if with_reference else certified_gaps(ok))
    title = ("Gap to the optimum (F - F*) / F*" if with_reference else "Certified relative gap (F - L) / L")
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                        subplot_titles=("Relative error to the truth", title))
    for method, group in ok.groupby("method", sort=False):
        group = group[group["curve_layer"].map(len) > 0]
        if group.empty:
            continue
        colour = _colour(method)
        layers = list(group["curve_layer"].iloc[0])
        for col, column in ((1, "curve_error"), (2, "gap")):
            values = _stack(group[column])
            x = layers[: values.shape[1]]
            _band(fig, x, values.min(0), values.max(0), colour, method, 1, col)
            fig.add_trace(go.Scatter(x=x, y=np.median(values, 0), name=_label(method), mode="lines",
                                     line=dict(color=colour), legendgroup=method, showlegend=col == 1),
                          row=1, col=col)
    if with_reference and resolution.notna().any():
        known = float(resolution.max())
        fig.add_hline(y=known, row=1, col=2, line=dict(color="gray", dash="dot", width=1))
        # annotations on a log axis take log10 coordinates
        fig.add_annotation(text="F* known to here", x=0.01, y=math.log10(known), xref="x2 domain", yref="y2",
                           showarrow=False, xanchor="left", yanchor="bottom", font=dict(size=10, color="gray"))
    page = ok[(ok["method"] == FIRENET) & (ok["restart_layers"].map(len) > 0)] if "restart_layers" in ok else ok[:0]
    for layer in (list(page["restart_layers"].iloc[0]) if len(page) else []):
        # a short tick on the gap panel's x-axis at each restart of the page's FIRENET
        fig.add_shape(type="line", x0=layer, x1=layer, y0=0, y1=0.06, xref="x2", yref="y2 domain",
                      line=dict(color=_colour(FIRENET), width=2))
    if len(page):
        fig.add_annotation(text="ticks: FIRENET restarts", x=0.99, y=0.08, xref="x2 domain", yref="y2 domain",
                           showarrow=False, xanchor="right", font=dict(size=10, color=_colour(FIRENET)))
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_xaxes(title_text="layer (iterations)")
    images = ok["image_seed"].nunique()
    fig.update_layout(height=400, width=900, margin=dict(l=10, r=10, t=70, b=40), font=_FONT,
                      legend=dict(orientation="h", y=-0.22),
                      title=dict(text=f"Median over {images} images (band: min to max)", font=_FONT))
    return fig


def stability_figure(frame: pd.DataFrame) -> go.Figure:
    """Output change against perturbation size, worst case (solid) and random (dashed)."""
    ok = successful(frame)
    fig = go.Figure()
    for method, group in ok.groupby("method", sort=False):
        colour = _colour(method)
        mean = group.groupby("budget").agg(size=("perturbation", "mean"), worst=("worst_change", "mean"),
                                           random=("random_change", "mean"))
        for column, dash, kind in (("worst", "solid", "worst case"), ("random", "dash", "random")):
            fig.add_trace(go.Scatter(x=mean["size"], y=mean[column], mode="lines+markers",
                                     name=f"{_label(method)}, {kind}",
                                     line=dict(color=colour, dash=dash)))
    sizes = ok["perturbation"].astype(float)
    sizes = sizes[sizes > 0]
    if len(sizes):
        lo, hi = float(sizes.min()), float(sizes.max())
        fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], name="change = perturbation", mode="lines",
                                 line=dict(color="gray", dash="dot")))
    fig.update_xaxes(type="log", title_text="perturbation size ||e|| / ||y||", exponentformat="power")
    fig.update_yaxes(type="log", title_text="output change ||f(y+e) - f(y)|| / ||f(y)||",
                     exponentformat="power")
    fig.update_layout(height=420, width=760, margin=dict(l=10, r=10, t=30, b=40), font=_FONT)
    return fig


def _bars(frame: pd.DataFrame, by: str, series: Mapping[str, str], y_title: str) -> go.Figure:
    ok = successful(frame)
    fig = go.Figure()
    for column, name in series.items():
        stats = ok.groupby(["method", by], sort=False)[column].agg(["mean", "std"]).reset_index()
        x = [[_label(m) for m in stats["method"]], [f"{by} {v:g}" for v in stats[by]]]
        fig.add_trace(go.Bar(x=x, y=stats["mean"], name=name,
                             error_y=dict(type="data", array=stats["std"].fillna(0.0))))
    fig.update_layout(barmode="group", height=420, width=820, yaxis_title=y_title, font=_FONT,
                      margin=dict(l=10, r=10, t=30, b=40), legend=dict(orientation="h", y=-0.2))
    return fig


def robustness_figure(frame: pd.DataFrame) -> go.Figure:
    """Relative error unperturbed and under the worst-case perturbation (mean ± std)."""
    return _bars(frame, "budget", {"clean_error": "unperturbed", "perturbed_error": "worst case in budget"},
                 "relative error to the truth")


def detail_figure(frame: pd.DataFrame) -> go.Figure:
    """Recovered / inserted contrast of the text detail (1 = kept, 0 = lost)."""
    fig = _bars(frame, "contrast", {"contrast_ratio": "recovered / inserted contrast"},
                "contrast ratio")
    from solver.reproduce.experiments import KEPT_RATIO

    fig.add_hline(y=KEPT_RATIO, line=dict(color="gray", dash="dot"),
                  annotation_text="kept above", annotation_position="top left")
    return fig


def sampling_figure(frame: pd.DataFrame) -> go.Figure:
    """Relative error against the achieved sampling rate (mean over images)."""
    ok = successful(frame)
    fig = go.Figure()
    for method, group in ok.groupby("method", sort=False):
        stats = group.groupby("extra").agg(rate=("achieved_rate", "mean"), error=("error", "mean"),
                                           spread=("error", "std"))
        fig.add_trace(go.Scatter(x=stats["rate"], y=stats["error"], mode="lines+markers", name=_label(method),
                                 line=dict(color=_colour(method)),
                                 error_y=dict(type="data", array=stats["spread"].fillna(0.0))))
    trained = ok["rate"].iloc[0] if len(ok) else None
    if trained is not None and not (isinstance(trained, float) and math.isnan(trained)):
        fig.add_vline(x=float(trained), line=dict(color="gray", dash="dot"),
                      annotation_text="trained rate", annotation_position="top right")
    fig.update_xaxes(title_text="sampling rate")
    fig.update_yaxes(title_text="relative error to the truth", type="log", exponentformat="power")
    fig.update_layout(height=420, width=760, margin=dict(l=10, r=10, t=30, b=40), font=_FONT)
    return fig


_BUILDERS = {
    "convergence": {"convergence": convergence_figure},
    "stability": {"stability": stability_figure},
    "robustness": {"robustness": robustness_figure},
    "detail": {"detail": detail_figure},
    "sampling_change": {"sampling_change": sampling_figure},
}


def build_figures(frame: pd.DataFrame) -> dict[str, go.Figure]:
    """Name -> plotly figure for a results table of one experiment.

    Raises
    ------
    ValueError
        If the table holds no experiment or several.
    """
    return {name: build(frame) for name, build in _BUILDERS[experiment_of(frame)].items()}


def find_browser(browser: str | None = None) -> str | None:
    """The Chromium to export with: ``browser``, else ``$BROWSER_PATH``, else the system's."""
    for candidate in (browser, os.environ.get("BROWSER_PATH"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


def export_figures(figures: Mapping[str, go.Figure], directory: str | Path, *,
                   formats: Sequence[str] = ("png", "svg"), browser: str | None = None,
                   scale: float = 2.0) -> list[Path]:
    """Write each figure as ``directory/<name>.<format>`` with kaleido (offline).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    FigureExportError
        If no Chromium is found or kaleido fails.
    """
    path = find_browser(browser)
    if path is None:
        raise FigureExportError("no Chromium found: pass --browser or set BROWSER_PATH")
    import kaleido

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    specs, files = [], []
    for name, fig in figures.items():
        for fmt in formats:
            file = directory / f"{name}.{fmt}"
            layout = fig.layout
            specs.append({"fig": fig.to_dict(), "path": file,
                          "opts": {"format": fmt, "width": layout.width or 800, "height": layout.height or 450,
                                   "scale": scale if fmt == "png" else 1}})
            files.append(file)
    try:
        kaleido.write_fig_from_object_sync(specs, kopts={"path": path, "mathjax": False})
    except Exception as error:  # a browser that does not start, a timeout
        raise FigureExportError(f"kaleido could not export with {path}: {type(error).__name__}: {error}") from error
    missing = [str(f) for f in files if not f.is_file() or f.stat().st_size == 0]
    if missing:
        raise FigureExportError(f"kaleido wrote empty or no files: {missing}")
    return files
