"""`evolve seed | run | resume | status | config show`: the run lifecycle from the command line."""

from __future__ import annotations

import json
import math
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evolve.config import ConfigError, RunConfig, dump_yaml

console = Console()
RUN_DIR = click.Path(file_okay=False, path_type=Path)


INT64 = click.IntRange(min=0, max=2**63 - 1)


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _user_errors() -> tuple[type[Exception], ...]:
    """What set-up and run problems raise, each already phrased as one line."""
    from evolve.db.engine import DatabaseError
    from evolve.runs import RunError
    from problems.errors import ProblemFormatError
    from sandbox.isolation import SandboxUnavailable

    return ConfigError, RunError, DatabaseError, SandboxUnavailable, ProblemFormatError, OSError


@click.command("seed")
@click.argument("problem")
@click.option("--run", "run_dir", type=RUN_DIR, required=True, help="run directory to create (absent or empty)")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="run config YAML (defaults: `evolve config show`)")
@click.option("--db", "url", help="database URL (overrides database.url): a PostgreSQL run `evolve worker`s share")
def seed_command(problem: str, run_dir: Path, config_path: Path | None, url: str | None) -> None:
    """Create a run for PROBLEM (id or path): evaluate the initial program, seed every island."""
    from evolve.runs import seed

    try:
        done = seed(problem, run_dir, config_path, database_url=url)
    except _user_errors() as exc:
        raise _fail(exc) from None
    console.print(f"seeded run {done.run_id} in {run_dir}: problem {done.problem_id}, "
                  f"{done.islands} islands, initial fitness {done.fitness:.3f} "
                  f"(sandbox {done.sandbox['backend']}, jail {done.sandbox['jail']})")
    if url:
        console.print(f"workers: evolve worker --db URL --run {done.run_id}", soft_wrap=True)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM stops a run the way Ctrl-C does (recorded as interrupted, resumable); a second
    SIGTERM during that shutdown kills the process at once."""
    from evolve.runs import Terminated

    def handler(signum, _frame) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise Terminated("terminated by SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _drive(run_dir: Path, resume: bool, iterations: int | None, minutes: float | None,
           plugin: str | None) -> None:
    from evolve.runs import Terminated, execute, load_factory

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
        with _sigterm_interrupts(), progress:
            reason = execute(run_dir, resume=resume, iterations=iterations, minutes=minutes,
                             mutator_factory=factory, on_start=on_start, on_batch=on_batch,
                             notify=console.print)
    except KeyboardInterrupt as exc:
        from evolve.rundir import resume_hint

        why = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted (Ctrl-C)"
        click.echo(f"{why}: the run stopped cleanly; continue it with `{resume_hint(run_dir)}`", err=True)
        sys.exit(143 if isinstance(exc, Terminated) else 130)
    except _user_errors() as exc:
        raise _fail(exc) from None
    console.print(f"stopped: {reason}")


def _finite(_ctx, param, value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of minutes", param=param)
    return value


_PLUGIN = click.option("--mutator-plugin", "plugin", metavar="MODULE:CALLABLE",
                       help="use a custom Mutator: CALLABLE(run_config) -> Mutator")


@click.command("run")
@click.argument("run_dir", type=RUN_DIR)
@click.option("--iterations", type=INT64, help="total iteration budget of the run")
@click.option("--minutes", type=click.FloatRange(min=0, max=1e7, min_open=True), callback=_finite,
              help="active wall-time budget")
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
    from evolve.runs import status

    try:
        info = status(run_dir)
    except _user_errors() as exc:
        raise _fail(exc) from None
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    table = Table(show_header=False, box=None)
    for key, value in info.items():
        if key not in ("islands", "by_policy_version", "resume"):
            table.add_row(key.replace("_", " "), str(value))
    console.print(table)
    if info["resume"]:
        console.print(f"continue it with: {info['resume']}", soft_wrap=True)
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
