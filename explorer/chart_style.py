"""The text of the page's charts: one size for every title, axis title, tick label, legend
and subplot title, and titles wrapped to the width of their panels so that neighbours never
overlap.

A chart's pixel width is only known in the browser (it fills its column); titles are
wrapped for the narrowest width the page is made for (:data:`NARROWEST_CHART`: a 1024 px
window in presentation mode), so that they fit at every larger one too.
"""

from __future__ import annotations

import textwrap
from typing import Any

__all__ = ["NARROWEST_CHART", "DEFAULT_TEXT", "wrap", "title_lines", "style_text", "legend_below"]

#: Width in pixels of a full-width chart at the narrowest window the page is made for (a
#: 1024 px window less the page's padding; measured 960 px in Chromium, rounded down).
NARROWEST_CHART = 900

#: Chart text in pixels when a builder is not told a size (a screen, not a projector).
DEFAULT_TEXT = 13

#: Mean width of a character of the page's sans-serif face, in units of its size
#: (0.5 measured on the titles of the page's charts; 0.56 leaves room).
_CHAR_WIDTH = 0.56


def wrap(title: str, *, width: float, text_size: int) -> str:
    """``title`` broken into lines (plotly's ``<br>``) that each fit ``width`` pixels at
    ``text_size``; a single word longer than the line is kept whole."""
    chars = max(6, int(width / (_CHAR_WIDTH * text_size)))
    return "<br>".join(textwrap.wrap(title, chars, break_long_words=False)) or title


def title_lines(titles: list[str]) -> int:
    """The largest number of lines of the wrapped ``titles``."""
    return max((t.count("<br>") + 1 for t in titles if t), default=1)


def style_text(fig: Any, text_size: int) -> None:
    """Every text of ``fig`` at ``text_size`` pixels: the layout's font (tick labels,
    legend, colour bars, axis titles) and the subplot titles (annotations, which
    ``make_subplots`` sets to 16 px)."""
    fig.update_layout(font=dict(size=text_size))
    fig.update_annotations(font_size=text_size)
    fig.update_xaxes(title_font_size=text_size, tickfont_size=text_size)
    fig.update_yaxes(title_font_size=text_size, tickfont_size=text_size)


def legend_below(entries: list[str], *, width: float, text_size: int) -> tuple[dict[str, Any], int]:
    """A horizontal legend under the plot, clear of the x axis' tick labels and title,
    and the bottom margin (pixels) it needs with them: the number of legend rows is
    estimated from the entries' lengths at ``width`` pixels."""
    item = max((len(e) for e in entries), default=10) * _CHAR_WIDTH * text_size + 50
    per_row = max(1, int(width // item))
    rows = -(-len(entries) // per_row)
    legend_height = rows * int(1.6 * text_size) + 6
    axis_height = int(3.6 * text_size) + 10  # tick labels, their gap and the axis title
    legend = dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left",
                  font=dict(size=text_size))
    return legend, axis_height + legend_height
