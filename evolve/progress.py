"""A run's figures as the live display and the end-of-run summary show them, read from its
database (any session: the driving process's own, or a read-only one).

Cheap enough to read every few seconds while a run goes: the run row, the elites, the done
batches' stats, the newest children and the newest learner step, never the rollouts.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select

from evolve.accounting import BatchStats, stats_of, totals
from evolve.db import repo
from evolve.db.models import Batch, Cell, Event, Program, Run
from evolve.map_elites import PASS_SCORE

RECENT_CHILDREN = 20  # the "recent children" mean: the newest N children of the run


class LearnerStep(BaseModel):
    """The newest `train` event (evolve.online)."""

    version: int
    updated: bool
    groups: int = 0
    seconds_ago: float | None = None
    metrics: dict[str, float] = {}


class Progress(BaseModel):
    status: str
    problem_id: str
    iterations_done: int
    iterations_budget: int | None
    minutes_budget: float | None
    elapsed_s: float
    batches_done: int
    best_seq: int | None
    best_fitness: float | None
    best_passed: int
    tests: int
    initial_fitness: float | None
    elites: int
    elites_mean: float | None
    recent_children_mean: float | None
    children: int
    duplicates: int
    rejected: int
    model_version: int
    learner_configured: bool
    train_steps: int
    last_step: LearnerStep | None
    totals: dict[str, float]  # evolve.accounting.totals of the done batches
    last_batch: BatchStats | None

    @property
    def children_per_min(self) -> float | None:
        return 60 * self.children / self.elapsed_s if self.elapsed_s > 0 else None

    @property
    def tokens_per_s(self) -> float | None:
        """Completion tokens per second of generation (the mutator's throughput)."""
        return self.totals.get("completion_tokens_per_s") or None


def _ago(t: datetime | None) -> float | None:
    if t is None:
        return None
    t = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    return max(0.0, (datetime.now(timezone.utc) - t).total_seconds())


class BatchStatsCache:
    """The done batches' stats, read incrementally: a live display re-reads only the newest two
    batches (the learner adds its seconds to the batch it trained after; a run of tens of
    thousands of batches is not re-parsed every few seconds)."""

    def __init__(self) -> None:
        self.stats: dict[int, BatchStats] = {}

    def read(self, s, run_id: str) -> list[BatchStats]:
        since = max(self.stats, default=0) - 1
        q = (select(Batch.batch_index, Batch.stats)
             .where(Batch.run_id == run_id, Batch.status == "done", Batch.batch_index >= since))
        for index, raw in s.execute(q):
            if raw is not None:
                self.stats[index] = stats_of(index, raw)
        return [self.stats[k] for k in sorted(self.stats)]


def read_progress(s, run_id: str, cache: BatchStatsCache | None = None) -> Progress:
    run = s.execute(select(Run.status, Run.problem_id, Run.counters, Run.budget, Run.policy_version,
                           Run.config["trainer"].as_string().label("trainer"))
                    .where(Run.id == run_id)).first()  # not the problem and config snapshots
    if run is None:
        raise repo.RunNotFound(run_id)
    c: dict[str, Any] = dict(run.counters or {})
    seeds = c.get("seeds") or []
    best = repo.get_program(s, run_id, c["best_seq"]) if c.get("best_seq") is not None else None
    initial = repo.get_program(s, run_id, seeds[0]) if seeds else None
    n_elites, elites_mean = s.execute(select(func.count(), func.avg(Cell.fitness))
                                      .where(Cell.run_id == run_id)).one()
    recent = s.execute(select(Program.fitness).where(Program.run_id == run_id, Program.origin == "child")
                       .order_by(Program.seq.desc()).limit(RECENT_CHILDREN)).scalars().all()
    stats = (cache or BatchStatsCache()).read(s, run_id)
    n_train = s.scalar(select(func.count()).select_from(Event)
                       .where(Event.run_id == run_id, Event.kind == "train")) or 0
    last = repo.last_event(s, run_id, "train")
    step = None
    if last is not None:
        d = last.detail
        metrics = {k: float(v) for k, v in (d.get("metrics") or {}).items()
                   if isinstance(v, int | float) and not isinstance(v, bool)}
        step = LearnerStep(version=int(d.get("version", 0)), updated=bool(d.get("updated")),
                           groups=int(d.get("groups", 0)), seconds_ago=_ago(last.created_at), metrics=metrics)
    budget = dict(run.budget or {})
    return Progress(
        status=run.status, problem_id=run.problem_id,
        iterations_done=int(c.get("iterations_done", 0)), iterations_budget=budget.get("iterations"),
        minutes_budget=budget.get("minutes"), elapsed_s=float(c.get("elapsed_s", 0.0)),
        batches_done=int(c.get("batches_done", 0)),
        best_seq=best.seq if best else None, best_fitness=best.fitness if best else None,
        best_passed=sum(x >= PASS_SCORE for x in best.scores) if best else 0,
        tests=len(best.scores) if best else len(initial.scores) if initial else 0,
        initial_fitness=initial.fitness if initial else None,
        elites=int(n_elites or 0), elites_mean=float(elites_mean) if elites_mean is not None else None,
        recent_children_mean=sum(recent) / len(recent) if recent else None,
        children=int(c.get("children", 0)), duplicates=int(c.get("duplicates", 0)),
        rejected=int(c.get("rejected", 0)), model_version=run.policy_version or 0,
        learner_configured=run.trainer not in (None, "null"),
        train_steps=int(n_train), last_step=step, totals=totals(stats),
        last_batch=stats[-1] if stats else None,
    )
