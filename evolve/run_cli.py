"""`evolve seed | run | resume | status | config show`: the run lifecycle from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evolve.config import ConfigError, RunConfig, dump_yaml

console = Console()
RUN_DIR = click.Path(file_okay=False, path_type=Path)


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


@click.command("seed")
@click.argument("problem")
@click.option("--run", "run_dir", type=RUN_DIR, required=True, help="run directory to create")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="run config YAML (defaults: `evolve config show`)")
def seed_command(problem: str, run_dir: Path, config_path: Path | None) -> None:
    """Create a run for PROBLEM (id or path): evaluate the initial program, seed every island."""
    from evolve.runs import RunError, seed

    try:
        search = seed(problem, run_dir, config_path)
    except (ConfigError, RunError, ValueError, OSError) as exc:
        raise _fail(exc) from None
    best = search.archive.best()
    console.print(f"seeded run {search.run_id} in {run_dir}: problem {search.problem.id}, "
                  f"{search.archive.n_islands} islands, initial fitness "
                  f"{best.fitness if best else 0.0:.3f}")


def _drive(run_dir: Path, resume: bool, iterations: int | None, minutes: float | None,
           plugin: str | None) -> None:
    from evolve.runs import RunError, execute, load_factory

    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), console=console,
        disable=not console.is_terminal,
    )
    task = None

    def stats(search) -> str:
        c = search.counters
        return (f"best {c.best_fitness:.3f} | children {c.children} | dup {c.duplicates} | "
                f"rejected {c.rejected}")

    def on_start(search, budget) -> None:
        nonlocal task
        task = progress.add_task("iterations", total=budget.iterations,
                                 completed=search.counters.iterations_done, stats=stats(search))

    def on_batch(search, plan, happened) -> None:
        progress.update(task, completed=search.counters.iterations_done, stats=stats(search))
        if not console.is_terminal:
            extra = f" ({', '.join(happened)})" if happened else ""
            console.print(f"batch {plan.index}: iterations {search.counters.iterations_done} | "
                          f"{stats(search)}{extra}")

    try:
        factory = load_factory(plugin) if plugin else None
        with progress:
            reason = execute(run_dir, resume=resume, iterations=iterations, minutes=minutes,
                             mutator_factory=factory, on_start=on_start, on_batch=on_batch)
    except (ConfigError, RunError, ValueError, OSError) as exc:
        raise _fail(exc) from None
    console.print(f"stopped: {reason}")


_PLUGIN = click.option("--mutator-plugin", "plugin", metavar="MODULE:CALLABLE",
                       help="use a custom Mutator: CALLABLE(run_config) -> Mutator")


@click.command("run")
@click.argument("run_dir", type=RUN_DIR)
@click.option("--iterations", type=click.IntRange(min=0), help="total iteration budget of the run")
@click.option("--minutes", type=click.FloatRange(min=0, min_open=True), help="active wall-time budget")
@_PLUGIN
def run_command(run_dir: Path, iterations: int | None, minutes: float | None, plugin: str | None) -> None:
    """Run the search in RUN_DIR until its budget is spent (continues an interrupted run)."""
    _drive(run_dir, False, iterations, minutes, plugin)


@click.command("resume")
@click.argument("run_dir", type=RUN_DIR)
@_PLUGIN
def resume_command(run_dir: Path, plugin: str | None) -> None:
    """Continue a stopped or killed run with its stored config, RNG, counters and budget."""
    _drive(run_dir, True, None, None, plugin)


@click.command("status")
@click.argument("run_dir", type=RUN_DIR)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def status_command(run_dir: Path, as_json: bool) -> None:
    """Iterations, best fitness, tests solved, throughput and model version of a run."""
    from evolve.runs import RunError, status

    try:
        info = status(run_dir)
    except (RunError, ValueError, OSError) as exc:
        raise _fail(exc) from None
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    table = Table(show_header=False, box=None)
    for key, value in info.items():
        if key not in ("islands", "by_policy_version"):
            table.add_row(key.replace("_", " "), str(value))
    console.print(table)
    ver = Table("policy version", "rollouts", "children", "best fitness", "mean fitness")
    for row in info["by_policy_version"]:
        ver.add_row(*(str(row[k]) for k in ("version", "rollouts", "children")),
                    *("-" if row[k] is None else f"{row[k]:.3f}" for k in ("best_fitness", "mean_fitness")))
    console.print(ver)
    isl = Table("island", "elites", "best fitness")
    for row in info["islands"]:
        isl.add_row(str(row["island"]), str(row["elites"]), f"{row['best_fitness']:.3f}")
    console.print(isl)


@click.group("config")
def config_group() -> None:
    """Inspect the run configuration."""


@config_group.command("show")
@click.option("--file", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="show this file's effective config instead of the defaults")
def config_show(config_path: Path | None) -> None:
    """Print the effective config (every default) as YAML."""
    from evolve.config import load_config

    try:
        cfg = load_config(config_path) if config_path else RunConfig()
    except ConfigError as exc:
        raise _fail(exc) from None
    click.echo(dump_yaml(cfg), nl=False)


COMMANDS = [seed_command, run_command, resume_command, status_command, config_group]
