"""The paradox page: the paper's Table 1 instance, computed for the visitor's K, n and L.

UI only: the numbers come from :mod:`solver.paradox` (instance, minimisers, FIRENET) and
:mod:`solver.lista` (the shipped, hash-checked networks). The page's settings are query
parameters (``/paradox?K=3&n=20&L=8000``), so a link reproduces it.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from explorer import state as S
from explorer.charts import CHART
from explorer.curve_figures import log_axis

# solver.paradox and solver.lista are imported where this page uses them: they bring in
# scipy (about a second of a cold start), which the other pages do not need.

__all__ = ["render", "band_figure", "SETTING_KEYS", "K_OPTIONS", "N_OPTIONS", "L_OPTIONS"]

K_OPTIONS = (1, 3, 6)
N_OPTIONS = (10, 20, 30)
#: Training-set sizes of the shipped networks (their card lists them).
L_OPTIONS = (10, 100, 1000, 8000)
_DEFAULTS = {"K": 3, "n": 20, "L": 8000}
_KEYS = {"K": "paradox_K", "n": "paradox_n", "L": "paradox_L"}
_OPTIONS = {"K": K_OPTIONS, "n": N_OPTIONS, "L": L_OPTIONS}
#: Session-state keys of the page's widgets (kept while another page is shown).
SETTING_KEYS = tuple(_KEYS.values())

_NAMES = {"firenet": "FIRENET (p = 50, 30 restarts)", "lista": "LISTA (trained)",
          "hedging": "Best possible: halfway point", "input_minimiser": "Exact minimiser of the given input"}
_COLOURS = {"firenet": "#d62728", "lista": "#1f77b4", "hedging": "#2ca02c", "input_minimiser": "#000000"}
_SYMBOLS = {"firenet": "circle-open", "lista": "square", "hedging": "diamond", "input_minimiser": "x"}
_SIZES = {"firenet": 20, "lista": 14, "hedging": 10, "input_minimiser": 9}


# --------------------------------------------------------------------------------------
# Cached numerics
# --------------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _networks():
    """The shipped LISTA networks, sha256-checked once per server; ``(networks, card, error)``."""
    from solver.lista import load_networks

    try:
        networks, card = load_networks()
    except ValueError as error:
        return {}, {}, str(error)
    return networks, card, None


@st.cache_data(max_entries=16, show_spinner=False)
def _comparison(K: int, n: int):
    """Instances, FIRENET, the hedging point and the band path for one (K, n)."""
    from solver.paradox import compare_on_band

    return compare_on_band(K, n)


@st.cache_data(max_entries=64, show_spinner=False)
def _lista_output(K: int, n: int, L: int) -> np.ndarray | None:
    """LISTA's output on y_n for row (K, n) and training-set size L (None without weights)."""
    networks, _, _ = _networks()
    model = networks.get((K, n, L))
    if model is None:
        return None
    y = _comparison(K, n).inexact.y
    with torch.no_grad():
        return model(torch.from_numpy(y)[None]).numpy()[0]


def _measure(K: int, n: int, L: int) -> tuple[dict, dict]:
    """Outputs and distances to the minimiser set of (A, y), LISTA's included when shipped."""
    from solver.paradox import distance_to_minimisers

    view = _comparison(K, n)
    outputs, distances = dict(view.outputs), dict(view.distances)
    lista = _lista_output(K, n, L)
    if lista is not None:
        outputs["lista"] = lista
        distances["lista"] = distance_to_minimisers(lista, view.exact)
    return outputs, distances


