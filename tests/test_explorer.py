"""The explorer's pure parts: setting specs and URL round trip, figures, downloads, presets."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from explorer import curve_figures, figures
from explorer import specs as K
from explorer.spec import parse_query, to_query, widget_value
from explorer.downloads import arrays_npz, png_zip, slug
from explorer.presets import PRESETS
from explorer.settings import Settings
from solver.sampling import PATTERNS

SPECS = K.all_specs(PATTERNS)


def test_every_default_passes_its_own_check():
    for key, spec in SPECS.items():
        spec.check(key, spec.default)


def test_every_pattern_parameter_has_a_setting():
    for name, pattern in PATTERNS.items():
        for param in pattern.params:
            spec = SPECS[K.pattern_key(name, param.name)]
            assert spec.default == param.default
            if param.choices:
                assert spec.options == tuple(param.choices)


def test_url_round_trip_restores_every_changed_setting():
    state = {key: widget_value(spec.default) for key, spec in SPECS.items()}
    changed = {"size": 512, "rate": 0.3, "pattern": "spiral", "show": ["unet", "cp"],
               "live": False, "lam": 1e-3, "nu": 0.4, "pp_spiral_arms": 4}
    state.update(changed)
    query = to_query(state, SPECS)
    assert set(query) == set(changed)
    values, errors = parse_query(query, SPECS)
    assert not errors
    assert {k: widget_value(v) for k, v in values.items()} == changed


@pytest.mark.parametrize(("name", "text", "message", "used"), [
    ("rate", "abc", "rate must be a number", 0.25),
    ("rate", "1.5", "rate must be in [0.02, 1]", 1.0),
    ("rate", "0.01", "rate must be in [0.02, 1]", 0.02),
    ("rate", "nan", "rate must be a number", 0.25),
    ("noise", "0.5", "noise must be in [0, 0.2]", 0.2),
    ("budget", "0.8", "budget must be in [0, 0.5]", 0.5),
    ("size", "100", "size must be one of 128, 256, 512", 256),
    ("n", "0", "n must be in [1, 200]", 1),
    ("n", "2.5", "n must be a whole number", SPECS["n"].default),
    ("show", "zero_filled,magic", "'magic' is not one of", ("zero_filled",)),
    ("live", "maybe", "live must be on or off", True),
])
def test_url_values_the_widget_cannot_show_are_clamped_or_replaced_with_a_note(name, text, message, used):
    values, notes = parse_query({name: text}, SPECS)
    assert values[name] == used
    assert len(notes) == 1 and message in notes[0], notes


def test_unknown_url_parameter_is_reported():
    values, notes = parse_query({"colour": "red"}, SPECS)
    assert not values and "colour" in notes[0]


def test_a_retired_url_parameter_is_ignored_with_its_reason():
    values, notes = parse_query({"values": "1", "cmap": "viridis"}, SPECS, {"values": "pictures zoom now."})
    assert values == {"cmap": "viridis"}
    assert notes == ["URL parameter 'values' is no longer needed: pictures zoom now."]
    assert "values" not in SPECS and set(K.RETIRED_KEYS).isdisjoint(SPECS)  # never both a setting and retired


#: Texts that no setting can take as they are (the widget could not show them).
HOSTILE = ["nan", "inf", "-inf", "1e308", "-1e308", "-1", "", "abc", "x" * 100_000,
           "\u00fc\U0001f642", "[link](https://example.org)", "0x10", "1,2,3"]


def _extremes(spec):
    values = list(HOSTILE)
    if spec.low is not None:
        values += [repr(spec.low), repr(spec.high), repr(spec.low - 1e-9 - abs(spec.low) * 1e-6),
                   repr(spec.high + 1e-9 + abs(spec.high) * 1e-6)]
    return values


def _literal(spec, text):
    default = spec.default
    if isinstance(default, bool):
        return {"1": True, "0": False, "true": True, "false": False}[text.lower()]
    if isinstance(default, (int, float)):
        return type(default)(float(text))
    if isinstance(default, tuple):
        return tuple(v for v in text.split(",") if v)
    return text


@pytest.mark.parametrize("key", sorted(SPECS))
def test_every_url_value_becomes_one_the_widget_accepts_with_a_note_when_changed(key):
    spec = SPECS[key]
    for text in _extremes(spec) + [["1", "2"]]:
        values, notes = parse_query({key: text}, SPECS)
        value = values[key]
        spec.check(key, value)  # the widget's range and options hold it
        if not notes:  # taken as it is: exactly what the text says
            assert _literal(spec, text[-1] if isinstance(text, list) else text) == value, (key, text)
        for note in notes:
            assert len(note) < 400, note  # a 100 kB value is not echoed in full
    assert parse_query({key: ["1", "2"]}, SPECS)[1][0].startswith(f"{key} was given 2 times")
def test_presets_only_set_known_valid_settings():
    for name, preset in PRESETS.items():
        for key, value in preset.values.items():
            assert key in SPECS, (name, key)
            SPECS[key].check(key, value)


def test_settings_json_holds_every_group():
    data = json.loads(Settings().to_json())
    assert set(data) == {"image", "measurement", "perturbation", "firenet", "view"}
    assert data["image"]["size"] == 256 and data["measurement"]["pattern"] == "multilevel"


def _picture_of(trace, kind: str = "png") -> Image.Image:
    import base64

    header, data = trace.source.split(",", 1)
    assert header == f"data:image/{kind};base64"
    return Image.open(io.BytesIO(base64.b64decode(data)))


def test_mask_figure_sends_the_mask_exactly_on_linked_axes():
    mask = np.random.default_rng(0).random((32, 32)) < 0.3
    kspace = np.random.default_rng(1).normal(size=(32, 32))
    fig = figures.mask_figure(mask, kspace, 0.3)
    layout = fig.layout
    assert layout.xaxis2.matches == "x" and layout.yaxis2.matches == "y"  # zoom one, zoom both
    assert layout.yaxis.autorange == "reversed" and layout.yaxis.scaleanchor == "x"
    # The mask travels exactly (lossless WebP, black and white); the k-space as lossy WebP.
    sampled = np.asarray(_picture_of(next(t for t in fig.data if t.name == "sampled"), "webp").convert("L"))
    assert len(np.unique(sampled)) == 2 and sampled.min() == 0  # black, and gray's top (254)
    np.testing.assert_array_equal(sampled == sampled.max(), mask)
    assert _picture_of(next(t for t in fig.data if t.name == "log10 |k|"), "webp").size == (32, 32)
    # The colour bar comes from a transparent heatmap on the k-space's range.
    bars = [t for t in fig.data if t.type == "heatmap"]
    assert len(bars) == 1 and bars[0].opacity == 0
    assert (layout.coloraxis.cmin, layout.coloraxis.cmax) == (kspace.min(), kspace.max())


def test_convergence_figure_is_log_scale_with_restarts_and_schedule():
    curves = {"FIRENET": {"layer": [1, 2, 3, 4], "error": [1, 0.5, 0.2, 0.1],
                          "gap": [10, 1, 0.1, 0.01], "own": [20, 2, 0.2, 0.02],
                          "seconds": [0.1, 0.2, 0.3, 0.4]},
              "Chambolle-Pock": {"layer": [1, 2], "error": [1, 0.9], "gap": [5, 4]}}
    fig = figures.convergence_figure(curves, restart_layers=[2, 4], eps=[0.5, 0.05], depth=2)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log" and fig.layout.yaxis3.type == "log"
    assert fig.layout.yaxis.title.text and fig.layout.yaxis2.title.text.startswith("(F(x) - L) / L")
    assert fig.layout.xaxis3.title.text == "seconds of computation"
    assert any(t.name == "FIRENET εₖ (schedule)" for t in fig.data)
    own = [t for t in fig.data if t.name == "FIRENET, its own certificate"]
    assert len(own) == 1 and own[0].line.dash == "dot" and list(own[0].y) == [20, 2, 0.2, 0.02]
    # Against seconds: the runs that carry their times, with their gaps.
    timed = [t for t in fig.data if t.xaxis == "x3"]
    assert len(timed) == 1 and list(timed[0].x) == [0.1, 0.2, 0.3, 0.4] and list(timed[0].y) == [10, 1, 0.1, 0.01]
    # Two restart lines and one depth line on each panel with layers across.
    assert len(fig.layout.shapes) == 6


def test_a_method_has_one_colour_in_every_convergence_panel():
    from solver.methods import METHODS

    assert all(curve_figures.method_colour(m.label) == m.colour for m in METHODS.values())
    assert len({m.colour for m in METHODS.values()}) == len(METHODS)
    curves = {name: {"layer": [1, 2], "error": [0.5, 0.4], "gap": [1.0, 0.1], "seconds": [0.1, 0.2]}
              for name in ("Chambolle-Pock, adaptive steps", "FIRENET", "Chambolle-Pock", "Some new run")}
    fig = figures.convergence_figure(curves)
    for name in curves:
        colours = {t.line.color for t in fig.data if t.legendgroup == name}
        assert len(colours) == 1 and None not in colours, name
    assert {t.line.color for t in fig.data if t.legendgroup == "Chambolle-Pock, adaptive steps"} == {"#17becf"}


def test_log_axes_label_whole_values_not_lone_digits():
    # Within a decade: 1-2-5 values labelled in full (plotly alone labels "2 ... 9"), or
    # every digit's where fewer than two 1-2-5 values lie inside.
    assert curve_figures.log_axis([0.012, 0.021, 0.035]) == {
        "type": "log", "exponentformat": "power", "tickvals": [0.02, 0.03], "ticktext": ["0.02", "0.03"]}
    assert curve_figures.log_axis([0.011, 0.05])["ticktext"] == ["0.02", "0.05"]
    assert curve_figures.log_axis([0.03, 0.09])["ticktext"] == ["0.03", "0.04", "0.05", "0.06", "0.07", "0.08", "0.09"]
    # Over one or two powers of ten: the 1-2-5 values (the curve is labelled where it ends).
    assert curve_figures.log_axis([0.035, 1.0])["ticktext"] == ["0.05", "0.1", "0.2", "0.5", "1"]
    assert curve_figures.log_axis([2e-5, 1e-3])["tickvals"] == [2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3]
    assert curve_figures.log_axis([2e-5, 1e-3])["ticktext"][:3] == [
        "2×10<sup>-5</sup>", "5×10<sup>-5</sup>", "10<sup>-4</sup>"]
    # Over three powers of ten or more: powers of ten only, minor ticks unlabelled.
    assert curve_figures.log_axis([0.005, 1.0])["dtick"] == 1
    wide = curve_figures.log_axis([1e-6, 0.3])
    assert wide["dtick"] == 1 and wide["minor"]["dtick"] == "D1" and "tickvals" not in wide
    assert curve_figures.log_axis([0.0, float("nan")]) == {"type": "log", "exponentformat": "power"}
    fig = figures.convergence_figure({"FIRENET": {"layer": [1, 2, 3], "error": [0.09, 0.05, 0.04],
                                                  "gap": [1.0, 1e-2, 1e-4]}})
    assert list(fig.layout.yaxis.ticktext) == ["0.04", "0.05", "0.06", "0.07", "0.08", "0.09"]
    assert fig.layout.yaxis2.dtick == 1


def test_measured_data_draw_no_empty_error_panel():
    nan = float("nan")
    curves = {"FIRENET": {"layer": [1, 2, 3], "error": [nan, nan, nan], "gap": [1.0, 0.1, 0.01],
                          "seconds": [0.1, 0.2, 0.3]}}
    fig = figures.convergence_figure(curves, restart_layers=[2], eps=[0.5, 0.05], depth=2)
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["Certified gap (≥ (F − F*) / F*) against layers", "Certified gap against seconds"]
    assert fig.layout.yaxis.title.text == "(F(x) - L) / L" and fig.layout.xaxis2.title.text == "seconds of computation"
    assert {t.xaxis for t in fig.data} == {"x", "x2"}
    assert len(fig.layout.shapes) == 2  # one restart line and the depth line, on the layer panel


def test_stability_figure_plots_the_error_to_the_truth_from_the_clean_error():
    curves = {"U-Net, worst case": {"size": [0.01, 0.1], "change": [0.2, 2.0], "norm": [0.5, 5.0],
                                    "error": [1.5, 9.0], "clean_error": 1.0}}
    fig = figures.stability_figure(curves)
    assert list(fig.data[0].x) == [0.0, 0.5, 5.0] and list(fig.data[0].y) == [1.0, 1.5, 9.0]
    assert fig.layout.xaxis.type != "log" and "error to the truth" in fig.layout.yaxis.title.text
    # No truth: the output change, log-log, and no diagonal called "stable".
    fig = figures.stability_figure({"U-Net, worst case": {"size": [0.01, 0.1], "change": [0.2, 2.0]}})
    assert fig.layout.xaxis.type == "log" and len(fig.data) == 1


def test_downloads_build_valid_files():
    images = {"Ground truth": np.linspace(0, 1, 64).reshape(8, 8), "U-Net then FIRENET": np.zeros((8, 8))}
    with zipfile.ZipFile(io.BytesIO(png_zip(images)())) as archive:
        assert sorted(archive.namelist()) == ["ground_truth.png", "u_net_then_firenet.png"]
        png = Image.open(io.BytesIO(archive.read("ground_truth.png")))
        assert png.size == (8, 8) and png.mode == "L"
        assert np.asarray(png)[-1, -1] == 255
    arrays = np.load(io.BytesIO(arrays_npz({**images, "mask": np.ones((8, 8), bool)})()))
    assert set(arrays.files) == {"ground_truth", "u_net_then_firenet", "mask"}
    np.testing.assert_array_equal(arrays["ground_truth"], images["Ground truth"])
    assert slug("|error| FIRENET") == "error_firenet"


def test_the_first_screen_sentence_says_what_the_numbers_show():
    from explorer.story import headline

    clean = {"unet": {"psnr": 47.5, "relative_error": 0.019}, "firenet_paper": {"psnr": 35.3, "relative_error": 0.078},
             "firenet": {"psnr": 47.6, "relative_error": 0.019}}
    hit = {"unet": {"psnr": 30.2, "relative_error": 0.1406}, "firenet_paper": {"psnr": 32.4, "relative_error": 0.1092},
           "firenet": {"psnr": 31.5, "relative_error": 0.1216}}
    text = headline(clean, hit, "a perturbation chosen against the U-Net of {budget:.1%} of ||y||", 0.05, 0.119)
    # 0.1 dB apart: no winner is named; 12 dB apart: it is.
    assert text.startswith("Unperturbed, **FIRENET** and **the U-Net** are about as accurate")
    # The errors themselves, not their ratio to the clean error (which favours the larger one).
    assert "the relative errors are **0.141** for the U-Net" in text
    assert "**0.109** for FIRENET 5x5 (paper)" in text and "**x" not in text
    assert "(largest pixel change of A*e: 0.119)" in text
    assert text.endswith("FIRENET and the U-Net fall below FIRENET 5x5 (paper), at least 12.2 dB behind them "
                         "unperturbed.")
    # No reversal, no such sentence; a clear winner is named.
    milder = {m: {"psnr": v["psnr"] - 2, "relative_error": v["relative_error"] * 1.3} for m, v in clean.items()}
    clean["unet"]["psnr"] = 49.0
    text = headline(clean, milder, "a random perturbation of {budget:.1%} of ||y||", 0.01, None)
    assert text.startswith("Unperturbed, **the U-Net** is the most accurate: **49.0 dB**")
    assert "unperturbed." not in text and "largest pixel change" not in text
    assert headline(clean, None, "", 0.0, None).endswith("35.3 dB).")


def test_the_first_screen_sentence_names_each_perturbation_with_its_size():
    from explorer.story import _PHRASES, headline

    clean = {"unet": {"psnr": 30.0, "relative_error": 0.06}, "firenet": {"psnr": 28.0, "relative_error": 0.09}}
    better = {"unet": {"psnr": 31.0, "relative_error": 0.05}, "firenet": {"psnr": 38.0, "relative_error": 0.03}}
    text = headline(clean, better, _PHRASES["more_samples"], 0.15, None)
    assert " With 15.0% more of k-space sampled, the relative errors are **0.050** for the U-Net and " \
           "**0.030** for FIRENET." in text
    mixed = {"unet": {"psnr": 29.0, "relative_error": 0.07}, "firenet": better["firenet"]}
    text = headline(clean, mixed, _PHRASES["detail"], 0.1, None)
    assert " With a text detail of contrast 0.100 inserted, the relative errors are **0.070** for the U-Net" in text
    for kind in ("random", "worst_unet", "worst_firenet", "transfer"):
        assert _PHRASES[kind].format(budget=0.02).endswith(" of 2.0% of ‖y‖")


@pytest.mark.slow
def test_live_convergence_redraws_are_bounded_on_a_slow_server(monkeypatch):
    """Each live redraw sends the whole chart, so their number sets the page's payload.
    With a clock that advances a second per reading (a busy server), the time throttle
    alone would redraw at every one of the 15 recorded depths; the cap keeps it to the
    first, the last and at most LIVE_REDRAWS between them."""
    import types

    import torch

    from explorer import runs
    from solver.firenet import FIRENET
    from solver.operators import SubsampledFourier, WaveletMeasurement
    from solver.phantoms import shepp_logan
    from solver.sampling import make_mask
    from solver.trace import run
    from solver.wavelets import Wavelet2D

    ticks = iter(range(1_000_000))
    monkeypatch.setattr(runs, "time", types.SimpleNamespace(perf_counter=lambda: float(next(ticks))))
    monkeypatch.setattr(runs.timing, "mark", lambda name: None)

    class Slot:
        def __init__(self):
            self.keys = []

        def plotly_chart(self, fig, key, config):
            self.keys.append(key)

    settings, slot = Settings(), Slot()
    fs = settings.firenet
    truth = torch.as_tensor(shepp_logan(32), dtype=torch.float64)
    A = WaveletMeasurement(SubsampledFourier(make_mask("multilevel", 32, 0.25, seed=0)), Wavelet2D("haar", None, 32))
    y = A.sampling.forward(truth).to(torch.complex64)
    net = FIRENET(A, schedule="adaptive", max_layers=fs.depth)
    trace = run(net, y, reference=truth.numpy(), snapshots=fs.stops,
                on_progress=runs._live_drawer(slot, settings, "t"))
    drawn = [int(key.rsplit("_", 1)[1]) for key in slot.keys]
    assert len(fs.stops) == 15 and trace.layer[-1] == fs.depth
    assert drawn[0] == fs.stops[0] and drawn[-1] == fs.depth
    assert 3 <= len(drawn) <= runs.LIVE_REDRAWS + 2, drawn


def test_certificate_note_says_whether_the_target_was_met():
    from explorer.charts import certificate_note

    own, layers = [1e-2, 1e-3, 4e-4], [100, 200, 300]
    assert certificate_note(own, layers, max_layers=300, target_gap=0.0) == (
        "FIRENET's own certified relative gap after 300 layers: 4.0e-04.")
    # Stopped before its depth limit: the target was reached there.
    assert certificate_note(own, [10, 20, 180], max_layers=300, target_gap=1e-3) == (
        "FIRENET reached the target gap 1.0e-03 at layer 180 and stopped there; "
        "its own certified relative gap: 4.0e-04.")
    # Reached only at the last layer (the final polish can do that) ...
    assert certificate_note(own, layers, max_layers=300, target_gap=5e-4).endswith(", within the target 5.0e-04.")
    # ... or not at all: say so, and where a small target cannot show in single precision.
    missed = certificate_note(own, [100, 200, 2000], max_layers=2000, target_gap=1e-6)
    assert missed.startswith("FIRENET's own certified relative gap after 2,000 layers: 4.0e-04, above the "
                             "target 1.0e-06: more layers lower it; below 1e-04 its layers run in double precision")
    assert "10 % radial masks (About)." in missed
    assert "double precision" not in certificate_note(own, layers, max_layers=300, target_gap=2e-4)
    # Nothing certified yet (no positive dual value): no line.
    assert certificate_note([float("nan")], [10], max_layers=300, target_gap=0.0) == ""
    assert certificate_note([], [], max_layers=300, target_gap=0.0) == ""


def test_target_note_flags_targets_below_the_single_precision_floor():
    from explorer.charts import target_note
    from solver.objective import SINGLE_PRECISION_FLOOR

    assert target_note(0.0) == "" and target_note(SINGLE_PRECISION_FLOOR) == "" and target_note(1e-3) == ""
    note = target_note(SINGLE_PRECISION_FLOOR / 10)
    assert note.startswith(f"Below {SINGLE_PRECISION_FLOOR:.0e}: single precision cannot certify this gap")
    assert "continues in double precision" in note


def test_the_stability_caption_says_where_the_points_sit():
    from explorer.panels import stability_caption

    before = stability_caption(("unet", "firenet"), 3, "measurements", None)
    assert "Error to the truth $\\|f(y + e) - x\\|$ against $\\|e\\|$ for U-Net, FIRENET" in before
    assert "$\\|e\\| / \\|y\\|$ up to the budgets 0.01, 0.02, 0.05 (gradient ascent, 3 steps per size" in before
    assert "reached" not in before and "stable" not in before.replace("stability", "")
    assert "||" not in before and "C1 sigma" not in before  # the maths is LaTeX, drawn by the caption
    curves = {"U-Net, worst case": {"size": [0.01, 0.02, 0.035], "change": [0.1, 0.2, 0.3]},
              "FIRENET, worst case": {"size": [0.0098, 0.021, 0.021], "change": [0.01, 0.02, 0.02]}}
    after = stability_caption(("unet", "firenet"), 3, "measurements", curves)
    assert "the sizes $\\|e\\| / \\|y\\|$ reached here run from 0.010 to 0.035." in after


def test_the_npz_carries_the_data_the_perturbation_and_the_clean_reconstructions():
    from explorer.downloads import result_arrays
    from solver.problem import make_problem, with_more_samples, with_random_perturbation
    from solver.sampling import make_mask

    truth = np.linspace(0, 1, 1024).reshape(32, 32)
    mask = make_mask("uniform", 32, 0.3, seed=0)
    base = make_problem(truth, mask, noise=0.0, dtype=torch.complex64)
    perturbed, e = with_random_perturbation(base, 0.05, seed=3)
    shown = {"Ground truth": truth, "FIRENET": truth * 0.9}
    arrays = np.load(io.BytesIO(arrays_npz(result_arrays(
        shown, base, perturbed, np.abs(truth), {"FIRENET": truth * 0.8}))()))
    assert set(arrays.files) == {"ground_truth", "firenet", "mask", "data_y", "data_y_perturbed", "perturbation_e",
                                 "perturbation_image", "firenet_clean"}
    np.testing.assert_array_equal(arrays["data_y"], base.y.numpy())
    np.testing.assert_allclose(arrays["perturbation_e"], e.numpy(), atol=1e-6)  # (y + e) - y in float32
    assert np.linalg.norm(arrays["perturbation_e"]) == pytest.approx(0.05 * np.linalg.norm(arrays["data_y"]), rel=1e-4)
    np.testing.assert_array_equal(arrays["firenet_clean"], truth * 0.8)
    # More samples: no e (other data), the new mask instead.
    more = with_more_samples(base, 0.2, pattern="uniform", seed=1)
    extra = result_arrays(shown, base, more)
    assert "perturbation e" not in extra and extra["mask perturbed"].sum() > mask.sum()
    assert set(result_arrays(shown, base)) == {"Ground truth", "FIRENET", "mask", "data y"}


def test_the_curves_download_as_csv():
    import csv

    from explorer.downloads import CURVE_COLUMNS, curves_csv

    nan = float("nan")
    convergence = {"FIRENET": {"layer": [5, 10], "error": [0.2, 0.1], "gap": [1.0, 0.01], "own": [nan, 0.02],
                               "seconds": [0.5, 1.0]},
                   "Chambolle-Pock": {"layer": [5], "error": [0.3], "gap": [2.0]}}
    stability = {"U-Net, worst case": {"size": [0.01, 0.021], "change": [0.3, 0.5]}}
    rows = list(csv.DictReader(io.StringIO(curves_csv(convergence, stability)().decode())))
    assert tuple(rows[0]) == CURVE_COLUMNS and len(rows) == 5
    assert rows[0] == {"chart": "convergence", "curve": "FIRENET", "layer": "5", "seconds": "0.5",
                       "relative_error": "0.2", "certified_gap": "1.0", "own_certificate": "",
                       "perturbation_size": "", "output_change": ""}
    assert rows[2]["curve"] == "Chambolle-Pock" and rows[2]["seconds"] == "" and rows[2]["certified_gap"] == "2.0"
    assert [(r["perturbation_size"], r["output_change"]) for r in rows[3:]] == [("0.01", "0.3"), ("0.021", "0.5")]
    assert curves_csv({}, None)().decode() == ",".join(CURVE_COLUMNS) + "\n"


def test_presentation_text_is_projector_sized_and_titles_wrap_to_their_panels():
    from explorer.chart_style import NARROWEST_CHART, wrap
    from explorer.presentation import PROJECTOR_TEXT

    fig = figures.mask_figure(np.ones((8, 8), bool), np.zeros((8, 8)), 0.25, "walsh", text_size=PROJECTOR_TEXT)
    assert fig.layout.font.size == PROJECTOR_TEXT
    assert {a.font.size for a in fig.layout.annotations} == {PROJECTOR_TEXT}
    # Each line of a subplot title fits its panel at the narrowest chart (0.56 em a character).
    panel = NARROWEST_CHART * 0.7 / 2
    lines = [line for a in fig.layout.annotations for line in a.text.split("<br>")]
    assert len(lines) >= 2
    assert all(len(line) * 0.56 * PROJECTOR_TEXT <= panel or " " not in line for line in lines), lines
    # A title longer than its panel is broken into lines that each fit it.
    long = wrap("log10 |Walsh coefficients| in sequency order, centred", width=panel, text_size=PROJECTOR_TEXT)
    assert long.count("<br>") >= 1
    assert all(len(line) * 0.56 * PROJECTOR_TEXT <= panel for line in long.split("<br>")), long
    # The top margin holds the tallest title.
    assert fig.layout.margin.t >= max(a.text.count("<br>") + 1 for a in fig.layout.annotations) * PROJECTOR_TEXT
