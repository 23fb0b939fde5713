"""The first screen: the paradox in six pictures and one sentence computed from them.

Ground truth, the trained U-Net and FIRENET on the clean data; the perturbation and the
same two networks on the perturbed data; PSNR under each, and a sentence that states what
these numbers show (whichever way they come out). Small PNG images, so the screen is
drawn within a second of the results being there.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import streamlit as st

from explorer import compute, variants
from explorer.figures import coloured_png
from explorer.results import Results
from explorer.settings import Settings
from solver.problem import Problem

__all__ = ["first_screen", "headline", "IMAGE_WIDTH"]

#: Width of each picture in pixels: three columns of them fit beside the sidebar on a
#: 1280 x 720 projector, two rows of them above the fold.
IMAGE_WIDTH = 170


def headline(clean: dict[str, float], perturbed: dict[str, float] | None, kind_label: str,
             budget: float, visible: float | None) -> str:
    """One sentence (markdown) on what the PSNRs show: who is more accurate on clean data,
    and how each network's error grows under the perturbation."""
    u, f = clean["unet"], clean["firenet"]
    if u["psnr"] >= f["psnr"]:
        first = (f"Unperturbed, the trained U-Net is the more accurate: **{u['psnr']:.1f} dB** "
                 f"against FIRENET's **{f['psnr']:.1f} dB**.")
    else:
        first = (f"Here FIRENET is the more accurate even unperturbed: **{f['psnr']:.1f} dB** "
                 f"against the U-Net's **{u['psnr']:.1f} dB** (the U-Net is at its best on its "
                 "own kind of image: random ellipses).")
    if perturbed is None:
        return first
    growth = {m: perturbed[m]["relative_error"] / max(clean[m]["relative_error"], 1e-12)
              for m in ("unet", "firenet")}
    size = f"{kind_label} of {budget:.1%} of ||y||"
    if visible is not None:
        size += f" (its largest pixel change is {visible:.3f}, {visible * 255:.1f} grey levels)"
    second = (f" With a {size}, the U-Net's error grows **{growth['unet']:.1f}x** "
              f"({perturbed['unet']['psnr']:.1f} dB) and FIRENET's **{growth['firenet']:.1f}x** "
              f"({perturbed['firenet']['psnr']:.1f} dB).")
    return first + second


#: The perturbation kinds as the headline says them ("With a ... of 2.0% of ||y||").
_PHRASES = {
    "random": "random perturbation",
    "worst_unet": "perturbation chosen against the U-Net",
    "worst_firenet": "perturbation chosen against FIRENET",
    "transfer": "perturbation chosen against the other network",
    "detail": "text detail of contrast",
    "more_samples": "sampling rate raised by",
}


def _picture(column: Any, image: np.ndarray, caption: str, value_range: tuple[float, float] = (0.0, 1.0)) -> None:
    column.image(coloured_png(image, value_range), caption=caption, width=IMAGE_WIDTH)


def first_screen(settings: Settings, results: Results, base: Problem,
                 variant: variants.Variant | None) -> None:
    """Draw the first screen (truth, U-Net, FIRENET; clean and perturbed)."""
    if not base.has_truth:  # measured data: no PSNR, the data residual instead
        from explorer import own_data

        own_data.first_screen(settings, results, base)
        return
    if not all(m in results.main for m in ("unet", "firenet")):
        missing = results.errors.get("unet") or results.errors.get("firenet") or ""
        st.info("The first screen compares the U-Net with FIRENET; " + (missing or "add both "
                "to the methods shown."))
        return
    depth = settings.view.depth
    clean = {m: compute.metrics(results.clean[m].at_depth(depth), base.truth) for m in ("unet", "firenet")}
    perturbed = None
    active = variant is not None and variant.pending is None
    if active:
        truth = results.problems["unet"].truth
        perturbed = {m: compute.metrics(results.main[m].at_depth(depth), truth) for m in ("unet", "firenet")}
    visible = None if not active or variant.display is None else float(np.max(np.abs(variant.display)))
    kind = settings.perturbation.kind
    st.markdown(headline(clean, perturbed, _PHRASES.get(kind, "perturbation"), settings.perturbation.budget,
                         visible if kind not in ("detail", "more_samples") else None))
    top = st.columns(3)
    _picture(top[0], base.truth, "Ground truth")
    for column, method, name in zip(top[1:], ("unet", "firenet"), ("U-Net", "FIRENET")):
        _picture(column, results.clean[method].at_depth(depth), f"{name}, clean data: "
                 f"{clean[method]['psnr']:.1f} dB")
    if variant is None:
        st.caption("Choose a perturbation in the sidebar (Noise and perturbation) to see how "
                   "each network reacts.")
        return
    if not active:
        st.caption(f"Perturbed row: waiting for the {variant.pending} (below).")
        return
    bottom = st.columns(3)
    display = np.abs(variant.display) if variant.display is not None else np.zeros_like(base.truth)
    top_value = float(display.max()) or 1.0
    _picture(bottom[0], display, f"{variant.title}, scaled to its maximum {top_value:.3g}", (0.0, top_value))
    for column, method, name in zip(bottom[1:], ("unet", "firenet"), ("U-Net", "FIRENET")):
        psnr = perturbed[method]["psnr"]
        _picture(column, results.main[method].at_depth(depth),
                 f"{name}, perturbed data: {psnr:.1f} dB" if math.isfinite(psnr) else f"{name}, perturbed")
