"""One benchmark cell: an evolve run of one arm on one problem with one seed, and its figures.

Figures read back from the run database: the best fitness after every answer generated (the
answer index of a program = its prompt's iteration x answers per prompt + its completion x m +
its slot), the answer at which the first solving program appeared, whether that program also
passes the problem's held-out tests (evaluated here, after the run: the search never saw them),
usable answers, tokens (prompt and answer tokens per operator), the wall time split recorded in
the batches' stats, the operator bandit's successes and trials, and what the online learner did
(benchmarks/search_bench/learning.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

import yaml
from sqlalchemy import select

from benchmarks.search_bench.learning import learner_figures
from evolve.accounting import BatchStats
from evolve.db import repo
from evolve.db.models import Batch, Program, PromptRow, Rollout, Run
from evolve.map_elites import PASS_SCORE
from evolve.runs import execute, open_run, seed
from problems.model import Problem
from sandbox.results import EvalResult


def _what_it_ran(config: dict[str, Any]) -> dict[str, Any]:
    """The config with every default filled in (a changed default is another config: a cell made
    under the old default is not reused), less where its server listened (a new server, same
    cell)."""
    from evolve.config import validate

    cfg = validate(config, "benchmark cell config").snapshot()
    cfg["mutator"].pop("base_url", None)
    return cfg


def empty_cell_dir(run_dir: Path) -> None:
    """`run_dir`, empty: a cell killed half-way, or made with another config or server, starts
    again from its seed program (every arm's cells, ours and OpenEvolve's)."""
    if run_dir.exists():
        import shutil

        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)


def run_cell(problem: Problem, config: dict[str, Any], run_dir: Path, mutator_factory=None) -> float:
    """Seed and run; returns the wall seconds.  A finished run of the same config is reused
    (resumable benchmark: a rerun skips what is done); another config's runs again."""
    done = run_dir / "cell.json"
    cfg_path = run_dir.parent / f"{run_dir.name}.yaml"
    ran = _what_it_ran(config)
    if done.is_file() and (cell := json.loads(done.read_text())).get("config") == ran:
        return cell["wall_s"]
    empty_cell_dir(run_dir)
    cfg_path.write_text(yaml.safe_dump(config, sort_keys=False))
    t0 = time.monotonic()
    seed(problem, run_dir, cfg_path)
    execute(run_dir, resume=False, mutator_factory=mutator_factory)
    wall = time.monotonic() - t0
    done.write_text(json.dumps({"wall_s": wall, "config": ran}))
    return wall


def answer_index(iteration: int, completion: int, slot: int, completions: int, m: int) -> int:
    """1-based count of answers generated up to and including this one."""
    return iteration * completions * m + completion * m + slot


class Found(NamedTuple):
    """A program a cell's search found: when, how fit, whether it passes every search test."""

    answer: int  # 1-based count of answers generated when it appeared
    fitness: float
    passes: bool
    code: str


def outcome(found: list[Found], seed_fitness: float, seed_code: str, budget: int,
            holdout_eval: Callable[[str], EvalResult | None]) -> dict[str, Any]:
    """A cell's search figures from the programs it found (ours or OpenEvolve's): best fitness
    after every answer, the answer of the first program passing every search test and of the
    first that also passes the held-out tests (solved), and the held-out fitness of the best
    program (on continuous problems, whether what the search fitted generalises to unseen
    instances).  `holdout_eval(code)` evaluates a program on the held-out tests (None: none)."""
    found = sorted(found, key=lambda f: f.answer)
    curve, best, i = [], seed_fitness, 0
    best_code = seed_code
    for budget_a in range(1, budget + 1):
        while i < len(found) and found[i].answer <= budget_a:
            if found[i].fitness > best:
                best, best_code = found[i].fitness, found[i].code
            i += 1
        curve.append(round(best, 6))
    solved_at = search_solved_at = None
    for f in found:
        if f.passes and f.answer <= budget:
            search_solved_at = search_solved_at or f.answer
            held = holdout_eval(f.code)
            if held is None or held.all_passed:
                solved_at = f.answer
                break
    held = holdout_eval(best_code)
    return {
        "seed_fitness": seed_fitness, "best_fitness": curve[-1] if curve else seed_fitness,
        "curve": curve, "solved": solved_at is not None, "answers_to_solve": solved_at,
        "search_solved": search_solved_at is not None,
        "holdout_fitness": None if held is None else round(held.fitness, 6),
    }


