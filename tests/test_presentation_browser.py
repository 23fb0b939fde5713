"""Presentation mode on a projector: the default page in Chromium at 1024 x 768, 1280 x 720
and 1920 x 1080 (one server for all three).

At each size, with the folded sampling panel opened, every visible label is measured in
the browser: metric labels, values and deltas, headings, captions, widget and expander
labels, page links, the pictures' titles and colour bars, and the charts' titles, axis titles, tick labels, legend
entries, colour-bar texts and subplot titles. No two overlap, none is cut (wider than its
box, or ending in an ellipsis), none lies outside its chart, every chart text is at least
``PROJECTOR_TEXT`` pixels, every metric value's text is at least 1.5 times its label's, and each
row of first-screen pictures spans at least 30 % of the window's width, wider at
1920 x 1080 than at 1280 x 720. Out of presentation mode, with the sidebar open, the same
sizes show no overlapping or cut label either, and the methods' numbers in line. Screenshots and the measured sizes
(``presentation_pictures.json``) are kept in
``test-artifacts/`` for a human to look at.
"""

from __future__ import annotations

import json

import pytest

from explorer.presentation import PROJECTOR_TEXT, SCREEN_TEXT
from tests.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, playwright, server  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = ((1024, 768), (1280, 720), (1920, 1080))

#: Share of the window's width that each row of first-screen pictures spans at least.
ROW_SHARE = 0.30

#: Every visible label of the page, measured: its text, box, font size, whether it is cut
#: or outside its chart, and every pair of labels whose boxes overlap (neither inside the
#: other).
MEASURE = r"""
() => {
  const HTML = ['[data-testid="stMetricLabel"]', '[data-testid="stMetricValue"]', '[data-testid="stMetricDelta"]',
                'h1', 'h2', 'h3', '[data-testid="stCaptionContainer"]', '[data-testid="stImageCaption"]',
                '[data-testid="stWidgetLabel"]', '[data-testid="stExpander"] summary', '.colour-bars span',
                '[data-testid="stPageLink"] p', '.zoomable-picture figcaption'];
  const CHART = ['.gtitle', '.xtitle', '.ytitle', '.xtick text', '.ytick text', '.legendtext',
                 '.annotation-text', '.cbtitle text', '.cbaxis text', '.colorbar text'];
  // Drawn and not clipped away (a folded expander keeps its content laid out, clipped to
  // a zero-height box).
  const shown = (el, text = true) => {
    const r = el.getBoundingClientRect();
    if (!(r.width > 0 && r.height > 0) || (text && (el.textContent || '').trim() === '')) return false;
    // Boxes that clip, up to the page's scrolling box (the window's frame above it clips
    // whatever is scrolled out of view, which is still on the page).
    let scrolled = false;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) === 0) return false;
      if (e.tagName === 'DETAILS' && !e.open && !el.closest('summary')) return false;
      const clips = v => v === 'hidden' || v === 'clip';
      scrolled = scrolled || ['auto', 'scroll'].includes(s.overflowY);
      if (e !== el && !scrolled && (clips(s.overflowX) || clips(s.overflowY))) {
        const c = e.getBoundingClientRect();
        if (r.right <= c.left || r.left >= c.right || r.bottom <= c.top || r.top >= c.bottom) return false;
      }
    }
    return true;
  };
  const cut = el => [el, ...el.querySelectorAll('*')].some(e => {
    const s = getComputedStyle(e);
    return s.overflowX !== 'visible' && e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0;
  });
  const labels = [];
  // The page, not the folded sidebar (presentation mode starts with it closed).
  const main = document.querySelector('[data-testid="stMain"]');
  for (const selector of HTML)
    for (const el of main.querySelectorAll(selector)) if (shown(el)) labels.push({el, chart: null});
  for (const plot of document.querySelectorAll('.js-plotly-plot'))
    for (const selector of CHART)
      for (const el of plot.querySelectorAll(selector)) if (shown(el)) labels.push({el, chart: plot});
  const unique = labels.filter((l, i) => labels.findIndex(m => m.el === l.el) === i);
  const out = unique.map(({el, chart}) => {
    const r = el.getBoundingClientRect(), text = el.textContent.trim();
    const box = chart && chart.getBoundingClientRect();
    return {text: text.slice(0, 60), chart: !!chart, size: parseFloat(getComputedStyle(el).fontSize),
            x: r.left, y: r.top, w: r.width, h: r.height,
            cut: (!chart && cut(el)) || /(\u2026|\.\.\.)$/.test(text),
            outside: !!chart && (r.left < box.left - 1 || r.right > box.right + 1
                                 || r.top < box.top - 1 || r.bottom > box.bottom + 1)};
  });
  const overlaps = [];
  for (let i = 0; i < unique.length; i++) for (let j = i + 1; j < unique.length; j++) {
    const a = unique[i].el, b = unique[j].el;
    if (a.contains(b) || b.contains(a)) continue;
    const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
    const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
    const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
    if (w > 1 && h > 1) overlaps.push([out[i].text, out[j].text, Math.round(w), Math.round(h)]);
  }
  const metrics = [...main.querySelectorAll('[data-testid="stMetric"]')].filter(m => shown(m)).map(m => {
    const label = m.querySelector('[data-testid="stMetricLabel"] p') || m.querySelector('[data-testid="stMetricLabel"]');
    const value = m.querySelector('[data-testid="stMetricValue"]');
    // The size of the text itself: that of the elements holding its characters (an
    // element's own size does not reach a child that sets another).
    const size = el => Math.max(...[el, ...el.querySelectorAll('*')]
      .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
      .map(e => parseFloat(getComputedStyle(e).fontSize)));
    return {label: label.textContent.trim(), label_size: size(label), value_size: size(value)};
  });
  const pictures = [...document.querySelectorAll('.st-key-first_screen [data-testid="stImage"] img')].filter(img => shown(img, false))
    .map(img => { const r = img.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height}; });
  return {labels: out, overlaps, metrics, pictures, width: window.innerWidth};
}
"""


