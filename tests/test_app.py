"""The Streamlit page, driven through ``streamlit.testing.v1.AppTest``.

Every run but the first uses a 128 x 128 image and a shallow FIRENET (2 restarts of 5
layers) set through the URL, so the whole file stays around a few minutes on two cores;
the caches of ``explorer.compute`` are shared by all tests of the process, so settings
that repeat cost nothing the second time.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from explorer import estimates
from explorer import specs as K
from explorer.state import memory
from explorer.presets import PRESETS
from explorer.text import WORD_JOINER
from tests.page_switch import open_page
from tests.test_zoomable_picture import zoomable_data
from solver.sampling import PATTERNS

#: Every test here drives the whole page (seconds to a minute each): the slow tier.
pytestmark = pytest.mark.slow

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 240
#: Small and fast: N = 128, 2 x 4 layers of fixed-schedule FIRENET, no perturbation (each
#: test sets its own).
SMALL = {"size": "128", "schedule": "fixed", "n": "2", "p": "4", "perturbation": "none"}


def small_app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({**SMALL, **query})
    return at


def metric_labels(at: AppTest) -> list[str]:
    return [m.label for m in at.metric]


def zoomable_titles(at: AppTest) -> list[str]:
    """The titles of the page's zoomable pictures, in order (read from their payloads)."""
    return [data["title"] for data in zoomable_data(at)]


def texts(elements) -> str:
    """What the elements show: user values and solver messages are escaped markdown
    (``explorer.text.plain``); the backslashes and word joiners are not seen."""
    return "\n".join(re.sub(r"\\(.)", r"\1", str(e.value)).replace(WORD_JOINER, "") for e in elements)


def assert_page_ok(at: AppTest) -> None:
    assert not at.exception, texts(at.exception)
    assert "PSNR" in metric_labels(at)


