"""`DistributedSearch`: the run's search state shared by many worker processes.

Each worker keeps the single-process in-memory archive (`evolve.search.Search`) but never trusts
it across transitions: every transition (plan a batch, commit a completion, complete a batch)
runs in one transaction that first takes a row lock on the run (`SELECT ... FOR UPDATE`) and
reloads what other workers changed since (counters, descriptor binning, the cells, new
programs' membership).  Generation and evaluation, the slow parts, run outside the lock.

- Program seqs, iteration numbers, the operator bandit and the best/solved records come from the
  locked counters, so each program is committed once with a unique seq.
- Cell writes are conditional upserts (`... ON CONFLICT DO UPDATE ... WHERE fitter`): a child
  replaces an elite only if it is fitter, whatever the interleaving.
- Migration and reset happen in the transaction whose batch completion crosses their interval:
  exactly one worker does each, once.
- A batch belongs to the worker that planned (or claimed) it; commits check that, so a worker
  that lost its lease (declared dead, then came back) cannot commit into a taken-over batch.
- Each batch's choices use an RNG derived from (run seed, batch index), not a shared stream.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from evolve.db import repo
from evolve.db.models import Batch, Cell, Program, PromptRow, Run, Worker, utcnow
from evolve.distributed.registry import live_filter
from evolve.loop import BUDGET_REACHED
from evolve.map_elites import Grid
from evolve.search import Search
from evolve.search_state import BatchPlan, Counters, candidate


class LeaseLost(RuntimeError):
    """The batch was taken over by another worker (this one was presumed dead)."""


class DistributedSearch(Search):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.worker_id = ""
        self.budget_iterations = 0
        self.grace_s = 30.0
        self._session = None
        self._stale = True  # the first transition reloads everything
        self._seen_seq = 0
        self._cands: dict[int, object] = {}
        self._evals_base = self.counters.evaluations
        self._t0, self._elapsed0 = time.monotonic(), self.counters.elapsed_s
        self.lock_wait_s = self.locked_s = 0.0  # accounting: waiting for / holding the run lock

    def attach(self, worker_id: str, budget_iterations: int, grace_s: float) -> "DistributedSearch":
        self.worker_id, self.budget_iterations, self.grace_s = worker_id, budget_iterations, grace_s
        return self

    # --- the locked, reloaded transaction -----------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator:
        if self._session is not None:  # nested transitions share the open transaction
            yield self._session
            return
        ok, t0, t1 = False, time.monotonic(), None
        try:
            with repo.transaction(self.factory) as s:
                self._session = s
                run = s.scalars(select(Run).where(Run.id == self.run_id).with_for_update()).one()
                t1 = time.monotonic()
                self.lock_wait_s += t1 - t0
                self._sync(s, run)
                yield s
            ok = True
        finally:
            self._session = None
            self._stale = not ok  # memory may hold what was rolled back: reload it all next time
            if t1 is not None:
                self.locked_s += time.monotonic() - t1

    def _sync(self, s, run: Run) -> None:
        """Reload what other workers changed: counters, binning, membership, the cells."""
        a, rid = self.archive, self.run_id
        pending = self.counters.evaluations - self._evals_base  # counted here, not yet saved
        fresh = Counters(**{k: v for k, v in run.counters.items() if k != "arrival"})
        self.counters.__dict__.update(fresh.__dict__)  # in place: callers hold this object
        self.counters.evaluations += pending
        self._evals_base = self.counters.evaluations
        a.arrival = run.counters["arrival"]
        a.descriptor.restore(run.binning)
        if self._stale:
            a.members, a.anywhere, self._seen_seq = [{} for _ in range(a.n_islands)], {}, 0
        q = select(Program.island, Program.code_hash, Program.seq).where(
            Program.run_id == rid, Program.seq >= self._seen_seq)
        for island, h, seq in s.execute(q.order_by(Program.seq)):
            a.remember(island, h, seq)
        self._seen_seq = self.counters.next_seq
        cells = s.execute(select(Cell.island, Cell.cell_key, Cell.program_seq, Cell.arrival)
                          .where(Cell.run_id == rid)).all()
        missing = sorted({c[2] for c in cells} - self._cands.keys())
        self._cands.update((q_, candidate(p)) for q_, p in repo.programs_by_seq(s, rid, missing).items())
        grids = [Grid(a.n_tests) for _ in range(a.n_islands)]
        for island, key, seq, arrival in cells:
            k = tuple(int(x) for x in key.split(",")) if key else ()
            grids[island].cells[k] = (self._cands[seq], arrival)
        a.grids = grids

    def _refresh_attempts(self, s) -> None:
        n = self.config.prompt.recent_attempts
        for island in range(self.archive.n_islands):
            rows = repo.recent_rollouts(s, self.run_id, island, n) if n else []
            self.attempts[island] = deque((r.answers["summary"] for r in rows), maxlen=n)

    def _holder(self, s, batch_index: int | None = None, prompt_id: int | None = None) -> None:
        """Raise LeaseLost unless this worker holds the batch (row share-locked meanwhile, so a
        claim skips it until this transaction ends)."""
        q = select(Batch.worker_id).where(Batch.run_id == self.run_id)
        if prompt_id is not None:
            q = q.join(PromptRow, (PromptRow.run_id == Batch.run_id)
                       & (PromptRow.batch_index == Batch.batch_index)).where(PromptRow.id == prompt_id)
        else:
            q = q.where(Batch.batch_index == batch_index)
        holder = s.scalar(q.with_for_update(read=True, of=Batch))
        if holder != self.worker_id:
            raise LeaseLost(f"batch {batch_index if prompt_id is None else f'of prompt {prompt_id}'} "
                            f"is held by {holder}, not {self.worker_id}")

    # --- transitions ----------------------------------------------------------------------------

    def plan_batch(self, n: int) -> BatchPlan | None:
        """A new batch within the budget (None when every iteration is planned)."""
        with self._locked() as s:
            left = self.budget_iterations - self.counters.iterations_planned
            if left <= 0:
                return None
            self.rng = np.random.default_rng([self.config.loop.seed, self.counters.batches_planned])
            self._refresh_attempts(s)
            plan = super().plan_batch(min(n, left))
            s.execute(update(Batch).where(Batch.run_id == self.run_id, Batch.batch_index == plan.index)
                      .values(worker_id=self.worker_id))
            return plan

    def commit_completion(self, p, index, comp, outcome, evals) -> tuple[int, int]:
        with self._locked() as s:
            self._holder(s, prompt_id=p.prompt_id)
            return super().commit_completion(p, index, comp, outcome, evals)

    def complete_batch(self, plan: BatchPlan, elapsed_s: float = 0.0, stats=None) -> list[str]:
        """`elapsed_s` is ignored: the run's elapsed time is its wall time (workers overlap)."""
        stats = {**(stats or {}), "lock_wait_s": round(self.lock_wait_s, 3),
                 "locked_s": round(self.locked_s, 3)}  # this worker's, since its previous batch
        self.lock_wait_s = self.locked_s = 0.0
        with self._locked() as s:
            self._holder(s, batch_index=plan.index)
            c = self.counters
            c.elapsed_s = max(c.elapsed_s, self._elapsed0 + time.monotonic() - self._t0)
            return super().complete_batch(plan, 0.0, stats)

    def _persist(self, s, island, cand, pl) -> None:
        if pl.placed and not pl.rebinned:
            upsert_if_fitter(s, self.run_id, island, pl.key, cand.seq, cand.fitness, pl.arrival)
        else:
            super()._persist(s, island, cand, pl)

    # --- batches held, claimed, left --------------------------------------------------------------

    def open_plans(self) -> list[BatchPlan]:
        """This worker's own unfinished batches (after an error ended its loop), in order."""
        with repo.transaction(self.factory) as s:
            q = select(Batch).where(Batch.run_id == self.run_id, Batch.status == "planned",
                                    Batch.worker_id == self.worker_id)
            return [self._stored_plan(s, b) for b in s.scalars(q.order_by(Batch.batch_index))]

    def claim_abandoned(self) -> BatchPlan | None:
        """Take over the oldest planned batch whose holder is dead (heartbeat older than the
        grace period, or stopped) or that no worker holds (an interrupted `evolve run`)."""
        with repo.transaction(self.factory) as s:
            q = (select(Batch).outerjoin(Worker, Worker.id == Batch.worker_id)
                 .where(Batch.run_id == self.run_id, Batch.status == "planned",
                        or_(Batch.worker_id.is_(None), Worker.id.is_(None), ~live_filter(self.grace_s)))
                 .order_by(Batch.batch_index).limit(1).with_for_update(of=Batch, skip_locked=True))
            b = s.scalars(q).first()
            if b is None:
                return None
            was, b.worker_id = b.worker_id, self.worker_id
            repo.add_event(s, self.run_id, "takeover", {"worker": self.worker_id, "from": was},
                           b.batch_index)
            return self._stored_plan(s, b)

    def settle(self, stop_reason: Callable[[], str | None]) -> str | None:
        """Why the run is over, recording it once (status finished); None while work remains.
        Over: the budget is planned and every batch done, or another stop reason holds (solved,
        target, time) and no live worker still holds a batch."""
        with self._locked() as s:
            run = repo.get_run(s, self.run_id)
            if run.status == "finished":
                return run.stop_reason or "finished"
            reason = stop_reason()
            if reason is None:
                return None
            q = select(func.count()).select_from(Batch).where(Batch.run_id == self.run_id,
                                                              Batch.status == "planned")
            if reason != BUDGET_REACHED:
                q = q.join(Worker, Worker.id == Batch.worker_id).where(live_filter(self.grace_s))
            if s.scalar(q):
                return None
            repo.update_run(s, self.run_id, status="finished", stop_reason=reason)
            repo.add_event(s, self.run_id, "stop", {"reason": reason, "worker": self.worker_id})
            return reason


def upsert_if_fitter(s, run_id: str, island: int, key, seq: int, fitness: float, arrival: int) -> None:
    """Place an elite unless its cell holds a fitter one (ties: the earlier arrival stays), in
    one statement (PostgreSQL): the rule of evolve.map_elites.wins, enforced by the database."""
    stmt = pg_insert(Cell).values(run_id=run_id, island=island, cell_key=repo.cell_key(key),
                                  program_seq=seq, fitness=fitness, arrival=arrival, updated_at=utcnow())
    new = stmt.excluded
    s.execute(stmt.on_conflict_do_update(
        constraint="uq_cell",
        set_={"program_seq": new.program_seq, "fitness": new.fitness, "arrival": new.arrival,
              "updated_at": new.updated_at},
        where=(Cell.fitness < new.fitness) | ((Cell.fitness == new.fitness) & (Cell.arrival > new.arrival)),
    ))
