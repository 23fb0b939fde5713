"""The page's plotly figures of images, and the name of every figure builder.

Pure functions from arrays to plotly figures (no Streamlit here). Images go to the browser
as 8-bit pictures (``go.Image`` with a data URI, ``explorer.image_bytes``): reconstructions as
lossless WebP (~13 kB for a 256 x 256 panel instead of ~1 MB of JSON floats for a heatmap,
and the browser draws it several times faster), error and change maps as lossy WebP
(~3 kB). On request ("Zoom and pixel values"; otherwise ``explorer.picture_grid`` draws plain pictures) the image panels also carry their values
(float32, sent as binary) so that hovering a pixel shows its value. Each colour scale gets its colour bar from a transparent 1 x 2
heatmap. Every image panel of one figure shares its x and y axes with the first panel
(``matches``), so zooming or panning one zooms all of them: a small detail can be compared
across methods.

Every builder takes ``text_size`` (pixels, ``explorer.chart_style``): presentation mode
asks for projector-sized text, and the subplot titles are wrapped to their panels.
``explorer.compute.figure`` looks builders up here by name, the curve figures
(``explorer.curve_figures``) and :func:`image_png` included.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.chart_style import DEFAULT_TEXT, NARROWEST_CHART, style_text, title_lines, wrap
from explorer.curve_figures import convergence_figure, stability_figure
from explorer.image_bytes import coloured_webp, coloured_webp_lossless, colourscale, image_png, shown

__all__ = [
    "mask_figure",
    "reconstruction_figure",
    "perturbation_figure",
    "convergence_figure",
    "stability_figure",
    "image_png",
    "perturbation_ranges",
]

ERROR_SCALE = "inferno"


def _image(image: np.ndarray, value_range: tuple[float, float], scale: str, name: str,
           *, lossy: bool = False, values: bool = False) -> go.Image:
    """A picture panel; with ``values`` it also carries the image's values, so that
    hovering a pixel shows the value and not only the position: binary float32, 350 kB
    for 256 x 256 against 13 kB for the picture (the default page's five: three times its
    whole websocket budget), so only when asked."""
    encode = coloured_webp if lossy else coloured_webp_lossless
    source = "data:image/webp;base64," + base64.b64encode(encode(image, value_range, scale)).decode()
    if not values:
        return go.Image(source=source, name=name, hovertemplate=f"{name}<br>x=%{{x}} y=%{{y}}<extra></extra>")
    return go.Image(source=source, name=name, customdata=shown(image).astype(np.float32),
                    hovertemplate=f"{name}<br>x=%{{x}} y=%{{y}}<br>value %{{customdata:.4g}}<extra></extra>")


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


def _titles(titles: list[str], columns: int, text_size: int, share: float = 1.0) -> list[str]:
    """Subplot titles wrapped to the width of one of ``columns`` panels that share
    ``share`` of the chart's width (the rest: colour bars)."""
    return [wrap(t, width=NARROWEST_CHART * share / columns, text_size=text_size) for t in titles]


def _title_height(titles: list[str], text_size: int) -> int:
    """Pixels above a row of panels that its wrapped titles need."""
    return int(title_lines(titles) * 1.3 * text_size) + 8


def _colour_axis(scale: str, value_range: tuple[float, float], title: str, *, y: float, length: float,
                 text_size: int) -> dict:
    # The bar's title beside it, not above: above, it collided with the top tick label. Its
    # sizes are explicit: Streamlit's chart theme sets a colour bar's own (15 and 17.5 px).
    return dict(colorscale=colourscale(scale), cmin=value_range[0], cmax=value_range[1],
                colorbar=dict(title=dict(text=title, side="right", font=dict(size=text_size)), y=y, len=length,
                              thickness=12, tickfont=dict(size=text_size),
                              nticks=4 if text_size > DEFAULT_TEXT else 6))


