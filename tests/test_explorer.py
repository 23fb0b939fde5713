"""The explorer's pure parts: setting specs and URL round trip, figures, downloads, presets."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from explorer import figures
from explorer import state as S
from explorer.downloads import arrays_npz, png_zip, slug
from explorer.presets import PRESETS
from explorer.settings import Settings
from solver.sampling import PATTERNS

SPECS = S.all_specs(PATTERNS)


def test_every_default_passes_its_own_check():
    for key, spec in SPECS.items():
        spec.check(key, spec.default)


def test_every_pattern_parameter_has_a_setting():
    for name, pattern in PATTERNS.items():
        for param in pattern.params:
            spec = SPECS[S.pattern_key(name, param.name)]
            assert spec.default == param.default
            if param.choices:
                assert spec.options == tuple(param.choices)


def test_url_round_trip_restores_every_changed_setting():
    state = {key: S.widget_value(spec.default) for key, spec in SPECS.items()}
    changed = {"size": 512, "rate": 0.3, "pattern": "spiral", "show": ["unet", "cp"],
               "live": False, "lam": 1e-3, "nu": 0.4, "pp_spiral_arms": 4}
    state.update(changed)
    query = S.to_query(state, SPECS)
    assert set(query) == set(changed)
    values, errors = S.parse_query(query, SPECS)
    assert not errors
    assert {k: S.widget_value(v) for k, v in values.items()} == changed


@pytest.mark.parametrize(("name", "text", "message"), [
    ("rate", "abc", "rate must be a float"),
    ("rate", "1.5", "rate must be <= 1.0"),
    ("rate", "nan", "rate must be a float"),
    ("size", "100", "size must be one of 128, 256, 512"),
    ("n", "0", "n must be >= 1"),
    ("show", "zero_filled,magic", "show must be one of"),
    ("live", "maybe", "live must be a bool"),
])
def test_bad_url_values_are_rejected_naming_the_parameter(name, text, message):
    values, errors = S.parse_query({name: text}, SPECS)
    assert name not in values
    assert len(errors) == 1 and message in errors[0] and "default" in errors[0]


def test_unknown_url_parameter_is_reported():
    values, errors = S.parse_query({"colour": "red"}, SPECS)
    assert not values and "colour" in errors[0]


def test_presets_only_set_known_valid_settings():
    for name, preset in PRESETS.items():
        for key, value in preset.values.items():
            assert key in SPECS, (name, key)
            SPECS[key].check(key, value)


def test_settings_json_holds_every_group():
    data = json.loads(Settings().to_json())
    assert set(data) == {"image", "measurement", "perturbation", "firenet", "view"}
    assert data["image"]["size"] == 256 and data["measurement"]["pattern"] == "multilevel"


def test_image_panels_share_axes_and_colour_scales():
    truth = np.random.default_rng(0).random((32, 32))
    images = {"A": truth * 0.9, "B": truth + 0.01}
    fig = figures.reconstruction_figure(images, truth, cmap="viridis", error_max=0.1)
    layout = fig.layout
    # 2 rows x 3 columns; every panel's axes match the first one (linked zoom).
    for i in range(2, 7):
        assert layout[f"xaxis{i}"].matches == "x"
        assert layout[f"yaxis{i}"].matches == "y"
    assert layout.yaxis.autorange == "reversed"
    images_axis = [t.coloraxis for t in fig.data if not t.name.startswith("|error|")]
    errors_axis = [t.coloraxis for t in fig.data if t.name.startswith("|error|")]
    assert set(images_axis) == {"coloraxis"} and set(errors_axis) == {"coloraxis2"}
    assert layout.coloraxis2.cmax == 0.1
    # Colour stops are explicit rgb() strings, the first one black for inferno.
    assert layout.coloraxis2.colorscale[0][1] == "rgb(0, 0, 4)"
    err = next(t for t in fig.data if t.name == "|error| B")
    np.testing.assert_allclose(np.asarray(err.z), 0.01, rtol=1e-5)


def test_convergence_figure_is_log_scale_with_restarts_and_schedule():
    curves = {"FIRENET": {"layer": [1, 2, 3, 4], "error": [1, 0.5, 0.2, 0.1],
                          "gap": [10, 1, 0.1, 0.01]}}
    fig = figures.convergence_figure(curves, restart_layers=[2, 4], eps=[0.5, 0.05], depth=2)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"
    assert any(t.name == "FIRENET eps_k (schedule)" for t in fig.data)
    # Two restart lines and one depth line per panel.
    assert len(fig.layout.shapes) == 6


def test_stability_figure_is_log_log_with_diagonal():
    curves = {"U-Net, worst case": {"size": [0.01, 0.1], "change": [0.2, 2.0]}}
    fig = figures.stability_figure(curves)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert fig.data[-1].name == "change = perturbation"


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


def test_certified_gaps_use_the_best_dual_of_all_runs():
    from explorer.compute import GAP_FLOOR, certified

    curves = {
        "FIRENET": {"layer": [1, 2], "objective": [2.0, 1.0 + 1e-9], "dual": [0.0, 0.5]},
        "CP tuned": {"layer": [1, 2], "objective": [3.0, 1.5], "dual": [0.9, 1.0]},
    }
    out, bound = certified(curves)
    assert bound == 1.0
    assert out["FIRENET"]["gap"] == [1.0, GAP_FLOOR]  # the second is below the floor
    assert out["CP tuned"]["gap"] == [2.0, 0.5]
    # Alone, FIRENET certifies itself only with its own best dual.
    alone, bound = certified({"FIRENET": curves["FIRENET"]})
    assert bound == 0.5 and alone["FIRENET"]["gap"][0] == 3.0
