"""`evolve seed | run | resume | config show`: the run lifecycle from the command line.

`run` and `resume` show the live display (evolve/cli/display.py) while the search goes and the
summary (evolve/cli/summary.py) when it ends, however it ends; log records and Python warnings
of the run go to RUN_DIR/run.log (named in the summary), not over the display.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from evolve.cli.common import PLUGIN, RUN_DIR, console, fail, sigterm_interrupts, user_errors
from evolve.config import ConfigError, RunConfig, dump_yaml

RUN_LOG = "run.log"
LOGGED = ("evolve", "trainer", "sandbox", "py.warnings")  # loggers whose records go to run.log


@click.command("seed")
@click.argument("problem")
@click.option("--run", "run_dir", type=RUN_DIR, required=True, help="run directory to create (absent or empty)")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="run config YAML, e.g. configs/cpu-small.yaml (defaults: `evolve config show`)")
@click.option("--db", "url", help="database URL (overrides database.url): a PostgreSQL run `evolve worker`s share")
def seed_command(problem: str, run_dir: Path, config_path: Path | None, url: str | None) -> None:
    """Create a run for PROBLEM (id or path): evaluate the initial program, seed every island."""
    from evolve.runs import seed

    try:
        done = seed(problem, run_dir, config_path, database_url=url)
    except user_errors() as exc:
        raise fail(exc) from None
    console.print(f"seeded run {done.run_id} in {run_dir}: problem {done.problem_id}, "
                  f"{done.islands} islands, initial fitness {done.fitness:.4f} "
                  f"(sandbox {done.sandbox['backend']}, jail {done.sandbox['jail']})")
    _print_initial(run_dir)
    if url:
        console.print(f"workers: evolve worker --db URL --run {done.run_id}", soft_wrap=True)


def _print_initial(run_dir: Path) -> None:
    """The initial program's per-test outcome: the run's first result, and the bar to beat."""
    from evolve.cli.common import outcome_table
    from evolve.db import repo
    from evolve.rundir import open_run
    from problems.model import Problem

    r = open_run(run_dir)
    try:
        with repo.transaction(r.factory) as s:
            run = repo.get_run(s, r.run_id)
            p = repo.get_program(s, r.run_id, run.counters["seeds"][0])
            tests = Problem.model_validate(run.problem).search_view().tests
            console.print(outcome_table(tests, p.scores, p.failures,
                                        title=f"the initial program (#{p.seq}): fitness {p.fitness:.4f}"))
    finally:
        r.close()


class _Counting(logging.FileHandler):
    """The run's log file; counts the warnings it took so the summary can say so."""

    warnings = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.warnings += 1
        super().emit(record)


@contextmanager
def _run_log(run_dir: Path) -> Iterator[_Counting]:
    """Log records (INFO and up) of the run's own packages and every Python warning go to
    RUN_DIR/run.log (created on the first record) instead of the screen."""
    handler = _Counting(run_dir / RUN_LOG, delay=True, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    loggers = [logging.getLogger(n) for n in LOGGED]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    logging.captureWarnings(True)
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
        lg.propagate = False
    try:
        yield handler
    finally:
        for lg, (level, propagate) in zip(loggers, saved):
            lg.removeHandler(handler)
            lg.setLevel(level)
            lg.propagate = propagate
        logging.captureWarnings(False)
        handler.close()


def _drive(run_dir: Path, resume: bool, iterations: int | None, minutes: float | None,
           plugin: str | None) -> None:
    from evolve.accounting import AccountingError
    from evolve.cli.display import LiveDisplay
    from evolve.cli.summary import print_summary
    from evolve.rundir import read_run_file, resume_hint
    from evolve.runs import Terminated, execute, load_factory

    try:
        read_run_file(run_dir)  # a mistyped path is one line, and nothing is created
        factory = load_factory(plugin) if plugin else None
    except user_errors() as exc:
        raise fail(exc) from None
    stop: KeyboardInterrupt | None = None
    # nothing but the panel draws on the screen: no download or weight-loading progress bars
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    display = LiveDisplay(console, run_dir, title=f"vpo-evolve · {run_dir}",
                          hint="Ctrl-C stops cleanly; the run can be resumed")
    with _run_log(run_dir) as log:
        try:
            with sigterm_interrupts(), display:
                execute(run_dir, resume=resume, iterations=iterations, minutes=minutes,
                        mutator_factory=factory, on_start=display.on_start, on_batch=display.on_batch,
                        notify=console.print)
        except KeyboardInterrupt as exc:
            stop = exc
        except user_errors() as exc:
            raise fail(exc) from None
        logged = log.warnings
        where = run_dir / RUN_LOG if (run_dir / RUN_LOG).exists() else None
    try:
        print_summary(console, run_dir, where, logged, display.elapsed() if display.started else None)
    except KeyboardInterrupt as exc:
        stop = stop or exc
    except (*user_errors(), AccountingError) as exc:  # the summary never hides how the run ended
        console.print(f"(no summary: {str(exc).splitlines()[0]})")
    if stop is not None:
        why = "terminated (SIGTERM)" if isinstance(stop, Terminated) else "interrupted (Ctrl-C)"
        click.echo(f"{why}: the run stopped cleanly; continue it with `{resume_hint(run_dir)}`", err=True)
        sys.exit(143 if isinstance(stop, Terminated) else 130)


def _finite(_ctx, param, value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of minutes", param=param)
    return value


@click.command("run")
@click.argument("run_dir", type=RUN_DIR)
@click.option("--iterations", type=click.IntRange(min=0, max=2**63 - 1), help="total iteration budget of the run")
@click.option("--minutes", type=click.FloatRange(min=0, max=1e7, min_open=True), callback=_finite,
              help="active wall-time budget (total, earlier sessions included)  [default: the config's loop.minutes]")
@PLUGIN
def run_command(run_dir: Path, iterations: int | None, minutes: float | None, plugin: str | None) -> None:
    """Run the search in RUN_DIR until its budget is spent (continues an interrupted run)."""
    _drive(run_dir, False, iterations, minutes, plugin)


@click.command("resume")
@click.argument("run_dir", type=RUN_DIR)
@PLUGIN
def resume_command(run_dir: Path, plugin: str | None) -> None:
    """Continue a stopped or killed run with its stored config, RNG, counters and budget."""
    _drive(run_dir, True, None, None, plugin)


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
        raise fail(exc) from None
    click.echo(dump_yaml(cfg), nl=False)


COMMANDS = [seed_command, run_command, resume_command, config_group]
