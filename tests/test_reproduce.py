"""The headless experiments on a two-worker LocalCluster: table schema, resume, recorded
failures, reproducible numbers, and the exported figures.

The small presets are shrunk further here with overrides (one image, N = 32..128 where
the U-Net is not needed, few attack steps), so the whole module stays well under a minute
and a half on two shared cores; ``python -m solver.reproduce EXPERIMENT --preset small``
runs the presets as they are.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from solver.reproduce import build_figures, experiments, load, table
from solver.reproduce.results import FIRST_COLUMNS, save, to_frame
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
    assert len(robust) == 200 * 6 * 2 * 3
    assert {t["on_budget"] for t in robust} == {"stop"}  # the paper's rule, and its 100 steps
    assert {t["steps"] for t in robust} == {100}
    assert all(t["unet_sha256"] for t in robust if t["method"] == "unet")


def test_plan_names_a_bad_override():
    with pytest.raises(ValueError, match="unknown setting 'budget' for detail"):
        experiments.plan("detail", "small", overrides={"budget": 0.1})
    with pytest.raises(ValueError, match="preset"):
        experiments.plan("detail", "huge")


def test_values_are_normalised_before_the_task_keys_are_hashed():
    # the CLI parses "noise=0" as the int 0; the default is the float 0.0: one task
    typed = experiments.plan("detail", "small", overrides={"noise": 0, "lam": 1})
    written = experiments.plan("detail", "small", overrides={"noise": 0.0, "lam": 1.0})
    assert [task_key(t, "v") for t in typed] == [task_key(t, "v") for t in written]
    assert isinstance(typed[0]["noise"], float) and isinstance(typed[0]["size"], int)


def test_every_sweep_method_is_built_by_the_method_registry():
    from solver.methods import METHODS, sweep_entry

    for experiment, presets in experiments.PRESETS.items():
        for preset, grid in presets.items():
            assert set(grid["method"]) <= set(experiments.available_methods()), (experiment, preset)
    for name in experiments.available_methods():
        key, label, colour = sweep_entry(name)
        assert key in METHODS and label and colour.startswith("#")


def test_a_method_the_registry_drops_is_refused_at_planning(monkeypatch):
    from solver import methods

    monkeypatch.setattr(methods, "METHODS", {k: v for k, v in methods.METHODS.items() if k != "cp"})
    assert "cp" not in experiments.available_methods()
    with pytest.raises(ValueError, match="method must be one of .*; got 'cp'"):
        experiments.plan("convergence", "small", overrides={"method": "cp"})
    with pytest.raises(ValueError, match="got 'cp'"):  # a preset that lists it stops too
        experiments.plan("robustness", "full")


# --------------------------------------------------------------------------------------
# the command line fails loudly and early
# --------------------------------------------------------------------------------------
HOSTILE = [
    ("robustness", ["budget=abc"], "budget must be a real number"),
    ("robustness", ["budget=-1"], "budget must be in"),
    ("robustness", ["rate=2"], "rate must be in"),
    ("convergence", ["lam=0"], "lam must be > 0"),
    ("convergence", ["pattern=spiralx"], "pattern must be one of"),
    ("robustness", ["steps=0"], "steps must be an integer"),
    ("sampling-change", ["extra=5"], "extra must be in"),
    ("sampling-change", ["extra=0.8"], "extra must be at most 1 - rate"),
    ("convergence", ["extra=5"], "unknown setting 'extra' for convergence"),
    ("convergence", ["size=abc"], "size must be an integer"),
    ("convergence", ["size=100"], "size must be a power of two"),
    ("robustness", ["method=unet", "size=128"], "U-Net trained only at size 256"),
    ("convergence", ["method=firenet,firenet"], "method lists 'firenet' more than once"),
    ("convergence", ["noise=0,0.0"], "noise lists 0.0 more than once"),
    ("convergence", ["method=cp_turned"], "method must be one of"),
    ("convergence", ["size=64", "size=128"], "size is set twice"),
    ("convergence", ["levels=9"], "levels must be in [0, 6]"),
    ("detail", ["text=" + "x" * 30, "size=64", "method=zero_filled"], "larger than the 64 x 64 image"),
]


@pytest.mark.parametrize("command, pairs, message", HOSTILE, ids=[" ".join(h[1])[:30] for h in HOSTILE])
def test_a_hostile_setting_stops_the_command_before_anything_runs(command, pairs, message, tmp_path):
    from click.testing import CliRunner

    from solver.reproduce.cli import main

    arguments = [command, "--out", str(tmp_path / "out"), "--no-figures", "--no-progress"]
    for pair in pairs:
        arguments += ["--set", pair]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--set'" in result.output and message in result.output
    assert not (tmp_path / "out").exists()  # no cluster, no task, no file


def test_help_lists_the_settings_the_methods_and_each_presets_contents():
    from click.testing import CliRunner

    from solver.reproduce.cli import main

    text = CliRunner().invoke(main, ["stability", "--help"]).output
    for word in ("budget", "steps", "attack_seed", "random_trials", "cp_adaptive", "firenet_5x5",
                 "small: size = 256; images = 1;", "budget = 0.005,0.01,0.02,0.05,0.1,0.2"):
        assert word in text, word
    assert "contrast" not in text  # a detail setting: not the stability sweep's


@pytest.mark.slow
def test_dry_run_prints_the_task_count_and_the_estimated_cpu_hours(tmp_path):
    from click.testing import CliRunner

    from solver.reproduce.cli import main
    from solver.reproduce.costs import estimate

    result = CliRunner().invoke(main, ["robustness", "--preset", "full", "--dry-run", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    tasks = experiments.plan("robustness", "full")
    hours = estimate(tasks).cpu_seconds / 3600
    assert f"{len(tasks)} tasks, 0 already in" in result.output
    assert f"estimated {hours:.2f} CPU hours" in result.output and "no measured cost" not in result.output
    assert 1 < hours < 1000  # 6,000 worst-case searches of 100 steps, 0.1-60 s each


# --------------------------------------------------------------------------------------
# convergence end to end: schema, figures, resume, identical rerun
# --------------------------------------------------------------------------------------
CONVERGENCE = {"size": 32, "method": ["firenet_paper", "cp"], "iterations": 60}


@pytest.fixture(scope="module")
def convergence(client, tmp_path_factory):
    out = tmp_path_factory.mktemp("convergence")
    return out, run_experiment("convergence", "small", out, images=1, overrides=CONVERGENCE, client=client,
                               progress=False)


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_resume_computes_only_the_tasks_whose_files_are_missing(convergence, client):
    out, output = convergence
    first = output.report.records
    task_path(out, first[0]["key"]).unlink()  # as if the sweep had stopped before it
    again = run_experiment("convergence", "small", out, images=1, overrides=CONVERGENCE, client=client,
                           progress=False, figures=False)
    assert (again.report.computed, again.report.reused) == (1, 1)
    pd.testing.assert_frame_equal(_values(again.frame), _values(output.frame))


@pytest.mark.slow
def test_a_rerun_from_scratch_gives_identical_numbers(convergence, client, tmp_path):
    _, output = convergence
    fresh = run_experiment("convergence", "small", tmp_path, images=1, overrides=CONVERGENCE, client=client,
                           progress=False, figures=False)
    assert fresh.report.computed == 2
    pd.testing.assert_frame_equal(_values(fresh.frame), _values(output.frame))


# --------------------------------------------------------------------------------------
# a failing task
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_task_that_raises_is_recorded_with_its_error_and_the_sweep_goes_on(client, tmp_path):
    from solver.reproduce.sweep import write_outputs

    good = experiments.plan("convergence", "small", images=1, overrides={**CONVERGENCE, "method": "cp"})[0]
    bad = {**good, "lam": -1.0}  # planning refuses it; a task list written by hand reaches the worker
    report = run_tasks([good, bad], tmp_path, client=client, progress=False)
    assert (report.computed, report.failed) == (2, 1)
    ok, failed = report.records
    assert ok["status"] == "ok" and failed["status"] == "error"
    assert failed["error"].startswith("ValueError: lam must be > 0")
    again = run_tasks([good, bad], tmp_path, client=client, progress=False)
    # the failed task is tried again (and fails again); the good one is reused
    assert (again.computed, again.reused, again.failed) == (1, 1, 1)
    output = write_outputs(to_frame(again.records), tmp_path, figures=False)
    assert "Failed tasks" in output.summary_path.read_text()


# --------------------------------------------------------------------------------------
# the other experiments, each against a fact that does not come from the sweep
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_stability_perturbations_stay_in_their_budget(client, tmp_path):
    overrides = {"size": 64, "method": ["firenet_5x5", "zero_filled"], "budget": [0.02, 0.1], "steps": 3}
    output = run_experiment("stability", "small", tmp_path, overrides=overrides, client=client, progress=False,
                            figures=False)
    frame = output.frame
    assert (frame["status"] == "ok").all() and len(frame) == 4
    assert (frame["perturbation"] <= frame["budget"] * (1 + 1e-9)).all()
    assert np.allclose(frame["amplification"], frame["worst_change"] / frame["perturbation"])
    assert len(build_figures(frame)["stability"].data) == 2 * 2 + 1  # worst, random per method + diagonal


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_an_existing_cluster_is_used_through_its_scheduler_address(client, tmp_path):
    tasks = experiments.plan("convergence", "small", images=1, overrides={**CONVERGENCE, "method": "cp"})
    report = run_tasks(tasks, tmp_path, scheduler=client.scheduler.address, progress=False)
    assert report.computed == 1 and report.failed == 0
    workers = set(client.run(lambda: f"{socket.gethostname()}:{os.getpid()}").values())
    assert report.records[0]["worker"] in workers  # computed by the cluster's own workers


@pytest.mark.slow
def test_the_page_shows_a_results_file_without_recomputing(convergence, tmp_path, monkeypatch):
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


# --------------------------------------------------------------------------------------
# results files and --out from outside (no cluster)
# --------------------------------------------------------------------------------------
def _stability_rows() -> pd.DataFrame:
    rows = [dict(task_key=f"{m}{b}", experiment="stability", status="ok", error_message=None, code_version="v",
                 method=m, budget=b, perturbation=b, worst_change=2 * b, random_change=b / 2, amplification=2.0,
                 seconds=1.0, worker="w", size=64, unread_column="x")
            for m in ("unet", "firenet_5x5") for b in (0.01, 0.05)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_a_results_file_is_checked_against_its_schema_before_use(tmp_path, suffix):
    frame = _stability_rows()
    good = load(save(frame, tmp_path / f"good.{suffix}"), needed_only=True)
    assert len(good) == 4 and "unread_column" not in good.columns and "worst_change" in good.columns
    bad = {
        "no_status": (frame.drop(columns=["status"]), "needs the columns status"),
        "unknown": (frame.assign(experiment="nope"), "unknown experiment 'nope'"),
        "two": (frame.assign(experiment=["stability", "detail"] * 2), "one experiment"),
        "text": (frame.assign(worst_change="lots"), "'worst_change' must hold numbers"),
        "method": (frame.assign(method="<a href='x'>m</a>"), "unknown methods"),
    }
    for name, (table_, message) in bad.items():
        with pytest.raises(ValueError, match=message):
            load(save(table_, tmp_path / f"{name}.{suffix}"), needed_only=True)
    with pytest.raises(ValueError, match="more than the 3 "):
        load(tmp_path / f"good.{suffix}", max_rows=3)
    with pytest.raises(ValueError, match="more than the 100 read"):
        load(tmp_path / f"good.{suffix}", max_bytes=100)


@pytest.mark.slow
def test_the_page_shows_a_bad_results_file_as_a_message(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    folder = tmp_path / "results" / "stability-bad"
    folder.mkdir(parents=True)
    save(_stability_rows().drop(columns=["status"]), folder / "results.parquet")
    monkeypatch.chdir(tmp_path)
    page = AppTest.from_string("from explorer import sweeps\nsweeps.results_panel()\n", default_timeout=60).run()
    assert not page.exception, [e.value for e in page.exception]
    (error,) = page.error
    assert "rejected" in error.value and "status" in error.value


@pytest.mark.parametrize("out", ["afile.txt/sub", "/proc/firenet-out"])
def test_out_must_be_a_writable_folder_before_the_first_task(tmp_path, monkeypatch, out):
    from click.testing import CliRunner

    from solver.reproduce.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile.txt").write_text("a file, not a folder")
    result = CliRunner().invoke(main, ["stability", "--preset", "small", "--out", out, "--no-figures",
                                       "--no-progress"])
    assert result.exit_code == 2 and "is not a writable folder" in result.output
    assert not (tmp_path / "results").exists()


def test_a_task_file_of_another_structure_or_key_is_computed_again(tmp_path):
    from solver.reproduce.runner import _digest, _read_json, _write_json

    path = tmp_path / "task.json"
    for text in ("[1, 2]", '{"key": "k"}', '{"key": "k", "settings": [], "status": "ok"}', "{" * 100_000):
        path.write_text(text)
        assert _read_json(path) is None
    record = {"key": "k", "settings": {"size": 64}, "status": "ok", "values": {"error": 0.1}}
    path.write_text(json.dumps(record))  # well formed, but without the digest it was written with
    assert _read_json(path) is None
    _write_json(path, record)
    assert _read_json(path) == record
    assert json.loads(path.read_text())["digest"] == _digest(record)


def test_an_edited_linked_or_huge_task_file_is_computed_again(tmp_path, monkeypatch):
    from solver.reproduce import runner

    path = tmp_path / "task.json"
    record = {"key": "k", "settings": {"size": 64}, "status": "ok", "values": {"error": 0.1}}
    runner._write_json(path, record)
    assert runner._read_json(path) == record
    path.write_text(path.read_text().replace("0.1", "0.01"))  # a number edited by hand
    assert runner._read_json(path) is None
    runner._write_json(path, record)
    link = tmp_path / "link.json"
    link.symlink_to(path)
    assert runner._read_json(link) is None  # links are not followed
    monkeypatch.setattr(runner, "MAX_RECORD_BYTES", path.stat().st_size - 1)
    assert runner._read_json(path) is None  # the size is checked before reading


# --------------------------------------------------------------------------------------
# failures reach the exit code; the cluster is checked before the first task
# --------------------------------------------------------------------------------------
@pytest.fixture
def threads_cluster():
    """A scheduler with one worker thread in this process, so a patched function reaches it."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as dask:
        yield cluster, dask


