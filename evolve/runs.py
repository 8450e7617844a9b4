"""Run directories and the run lifecycle: seed, run/resume, status.

A run directory holds `run.json` (run id + database URL), `config.yaml` (the expanded config,
for reading; the database snapshot is authoritative) and, by default, the SQLite database.
An exclusive file lock keeps two processes from driving one run.
"""

from __future__ import annotations

import fcntl
import importlib
import json
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import Engine, func, select

from evolve.config import RunConfig, dump_yaml, load_config, with_problem_defaults
from evolve.db import repo
from evolve.db.engine import open_database, sqlite_url
from evolve.db.models import Program, Rollout
from evolve.loop import Budget, Loop
from evolve.map_elites import PASS_SCORE
from evolve.mutator import Mutator, build_mutator
from evolve.search import Search
from problems.model import Problem

RUN_FILE = "run.json"
CONFIG_FILE = "config.yaml"
LOCK_FILE = ".lock"
MutatorFactory = Callable[[RunConfig], Mutator]


class RunError(RuntimeError):
    """A user-facing problem with a run directory (one line)."""


@dataclass
class OpenRun:
    run_dir: Path
    run_id: str
    engine: Engine

    @property
    def factory(self):
        return repo.session_factory(self.engine)


def database_url(cfg: RunConfig, run_dir: Path) -> str:
    return cfg.database.url or sqlite_url(run_dir / cfg.database.filename)


def open_run(run_dir: Path) -> OpenRun:
    meta_path = Path(run_dir) / RUN_FILE
    if not meta_path.is_file():
        raise RunError(f"{run_dir}: not a run directory (no {RUN_FILE}; create it with `evolve seed`)")
    meta = json.loads(meta_path.read_text())
    return OpenRun(Path(run_dir), meta["run_id"], open_database(meta["database_url"]))


