"""`evolve worker` and `evolve trainer serve`: the processes of a multi-worker run.

Gathered by evolve/cli/__init__.py (`COMMANDS`).  Both take the run's database URL
(PostgreSQL) and run id, as printed by `evolve seed PROBLEM --run DIR --db URL`.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evolve.cli.common import PLUGIN, console, fail, sigterm_interrupts, user_errors

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker


def _open(url: str):
    """A session factory on the run's PostgreSQL database (migrated to this version's schema)."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    from evolve.db import repo
    from evolve.db.engine import DatabaseError, open_database

    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise click.ClickException(f"--db {url!r}: not a database URL (postgresql://USER@HOST/DB)") from None
    if backend != "postgresql":
        raise click.ClickException(f"--db: {backend} cannot be shared by workers: use PostgreSQL "
                                   "(a SQLite run is driven by one process: `evolve run DIR`)")
    try:
        engine = open_database(url, mode="write")
    except DatabaseError as exc:
        raise fail(exc) from None
    return engine, repo.session_factory(engine)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _run_id(_ctx, param, value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{32}", value or ""):
        raise click.BadParameter(f"{value!r} is not a run id (the 32 hex digits `evolve seed` printed)",
                                 param=param)
    return value


_RUN = click.option("--run", "run_id", required=True, callback=_run_id,
                    help="run id (printed by `evolve seed --db`)")


def _errors() -> tuple[type[Exception], ...]:
    from sqlalchemy.exc import SQLAlchemyError

    from evolve.db.repo import RunNotFound
    from evolve.distributed.trainer_service import TrainerBusy
    from evolve.learner_setup import OnlineError
    from evolve.mutator import MutatorError

    return (*user_errors(), RunNotFound, TrainerBusy, OnlineError, MutatorError, SQLAlchemyError)


@contextmanager
def _process(url: str, what: str) -> Iterator[sessionmaker]:
    """The frame of a worker or trainer process: logging, a session factory on the run's
    database (disposed however the body ends), SIGTERM stopping like Ctrl-C, a stop reported in
    one line (exit 143: its batches go to the other processes), run and set-up errors as the
    command's one-line error."""
    _logging()
    engine, factory = _open(url)
    try:
        with sigterm_interrupts():
            yield factory
    except KeyboardInterrupt:
        click.echo(f"{what}: stopped; its batches go to the other workers (or to the next one started)", err=True)
        sys.exit(143)
    except _errors() as exc:
        raise fail(exc) from None
    finally:
        engine.dispose()


@click.command("worker")
@click.option("--db", "url", required=True, help="the run's PostgreSQL URL")
@_RUN
@click.option("--iterations", type=click.IntRange(min=0, max=2**63 - 1),
              help="set the run's iteration budget (else the stored one, else the config's)")
@click.option("--minutes", type=click.FloatRange(min=0, min_open=True, max=1e7), help="set a wall-time budget")
@click.option("--adapters", "adapters_root", type=click.Path(file_okay=False, path_type=Path),
              help="where this machine sees the trainer's --dir (default: the path it recorded)")
@PLUGIN
def worker_command(url: str, run_id: str, iterations: int | None, minutes: float | None,
                   adapters_root: Path | None, plugin: str | None) -> None:
    """Search on a run shared through PostgreSQL, alongside any number of other workers."""
    from evolve.db import repo
    from evolve.distributed.worker import Worker
    from evolve.mutator import build_mutator
    from evolve.runs import RunConfig, load_factory
    from sandbox.api import Sandbox

    with _process(url, "worker") as factory:
        with repo.transaction(factory) as s:
            cfg = RunConfig.model_validate(repo.get_run(s, run_id).config)
        make = load_factory(plugin) if plugin else lambda c: build_mutator(c.mutator)
        with Sandbox(cfg.sandbox) as box:
            box.start()
            worker = Worker(factory, run_id, make(cfg), box, iterations=iterations, minutes=minutes,
                            adapters_root=adapters_root)
            console.print(f"worker {worker.worker_id} on run {run_id}")
            reason = worker.run()
    console.print(f"run over: {reason}")


@click.group("trainer")
def trainer_group() -> None:
    """The trainer service of a multi-worker run."""


@trainer_group.command("serve")
@click.option("--db", "url", required=True, help="the run's PostgreSQL URL")
@_RUN
@click.option("--dir", "shared_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="shared directory for adapter versions (DIR/adapters/vN), readable by the workers")
def serve_command(url: str, run_id: str, shared_dir: Path) -> None:
    """Consume complete rollout groups, step the learner, publish adapter versions."""
    from evolve.distributed.trainer_service import TrainerService

    with _process(url, "trainer") as factory:
        shared_dir.mkdir(parents=True, exist_ok=True)
        service = TrainerService(shared_dir, factory, run_id)
        console.print(f"trainer {service.worker_id} on run {run_id}, adapters in {shared_dir}")
        reason = service.serve()
    console.print(f"trainer stopped: {reason}")


COMMANDS = [worker_command, trainer_group]
