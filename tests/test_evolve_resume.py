"""Crash safety and database portability of a run.

* `evolve run` subprocesses are SIGKILLed at random points (several trials, once twice in a
  row); `evolve resume` finishes the budget and the archive equals an uninterrupted run's.
* The same run on SQLite and on a real PostgreSQL server gives the same archive.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evolve.runs import execute, seed, status
from tests.evolve_support import PLUGIN, ROOT, cli, problem_dir, snapshot, write_config
from tests.scripted_mutator import factory

ITERATIONS = 20


def _progress(run_dir: Path) -> int:
    """Iterations planned so far, read straight from the SQLite file (0 if not readable yet)."""
    try:
        with sqlite3.connect(run_dir / "evolve.db", timeout=5) as c:
            row = c.execute("SELECT counters FROM runs").fetchone()
    except sqlite3.Error:
        return 0
    return json.loads(row[0]).get("iterations_planned", 0) if row and row[0] else 0


def _start(command: str, run_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SCRIPTED_DELAY_S": "0.05"}
    return subprocess.Popen(
        [sys.executable, "-c", "from evolve.cli import main; main()", command, str(run_dir),
         "--mutator-plugin", PLUGIN],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _kill_at_random_point(proc: subprocess.Popen, run_dir: Path, rnd: random.Random) -> bool:
    """SIGKILL once the run has made random progress (plus a random delay); False if it
    finished first."""
    target = rnd.randint(1, ITERATIONS - 4)
    deadline = time.monotonic() + 120
    while proc.poll() is None and _progress(run_dir) < target and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(rnd.uniform(0.0, 0.4))
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return True


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume_matches_uninterrupted(tmp_path):
    config = write_config(tmp_path / "config.yaml", {"loop": {"iterations": ITERATIONS}})
    problem = str(problem_dir(tmp_path))
    ref = tmp_path / "reference"
    cli("seed", problem, "--run", str(ref), "--config", str(config))
    cli("run", str(ref), "--mutator-plugin", PLUGIN)
    want = snapshot(ref)
    assert len(want["prompts"]) == ITERATIONS

    rnd = random.Random(20240607)
    total_kills = 0
    for trial, kills_wanted in enumerate([1, 1, 2]):
        run_dir = tmp_path / f"trial{trial}"
        cli("seed", problem, "--run", str(run_dir), "--config", str(config))
        command, kills = "run", 0
        while kills < kills_wanted:
            proc = _start(command, run_dir)
            if not _kill_at_random_point(proc, run_dir, rnd):
                break
            kills += 1
            info = status(run_dir)  # killed: the database still says running, the lock is free
            assert info["status"] == "interrupted" and info["resume"] == f"evolve resume {run_dir}"
            command = "resume"
        total_kills += kills
        cli("resume", str(run_dir), "--mutator-plugin", PLUGIN)
        got = snapshot(run_dir)
        assert status(run_dir)["status"] == "finished"
        seqs = [p[0] for p in got["programs"]]
        assert seqs == list(range(len(seqs)))  # no duplicate, no lost program
        assert len({(p[1], p[2]) for p in got["programs"]}) == len(seqs)
        assert got == want, f"trial {trial}: archive differs from the uninterrupted run"
    assert total_kills >= 3


def test_resume_of_a_finished_run_changes_nothing(tmp_path):
    run_dir = tmp_path / "run"
    seed(str(problem_dir(tmp_path)), run_dir, write_config(tmp_path / "c.yaml",
                                                           {"loop": {"iterations": 4}}))
    execute(run_dir, resume=False, mutator_factory=factory)
    before = snapshot(run_dir)
    execute(run_dir, resume=True, mutator_factory=factory)
    assert snapshot(run_dir) == before


def test_longer_budget_continues_a_run(tmp_path):
    """run --iterations 4, then run --iterations 8: the run continues where it stopped (no
    re-seeding, counters continue).  The archive is not required to equal a single run of 8:
    with a budget of 4 the last batch is not overlapped by a fifth planning step."""
    run_dir = tmp_path / "a"
    seed(str(problem_dir(tmp_path)), run_dir, write_config(tmp_path / "c.yaml"))
    execute(run_dir, resume=False, mutator_factory=factory, iterations=4)
    first = snapshot(run_dir)
    assert status(run_dir)["iterations"] == 4
    execute(run_dir, resume=False, mutator_factory=factory, iterations=8)
    second = snapshot(run_dir)
    assert status(run_dir)["iterations"] == 8
    assert [p[0] for p in second["prompts"]] == list(range(8))
    assert second["programs"][: len(first["programs"])] == first["programs"]
    assert sum(p[5] == "seed" for p in second["programs"]) == 3  # one per island, never re-added


def test_without_overlap_a_continued_run_equals_one_run(tmp_path):
    """With `loop.overlap: false` nothing is planned ahead, so stopping at 4 iterations and
    continuing to 8 gives exactly the archive of one run of 8."""
    config = write_config(tmp_path / "c.yaml", {"loop": {"overlap": False}})
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    for run_dir in (whole, parts):
        seed(str(problem_dir(tmp_path)), run_dir, config)
    execute(whole, resume=False, mutator_factory=factory, iterations=8)
    execute(parts, resume=False, mutator_factory=factory, iterations=4)
    execute(parts, resume=False, mutator_factory=factory, iterations=8)
    assert snapshot(parts) == snapshot(whole)


@pytest.mark.postgres
def test_sqlite_and_postgres_give_the_same_archive(tmp_path, postgres_url):
    problem = str(problem_dir(tmp_path))
    runs = {}
    for name, url in (("sqlite", None), ("postgres", postgres_url)):
        run_dir = tmp_path / name
        seed(problem, run_dir, write_config(tmp_path / f"{name}.yaml", url=url))
        execute(run_dir, resume=False, mutator_factory=factory)
        runs[name] = snapshot(run_dir)
    assert json.loads((tmp_path / "postgres" / "run.json").read_text())["database_url"] == postgres_url
    assert not (tmp_path / "postgres" / "evolve.db").exists()
    assert runs["postgres"] == runs["sqlite"]
    assert len(runs["sqlite"]["programs"]) > 20
