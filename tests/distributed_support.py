"""Helpers for the multi-worker tests: worker/trainer subprocesses, a token-carrying scripted
mutator, and the database rows the invariants are checked on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from evolve.config import RunConfig
from evolve.db import repo
from evolve.db.engine import open_database
from evolve.db.models import AdapterVersion, Batch, Rollout, Worker
from tests.evolve_support import ROOT
from tests.scripted_mutator import ScriptedMutator

PLUGIN = "tests.distributed_support:token_factory"


class TokenScripted(ScriptedMutator):
    """The scripted mutator whose completions also carry prompt token ids (the prompt's last 64
    UTF-8 bytes; byte ids are valid ids of the tiny tokenizer), so the trainer service's real
    learner steps on them instead of dropping text-only rollouts."""

    def generate(self, prompts, n=1, params=None, parents=None):
        out = super().generate(prompts, n, params, parents)
        texts = [p if isinstance(p, str) else "\n".join(x["content"] for x in p) for p in prompts]
        return [[c.model_copy(update={"prompt_token_ids": list(t.encode()[-64:])}) if c.token_ids else c
                 for c in group] for t, group in zip(texts, out)]


def token_factory(config: RunConfig) -> TokenScripted:
    return TokenScripted(config.mutation.answers, float(os.environ.get("SCRIPTED_DELAY_S", "0")))


def spawn(*args: str, log: Path, env: dict | None = None) -> subprocess.Popen:
    """`evolve ARGS` as a background process (its own session, output to `log`)."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            **(env or {})}
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-c", "from evolve.cli import main; main()", *args],
                                cwd=ROOT, env=full, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def factory(url: str):
    return repo.session_factory(open_database(url, mode="write"))


def rows(fac, model, *where, order=None):
    with repo.transaction(fac) as s:
        q = select(model).where(*where)
        return list(s.scalars(q.order_by(order if order is not None else model.id)))


def wait_for(what: str, check, timeout: float, procs: list[subprocess.Popen] = (), logs=(),
             progress=None) -> None:
    """Poll `check()` until true; fail with the processes' logs when a process died or time ran
    out.  With `progress` (a callable), `timeout` counts from its last change: a run slowed by a
    busy machine passes, one that stalls still fails."""
    last, deadline = None, time.monotonic() + timeout
    while not check():
        dead = [p for p in procs if p.poll() not in (None, 0)]
        if progress is not None and (now := progress()) != last:
            last, deadline = now, time.monotonic() + timeout
        if dead or time.monotonic() > deadline:
            tails = "\n".join(f"--- {lg}\n{Path(lg).read_text()[-3000:]}" for lg in logs)
            stalled = f"no progress for {timeout:g} s (last: {last})" if progress else "timed out"
            raise AssertionError(f"{what}: {'a process failed' if dead else stalled}\n{tails}")
        time.sleep(0.2 if progress is None else 1.0)


def run_progress(fac, run_id: str):
    """What moves while a run is healthy: batches done, rollouts consumed, adapter versions."""
    def state() -> tuple[int, int, int]:
        with repo.transaction(fac) as s:
            return tuple(s.scalar(select(func.count()).select_from(m).where(m.run_id == run_id, *w))
                         for m, w in ((Batch, [Batch.status == "done"]), (Rollout, [Rollout.consumed]),
                                      (AdapterVersion, [])))
    return state


def registered(fac, run_id: str, kind: str, n: int = 1):
    return lambda: len(rows(fac, Worker, Worker.run_id == run_id, Worker.kind == kind,
                            Worker.status == "running")) >= n


def stop_all(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=30)
