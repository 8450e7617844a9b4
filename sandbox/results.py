"""What an evaluation returns: one outcome per test, and the candidate's score vector.

The score vector (one entry per test, in the problem's test order) is the object the search
selects on and the trainer turns into reward rows, so it is computed here, once.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["passed", "failed", "error", "timeout", "memory", "crashed", "skipped"]
MESSAGE_LIMIT = 500
from sandbox.wire import PASS_SCORE  # noqa: E402  (one constant for judge and host)


def truncate(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = text.replace("\x00", "")
    return text if len(text) <= limit else text[: limit - 3] + "..."


class TestOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    test_id: str
    status: Status
    score: float = Field(ge=0.0, le=1.0)
    runtime_ms: float = Field(default=0.0, ge=0.0)
    message: str = Field(default="", max_length=MESSAGE_LIMIT)
    stage: int = 1


class EvalResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcomes: list[TestOutcome]
    scores: list[float] = Field(description="score vector, one entry per test, problem order")
    fitness: float = Field(ge=0.0, le=1.0, description="weighted mean of the score vector")
    stages_run: list[int] = Field(default_factory=list)
    wall_ms: float = 0.0
    backend: str = ""
    error: str = Field(default="", description="whole-candidate problem, e.g. a SyntaxError")

    @property
    def passed(self) -> int:
        return sum(o.status == "passed" for o in self.outcomes)

    @property
    def all_passed(self) -> bool:
        return all(o.status == "passed" for o in self.outcomes)

    @classmethod
    def from_outcomes(
        cls,
        outcomes: list[TestOutcome],
        weights: list[float],
        *,
        stages_run: list[int],
        wall_ms: float,
        backend: str,
        error: str = "",
    ) -> "EvalResult":
        scores = [o.score for o in outcomes]
        total = sum(weights) or 1.0
        fitness = sum(s * w for s, w in zip(scores, weights)) / total
        return cls(
            outcomes=outcomes,
            scores=scores,
            fitness=min(1.0, max(0.0, fitness)),
            stages_run=stages_run,
            wall_ms=wall_ms,
            backend=backend,
            error=truncate(error),
        )
