"""How the page looks: its style sheet and presentation mode.

Presentation mode (``?present=1``) is for a projector seen from the back of a room: the
first screen's pictures fill their columns and grow with the window (as tall as two rows of
them beside the sentence allow), metric values are larger than their labels, no label is
cut to "..." (long ones wrap) and every chart's text is at least :data:`PROJECTOR_TEXT` pixels.

The sizes were measured in Chromium at 1024 x 768, 1280 x 720 and 1920 x 1080
(``tests/test_presentation_browser.py``; docs/talk.md has the numbers).
"""

from __future__ import annotations

import streamlit as st

__all__ = ["PROJECTOR_TEXT", "SCREEN_TEXT", "FIRST_SCREEN_KEY", "chart_text", "page_style"]

#: Chart text (titles, axis titles, tick labels, legends) in presentation mode, in pixels:
#: about the height of the page's body text on a projector.
PROJECTOR_TEXT = 20

#: Chart text on a screen, in pixels (plotly's default is 12).
SCREEN_TEXT = 13

#: The key of the first screen's container (its CSS class is ``st-key-<key>``): the pictures
#: that grow with the window in presentation mode.
FIRST_SCREEN_KEY = "first_screen"


def chart_text(presenting: bool) -> int:
    """The chart text size (pixels) for the page's mode."""
    return PROJECTOR_TEXT if presenting else SCREEN_TEXT


#: The page's own style (no user content): less empty space above the title, so the first
#: screen (title, sentence, two rows of pictures) fits a 1280 x 720 projector. Labels wrap
#: instead of ending in "..."; in a window narrower than 1180 px (1024 x 768 with the
#: sidebar open: five columns of about 105 px) the numbers are smaller, so that "30.82 dB"
#: fits its column, and the first screen's pictures shrink to theirs.
_PAGE_STYLE = """
<style>
  .block-container, [data-testid="stMainBlockContainer"] { padding-top: 3.6rem; }
  h1 { font-size: 2.1rem !important; padding-top: 0 !important; }
  [data-testid="stMetricLabel"] *, [data-testid="stMetricDelta"] *, [data-testid="stWidgetLabel"] *,
  [data-testid="stExpander"] summary *, [data-testid="stPageLink"] * {
    white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  }
  @media (max-width: 1180px) {
    [data-testid="stMetricValue"], [data-testid="stMetricValue"] > div,
    [data-testid="stMetricValue"] p { font-size: 1.4rem; }
    .FIRST_SCREEN [data-testid="stImageContainer"], .FIRST_SCREEN [data-testid="stImageContainer"] img {
      max-width: 100%; height: auto;
    }
  }
</style>
""".replace("FIRST_SCREEN", f"st-key-{FIRST_SCREEN_KEY}")

#: Presentation mode: larger type and pictures that grow with the window (labels wrap in
#: both modes: the page's style above applies beneath this one).
#:
#: The first screen's pictures are square: each fills its column, at most as wide as half
#: the window's height less the title, sentence and captions (13.5rem), so that both rows
#: stay on one screen (at 1280 x 720: 4 x 225 px in a row, 70 % of the width; at
#: 1920 x 1080: 4 x 405 px, 84 %). Metric values keep 2.2rem over labels of 1.05rem
#: (Streamlit shrinks values to the label's size in narrow columns).
_PRESENTING_STYLE = """
<style>
  .block-container, [data-testid="stMainBlockContainer"] { padding-left: 2rem; padding-right: 2rem; }
  html, body, [data-testid="stMarkdownContainer"] p { font-size: 1.25rem; }
  [data-testid="stCaptionContainer"] { font-size: 1.05rem; }
  h1 { font-size: 2.6rem !important; }
  .FIRST_SCREEN [data-testid="stImage"] img {
    width: 100% !important; height: auto !important;
    max-width: calc((100vh - 13.5rem) / 2) !important; margin: 0 auto; display: block;
  }
  .FIRST_SCREEN [data-testid="stCaptionContainer"],
  .FIRST_SCREEN [data-testid="stImageCaption"] { font-size: 1rem; }
  [data-testid="stMetricValue"], [data-testid="stMetricValue"] > div,
  [data-testid="stMetricValue"] p { font-size: 2.2rem !important; }
  [data-testid="stMetricLabel"], [data-testid="stMetricLabel"] p { font-size: 1.05rem !important; }
</style>
""".replace("FIRST_SCREEN", f"st-key-{FIRST_SCREEN_KEY}")


def page_style(*, presenting: bool) -> None:
    """Apply the page's style, and presentation mode's when asked."""
    st.html(_PAGE_STYLE + (_PRESENTING_STYLE if presenting else ""))
