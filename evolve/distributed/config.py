"""`workers:` in a run config: how the processes of a multi-worker run coordinate.  Stored with
the run, so every worker and the trainer service use the same lease rules.  Cheap to import."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class WorkersConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    heartbeat_s: float = Field(default=5.0, gt=0, description="seconds between a worker's heartbeats")
    grace_s: float = Field(
        default=60.0, gt=0,
        description="a worker whose heartbeat is older than this is presumed dead: its batches are"
        " taken over (keep it well above heartbeat_s and below a batch's usual duration x 10)",
    )
    poll_s: float = Field(default=2.0, gt=0, description="idle wait between checks for work or adapters")
    max_pending_steps: int = Field(
        default=2, ge=1,
        description="with a live trainer service, workers plan no new batch while this many learner"
        " steps' worth of complete rollout groups await it (bounds the policy lag of the rollouts)",
    )

    @model_validator(mode="after")
    def _grace_above_heartbeat(self) -> "WorkersConfig":
        if self.grace_s <= 2 * self.heartbeat_s:
            raise ValueError(f"grace_s ({self.grace_s}) must exceed twice heartbeat_s ({self.heartbeat_s})")
        return self
