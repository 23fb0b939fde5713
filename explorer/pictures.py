"""The reconstructions row: each method's picture and error map under the display
options that change only how they are drawn, then each method's numbers.

Each row of pictures is an ``st.fragment`` with its option beside it (the colour map above
the reconstructions, the error maps' range in the empty cell under the truth): a change of
one redraws that row alone from the results of the last run, without rerunning the page
(and its cached solver calls) above and below, the other row, or the numbers under the
pictures, which no display option changes. Zooming and reading pixel values happen in the
browser (``explorer.zoomable_picture``) and rerun nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import streamlit as st

from explorer import compute, sharing, sources, timing, variants
from explorer.spec import Spec
from explorer.figures import ERROR_SCALE
from explorer.image_bytes import coloured_png
from explorer.picture_grid import ColourBar, Picture, picture_columns, picture_row
from explorer.outside import read_outside
from explorer.presentation import chart_text
from explorer.results import Results
from explorer.settings import Settings, ViewSettings
from explorer.specs import METHOD_LABELS
from explorer.text import plain
from explorer.widgets import widget
from solver.methods import METHODS, UNET
from solver.problem import Problem

__all__ = ["ZOOM_HINT", "reconstructions", "unet_card_warnings"]

#: How to zoom and read values, above the pictures that do.
ZOOM_HINT = ("Drag a box on a picture to zoom all of them; double-click to zoom out; "
             "hover a pixel for its value in each picture.")


def reconstructions(specs: Mapping[str, Spec], settings: Settings, results: Results, base: Problem,
                    variant: variants.Variant | None) -> dict[str, np.ndarray]:
    """The rows of pictures with their display options, then each method's numbers;
    returns the images shown."""
    view = settings.view
    shown = [m for m in view.show if m in results.main]
    for method in view.show:
        if method in results.errors:
            st.warning(plain(results.errors[method], limit=400))
    if not shown:
        st.info("Choose at least one reconstruction to show (above).")
        return {}
    if not base.has_truth:  # measured data: the row carries its own numbers
        _measured_row(specs, settings, results, base, shown)
        return {METHOD_LABELS[m]: results.main[m].at_depth(view.depth) for m in shown}
    st.caption(ZOOM_HINT)
    truth = results.problems[shown[0]].truth
    detail = variant is not None and variant.pending is None and settings.perturbation.kind == "detail"
    # A change of a row's option (a widget inside its fragment) reruns that row alone: the
    # arguments are those of the page's last run, the option is read again from its widget.
    with timing.section("reconstructions row"):
        _image_row(specs, settings, results, shown, truth,
                   "Ground truth, with the inserted detail" if detail else "Ground truth")
        _error_row(specs, settings, results, shown, truth)
    return _numbers(settings, results, base, variant, shown)


@st.fragment
def _measured_row(specs: Mapping[str, Spec], settings: Settings, results: Results, base: Problem,
                  shown: list[str]) -> None:
    """Measured data (no truth): the colour map, then each reconstruction with its data
    residual and certified gap."""
    from explorer import own_data

    with timing.section("reconstructions row: measured data"):
        widget("cmap", specs)
        sharing.write_url(specs)
        st.caption(ZOOM_HINT)
        own_data.reconstructions(replace(settings, view=_view(settings)), results, base, shown)


@st.fragment
def _image_row(specs: Mapping[str, Spec], settings: Settings, results: Results, shown: list[str],
               truth: np.ndarray, truth_title: str) -> None:
    """The colour map, then the truth (titled ``truth_title``) and the reconstructions on
    one colour scale."""
    with timing.section("reconstructions row: pictures"):
        widget("cmap", specs)
        sharing.write_url(specs)
        view = _view(settings)
        scale = (0.0, 1.0)
        picture_row([Picture(coloured_png(truth, scale, view.cmap), truth_title, truth),
                     *(Picture(coloured_png(image, scale, view.cmap), title, image)
                       for title, image in _images(results, shown, view.depth).items())],
                    [ColourBar(view.cmap, scale, "image")], chart_text(view.present), key="reconstruction_pictures")


@st.fragment
def _error_row(specs: Mapping[str, Spec], settings: Settings, results: Results, shown: list[str],
               truth: np.ndarray) -> None:
    """The error maps under the reconstructions, their range's slider in the empty cell
    under the truth."""
    with timing.section("reconstructions row: error maps"):
        images = _images(results, shown, settings.view.depth)
        cells = st.columns(picture_columns(len(images) + 1))
        widget("error_max", specs, container=cells[0])
        sharing.write_url(specs)
        view = _view(settings)
        errors = (0.0, view.error_max)
        maps = {title: np.abs(image - truth) for title, image in images.items()}
        picture_row([None, *(Picture(coloured_png(error, errors, ERROR_SCALE), f"|error| {title}", error)
                             for title, error in maps.items())],
                    [ColourBar(ERROR_SCALE, errors, "|error|")], chart_text(view.present), key="error_pictures",
                    columns=cells)


def _view(settings: Settings) -> ViewSettings:
    """The page's view settings with the display options as the widgets hold them now."""
    ss = st.session_state
    return replace(settings.view, cmap=ss["cmap"], error_max=float(ss["error_max"]))


