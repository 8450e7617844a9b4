"""Small data-access functions over a Session.  Callers own the transaction (`transaction()`),
so a child, its rollout, its cell and the run counters commit together or not at all."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterator, Sequence

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from evolve.db.models import Batch, Cell, Event, Program, PromptRow, Rollout, Run, utcnow


class RunNotFound(LookupError):
    pass


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception."""
    with factory() as s, s.begin():
        yield s


# --- runs -------------------------------------------------------------------------------------

def get_run(s: Session, run_id: str) -> Run:
    run = s.get(Run, run_id)
    if run is None:
        raise RunNotFound(f"run {run_id!r} not found in the database")
    return run


def update_run(s: Session, run_id: str, **values: Any) -> None:
    s.execute(update(Run).where(Run.id == run_id).values(updated_at=utcnow(), **values))


def add_event(s: Session, run_id: str, kind: str, detail: dict[str, Any],
              batch_index: int | None = None) -> None:
    s.add(Event(run_id=run_id, kind=kind, detail=detail, batch_index=batch_index))


def last_event(s: Session, run_id: str, kind: str) -> Event | None:
    q = select(Event).where(Event.run_id == run_id, Event.kind == kind)
    return s.scalars(q.order_by(Event.id.desc()).limit(1)).first()


def events(s: Session, run_id: str, kind: str | None = None) -> Sequence[Event]:
    q = select(Event).where(Event.run_id == run_id)
    if kind:
        q = q.where(Event.kind == kind)
    return s.scalars(q.order_by(Event.id)).all()


# --- programs ---------------------------------------------------------------------------------

def get_program(s: Session, run_id: str, seq: int) -> Program | None:
    return s.scalars(select(Program).where(Program.run_id == run_id, Program.seq == seq)).first()


def programs_by_seq(s: Session, run_id: str, seqs: Sequence[int]) -> dict[int, Program]:
    if not seqs:
        return {}
    rows = s.scalars(select(Program).where(Program.run_id == run_id, Program.seq.in_(list(seqs))))
    return {p.seq: p for p in rows}


def list_programs(s: Session, run_id: str, *, order: str = "seq", limit: int | None = None,
                  island: int | None = None) -> Sequence[Program]:
    q = select(Program).where(Program.run_id == run_id)
    if island is not None:
        q = q.where(Program.island == island)
    q = q.order_by(Program.fitness.desc(), Program.seq) if order == "fitness" else q.order_by(Program.seq)
    return s.scalars(q.limit(limit)).all()


def membership(s: Session, run_id: str) -> Iterator[tuple[int, str, int]]:
    """(island, code hash, seq) of every program, in seq order: the dedupe index."""
    q = select(Program.island, Program.code_hash, Program.seq).where(Program.run_id == run_id)
    yield from s.execute(q.order_by(Program.seq))


def count_programs(s: Session, run_id: str) -> int:
    return s.scalar(select(func.count()).select_from(Program).where(Program.run_id == run_id)) or 0


def lineage(s: Session, run_id: str, seq: int) -> list[Program]:
    """The program and its ancestors, newest first (migrants point at their source)."""
    out: list[Program] = []
    seen: set[int] = set()
    cur = get_program(s, run_id, seq)
    while cur is not None and cur.seq not in seen:
        out.append(cur)
        seen.add(cur.seq)
        cur = get_program(s, run_id, cur.parent_seq) if cur.parent_seq is not None else None
    return out


# --- cells ------------------------------------------------------------------------------------

def cell_key(key: Sequence[int]) -> str:
    return ",".join(str(k) for k in key)


def upsert_cell(s: Session, run_id: str, island: int, key: Sequence[int], seq: int,
                fitness: float, arrival: int) -> None:
    k = cell_key(key)
    res = s.execute(
        update(Cell)
        .where(Cell.run_id == run_id, Cell.island == island, Cell.cell_key == k)
        .values(program_seq=seq, fitness=fitness, arrival=arrival, updated_at=utcnow())
    )
    if res.rowcount == 0:
        s.add(Cell(run_id=run_id, island=island, cell_key=k, program_seq=seq, fitness=fitness,
                   arrival=arrival))


