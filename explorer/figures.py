"""The page's plotly figures of images, and the name of every figure builder.

Pure functions from arrays to plotly figures (no Streamlit here): the sampling mask beside
the k-space (the reconstructions and the perturbation are rows of zoomable pictures,
``explorer.picture_grid``). Images go to the browser as 8-bit pictures (``go.Image`` with a
data URI, ``explorer.image_bytes``): the mask as lossless WebP, the k-space as lossy WebP
(a few kB instead of ~1 MB of JSON floats for a heatmap, and the browser draws it several
times faster). Each colour scale gets its colour bar from a transparent 1 x 2 heatmap. The
panels share their x and y axes (``matches``), so zooming one zooms both.

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
from explorer.image_bytes import coloured_webp, coloured_webp_lossless, colourscale, image_png

__all__ = [
    "mask_figure",
    "convergence_figure",
    "stability_figure",
    "image_png",
    "perturbation_ranges",
]

ERROR_SCALE = "inferno"


def _image(image: np.ndarray, value_range: tuple[float, float], scale: str, name: str,
           *, lossy: bool = False) -> go.Image:
    """A picture panel (hovering a pixel shows its position)."""
    encode = coloured_webp if lossy else coloured_webp_lossless
    source = "data:image/webp;base64," + base64.b64encode(encode(image, value_range, scale)).decode()
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
    # Short titles: with the sidebar open in a 1024 px window each panel is about 170 px wide.
    titles = _titles([f"Mask: {rate:.1%} sampled",
                      "log10 |k-space|" if transform == "fourier" else "log10 |Walsh coefficients|"],
                     2, text_size, 0.7)
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


def perturbation_ranges(perturbation: np.ndarray, changes: Mapping[str, np.ndarray]
                        ) -> tuple[tuple[float, float], tuple[float, float]]:
    """The perturbation's own value range, and the changes' shared one, from 0 to the
    largest ``|change|`` (both wider than zero), for its picture and theirs."""
    low = float(np.min(perturbation))
    top = max([float(np.max(np.abs(c))) for c in changes.values()] + [1e-12])
    return (low, max(float(np.max(perturbation)), low + 1e-12)), (0.0, top)
