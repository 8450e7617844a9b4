"""Registered processes of a multi-worker run and their heartbeats (the leases).

Times come from the database server (`now()`), never from the workers' clocks, so machines
with skewed clocks agree on who is alive.  A worker is live while its status is `running` and
its heartbeat is younger than the grace period.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError

from evolve.db import repo
from evolve.db.models import Worker

log = logging.getLogger("evolve.distributed")


def new_worker_id(kind: str) -> str:
    return f"{kind}-{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def live_filter(grace_s: float):
    """SQL condition: the worker row is live (running, heartbeat within the grace period)."""
    return (Worker.status == "running") & (Worker.heartbeat_at >= func.now() - timedelta(seconds=grace_s))


def live(s, run_id: str, grace_s: float, kind: str | None = None) -> list[Worker]:
    q = select(Worker).where(Worker.run_id == run_id, live_filter(grace_s))
    if kind is not None:
        q = q.where(Worker.kind == kind)
    return list(s.scalars(q.order_by(Worker.started_at)))


def any_live(s, run_id: str, grace_s: float) -> bool:
    """Whether some registered process drives the run (cheap; no rows on SQLite runs)."""
    if s.scalar(select(func.count()).select_from(Worker).where(Worker.run_id == run_id)) == 0:
        return False
    return bool(live(s, run_id, grace_s))


def register(s, run_id: str, worker_id: str, kind: str, detail: dict[str, Any]) -> None:
    s.add(Worker(id=worker_id, run_id=run_id, kind=kind, host=socket.gethostname(), pid=os.getpid(),
                 status="running", policy_version=0, started_at=func.now(), heartbeat_at=func.now(),
                 detail=detail))
    repo.add_event(s, run_id, kind, {"worker": worker_id, "started": True, **detail})


def beat(s, worker_id: str, **values: Any) -> None:
    s.execute(update(Worker).where(Worker.id == worker_id).values(heartbeat_at=func.now(), **values))


def stop(factory, run_id: str, worker_id: str, reason: str) -> None:
    """Mark the worker stopped (its batches are claimable at once); never raises."""
    try:
        with repo.transaction(factory) as s:
            s.execute(update(Worker).where(Worker.id == worker_id).values(status="stopped"))
            repo.add_event(s, run_id, "worker_stop", {"worker": worker_id, "reason": reason[:300]})
    except SQLAlchemyError as exc:
        log.warning("could not record that %s stopped: %s", worker_id, exc)


class Heartbeat:
    """A daemon thread that heartbeats `worker_id` every `interval_s` and then calls `on_beat`
    (adapter pick-up).  `values()` adds columns to each beat (the adapter in use)."""

    def __init__(self, factory, worker_id: str, interval_s: float,
                 on_beat: Callable[[], None] | None = None,
                 values: Callable[[], dict[str, Any]] | None = None):
        self.factory, self.worker_id, self.interval_s = factory, worker_id, interval_s
        self.on_beat, self.values = on_beat, values
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                with repo.transaction(self.factory) as s:
                    beat(s, self.worker_id, **(self.values() if self.values else {}))
                if self.on_beat:
                    self.on_beat()
            except Exception as exc:  # noqa: BLE001 - a failed beat is retried; the lease may lapse
                log.warning("heartbeat of %s failed: %s", self.worker_id, exc)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval_s + 30)
