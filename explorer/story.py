"""The first screen: one perturbation and each network's error to the truth under it.

A lead sentence says which claim the screen shows. Ground truth, the trained U-Net, FIRENET with
the paper's schedule and the page's FIRENET on the clean data; the perturbation and each
network's error map |f(y + e) - x| under it, on one colour scale where the damage shows;
PSNR under each, and a sentence that states what these numbers show (whichever way they
come out). Small images, so the screen is drawn within a second of the results being
there, and its norms in Unicode (‖y‖), not LaTeX: on this page's first screen a formula
made every new visitor's browser load the maths renderer and its fonts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import streamlit as st

from explorer import compute, variants
from explorer.image_bytes import coloured_jpeg, coloured_png
from explorer.results import Results
from explorer.settings import Settings
from explorer.specs import METHOD_LABELS
from explorer.text import plain
from solver.methods import FIRENET, FIRENET_PAPER, METHODS, UNET
from solver.problem import Problem

__all__ = ["first_screen", "headline", "claim_line", "ERROR_SCALE", "IMAGE_WIDTH", "NETWORKS"]

#: Width of each picture in pixels: four columns of them fit beside the sidebar on a
#: 1280 x 720 projector, two rows of them above the fold.
IMAGE_WIDTH = 150


#: Error of a pixel shown white on the error maps (black: 0), in image units (the truth
#: lies in [0, 1]): a tenth of the range, where a perturbed U-Net's artefacts (pixel errors
#: of 0.02-0.15 on the default page) are plain to see and a clean reconstruction's edges
#: (under 0.02) stay dark.
ERROR_SCALE = 0.1

#: The networks of the first screen, in column order (those the visitor shows).
NETWORKS = (UNET, FIRENET_PAPER, FIRENET)


def claim_line() -> str:
    """The lead that says which of the paper's claims the screen shows."""
    return "**Shown: each network's error to the truth under one perturbation** (what FIRENET's theorem bounds)."


def headline(clean: dict[str, dict[str, float]], perturbed: dict[str, dict[str, float]] | None,
             phrase: str, budget: float, visible: float | None) -> str:
    """One paragraph (markdown) on what the numbers show, whichever way they come out:
    which network is the most accurate on the clean data, and each network's error to
    the truth under the perturbation next to its clean error (no ratio of the two: a
    ratio favours the network whose clean error is larger). ``clean`` and ``perturbed``
    map a method to its metrics (``psnr``, ``relative_error``); ``phrase`` names the
    perturbation with ``{budget}`` where its size ``budget`` goes (e.g. ``"a random
    perturbation of {budget:.1%} of ‖y‖"``)."""
    label = {m: _NAMES.get(m, METHOD_LABELS[m]) for m in clean}
    ranked = sorted(clean, key=lambda m: -clean[m]["psnr"])
    # Within half a dB two networks are "about as accurate": no winner is named.
    tied = [m for m in ranked[1:] if clean[ranked[0]]["psnr"] - clean[m]["psnr"] < 0.5]
    leaders = [ranked[0], *tied]
    others = "; ".join(f"{label[m]} {clean[m]['psnr']:.1f} dB" for m in ranked if m not in leaders)
    if len(leaders) > 1:
        first = ("Unperturbed, " + " and ".join(f"**{label[m]}**" for m in leaders) + " are about as "
                 "accurate: " + " and ".join(f"**{clean[m]['psnr']:.1f} dB**" for m in leaders))
    else:
        first = f"Unperturbed, **{label[ranked[0]]}** is the most accurate: **{clean[ranked[0]]['psnr']:.1f} dB**"
    first += f" ({others})." if others else "."
    if perturbed is None:
        return first
    size = phrase.format(budget=budget)
    if visible is not None:
        size += f" (largest pixel change of A*e: {visible:.3f})"
    # The errors themselves (the clean ones are in the pictures' captions, as PSNR).
    parts = [f"**{perturbed[m]['relative_error']:.3f}** for {label[m]}" for m in clean]
    second = f" With {size}, the relative errors are " + ", ".join(parts[:-1]) + \
        (" and " if len(parts) > 1 else "") + parts[-1] + "."
    # Say it when the perturbation reverses an order the clean data had (by more than 3 dB).
    for low in ranked[::-1]:
        passed = [m for m in ranked if clean[m]["psnr"] > clean[low]["psnr"] + 3.0
                  and perturbed[m]["psnr"] < perturbed[low]["psnr"]]
        if passed:
            gap = min(clean[m]["psnr"] for m in passed) - clean[low]["psnr"]
            names = " and ".join(label[m] for m in passed)
            plural = len(passed) > 1
            second += (f" {names[0].upper()}{names[1:]} {'fall' if plural else 'falls'} below {label[low]}, at "
                       f"least {gap:.1f} dB behind {'them' if plural else 'it'} unperturbed.")
            break
    return first + second


#: The networks as the sentence and the captions name them (short: the pictures are small).
_NAMES = {m: METHODS[m].name_in_text for m in NETWORKS}