def operator_tokens(s, run_id: str) -> dict[str, dict[str, int]]:
    """Per operator (fresh | refine | crossover; best-of-N's prompts are all fresh): completions,
    prompt tokens and answer tokens, so arms can be compared at equal tokens as well as at equal
    answers (a refine prompt, holding a program and its failures, is longer than a fresh one).
    Completions without token ids (OpenAI-style backends) count as completions only."""
    out: dict[str, dict[str, int]] = {}
    rows = s.execute(select(PromptRow.operator, Rollout.prompt_token_ids, Rollout.token_ids)
                     .join(PromptRow, Rollout.prompt_id == PromptRow.id)
                     .where(Rollout.run_id == run_id))
    for op, prompt_ids, answer_ids in rows:
        o = out.setdefault(op, {"completions": 0, "prompt_tokens": 0, "answer_tokens": 0})
        o["completions"] += 1
        o["prompt_tokens"] += len(prompt_ids or ())
        o["answer_tokens"] += len(answer_ids or ())
    return out


def cell_metrics(run_dir: Path, problem: Problem, *, budget: int, completions: int, m: int,
                 holdout_eval) -> dict[str, Any]:
    """The cell's figures.  `holdout_eval(code)` evaluates a program on the held-out tests."""
    r = open_run(run_dir)
    try:
        with repo.transaction(r.factory) as s:
            progs = s.execute(select(Program.seq, Program.code, Program.fitness, Program.scores,
                                     Program.origin, Program.iteration, Program.slot,
                                     Rollout.completion_index, Program.error)
                              .outerjoin(Rollout, Program.rollout_id == Rollout.id)
                              .where(Program.run_id == r.run_id).order_by(Program.seq)).all()
            stats = [BatchStats.model_validate(b) for (b,) in s.execute(
                select(Batch.stats).where(Batch.run_id == r.run_id, Batch.stats.is_not(None)))]
            counters = s.execute(select(Run.counters).where(Run.id == r.run_id)).scalar_one()
            learning = learner_figures(s, r.run_id)
            tokens = operator_tokens(s, r.run_id)
    finally:
        r.engine.dispose()
    seeds = [p for p in progs if p.origin == "seed"]
    top_seed = max(seeds, key=lambda p: p.fitness) if seeds else None
    found = [Found(answer_index(p.iteration, p.completion_index, p.slot, completions, m),
                   p.fitness if not p.error else 0.0,
                   bool(p.scores) and min(p.scores) >= PASS_SCORE and not p.error, p.code)
             for p in progs if p.origin == "child" and None not in (p.iteration, p.slot, p.completion_index)]
    total = lambda k: float(sum(getattr(st, k) or 0.0 for st in stats))  # noqa: E731
    return {
        **outcome(found, top_seed.fitness if top_seed else 0.0, top_seed.code if top_seed else "",
                  budget, holdout_eval),
        "answers": total("answers"), "usable": total("usable"),
        "new_programs": total("new_programs"),
        "tokens": total("sampled_tokens") + total("discarded_tokens"),
        "prompt_tokens": sum(o["prompt_tokens"] for o in tokens.values()),
        "operator_tokens": tokens,
        "generate_s": total("generate_s"), "evaluate_s": total("evaluate_s"),
        "learn_s": total("learn_s"),
        # the operator bandit's record (evolve.operators): op -> [completions that beat their
        # island's best, completions]
        "operators": dict((counters or {}).get("operator_stats") or {}),
        # the online learner's steps, zero-advantage share and reward per step (None: frozen)
        "learning": learning,
    }