def replace_cells(s: Session, run_id: str, cells: list[tuple[int, Sequence[int], int, float, int]],
                  islands: Sequence[int] | None = None) -> None:
    """Rewrite the persisted grid of `islands` (all if None) from (island, key, seq, fitness,
    arrival) tuples."""
    q = delete(Cell).where(Cell.run_id == run_id)
    if islands is not None:
        q = q.where(Cell.island.in_(list(islands)))
    s.execute(q)
    s.flush()
    s.add_all(Cell(run_id=run_id, island=i, cell_key=cell_key(k), program_seq=seq, fitness=f,
                   arrival=a) for i, k, seq, f, a in cells)


def load_cells(s: Session, run_id: str) -> Sequence[tuple[Cell, Program]]:
    q = (
        select(Cell, Program)
        .join(Program, (Program.run_id == Cell.run_id) & (Program.seq == Cell.program_seq))
        .where(Cell.run_id == run_id)
        .order_by(Cell.island, Cell.arrival)
    )
    return s.execute(q).all()


# --- batches, prompts, rollouts ---------------------------------------------------------------

def open_batches(s: Session, run_id: str) -> Sequence[Batch]:
    q = select(Batch).where(Batch.run_id == run_id, Batch.status == "planned")
    return s.scalars(q.order_by(Batch.batch_index)).all()


def mark_batch_done(s: Session, run_id: str, index: int, stats: dict | None = None) -> None:
    s.execute(update(Batch).where(Batch.run_id == run_id, Batch.batch_index == index)
              .values(status="done", done_at=utcnow(), stats=stats))


def add_batch_stats(s: Session, run_id: str, index: int, figures: dict) -> None:
    row = s.scalar(select(Batch).where(Batch.run_id == run_id, Batch.batch_index == index))
    if row is not None:
        row.stats = {**(row.stats or {}), **figures}


def batch_prompts(s: Session, run_id: str, index: int) -> Sequence[PromptRow]:
    q = select(PromptRow).where(PromptRow.run_id == run_id, PromptRow.batch_index == index)
    return s.scalars(q.order_by(PromptRow.iteration)).all()


def committed_completions(s: Session, prompt_ids: Sequence[int]) -> set[tuple[int, int]]:
    """(prompt id, completion index) pairs whose rollout (with its children) is committed."""
    if not prompt_ids:
        return set()
    q = select(Rollout.prompt_id, Rollout.completion_index).where(Rollout.prompt_id.in_(list(prompt_ids)))
    return set(s.execute(q))


def recent_rollouts(s: Session, run_id: str, island: int, limit: int) -> list[Rollout]:
    q = (
        select(Rollout).where(Rollout.run_id == run_id, Rollout.island == island)
        .order_by(Rollout.iteration.desc(), Rollout.completion_index.desc()).limit(limit)
    )
    return list(reversed(s.scalars(q).all()))


def unconsumed_rollouts(s: Session, run_id: str, limit: int | None = None) -> Sequence[Rollout]:
    """The trainer's replay buffer: oldest first."""
    q = select(Rollout).where(Rollout.run_id == run_id, Rollout.consumed.is_(False))
    return s.scalars(q.order_by(Rollout.iteration, Rollout.completion_index).limit(limit)).all()


class AlreadyConsumed(RuntimeError):
    """A rollout was consumed by another learner step (two trainers on one run)."""


def mark_consumed(s: Session, rollout_ids: Sequence[int], version: int | None = None) -> None:
    """Mark rollouts consumed by the step that produced `version`; only unconsumed ones, so a
    rollout is never consumed twice whatever the interleaving (AlreadyConsumed: roll back)."""
    if rollout_ids:
        res = s.execute(update(Rollout).where(Rollout.id.in_(list(rollout_ids)), Rollout.consumed.is_(False))
                        .values(consumed=True, consumed_version=version))
        if res.rowcount != len(set(rollout_ids)):
            raise AlreadyConsumed(f"{len(set(rollout_ids)) - res.rowcount} of {len(rollout_ids)} rollouts"
                                  " were consumed by another learner step")


def last_activity(s: Session, run_id: str) -> datetime | None:
    return s.scalar(select(func.max(Program.created_at)).where(Program.run_id == run_id))
