"""Sampling and scoring outside a search: offline fine-tuning (`evolve train`) and evaluation
(`evolve eval passk`) of a mutator on a problem suite.

Each problem is asked for improvements of its initial program with the search's own prompt
(`evolve.prompts`, no inspirations, no attempts) and output format; every completion's answers
become children (`evolve.loop.safe_mutate`), each distinct child is evaluated once in the
sandbox, and its per-test score vector is the answer's reward row - exactly what the online
trainer reads from a run's rollouts, so offline and online training see the same signal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evolve.answers import answer_rows, programs_to_run, rollout_record
from evolve.config import MutationConfig, RunConfig
from evolve.loop import safe_mutate
from evolve.mutator import Completion, Mutator
from evolve.prompts import Failure, ProgramView, PromptBuilder
from evolve.scored import Scored
from problems.model import Problem
from trainer.checkpoints import adapter_path, version_checkpoint
from trainer.metrics_math import best_at_k, pass_at_k, reward_diversity
from trainer.records import RolloutGroup


@dataclass
class ScoredCompletion:
    """One completion and the m x d reward matrix of its answers."""

    completion: Completion
    rewards: list[list[float]]
    valid: list[bool]
    keys: list[str]
    fitness: list[float]  # per slot; 0 where no child was produced


@dataclass
class Task:
    """A problem with its initial program evaluated and its mutation prompt built."""

    problem: Problem
    messages: list[dict[str, str]]
    view: ProgramView  # the evaluated initial program, as prompts show it


def make_tasks(problems: list[Problem], config: RunConfig, sandbox) -> list[Task]:
    out = []
    for p in (q.search_view() for q in problems):  # held-out tests are never rewards
        view = evaluated_view(sandbox, p, p.initial_program)
        out.append(Task(p, PromptBuilder.of(p, config).build(view, [], []).messages(), view))
    return out


def evaluated_view(sandbox, problem: Problem, code: str, seq: int = 0) -> ProgramView:
    """`code` evaluated on `problem`'s tests, as prompts show a program."""
    sc = Scored.of(sandbox.evaluate(problem, code), len(problem.tests))
    return ProgramView(seq, code, sc.fitness, tuple(sc.scores), tuple(Failure(*f) for f in sc.failures))


def score_completions(task: Task, completions: list[Completion], m: int, sandbox) -> list[ScoredCompletion]:
    """Reward matrices of one problem's completions (children deduplicated by code hash)."""
    p, d = task.problem, len(task.problem.tests)
    outcomes = [safe_mutate(p.initial_program, c.text, m) for c in completions]
    codes = programs_to_run(outcomes, m)
    results = sandbox.evaluate_many(p, list(codes.values())) if codes else []
    scored = {h: Scored.of(r, d) for h, r in zip(codes, results, strict=True)}
    out = []
    for comp, o in zip(completions, outcomes, strict=True):
        rows = answer_rows(o, m, d, scored)
        out.append(ScoredCompletion(comp, rows.rewards, rows.valid, rows.keys, rows.fitness))
    return out


def sample(mutator: Mutator, tasks: list[Task], n: int, m: int, mutation: MutationConfig,
           seed: int, sandbox) -> list[list[ScoredCompletion]]:
    """n completions per task, scored: one generate call per distinct sampling setup (the
    scaffold opens rewrites with the EVOLVE-BLOCK marker only where the parent has one)."""
    params = [mutation.params(seed, m, parent=t.problem.initial_program) for t in tasks]
    by_setup: dict[str, list[int]] = {}
    for i, p in enumerate(params):
        by_setup.setdefault(p.model_dump_json(), []).append(i)
    groups: list[list[Completion]] = [[] for _ in tasks]
    for idx in by_setup.values():
        out = mutator.generate([tasks[i].messages for i in idx], n, params[idx[0]],
                               parents=[tasks[i].problem.initial_program for i in idx])
        for i, g in zip(idx, out, strict=True):
            groups[i] = g
    return [score_completions(t, g, m, sandbox) for t, g in zip(tasks, groups, strict=True)]


