"""The mutator interface: the policy that VPO trains, behind interchangeable backends.

A backend turns prompts into completions that carry what the trainer needs besides text: the
token ids of prompt and completion, the log-probability of every sampled token under the
distribution it was actually sampled from (temperature, top-k and top-p applied, renormalised;
greedy decoding reports the raw model distribution - vLLM's `processed_logprobs` mode), and the
policy version (adapter) that produced it.  `load_adapter` swaps in a newly trained adapter
without reloading the base model.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from evolve.mutator.config import SamplingParams
from trainer.checkpoints import ADAPTER_CONFIG_FILE, is_adapter

log = logging.getLogger("evolve.mutator")

ChatMessage = dict[str, str]  # {"role": ..., "content": ...}
Prompt = Union[str, list[ChatMessage]]


class MutatorError(RuntimeError):
    """A backend failed in a way the caller should report (server down, bad adapter...)."""


class MutatorCancelled(MutatorError):
    """`generate` stopped early because `cancel()` was called (the run no longer needs it)."""


class Completion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    token_ids: list[int] | None = Field(description="None when the backend cannot return ids")
    logprobs: list[float | None] | None = Field(
        description="one per token id: sampling log-probs (None at tokens the harness inserted)")
    prompt_token_ids: list[int] | None
    finish_reason: Literal["stop", "length"]
    policy_version: int = Field(ge=0, description="0 = base model, N = adapter loaded as version N")
    sampled: list[bool] | None = Field(
        default=None,
        description="per token id: sampled by the model (False = inserted by the harness,"
        " evolve.mutations.scaffold); None = every token was sampled",
    )

    temperatures: list[float] | None = Field(
        default=None,
        description="per token id: the temperature it was sampled at, when it differs within the"
        " completion (scaffold retries); None = every token at the request's temperature",
    )
    discarded_tokens: int = Field(
        default=0, ge=0,
        description="tokens sampled for answers the harness discarded as copies (cost only)",
    )

    @property
    def sampled_tokens(self) -> int:
        """Tokens the model generated (inserted scaffold tokens excluded)."""
        if self.token_ids is None:
            return 0
        return len(self.token_ids) if self.sampled is None else sum(self.sampled)


class Mutator(ABC):
    """Generate completions; hot-swap adapters.  Subclasses register in MUTATOR_BACKENDS."""

    name: str = ""

    def __init__(self) -> None:
        self._version = 0
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Stop the generation in flight (and any later one): it raises MutatorCancelled.  The
        loop calls this when a batch solved the problem while the next one was generating."""
        self._cancel.set()

    def _check_cancel(self) -> None:
        if self._cancel.is_set():
            raise MutatorCancelled("generation cancelled")

    @property
    def policy_version(self) -> int:
        return self._version

    @abstractmethod
    def generate(
        self, prompts: list[Prompt], n: int = 1, params: SamplingParams | None = None,
        parents: list[str] | None = None,
    ) -> list[list[Completion]]:
        """For each prompt, `n` completions (one group), in prompt order.  `parents`: the
        program each prompt asks to change; scaffolded generation resamples answers that make no
        valid program or copy it or an earlier answer (`Scaffold.resample`)."""

    @abstractmethod
    def load_adapter(self, version: int, path: Path) -> None:
        """Make the adapter at `path` the active policy, as `version` (must increase)."""

    def close(self) -> None:
        """Release resources (HTTP pools, model memory); idempotent."""

    def __enter__(self) -> "Mutator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_version(self, version: int, path: Path) -> None:
        if version <= self._version:
            raise MutatorError(f"adapter version {version} is not newer than {self._version}")
        check_adapter(path)


def check_adapter(path: Path) -> None:
    """MutatorError unless `path` is a peft adapter directory (trainer.checkpoints' layout)."""
    if not is_adapter(path):
        raise MutatorError(f"{path}: not a peft adapter directory (no {ADAPTER_CONFIG_FILE})")
