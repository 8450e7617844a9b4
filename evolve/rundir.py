"""A run directory: `run.json` (run id + where the database is), `config.yaml`, the lock, and by
default the SQLite database itself.

Runs are relocatable: run.json names a SQLite database relative to the directory, so `mv` of the
whole directory just works and a `cp -a` copy holds its own database.  The directory's identity
(device, inode, path) is recorded in the run's events (`home`), and run/resume compare it with
the directory they were given: a moved run records its new home; a copy is recognised and
either continues as its own run in its own database (SQLite), or refuses when its database is
shared with the original (PostgreSQL), since it would be a second writer of the original run.

An exclusive flock on `.lock` marks the process driving a run; the OS drops it when that process
dies, so a run whose database says "running" while nobody holds the lock was killed.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from evolve.config import ConfigError, RunConfig, validate
from evolve.db import repo
from evolve.db.engine import DatabaseError, Mode, describe, display, open_database, sqlite_path, sqlite_url
from evolve.db.models import Run

RUN_FILE = "run.json"
CONFIG_FILE = "config.yaml"
LOCK_FILE = ".lock"
MAX_RUN_FILE_BYTES = 64 << 10


class RunError(RuntimeError):
    """A user-facing problem with a run directory (one line)."""


def resume_hint(run_dir: Path) -> str:
    return f"evolve resume {shlex.quote(str(run_dir))}"


class RunFile(BaseModel):
    """run.json: the run id and its database, either a SQLite file inside the run dir
    (`database_file`, relative) or another database's URL (`database_url`)."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    database_file: str | None = None
    database_url: str | None = None

    @model_validator(mode="after")
    def _one_database(self) -> RunFile:
        if (self.database_file is None) == (self.database_url is None):
            raise ValueError("needs exactly one of database_file and database_url")
        f = self.database_file
        if f is not None and (not f or "/" in f or f in (".", "..")):
            raise ValueError("database_file must be a file name inside the run directory")
        return self

    def url(self, run_dir: Path) -> str:
        return self.database_url or sqlite_url(Path(run_dir) / str(self.database_file))

    @property
    def shared(self) -> bool:
        """The database is not the run dir's own (a copy of the dir would share it)."""
        return self.database_url is not None


def read_run_file(run_dir: Path) -> RunFile:
    """run.json of `run_dir`, validated; RunError (one line) for anything else.  Reads only."""
    run_dir = Path(run_dir)
    path = run_dir / RUN_FILE
    if not run_dir.is_dir():
        what = "not a directory" if run_dir.exists() else "no such directory"
        raise RunError(f"{run_dir}: {what} (create a run with `evolve seed PROBLEM --run {run_dir}`)")
    if not path.is_file():
        raise RunError(f"{run_dir}: not a run directory (no {RUN_FILE}; create it with `evolve seed`)")
    try:
        if path.stat().st_size > MAX_RUN_FILE_BYTES:
            raise RunError(f"{path}: over {MAX_RUN_FILE_BYTES} bytes: not a run file; restore it from a backup")
        data = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise RunError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RunError(f"{path}: not UTF-8 text: the file is damaged; restore it from a backup") from None
    except json.JSONDecodeError as exc:
        raise RunError(f"{path}: line {exc.lineno}: invalid JSON ({exc.msg}): restore it from a backup") from None
    if isinstance(data, dict) and str(data.get("database_url", "")).startswith("sqlite"):
        # written before runs were relocatable: the file always sat in the run dir
        legacy = sqlite_path(data.pop("database_url"))
        data["database_file"] = legacy.name if legacy else None
    try:
        return RunFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "<root>"
        msg = err["msg"].removeprefix("Value error, ")
        raise RunError(f"{path}: {where}: {msg}: the file is damaged; restore it from a backup") from None


