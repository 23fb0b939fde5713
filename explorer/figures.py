"""Pure functions from arrays to plotly figures (no Streamlit here).

Images go to the browser as 8-bit pictures (``go.Image`` with a data URI), coloured here
with the figure's colour scale: reconstructions as lossless WebP (~13 kB for a 256 x 256
panel instead of ~1 MB of JSON floats for a heatmap, and the browser draws it several
times faster), error and change maps, noise to any lossless encoder, as lossy WebP (~3 kB). Each colour scale gets its
colour bar from a transparent 1 x 2 heatmap. Every image panel of one figure shares its x
and y axes with the first panel (``matches``), so zooming or panning one zooms all of
them: a small detail can be compared across methods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = [
    "log_axis",
    "method_colour",
    "mask_figure",
    "reconstruction_figure",
    "perturbation_figure",
    "convergence_figure",
    "stability_figure",
    "image_png",
    "coloured_png",
    "coloured_webp",
    "coloured_webp_lossless",
]

_FONT = dict(size=12)


def colourscale(name: str) -> list:
    """A named plotly colour scale as an explicit list (so no theme can replace it)."""
    import plotly.colors

    # As "rgb(r, g, b)" strings: the browser's plotly parsed inferno's first stop
    # "#000004" as a short hex with alpha and drew zero as pink.
    scale = plotly.colors.get_colorscale(name)
    return [[float(pos), plotly.colors.convert_colors_to_same_type(colour, "rgb")[0][0]]
            for pos, colour in scale]
_MARGIN = dict(l=10, r=10, t=40, b=10)
ERROR_SCALE = "inferno"


def _shown(image: np.ndarray) -> np.ndarray:
    """What a picture shows: the image, or its magnitude when it is complex."""
    image = np.asarray(image)
    return np.abs(image) if np.iscomplexobj(image) else image.astype(np.float64)


def _palette_image(image: np.ndarray, value_range: tuple[float, float], scale: str) -> Any:
    import plotly.colors
    from PIL import Image

    lo, hi = value_range
    scaled = np.clip((_shown(image) - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    indices = np.round(np.nan_to_num(scaled) * 255).astype(np.uint8)
    colours = plotly.colors.sample_colorscale(colourscale(scale), list(np.linspace(0.0, 1.0, 256)))
    picture = Image.fromarray(indices, mode="P")
    picture.putpalette([int(v) for colour in colours for v in plotly.colors.unlabel_rgb(colour)])
    return picture


def coloured_png(image: np.ndarray, value_range: tuple[float, float], scale: str = "gray") -> bytes:
    """``image`` as an 8-bit palette PNG: values mapped linearly from ``value_range`` onto
    256 colours of the plotly colour scale ``scale`` (clipped at both ends). Exact."""
    import io

    buffer = io.BytesIO()
    _palette_image(image, value_range, scale).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def coloured_webp_lossless(image: np.ndarray, value_range: tuple[float, float], scale: str = "gray") -> bytes:
    """The same pixels as :func:`coloured_png`, as a lossless WebP: exact, and about a
    fifth smaller than the PNG for reconstructions (measured 13.1 against 16.6 kB)."""
    import io

    buffer = io.BytesIO()
    _palette_image(image, value_range, scale).convert("RGB").save(buffer, "WEBP", lossless=True, method=6)
    return buffer.getvalue()


def coloured_webp(image: np.ndarray, value_range: tuple[float, float], scale: str = "inferno") -> bytes:
    """The same as :func:`coloured_png`, as a lossy WebP (quality 85): for error and
    change maps, noise-like pictures whose PNG is 3-5 times larger and whose every pixel
    value does not matter to the eye."""
    import io

    buffer = io.BytesIO()
    _palette_image(image, value_range, scale).convert("RGB").save(buffer, "WEBP", quality=85, method=4)
    return buffer.getvalue()


def _image(image: np.ndarray, value_range: tuple[float, float], scale: str, name: str,
           *, lossy: bool = False) -> go.Image:
    import base64

    if lossy:
        source = "data:image/webp;base64," + base64.b64encode(coloured_webp(image, value_range, scale)).decode()
    else:
        source = "data:image/webp;base64," + base64.b64encode(coloured_webp_lossless(image, value_range, scale)).decode()
    return go.Image(source=source, name=name, hovertemplate=f"{name}<br>x=%{{x}} y=%{{y}}<extra></extra>")


def _colour_bar(coloraxis: str, value_range: tuple[float, float]) -> go.Heatmap:
    # Invisible: only here so that plotly draws the colour axis' bar.
    return go.Heatmap(z=[[value_range[0], value_range[1]]], coloraxis=coloraxis, opacity=0,
                      hoverinfo="skip", showlegend=False)


def _link_image_axes(fig: go.Figure, count: int) -> None:
    # Axis 1 is the reference; every other panel matches it, so a zoom or pan in one
    # panel moves them all. Reversed y and square pixels give the image convention.
    for i in range(1, count + 1):
        suffix = "" if i == 1 else str(i)
        fig.layout[f"xaxis{suffix}"].update(
            showticklabels=False, ticks="", showgrid=False, zeroline=False, constrain="domain",
            **({} if i == 1 else {"matches": "x"}),
        )
        fig.layout[f"yaxis{suffix}"].update(
            showticklabels=False, ticks="", showgrid=False, zeroline=False, constrain="domain",
            scaleanchor=f"x{suffix}", scaleratio=1,
            **({"autorange": "reversed"} if i == 1 else {"matches": "y"}),
        )


def mask_figure(mask: np.ndarray, kspace_log: np.ndarray, rate: float,
                transform: str = "fourier") -> go.Figure:
    """The sampling mask beside the log-magnitude of the full k-space.

    Parameters
    ----------
    mask : np.ndarray, shape (N, N), bool
    kspace_log : np.ndarray, shape (N, N), float
        ``log10(|F x| + tiny)`` on the centred grid.
    rate : float
        Achieved sampling rate (for the title).
    transform : {"fourier", "walsh"}
    """
    fig = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.04,
        subplot_titles=(f"Sampling mask ({rate:.1%} sampled)",
                        "log10 |k-space| of the image" if transform == "fourier"
                        else "log10 |Walsh coefficients| (sequency order, centred)"),
    )
    low, high = float(np.min(kspace_log)), max(float(np.max(kspace_log)), float(np.min(kspace_log)) + 1e-6)
    fig.add_trace(_image(mask.astype(np.float32), (0.0, 1.0), "gray", "sampled"), row=1, col=1)
    fig.add_trace(_image(kspace_log, (low, high), "viridis", "log10 |k|", lossy=True), row=1, col=2)
    fig.add_trace(_colour_bar("coloraxis", (low, high)), row=1, col=2)
    fig.update_layout(coloraxis=dict(colorscale=colourscale("viridis"), cmin=low, cmax=high,
                                     colorbar=dict(title="log10", len=0.9, thickness=12)))
    _link_image_axes(fig, 2)
    fig.update_layout(height=330, margin=_MARGIN, font=_FONT)
    return fig


def reconstruction_figure(
    images: Mapping[str, np.ndarray],
    truth: np.ndarray,
    *,
    cmap: str = "gray",
    error_max: float = 0.25,
    value_range: tuple[float, float] = (0.0, 1.0),
    panel_height: int = 260,
    uirevision: str | None = "images",
) -> go.Figure:
    """Ground truth and reconstructions on one colour scale, error maps underneath.

    Parameters
    ----------
    images : mapping of str to np.ndarray (N, N) float
        Title -> reconstruction, in display order.
    truth : np.ndarray, shape (N, N), float
    cmap : str
        Plotly colour scale of the images (shared by all of them).
    error_max : float
        Upper end of the shared colour scale of ``|x - truth|``.
    value_range : (float, float)
        Shared colour range of the images.

    Returns
    -------
    go.Figure
        Two rows: images (the first column is the truth) and ``|x - truth|``; all
        panels' axes are linked.
    """
    titles = ["Ground truth", *images]
    cols = len(titles)
    fig = make_subplots(
        rows=2, cols=cols, horizontal_spacing=0.01, vertical_spacing=0.06,
        subplot_titles=[*titles, "", *[f"|error| {t}" for t in images]],
    )
    errors = (0.0, error_max)
    fig.add_trace(_image(truth, value_range, cmap, "truth"), row=1, col=1)
    for j, (title, image) in enumerate(images.items(), start=2):
        fig.add_trace(_image(image, value_range, cmap, title), row=1, col=j)
        fig.add_trace(_image(np.abs(image - truth), errors, ERROR_SCALE, f"|error| {title}", lossy=True),
                      row=2, col=j)
    fig.add_trace(_colour_bar("coloraxis", value_range), row=1, col=1)
    fig.add_trace(_colour_bar("coloraxis2", errors), row=1, col=1)
    # The empty bottom-left cell keeps the grid regular; hide its axes.
    panels = 2 * cols
    _link_image_axes(fig, panels)
    fig.layout[f"xaxis{cols + 1}"].visible = False
    fig.layout[f"yaxis{cols + 1}"].visible = False
    fig.update_layout(
        coloraxis=dict(colorscale=colourscale(cmap), cmin=value_range[0], cmax=value_range[1],
                       colorbar=dict(title="image", y=0.78, len=0.45, thickness=12)),
        coloraxis2=dict(colorscale=colourscale(ERROR_SCALE), cmin=0.0, cmax=error_max,
                        colorbar=dict(title="|error|", y=0.22, len=0.45, thickness=12)),
        height=2 * panel_height + 60, margin=_MARGIN, font=_FONT,
        uirevision=uirevision,  # the zoom survives reruns (depth, colour map, ...)
    )
    return fig


def perturbation_figure(
    perturbation: np.ndarray, changes: Mapping[str, np.ndarray], *, title: str,
    uirevision: str | None = "images",
) -> go.Figure:
    """The perturbation (as an image) and what it changed in each output.

    Parameters
    ----------
    perturbation : np.ndarray, shape (N, N), float
        E.g. ``|A* e|`` for a measurement perturbation ``e``, or an inserted detail.
    changes : mapping of str to np.ndarray (N, N)
        Method -> ``|f(y + e) - f(y)|``.
    """
    titles = [title, *[f"change in {k}" for k in changes]]
    fig = make_subplots(rows=1, cols=len(titles), horizontal_spacing=0.01, subplot_titles=titles)
    shown = (float(np.min(perturbation)), max(float(np.max(perturbation)), float(np.min(perturbation)) + 1e-12))
    top = (0.0, max([float(np.max(np.abs(c))) for c in changes.values()] + [1e-12]))
    fig.add_trace(_image(perturbation, shown, "gray", title, lossy=True), row=1, col=1)
    for j, (name, change) in enumerate(changes.items(), start=2):
        fig.add_trace(_image(np.abs(change), top, ERROR_SCALE, f"change in {name}", lossy=True), row=1, col=j)
    fig.add_trace(_colour_bar("coloraxis", shown), row=1, col=1)
    fig.add_trace(_colour_bar("coloraxis2", top), row=1, col=1)
    _link_image_axes(fig, len(titles))
    fig.update_layout(
        coloraxis=dict(colorscale=colourscale("gray"), cmin=shown[0], cmax=shown[1],
                       colorbar=dict(title="pert.", x=1.0, len=0.9, thickness=12)),
        coloraxis2=dict(colorscale=colourscale(ERROR_SCALE), cmin=0.0, cmax=top[1],
                        colorbar=dict(title="|change|", x=1.06, len=0.9, thickness=12)),
        height=300, margin=_MARGIN, font=_FONT, uirevision=uirevision,
    )
    return fig


def convergence_figure(
    curves: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    restart_layers: Sequence[int] = (),
    eps: Sequence[float] | None = None,
    depth: int | None = None,
    last_layer: int | None = None,
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
    """
    import math

    # Measured data have no truth: no error curve, and no empty panel for it.
    with_error = any(v is not None and math.isfinite(v) for curve in curves.values() for v in curve["error"])
    first = 1 if with_error else 0  # the gap panels' columns are first + 1 and first + 2
    titles = ("Certified gap (>= (F - F*) / F*) against layers", "Certified gap against seconds")
    fig = make_subplots(
        rows=1, cols=2 + first, horizontal_spacing=0.09,
        subplot_titles=(("Relative error to the truth",) if with_error else ()) + titles,
    )
    for name, curve in curves.items():
        colour = method_colour(name)
        layers = list(curve["layer"])
        if with_error:
            fig.add_trace(go.Scatter(x=layers, y=list(curve["error"]), name=name, mode="lines",
                                     line=dict(color=colour), legendgroup=name),
                          row=1, col=1)
        fig.add_trace(go.Scatter(x=layers, y=list(curve["gap"]), name=name, mode="lines",
                                 line=dict(color=colour), legendgroup=name, showlegend=not with_error),
                      row=1, col=first + 1)
        if curve.get("own"):
            fig.add_trace(go.Scatter(x=layers, y=list(curve["own"]), name=f"{name}, its own certificate",
                                     mode="lines", line=dict(color=colour, dash="dot", width=1.5)),
                          row=1, col=first + 1)
        if curve.get("seconds"):
            fig.add_trace(go.Scatter(x=list(curve["seconds"]), y=list(curve["gap"]), name=name, mode="lines",
                                     line=dict(color=colour), legendgroup=name, showlegend=False),
                          row=1, col=first + 2)
    if eps is not None and len(eps):
        # eps_k is the accuracy FIRENET's schedule *assumes* after restart k.
        xs, ys = [], []
        starts = [0, *restart_layers]
        ends = [*restart_layers, last_layer or max(restart_layers, default=0)]
        for start, end, e in zip(starts, ends, eps):
            xs += [start, end]
            ys += [e, e]
        fig.add_trace(go.Scatter(x=xs, y=ys, name="FIRENET eps_k (schedule)", mode="lines",
                                 line=dict(color="#d62728", dash="dash", width=1)),
                      row=1, col=first + 1)
    # Vertical lines as plain layout shapes (add_vline costs ~10 ms per line), on the
    # panels whose axis is the layer.
    shapes = []
    for xref, yref in (("x", "y domain"), ("x2", "y2 domain"))[: 1 + first]:
        for layer in restart_layers:
            shapes.append(dict(type="line", xref=xref, yref=yref, x0=layer, x1=layer, y0=0, y1=1,
                               line=dict(color="rgba(120,120,120,0.35)", width=1, dash="dot")))
        if depth:
            shapes.append(dict(type="line", xref=xref, yref=yref, x0=depth, x1=depth, y0=0, y1=1,
                               line=dict(color="black", width=1.5)))
    fig.update_layout(shapes=shapes)
    gaps = [v for curve in curves.values() for key in ("gap", "own") for v in curve.get(key) or ()]
    if with_error:
        fig.update_yaxes(**log_axis([v for curve in curves.values() for v in curve["error"]]), row=1, col=1)
        fig.update_yaxes(title_text="||x - x_true|| / ||x_true||", row=1, col=1)
        fig.update_xaxes(title_text="layer (iterations)", row=1, col=1)
    fig.update_yaxes(**log_axis([*gaps, *(eps or ())]), row=1, col=first + 1)
    fig.update_yaxes(**log_axis(gaps), row=1, col=first + 2)
    fig.update_yaxes(title_text="(F(x) - L) / L", row=1, col=first + 1)
    fig.update_xaxes(title_text="layer (iterations)", row=1, col=first + 1)
    fig.update_xaxes(title_text="seconds of computation", row=1, col=first + 2)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=40), font=_FONT,
                      legend=dict(orientation="h", y=-0.22))
    return fig


