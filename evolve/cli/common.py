"""What every `evolve` command shares: the console, argument types, one-line errors."""

from __future__ import annotations

import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click
from rich.console import Console

console = Console()
RUN_DIR = click.Path(file_okay=False, path_type=Path)
INT64 = click.IntRange(min=0, max=2**63 - 1)
PLUGIN = click.option("--mutator-plugin", "plugin", metavar="MODULE:CALLABLE",
                      help="use a custom Mutator: CALLABLE(run_config) -> Mutator")


def fail(exc: Exception) -> click.ClickException:
    """An exception as the one-line `Error: ...` of a command."""
    return click.ClickException(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def user_errors() -> tuple[type[Exception], ...]:
    """What set-up and run problems raise, each already phrased as one line."""
    from evolve.config import ConfigError
    from evolve.db.engine import DatabaseError
    from evolve.runs import RunError
    from problems.errors import ProblemFormatError
    from sandbox.isolation import SandboxUnavailable

    return ConfigError, RunError, DatabaseError, SandboxUnavailable, ProblemFormatError, OSError


def outcome_table(tests, scores, failures, title: str | None = None):
    """Per-test outcome of a stored program: `tests` are the search's tests
    (Problem.search_view), `scores` and `failures` ([test id, status, message]) as stored."""
    from rich.table import Table

    t = Table("test", "score", "status", "message", title=title, title_justify="left")
    why = {f[0]: f for f in failures}
    for test, score in zip(tests, scores):
        f = why.get(test.id)
        label = f"{test.id} (hidden)" if test.hidden else test.id
        t.add_row(label, f"{score:.3f}", f[1] if f else "passed", f[2] if f else "")
    return t


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
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
