"""The headless experiments on a two-worker LocalCluster: table schema, resume, recorded
failures, reproducible numbers, and the exported figures.

The small presets are shrunk further here with overrides (one image, N = 32..128 where
the U-Net is not needed, few attack steps), so the whole module stays well under a minute
and a half on two shared cores; ``python -m solver.reproduce EXPERIMENT --preset small``
runs the presets as they are.
"""

from __future__ import annotations

import os
import socket

import numpy as np
import pandas as pd
import pytest
import torch

from solver.reproduce import build_figures, experiments, load, table
from solver.reproduce.results import FIRST_COLUMNS, save
from solver.reproduce.runner import (
    code_version,
    local_client,
    run_tasks,
    task_key,
    task_path,
)
from solver.reproduce.sweep import run_experiment

# Columns whose values depend on the machine and the moment, not on the settings.
TIMING = ("seconds", "cpu_seconds", "worker")


@pytest.fixture(scope="module")
def client():
    with local_client(workers=2, threads=1) as dask:
        yield dask


def _values(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in TIMING if c in frame.columns]).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# planning and keys (no cluster)
# --------------------------------------------------------------------------------------
def test_task_key_is_the_same_for_the_same_settings_and_changes_with_any_of_them():
    settings = experiments.plan("convergence", "small")[0]
    reordered = dict(reversed(list(settings.items())))
    assert task_key(settings, "v1") == task_key(reordered, "v1")
    assert task_key(settings, "v1") != task_key(settings, "v2")
    assert task_key(settings, "v1") != task_key({**settings, "noise_seed": 1}, "v1")


def test_plan_resolves_each_method_parameter_and_sweeps_the_grid():
    from solver.firenet import PAPER_DEFAULTS
    from solver.legacy import fixed_schedule

    tasks = experiments.plan("convergence", "small")
    grid = experiments.PRESETS["convergence"]["small"]
    assert len(tasks) == grid["images"] * len(grid["method"])
    firenet = next(t for t in tasks if t["method"] == "firenet")
    expected = fixed_schedule(64)
    assert (firenet["restarts"], firenet["layers"], firenet["sharpness"]) == (
        expected["restarts"], expected["layers"], expected["sharpness"])
    paper = next(t for t in tasks if t["method"] == "firenet_paper")
    assert (paper["restarts"], paper["layers"], paper["output"]) == (16, 5, PAPER_DEFAULTS["output"])
    assert {t["image_seed"] for t in tasks} == {800000, 800001}  # held-out test seeds
    robust = experiments.plan("robustness", "full")
    assert len(robust) == 200 * 5 * 2 * 3
    assert all(t["unet_sha256"] for t in robust if t["method"] == "unet")


def test_plan_names_a_bad_override():
    with pytest.raises(ValueError, match="overrides key"):
        experiments.plan("detail", "small", overrides={"budget": 0.1})
    with pytest.raises(ValueError, match="preset"):
        experiments.plan("detail", "huge")


# --------------------------------------------------------------------------------------
# convergence end to end: schema, figures, resume, identical rerun
# --------------------------------------------------------------------------------------
CONVERGENCE = {"size": 32, "method": ["firenet_paper", "cp"], "iterations": 60}


@pytest.fixture(scope="module")
def convergence(client, tmp_path_factory):
    out = tmp_path_factory.mktemp("convergence")
    return out, run_experiment("convergence", "small", out, images=1, overrides=CONVERGENCE, client=client,
                               progress=False)


