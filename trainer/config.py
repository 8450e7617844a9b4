"""Every trainer default, in one place.  Unknown keys are errors (extra="forbid")."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AdvantageConfig(_Strict):
    """Which estimator turns reward matrices into advantages, and its parameters."""

    estimator: str = "vpo"
    num_weights: int = Field(default=100, ge=1, description="K Dirichlet draws per group (vpo)")
    alpha: float = Field(default=1.0, gt=0, description="Dirichlet concentration")
    eps: float = Field(default=1e-6, gt=0, description="std floor; std < eps -> zero advantages")
    std: Literal["population", "bessel"] = Field(
        default="population",
        description="z-score std convention for every z-scoring estimator (VPO's is population;"
        " Bessel only rescales advantages by sqrt(G/(G-1)))",
    )
    k: int = Field(default=4, ge=1, description="k of the passk estimator")
    entropic_beta: float = Field(
        default=5.0, gt=0, description="entropic estimator: inverse temperature of exp(beta x)")


class LossConfig(_Strict):
    """Clipped-ratio policy loss, its aggregation, KL and importance correction."""

    eps_low: float = Field(default=0.2, ge=0)
    eps_high: float = Field(default=0.2, ge=0)
    dual_clip: float | None = Field(default=3.0, gt=1, description="None disables dual clip")
    aggregation: str = Field(default="token-mean", description="a key of loss.AGGREGATIONS")
    max_completion_tokens: int = Field(
        default=1024, ge=1, description="constant normaliser of the Dr. GRPO aggregation"
    )
    kl_coef: float = Field(default=0.0, ge=0, description="k3 KL to the reference (paper: 1e-3)")
    temperature: float = Field(
        default=1.0, gt=0,
        description="sampling temperature: log-probs come from logits / T, like the sampler's"
        " processed log-probs (set it to the mutator's temperature)",
    )
    importance: Literal["none", "tis", "behavior"] = Field(
        default="tis",
        description="none: ignore behaviour log-probs; tis: ratio against the step-start policy"
        " times min(pi_old / pi_behavior, is_cap); behavior: ratio against pi_behavior directly",
    )
    is_cap: float = Field(default=2.0, gt=0, description="truncated importance-sampling cap")
    mask_truncated: bool = Field(
        default=False,
        description="drop truncated completions from the loss (default: keep them; they score"
        " zero rows, hence a negative advantage)",
    )


class LoraSettings(_Strict):
    r: int = Field(default=16, ge=1)
    alpha: int = Field(default=32, ge=1)
    dropout: float = Field(default=0.0, ge=0, lt=1)
    target_modules: list[str] = Field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    layers: int | None = Field(
        default=None, ge=1,
        description="adapt only the top N decoder layers (None = all): the backward pass stops at"
        " the lowest adapted layer, so a step costs a forward plus the top layers' backward",
    )


class LearnerConfig(_Strict):
    """The learner: what is trained, how, and where its metrics go."""

    advantage: AdvantageConfig = Field(default_factory=AdvantageConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    lora: LoraSettings | None = Field(
        default_factory=LoraSettings, description="None = full fine-tuning"
    )
    lr: float | None = Field(
        default=None, gt=0, description="None: 1e-4 with LoRA, 1e-6 for full fine-tuning"
    )
    weight_decay: float = Field(default=0.0, ge=0)
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float = Field(default=1.0, gt=0)
    logprob_chunk: int | None = Field(
        default=None, ge=1,
        description="compute completion log-probs this many positions at a time from the hidden"
        " states (trainer/logprobs.py): no vocabulary-wide fp32 logits tensor; None = plain",
    )
    micro_batch_tokens: int = Field(
        default=4096, ge=1, description="tokens per forward/backward: one prompt plus completions sharing it"
    )
    num_minibatches: int = Field(default=1, ge=1, description="optimiser steps per step() call")
    max_staleness: int | None = Field(
        default=4, ge=0, description="drop rollouts sampled more than N versions ago; None = keep"
    )
    dtype: Literal["float32", "bfloat16"] = "float32"
    gradient_checkpointing: bool = False
    seed: int = 0
    metrics_jsonl: Path | None = None
    tensorboard_dir: Path | None = None

    @model_validator(mode="after")
    def _lr(self) -> LearnerConfig:
        if self.lr is None:
            self.lr = 1e-4 if self.lora is not None else 1e-6
        return self
