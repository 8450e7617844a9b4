"""Reward rows for online training: the registry of reward modes (`trainer.online.reward`).

A mode turns one stored rollout - its m x d matrix of the children's per-test scores and, per
answer slot, what became of the answer - into the m x d reward rows the learner trains on.
Rollout rows are read into typed `StoredRollout`s once; the database context a mode needs (parent
scores, the run's solve history, which programs crashed) is built only for the modes that need
it (`RewardMode.needs`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from evolve.db import repo
from evolve.db.models import Program, PromptRow
from sandbox.results import PASS_SCORE


@dataclass(frozen=True)
class Slot:
    """What became of one answer: child (a new program), known (re-found one the island holds),
    rejected (syntax error), or the parser's issue kind (missing, duplicate, unchanged, ...)."""

    status: str
    seq: int | None = None


@dataclass(frozen=True)
class StoredRollout:
    prompt_id: int
    iteration: int
    rewards: list[list[float]]  # the children's per-test scores; zero rows where none
    slots: list[Slot]  # one per answer slot, in slot order

    @classmethod
    def of(cls, row: Any) -> "StoredRollout":
        """From a rollout row (evolve.db.models.Rollout); its `answers` JSON is read once here."""
        raw = (row.answers or {}).get("slots", {})
        slots = [Slot(str(raw.get(str(k), {}).get("status", "missing")), raw.get(str(k), {}).get("seq"))
                 for k in range(1, len(row.rewards) + 1)]
        return cls(row.prompt_id, row.iteration, [list(r) for r in row.rewards], slots)


@dataclass
class RewardContext:
    """What the reward modes need beyond the rollout itself (each part only when needed)."""

    parent_scores: dict[int, list[float]] = field(default_factory=dict)  # prompt id -> parent's
    batch_start: dict[int, int] = field(default_factory=dict)  # prompt id -> first iteration
    passed_by_iteration: list[tuple[int, frozenset[int]]] = field(default_factory=list)
    seed_passed: frozenset[int] = frozenset()
    crashed: frozenset[int] = frozenset()  # seqs of programs whose evaluation errored

    def solved_before(self, iteration: int) -> set[int]:
        """Tests a seed or a program created by a prompt before `iteration` passes."""
        out = set(self.seed_passed)
        for _, tests in self.passed_by_iteration[: bisect_left(self.passed_by_iteration, (iteration,))]:
            out |= tests
        return out


Rows = list[list[float]]


@dataclass(frozen=True)
class RewardMode:
    fn: Callable[[StoredRollout, RewardContext], Rows]
    needs: frozenset[str] = frozenset()  # of "parents", "history", "crashes"
    doc: str = ""


def _scores(r: StoredRollout, ctx: RewardContext) -> Rows:
    return [list(row) for row in r.rewards]


def _improvement(r: StoredRollout, ctx: RewardContext) -> Rows:
    parent = ctx.parent_scores[r.prompt_id]
    return [[max(0.0, x - p) for x, p in zip(row, parent, strict=True)] for row in r.rewards]


def _novel_tests(r: StoredRollout, ctx: RewardContext) -> Rows:
    solved = ctx.solved_before(ctx.batch_start[r.prompt_id])  # known when the prompt was planned
    return [[0.0 if i in solved else x for i, x in enumerate(row)] for row in r.rewards]


def _new_programs(r: StoredRollout, ctx: RewardContext) -> Rows:
    return [list(row) if s.status == "child" else [0.0] * len(row) for row, s in zip(r.rewards, r.slots)]


# ThetaEvolve's graded failures, kept inside [0, 1] (VPO's rows are non-negative): below every
# real program, a lazy answer (unchanged, a duplicate, a re-found program) above a crash, a crash
# above a broken or missing answer.
GRADES = {"lazy": 0.1, "crash": 0.05, "broken": 0.0}
LAZY = {"known", "unchanged", "duplicate"}
PROGRAM_FLOOR = 0.25


def _graded(r: StoredRollout, ctx: RewardContext) -> Rows:
    out = []
    for row, s in zip(r.rewards, r.slots):
        d = len(row)
        if s.status == "child" and s.seq not in ctx.crashed:
            out.append([PROGRAM_FLOOR + (1 - PROGRAM_FLOOR) * x for x in row])
        elif s.status in LAZY:
            out.append([GRADES["lazy"]] * d)
        elif s.status in ("child", "rejected"):  # crashed in the sandbox, or a syntax error
            out.append([GRADES["crash"]] * d)
        else:
            out.append([GRADES["broken"]] * d)
    return out


REWARD_MODES: dict[str, RewardMode] = {
    "scores": RewardMode(_scores, doc="the child's per-test score vector"),
    "improvement": RewardMode(_improvement, frozenset({"parents"}),
                              "max(0, child - parent) per test"),
    "novel_tests": RewardMode(_novel_tests, frozenset({"history"}),
                              "scores on tests no program of the run passed when the batch was planned"),
    "new_programs": RewardMode(_new_programs,
                               doc="scores for answers that became new programs, zero for re-writes"),
    "graded": RewardMode(_graded, frozenset({"crashes"}),
                         "programs 0.25 + 0.75 x scores; lazy answers 0.1, crashes 0.05, broken 0"),
}


def reward_context(s, run_id: str, rollouts: list[StoredRollout], needs: frozenset[str]) -> RewardContext:
    """The context `needs` asks for, from the run database (nothing when it asks for nothing)."""
    ctx = RewardContext()
    if not needs:
        return ctx
    prompt_ids = sorted({r.prompt_id for r in rollouts})
    prompts = s.scalars(select(PromptRow).where(PromptRow.id.in_(prompt_ids))).all()
    if "parents" in needs:
        parents = repo.programs_by_seq(s, run_id, sorted({p.parent_seq for p in prompts}))
        ctx.parent_scores = {p.id: list(parents[p.parent_seq].scores) for p in prompts}
    if "history" in needs:
        q = (select(PromptRow.batch_index, func.min(PromptRow.iteration))
             .where(PromptRow.run_id == run_id, PromptRow.batch_index.in_({p.batch_index for p in prompts}))
             .group_by(PromptRow.batch_index))
        starts = dict(s.execute(q).all())
        ctx.batch_start = {p.id: starts[p.batch_index] for p in prompts}
        by_iter: dict[int, set[int]] = {}
        seed: set[int] = set()
        q = select(Program.iteration, Program.scores, Program.origin).where(Program.run_id == run_id)
        for it, scores, origin in s.execute(q):
            passed = {i for i, x in enumerate(scores) if x >= PASS_SCORE}
            if origin == "seed" or it is None:
                seed |= passed
            else:
                by_iter.setdefault(it, set()).update(passed)
        ctx.passed_by_iteration = sorted((i, frozenset(t)) for i, t in by_iter.items())
        ctx.seed_passed = frozenset(seed)
    if "crashes" in needs:
        seqs = sorted({sl.seq for r in rollouts for sl in r.slots if sl.seq is not None})
        rows = repo.programs_by_seq(s, run_id, seqs)
        ctx.crashed = frozenset(q for q, p in rows.items() if p.error)
    return ctx