def test_results_file_has_one_row_per_task_with_every_setting_and_the_code_version(convergence):
    out, _ = convergence
    frame = load(out / "results.parquet")
    tasks = experiments.plan("convergence", "small", images=1, overrides=CONVERGENCE)
    assert len(frame) == len(tasks) == 2
    assert list(frame.columns[:len(FIRST_COLUMNS)]) == list(FIRST_COLUMNS)
    assert set(tasks[0]) <= set(frame.columns)
    assert (frame["status"] == "ok").all() and frame["error_message"].isna().all()
    assert (frame["code_version"] == code_version()).all()
    for _, row in frame.iterrows():
        # the depth the network ran is the one its settings ask for
        depth = row["iterations"] if row["method"] == "cp" else row["restarts"] * row["layers"]
        assert row["depth"] == depth == row["curve_layer"][-1]
        assert len(row["curve_error"]) == len(row["curve_layer"]) == len(row["curve_objective"])
        assert row["curve_error"][-1] == pytest.approx(row["error"], rel=1e-5)
    as_csv = load(save(frame, out / "results.csv"))  # the CSV form keeps the curves too
    assert as_csv["curve_error"].tolist() == frame["curve_error"].tolist()
    summary = table(frame)
    gaps = summary["certified gap mean"]
    assert (gaps >= 1e-12).all() and (gaps < 10).all()  # an upper bound on a relative gap (GAP_FLOOR)


def test_figures_are_written_as_png_and_svg_and_the_summary_links_them(convergence):
    out, output = convergence
    assert not output.notes, output.notes
    names = sorted(p.name for p in output.figure_paths)
    assert names == ["convergence.png", "convergence.svg"]
    png = (out / "figures" / "convergence.png").read_bytes()
    svg = (out / "figures" / "convergence.svg").read_text()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert "<svg" in svg and "FIRENET" in svg
    summary = (out / "summary.md").read_text()
    assert "figures/convergence.png" in summary and "| method |" in summary


def test_resume_computes_only_the_tasks_whose_files_are_missing(convergence, client):
    out, output = convergence
    first = output.report.records
    task_path(out, first[0]["key"]).unlink()  # as if the sweep had stopped before it
    again = run_experiment("convergence", "small", out, images=1, overrides=CONVERGENCE, client=client,
                           progress=False, figures=False)
    assert (again.report.computed, again.report.reused) == (1, 1)
    pd.testing.assert_frame_equal(_values(again.frame), _values(output.frame))


def test_a_rerun_from_scratch_gives_identical_numbers(convergence, client, tmp_path):
    _, output = convergence
    fresh = run_experiment("convergence", "small", tmp_path, images=1, overrides=CONVERGENCE, client=client,
                           progress=False, figures=False)
    assert fresh.report.computed == 2
    pd.testing.assert_frame_equal(_values(fresh.frame), _values(output.frame))


# --------------------------------------------------------------------------------------
# a failing task
# --------------------------------------------------------------------------------------
def test_a_task_that_raises_is_recorded_with_its_error_and_the_sweep_goes_on(client, tmp_path):
    good, bad = experiments.plan("convergence", "small", images=1, overrides={**CONVERGENCE, "method": "cp",
                                                                              "lam": [2.5e-4, -1.0]})
    report = run_tasks([good, bad], tmp_path, client=client, progress=False)
    assert (report.computed, report.failed) == (2, 1)
    ok, failed = report.records
    assert ok["status"] == "ok" and failed["status"] == "error"
    assert failed["error"].startswith("ValueError: lam must be > 0")
    frame = run_experiment("convergence", "small", tmp_path, images=1, client=client, progress=False,
                           figures=False, overrides={**CONVERGENCE, "method": "cp", "lam": [2.5e-4, -1.0]})
    # the failed task is tried again (and fails again); the good one is reused
    assert (frame.report.computed, frame.report.reused, frame.report.failed) == (1, 1, 1)
    assert "Failed tasks" in frame.summary_path.read_text()


# --------------------------------------------------------------------------------------
# the other experiments, each against a fact that does not come from the sweep
# --------------------------------------------------------------------------------------
def test_stability_perturbations_stay_in_their_budget(client, tmp_path):
    overrides = {"size": 64, "method": ["firenet_5x5", "zero_filled"], "budget": [0.02, 0.1], "steps": 3}
    output = run_experiment("stability", "small", tmp_path, overrides=overrides, client=client, progress=False,
                            figures=False)
    frame = output.frame
    assert (frame["status"] == "ok").all() and len(frame) == 4
    assert (frame["perturbation"] <= frame["budget"] * (1 + 1e-9)).all()
    assert np.allclose(frame["amplification"], frame["worst_change"] / frame["perturbation"])
    assert len(build_figures(frame)["stability"].data) == 2 * 2 + 1  # worst, random per method + diagonal