@pytest.mark.slow
def test_a_run_with_one_failing_task_exits_non_zero_with_the_count(threads_cluster, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from solver.reproduce.cli import main

    cluster, _ = threads_cluster
    computed = experiments._RUNNERS["convergence"]

    def fails_for_cp(settings):
        if settings["method"] == "cp":
            raise FloatingPointError("the solver diverged")
        return computed(settings)

    monkeypatch.setitem(experiments._RUNNERS, "convergence", fails_for_cp)
    arguments = ["convergence", "--images", "1", "--set", "size=32", "--set", "method=firenet_paper,cp",
                 "--out", str(tmp_path), "--scheduler", cluster.scheduler_address, "--no-figures", "--no-progress"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 1, result.output
    assert "1 of 2 tasks failed" in result.output
    frame = load(tmp_path / "results.parquet")
    assert frame.set_index("method")["status"].to_dict() == {"firenet_paper": "ok", "cp": "error"}
    monkeypatch.setitem(experiments._RUNNERS, "convergence", computed)
    again = CliRunner().invoke(main, arguments)  # the failed task is computed again, and now succeeds
    assert again.exit_code == 0, again.output
    assert "2 tasks: 1 computed, 1 reused, 0 failed" in again.output


@pytest.mark.slow
def test_a_row_from_a_worker_whose_code_changed_after_the_check_is_refused(threads_cluster, tmp_path, monkeypatch):
    from solver.reproduce import runner

    _, dask = threads_cluster
    tasks = experiments.plan("convergence", "small", images=1, overrides={**CONVERGENCE, "method": "cp"})
    # the check before the first task passes; the rows then report another version
    monkeypatch.setattr(runner, "code_version", lambda: "0123456789ab")
    report = run_tasks(tasks, tmp_path, client=dask, progress=False, version=code_version())
    assert (report.computed, report.failed, report.refused) == (1, 1, 1)
    record = report.records[0]
    assert record["status"] == "refused" and "runs code version 0123456789ab" in record["error"]
    assert not task_path(tmp_path, record["key"]).exists()  # never reused
    assert (tmp_path / "quarantine" / f"{record['key']}.json").is_file()


@pytest.mark.slow
def test_an_unreachable_scheduler_fails_within_five_seconds_with_one_line(tmp_path):
    from click.testing import CliRunner

    from solver.reproduce.cli import main

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    arguments = ["convergence", "--images", "1", "--set", "size=32", "--set", "method=cp", "--out", str(tmp_path),
                 "--scheduler", f"tcp://127.0.0.1:{port}", "--no-figures", "--no-progress"]
    start = time.perf_counter()
    result = CliRunner().invoke(main, arguments)
    assert time.perf_counter() - start < 5
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: no Dask scheduler answers at 'tcp://127.0.0.1:{port}'")


def _start(command: list[str], env: dict, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def loopback_cluster(tmp_path):
    """A dask scheduler and three workers as separate processes on loopback: one on this
    code, one on a copy whose relative error is 1.5 times too large, one without the package
    (the scheduler unpickles the tasks, so it has the package)."""
    from distributed import Client

    root = Path(__file__).resolve().parent.parent
    edited = tmp_path / "edited"
    shutil.copytree(root / "solver", edited / "solver", ignore=shutil.ignore_patterns("__pycache__"))
    with open(edited / "solver" / "metrics.py", "a") as source:
        source.write("\n\n_exact_relative_error = relative_error\n\n\n"
                     "def relative_error(x, ref, *, part='real'):\n"
                     "    return 1.5 * _exact_relative_error(x, ref, part=part)\n")
    dask = str(Path(sys.executable).parent / "dask")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["OMP_NUM_THREADS"] = "1"
    file = tmp_path / "scheduler.json"
    processes = [_start([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                         "--scheduler-file", str(file)], {**env, "PYTHONPATH": str(root)}, tmp_path)]
    try:
        deadline = time.monotonic() + 60
        while not file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        worker = [dask, "worker", "--scheduler-file", str(file), "--nthreads", "1", "--no-nanny", "--no-dashboard"]
        for name, path in (("good", str(root)), ("edited", str(edited)), ("bare", None)):
            processes.append(_start(worker + ["--name", name], {**env, "PYTHONPATH": path} if path else env,
                                    tmp_path))
        with Client(scheduler_file=str(file), timeout=30) as client:
            client.wait_for_workers(3, timeout=90)
            yield client, processes
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.slow
def test_only_workers_on_the_clients_code_version_add_rows(loopback_cluster, tmp_path):
    from solver.reproduce.runner import _write_json

    from solver.reproduce.runner import ClusterError, agreeing_workers, execute_task

    client, processes = loopback_cluster
    by_name = {info["name"]: address for address, info in client.scheduler_info()["workers"].items()}
    version = code_version()
    tasks = experiments.plan("convergence", "small", images=1, overrides={**CONVERGENCE, "method": ["cp", "fista"]})
    theirs = client.submit(execute_task, tasks[0], workers=[by_name["edited"]], pure=False).result()
    assert theirs["status"] == "ok" and theirs["worker_code_version"] != version

    agreeing, notes = agreeing_workers(client, version)
    assert agreeing == [by_name["good"]]
    assert len(notes) == 2
    assert any(f"worker {by_name['edited']} runs code version {theirs['worker_code_version']}" in n for n in notes)
    assert any(f"worker {by_name['bare']} cannot import 'solver': install" in n for n in notes)

    # an older run had stored the edited worker's row under the client's key: not reused
    key = task_key(tasks[0], version)
    stale = {"key": key, "code_version": version, "settings": tasks[0], **theirs}
    _write_json(task_path(tmp_path, key), stale)  # with its digest: only its version refuses it
    report = run_tasks(tasks, tmp_path, scheduler=client.scheduler.address, progress=False)
    assert (report.computed, report.reused, report.failed) == (2, 0, 0)
    assert report.notes == notes
    good_pid = client.run(os.getpid, workers=[by_name["good"]])[by_name["good"]]
    assert {r["worker"].rsplit(":", 1)[1] for r in report.records} == {str(good_pid)}
    assert {r["worker_code_version"] for r in report.records} == {version}
    # the edited worker's numbers were really other numbers under the same settings
    assert theirs["values"]["error"] == pytest.approx(1.5 * report.records[0]["values"]["error"], rel=1e-9)

    processes[1].terminate()  # the good worker leaves: nobody may compute
    processes[1].wait(timeout=20)
    deadline = time.monotonic() + 30
    while by_name["good"] in client.scheduler_info()["workers"] and time.monotonic() < deadline:
        time.sleep(0.2)
    with pytest.raises(ClusterError, match="no worker runs the client's code version") as error:
        run_tasks([{**tasks[0], "noise_seed": 1}], tmp_path / "again", scheduler=client.scheduler.address,
                  progress=False)
    assert "\n" not in str(error.value) and "cannot import 'solver'" in str(error.value)


# --------------------------------------------------------------------------------------
# figures of an existing results file
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_figures_again_keep_the_runs_command_and_wall_time(convergence, tmp_path):
    from click.testing import CliRunner

    from solver.reproduce.cli import main
    from solver.reproduce.sweep import write_outputs

    out, output = convergence
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    write_outputs(output.frame, copy, figures=False, command="python -m solver.reproduce convergence --images 1",
                  wall_seconds=12.5)
    result = CliRunner().invoke(main, ["figures", str(copy / "results.parquet")])
    assert result.exit_code == 0, result.output
    summary = (copy / "summary.md").read_text()
    assert "python -m solver.reproduce convergence --images 1" in summary
    assert "this run took 12.5 s of wall time" in summary
    assert "figures/convergence.png" in summary


@pytest.mark.parametrize("content, name, message", [
    ("# FIRENET Explorer\n", "README.md", "must end in .parquet or .csv"),
    ("a,b\n1,2\n", "table.csv", "no 'experiment' column"),
    ("not parquet at all", "results.parquet", "not a readable parquet file"),
])
def test_figures_refuse_a_file_that_is_not_a_results_table(content, name, message, tmp_path):
    from click.testing import CliRunner

    from solver.reproduce.cli import main

    (tmp_path / name).write_text(content)
    result = CliRunner().invoke(main, ["figures", str(tmp_path / name)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and message in result.output, result.output
    assert not (tmp_path / "summary.md").exists()


# --------------------------------------------------------------------------------------
# the figures carry the paper's claims
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_page_firenet_gap_to_a_certified_optimum_falls_three_decades(client, tmp_path):
    from solver.reproduce.results import certified_gaps, convergence_claim, optimum_gaps

    output = run_experiment("convergence", "small", tmp_path, images=1, client=client, progress=False,
                            figures=False, overrides={"size": 32, "method": ["firenet", "cp"], "iterations": 300})
    frame = output.frame
    assert (frame["status"] == "ok").all()
    gaps, resolution = optimum_gaps(frame)
    certified = certified_gaps(frame)
    for index in frame.index:
        # F* >= L (weak duality), so the gap to F* is at most the certified gap at every layer
        assert all(g <= c * (1 + 1e-6) for g, c in zip(gaps[index], certified[index]))
    assert resolution.max() < 1e-4  # the reference run pins F* down
    firenet = gaps[frame.index[frame["method"] == "firenet"][0]]
    assert firenet[0] / firenet[-1] >= 1e3
    sentence = convergence_claim(frame)
    assert sentence.startswith("Reproduced: the page's FIRENET's gap to the optimum fell")
    assert "**The paper's claim.** Reproduced" in output.summary_path.read_text()


@pytest.mark.slow
def test_each_summary_says_from_its_numbers_whether_the_claim_reproduced():
    from solver.reproduce.results import robustness_claim, sampling_claim, stability_claim

    def rows(column, values):
        return pd.DataFrame([{"experiment": "x", "status": "ok", "method": m, column: v} for m, v in values])

    unstable = rows("amplification", [("unet", 3.0), ("firenet_5x5", 0.5), ("firenet", 0.9)])
    assert stability_claim(unstable).startswith("Reproduced")
    sentence = stability_claim(unstable)
    assert "the U-Net's mean worst-case amplification" in sentence and "firenet 0.9" in sentence
    stable = rows("amplification", [("unet", 0.8), ("firenet_5x5", 0.5), ("firenet", 0.9)])
    assert stability_claim(stable).startswith("Not reproduced")  # the accurate FIRENET amplifies more
    assert "not tested" in stability_claim(rows("amplification", [("firenet", 1.0), ("zero_filled", 1.0)]))
    attacked = pd.DataFrame([{"experiment": "x", "status": "ok", "method": m, "clean_error": c, "perturbed_error": p}
                             for m, c, p in (("unet", 0.02, 0.08), ("firenet", 0.02, 0.2))])
    assert robustness_claim(attacked).startswith("Not reproduced")  # growth 4 against 10
    sampled = pd.DataFrame([{"experiment": "x", "status": "ok", "method": m, "extra": e, "error": v}
                            for m, e, v in (("unet", 0.0, 0.02), ("unet", 0.3, 0.07), ("firenet_5x5", 0.0, 0.08),
                                            ("firenet_5x5", 0.3, 0.004))])
    sentence = sampling_claim(sampled)
    assert sentence.startswith("Reproduced") and "unet 0.02 -> 0.07, firenet_5x5 0.08 -> 0.004" in sentence