def _images(results: Results, shown: list[str], depth: int) -> dict[str, np.ndarray]:
    return {METHOD_LABELS[m]: results.main[m].at_depth(depth) for m in shown}


def _numbers(settings: Settings, results: Results, base: Problem, variant: variants.Variant | None,
             shown: list[str]) -> dict[str, np.ndarray]:
    """Each method's PSNR, SSIM and relative error under its pictures (with their change
    from the clean data when perturbed) and the U-Net's warnings; returns the images."""
    view = settings.view
    perturbed = variant is not None and variant.pending is None
    truth = results.problems[shown[0]].truth
    depth = view.depth
    images = {METHOD_LABELS[m]: results.main[m].at_depth(depth) for m in shown}
    # One column per image panel, plus a narrow one where the colour bars are, so each
    # method's numbers sit under its images; aligned at the bottom, so that a method's name
    # on two lines ("FIRENET, paper's 5 x 5" at 1280 x 720) leaves the numbers in line.
    columns = st.columns(picture_columns(len(shown) + 1), vertical_alignment="bottom")
    for column, method in zip(columns[1:], shown):
        values = compute.metrics(images[METHOD_LABELS[method]], truth)
        delta = None
        if perturbed:
            clean = compute.metrics(results.clean[method].at_depth(depth), base.truth)
            delta = {k: values[k] - clean[k] for k in values}
        with column:
            st.markdown(f"**{METHOD_LABELS[method]}**")
            st.metric("PSNR", f"{values['psnr']:.2f} dB",
                      delta=None if delta is None else f"{delta['psnr']:+.2f} dB",
                      help="Peak signal-to-noise ratio against the ground truth (data range 1)."
                           + (" Delta: change caused by the perturbation." if delta else ""))
            st.metric("SSIM", f"{values['ssim']:.3f}",
                      delta=None if delta is None else f"{delta['ssim']:+.3f}")
            st.metric("Relative error", f"{values['relative_error']:.4f}",
                      delta=None if delta is None else f"{delta['relative_error']:+.4f}",
                      delta_color="inverse",
                      help="‖x − x_true‖ / ‖x_true‖")
    card, _ = compute.unet_status()
    if card is not None and any(METHODS[m].learned for m in shown):
        given = results.problems.get(UNET, base)
        ms = settings.measurement
        for warning in unet_card_warnings(card, ms.pattern, given.rate, given.size, ms.transform, given.mask):
            st.warning(warning)
    return {"Ground truth": truth, **images}


def unet_card_warnings(card: Any, pattern: str, rate: float, size: int, transform: str, mask: Any) -> list[str]:
    """The U-Net's warnings for this setting, as markdown that shows literally.

    The model card's text fields (its training pattern, operator, seed) are quoted in
    them: a card is a file from outside, so a field holding ``[text](address)`` or
    ``![x](address)`` must show as those characters, never as a link or an image the
    browser fetches. A card that trips the check gives one warning naming it.
    """
    from explorer.specs import all_specs
    from solver.networks import check_compatibility

    labels = {**all_specs(sources.pattern_registry())["pattern"].labels, "user": "an uploaded mask"}
    messages, refusal = read_outside("U-Net model card", None, lambda: check_compatibility(
        card, pattern, rate, size, transform, mask, labels=labels))
    return [plain(f"U-Net: {message}", limit=600) for message in (messages if refusal is None else [refusal])]