def test_robustness_clean_error_is_the_library_reconstruction_error(client, tmp_path):
    from solver.baselines import zero_filled
    from solver.datasets import example_image
    from solver.metrics import relative_error
    from solver.problem import make_problem
    from solver.sampling import make_mask

    overrides = {"size": 64, "method": "zero_filled", "steps": 2}
    output = run_experiment("robustness", "small", tmp_path, overrides=overrides, client=client, progress=False,
                            figures=False)
    frame = output.frame
    for _, row in frame.iterrows():
        problem = make_problem(example_image(int(row["image_seed"]), 64), make_mask("multilevel", 64, 0.25))
        with torch.no_grad():
            image = zero_filled(problem.measurement("haar"))(problem.y).numpy()
        assert row["clean_error"] == pytest.approx(relative_error(image, problem.truth), rel=1e-6)
    summary = table(frame)
    assert summary["clean error std"].iloc[0] == pytest.approx(frame["clean_error"].std(), rel=1e-12)


def test_detail_of_a_linear_method_has_the_same_contrast_ratio_at_every_contrast(client, tmp_path):
    # zero-filling is linear, so its response to the detail scales with the contrast
    overrides = {"size": 128, "method": "zero_filled", "contrast": [0.05, 0.1]}
    frame = run_experiment("detail", "small", tmp_path, images=1, overrides=overrides, client=client,
                           progress=False, figures=False).frame
    low, high = frame.sort_values("contrast")["contrast_ratio"]
    true_low, true_high = frame.sort_values("contrast")["true_contrast"]
    assert true_high == pytest.approx(2 * true_low, rel=1e-6)  # nothing clipped
    assert low == pytest.approx(high, rel=1e-4)
    assert 0 < low < 1


def test_sampling_change_adds_the_asked_samples_and_the_unet_wins_at_its_own_rate(client, tmp_path):
    overrides = {"method": ["unet", "zero_filled"], "extra": [0.0, 0.1]}
    frame = run_experiment("sampling_change", "small", tmp_path, overrides=overrides, client=client,
                           progress=False, figures=False).frame
    assert (frame["status"] == "ok").all()
    rates = frame.groupby("extra")["achieved_rate"].first()
    assert rates[0.0] == pytest.approx(0.25, abs=0.005)
    assert rates[0.1] == pytest.approx(0.35, abs=0.01)
    trained = frame[frame["extra"] == 0.0].set_index("method")["error"]
    assert trained["unet"] < 0.5 * trained["zero_filled"]  # 0.02 against 0.13 on held-out images
    assert table(frame)["error mean"].notna().all()


def test_an_existing_cluster_is_used_through_its_scheduler_address(client, tmp_path):
    tasks = experiments.plan("convergence", "small", images=1, overrides={**CONVERGENCE, "method": "cp"})
    report = run_tasks(tasks, tmp_path, scheduler=client.scheduler.address, progress=False)
    assert report.computed == 1 and report.failed == 0
    workers = set(client.run(lambda: f"{socket.gethostname()}:{os.getpid()}").values())
    assert report.records[0]["worker"] in workers  # computed by the cluster's own workers


def test_the_page_shows_a_results_file_without_recomputing(convergence, tmp_path, monkeypatch):
    import shutil

    from streamlit.testing.v1 import AppTest

    out, _ = convergence
    shutil.copytree(out, tmp_path / "results" / "convergence-small")
    monkeypatch.chdir(tmp_path)  # the page looks in ./results, where the command writes
    page = AppTest.from_string("from explorer import sweeps\nsweeps.results_panel()\n", default_timeout=60)
    page.run()
    assert not page.exception, [e.value for e in page.exception]
    assert page.selectbox(key="sweep_file").value.parent.name == "convergence-small"
    shown = page.dataframe[0].value
    assert len(shown) == len(table(load(out / "results.parquet")))
    assert [e for e in page.get("plotly_chart")]  # the experiment's figure
    monkeypatch.chdir(tmp_path / "results")  # no results folder here: a hint, no error
    empty = AppTest.from_string("from explorer import sweeps\nsweeps.results_panel()\n").run()
    assert not empty.exception and "python -m solver.reproduce" in empty.caption[0].value