# --------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------
def band_figure(view, distances: dict, K: int, n: int) -> go.Figure:
    """Log-log chart: distance to the minimiser set of (A, y) against the input's distance
    from (A, y), with the band of inputs within 2^-n, the digit lines and each method's point."""
    path_x, path_y = view.path["input_distance"], view.path["distance"]
    keep = path_x > 0
    moving = path_y[(path_y > 0) & keep]  # the minimiser's continuous drift before the jump
    floor = 10.0 ** math.floor(math.log10(moving.min())) if moving.size else 10.0 ** (-K - 9)
    x_low, x_high = float(path_x[keep].min()), float(path_x.max())
    y_low, y_high = floor, 10.0 ** (-K + 2.5)
    figure = go.Figure()
    figure.add_trace(go.Scatter(
        x=[x_low, 2.0**-n, 2.0**-n, x_low], y=[y_low, y_low, y_high, y_high], mode="lines", fill="toself",
        fillcolor="rgba(255, 193, 7, 0.18)", line={"width": 0}, hoverinfo="skip",
        name=f"inputs within 2<sup>-{n}</sup> of (A, y)"))
    figure.add_trace(go.Scatter(
        x=path_x[keep], y=np.maximum(path_y[keep], floor), mode="lines", line={"color": "black", "width": 2},
        name="minimiser of A + t (A<sub>n</sub> − A)",
        hovertemplate="input distance %{x:.3e}<br>minimiser's distance %{y:.3e}<extra></extra>"))
    for digits, dash in ((K, "solid"), (K - 1, "dash"), (K - 2, "dot")):
        level = 10.0**-digits
        figure.add_trace(go.Scatter(
            x=[x_low, x_high], y=[level, level], mode="lines+text", line={"color": "#555", "dash": dash, "width": 1},
            text=["", f"{digits} digit{'' if digits == 1 else 's'} (10<sup>-{digits}</sup>)" if digits > 0
                  else "0 digits (1)"],
            textposition="top left", hoverinfo="skip", showlegend=False))
    for name in ("lista", "input_minimiser", "firenet", "hedging"):  # the x over LISTA's square
        if name not in distances:
            continue
        figure.add_trace(go.Scatter(
            x=[view.input_gap], y=[max(distances[name], floor)], mode="markers", name=_NAMES[name],
            marker={"color": _COLOURS[name], "symbol": _SYMBOLS[name], "size": _SIZES[name],
                    "line": {"width": 2.5, "color": _COLOURS[name]}},
            hovertemplate=f"{_NAMES[name]}<br>distance %{{y:.4e}}<extra></extra>"))
    figure.update_layout(
        # Its powers of ten labelled, not the digits 2 and 5 between them alone.
        xaxis={**log_axis([x_low, x_high]), "title": "distance of the input from (A, y):  ‖A′ − A‖",
               "range": [math.log10(x_low), math.log10(x_high)]},
        yaxis={"type": "log", "title": "distance to the minimisers of (A, y)",
               "range": [math.log10(y_low), math.log10(y_high)], "exponentformat": "power"},
        height=470, margin={"l": 70, "r": 20, "t": 30, "b": 60},
        legend={"orientation": "h", "y": -0.18, "x": 0}, template="plotly_white")
    return figure


# --------------------------------------------------------------------------------------
# Settings in the URL
# --------------------------------------------------------------------------------------
def _load_url_once() -> None:
    """Read K, n, L from the URL into the widgets once per session; note values that are not offered."""
    state = st.session_state
    memory = S.memory()
    if memory.paradox_url_loaded:
        return
    memory.paradox_url_loaded = True
    notes = []
    for name, key in _KEYS.items():
        text = st.query_params.get(name)
        value = _DEFAULTS[name]
        if text is not None:
            try:
                value = int(text)
            except ValueError:
                value = None
            if value not in _OPTIONS[name]:
                notes.append(f"{name} = {text[:20]!r} is not one of {list(_OPTIONS[name])}; "
                             f"using {_DEFAULTS[name]}.")
                value = _DEFAULTS[name]
        state.setdefault(key, value)
        if text is not None:
            state[key] = value
    memory.paradox_url_notes = tuple(notes)


def _write_url(K: int, n: int, L: int) -> None:
    query = {name: str(value) for name, value in (("K", K), ("n", n), ("L", L)) if value != _DEFAULTS[name]}
    if dict(st.query_params) != query:
        st.query_params.from_dict(query)


