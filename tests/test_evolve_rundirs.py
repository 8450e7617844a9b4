"""Runs are self-contained directories: a `cp -a` copy never writes into the original, `mv`
works, exports never overwrite without --force nor land inside a run, and a damaged run.json is
one line.  Every refusal leaves every stored byte as it was."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evolve.cli import main
from evolve.db import repo
from evolve.db.engine import sqlite_url
from evolve.runs import open_run
from tests.evolve_support import PLUGIN, finished_run, one_line_error, problem_dir, tree_state, write_config


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def ok(*args) -> str:
    res = invoke(*args)
    assert res.exit_code == 0, res.output
    return " ".join(res.output.split())


def homes(run_dir: Path) -> list[dict]:
    r = open_run(run_dir)
    try:
        with repo.transaction(r.factory) as s:
            return [e.detail for e in repo.events(s, r.run_id, "home")]
    finally:
        r.close()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    run_dir = finished_run(tmp_path_factory.mktemp("rundirs"))
    assert json.loads((run_dir / "run.json").read_text())["database_file"] == "evolve.db"
    return run_dir


@pytest.fixture
def run(base, tmp_path) -> Path:
    """A finished run of this test's own: a copy of `base` driven once (so its home is here)."""
    subprocess.run(["cp", "-a", str(base), str(tmp_path / "run")], check=True)
    assert "a copy of" in ok("resume", tmp_path / "run", "--mutator-plugin", PLUGIN)
    return tmp_path / "run"


def test_a_copy_is_its_own_run_and_never_writes_into_the_original(run, tmp_path):
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(run), str(copy)], check=True)
    original = tree_state(run)
    out = ok("run", copy, "--iterations", 8, "--mutator-plugin", PLUGIN)
    assert f"a copy of {run.resolve()}: continuing as its own run in its own database" in out
    assert tree_state(run) == original  # not one byte of the original changed
    assert json.loads(ok("status", copy, "--json"))["iterations"] == 8
    assert json.loads(ok("status", run, "--json"))["iterations"] == 4
    assert homes(copy)[-1]["copied_from"] == str(run.resolve())
    assert homes(run)[-1]["path"] == str(run.resolve())
    out = ok("run", copy, "--iterations", 10, "--mutator-plugin", PLUGIN)  # now its own home
    assert "a copy of" not in out


def test_a_moved_run_works_and_records_its_new_home(run, tmp_path):
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    run.rename(moved)
    assert json.loads(ok("status", moved, "--json"))["iterations"] == 4
    assert "origin" in ok("archive", "ls", moved)
    out = ok("resume", moved, "--mutator-plugin", PLUGIN)
    assert f"the run moved from {run.resolve()}" in out
    last = homes(moved)[-1]
    assert last["path"] == str(moved.resolve()) and last["moved_from"] == str(run.resolve())


@pytest.mark.postgres
def test_a_copy_of_a_run_on_a_shared_database_refuses(tmp_path, postgres_url):
    run_dir = tmp_path / "pg"
    ok("seed", problem_dir(tmp_path), "--run", run_dir, "--config", write_config(tmp_path / "pg.yaml", url=postgres_url))
    copy = tmp_path / "pg-copy"
    subprocess.run(["cp", "-a", str(run_dir), str(copy)], check=True)
    before = json.loads(ok("status", run_dir, "--json"))
    msg = one_line_error(invoke("run", copy, "--mutator-plugin", PLUGIN))
    assert f"a copy of the run in {run_dir.resolve()}" in msg and "drive the original, or seed a new run" in msg
    assert json.loads(ok("status", run_dir, "--json")) == before  # the shared run is untouched
    ok("run", run_dir, "--iterations", 2, "--mutator-plugin", PLUGIN)  # the original still runs


def test_export_refuses_to_overwrite_without_force_and_never_writes_into_the_run(run, tmp_path):
    stored = tree_state(run)
    target = tmp_path / "best.py"
    target.write_text("keep me\n")
    assert one_line_error(invoke("archive", "best", run, "--export", target)).endswith(
        "best.py: exists; add --force to replace it")
    assert target.read_text() == "keep me\n"
    for inside in (run / "evolve.db", run / "run.json", run / "new.py"):
        msg = one_line_error(invoke("archive", "best", run, "--export", inside, "--force"))
        assert "inside the run directory" in msg
    link = tmp_path / "link.py"
    link.symlink_to(run / "evolve.db")
    assert "inside the run directory" in one_line_error(invoke("archive", "best", run, "--export", link, "--force"))
    assert tree_state(run) == stored
    ok("archive", "best", run, "--export", target, "--force")
    assert "def solve" in target.read_text()
    fresh = tmp_path / "fresh.py"
    ok("archive", "best", run, "--export", fresh)
    assert fresh.read_text() == target.read_text()
    assert tree_state(run) == stored


@pytest.mark.parametrize("content, expected", [
    (b"{}", "run.json: run_id: Field required: the file is damaged; restore it from a backup"),
    (b"{\"run_id\": 3", "run.json: line 1: invalid JSON"),
    (b"\xff\xfe", "run.json: not UTF-8 text"),
    (b"[]", "run.json: <root>: Input should be a valid dictionary"),
    (b'{"run_id": "00000000000000000000000000000000", "database_file": "../evolve.db"}',
     "database_file must be a file name inside the run directory"),
])
def test_a_damaged_run_json_is_one_line_and_nothing_changes(run, content, expected):
    (run / "run.json").write_bytes(content)
    stored = tree_state(run)
    for args in (("status", run), ("archive", "ls", run), ("resume", run), ("run", run)):
        assert expected in one_line_error(invoke(*args)), args
    assert tree_state(run) == stored


def test_a_run_json_of_another_database_is_one_line(run, base):
    meta = json.loads((run / "run.json").read_text())
    meta["run_id"] = "f" * 32
    (run / "run.json").write_text(json.dumps(meta))
    stored = tree_state(run)
    assert "holds no run ffffffff" in one_line_error(invoke("status", run))
    assert "holds no run ffffffff" in one_line_error(invoke("resume", run, "--mutator-plugin", PLUGIN))
    assert tree_state(run) == stored


def test_run_json_of_older_versions_still_opens(run):
    """Before runs were relocatable run.json held the database's absolute URL; the file was
    always the run dir's own, so it is found there even after a move."""
    meta = json.loads((run / "run.json").read_text())
    legacy = {"run_id": meta["run_id"], "database_url": sqlite_url(Path("/nowhere/old-place/evolve.db"))}
    (run / "run.json").write_text(json.dumps(legacy))
    assert json.loads(ok("status", run, "--json"))["iterations"] == 4


def test_seed_needs_an_absent_or_empty_directory(tmp_path):
    problem, cfg = problem_dir(tmp_path), write_config(tmp_path / "c.yaml")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    assert "busy: exists and is not empty" in one_line_error(invoke("seed", problem, "--run", busy, "--config", cfg))
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    ok("seed", problem, "--run", empty, "--config", cfg)
    assert sorted(p.name for p in empty.iterdir()) == ["config.yaml", "evolve.db", "run.json"]
    assert not list(tmp_path.glob(".*seeding*"))  # the staging directory was renamed into place


def test_run_and_resume_never_create_a_mistyped_directory(tmp_path):
    for command in ("run", "resume", "status"):
        missing = tmp_path / "typo" / "run"
        assert "no such directory" in one_line_error(invoke(command, missing))
        assert not (tmp_path / "typo").exists()
