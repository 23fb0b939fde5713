"""Rows of pictures, each over its title, with the colour bars of their scales in a narrow
column on the right: the reconstructions, their error maps and the perturbation's row.

Each picture zooms and shows its pixel values (``explorer.zoomable_picture``), linked with
the pictures of its link. They need no chart library in the browser: the chart library is
about 4.7 MB of script that a new visitor's browser downloads and compiles (1.5 s of its
main thread on a 2-core machine) before the first chart is drawn, and a colour map or error
range change then replaces a few pictures instead of redrawing a chart.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from explorer.image_bytes import colourscale, shown
from explorer.zoomable_picture import zoomable_picture

__all__ = ["ColourBar", "Picture", "colour_bars_html", "picture_columns", "picture_row", "BAR_COLUMN"]

#: Width of the colour bars' column, as a share of a picture's column (the metrics under
#: the pictures use the same columns, so that each method's numbers sit under its pictures).
BAR_COLUMN = 0.3


@dataclass(frozen=True, eq=False)
class Picture:
    """One encoded picture (PNG or JPEG bytes), its title and the image it shows (the
    readout when the visitor hovers a pixel: its values, or their magnitude when complex)."""

    data: bytes
    title: str
    values: np.ndarray


@dataclass(frozen=True)
class ColourBar:
    """A colour scale (a plotly name) over ``value_range``, labelled ``label``."""

    scale: str
    value_range: tuple[float, float]
    label: str


def _gradient(scale: str) -> str:
    """The CSS gradient of a plotly colour scale, from its low end at the bottom."""
    stops = ", ".join(f"{colour} {100 * position:.1f}%" for position, colour in colourscale(scale))
    return f"linear-gradient(to top, {stops})"


def colour_bars_html(bars: Sequence[ColourBar], text_size: int, columns: int) -> str:
    """HTML of the colour bars stacked in one box as tall as the pictures beside it: each
    bar's gradient, with its top and bottom values and its label. Only the page's own
    numbers and labels, escaped.

    The box fills the last of ``columns`` columns (:data:`BAR_COLUMN` of a picture's
    weight). Streamlit gives a column of weight share ``p`` the width ``p T - g`` of the
    row's width ``T``, with ``g = (columns - 1) / columns`` of its 1rem gap, so a picture's
    side is ``(bar width + g) / BAR_COLUMN - g``; a padding in percent is a share of the
    box's width, which makes that its height at any window width.
    """
    gap_rem = (columns - 1) / columns * (1 / BAR_COLUMN - 1)
    parts = []
    for bar in bars:
        low, high = bar.value_range
        parts.append(
            '<div style="flex: 1; display: flex; gap: 0.35em; min-height: 0; margin: 0.2em 0;">'
            f'<div style="flex: none; width: 0.9em; border: 1px solid #8888; background: {_gradient(bar.scale)};"></div>'
            '<div style="display: flex; flex-direction: column; justify-content: space-between;">'
            f"<span>{high:.3g}</span><span>{html.escape(bar.label)}</span><span>{low:.3g}</span></div></div>")
    return (f'<div class="colour-bars" style="position: relative; width: 100%; padding-bottom: calc(100% / {BAR_COLUMN} + '
            f'{gap_rem:.4f}rem);"><div style="position: absolute; inset: 0; display: flex; '
            f'flex-direction: column; font-size: {text_size}px; line-height: 1.1;">{"".join(parts)}</div></div>')


def picture_columns(pictures: int) -> list[float]:
    """The column weights of a row of ``pictures`` and its colour bars."""
    return [1] * pictures + [BAR_COLUMN]


def picture_row(pictures: Sequence[Picture | None], bars: Sequence[ColourBar], text_size: int, *, key: str,
                link: str = "image", columns: Sequence[Any] | None = None) -> None:
    """One row: each picture filling its column (None: an empty cell), its title under
    it, and the colour bars in the narrow last column. ``key``: the row's, unique on the
    page (each picture's element key is ``{key}_{i}``); ``link``: the pictures zoom with
    every picture of this link and size; ``columns``: the row's columns, made by the caller
    (``st.columns(picture_columns(len(pictures)))``) to draw into an empty cell."""
    if columns is None:
        columns = st.columns(picture_columns(len(pictures)))
    elif len(columns) != len(pictures) + 1:
        raise ValueError(f"columns must be {len(pictures) + 1} (the pictures' and the colour bars'), "
                         f"got {len(columns)}")
    for i, (column, picture) in enumerate(zip(columns, pictures)):
        if picture is not None:
            with column:
                zoomable_picture(picture.data, shown(picture.values), picture.title, key=f"{key}_{i}", link=link,
                                 text_size=text_size)
    if bars:
        with columns[-1]:
            st.html(colour_bars_html(bars, text_size, len(columns)))