#: Colours for curves that are not a method's (a method's colour is its registry entry's).
_SPARE_COLOURS = ("#8c564b", "#e377c2", "#bcbd22", "#393b79", "#637939")


def method_colour(name: str) -> str:
    """The colour of the curve named ``name`` (a method's label): the method's own, the
    same in every panel and chart (``solver.methods.METHODS``), and for any other name one
    chosen from the name itself, so it never depends on the order or the panel the curve
    is drawn in."""
    import zlib

    from solver.methods import METHODS

    found = {method.label: method.colour for method in METHODS.values()}.get(name)
    return found if found is not None else _SPARE_COLOURS[zlib.crc32(name.encode()) % len(_SPARE_COLOURS)]


def log_axis(values: Sequence[float]) -> dict[str, Any]:
    """Properties of a log axis over ``values`` whose labels are whole numbers.

    Over a decade or more: a label at every power of ten, unlabelled minor ticks between.
    Within less than a decade plotly would label the digits 2 ... 9 alone ("9 8 7 ... 2");
    here the 1-2-5 values inside (or every digit's value when fewer than two fall inside)
    are labelled in full.
    """
    import math

    positive = [float(v) for v in values if v is not None and math.isfinite(v) and v > 0]
    axis: dict[str, Any] = {"type": "log", "exponentformat": "power"}
    if not positive:
        return axis
    low, high = min(positive), max(positive)
    if high >= 10 * low:
        return {**axis, "dtick": 1, "minor": dict(dtick="D1", ticks="outside", ticklen=3, showgrid=False)}
    decades = range(math.floor(math.log10(low)), math.floor(math.log10(high)) + 2)
    ticks: list[float] = []
    for digits in ((1, 2, 5), range(1, 10)):
        ticks = [float(f"{m}e{k}") for k in decades for m in digits if low <= float(f"{m}e{k}") <= high]
        if len(ticks) >= 2:
            break
    if len(ticks) < 2:
        ticks = [float(f"{low:.2g}"), float(f"{high:.2g}")]
    return {**axis, "tickvals": ticks, "ticktext": [f"{t:g}" for t in ticks]}


