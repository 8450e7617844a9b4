"""Rollout records: the only thing the trainer knows about where its data came from.

A rollout is one sampled completion for one prompt; it holds up to m answers, and each answer
has a reward row of d components (one per test).  The G rollouts drawn for the same prompt form
a group.  The search fills these records; the estimators and the learner read them.  Nothing
here depends on the search, the sandbox or the problem model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Rollout(BaseModel):
    """One completion: token ids, sampling log-probs and the reward matrix of its answers."""

    model_config = ConfigDict(extra="forbid")

    group_id: str = Field(min_length=1)
    prompt_ids: list[int] = Field(default_factory=list)
    completion_ids: list[int] = Field(default_factory=list)
    behavior_logprobs: list[float | None] | None = Field(
        default=None,
        description="log-prob of each completion token under the sampling engine/policy version"
        " (None at tokens the model did not sample)",
    )
    sampled: list[bool] | None = Field(
        default=None,
        description="per completion token: sampled by the policy (True) or inserted by the"
        " harness (False: no log-prob, masked out of the loss, KL, entropy and token counts);"
        " None = every token was sampled",
    )
    policy_version: int = Field(default=0, ge=0, description="learner version that sampled it")
    truncated: bool = Field(default=False, description="hit the token limit: scores zero rows")
    rewards: list[list[float]] = Field(
        default_factory=list,
        description="one row of d rewards in [0, 1] per answer actually produced (ragged in m)",
    )
    valid: list[bool] | None = Field(
        default=None, description="per answer: parsed and evaluated; None = all valid"
    )
    answer_keys: list[str] | None = Field(
        default=None,
        description="per answer identity (e.g. normalised code hash); repeats are duplicates",
    )
    meta: dict[str, Any] = Field(default_factory=dict, description="caller's own bookkeeping")

    @model_validator(mode="after")
    def _check(self) -> Rollout:
        n = len(self.rewards)
        if self.valid is not None and len(self.valid) != n:
            raise ValueError(f"rollout {self.group_id}: valid has {len(self.valid)} flags for {n} rows")
        if self.answer_keys is not None and len(self.answer_keys) != n:
            raise ValueError(
                f"rollout {self.group_id}: answer_keys has {len(self.answer_keys)} keys for {n} rows"
            )
        if self.behavior_logprobs is not None and len(self.behavior_logprobs) != len(
            self.completion_ids
        ):
            raise ValueError(
                f"rollout {self.group_id}: {len(self.behavior_logprobs)} behavior_logprobs for "
                f"{len(self.completion_ids)} completion tokens"
            )
        if self.sampled is not None and len(self.sampled) != len(self.completion_ids):
            raise ValueError(
                f"rollout {self.group_id}: {len(self.sampled)} sampled flags for "
                f"{len(self.completion_ids)} completion tokens"
            )
        for i, row in enumerate(self.rewards):
            bad = [x for x in row if not 0.0 <= x <= 1.0]
            if bad:
                raise ValueError(f"rollout {self.group_id}: rewards[{i}] has values outside [0, 1]: {bad}")
        return self

    @property
    def completion_length(self) -> int:
        return len(self.completion_ids)

    @property
    def sampled_length(self) -> int:
        """Tokens the policy chose (what token-mean aggregation counts)."""
        return len(self.completion_ids) if self.sampled is None else sum(self.sampled)

    def answer_flags(self) -> list[str]:
        """Per answer: 'ok', 'invalid', 'duplicate' or 'truncated' (every answer of a truncated
        completion).  Only 'ok' answers keep their reward row; the rest score zero rows."""
        flags: list[str] = []
        seen: set[str] = set()
        for i in range(len(self.rewards)):
            if self.truncated:
                flags.append("truncated")
            elif self.valid is not None and not self.valid[i]:
                flags.append("invalid")
            elif self.answer_keys is not None and self.answer_keys[i] in seen:
                flags.append("duplicate")
            else:
                flags.append("ok")
            if self.answer_keys is not None and flags[-1] != "invalid":
                seen.add(self.answer_keys[i])
        return flags


class RolloutGroup(BaseModel):
    """The G rollouts of one prompt: advantages are normalised within it."""

    model_config = ConfigDict(extra="forbid")

    group_id: str = Field(min_length=1)
    rollouts: list[Rollout] = Field(min_length=1)
    num_answers: int | None = Field(
        default=None, ge=1, description="m the prompt asked for; missing answers are zero rows"
    )
    num_tests: int | None = Field(default=None, ge=1, description="d; inferred from rows if absent")

    @model_validator(mode="after")
    def _check(self) -> RolloutGroup:
        widths = {len(row) for r in self.rollouts for row in r.rewards}
        if self.num_tests is not None:
            widths.add(self.num_tests)
        if len(widths) > 1:
            raise ValueError(f"group {self.group_id}: reward rows of different widths {sorted(widths)}")
        for r in self.rollouts:
            if r.group_id != self.group_id:
                raise ValueError(f"group {self.group_id}: holds a rollout of group {r.group_id}")
            if self.num_answers is not None and len(r.rewards) > self.num_answers:
                raise ValueError(
                    f"group {self.group_id}: a rollout has {len(r.rewards)} answers, "
                    f"more than num_answers={self.num_answers}"
                )
        return self

    @property
    def d(self) -> int:
        """Number of reward components (0 if no rollout produced any answer)."""
        for r in self.rollouts:
            if r.rewards:
                return len(r.rewards[0])
        return self.num_tests or 0

    @property
    def m(self) -> int:
        """Answer slots per rollout: declared, else the most any rollout produced (at least 1)."""
        if self.num_answers is not None:
            return self.num_answers
        return max([1] + [len(r.rewards) for r in self.rollouts])
