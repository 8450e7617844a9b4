"""Engines for the run database: SQLite (WAL, busy timeout) by default, PostgreSQL by URL.

Three ways to open one (`open_database(url, mode=...)`):
- `create` (seeding, tests): the database may be new; migrate it to the newest schema.
- `write` (run, resume): it must already hold an evolve schema (a deleted or emptied database is
  an error, never silently re-created); older schemas are migrated with Alembic.
- `read` (status, archive): a read-only connection; no migration, no journal-mode switch, no
  file created; the schema must be this version's.
- `inspect` (set-up checks before a run writes): like `read`, but an older schema is accepted
  (a few columns are read before anything, a schema upgrade included, is written).
Every database problem becomes a `DatabaseError`: one line naming the file and what to do.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import urllib.parse
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "evolve_alembic_version"  # the `version_table` migrations/env.py configures
_PG_MIGRATION_LOCK = 0x65766F6C  # advisory lock id: concurrent opens migrate one at a time
Mode = Literal["create", "write", "read", "inspect"]


class DatabaseError(RuntimeError):
    """A database problem, phrased as one line: which database, what is wrong, what to do."""


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases)."""
    u = make_url(url)
    return Path(u.database) if u.get_backend_name() == "sqlite" and u.database else None


def display(url: str) -> str:
    """How a database is named in messages: the SQLite file, or the URL without its password."""
    path = sqlite_path(url)
    return str(path) if path is not None else make_url(url).render_as_string(hide_password=True)


_ADVICE = (  # (phrase in the driver's message, what it means and what to do)
    ("file is not a database", "damaged (not a SQLite database): restore it from a backup"),
    ("malformed", "damaged (malformed): restore it from a backup"),
    ("unable to open database file", "cannot be opened: check that it exists and its directory is accessible"),
    ("readonly database", "is read-only: make it writable to run (read commands work as it is)"),
    ("read-only", "is read-only: make it writable to run (read commands work as it is)"),
    ("database is locked", "is locked by another process: retry when it is done"),
    ("disk i/o error", "gave a disk I/O error: check the disk, then restore from a backup"),
    ("no such table", "lacks evolve's tables: not a run database, or damaged; restore it from a backup"),
    ("no such column", "has another schema version: upgrade vpo-evolve or restore it from a backup"),
    ("connection", "cannot be reached: check that the server runs and the URL is right"),
)


def describe(exc: BaseException, url: str) -> str:
    """One line for a database exception: the database, the problem, what to do."""
    orig = getattr(exc, "orig", None) or exc
    text_ = " ".join(str(orig).split()) or type(orig).__name__
    low = text_.lower()
    for phrase, advice in _ADVICE:
        if phrase in low:
            return f"{display(url)}: database {advice} ({text_[:160]})"
    return f"{display(url)}: database error: {text_[:200]}"


def _sqlite_readonly_connect(path: Path, timeout: float):
    """A read-only connection that leaves no trace.  With a -wal file present (a run is live, or
    was killed) committed pages may still be in it, so the WAL is read (mode=ro).  Without one no
    connection is open and every page is in the main file, which is read as immutable: no -wal or
    -shm file is created, so this works on read-only directories and changes nothing."""
    uri = "file:" + urllib.parse.quote(str(path))
    flags = "mode=ro" if os.path.exists(f"{path}-wal") else "mode=ro&immutable=1"
    return sqlite3.connect(f"{uri}?{flags}", uri=True, timeout=timeout, check_same_thread=False)


def make_engine(url: str, *, busy_timeout_s: float = 30.0, readonly: bool = False) -> Engine:
    """An engine with this project's connection settings for the URL's dialect."""
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if readonly and path is not None:
            # a file pool like any SQLite file URL (a bare "sqlite://" would share one connection per thread)
            engine = create_engine("sqlite://", creator=lambda: _sqlite_readonly_connect(path, busy_timeout_s),
                                   poolclass=QueuePool)
        else:
            engine = create_engine(url, connect_args={"timeout": busy_timeout_s})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below): real atomicity
            cur = dbapi_conn.cursor()
            if not readonly:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: survives process kills
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    args = {"options": "-c default_transaction_read_only=on"} if readonly else {}
    return create_engine(url, pool_pre_ping=True, connect_args=args)


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head() or ""


def schema_revision(engine: Engine) -> str | None:
    """The schema revision stored in the database; None when it holds no evolve schema."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


_MIGRATING = threading.Lock()
"""Alembic's `context` and `op` are module-level proxies that every upgrade installs and
removes: two upgrades in threads of one process (the search-efficiency benchmark seeds several
runs at once) remove each other's and fail with KeyError: 'config'."""


def migrate(engine: Engine) -> None:
    cfg = _alembic_config()
    with _MIGRATING, engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_database(url: str, *, busy_timeout_s: float = 30.0, mode: Mode = "create") -> Engine:
    """An engine on the run database, checked (and for create/write migrated) per `mode`."""
    path = sqlite_path(url)
    if mode != "create" and path is not None and not path.is_file():
        raise DatabaseError(f"{path}: the run's database is missing: restore it from a backup "
                            "(a new run needs `evolve seed`)")
    engine = None
    try:
        if mode != "create":  # checked through a read-only connection: a bad file stays as it is
            engine = make_engine(url, busy_timeout_s=busy_timeout_s, readonly=True)
            _check_schema(engine, url, mode)
        if mode in ("create", "write"):
            if engine is not None:
                engine.dispose()
            engine = make_engine(url, busy_timeout_s=busy_timeout_s)
            migrate(engine)
    except (DatabaseError, SQLAlchemyError) as exc:
        if engine is not None:
            engine.dispose()
        if isinstance(exc, DatabaseError):
            raise
        raise DatabaseError(describe(exc, url)) from None
    return engine


def _check_schema(engine: Engine, url: str, mode: Mode) -> None:
    found, head = schema_revision(engine), head_revision()
    if found is None:
        raise DatabaseError(f"{display(url)}: not an evolve run database (no schema; empty or "
                            "replaced?): restore it from a backup")
    known = {s.revision for s in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}
    if found not in known:
        raise DatabaseError(f"{display(url)}: written by a newer vpo-evolve (schema {found}, this "
                            f"one knows up to {head}): upgrade vpo-evolve")
    if mode == "read" and found != head:
        raise DatabaseError(f"{display(url)}: schema {found} is older than this vpo-evolve's "
                            f"({head}): `evolve resume` on the run upgrades it")
