"""Database trouble is one line naming the file and what to do, and loses nothing: damaged,
emptied and deleted databases are never re-created or migrated; read commands open the database
read-only (no migration, no journal-mode switch, no file created), so a read-only run can be
inspected."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from evolve.cli import main
from tests.evolve_support import PLUGIN, ROOT, finished_run, one_line_error, tree_state

READS = (("status",), ("archive", "ls"), ("archive", "best"), ("archive", "grid"), ("archive", "show"))
WRITES = (("run",), ("resume",))


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def ok(*args) -> str:
    res = invoke(*args)
    assert res.exit_code == 0, res.output
    return res.output


def every_command(run_dir: Path):
    for args in READS + WRITES:
        extra = ["0"] if args == ("archive", "show") else ["--mutator-plugin", PLUGIN] if args in WRITES else []
        yield args, invoke(*args, run_dir, *extra)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    run_dir = finished_run(tmp_path_factory.mktemp("damaged"))
    (run_dir / ".lock").unlink()  # as if never driven here: no command may create more than it
    return run_dir


@pytest.fixture
def run(base, tmp_path) -> Path:
    shutil.copytree(base, tmp_path / "run")
    return tmp_path / "run"


def _garbage(db: Path) -> None:
    db.write_bytes(b"this is not a database\n" * 300)


def _truncated(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])


def _emptied(db: Path) -> None:
    db.write_bytes(b"")


@pytest.mark.parametrize("damage, expected", [
    (_garbage, "database damaged (not a SQLite database): restore it from a backup"),
    (_truncated, "database damaged (malformed): restore it from a backup"),
    (_emptied, "not an evolve run database (no schema; empty or replaced?): restore it from a backup"),
])
def test_a_damaged_database_is_one_line_for_every_command_and_stays_as_it_is(run, damage, expected):
    damage(run / "evolve.db")
    stored = tree_state(run)
    for args, res in every_command(run):
        msg = one_line_error(res)
        assert msg.startswith(f"Error: {run / 'evolve.db'}: ") and expected in msg, (args, msg)
    after = tree_state(run)
    after.pop(".lock", None)  # the write commands take the run's lock before opening the database
    assert after == stored


def test_a_deleted_database_is_never_recreated(run):
    (run / "evolve.db").unlink()
    stored = tree_state(run)
    for args, res in every_command(run):
        msg = one_line_error(res)
        assert msg == (f"Error: {run / 'evolve.db'}: the run's database is missing: restore it from a backup "
                       "(a new run needs `evolve seed`)"), args
    assert not (run / "evolve.db").exists()
    after = tree_state(run)
    after.pop(".lock", None)
    assert after == stored


def test_a_database_of_a_newer_version_is_refused_unchanged(run):
    with sqlite3.connect(run / "evolve.db") as c:
        c.execute("UPDATE evolve_alembic_version SET version_num = '9999_future'")
    c.close()
    stored = tree_state(run)
    for args, res in every_command(run):
        assert "written by a newer vpo-evolve (schema 9999_future" in one_line_error(res), args
    after = tree_state(run)
    after.pop(".lock", None)
    assert after == stored


def test_reads_change_nothing_not_even_the_journal_mode(run):
    with sqlite3.connect(run / "evolve.db") as c:
        assert c.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)
    c.close()
    stored = tree_state(run)
    assert json.loads(ok("status", run, "--json"))["iterations"] == 4
    for args in READS:
        ok(*args, run, *(["0"] if args == ("archive", "show") else []))
    assert tree_state(run) == stored  # no -wal/-shm, no .lock, no byte changed
    with sqlite3.connect(run / "evolve.db") as c:
        assert c.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    c.close()


def _in_read_only_mount(run_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """`evolve ARGS` with run_dir bind-mounted read-only (even root cannot write there)."""
    assert shutil.which("bwrap"), "scripts/test.sh installs bubblewrap"
    cmd = ["bwrap", "--dev-bind", "/", "/", "--ro-bind", str(run_dir), str(run_dir), "--",
           sys.executable, "-c", "from evolve.cli import main; main()", *args]
    return subprocess.run(cmd, cwd=ROOT, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                              "HOME": str(run_dir.parent)},
                          capture_output=True, text=True, timeout=300)


def test_a_read_only_run_can_be_inspected_and_refuses_to_run(run):
    stored = tree_state(run)
    res = _in_read_only_mount(run, "status", str(run), "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["iterations"] == 4
    res = _in_read_only_mount(run, "archive", "best", str(run))
    assert res.returncode == 0 and "def solve" in res.stdout, res.stderr
    res = _in_read_only_mount(run, "resume", str(run), "--mutator-plugin", PLUGIN)
    msg = one_line_error(res)
    assert "cannot take the run's lock (Read-only file system): runs need a writable directory" in msg
    assert tree_state(run) == stored


def test_a_killed_runs_wal_is_read_without_writing(run):
    """A run killed mid-write leaves -wal/-shm files whose pages are not in the main file yet:
    read commands see them (read-only WAL access) and leave every byte alone."""
    with sqlite3.connect(run / "evolve.db") as c:
        c.execute("PRAGMA journal_mode=WAL")
    c.close()
    code = ("import sqlite3, os, signal, json, sys\n"
            "c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA wal_autocheckpoint=0')\n"
            "row = c.execute('SELECT id, counters FROM runs').fetchone(); n = json.loads(row[1])\n"
            "n['iterations_done'] = 99\n"
            "c.execute('UPDATE runs SET counters = ? WHERE id = ?', (json.dumps(n), row[0])); c.commit()\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    subprocess.run([sys.executable, "-c", code, str(run / "evolve.db")])
    assert (run / "evolve.db-wal").stat().st_size > 0
    stored = tree_state(run)
    assert json.loads(ok("status", run, "--json"))["iterations"] == 99
    after = tree_state(run)
    del stored["evolve.db-shm"], after["evolve.db-shm"]  # the WAL's index: a cache readers rebuild
    assert after == stored


def test_an_older_schema_is_read_by_no_read_command_and_upgraded_only_by_a_run_that_starts(run, tmp_path,
                                                                                          monkeypatch):
    """Read commands never migrate: they name the upgrade.  `resume` checks the sandbox (here:
    no jail on the host) before its first write, so a refused resume leaves the old schema; a
    resume that starts upgrades it."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from evolve.db.engine import MIGRATIONS, VERSION_TABLE, head_revision
    from tests.test_sandbox_isolation import hide_jail_tools

    url = f"sqlite:///{run / 'evolve.db'}"
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    engine.dispose()
    stored = tree_state(run)
    for args in READS:
        res = invoke(*args, run, *(["0"] if args == ("archive", "show") else []))
        assert (f"evolve.db: schema 0001 is older than this vpo-evolve's ({head_revision()}): "
                "`evolve resume` on the run upgrades it") in one_line_error(res)
    hide_jail_tools(tmp_path, monkeypatch)
    assert "no jail isolates candidates" in one_line_error(invoke("resume", run, "--mutator-plugin", PLUGIN))
    after = tree_state(run)
    after.pop(".lock")
    assert after == stored  # not migrated: the refusal came first
    monkeypatch.undo()
    ok("resume", run, "--mutator-plugin", PLUGIN)
    with sqlite3.connect(run / "evolve.db") as c:
        assert c.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone() == (head_revision(),)
    c.close()
    assert json.loads(ok("status", run, "--json"))["status"] == "finished"