# --------------------------------------------------------------------------------------
# The default page
# --------------------------------------------------------------------------------------
def test_default_page_shows_each_networks_error_under_the_unets_worst_case():
    """The default page: a held-out ellipse image of the U-Net's kind, its training mask,
    and a 5 % perturbation found against the U-Net, given to every method. The numbers
    asserted are those the sweep measured (docs/sweep.md) with a
    margin: the U-Net and FIRENET run to convergence are about as accurate (47.5 and 47.6
    dB), FIRENET with the paper's 5 x 5 schedule 12 dB less; the perturbation multiplies
    the U-Net's error by 7.7 (47.5 -> 29.8 dB) and the paper's FIRENET's by 1.4 (35.3 ->
    32.4 dB), which ends 2.6 dB above the U-Net."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert_page_ok(at)
    ss = at.session_state
    assert (ss["size"], ss["transform"], ss["pattern"], ss["rate"]) == (256, "fourier", "multilevel", 0.25)
    assert (ss["image"], ss["image_seed"], ss["perturbation"], ss["budget"]) == (
        "random_ellipses", 800_000, "worst_unet", 0.05)
    captions = [caption for element in at.get("image") for caption in element.captions]

    def psnrs(row: str) -> dict[str, float]:  # "FIRENET 5x5 (paper), clean: 35.3 dB" -> {"paper": 35.3}
        return {("paper" if "paper" in c else c.split(",")[0]): float(c.split(": ")[1].split()[0])
                for c in captions if f", {row}: " in c}

    psnr, perturbed = psnrs("clean"), psnrs("perturbed")
    assert set(psnr) == set(perturbed) == {"U-Net", "paper", "FIRENET"}
    assert psnr["U-Net"] - psnr["paper"] >= 10 and abs(psnr["U-Net"] - psnr["FIRENET"]) < 1.5
    # Error growth g is a PSNR drop of 20 log10 g: U-Net >= 6x (15.6 dB), paper's <= 1.7x.
    assert psnr["U-Net"] - perturbed["U-Net"] >= 15.6
    assert psnr["paper"] - perturbed["paper"] <= 4.6
    assert perturbed["paper"] - perturbed["U-Net"] >= 1.5
    story = texts(at.markdown)
    assert "Unperturbed, " in story and "the relative errors are" in story
    assert "fall below FIRENET 5x5 (paper)" in story or "falls below FIRENET 5x5 (paper)" in story
    # The four downloads are offered; nothing in the URL for the default page.
    assert {b.key for b in at.download_button} == {"dl_png", "dl_npz", "dl_csv", "dl_json"}
    assert not {k: v for k, v in at.query_params.items() if k in K.SPECS}
    # A rerun with nothing changed keeps the page.
    at.run()
    assert_page_ok(at)


def test_firenet_streams_its_curve_while_running():
    """On the convergence page, FIRENET's curve is drawn after its first restart, before it
    finishes; the reconstruction page has no chart to stream into."""
    # Settings no other test uses, so FIRENET really runs here.
    at = open_page(small_app(mask_seed="12345", n="4", p="5"), "convergence")
    assert not at.exception, texts(at.exception)
    timings = memory(at.session_state).timings
    # The first restart was drawn before FIRENET (and the page) finished.
    assert 0 < timings["first_restart"] < timings["page"]
    # Live drawing off: no streaming.
    at = open_page(small_app(mask_seed="12346", n="4", p="5", live="0"), "convergence")
    assert not at.exception, texts(at.exception)
    assert "first_restart" not in memory(at.session_state).timings
    # The reconstruction page runs FIRENET without a chart.
    at = small_app(mask_seed="12347", n="4", p="5").run()
    assert_page_ok(at)
    assert "first_restart" not in memory(at.session_state).timings


@pytest.fixture
def runs(monkeypatch):
    """Counts the methods the page runs (``solver.trace.run`` calls)."""
    import solver.trace

    calls = []
    original = solver.trace.run

    def counted(net, y, **kwargs):
        calls.append(type(net).__name__)
        return original(net, y, **kwargs)

    monkeypatch.setattr(solver.trace, "run", counted)
    return calls


def test_view_change_needs_no_recomputation(runs):
    at = small_app(mask_seed="777").run()
    assert_page_ok(at)
    assert "FIRENET" in runs  # these settings were new: the methods ran
    before = [m.value for m in at.metric if m.label == "PSNR"]
    runs.clear()
    next(w for w in at.get("button_group") if w.key == "cmap").set_value("viridis").run()
    assert_page_ok(at)
    assert runs == []
    assert [m.value for m in at.metric if m.label == "PSNR"] == before


# --------------------------------------------------------------------------------------
# Every sampling pattern, perturbation and preset at a small size
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_every_pattern_runs(pattern):
    transform = "walsh" if pattern in ("uniform", "lines_equispaced") else "fourier"
    at = small_app(pattern=pattern, rate="0.3", transform=transform,
                   show="zero_filled,firenet").run()
    assert_page_ok(at)
    assert at.session_state["pattern"] == pattern
    rate = float([m.value for m in at.metric if m.label == "Achieved sampling rate"][0][:-1])
    assert abs(rate - 30.0) <= 0.5


@pytest.mark.parametrize("kind", ["none", "random", "detail", "more_samples"])
def test_direct_perturbations_run(kind):
    at = small_app(perturbation=kind, budget="0.1", show="zero_filled,firenet").run()
    assert_page_ok(at)
    if kind != "none":
        assert any(label.startswith("Output change") for label in metric_labels(at))
    # The truth's picture says when it holds the inserted detail the methods were given.
    assert zoomable_titles(at)[0] == ("Ground truth, with the inserted detail" if kind == "detail" else "Ground truth")


@pytest.mark.parametrize("kind", ["worst_unet", "worst_firenet", "transfer"])
def test_worst_case_searches_over_the_work_budget_wait_for_their_button(kind):
    # A budget of its own per case: searches are cached across the tests of a process.
    budget = {"worst_unet": "0.03", "worst_firenet": "0.04", "transfer": "0.06"}[kind]
    at = small_app(perturbation=kind, attack_steps="2", budget=budget, show="firenet,unet")
    memory(at.session_state).work_budget_seconds = 0.0
    at.run()
    assert not at.exception, texts(at.exception)
    # Nothing is searched until asked: the page shows the clean data and a button.
    assert not any(label.startswith("Output change") for label in metric_labels(at))
    assert "more than the 1 s the page starts by itself" in texts(at.info)
    at.button(key="run_attack").click().run()
    assert_page_ok(at)
    # Each network's numbers under its change picture ("change in FIRENET"), named above
    # them as under its reconstruction.
    assert [m.label for m in at.metric].count("Output change") == 2
    assert [str(m.value) for m in at.markdown].count("**FIRENET**") == 2
    assert zoomable_titles(at)[-2:] == ["change in FIRENET", "change in U-Net"]


def test_a_cheap_worst_case_search_runs_by_itself_and_fills_the_first_screen():
    at = small_app(perturbation="worst_unet", attack_steps="2", budget="0.02", show="firenet,unet").run()
    assert_page_ok(at)
    assert [m.label for m in at.metric].count("Output change") == 2
    story = texts(at.markdown)
    assert "With a perturbation chosen against the U-Net of 2.0% of ‖y‖" in story
    captions = [caption for element in at.get("image") for caption in element.captions]
    # The first screen's six pictures, then the zoomable ones: the reconstructions' (truth,
    # two networks, two error maps) and the perturbation's (itself and two changes).
    assert len(captions) == 6 and captions[0] == "Ground truth"
    assert captions[1].startswith("U-Net, clean: ") and captions[1].endswith(" dB")
    assert captions[4].startswith("U-Net, perturbed: ")
    assert captions[5].startswith("FIRENET, perturbed: ")
    titles = zoomable_titles(at)
    assert titles[:5] == ["Ground truth", "FIRENET", "U-Net", "|error| FIRENET", "|error| U-Net"]
    assert re.fullmatch(r"\|A\* e\| \(worst case vs the U-Net\), \S+ to \S+", titles[5]), titles[5]
    assert titles[6:] == ["change in FIRENET", "change in U-Net"]


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_runs(name):
    at = small_app().run()
    memory(at.session_state).preset_overrides = {"size": 128, "n": 2, "p": 5, "max_layers": 20, "attack_steps": 2,
                                                   "compare": False}
    at.button(key=f"preset_{name}").click().run()
    preset = PRESETS[name]
    assert memory(at.session_state).page == preset.page
    if preset.page == "convergence":  # its chart, then the reconstructions of the same settings
        assert not at.exception, texts(at.exception)
        assert any("Certified gap against seconds" in e.proto.spec for e in at.get("plotly_chart"))
        assert preset.label in texts(at.info)
        open_page(at, "reconstruction")
    assert_page_ok(at)
    for key, value in preset.values.items():
        if key in ("size", "n", "p"):
            continue
        expected = list(value) if isinstance(value, tuple) else value
        assert at.session_state[key] == expected, key
    assert preset.page == "convergence" or preset.label in texts(at.info)
    if "attack" in preset.request:
        assert any(label.startswith("Output change") for label in metric_labels(at))


def test_stability_curves_on_demand(monkeypatch):
    # A quiet server: the estimate is one number (a busy one states a range: test_estimates).
    monkeypatch.setattr(estimates, "busy_factor", lambda: 1.0)
    at = small_app(stability_steps="1", show="firenet").run()
    assert_page_ok(at)
    # Folded, the panel draws nothing (its chart would load the browser's chart library for
    # every visitor); opening it reruns the page.
    assert not [b for b in at.button if b.key == "run_stability"]
    at.session_state["stability_open"] = True  # what opening the panel sets
    at.run()
    assert "Compute the stability curves and the kernel bound (about" in at.button(key="run_stability").label
    at.button(key="run_stability").click().run()
    assert_page_ok(at)
    assert not memory(at.session_state).stability_request
    # Stored: the page shows the curves, each network's fitted line and the kernel bound.
    assert not [b for b in at.button if b.key == "run_stability"]
    tables = [t.value for t in at.table]
    slopes = next(t for t in tables if "slope b (cf. C₂)" in t.columns)
    assert set(slopes["network"]) == {"U-Net", "FIRENET, paper's 5 x 5", "FIRENET, paper's 5 x 10", "FIRENET"}
    assert (slopes["error, clean"].astype(float) > 0).all() and (slopes["error, largest ‖e‖"].astype(float) > 0).all()
    bounds = next(t for t in tables if "bound" in t.columns)
    assert set(bounds["network"]) == {"U-Net", "FIRENET, paper's 5 x 5", "FIRENET, paper's 5 x 10", "FIRENET"}
    # The bound is a lower bound of the difference quotient (triangle inequality; both
    # shown to 3 significant digits).
    quotient = bounds["‖f(Ax) − f(Ax′)‖ / ‖A(x − x′)‖"].astype(float)
    assert (bounds["bound"].astype(float) <= quotient * (1 + 1e-3) + 1e-6).all()
    at.run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "run_stability"]


def test_stability_curves_with_the_papers_image_search(monkeypatch):
    monkeypatch.setattr(estimates, "busy_factor", lambda: 1.0)  # a quiet server: one number
    at = small_app(show="firenet", stability_protocol="image")
    at.session_state["stability_open"] = True  # the panel opened
    at.run()
    assert_page_ok(at)
    assert "up to about" in at.button(key="run_stability").label
    at.button(key="run_stability").click().run()
    assert_page_ok(at)
    slopes = next(t.value for t in at.table if "slope b (cf. C₂)" in t.value.columns)
    assert len(slopes) == 4 and (slopes["error, largest ‖e‖"].astype(float) > 0).all()


def test_depth_slider_shows_earlier_layers(runs):
    at = small_app(n="3", p="4", show="firenet").run()
    full = [m.value for m in at.metric if m.label == "PSNR"][0]
    runs.clear()
    open_page(at, "convergence")  # the depth slider is beside the convergence chart
    assert runs == []  # the same FIRENET run as the reconstruction page's
    at.select_slider(key="depth").set_value(4).run()
    open_page(at, "reconstruction")
    assert_page_ok(at)
    assert runs == []  # the earlier layers were kept from the one run
    assert [m.value for m in at.metric if m.label == "PSNR"][0] != full


def test_the_sampling_chart_is_drawn_only_while_its_panel_is_open():
    # Folded, the mask chart would cost every visitor its bytes and its drawing unseen; the
    # panel's numbers are always there.
    at = small_app(show="zero_filled,firenet").run()
    assert_page_ok(at)
    assert "Achieved sampling rate" in metric_labels(at)
    assert "mask_fig" not in [chart.key for chart in at.get("plotly_chart")]
    at.session_state["sampling_open"] = True  # what opening the panel sets
    at.run()
    assert_page_ok(at)
    assert "mask_fig" in [chart.key for chart in at.get("plotly_chart")]


def test_no_reconstruction_shown_keeps_the_page():
    at = small_app(show="").run()
    assert not at.exception, texts(at.exception)
    assert "Choose at least one reconstruction" in texts(at.info)
    assert "Achieved sampling rate" in metric_labels(at)


def test_paper_and_adaptive_buttons_set_firenet_values(runs):
    at = open_page(small_app(schedule="adaptive", max_layers="40"), "convergence")
    at.button(key="btn_paper").click().run()
    assert not at.exception, texts(at.exception)
    ss = at.session_state
    assert (ss["schedule"], ss["n"], ss["p"], ss["C"], ss["output"]) == ("fixed", 5, 5, 1.0, "ergodic")
    at.button(key="btn_adaptive").click().run()
    assert not at.exception, texts(at.exception)
    assert (ss["schedule"], ss["max_layers"]) == ("adaptive", 300)
    open_page(at, "reconstruction")
    assert_page_ok(at)
    # The adaptive run's convergence curve: its own certified gap, no borrowed bound needed.
    assert "FIRENET" in runs


def test_data_consistent_toggle_builds_and_runs_that_firenet(monkeypatch):
    """The toggle reaches the solver: the page's FIRENET runs with
    AdaptiveRule(data_consistent=True), and its output fits the data to single precision
    (x + A^*(y - A x) has no residual); without it the rule is the default."""
    import solver.trace
    from solver.schedules import ADAPTIVE_RULE

    seen = []
    original = solver.trace.run

    def capture(net, y, **kwargs):
        if type(net).__name__ == "FIRENET":
            seen.append((net.rule, net, y))
        return original(net, y, **kwargs)

    monkeypatch.setattr(solver.trace, "run", capture)
    at = small_app(schedule="adaptive", max_layers="60", pattern="radial", show="firenet").run()
    assert_page_ok(at)
    assert seen and seen[-1][0] == ADAPTIVE_RULE
    open_page(at, "convergence")  # FIRENET's settings are beside its convergence chart
    assert at.toggle(key="consistent").value is False
    seen.clear()
    at.toggle(key="consistent").set_value(True).run()
    assert not at.exception, texts(at.exception)
    rule, net, y = seen[-1]
    assert rule.data_consistent is True
    with torch.no_grad():
        coeffs = net.solve(y)  # deterministic: the page's run again, in coefficients
    residual = torch.linalg.vector_norm(net.A.forward(coeffs) - y) / torch.linalg.vector_norm(y)
    assert float(residual) <= 1e-5


def test_convergence_panel_says_what_firenet_certified():
    """Under the convergence chart the adaptive FIRENET's own certificate at its last layer,
    and whether it met the target gap: stopped early at a loose target, all layers and
    "above the target" at one single precision cannot certify (its last layers in double)."""
    at = open_page(small_app(schedule="adaptive", max_layers="300", target_gap="0.01", show="firenet"),
                   "convergence")
    assert not at.exception, texts(at.exception)
    notes = [c.value for c in at.caption if "certified relative gap" in c.value]
    assert len(notes) == 1 and notes[0].startswith("FIRENET reached the target gap 1.0e-02 at layer ")
    stopped = int(notes[0].split("at layer ")[1].split(" ")[0].replace(",", ""))
    assert 10 <= stopped < 300
    gap = float(notes[0].rstrip(".").rsplit(": ", 1)[1])
    assert 0 < gap <= 0.01
    assert not [c.value for c in at.caption if c.value.startswith("Below ")]
    at.number_input(key="target_gap").set_value(1e-9).run()
    assert not at.exception, texts(at.exception)
    notes = [c.value for c in at.caption if "certified relative gap" in c.value]
    assert len(notes) == 1 and notes[0].startswith("FIRENET's own certified relative gap after 300 layers: ")
    assert "above the target 1.0e-09: more layers lower it; below 1e-04 its layers run in double precision" in notes[0]
    # ... and the control says so before the run: the target lies below what single precision certifies
    below = [c.value for c in at.caption if c.value.startswith("Below 1e-04: single precision cannot certify")]
    assert len(below) == 1


# --------------------------------------------------------------------------------------
# The URL holds the page
# --------------------------------------------------------------------------------------
def test_url_restores_settings():
    query = {**SMALL, "image": "ellipses_text", "image_seed": "4", "transform": "walsh",
             "pattern": "radial", "rate": "0.3", "noise": "0.01", "perturbation": "random",
             "budget": "0.03", "nu": "0.4", "C": "5", "weights": "uniform",
             "show": "zero_filled,firenet", "cmap": "viridis"}
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query)
    at.run()
    assert_page_ok(at)
    ss = at.session_state
    assert (ss["image"], ss["image_seed"], ss["size"]) == ("ellipses_text", 4, 128)
    assert (ss["transform"], ss["pattern"], ss["rate"]) == ("walsh", "radial", 0.3)
    assert (ss["noise"], ss["perturbation"], ss["budget"]) == (0.01, "random", 0.03)
    assert (ss["n"], ss["p"], ss["nu"], ss["C"]) == (2, 4, 0.4, 5.0)
    assert ss["weights"] == "uniform" and ss["cmap"] == "viridis"
    assert list(ss["show"]) == ["zero_filled", "firenet"]
    # The widgets show the restored values, and the URL still holds them.
    assert at.selectbox(key="pattern").value == "radial"
    assert at.slider(key="rate").value == 0.3
    for key, value in query.items():
        assert str(at.query_params.get(key)) == value, key


def test_url_follows_the_widgets():
    at = small_app().run()
    at.slider(key="rate").set_value(0.2).run()
    assert_page_ok(at)
    assert at.query_params["rate"] == "0.2"


def test_bad_url_values_are_noted_and_replaced():
    at = small_app(rate="abc", pattern="nonsense", n="-3", bogus="1").run()
    assert_page_ok(at)
    notes = texts(at.warning)
    assert "rate must be a number" in notes and "pattern must be one of" in notes
    assert "n must be in [1, 200]; got -3, 1 is used." in notes and "bogus" in notes
    assert at.session_state["rate"] == 0.25 and at.session_state["pattern"] == "multilevel"
    assert at.session_state["n"] == 1


def test_unreachable_rate_keeps_previous_sampling():
    at = small_app(pattern="lines_equispaced").run()
    assert_page_ok(at)
    # Whole lines cannot give 2% of a 128 x 128 grid with the default centre lines.
    at.number_input(key="pp_lines_equispaced_centre_lines").set_value(64)
    at.slider(key="rate").set_value(0.1).run()
    assert not at.exception
    assert "Sampling not possible" in texts(at.error)
    assert "PSNR" in metric_labels(at)


def test_too_many_wavelet_levels_are_reported_and_clamped():
    at = small_app(wavelet="db4", levels="9", show="firenet").run()
    assert_page_ok(at)
    assert "more than db4 allows" in texts(at.error)


# --------------------------------------------------------------------------------------
# Uploads: validated, converted with a warning, or refused with the page intact
# --------------------------------------------------------------------------------------
def png_bytes(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buffer, "PNG")
    return buffer.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def upload_page():
    """A page on "upload" with one valid image uploaded first."""
    at = small_app(image="upload", show="zero_filled,firenet").run()
    assert not at.exception
    assert "Upload a PNG" in texts(at.info)
    rng = np.random.default_rng(0)
    good = (rng.random((100, 100)) * 255).astype(np.uint8)
    open_page(at, "own_data")  # the uploaders are on the own-data page
    at.file_uploader(key="upload_file").upload("good.png", png_bytes(good), "image/png").run()
    assert "decoded 100 x 100, used at 128 x 128" in texts(at.caption)
    open_page(at, "reconstruction")  # the page uses what was accepted
    assert_page_ok(at)
    assert memory(at.session_state).user_upload[0] == "good.png"
    assert "resized from 100 x 100 to 128 x 128" in texts(at.warning)
    return at


BAD_UPLOADS = {
    "not_an_image": ("notes.png", b"this is not an image at all", "not a PNG, JPEG or NPY"),
    "empty": ("empty.png", b"", "empty"),
    "huge": ("huge.png", None, "more than the"),
    "nan": ("nan.npy", None, "NaN"),
    "3d": ("cube.npy", None, "2-D"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_is_refused_and_previous_image_kept(upload_page, case):
    at = upload_page
    name, data, message = BAD_UPLOADS[case]
    if case == "huge":
        data = png_bytes(np.zeros((8000, 8000), np.uint8))
    elif case == "nan":
        array = np.ones((64, 64))
        array[3, 5] = np.nan
        data = npy_bytes(array)
    elif case == "3d":
        data = npy_bytes(np.ones((4, 8, 8)))
    kept = memory(at.session_state).user_upload[0]
    open_page(at, "own_data")
    at.file_uploader(key="upload_file").clear()
    at.file_uploader(key="upload_file").upload(name, data, "application/octet-stream").run()
    assert not at.exception, texts(at.exception)
    errors = texts(at.error)
    assert "Upload rejected" in errors and message in errors
    assert memory(at.session_state).user_upload[0] == kept  # the previous image stays
    assert kept in texts(at.caption)  # and is shown as the one in use
    open_page(at, "reconstruction")
    assert_page_ok(at)


@pytest.mark.parametrize("case", ["rgba", "sixteen_bit"])
def test_converted_upload_warns(upload_page, case):
    at = upload_page
    if case == "rgba":
        rgba = np.zeros((128, 128, 4), np.uint8)
        rgba[..., 0] = np.arange(128, dtype=np.uint8)[None, :]
        rgba[..., 3] = 200
        data, expected = png_bytes(rgba, "RGBA"), "alpha channel"
    else:
        deep = (np.arange(128 * 128).reshape(128, 128) * 3).astype(np.uint16)
        data, expected = png_bytes(deep), "16-bit"
    open_page(at, "own_data")
    at.file_uploader(key="upload_file").clear()
    at.file_uploader(key="upload_file").upload(f"{case}.png", data, "image/png").run()
    assert expected in texts(at.caption)  # what was converted, where the file was checked
    open_page(at, "reconstruction")
    assert_page_ok(at)
    assert expected in texts(at.warning)
    assert memory(at.session_state).user_upload[0] == f"{case}.png"
    assert not memory(at.session_state).upload_error


# --------------------------------------------------------------------------------------
# What each preset's note promises is what the page shows
# --------------------------------------------------------------------------------------
#: Phrases of the presets' notes that name a setting, and the setting's value they give.
PROMISES = [
    (r"N = (\d+)", "size", int),
    (r"(\d+) restarts of (\d+) layers", ("n", "p"), int),
    (r"(?:sampling|sampled|DAS) at (\d+)%|trained at (\d+)%", "rate", lambda v: int(v) / 100),
    (r"noise ‖e‖ = ([\d.]+) ‖y‖", "noise", float),
    (r"(?<![\d.])(\d+)% of ‖y‖", "budget", lambda v: int(v) / 100),
    (r"gets (\d+)% more k-space", "budget", lambda v: int(v) / 100),
    (r"\((\d+) steps\)|(\d+) gradient steps", "attack_steps", int),
    (r"τ = σ = ([\d.]+)", ("tau", "sigma"), float),
    (r"λ = ([\d.e-]+)", "lam", float),
    (r"δ = ([\d.e-]+)", "delta", float),
    (r"threshold ([\d.]+)", "threshold", float),
    (r"Haar with (\d+) levels", "levels", int),
    (r"typed sparsities ([\d, ]+\d)", "sparsities", str),
]


def promises(text: str) -> list[tuple[str, object]]:
    """(setting, value) pairs a preset's note states."""
    found = []
    for pattern, keys, kind in PROMISES:
        for match in re.finditer(pattern, text):
            values = [kind(v) for v in match.groups() if v is not None]
            if isinstance(keys, tuple) and len(values) == 1:  # "tau = sigma = 0.6"
                values *= len(keys)
            names = keys if isinstance(keys, tuple) else (keys,) * len(values)
            found += list(zip(names, values))
    return found


