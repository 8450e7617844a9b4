"""The run lifecycle: seed, run/resume, status (the run directory itself: evolve.rundir).

Set-up is checked before anything is written: the config, the problem, and a started sandbox
(seed also evaluates the initial program) come first; a new run is assembled in a hidden
staging directory and renamed into place, so a failed seed leaves nothing behind.  Ctrl-C and
SIGTERM (`Terminated`) stop a run as "interrupted"; a killed one reads as interrupted because
nobody holds its lock.
"""

from __future__ import annotations

import importlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from evolve.accounting import AccountingError, run_totals
from evolve.config import RunConfig, dump_yaml, load_config, with_problem_defaults
from evolve.db import repo
from evolve.db.engine import describe, display, open_database, sqlite_url
from evolve.db.models import Program, Rollout
from evolve.loop import Budget, Loop
from evolve.map_elites import PASS_SCORE
from evolve.mutator import Mutator, build_mutator
from evolve.rundir import (
    CONFIG_FILE,
    RUN_FILE,
    OpenRun,
    RunError,
    RunFile,
    database_errors,
    exclusive,
    identity,
    lock_held,
    open_run,
    read_run_file,
    rehome,
    resume_hint,
    stored_config,
)
from evolve.search import Search
from problems.model import Problem

__all__ = ["RunError", "Terminated", "execute", "load_factory", "open_run", "seed", "status", "exclusive"]
MutatorFactory = Callable[[RunConfig], Mutator]
KILLED = "no process holds the run's lock: it was killed or crashed"


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (raised by the command line's signal handler)."""


@dataclass
class Seeded:
    run_id: str
    problem_id: str
    islands: int
    fitness: float
    sandbox: dict[str, str]


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _check_seedable(run_dir: Path) -> None:
    if (run_dir / RUN_FILE).exists():
        raise RunError(f"{run_dir}: already seeded; use `evolve run` or `evolve resume`")
    if run_dir.exists() and not run_dir.is_dir():
        raise RunError(f"{run_dir}: exists and is not a directory")
    if run_dir.is_dir() and any(run_dir.iterdir()):
        raise RunError(f"{run_dir}: exists and is not empty: seed into a new or empty directory")


def seed(problem_ref: "str | Problem", run_dir: Path, config_path: Path | None = None,
         database_url: str | None = None) -> Seeded:
    """Create a run: evaluate the initial program and put it on every island.  `problem_ref`
    names a problem (`evolve problems list`) or is one (benchmarks seed split problems);
    `database_url` overrides the config's `database.url` (a run shared by `evolve worker`s)."""
    from problems.loaders import load_problem
    from sandbox.api import Sandbox

    run_dir = Path(run_dir)
    _check_seedable(run_dir)
    problem = problem_ref if isinstance(problem_ref, Problem) else load_problem(problem_ref)
    cfg = with_problem_defaults(load_config(config_path), problem.run_defaults, f"{problem.id} run defaults")
    if database_url:
        cfg = cfg.model_copy(update={"database": cfg.database.model_copy(update={"url": database_url})})
    with Sandbox(cfg.sandbox) as box:  # refuses (one line) before anything is written
        box.start()
        result = box.evaluate(problem.search_view(), problem.initial_program)  # no held-out tests
        used = box.describe()
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = run_dir.parent / f".{run_dir.name}.seeding-{uuid.uuid4().hex[:12]}"
    stage.mkdir()  # the umask's permissions, like any new directory
    try:
        meta = RunFile(run_id=uuid.uuid4().hex, database_url=cfg.database.url,
                       database_file=None if cfg.database.url else cfg.database.filename)
        url = meta.url(stage)
        engine = open_database(url, busy_timeout_s=cfg.database.busy_timeout_s)
        try:
            factory = repo.session_factory(engine)
            search = Search.create(factory, meta.run_id, problem, cfg, result)
            with repo.transaction(factory) as s:
                repo.add_event(s, meta.run_id, "home", {**identity(stage), "path": str(run_dir.resolve())})
                repo.add_event(s, meta.run_id, "sandbox", used)
        except SQLAlchemyError as exc:
            raise RunError(describe(exc, sqlite_url(run_dir / cfg.database.filename)
                                    if meta.database_file else url)) from None
        finally:
            engine.dispose()
        _write_atomic(stage / CONFIG_FILE, dump_yaml(cfg))
        _write_atomic(stage / RUN_FILE, meta.model_dump_json(exclude_none=True) + "\n")
        try:
            os.rename(stage, run_dir)  # atomic; refuses a directory that filled up meanwhile
        except OSError:
            raise RunError(f"{run_dir}: appeared or filled up while seeding; nothing was written there") from None
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    best = search.archive.best()
    return Seeded(meta.run_id, problem.id, search.archive.n_islands, best.fitness if best else 0.0, used)


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
            on_batch: Callable | None = None, notify: Callable[[str], None] | None = None) -> str:
    """Drive a run until its budget is spent.  `resume` keeps the budget stored by the last
    `run`; otherwise the flags (or the config) set it.  Returns the stop reason.  Nothing is
    written before the run, its database and the sandbox check out."""
    from sandbox.api import Sandbox

    read_run_file(run_dir)  # a mistyped path is an error, never a new directory
    with exclusive(run_dir):
        cfg = stored_config(run_dir)
        _no_live_workers(run_dir, cfg)
        with Sandbox(cfg.sandbox) as box:
            box.start()
            mutator = mutator_factory(cfg) if mutator_factory else build_mutator(cfg.mutator)
            r = open_run(run_dir, mode="write")  # the first write: an older schema is upgraded
            try:
                with database_errors(r):
                    search = Search.load(r.factory, r.run_id)
                    with repo.transaction(r.factory) as s:
                        stored = dict(repo.get_run(s, r.run_id).budget)
                        home, note = rehome(r, s)
                    budget = (Budget(**stored) if resume and stored
                              else Budget.from_config(search.config.loop, iterations, minutes))
                    _started(r, search, budget, resume, home, box.describe())
                if note and notify:
                    notify(f"{run_dir}: {note}")
                return _drive(r, search, search.config, mutator, box, budget, on_start, on_batch)
            finally:
                r.close()


