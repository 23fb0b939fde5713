"""Command line: ``python -m solver.reproduce EXPERIMENT --preset small|full [options]``.

Exit codes: 0 when every task succeeded; 1 when a task failed or was refused, or the
cluster cannot run the sweep; 2 for a bad option or ``--set`` (found before anything runs).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from solver.reproduce.experiments import EXPERIMENTS, PRESETS

__all__ = ["main"]

_HELP = {
    "convergence": "Error and gap to a certified optimum against layers, per method, over several images.",
    "stability": "Output change against perturbation size, worst case and random, per method.",
    "robustness": "Accuracy unperturbed and under a worst-case budget, per method, over a test set.",
    "detail": "Is an inserted text detail ('Can u see it?') kept or lost, per method and contrast.",
    "sampling_change": "Error when the networks get more samples than the mask they were built for.",
}


def _value(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _overrides(pairs: tuple[str, ...]) -> dict:
    """``("size=128", "method=firenet,cp")`` -> ``{"size": 128, "method": ["firenet", "cp"]}``.

    The values are only parsed here; :func:`solver.reproduce.experiments.plan` checks them.
    """
    out = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="'--set'")
        if key in out:
            raise click.BadParameter(f"{key} is set twice; give one --set {key}=A,B to sweep several values",
                                     param_hint="'--set'")
        values = [_value(v.strip()) for v in text.split(",")]
        out[key] = values if len(values) > 1 else values[0]
    return out


def _writable(directory) -> None:
    """Fail before the first task when ``--out`` cannot be written."""
    from solver.reproduce.sweep import check_output_folder

    try:
        check_output_folder(directory)
    except ValueError as error:
        raise click.BadParameter(str(error).removeprefix("out: "), param_hint="--out") from None


def _experiment_help(experiment: str) -> str:
    """The command's help: what it computes, its presets' contents, its settings, the methods."""
    from solver.methods import sweep_entry
    from solver.reproduce.experiments import available_methods
    from solver.reproduce.settings import SETTINGS, keys

    lines = [_HELP[experiment], "", "\b", "Presets (--set replaces a value; a comma-separated list is swept):"]
    for preset, grid in PRESETS[experiment].items():
        shown = "; ".join(f"{k} = {','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in grid.items())
        lines.append(f"  {preset}: {shown}")
    lines += ["", "\b", "Settings (--set KEY=VALUE):"]
    for key in keys(experiment):
        setting = SETTINGS[key]
        choices = "" if setting.choices is None or key == "method" else f": {', '.join(setting.choices())}"
        lines.append(f"  {key:<14} {setting.description}{choices}")
    lines += ["", "\b", "Methods (--set method=A,B):"]
    for name in available_methods():
        lines.append(f"  {name:<14} {sweep_entry(name)[1]}")
    return "\n".join(lines)


def _options(function):
    options = [
        click.option("--preset", type=click.Choice(["small", "full"]), default="small", show_default=True,
                     help="small: < 2 min on 2 cores; full: the paper's scale (--dry-run prints its cost)."),
        click.option("--out", type=click.Path(file_okay=False), default=None,
                     help="Output directory [default: results/EXPERIMENT-PRESET]."),
        click.option("--images", type=click.IntRange(min=1), default=None,
                     help="Number of held-out test images instead of the preset's."),
        click.option("--set", "settings", metavar="KEY=VALUE", multiple=True,
                     help="Replace a preset setting (listed above); a comma-separated value is swept "
                          "(e.g. --set size=128 --set method=firenet,cp)."),
        click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
                     help="Processes of the local Dask cluster."),
        click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Torch threads per worker."),
        click.option("--scheduler", metavar="ADDRESS", default=None,
                     help="Use an existing Dask scheduler (e.g. tcp://host:8786) instead of a local cluster; "
                          "its workers must run the same code version (docs/remote-cluster.md)."),
        click.option("--figures/--no-figures", default=True, show_default=True,
                     help="Export PNG and SVG figures (kaleido and a local Chromium)."),
        click.option("--browser", type=click.Path(dir_okay=False), default=None,
                     help="Chromium for the figures [default: $BROWSER_PATH or /usr/bin/chromium]."),
        click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bar with ETA."),
        click.option("--dry-run", is_flag=True,
                     help="Print the number of tasks, how many are done and the estimated CPU hours of the "
                          "rest; run nothing."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Reproduce the paper's experiments as tables and figures, on a Dask cluster.

    Each experiment writes OUT/results.parquet (one row per task, every setting and the
    code version), OUT/figures/*.png and *.svg, and OUT/summary.md. Finished tasks are kept
    in OUT/tasks/, so a rerun of an interrupted sweep computes only what is missing.
    EXPERIMENT --help lists its presets, settings and methods. Exit code 1 when a task
    failed, 2 for a bad option.
    """


