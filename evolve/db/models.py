"""The run database schema (SQLAlchemy 2 declarative).  Alembic migrations in
evolve/db/migrations mirror it; a test checks they agree.

Programs are identified inside a run by `seq`, a counter the loop assigns and commits with the
row (database ids are not deterministic across engines: PostgreSQL sequences advance on
rolled-back transactions).  Uniqueness constraints make retried writes harmless.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def _run_fk() -> Mapped[str]:
    return mapped_column(String(32), ForeignKey("runs.id", ondelete="CASCADE"), index=True)


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    problem_id: Mapped[str] = mapped_column(String(200))
    problem: Mapped[dict[str, Any]] = mapped_column(JSON, doc="problem snapshot")
    config: Mapped[dict[str, Any]] = mapped_column(JSON, doc="fully expanded RunConfig")
    seed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), doc="seeded|running|stopped|finished")
    stop_reason: Mapped[str] = mapped_column(Text, default="")
    rng_state: Mapped[str] = mapped_column(Text, doc="numpy bit-generator state, JSON")
    counters: Mapped[dict[str, Any]] = mapped_column(JSON, doc="seq/arrival/iteration counters")
    binning: Mapped[list[Any]] = mapped_column(JSON, doc="descriptor binner states")
    budget: Mapped[dict[str, Any]] = mapped_column(JSON, doc="budget in force (run/resume)")
    policy_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Batch(Base):
    """A planned batch of prompts: the in-flight accounting that makes resume exact."""

    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("run_id", "batch_index", name="uq_batch"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = _run_fk()
    batch_index: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), doc="planned|done")
    rng_before: Mapped[str] = mapped_column(Text)
    rng_after: Mapped[str] = mapped_column(Text)
    sample_seed: Mapped[int] = mapped_column(Integer, doc="sampling seed handed to the mutator")
    worker_id: Mapped[str | None] = mapped_column(
        String(64), nullable=True, doc="multi-worker runs: the worker holding the batch (evolve.distributed)")
    stats: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, nullable=True, doc="accounting when done: tokens, answers, generate/evaluate/learn seconds")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PromptRow(Base):
    __tablename__ = "prompts"
    __table_args__ = (UniqueConstraint("run_id", "iteration", name="uq_prompt_iteration"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = _run_fk()
    batch_index: Mapped[int] = mapped_column(Integer)
    iteration: Mapped[int] = mapped_column(Integer, doc="global prompt number, from 0")
    island: Mapped[int] = mapped_column(Integer)
    parent_seq: Mapped[int] = mapped_column(Integer)
    operator: Mapped[str] = mapped_column(String(20), default="refine", server_default="refine",
                                          doc="fresh|refine|crossover (evolve.operators)")
    inspirations: Mapped[list[Any]] = mapped_column(JSON)
    system: Mapped[str] = mapped_column(Text)
    user: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Rollout(Base):
    """One completion: the trainer's replay-buffer record (group = the prompt's G completions)."""

    __tablename__ = "rollouts"
    __table_args__ = (
        UniqueConstraint("prompt_id", "completion_index", name="uq_rollout"),
        Index("ix_rollouts_unconsumed", "run_id", "consumed"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = _run_fk()
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"))
    iteration: Mapped[int] = mapped_column(Integer)
    island: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[str] = mapped_column(String(80))
    completion_index: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    prompt_token_ids: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    token_ids: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    logprobs: Mapped[list[Any] | None] = mapped_column(
        JSON, nullable=True, doc="sampling logprobs; null at tokens the harness inserted")
    sampled: Mapped[list[Any] | None] = mapped_column(
        JSON, nullable=True, doc="per completion token: sampled by the model (else inserted); null = all")
    temperatures: Mapped[list[Any] | None] = mapped_column(
        JSON, nullable=True, doc="per completion token sampling temperature when they differ")
    finish_reason: Mapped[str] = mapped_column(String(40), default="")
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    policy_version: Mapped[int] = mapped_column(Integer, default=0)
    rewards: Mapped[list[Any]] = mapped_column(JSON, doc="m x d reward matrix (zero rows: no child)")
    valid: Mapped[list[Any]] = mapped_column(JSON, doc="per slot: a child was produced and scored")
    answer_keys: Mapped[list[Any]] = mapped_column(JSON, doc="per slot: normalised code hash")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, doc="per slot status/reason/seq, summary")
    consumed: Mapped[bool] = mapped_column(Boolean, default=False)
    consumed_version: Mapped[int | None] = mapped_column(
        Integer, nullable=True, doc="the learner version whose step consumed it")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Program(Base):
    __tablename__ = "programs"
    __table_args__ = (
        UniqueConstraint("run_id", "code_hash", "island", name="uq_program_code_island"),
        UniqueConstraint("run_id", "seq", name="uq_program_seq"),
        Index("ix_programs_fitness", "run_id", "fitness"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = _run_fk()
    seq: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(Text)
    code_hash: Mapped[str] = mapped_column(String(64))
    parent_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    origin: Mapped[str] = mapped_column(String(20), doc="seed|child|migrant|reseed")
    island: Mapped[int] = mapped_column(Integer)
    generation: Mapped[int] = mapped_column(Integer)
    iteration: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scores: Mapped[list[Any]] = mapped_column(JSON, doc="per-test score vector, problem order")
    fitness: Mapped[float] = mapped_column(Double)
    descriptor: Mapped[list[Any]] = mapped_column(JSON, doc="raw descriptor values")
    failures: Mapped[list[Any]] = mapped_column(JSON, doc="[test_id, status, message] not passed")
    error: Mapped[str] = mapped_column(Text, default="")
    policy_version: Mapped[int] = mapped_column(Integer, default=0)
    prompt_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rollout_id: Mapped[int | None] = mapped_column(
        ForeignKey("rollouts.id", ondelete="SET NULL"), nullable=True)
    rollout: Mapped[Rollout | None] = relationship()
    slot: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Cell(Base):
    """A MAP-Elites cell's current elite (the persisted grid)."""

    __tablename__ = "cells"
    __table_args__ = (UniqueConstraint("run_id", "island", "cell_key", name="uq_cell"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = _run_fk()
    island: Mapped[int] = mapped_column(Integer)
    cell_key: Mapped[str] = mapped_column(String(200))
    program_seq: Mapped[int] = mapped_column(Integer)
    fitness: Mapped[float] = mapped_column(Double)
    arrival: Mapped[int] = mapped_column(Integer, doc="placement order; ties keep the incumbent")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = _run_fk()
    kind: Mapped[str] = mapped_column(String(40), doc="seed|migration|reset|run|resume|stop|error")
    batch_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Worker(Base):
    """A process sharing a run through the database (evolve.distributed): a search worker or
    the trainer service.  Its heartbeat is its lease: batches it holds are taken over once the
    heartbeat is older than the grace period."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = _run_fk()
    kind: Mapped[str] = mapped_column(String(20), doc="worker|trainer")
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), doc="running|stopped")
    policy_version: Mapped[int] = mapped_column(Integer, default=0, doc="adapter in use")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class AdapterVersion(Base):
    """An adapter version the trainer service published (the checkpoint in a shared directory)."""

    __tablename__ = "adapter_versions"
    __table_args__ = (UniqueConstraint("run_id", "version", name="uq_adapter_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = _run_fk()
    version: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text, doc="the peft adapter directory")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