def stability_figure(curves: Mapping[str, Mapping[str, Any]]) -> go.Figure:
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
        fig.update_xaxes(title_text="data perturbation ||e||", rangemode="tozero")
        fig.update_yaxes(title_text="error to the truth ||f(y + e) - x||", rangemode="tozero")
    else:
        sizes = [s for c in curves.values() for s in c["size"] if s > 0]
        changes = [v for c in curves.values() for v in c["change"]]
        fig.update_xaxes(**log_axis(sizes), title_text="perturbation size ||e|| / ||y|| (where each search ended)")
        fig.update_yaxes(**log_axis([*changes, *sizes]), title_text="output change ||f(y+e) - f(y)|| / ||f(y)||")
    fig.update_layout(height=400, margin=dict(l=10, r=10, t=30, b=40), font=_FONT)
    return fig


def image_png(image: np.ndarray, value_range: tuple[float, float] = (0.0, 1.0)) -> bytes:
    """An image as 8-bit grayscale PNG bytes (clipped to ``value_range``)."""
    import io

    from PIL import Image

    lo, hi = value_range
    scaled = np.clip((_shown(image) - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    buffer = io.BytesIO()
    Image.fromarray(np.round(scaled * 255).astype(np.uint8), mode="L").save(buffer, "PNG")
    return buffer.getvalue()
