"""`evolve trainer serve`: the one learner of a multi-worker run.

The online trainer of a single-process run (`evolve.online.OnlineTrainer`) without a mutator in
its process: it polls the database for complete rollout groups no step consumed, steps the
learner, writes checkpoint `DIR/adapters/vN` in a directory the workers (or the vLLM server)
can read, and in the step's transaction marks the rollouts consumed by version N (only
unconsumed ones: a rollout is never consumed twice), records the `adapter_versions` row the
workers poll, and sets the run's policy version.  One trainer per run: a second one refuses
while the first one's heartbeat is live.  It stops once the run is finished and no learner
step's worth of complete groups remains.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from evolve.config import RunConfig
from evolve.db import repo
from evolve.db.models import AdapterVersion, Run
from evolve.distributed import registry
from evolve.learner_setup import OnlineError
from evolve.online import OnlineTrainer
from trainer.checkpoints import is_checkpoint, run_checkpoint

log = logging.getLogger("evolve.distributed")


class TrainerBusy(RuntimeError):
    """Another trainer service is live on the run (one line)."""


def _check_free(s, run_id: str, grace_s: float) -> None:
    others = registry.live(s, run_id, grace_s, kind="trainer")
    if others:
        raise TrainerBusy(f"run {run_id}: trainer {others[0].id} is live (heartbeat within"
                          f" {grace_s:g} s): one trainer per run")


class TrainerService(OnlineTrainer):
    def __init__(self, shared_dir: Path, factory, run_id: str):
        with repo.transaction(factory) as s:
            run = repo.get_run(s, run_id)
            config = RunConfig.model_validate(run.config)
            _check_free(s, run_id, config.workers.grace_s)
            version = run.policy_version or 0
        if config.trainer is None:
            raise OnlineError(f"run {run_id}: its config has `trainer: null` (online fine-tuning is off)")
        if version and not is_checkpoint(run_checkpoint(shared_dir, version)):
            raise OnlineError(f"{shared_dir}: holds no checkpoint of version {version}, the run's"
                              " newest: pass the directory the trainer wrote (--dir)")
        super().__init__(shared_dir, factory, run_id, config, None)
        self.worker_id = registry.new_worker_id("trainer")

    def _publish(self, s, version: int, path: Path | None, detail: dict[str, Any]) -> None:
        if path is None:
            return
        metrics = detail["metrics"]
        s.add(AdapterVersion(run_id=self.run_id, version=version, path=str(Path(path).resolve()),
                             detail={"relative": str(Path(path).relative_to(self.run_dir)),
                                     "trainer": self.worker_id, "groups": detail["groups"],
                                     "rollouts": detail["rollouts"],
                                     "policy_lag_max": metrics.get("policy_lag_max"),
                                     "policy_lag_mean": metrics.get("policy_lag_mean")}))

    def serve(self) -> str:
        """Train until the run is finished; returns why it stopped."""
        opts, reason = self.config.workers, "stopped"
        with repo.transaction(self.factory) as s:
            s.scalars(select(Run).where(Run.id == self.run_id).with_for_update()).one()
            _check_free(s, self.run_id, opts.grace_s)  # under the run's lock: no race
            registry.register(s, self.run_id, self.worker_id, "trainer", {"dir": str(self.run_dir)})
        try:
            with registry.Heartbeat(self.factory, self.worker_id, opts.heartbeat_s,
                                    values=lambda: {"policy_version": self.learner.version}):
                while True:
                    if self.train_ready():
                        continue
                    with repo.transaction(self.factory) as s:
                        run = repo.get_run(s, self.run_id)
                    if run.status == "finished" and not self.train_ready():
                        reason = f"the run is finished ({run.stop_reason})"
                        return reason
                    time.sleep(opts.poll_s)
        except BaseException as exc:
            reason = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            registry.stop(self.factory, self.run_id, self.worker_id, reason)
