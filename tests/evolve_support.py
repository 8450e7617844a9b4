"""Helpers for the evolve tests: a small run config, seeding, and a comparable archive snapshot."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import yaml
from sqlalchemy import select

from evolve.db import repo
from evolve.db.models import Cell, Event, Program, PromptRow, Rollout
from evolve.runs import open_run
from tests.scripted_mutator import write_fizz_problem

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = "tests.scripted_mutator:factory"
SMALL = {
    "islands": {"count": 3, "migration_interval": 4, "migration_fraction": 0.5,
                "reset_interval": 8, "reset_fraction": 0.34},
    "mutation": {"answers": 2, "completions": 2},
    "loop": {"batch_size": 2, "iterations": 16, "stop_when_solved": False, "seed": 7},
    "sandbox": {"backend": "process", "slots": 2},
}


def write_config(path: Path, overrides: dict | None = None, url: str | None = None) -> Path:
    cfg = {k: dict(v) for k, v in SMALL.items()}
    for k, v in (overrides or {}).items():
        cfg.setdefault(k, {}).update(v)
    if url:
        cfg["database"] = {"url": url}
    path.write_text(yaml.safe_dump(cfg))
    return path


def problem_dir(tmp: Path) -> Path:
    d = tmp / "fizz"
    return d if (d / "problem.yaml").exists() else write_fizz_problem(d)


def cli(*args: str, check: bool = True, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """`evolve ARGS` in a subprocess that can import the tests package."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    res = subprocess.run([sys.executable, "-c", "from evolve.cli import main; main()", *args],
                         cwd=ROOT, env=full_env,
                         capture_output=True, text=True, **kw)
    if check and res.returncode != 0:
        raise AssertionError(f"evolve {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}")
    return res


def snapshot(run_dir: Path) -> dict:
    """Everything a run decided, without database ids, timestamps or timing counters."""
    r = open_run(run_dir)
    try:
        with repo.transaction(r.factory) as s:
            rid = r.run_id
            run = repo.get_run(s, rid)
            progs = s.scalars(select(Program).where(Program.run_id == rid).order_by(Program.seq)).all()
            cells = s.scalars(select(Cell).where(Cell.run_id == rid)).all()
            prompts = s.scalars(select(PromptRow).where(PromptRow.run_id == rid)
                                .order_by(PromptRow.iteration)).all()
            rolls = s.scalars(select(Rollout).where(Rollout.run_id == rid)
                              .order_by(Rollout.iteration, Rollout.completion_index)).all()
            events = s.scalars(select(Event).where(Event.run_id == rid, Event.kind.in_(
                ["migration", "reset"])).order_by(Event.batch_index, Event.kind)).all()
            timing = {"elapsed_s", "evaluations"}
            return {
                "programs": [(p.seq, p.island, p.code_hash, p.code, p.parent_seq, p.origin,
                              p.generation, p.iteration, p.scores, p.fitness, p.descriptor,
                              p.slot, p.error) for p in progs],
                "cells": sorted((c.island, c.cell_key, c.program_seq, c.fitness, c.arrival)
                                for c in cells),
                "prompts": [(p.iteration, p.batch_index, p.island, p.parent_seq, p.inspirations,
                             p.user) for p in prompts],
                "rollouts": [(x.iteration, x.completion_index, x.rewards, x.valid, x.answer_keys,
                              x.answers, x.finish_reason, len(x.text)) for x in rolls],
                "events": [(e.kind, e.batch_index, e.detail) for e in events],
                "counters": {k: v for k, v in run.counters.items() if k not in timing},
                "binning": run.binning,
                "rng": run.rng_state,
            }
    finally:
        r.engine.dispose()


def one_line_error(res) -> str:
    """The error of a failed click invocation or subprocess: exactly one line, `Error: ...`."""
    code = res.exit_code if hasattr(res, "exit_code") else res.returncode
    text = (res.output if hasattr(res, "exit_code") else res.stdout + res.stderr).strip()
    assert code != 0, text
    assert "\n" not in text and text.startswith("Error: "), f"not one line:\n{text}"
    return text


def tree_state(root: Path) -> dict[str, str]:
    """Every file under `root` (dotfiles included) -> sha256 of its bytes: 'nothing stored
    changed' means this is equal before and after."""
    root = Path(root)
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def finished_run(tmp: Path, iterations: int = 4) -> Path:
    """`evolve seed` + `evolve run` (scripted mutator) of the toy problem in tmp/base."""
    from click.testing import CliRunner

    from evolve.cli import main

    run_dir = tmp / "base"
    for args in (["seed", problem_dir(tmp), "--run", run_dir, "--config",
                  write_config(tmp / "c.yaml", {"loop": {"iterations": iterations}})],
                 ["run", run_dir, "--mutator-plugin", PLUGIN]):
        res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert res.exit_code == 0, res.output
    return run_dir
