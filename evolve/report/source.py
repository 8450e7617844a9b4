"""Open a run's database for reading only.

A report must never change what it reports on: SQLite is opened through a `mode=ro` URI and
PostgreSQL connections are read-only sessions, and nothing is migrated (a database written by
an older version is read as it is; columns it lacks are reported as not recorded).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, event, inspect
from sqlalchemy.engine import make_url

from evolve.db.engine import make_engine, sqlite_url

RUN_FILE = "run.json"  # evolve.runs.RUN_FILE (not imported: evolve.runs pulls in the loop)


class ReportError(RuntimeError):
    """A user-facing problem reading a run (one line naming the file)."""


@dataclass(frozen=True)
class Source:
    """A run's database, opened read-only, and where it lives (for messages)."""

    run_dir: Path
    run_id: str
    engine: Engine
    where: str

    def has_column(self, table: str, column: str) -> bool:
        """Whether the stored schema has this column (older runs lack newer ones)."""
        return any(c["name"] == column for c in inspect(self.engine).get_columns(table))


def readonly_engine(url: str) -> tuple[Engine, str]:
    """(engine, printable location) for the URL, opened so that it cannot write."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        if not path or not Path(path).is_file():
            raise ReportError(f"{path}: database file not found")
        return make_engine(url, readonly=True), str(path)  # leaves no -wal/-shm; works on read-only dirs
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_conn, _record) -> None:
        dbapi_conn.read_only = True  # psycopg 3: every transaction is READ ONLY

    return engine, make_url(url).render_as_string(hide_password=True)


def open_source(run_dir: Path) -> Source:
    """The run in `run_dir`, read-only; ReportError (one line) if it cannot be read."""
    meta_path = Path(run_dir) / RUN_FILE
    if not meta_path.is_file():
        raise ReportError(f"{run_dir}: not a run directory (no {RUN_FILE})")
    try:
        meta = json.loads(meta_path.read_text())
        run_id = str(meta["run_id"])
        # relocatable runs name their SQLite file relative to the run dir (evolve.rundir.RunFile)
        url = str(meta["database_url"]) if "database_url" in meta else sqlite_url(Path(run_dir) / meta["database_file"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReportError(f"{meta_path}: unreadable run file ({type(exc).__name__}: {exc})") from None
    engine, where = readonly_engine(url)
    return Source(Path(run_dir), run_id, engine, where)
