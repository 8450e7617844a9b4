"""`evolve worker`: one of many processes driving a run on PostgreSQL.

A worker registers itself, heartbeats, and runs the single-process batched pipeline
(`evolve.loop.Loop`) over a `DistributedSearch`: each next batch is either a batch taken over
from a dead worker or a newly planned one.  When there is nothing to plan (the budget is all
planned, or the trainer service is behind) it waits, taking over any batch whose holder's lease
lapses, until the run is over; the worker that sees it over records it.  Adapter versions the
trainer service publishes are picked up between heartbeats and swapped in at the next generate.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from sqlalchemy import func, select

from evolve.config import RunConfig
from evolve.db import repo
from evolve.db.models import AdapterVersion, Rollout
from evolve.distributed import registry
from evolve.distributed.search import DistributedSearch, LeaseLost
from evolve.loop import BUDGET_REACHED, Budget, Loop
from evolve.mutator import Mutator
from evolve.mutator.swapping import SwappingMutator

log = logging.getLogger("evolve.distributed")


def pending_groups(s, run_id: str, size: int) -> int:
    """Complete rollout groups (all `size` completions committed) no learner step consumed."""
    groups = (select(Rollout.group_id).where(Rollout.run_id == run_id, Rollout.consumed.is_(False))
              .group_by(Rollout.group_id).having(func.count() >= size).subquery())
    return s.scalar(select(func.count()).select_from(groups)) or 0


def newest_adapter(s, run_id: str) -> AdapterVersion | None:
    q = select(AdapterVersion).where(AdapterVersion.run_id == run_id)
    return s.scalars(q.order_by(AdapterVersion.version.desc()).limit(1)).first()


class WorkerLoop(Loop):
    """The pipelined loop whose next batch is a takeover or a new plan; it ends (returns) when
    neither is available right now."""

    def __init__(self, search: DistributedSearch, mutator, sandbox, budget: Budget, *, throttled, **kw):
        super().__init__(search, mutator, sandbox, budget, **kw)
        self.throttled = throttled

    def _next_plan(self, in_flight):
        if in_flight:
            return in_flight.pop(0)
        reason = self.stop_reason()
        if reason is not None and reason != BUDGET_REACHED:
            return None  # solved, target or time: nothing more is generated (as in `evolve run`)
        plan = self.search.claim_abandoned()
        if plan is not None or reason is not None or self.throttled():
            return plan
        return self.search.plan_batch(self.search.config.loop.batch_size)

    def elapsed(self) -> float:
        return self.search.counters.elapsed_s  # the run's wall time, kept by DistributedSearch


class Worker:
    def __init__(self, factory, run_id: str, mutator: Mutator, sandbox, *,
                 iterations: int | None = None, minutes: float | None = None,
                 adapters_root: Path | None = None):
        self.factory, self.run_id, self.sandbox = factory, run_id, sandbox
        self.mutator = SwappingMutator(mutator)
        self.adapters_root = adapters_root
        self.worker_id = registry.new_worker_id("worker")
        search = DistributedSearch.load(factory, run_id)
        self.config: RunConfig = search.config
        self.opts = self.config.workers
        with repo.transaction(factory) as s:
            run = repo.get_run(s, run_id)
            flags = iterations is not None or minutes is not None
            if run.budget and not flags:
                self.budget = Budget(**run.budget)
            else:  # the first worker (or flags) sets the run's budget
                self.budget = Budget.from_config(self.config.loop, iterations, minutes)
            if run.status != "finished" or flags:  # a finished run stays so unless extended
                repo.update_run(s, run_id, status="running", budget=self.budget.__dict__, stop_reason="")
            registry.register(s, run_id, self.worker_id, "worker",
                              {"budget": self.budget.__dict__, "sandbox": sandbox.describe()})
        self.search = search.attach(self.worker_id, self.budget.iterations, self.opts.grace_s)
        self._asked = 0

    def _throttled(self) -> bool:
        """A live trainer service is `max_pending_steps` learner steps behind: wait for it."""
        if self.config.trainer is None:
            return False
        size = self.config.mutation.completions
        limit = self.opts.max_pending_steps * self.config.trainer.online.every_groups
        with repo.transaction(self.factory) as s:
            if not registry.live(s, self.run_id, self.opts.grace_s, kind="trainer"):
                return False
            return pending_groups(s, self.run_id, size) >= limit

    def pick_up_adapter(self) -> None:
        """Queue the newest published adapter (applied at the start of the next generate)."""
        with repo.transaction(self.factory) as s:
            row = newest_adapter(s, self.run_id)
        if row is None or row.version <= max(self._asked, self.mutator.policy_version):
            return
        path = Path(row.path)
        if self.adapters_root is not None:
            path = self.adapters_root / row.detail["relative"]
        self.mutator.load_adapter(row.version, path)
        self._asked = row.version
        log.info("%s: adapter v%d queued (%s)", self.worker_id, row.version, path)

    def run(self) -> str:
        """Work until the run is over; returns why it is over."""
        reason = "stopped"
        beat = registry.Heartbeat(self.factory, self.worker_id, self.opts.heartbeat_s,
                                  on_beat=self.pick_up_adapter,
                                  values=lambda: {"policy_version": self.mutator.policy_version})
        try:
            with beat, self.mutator:
                self.pick_up_adapter()
                while True:
                    loop = WorkerLoop(self.search, self.mutator, self.sandbox, self.budget,
                                      throttled=self._throttled)
                    try:
                        loop.run()
                    except LeaseLost as exc:  # presumed dead meanwhile: the batch went elsewhere
                        log.warning("%s: %s", self.worker_id, exc)
                        continue
                    done = self.search.settle(loop.stop_reason)
                    if done is not None:
                        reason = done
                        return reason
                    time.sleep(self.opts.poll_s)
        except BaseException as exc:
            reason = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            registry.stop(self.factory, self.run_id, self.worker_id, reason)