def _short(method: str) -> str:
    return _NAMES.get(method, METHOD_LABELS[method]).removeprefix("the ")


#: The perturbation kinds as the headline says them, ``{budget}`` its size ("With a ..."),
#: maths in LaTeX (markdown: KaTeX draws it).
_PHRASES = {
    "random": "a random perturbation of {budget:.1%} of ‖y‖",
    "worst_unet": "a perturbation chosen against the U-Net of {budget:.1%} of ‖y‖",
    "worst_firenet": "a perturbation chosen against FIRENET of {budget:.1%} of ‖y‖",
    "transfer": "a perturbation chosen against the other network of {budget:.1%} of ‖y‖",
    "detail": "a text detail of contrast {budget:.3f} inserted",
    "more_samples": "{budget:.1%} more of k-space sampled",
}


def _picture(column: Any, image: np.ndarray, caption: str, value_range: tuple[float, float] = (0.0, 1.0),
             *, width: int | str = IMAGE_WIDTH) -> None:
    column.image(coloured_png(image, value_range, width=_pixels(width)), caption=caption, width=width)


def _error_map(column: Any, error: np.ndarray, caption: str, *, width: int | str = IMAGE_WIDTH) -> None:
    # Lossy JPEG: an error map is noise-like, its PNG 3-5 times larger, and no single
    # pixel value matters to the eye (st.image would turn a WebP into this JPEG itself).
    column.image(coloured_jpeg(np.abs(error), (0.0, ERROR_SCALE), width=_pixels(width)), caption=caption, width=width)


def _pixels(width: int | str) -> int | None:
    """The picture's width in pixels for a fixed display width (drawn at that size here,
    once, rather than shrunk by ``st.image`` on every run), None for a stretched one."""
    return width if isinstance(width, int) else None


def first_screen(settings: Settings, results: Results, base: Problem,
                 variant: variants.Variant | None) -> None:
    """Draw the first screen: the truth and each of :data:`NETWORKS` shown, on the clean
    data, then the perturbation and the same networks on the perturbed data.

    In presentation mode the pictures fill their columns (``explorer.presentation`` sizes
    them to the window when they are drawn in its first-screen container)."""
    width = "stretch" if settings.view.present else IMAGE_WIDTH
    if not base.has_truth:  # measured data: no PSNR, the data residual instead
        from explorer import own_data

        own_data.first_screen(settings, results, base)
        return
    networks = [m for m in NETWORKS if m in results.main]
    if UNET not in networks or len(networks) < 2:
        reason = results.errors.get(UNET) or "show the U-Net and FIRENET (Reconstructions, above the pictures)."
        st.info(plain("The first screen compares the U-Net with FIRENET: " + reason, limit=400))
        return
    depth = settings.view.depth
    clean = {m: compute.metrics(results.clean[m].at_depth(depth), base.truth) for m in networks}
    active = variant is not None and variant.pending is None
    perturbed = None
    if active:
        perturbed = {m: compute.metrics(results.main[m].at_depth(depth), results.problems[m].truth)
                     for m in networks}
    phrase = _PHRASES.get(settings.perturbation.kind, "a perturbation of {budget:.1%} of ‖y‖")
    # The perturbation's largest pixel is in its picture's caption, not in the sentence:
    # the sentence and two rows of pictures must fit a 1280 x 720 projector.
    lead = claim_line() + " " if perturbed is not None else ""
    st.markdown(lead + headline(clean, perturbed, phrase, settings.perturbation.budget, None))
    top = st.columns(len(networks) + 1)
    # With measurement noise the first row's data are noisy, only not perturbed.
    row = "clean" if settings.perturbation.noise == 0 else "unperturbed"
    _picture(top[0], base.truth, "Ground truth", width=width)
    for column, method in zip(top[1:], networks):
        _picture(column, results.clean[method].at_depth(depth),
                 f"{_short(method)}, {row}: {clean[method]['psnr']:.1f} dB", width=width)
    if variant is None:
        st.caption("Choose a perturbation (Noise and perturbation, below) to see how "
                   "each network reacts.")
        return
    if not active:
        st.caption(f"Perturbed row: waiting for the {variant.pending} (below).")
        return
    bottom = st.columns(len(networks) + 1)
    display = np.abs(variant.display) if variant.display is not None else np.zeros_like(base.truth)
    top_value = float(display.max()) or 1.0
    # The kind of perturbation is in the sentence; the caption keeps the picture's scale
    # and the error maps' (two lines at this width).
    what = variant.title.split(" (")[0]
    _picture(bottom[0], display, f"{what}, max {top_value:.3g}; error maps white at {ERROR_SCALE:g}",
             (0.0, top_value), width=width)
    for column, method in zip(bottom[1:], networks):
        psnr = perturbed[method]["psnr"]
        error = results.main[method].at_depth(depth) - results.problems[method].truth
        _error_map(column, error, f"{_short(method)}, perturbed: {psnr:.1f} dB" if math.isfinite(psnr)
                   else f"{_short(method)}, perturbed", width=width)