@contextmanager
def exclusive(run_dir: Path) -> Iterator[None]:
    """Hold the run's lock (released by the OS even if the process is killed)."""
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    fd = os.open(Path(run_dir) / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunError(f"{run_dir}: another process is driving this run") from None
        yield
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def seed(problem_ref: "str | Problem", run_dir: Path, config_path: Path | None = None) -> Search:
    """Create a run: evaluate the initial program and put it on every island.  `problem_ref`
    names a problem (`evolve problems list`) or is one (benchmarks seed split problems)."""
    from problems.loaders import load_problem
    from sandbox.api import Sandbox

    run_dir = Path(run_dir)
    if (run_dir / RUN_FILE).exists():
        raise RunError(f"{run_dir}: already seeded; use `evolve run` or `evolve resume`")
    problem = problem_ref if isinstance(problem_ref, Problem) else load_problem(problem_ref)
    cfg = with_problem_defaults(load_config(config_path), problem.run_defaults, f"{problem.id} run defaults")
    with exclusive(run_dir):
        url = database_url(cfg, run_dir)
        engine = open_database(url, busy_timeout_s=cfg.database.busy_timeout_s)
        with Sandbox(cfg.sandbox) as box:  # held-out tests never reach the search
            result = box.evaluate(problem.search_view(), problem.initial_program)
        run_id = uuid.uuid4().hex
        search = Search.create(repo.session_factory(engine), run_id, problem, cfg, result)
        _write_atomic(run_dir / CONFIG_FILE, dump_yaml(cfg))
        _write_atomic(run_dir / RUN_FILE, json.dumps({"run_id": run_id, "database_url": url}) + "\n")
    return search


def load_factory(spec: str) -> MutatorFactory:
    """`module:callable` returning a Mutator for a RunConfig (custom or test mutators)."""
    module, _, name = spec.partition(":")
    if not module or not name:
        raise RunError(f"--mutator-plugin {spec!r}: expected module:callable")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise RunError(f"--mutator-plugin {spec!r}: {exc}") from None


def execute(run_dir: Path, *, resume: bool, iterations: int | None = None,
            minutes: float | None = None, mutator_factory: MutatorFactory | None = None,
            on_start: Callable[[Search, Budget], None] | None = None,
            on_batch: Callable | None = None) -> str:
    """Drive a run until its budget is spent.  `resume` keeps the budget stored by the last
    `run`; otherwise the flags (or the config) set it.  Returns the stop reason."""
    from sandbox.api import Sandbox

    with exclusive(run_dir):
        r = open_run(run_dir)
        search = Search.load(r.factory, r.run_id)
        cfg = search.config
        with repo.transaction(r.factory) as s:
            run = repo.get_run(s, r.run_id)
            stored = dict(run.budget)
        if resume and stored:
            budget = Budget(**stored)
        else:
            budget = Budget.from_config(cfg.loop, iterations, minutes)
        in_flight = [p.index for p in search.open_plans()]
        with repo.transaction(r.factory) as s:
            repo.update_run(s, r.run_id, status="running", budget=budget.__dict__, stop_reason="")
            repo.add_event(s, r.run_id, "resume" if resume else "run",
                           {"budget": budget.__dict__, "in_flight_batches": in_flight,
                            "counters": search.counters.__dict__})
        mutator = mutator_factory(cfg) if mutator_factory else build_mutator(cfg.mutator)
        # --- online fine-tuning hook (evolve/online.py): swapping mutator + training callback
        if cfg.trainer is not None:
            from evolve.online import attach

            mutator, on_batch, _ = attach(Path(run_dir), r.factory, r.run_id, cfg, mutator, on_batch)
        # --- end of the online fine-tuning hook
        if on_start:
            on_start(search, budget)
        try:
            with Sandbox(cfg.sandbox) as box, mutator:
                reason = Loop(search, mutator, box, budget, on_batch=on_batch).run()
        except KeyboardInterrupt:
            _finish(r, "interrupted", "interrupted by the user")
            raise
        except Exception as exc:
            _finish(r, "failed", f"{type(exc).__name__}: {exc}"[:500])
            raise
        _finish(r, "finished", reason)
        return reason


def _finish(r: OpenRun, status: str, reason: str) -> None:
    with repo.transaction(r.factory) as s:
        repo.update_run(s, r.run_id, status=status, stop_reason=reason)
        kind = {"finished": "stop", "failed": "error"}.get(status, status)
        repo.add_event(s, r.run_id, kind, {"reason": reason})


def status(run_dir: Path) -> dict:
    """What `evolve status` shows, as plain data."""
    r = open_run(run_dir)
    with repo.transaction(r.factory) as s:
        run = repo.get_run(s, r.run_id)
        c = dict(run.counters)
        cells = repo.load_cells(s, r.run_id)
        best = repo.get_program(s, r.run_id, c["best_seq"]) if c.get("best_seq") is not None else None
        n_programs = repo.count_programs(s, r.run_id)
        per_version = _per_policy_version(s, r.run_id)
    d = len(Problem.model_validate(run.problem).search_view().tests)
    solved_tests = set()
    for _, p in cells:
        solved_tests |= {i for i, x in enumerate(p.scores) if x >= PASS_SCORE}
    islands: dict[int, dict] = {}
    for cell, p in cells:
        isl = islands.setdefault(cell.island, {"elites": 0, "best_fitness": 0.0})
        isl["elites"] += 1
        isl["best_fitness"] = max(isl["best_fitness"], p.fitness)
    elapsed = c.get("elapsed_s", 0.0)
    return {
        "run_id": run.id, "problem": run.problem_id, "status": run.status,
        "stop_reason": run.stop_reason, "iterations": c.get("iterations_done", 0),
        "iterations_planned": c.get("iterations_planned", 0),
        "iteration_budget": run.budget.get("iterations"), "programs": n_programs,
        "children": c.get("children", 0), "duplicates": c.get("duplicates", 0),
        "rejected_answers": c.get("rejected", 0), "evaluations": c.get("evaluations", 0),
        "best_seq": c.get("best_seq"), "best_fitness": best.fitness if best else None,
        "best_passed": sum(x >= PASS_SCORE for x in best.scores) if best else 0,
        "tests": d, "tests_solved_by_some_elite": len(solved_tests),
        "solved_seq": c.get("solved_seq"), "elapsed_s": round(elapsed, 1),
        "children_per_min": round(60 * c.get("children", 0) / elapsed, 2) if elapsed else None,
        "policy_version": max((v["version"] for v in per_version if v["rollouts"]), default=0),
        "model_version": run.policy_version or 0,  # newest adapter trained online (evolve.online)
        "by_policy_version": per_version,
        "islands": [{"island": i, **v} for i, v in sorted(islands.items())],
    }


def _per_policy_version(s, run_id: str) -> list[dict]:
    """Which adapter version sampled what: rollouts (completions), the new programs they
    produced, and those programs' best and mean fitness (seed programs excluded)."""
    rolls = dict(s.execute(select(Rollout.policy_version, func.count()).where(Rollout.run_id == run_id)
                           .group_by(Rollout.policy_version)).all())
    kids = {v: (n, best, mean) for v, n, best, mean in s.execute(
        select(Program.policy_version, func.count(), func.max(Program.fitness), func.avg(Program.fitness))
        .where(Program.run_id == run_id, Program.origin == "child")
        .group_by(Program.policy_version)).all()}
    out = []
    for v in sorted(set(rolls) | set(kids)):
        n, best, mean = kids.get(v, (0, None, None))
        out.append({"version": v, "rollouts": rolls.get(v, 0), "children": n,
                    "best_fitness": None if best is None else round(best, 4),
                    "mean_fitness": None if mean is None else round(mean, 4)})
    return out
