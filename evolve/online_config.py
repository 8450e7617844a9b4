"""The run config's `trainer` section: the learner (trainer.config.LearnerConfig) plus the
options of online fine-tuning inside a search run.  Cheap to import (no torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trainer.config import LearnerConfig



class OnlineOptions(BaseModel):
    """When the learner steps during a search, on which reward rows, and on which weights."""

    model_config = ConfigDict(extra="forbid")

    every_groups: int = Field(
        default=4, ge=1, description="one learner step per N complete, unconsumed rollout groups"
    )
    reward: str = Field(
        default="scores",
        description="reward row of an answer: scores = the child's per-test score vector;"
        " improvement = max(0, child - parent) per test; novel_tests = the child's scores on"
        " the tests that no program of the run (seeds included) passed when the rollout's batch"
        " was planned, the others zeroed; new_programs = scores for answers that became new"
        " programs, zero for re-writes of programs the island already holds; graded = programs"
        " 0.25 + 0.75 x scores, lazy answers (unchanged, duplicate, re-found) 0.1, crashes 0.05,"
        " broken or missing 0 (ThetaEvolve's graded failures inside [0, 1]); evolve.rewards",
    )
    @field_validator("reward")
    @classmethod
    def _known_mode(cls, v: str) -> str:
        from evolve.rewards import REWARD_MODES  # the registry is the one list of modes

        if v not in REWARD_MODES:
            raise ValueError(f"unknown reward mode {v!r}; known: {', '.join(REWARD_MODES)}")
        return v

    share_weights: bool = Field(
        default=True,
        description="LoRA + in-process transformers mutator: the learner reuses the mutator's"
        " base weight tensors instead of loading a second copy",
    )
    init_checkpoint: str | None = Field(
        default=None,
        description="learner checkpoint to start from (`evolve train --out` OUT/vN, or another"
        " run's adapters/vN); copied into this run as its first version",
    )
    model: str | None = Field(
        default=None,
        description="learner's base model (prepared name or directory) when it cannot share the"
        " mutator's weights (vllm/openai backends); null = the mutator's model",
    )


class TrainerConfig(LearnerConfig):
    """`trainer:` in a run config; null turns online fine-tuning off."""

    online: OnlineOptions = Field(default_factory=OnlineOptions)

    @model_validator(mode="after")
    def _lora(self) -> TrainerConfig:
        if self.lora is None:
            raise ValueError("lora: online fine-tuning needs LoRA (mutators hot-swap peft adapters)")
        return self