def to_group(group_id: str, scored: list[ScoredCompletion], m: int, d: int) -> RolloutGroup:
    recs = [rollout_record(
        group_id, prompt_ids=s.completion.prompt_token_ids, token_ids=s.completion.token_ids,
        logprobs=s.completion.logprobs, sampled=s.completion.sampled,
        temperatures=s.completion.temperatures,
        policy_version=s.completion.policy_version,
        truncated=s.completion.finish_reason == "length",
        rewards=s.rewards, valid=s.valid, keys=s.keys,
    ) for s in scored]
    return RolloutGroup(group_id=group_id, rollouts=recs, num_answers=m, num_tests=d)


def train(learner, mutator: Mutator, tasks: list[Task], *, steps: int, prompts_per_step: int,
          config: RunConfig, sandbox, out_dir: Path) -> Iterator[dict]:
    """`steps` learner steps, each on `prompts_per_step` problems (round robin); every update is
    checkpointed to OUT/vN and hot-swapped into the mutator.  Yields each step's metrics."""
    m, G = config.mutation.answers, config.mutation.completions
    for step in range(steps):
        batch = [tasks[(step * prompts_per_step + j) % len(tasks)] for j in range(prompts_per_step)]
        pools = sample(mutator, batch, G, m, config.mutation, config.loop.seed + step, sandbox)
        groups = [to_group(f"{step}:{j}:{t.problem.id}", pool, m, len(t.problem.tests))
                  for j, (t, pool) in enumerate(zip(batch, pools, strict=True))]
        metrics = learner.step(groups)
        adapter = None
        if metrics["updated"]:
            ckpt = learner.save_checkpoint(version_checkpoint(out_dir, learner.version))
            adapter = adapter_path(ckpt)
            mutator.load_adapter(learner.version, adapter)
        fits = [f for pool in pools for s in pool for f in s.fitness]
        yield {"step": step, "policy_version": learner.version, "updated": metrics["updated"],
               "adapter": str(adapter) if adapter else None, "loss": metrics["loss"],
               "mean_fitness": float(np.mean(fits)) if fits else 0.0,
               "valid_answers": sum(v for pool in pools for s in pool for v in s.valid),
               "answers": len(fits)}


def passk_report(pool: list[ScoredCompletion], ks: list[int], solved_at: float) -> dict:
    """pass@k (unbiased; solved = fitness >= solved_at), best@k of the answers' fitness and the
    reward-space diversity (mean pairwise L1) of the valid answers; the pool is every answer
    slot (n completions x m answers, missing answers score 0)."""
    fitness = [f for s in pool for f in s.fitness]
    rows = [r for s in pool for r, v in zip(s.rewards, s.valid) if v]
    n, c = len(fitness), sum(f >= solved_at for f in fitness)
    valid_ks = [k for k in ks if 1 <= k <= n]
    return {
        "answers": n, "valid": len(rows), "solved": c,
        "pass_at_k": {str(k): pass_at_k(n, c, k) for k in valid_ks},
        "best_at_k": {str(k): best_at_k(fitness, k) for k in valid_ks},
        "diversity": reward_diversity(rows),
        "fitness": fitness,
    }


def mean_report(reports: list[dict]) -> dict:
    keys = set.intersection(*(set(r["pass_at_k"]) for r in reports)) if reports else set()
    ks = sorted(keys, key=int)
    avg: Callable[[list[float]], float] = lambda xs: float(np.mean(xs)) if xs else 0.0  # noqa: E731
    return {
        "problems": len(reports),
        "pass_at_k": {k: avg([r["pass_at_k"][k] for r in reports]) for k in ks},
        "best_at_k": {k: avg([r["best_at_k"][k] for r in reports]) for k in ks},
        "diversity": avg([r["diversity"] for r in reports]),
    }