@dataclass
class OpenRun:
    run_dir: Path
    run_id: str
    engine: Engine
    url: str
    meta: RunFile

    @property
    def factory(self):
        return repo.session_factory(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def open_run(run_dir: Path, *, mode: Mode = "read", busy_timeout_s: float = 30.0) -> OpenRun:
    """The run in `run_dir` with an engine on its database (`read`: read-only, never creates
    or migrates; `write`: the database must exist, older schemas are migrated)."""
    meta = read_run_file(run_dir)
    url = meta.url(run_dir)
    try:
        engine = open_database(url, busy_timeout_s=busy_timeout_s, mode=mode)
    except DatabaseError as exc:
        raise RunError(str(exc)) from None
    return OpenRun(Path(run_dir), meta.run_id, engine, url, meta)


def _no_such_run(r: OpenRun) -> RunError:
    return RunError(f"{display(r.url)}: holds no run {r.run_id} (run.json and the database do not "
                    "belong together): restore them from a backup")


@contextmanager
def database_errors(r: OpenRun) -> Iterator[None]:
    """Turn any database exception into a RunError naming the database and what to do."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise RunError(describe(exc, r.url)) from None
    except repo.RunNotFound:
        raise _no_such_run(r) from None


def stored_config(run_dir: Path) -> RunConfig:
    """The run's config snapshot, read without migrating or writing anything: what the set-up
    checks of run/resume (the sandbox, the mutator) need before the first write."""
    r = open_run(run_dir, mode="inspect")
    try:
        with database_errors(r), r.engine.connect() as conn:
            data = conn.execute(select(Run.config).where(Run.id == r.run_id)).scalar()
    finally:
        r.close()
    if data is None:
        raise _no_such_run(r)
    try:
        return validate(data, f"{display(r.url)}: the run's stored config")
    except ConfigError as exc:
        raise RunError(str(exc)) from None


@contextmanager
def exclusive(run_dir: Path) -> Iterator[None]:
    """Hold the run's lock (released by the OS even if the process is killed).  The directory
    must exist: nothing is created but the lock file inside it."""
    try:
        fd = os.open(Path(run_dir) / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise RunError(f"{run_dir}: cannot take the run's lock ({exc.strerror}): runs need a writable "
                       "directory (read commands work as it is)") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunError(f"{run_dir}: another process is driving this run") from None
        yield
    finally:
        os.close(fd)


def lock_held(run_dir: Path) -> bool:
    """Whether some process (this one included) holds the run's lock.  Writes nothing."""
    try:
        fd = os.open(Path(run_dir) / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the shared lock we may have taken
    return False


def identity(run_dir: Path) -> dict:
    st = os.stat(run_dir)
    return {"path": str(Path(run_dir).resolve()), "dev": st.st_dev, "ino": st.st_ino}


def _same_run_at(was: dict, run_id: str) -> bool:
    """The directory recorded as the run's home still exists, is the same directory, and
    holds the same run: then a directory elsewhere with the run is a copy of it."""
    path = Path(was["path"])
    try:
        st = os.stat(path)
        return (st.st_dev, st.st_ino) == (was["dev"], was["ino"]) and read_run_file(path).run_id == run_id
    except (OSError, RunError):
        return False


def rehome(r: OpenRun, s) -> tuple[dict | None, str]:
    """(the `home` event to record, a note for the user) when `r.run_dir` is not where the run
    was last driven; (None, "") when it is.  Raises RunError for a copy that would write into the
    original's database."""
    here = identity(r.run_dir)
    last = repo.last_event(s, r.run_id, "home")
    if last is None:
        return here, ""  # a run made before homes were recorded
    was = last.detail
    if (was["dev"], was["ino"]) == (here["dev"], here["ino"]):
        if was["path"] == here["path"]:
            return None, ""
        return {**here, "moved_from": was["path"]}, f"the run moved from {was['path']}"
    if not _same_run_at(was, r.run_id):
        return {**here, "moved_from": was["path"]}, f"the run moved from {was['path']}"
    if r.meta.shared:
        raise RunError(f"{r.run_dir}: a copy of the run in {was['path']}, whose database "
                       f"({display(r.url)}) it shares: drive the original, or seed a new run")
    return ({**here, "copied_from": was["path"]},
            f"a copy of {was['path']}: continuing as its own run in its own database (the original is untouched)")
