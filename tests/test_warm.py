"""Warming the presets before a talk (``explorer.warm``, ``explorer.talk``): what is
warmed is what the page then finds, without computing anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer import compute, talk, variants, warm
from explorer.charts import STABILITY_BUDGETS, stability_networks
from explorer.presets import PRESETS
from explorer.specs import METHOD_LABELS
from explorer.state import memory

APP = str(Path(__file__).resolve().parents[1] / "app.py")
#: A searched preset at a size that runs in seconds: the worst case, every method shown
#: clean and perturbed, and the stability curves.
SMALL = {"size": 128, "n": 2, "p": 4, "max_layers": 20, "attack_steps": 2, "stability_steps": 1}


@pytest.mark.slow
def test_a_warmed_preset_opens_from_the_caches(monkeypatch):
    lines: list[str] = []
    outcome = warm.warm_presets(["worst_case"], overrides=SMALL, report=lines.append)
    assert isinstance(outcome["worst_case"], float)
    label = PRESETS["worst_case"].label
    assert lines[0].startswith(f"warming preset 1/1: {label}: worst-case search against the U-Net (")
    assert any("reconstructions (" in line for line in lines)
    assert any(line.startswith(f"warming preset 1/1: {label}: stability curves") for line in lines)
    assert lines[-2].startswith(f"warming preset 1/1: {label}: done in ")

    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update({"size": "128", "schedule": "fixed", "n": "2", "p": "4", "perturbation": "none"})
    at.run()
    memory(at.session_state).preset_overrides = SMALL
    calls = _counting(monkeypatch)
    at.session_state["stability_open"] = True  # its folded panel opened: the curves are drawn
    at.button(key="preset_worst_case").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert calls == []  # nothing computed: every result came from the warm-up
    # Every method the preset shows, its perturbed output beside its clean one.
    assert [m.label for m in at.metric].count("Output change") == len(PRESETS["worst_case"].values["show"])
    assert not [b for b in at.button if b.key == "run_stability"]  # the curves are shown
    assert not [e for e in at.error]

    # On disk too: a new server (empty memory) finds the worst case and the curves.
    settings = warm.preset_settings("worst_case", SMALL)
    base = _base(settings)
    compute.store.clear()
    ps, fs = settings.perturbation, settings.firenet
    assert variants.attack("unet", base, fs, ps, run=False) is not None
    assert variants.stability(base, fs, stability_networks(settings), STABILITY_BUDGETS, ps.stability_steps,
                              run=False) is not None
    assert calls == []


def _counting(monkeypatch) -> list[str]:
    """Refuses the solver's long computations (reconstructions, worst-case searches,
    stability curves) and lists those asked for."""
    import solver.attacks
    import solver.stability
    import solver.trace

    calls: list[str] = []

    def refused(name):
        def call(*args, **kwargs):
            calls.append(name)
            raise RuntimeError(f"{name} was computed")
        return call

    monkeypatch.setattr(solver.trace, "run", refused("reconstruction"))
    monkeypatch.setattr(solver.attacks, "worst_case_perturbation", refused("worst-case search"))
    monkeypatch.setattr(solver.stability, "stability_curve", refused("stability curves"))
    return calls


def _base(settings):
    from explorer import sources

    image, ms, ps = settings.image, settings.measurement, settings.perturbation
    truth, _ = sources.test_image(image.name, image.size, image.seed)
    return compute.base_problem(image, truth, ms, ps.noise, ps.noise_seed)


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_settings_are_the_presets_values(name):
    settings = warm.preset_settings(name)
    values = PRESETS[name].values
    assert settings.image.name == values["image"]
    assert settings.image.size == values["size"]
    assert settings.measurement.pattern == values["pattern"]
    assert settings.measurement.rate == values["rate"]
    assert settings.perturbation.kind == values["perturbation"]
    assert settings.view.show == tuple(m for m in METHOD_LABELS if m in values["show"])
    if values.get("schedule") == "fixed":
        assert settings.firenet.depth == values["n"] * values["p"]


def test_the_default_page_is_warmed_first_with_the_defaults(monkeypatch):
    from explorer.settings import FirenetSettings, ImageSettings, PerturbationSettings

    default = warm.preset_settings(warm.DEFAULT_PAGE)
    assert (default.image, default.perturbation, default.firenet) == (
        ImageSettings(), PerturbationSettings(), FirenetSettings())
    assert warm.preset_settings(warm.DEFAULT_PAGE, {"size": 128}).image.size == 128
    warmed: list[str] = []
    monkeypatch.setattr(warm, "warm_preset", lambda name, overrides, report: warmed.append(name) or 1.0)
    lines: list[str] = []
    warm.warm_presets(report=lines.append)
    assert warmed == [warm.DEFAULT_PAGE, *PRESETS]
    assert lines[0] == "warming preset 1/11: the page without a preset: done in 1 s"


def test_preset_settings_refuse_unknown_names():
    with pytest.raises(ValueError, match="name must be default or one of"):
        warm.preset_settings("keynote")
    with pytest.raises(ValueError, match="overrides name no setting: sizes"):
        warm.preset_settings("noise", {"sizes": 64})
    with pytest.raises(ValueError, match=r"overrides: size must be among \(128, 256, 512\), not 64"):
        warm.preset_settings("noise", {"size": 64})


def test_long_steps_report_their_progress(monkeypatch):
    lines: list[str] = []

    def steps(name, overrides=None, progress=None, *, stability=True):
        def search():
            for fraction in (0.25, 0.5, 1.0):
                progress(fraction, f"step {int(fraction * 4)}/4")

        return [warm.Step("worst-case search against FIRENET", search)]

    monkeypatch.setattr(warm, "preset_steps", steps)
    monkeypatch.setattr(warm, "PROGRESS_SECONDS", 0.0)
    warm.warm_preset("own_worst_case", report=lines.append)
    assert lines[0].startswith("worst-case search against FIRENET (")
    assert [line.split(" (")[0] for line in lines[1:]] == [
        "worst-case search against FIRENET: 25%, step 1/4", "worst-case search against FIRENET: 50%, step 2/4",
        "worst-case search against FIRENET: 100%, step 4/4"]


def test_a_failing_preset_is_reported_and_the_others_go_on(monkeypatch):
    lines: list[str] = []

    def broken(name, overrides=None, progress=None, *, stability=True):
        raise ValueError("no mask for this size")

    monkeypatch.setattr(warm, "preset_steps", broken)
    outcome = warm.warm_presets(["noise", "detail"], report=lines.append)
    assert outcome == {"noise": "no mask for this size", "detail": "no mask for this size"}
    assert lines[0] == f"warming preset 1/2: {PRESETS['noise'].label}: failed: no mask for this size"
    assert lines[1].startswith("warming preset 2/2: ")
    assert lines[-1].startswith("warming done: 2 presets in ")


def test_the_talk_server_binds_to_this_computer_unless_asked():
    local = talk.server_arguments(8501, network=False)
    assert local[local.index("--server.address") + 1] == "127.0.0.1"
    assert local[local.index("--server.port") + 1] == "8501"
    assert local[local.index("--server.fileWatcherType") + 1] == "none"
    shared = talk.server_arguments(8600, network=True)
    assert shared[shared.index("--server.address") + 1] == "0.0.0.0"
    with pytest.raises(ValueError, match="port must be in 1..65535"):
        talk.server_arguments(70000, network=False)


def test_the_first_page_warms_its_search_and_reconstructions_not_its_stability_curves(monkeypatch):
    """What ``make app`` computes before the server starts: the default page's own steps,
    without the stability curves a visitor asks for (the real step list, not run)."""
    steps = warm.preset_steps(warm.DEFAULT_PAGE, stability=False)
    assert [s.what.split(" (")[0] for s in steps] == ["worst-case search against the U-Net", "reconstructions"]
    assert [s.what for s in warm.preset_steps(warm.DEFAULT_PAGE)][-1] == "stability curves"

    ran, lines = [], []
    monkeypatch.setattr(warm, "preset_steps", lambda name, overrides=None, progress=None, *, stability=True:
                        [warm.Step("reconstructions", lambda: ran.append((name, stability)))])
    warm.warm_first_page(report=lines.append)
    assert ran == [(warm.DEFAULT_PAGE, False)]
    assert lines[0].startswith("the first page: reconstructions (")
    assert lines[-1].startswith("the first page: ready in ")


def test_first_page_only_reports_a_failure_and_exits_cleanly(monkeypatch, capsys):
    """``make app`` goes on to start the server when the warm-up fails: the page computes
    what is missing."""
    def broken(report):
        raise RuntimeError("no weights")

    monkeypatch.setattr(warm, "warm_first_page", broken)
    monkeypatch.setattr(talk.process, "configure", lambda: None)  # the server's settings, not this process's
    assert talk.main(["--first-page-only"]) == 0
    assert "the first page: not warmed: no weights" in capsys.readouterr().out