def _no_live_workers(run_dir: Path, cfg: RunConfig) -> None:
    """`evolve run` drives a run alone: refuse one that `evolve worker`s are driving."""
    from evolve.distributed.registry import any_live

    from sqlalchemy import inspect

    r = open_run(run_dir, mode="inspect")
    try:
        with database_errors(r), repo.transaction(r.factory) as s:
            if not inspect(r.engine).has_table("workers"):
                return  # an older schema: no worker ever ran on it
            if any_live(s, r.run_id, cfg.workers.grace_s):
                raise RunError(f"{run_dir}: `evolve worker`s are driving this run; add workers "
                               "instead, or stop them first")
    finally:
        r.close()


def _started(r: OpenRun, search: Search, budget: Budget, resume: bool, home: dict | None,
             sandbox: dict) -> None:
    in_flight = [p.index for p in search.open_plans()]
    with repo.transaction(r.factory) as s:
        if home is not None:
            repo.add_event(s, r.run_id, "home", home)
        repo.add_event(s, r.run_id, "sandbox", sandbox)
        repo.update_run(s, r.run_id, status="running", budget=budget.__dict__, stop_reason="")
        repo.add_event(s, r.run_id, "resume" if resume else "run",
                       {"budget": budget.__dict__, "in_flight_batches": in_flight,
                        "counters": search.counters.__dict__, "sandbox": sandbox})


def _drive(r: OpenRun, search: Search, cfg: RunConfig, mutator: Mutator, box, budget: Budget,
           on_start, on_batch) -> str:
    # --- online fine-tuning hook (evolve/online.py): swapping mutator + training callback
    if cfg.trainer is not None:
        from evolve.online import attach

        mutator, on_batch, _ = attach(r.run_dir, r.factory, r.run_id, cfg, mutator, on_batch, budget)
    # --- end of the online fine-tuning hook
    if on_start:
        on_start(search, budget)
    try:
        with mutator:
            reason = Loop(search, mutator, box, budget, on_batch=on_batch).run()
    except KeyboardInterrupt as exc:
        _finish(r, "interrupted", str(exc) or "interrupted by the user (Ctrl-C)")
        raise
    except Exception as exc:
        _finish(r, "failed", f"{type(exc).__name__}: {exc}"[:500])
        if isinstance(exc, SQLAlchemyError):
            raise RunError(describe(exc, r.url)) from None
        raise
    _finish(r, "finished", reason)
    return reason


def _finish(r: OpenRun, status: str, reason: str) -> None:
    """Record how the run stopped; if even that fails (the database is gone or damaged), the
    status stays "running" and reads as interrupted once the lock is released."""
    try:
        with repo.transaction(r.factory) as s:
            repo.update_run(s, r.run_id, status=status, stop_reason=reason)
            kind = {"finished": "stop", "failed": "error"}.get(status, status)
            repo.add_event(s, r.run_id, kind, {"reason": reason})
    except SQLAlchemyError:
        pass


def status(run_dir: Path) -> dict:
    """What `evolve status` shows, as plain data.  Reads only: the database is opened
    read-only and a "running" run nobody holds the lock of reads as interrupted."""
    from evolve.distributed.registry import any_live

    run_dir = Path(run_dir)
    r = open_run(run_dir)
    try:
        with database_errors(r), repo.transaction(r.factory) as s:
            run = repo.get_run(s, r.run_id)
            c = dict(run.counters)
            cells = repo.load_cells(s, r.run_id)
            best = repo.get_program(s, r.run_id, c["best_seq"]) if c.get("best_seq") is not None else None
            n_programs = repo.count_programs(s, r.run_id)
            per_version = _per_policy_version(s, r.run_id)
            used = repo.last_event(s, r.run_id, "sandbox")
            workers = any_live(s, r.run_id, RunConfig.model_validate(run.config).workers.grace_s)
            try:
                acct = run_totals(s, r.run_id)
            except AccountingError as exc:
                raise RunError(f"{display(r.url)}: {exc}: restore the database from a backup") from None
    finally:
        r.close()
    state, reason = run.status, run.stop_reason
    if state == "running" and not lock_held(run_dir) and not workers:
        state, reason = "interrupted", KILLED
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
        "run_id": run.id, "problem": run.problem_id, "status": state,
        "stop_reason": reason, "resume": resume_hint(run_dir) if state == "interrupted" else None,
        "sandbox": (used.detail if used else {}).get("backend"), "jail": (used.detail if used else {}).get("jail"),
        "iterations": c.get("iterations_done", 0),
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
        "accounting": {k: round(v, 3) for k, v in acct.items()},  # evolve.accounting.totals
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