def open_default_page(browser, url: str, width: int, height: int, *, present: bool = True):
    """The default page in presentation mode (or not, with the sidebar open) at ``width`` x
    ``height``, computed, with the folded panel that holds a chart (the sampling mask) opened."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{url}/?present=1" if present else url)
    state = """() => ({running: !!document.querySelector('[data-testid="stStatusWidget"]'),
                       pictures: document.querySelectorAll('.st-key-first_screen [data-testid="stImage"] img').length,
                       search: !!document.querySelector('.st-key-run_attack button')})"""
    try:
        # On a busy machine the worst-case search's estimate exceeds what the page starts by
        # itself: it waits for its button, pressed here (once run, it is on disk).
        page.wait_for_function(f"""() => {{ const s = ({state})();
                                   return !s.running && (s.pictures >= 8 || s.search); }}""",
                               timeout=300_000, polling=500)
        if page.evaluate(state)["search"]:
            page.locator(".st-key-run_attack button").click()
        page.wait_for_function(f"() => {{ const s = ({state})(); return !s.running && s.pictures >= 8; }}",
                               timeout=400_000, polling=500)
    except playwright.TimeoutError:
        page.screenshot(path=str(ARTIFACTS / f"presentation_{width}x{height}_timeout.png"))
        pytest.fail(f"{width} x {height}: the page did not settle: {page.evaluate(state)}")
    # (The convergence chart has a page of its own.)
    page.locator('[data-testid="stExpander"] summary', has_text="Sampling: mask and k-space").first.click()
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')]
                                   .filter(p => p.getBoundingClientRect().height > 0).length >= 1""",
                           timeout=60_000)
    page.wait_for_timeout(1000)  # plotly's last relayout after the panels opened
    return page


def assert_legible(found: dict, size: str, *, chart_text: int = PROJECTOR_TEXT) -> None:
    """No label of ``found`` (what :data:`MEASURE` found) overlaps another, is cut or lies
    outside its chart, and every chart text is at least ``chart_text`` pixels."""
    labels = found["labels"]
    assert not found["overlaps"], (size, found["overlaps"][:6])
    cut = [label["text"] for label in labels if label["cut"]]
    assert not cut, (size, cut)
    outside = [label["text"] for label in labels if label["outside"]]
    assert not outside, (size, outside)
    small = [(label["text"], label["size"]) for label in labels if label["chart"] and label["size"] < chart_text]
    assert not small, (size, small[:10])


def rows(pictures: list[dict]) -> list[list[dict]]:
    """The pictures grouped by the row they sit in (tops within 4 px)."""
    grouped: list[list[dict]] = []
    for picture in sorted(pictures, key=lambda p: (p["y"], p["x"])):
        if grouped and abs(grouped[-1][0]["y"] - picture["y"]) <= 4:
            grouped[-1].append(picture)
        else:
            grouped.append([picture])
    return grouped


