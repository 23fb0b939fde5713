"""The pictures' colour bars (``explorer.picture_grid``): their gradient is the colour
scale's, their labels are escaped, and their box is as tall as a picture of their row
(Streamlit's column widths: share p of the row's width T less (columns - 1) / columns of
the 1rem gap)."""

from __future__ import annotations

import re

import pytest

from explorer.image_bytes import colourscale
from explorer.picture_grid import BAR_COLUMN, ColourBar, colour_bars_html, picture_columns, picture_row


def test_a_bar_is_its_scale_from_bottom_to_top_with_its_range():
    html = colour_bars_html([ColourBar("inferno", (0.0, 0.25), "|error|")], 13, 6)
    stops = re.findall(r"(rgb\([^)]*\)) ([0-9.]+)%", html)
    scale = colourscale("inferno")
    assert [colour for colour, _ in stops] == [colour for _, colour in scale]
    assert [float(p) for _, p in stops] == pytest.approx([100 * p for p, _ in scale], abs=0.05)
    assert "linear-gradient(to top," in html  # the low end at the bottom
    spans = re.findall(r"<span>([^<]*)</span>", html)
    assert spans == ["0.25", "|error|", "0"]  # top value, label, bottom value
    assert "font-size: 13px" in html


def test_labels_are_escaped():
    html = colour_bars_html([ColourBar("gray", (0.0, 1.0), "<b>x</b> & y")], 20, 3)
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in html and "<b>" not in html


@pytest.mark.parametrize("columns", [2, 4, 6])
def test_the_box_is_as_tall_as_a_picture_of_its_row(columns):
    """For a row of T = 1000 px with a 16 px gap: each picture is p T - g wide, the bar
    p * BAR_COLUMN * T - g (flex basis calc(p% - gap), the gap's rest shared out); the
    box's height (padding in percent of its width, plus rem) must be the picture's side."""
    html = colour_bars_html([ColourBar("gray", (0.0, 1.0), "image")], 13, columns)
    share, extra_rem = re.search(r"padding-bottom: calc\(100% / ([0-9.]+) \+ ([0-9.]+)rem\)", html).groups()
    assert float(share) == BAR_COLUMN
    total, rem = 1000.0, 16.0
    weights = [1.0] * (columns - 1) + [BAR_COLUMN]
    p = 1.0 / sum(weights)
    gap = rem * (columns - 1) / columns
    picture, bar = p * total - gap, p * BAR_COLUMN * total - gap
    assert bar / BAR_COLUMN + float(extra_rem) * rem == pytest.approx(picture, abs=0.01)


def test_a_row_has_a_column_per_picture_and_a_narrow_one_for_its_bars():
    assert picture_columns(3) == [1, 1, 1, BAR_COLUMN]


def test_a_row_drawn_into_columns_of_another_count_is_refused():
    with pytest.raises(ValueError, match="columns must be 3"):
        picture_row([None, None], [], 13, key="row", columns=[object()] * 2)