def _dry_run(experiment: str, preset: str, directory: str, tasks: list[dict], workers: int) -> None:
    from solver.reproduce.costs import estimate
    from solver.reproduce.runner import code_version, task_key, task_path

    version = code_version()
    remaining = [t for t in tasks if not task_path(directory, task_key(t, version)).is_file()]
    cost = estimate(remaining)
    hours = cost.cpu_seconds / 3600
    line = (f"{experiment} {preset}: {len(tasks)} tasks, {len(tasks) - len(remaining)} already in "
            f"{directory}/tasks (code version {version}); estimated {hours:.2f} CPU hours for the "
            f"{len(remaining)} to compute (about {hours / workers:.2f} h on {workers} workers), "
            "from per-task costs measured by benchmarks/bench_reproduce.py --full-cost")
    if cost.unknown:
        line += f"; {cost.unknown} tasks have no measured cost and are not in the estimate"
    click.echo(line)


def _command(experiment: str):
    @_options
    def command(preset, out, images, settings, workers, threads, scheduler, figures, browser, progress, dry_run) -> None:
        from solver.reproduce import experiments as plans
        from solver.reproduce.runner import ClusterError
        from solver.reproduce.sweep import run_experiment

        directory = out or f"results/{experiment.replace('_', '-')}-{preset}"
        overrides = _overrides(settings)
        try:
            tasks = plans.plan(experiment, preset, images=images, overrides=overrides)
        except ValueError as error:  # a bad --set: say so before anything runs
            raise click.BadParameter(str(error), param_hint="'--set'") from None
        if dry_run:
            _dry_run(experiment, preset, directory, tasks, workers)
            return
        _writable(directory)
        line = "python -m solver.reproduce " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        try:
            output = run_experiment(experiment, preset, directory, images=images, overrides=overrides,
                                    scheduler=scheduler, workers=workers, threads=threads, progress=progress,
                                    figures=figures, browser=browser, command=line)
        except ClusterError as error:
            raise click.ClickException(str(error)) from None
        report = output.report
        click.echo(f"{len(report.records)} tasks: {report.computed} computed, {report.reused} reused, "
                   f"{report.failed} failed; {report.wall_seconds:.1f} s")
        for note in report.notes + output.notes:
            click.echo(note, err=True)
        click.echo(f"table: {output.results_path}\nsummary: {output.summary_path}")
        for path in output.figure_paths:
            click.echo(f"figure: {path}")
        if report.failed:
            refused = f" ({report.refused} refused from workers on other code)" if report.refused else ""
            click.echo(f"{report.failed} of {len(report.records)} tasks failed{refused}: see "
                       f"{output.summary_path}; a rerun computes them again", err=True)
            sys.exit(1)

    return command


class _ExperimentCommand(click.Command):
    """An experiment's command, whose help (presets, settings, methods) is built only when
    shown: it reads the method and sampling registries, which import torch."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.help = _experiment_help(self.name.replace("-", "_"))
        super().format_help_text(ctx, formatter)


for _name in EXPERIMENTS:
    main.command(name=_name.replace("_", "-"), cls=_ExperimentCommand, short_help=_HELP[_name])(_command(_name))


@main.command(name="figures")
@click.argument("results_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Directory for figures/ and summary.md [default: the results file's directory].")
@click.option("--browser", type=click.Path(dir_okay=False), default=None, help="Chromium for the export.")
def figures_command(results_file, out, browser) -> None:
    """Export the figures and summary of an existing results file again (no computing).

    The summary keeps the command and wall time of the run that made the file.
    """
    from solver.reproduce.results import load
    from solver.reproduce.sweep import read_run_record, write_outputs

    path = Path(results_file)
    _writable(out or path.parent)
    try:
        frame = load(path)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="RESULTS_FILE") from None
    record = read_run_record(path.parent)
    output = write_outputs(frame, out or path.parent, browser=browser, results_name=path.name, **record)
    for note in output.notes:
        click.echo(note, err=True)
    click.echo(f"summary: {output.summary_path}")
    for figure in output.figure_paths:
        click.echo(f"figure: {figure}")


@main.command(name="paradox")
@click.option("--shipped", is_flag=True,
              help="Use the shipped networks (solver/weights/lista_paradox.*) instead of training.")
@click.option("--sizes", default="8000", show_default=True, metavar="L[,L...]",
              help="Training-set sizes; one network per (K, n) and size. Table 1 uses the largest.")
@click.option("--epochs", type=click.IntRange(min=1), default=4000, show_default=True,
              help="Epochs per network (the authors' 4000).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the initial weights.")
@click.option("--out", type=click.Path(dir_okay=False), default="results/paradox/lista_paradox.safetensors",
              show_default=True, help="Where the trained networks and their card go.")
def paradox_command(shipped, sizes, epochs, seed, out) -> None:
    """The paper's Table 1: train the nine LISTA networks, print each method's distance to the
    minimiser set of the exact problem and its correct digits."""
    from solver.reproduce.paradox import run

    try:
        size_list = [int(s) for s in sizes.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected integers separated by commas, got {sizes!r}",
                                 param_hint="--sizes") from None
    if any(s < 1 for s in size_list):
        raise click.BadParameter(f"sizes must be >= 1, got {sizes!r}", param_hint="--sizes")
    line = "python -m solver.reproduce " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    run(shipped=shipped, sizes=size_list, epochs=epochs, seed=seed, out=out, command=line, log=click.echo)