# --------------------------------------------------------------------------------------
# Page
# --------------------------------------------------------------------------------------
def _digit_text(distance: float) -> str:
    from solver.paradox import correct_digits

    return str(correct_digits(distance))


def _tex(value: float, digits: int) -> str:
    """``value`` in LaTeX with ``digits`` significant digits: ``3.37 \\times 10^{-7}``."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa} \\times 10^{{{int(exponent)}}}"


def render() -> None:
    """Draw the paradox page."""
    from solver.paradox import correct_digits

    _load_url_once()
    st.title("The paradox, computed")
    st.markdown(
        "**Claim (the paper's Theorem 1):** for the square-root LASSO given to n bits, no algorithm, "
        "even randomised, computes a minimiser to K correct digits on the whole class; K − 1 digits "
        "can be computed. Below, the authors' instance: two inputs that agree to $2^{-n}$, with minimisers "
        "$3 \\times 10^{-K}$ apart.")
    for note in S.memory().paradox_url_notes:
        st.info(note)

    left, middle, right = st.columns(3)
    with left:
        K = st.select_slider("K: digits asked for", options=K_OPTIONS, key=_KEYS["K"],
                             help="The two minimisers are about $3 \\times 10^{-K}$ apart.")
    with middle:
        n = st.select_slider("n: input precision (bits)", options=N_OPTIONS, key=_KEYS["n"],
                             help="The algorithm sees A and y only to within $2^{-n}$.")
    with right:
        L = st.select_slider("L: LISTA's training-set size", options=L_OPTIONS, key=_KEYS["L"],
                             help="Samples of the authors' training set (the paper: 8,000).")
    _write_url(K, n, L)

    try:
        view = _comparison(K, n)
    except ValueError as error:  # settings outside the instance's range: say so, keep the page
        st.error(f"This instance cannot be built: {error}")
        return
    outputs, distances = _measure(K, n, L)
    _, _, weights_error = _networks()
    if weights_error:
        st.warning(f"The trained LISTA networks could not be loaded, so LISTA is not shown: {weights_error}")

    st.plotly_chart(band_figure(view, distances, K, n), config=CHART, key="paradox_band")
    st.caption(
        f"The black line: the minimiser of the inputs between $(A, y)$ and $(A_n, y_n)$. It stays on "
        f"$(A, y)$'s minimiser until halfway ($\\|A' - A\\| = {_tex(view.input_gap / 2, 3)}$), then jumps by "
        f"${_tex(view.distances['input_minimiser'], 3)}$, inside the shaded band of inputs within "
        f"$2^{{-{n}}} = {_tex(2.0**-n, 3)}$ of $(A, y)$. The markers: each method's output on $(A_n, y_n)$, "
        f"measured against $(A, y)$'s minimiser. Below the solid line: K = {K} correct digits.")

    rows = []
    for name in ("firenet", "lista", "hedging", "input_minimiser"):
        if name not in distances:
            continue
        digits = correct_digits(distances[name])
        rows.append({"output on (Aₙ, yₙ)": _NAMES[name] + (f", L = {L:,}" if name == "lista" else ""),
                     "distance to the minimisers of (A, y)": f"{distances[name]:.4e}",
                     "correct digits": digits,
                     f"K = {K} digits?": "yes" if digits >= K else "no",
                     "x₁": f"{outputs[name][0]:.4e}", "x₂": f"{outputs[name][1]:.4e}"})
    # pandas is imported here, not with the module, which every page's first run in a
    # server imports: its import (about 0.7 s) would fall on whichever page opens first.
    import pandas as pd

    # A plain HTML table: the data grid widget costs the browser far more to redraw.
    st.table(pd.DataFrame(rows).set_index("output on (Aₙ, yₙ)"))
    _explain(view, distances, K, n, L)
    _warm_cache()


@st.cache_resource(show_spinner=False)
def _warm_cache() -> bool:
    """Compute every other setting once per server, after the first page is drawn: the caches
    are shared by all sessions, so from then on every slider change is a cache hit (about
    0.15 s each the first time, 9 (K, n) rows and 36 networks)."""
    for K in K_OPTIONS:
        for n in N_OPTIONS:
            _comparison(K, n)
            for L in L_OPTIONS:
                _lista_output(K, n, L)
    return True


def _explain(view, distances: dict, K: int, n: int, L: int) -> None:
    from solver.paradox import authors_steps

    gap = view.distances["input_minimiser"]
    a1, a2 = view.exact.row
    firenet_digits = _digit_text(distances["firenet"])
    firenet_off = float(np.linalg.norm(view.outputs["firenet"] - view.outputs["hedging"]))
    firenet_text = (f"FIRENET lands on it ({firenet_digits} digits; ${_tex(firenet_off, 2)}$ from the halfway "
                    f"point: it splits the mass between $x_1$ and $x_2$, its 30 restarts of 50 steps do not "
                    f"resolve a raise of $2^{{-{n + 1}}}$)" if firenet_off < 0.01 * gap else
                    f"FIRENET gets {firenet_digits} digits")
    lista_text = ""
    if "lista" in distances:
        learned = abs(distances["lista"] - gap) < 0.01 * gap
        lista_text = (f" LISTA, trained on L = {L:,} samples of $(A_n, y_n)$'s problem, is "
                      f"${_tex(distances['lista'], 4)}$ away ({_digit_text(distances['lista'])} digits)"
                      + (": it returns the minimiser of that problem, the full jump away from $(A, y)$'s."
                         if learned else "."))
    st.markdown(
        f"**Measured here.** $(A, y)$ raises the first row's entry 1, $(A_n, y_n)$ entry 2: "
        f"$\\|A_n - A\\| = {_tex(view.input_gap, 4)} \\le 2^{{-{n}}}$, $y_n = y$. Their minimisers (closed form, "
        f"checked against a convex solver in the tests) are ${_tex(gap, 4)}$ apart, so every output is at least "
        f"${_tex(gap / 2, 4)} > 10^{{-{K}}}$ from one of them: no map of the n-bit input gets K = {K} digits on "
        f"both. The halfway point gets K − 1 = {K - 1} on both. {firenet_text}.{lista_text}")
    st.markdown(
        "**Stated, not computed here** (the paper's Theorem 1, proved in its SI Appendix): that this "
        "holds for every n and for randomised algorithms (none is right to K digits with probability "
        "$> 1/2$); that K − 1 digits can be computed, but a network computing them needs arbitrarily many "
        "training samples; that K − 2 digits can be computed from at most L samples. The page shows one "
        "pair of inputs for each (K, n) of the paper's Table 1, not the whole class.")
    tau, sigma = authors_steps(view.inexact.A)
    norm = float(np.linalg.norm(view.inexact.A, 2))
    st.markdown(
        "**Why FIRENET's stability theorem does not apply** (SI, the theorem under the weighted robust "
        "null space property in levels): the kernel of A holds the 2-sparse vector "
        f"$v = (a_2, -a_1, 0, \\dots, 0)$ with $a_1 = {a1:.10g}$, $a_2 = {a2:.10g}$. For $S$ the coordinate of "
        f"the larger entry, $\\|v_S\\|_1 / \\|v_{{S^c}}\\|_1 = {view.null_space_ratio:.12f} > 1$, while every null "
        "space property of order $s \\ge 1$ needs this ratio below some $\\rho < 1$. So the theorem's "
        "constants $C_1, C_2$ do not exist for this $A$, and nothing bounds FIRENET's error here. The Table 1 "
        f"run also uses the authors' steps $\\tau = \\sigma = {tau:.4f}$, for which $\\tau\\sigma\\|A\\|^2 = "
        f"{tau * sigma * norm**2:.3g}$ (Chambolle-Pock's convergence proof asks for $< 1$).")
    st.caption("Table 1 in full: `python -m solver.reproduce paradox --shipped` (or without --shipped to "
               "train the networks again). Correct digits: the largest k with distance $\\le 10^{-k}$.")
