"""Command line: ``python -m solver.reproduce EXPERIMENT --preset small|full [options]``."""

from __future__ import annotations

import shlex
import sys

import click

from solver.reproduce.experiments import EXPERIMENTS, PRESETS

__all__ = ["main"]

_HELP = {
    "convergence": "Error and certified gap against layers, per method, over several images.",
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
    """``("size=128", "method=firenet,cp")`` -> ``{"size": 128, "method": ["firenet", "cp"]}``."""
    out = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--set")
        values = [_value(v) for v in text.split(",")]
        out[key.strip()] = values if len(values) > 1 else values[0]
    return out


def _options(function):
    options = [
        click.option("--preset", type=click.Choice(["small", "full"]), default="small", show_default=True,
                     help="small: < 2 min on 2 cores; full: the paper's scale (see README for its cost)."),
        click.option("--out", type=click.Path(file_okay=False), default=None,
                     help="Output directory [default: results/EXPERIMENT-PRESET]."),
        click.option("--images", type=click.IntRange(min=1), default=None,
                     help="Number of held-out test images instead of the preset's."),
        click.option("--set", "settings", metavar="KEY=VALUE", multiple=True,
                     help="Replace a preset setting; a comma-separated value is swept "
                          "(e.g. --set size=128 --set method=firenet,cp)."),
        click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
                     help="Processes of the local Dask cluster."),
        click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Torch threads per worker."),
        click.option("--scheduler", metavar="ADDRESS", default=None,
                     help="Use an existing Dask scheduler (e.g. tcp://host:8786) instead of a local cluster."),
        click.option("--figures/--no-figures", default=True, show_default=True,
                     help="Export PNG and SVG figures (kaleido and a local Chromium)."),
        click.option("--browser", type=click.Path(dir_okay=False), default=None,
                     help="Chromium for the figures [default: $BROWSER_PATH or /usr/bin/chromium]."),
        click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bar with ETA."),
        click.option("--dry-run", is_flag=True, help="Print the number of tasks and how many are done; run nothing."),
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
    """


def _command(experiment: str):
    @_options
    def command(preset, out, images, settings, workers, threads, scheduler, figures, browser, progress, dry_run) -> None:
        from solver.reproduce import experiments as plans
        from solver.reproduce.runner import code_version, task_key, task_path
        from solver.reproduce.sweep import run_experiment

        directory = out or f"results/{experiment.replace('_', '-')}-{preset}"
        try:
            tasks = plans.plan(experiment, preset, images=images, overrides=_overrides(settings))
        except ValueError as error:  # a bad --set: say so without a traceback
            raise click.UsageError(str(error)) from None
        if dry_run:
            version = code_version()
            done = sum(task_path(directory, task_key(t, version)).is_file() for t in tasks)
            click.echo(f"{experiment} {preset}: {len(tasks)} tasks, {done} already in {directory}/tasks "
                       f"(code version {version})")
            return
        line = "python -m solver.reproduce " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        output = run_experiment(experiment, preset, directory, images=images,
                                overrides=_overrides(settings), scheduler=scheduler,
                                workers=workers, threads=threads, progress=progress, figures=figures,
                                browser=browser, command=line)
        report = output.report
        click.echo(f"{len(report.records)} tasks: {report.computed} computed, {report.reused} reused, "
                   f"{report.failed} failed; {report.wall_seconds:.1f} s")
        for note in output.notes:
            click.echo(note, err=True)
        click.echo(f"table: {output.results_path}\nsummary: {output.summary_path}")
        for path in output.figure_paths:
            click.echo(f"figure: {path}")

    return command


for _name in EXPERIMENTS:
    main.command(name=_name.replace("_", "-"), help=_HELP[_name] + " Presets: " + ", ".join(PRESETS[_name]) + ".")(
        _command(_name))


@main.command(name="figures")
@click.argument("results_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Directory for figures/ and summary.md [default: the results file's directory].")
@click.option("--browser", type=click.Path(dir_okay=False), default=None, help="Chromium for the export.")
def figures_command(results_file, out, browser) -> None:
    """Export the figures and summary of an existing results file again (no computing)."""
    from pathlib import Path

    from solver.reproduce.results import load
    from solver.reproduce.sweep import write_outputs

    path = Path(results_file)
    output = write_outputs(load(path), out or path.parent, browser=browser, results_name=path.name)
    for note in output.notes:
        click.echo(note, err=True)
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