def test_presentation_mode_is_legible_at_projector_sizes(server):  # noqa: F811 (fixture)
    picture_widths, measured = {}, {}
    mode = "pictures"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width, height in VIEWPORTS:
                page = open_default_page(browser, server, width, height)
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"presentation_{mode}_{width}x{height}.png"))
                found = page.evaluate(MEASURE)
                # Each colour bar's box beside its row's pictures: [its height, a picture's].
                bars = page.evaluate("""() => [...document.querySelectorAll('.colour-bars')].map(bar => {
                    const row = bar.closest('[data-testid="stHorizontalBlock"]');
                    return [bar.getBoundingClientRect().height, row.querySelector('img').getBoundingClientRect().height];
                })""")
                page.close()
                size = f"{width} x {height}, {mode}"
                assert len(bars) == 3, (size, bars)  # reconstructions (2 rows), perturbation
                assert all(abs(bar - picture) <= 2 for bar, picture in bars), (size, bars)
                assert found["width"] == width
                labels = found["labels"]
                # The sampling panel's chart was measured (convergence has its own page,
                # below), and the rows of pictures' titles and colour bars.
                assert sum(label["chart"] for label in labels) >= 4, size
                assert sum(label["text"] in ("image", "|error|", "|change|") for label in labels) >= 3, size
                titles = [label for label in labels if label["text"].startswith(("|error| ", "change in "))
                          and label["text"] != "|error| shown up to"]  # not the range slider's label
                assert len(titles) >= 6, size  # the rows' pictures' titles, projector-sized
                assert all(label["size"] >= PROJECTOR_TEXT for label in titles), (size, titles[:3])
                assert_legible(found, size)
                assert len(found["metrics"]) >= 12, size
                # Numbers well above their labels (values at 25 px over labels at 21 px read as
                # one size from the back of a room).
                shrunk = [m for m in found["metrics"] if m["value_size"] < 1.5 * m["label_size"]]
                assert not shrunk, (size, shrunk[:5])
                picture_rows = rows(found["pictures"])
                assert [len(row) for row in picture_rows] == [4, 4], (size, found["pictures"])
                for row in picture_rows:
                    assert sum(p["w"] for p in row) >= ROW_SHARE * width, (size, row)
                picture_widths[width] = min(p["w"] for p in found["pictures"])
                measured[size] = {
                    "labels": len(labels), "chart_labels": sum(label["chart"] for label in labels),
                    "smallest_chart_text_px": min(label["size"] for label in labels if label["chart"]),
                    "picture_px": round(picture_widths[width]),
                    "row_share": round(min(sum(p["w"] for p in row) for row in picture_rows) / width, 3),
                    "metric_value_px": min(m["value_size"] for m in found["metrics"]),
                    "metric_label_px": max(m["label_size"] for m in found["metrics"])}
        finally:
            browser.close()
            (ARTIFACTS / f"presentation_{mode}.json").write_text(json.dumps(measured, indent=1))
    # On the widest window the pictures grow with it.
    assert picture_widths[1920] > 1.3 * picture_widths[1280], picture_widths


def test_the_page_on_a_screen_cuts_no_label(server):  # noqa: F811 (fixture)
    """Out of presentation mode, with the sidebar open, at the same sizes: no label overlaps
    another or is cut (the perturbation's numbers were labelled "Output change, FI..." at
    1280 x 720 and their values cut at 1024 x 768), and the methods' numbers sit in line."""
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width, height in VIEWPORTS:
                page = open_default_page(browser, server, width, height, present=False)
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"screen_{width}x{height}.png"))
                found = page.evaluate(MEASURE)
                # The tops of the numbers' labels, row by row: one top per row of numbers.
                tops = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stMetricLabel"]')]
                    .filter(l => !l.closest('[data-testid="stExpander"]'))
                    .map(l => [l.textContent.trim(), Math.round(l.getBoundingClientRect().top)])""")
                page.close()
                size = f"{width} x {height}, on a screen"
                assert sum(label["chart"] for label in found["labels"]) >= 4, size
                assert len(found["metrics"]) >= 12, size
                assert_legible(found, size, chart_text=SCREEN_TEXT)
                for name in ("PSNR", "SSIM", "Relative error", "Output change", "Error to the truth", "Change ratio"):
                    in_row = {top for label, top in tops if label == name}
                    assert len([label for label, _ in tops if label == name]) >= 3, (size, name, tops)
                    assert max(in_row) - min(in_row) <= 2, (size, name, sorted(in_row))
        finally:
            browser.close()


def test_the_convergence_page_is_legible_at_projector_sizes(server):  # noqa: F811 (fixture)
    """The convergence page in presentation mode: its chart's texts at least
    ``PROJECTOR_TEXT`` pixels, none overlapping, cut or outside its chart, at every size."""
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width, height in VIEWPORTS:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(f"{server}/convergence?present=1")
                page.wait_for_function("""() => !document.querySelector('[data-testid="stStatusWidget"]')
                                           && document.querySelector('.js-plotly-plot .scatterlayer')""",
                                       timeout=300_000, polling=500)
                page.wait_for_timeout(1000)  # plotly's last relayout
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"presentation_convergence_{width}x{height}.png"))
                found = page.evaluate(MEASURE)
                page.close()
                size = f"{width} x {height}"
                labels = found["labels"]
                assert sum(label["chart"] for label in labels) >= 10, size  # the chart was measured
                assert_legible(found, size)
        finally:
            browser.close()