def shown_value(at: AppTest, key: str):
    """The value the page's widget of ``key`` shows (``KeyError`` if the page has none)."""
    for kind in ("slider", "number_input", "selectbox", "text_input", "select_slider"):
        widgets = [w for w in at.get(kind) if getattr(w, "key", None) == key]
        if widgets:
            return widgets[0].value
    segmented = [w for w in at.get("button_group") if getattr(w, "key", None) == key]
    if segmented:
        return segmented[0].value
    raise KeyError(key)


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_note_promises_what_the_page_shows(name, monkeypatch):
    """Buttons the note names exist; every size, rate, noise, budget and parameter it
    states is the value of that setting's widget, on the page the preset opens or, for
    FIRENET's settings, on the convergence page; a note that names the Convergence page
    opens it. Nothing is computed: the run budget is zero, so every run waits for its
    button, and a search the preset asks for fails at once (the page reports it and goes
    on)."""
    import solver.attacks

    def no_search(*args, **kwargs):
        raise RuntimeError("no search in this test")

    monkeypatch.setattr(solver.attacks, "worst_case_perturbation", no_search)
    at = small_app(show="zero_filled")
    memory(at.session_state).run_budget_seconds = 0.0
    memory(at.session_state).work_budget_seconds = 0.0
    at.run()
    at.button(key=f"preset_{name}").click().run()
    assert not at.exception, texts(at.exception)
    note = PRESETS[name].description
    assert note in texts(at.info).replace("\n", " ") or PRESETS[name].label in texts(at.info)
    stated = promises(note)
    named = re.findall(r"press '([^']+)'", note)
    stability = "compute the stability curves" in note
    panel = "open the stability panel" in note
    assert stated or named or stability or panel, "the note states nothing checkable"
    opened = memory(at.session_state).page
    assert (opened == "convergence") == ("The Convergence page opens" in note)
    labels = [b.label for b in at.button]
    for button in named:
        assert button in labels, f"the note names a button {button!r} the page does not have"
    if stability:
        assert any(label.startswith("Compute the stability curves") for label in labels)
    if panel:
        assert any(e.label.startswith("Stability against perturbation size") for e in at.expander)
    elsewhere = []
    for key, value in stated:
        try:
            shown = shown_value(at, key)
        except KeyError:
            assert key in K.FIRENET_KEYS and opened != "convergence", f"no widget of {key} on the page"
            elsewhere.append((key, value))
            continue
        assert shown == (pytest.approx(value, rel=1e-6) if isinstance(value, float) else value), key
    if elsewhere:  # FIRENET's settings, beside its convergence chart
        open_page(at, "convergence")
        for key, value in elsewhere:
            shown = shown_value(at, key)
            assert shown == (pytest.approx(value, rel=1e-6) if isinstance(value, float) else value), key


def test_a_perturbed_page_offers_its_arrays_and_curves():
    at = small_app(perturbation="random", budget="0.05", show="zero_filled,firenet").run()
    assert_page_ok(at)
    buttons = {b.key: b for b in at.download_button}
    assert {"dl_png", "dl_npz", "dl_csv", "dl_json"} <= set(buttons)
    assert not buttons["dl_csv"].proto.disabled  # the convergence curves are there