def mask_figure(mask: np.ndarray, kspace_log: np.ndarray, rate: float,
                transform: str = "fourier", *, text_size: int = DEFAULT_TEXT) -> go.Figure:
    """The sampling mask beside the log-magnitude of the full k-space.

    Parameters
    ----------
    mask : np.ndarray, shape (N, N), bool
    kspace_log : np.ndarray, shape (N, N), float
        ``log10(|F x| + tiny)`` on the centred grid.
    rate : float
        Achieved sampling rate (for the title).
    transform : {"fourier", "walsh"}
    text_size : int
        Pixels of every text of the figure.
    """
    titles = _titles([f"Sampling mask ({rate:.1%} sampled)",
                      "log10 |k-space| of the image" if transform == "fourier"
                      else "log10 |Walsh coefficients| (sequency order, centred)"], 2, text_size, 0.7)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.04, subplot_titles=titles)
    low, high = float(np.min(kspace_log)), max(float(np.max(kspace_log)), float(np.min(kspace_log)) + 1e-6)
    fig.add_trace(_image(mask.astype(np.float32), (0.0, 1.0), "gray", "sampled"), row=1, col=1)
    fig.add_trace(_image(kspace_log, (low, high), "viridis", "log10 |k|", lossy=True), row=1, col=2)
    fig.add_trace(_colour_bar("coloraxis", (low, high)), row=1, col=2)
    fig.update_layout(coloraxis=_colour_axis("viridis", (low, high), "log10", y=0.5, length=0.9,
                                             text_size=text_size))
    _link_image_axes(fig, 2)
    top = _title_height(titles, text_size)
    fig.update_layout(height=290 + top, margin=dict(l=10, r=10, t=top, b=10))
    style_text(fig, text_size)
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
    values: bool = False,
    text_size: int = DEFAULT_TEXT,
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
    panel_height : int
        Pixels of each row of panels.
    values : bool
        Whether the truth and reconstruction panels carry their values (hovering a pixel
        shows its value; the error maps show the position only).
    text_size : int
        Pixels of every text of the figure.

    Returns
    -------
    go.Figure
        Two rows: images (the first column is the truth) and ``|x - truth|``; all
        panels' axes are linked.
    """
    cols = len(images) + 1
    top_titles = _titles(["Ground truth", *images], cols, text_size, 0.88)
    error_titles = _titles([f"|error| {t}" for t in images], cols, text_size, 0.88)
    top, middle = _title_height(top_titles, text_size), _title_height(error_titles, text_size)
    fig = make_subplots(rows=2, cols=cols, horizontal_spacing=0.01,
                        vertical_spacing=middle / (2 * panel_height + middle),
                        subplot_titles=[*top_titles, "", *error_titles])
    errors = (0.0, error_max)
    fig.add_trace(_image(truth, value_range, cmap, "truth", values=values), row=1, col=1)
    for j, (title, image) in enumerate(images.items(), start=2):
        fig.add_trace(_image(image, value_range, cmap, title, values=values), row=1, col=j)
        fig.add_trace(_image(np.abs(image - truth), errors, ERROR_SCALE, f"|error| {title}", lossy=True),
                      row=2, col=j)
    fig.add_trace(_colour_bar("coloraxis", value_range), row=1, col=1)
    fig.add_trace(_colour_bar("coloraxis2", errors), row=1, col=1)
    # The empty bottom-left cell keeps the grid regular; hide its axes.
    _link_image_axes(fig, 2 * cols)
    fig.layout[f"xaxis{cols + 1}"].visible = False
    fig.layout[f"yaxis{cols + 1}"].visible = False
    fig.update_layout(
        coloraxis=_colour_axis(cmap, value_range, "image", y=0.78, length=0.42, text_size=text_size),
        coloraxis2=_colour_axis(ERROR_SCALE, errors, "|error|", y=0.22, length=0.42, text_size=text_size),
        height=2 * panel_height + top + middle + 10, margin=dict(l=10, r=10, t=top, b=10),
        uirevision=uirevision,  # the zoom survives reruns (depth, colour map, ...)
    )
    style_text(fig, text_size)
    return fig


def perturbation_ranges(perturbation: np.ndarray, changes: Mapping[str, np.ndarray]
                        ) -> tuple[tuple[float, float], tuple[float, float]]:
    """The perturbation's own value range, and the changes' shared one, from 0 to the
    largest ``|change|`` (both wider than zero), for its picture and theirs."""
    low = float(np.min(perturbation))
    top = max([float(np.max(np.abs(c))) for c in changes.values()] + [1e-12])
    return (low, max(float(np.max(perturbation)), low + 1e-12)), (0.0, top)


def perturbation_figure(
    perturbation: np.ndarray, changes: Mapping[str, np.ndarray], *, title: str,
    uirevision: str | None = "images", text_size: int = DEFAULT_TEXT,
) -> go.Figure:
    """The perturbation (as an image) and what it changed in each output.

    Parameters
    ----------
    perturbation : np.ndarray, shape (N, N), float
        E.g. ``|A* e|`` for a measurement perturbation ``e``, or an inserted detail.
    changes : mapping of str to np.ndarray (N, N)
        Method -> ``|f(y + e) - f(y)|``.
    title : str
        The perturbation panel's title.
    text_size : int
        Pixels of every text of the figure.
    """
    cols = len(changes) + 1
    titles = _titles([title, *[f"change in {k}" for k in changes]], cols, text_size, 0.88)
    fig = make_subplots(rows=1, cols=cols, horizontal_spacing=0.01, subplot_titles=titles)
    shown_range, top = perturbation_ranges(perturbation, changes)
    fig.add_trace(_image(perturbation, shown_range, "gray", title, lossy=True), row=1, col=1)
    for j, (name, change) in enumerate(changes.items(), start=2):
        fig.add_trace(_image(np.abs(change), top, ERROR_SCALE, f"change in {name}", lossy=True), row=1, col=j)
    fig.add_trace(_colour_bar("coloraxis", shown_range), row=1, col=1)
    fig.add_trace(_colour_bar("coloraxis2", top), row=1, col=1)
    _link_image_axes(fig, cols)
    # The two colour bars one above the other (side by side their tick labels collided).
    height = 280 if text_size <= DEFAULT_TEXT else 320
    title_height = _title_height(titles, text_size)
    fig.update_layout(
        coloraxis=_colour_axis("gray", shown_range, "pert.", y=0.77, length=0.42, text_size=text_size),
        coloraxis2=_colour_axis(ERROR_SCALE, top, "|change|", y=0.2, length=0.42, text_size=text_size),
        height=height + title_height, margin=dict(l=10, r=10, t=title_height, b=10), uirevision=uirevision,
    )
    style_text(fig, text_size)
    return fig
