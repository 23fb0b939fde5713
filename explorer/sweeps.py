"""Show a sweep's results (``python -m solver.reproduce``) without recomputing anything: for
a talk, the tables and figures of an experiment run beforehand."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from explorer.charts import CHART
from explorer.outside import read_outside, show_refusal
from explorer.text import plain

from solver.reproduce import build_figures, load, table

__all__ = ["results_panel", "RESULTS_ROOT"]

#: Where ``python -m solver.reproduce`` writes (its ``--out`` default), from the page's folder.
RESULTS_ROOT = Path("results")


def _result_files(root: Path) -> list[Path]:
    return sorted(root.glob("*/results.parquet")) + sorted(root.glob("*/results.csv"))


@st.cache_data(max_entries=8, show_spinner=False)
def _load(path: str, stamp: float) -> tuple:
    frame = load(path, needed_only=True)  # checked against the schema, within the caps
    return table(frame), build_figures(frame), len(frame)


def results_panel() -> None:
    """A chooser of the result files under :data:`RESULTS_ROOT`, then the chosen one's
    summary table and figures."""
    files = _result_files(RESULTS_ROOT)
    if not files:
        st.caption("No sweep results yet. Run for example `python -m solver.reproduce stability "
                   "--preset small` from the project folder; its results appear here.")
        return
    chosen = st.selectbox("Results file", files, format_func=lambda p: str(p.parent.name), key="sweep_file")
    loaded, refusal = read_outside("Results file", chosen, lambda: _load(str(chosen), chosen.stat().st_mtime))
    if refusal is not None:
        show_refusal(f"{refusal}. Nothing else was changed.")
        return
    summary, figures, rows = loaded
    st.caption(plain(f"{rows} tasks; summary table (mean and spread over images and seeds) and "
                     f"the figures of {chosen.parent.name}.", limit=300))
    st.dataframe(summary)
    for name, figure in figures.items():
        st.plotly_chart(figure, key=f"sweep_{name}", config=CHART)
