"""Mutator backends (the policy): in-process transformers, a vLLM server, any OpenAI endpoint.

`MUTATOR_BACKENDS` maps a backend name to "module:Class", imported on first use so that
choosing the HTTP backends never imports torch.
"""

from __future__ import annotations

import importlib

from evolve.mutator.base import ChatMessage, Completion, Mutator, MutatorError, Prompt
from evolve.mutator.config import (
    MutatorConfig,
    OpenAIConfig,
    SamplingParams,
    TransformersConfig,
    VLLMConfig,
)

MUTATOR_BACKENDS: dict[str, str] = {
    "transformers": "evolve.mutator.transformers_backend:TransformersMutator",
    "vllm": "evolve.mutator.vllm_backend:VLLMMutator",
    "openai": "evolve.mutator.openai_backend:OpenAIMutator",
}


def backend_class(name: str) -> type[Mutator]:
    if name not in MUTATOR_BACKENDS:
        raise KeyError(f"unknown mutator backend {name!r}; known: {', '.join(MUTATOR_BACKENDS)}")
    module, cls = MUTATOR_BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def build_mutator(config: TransformersConfig | VLLMConfig | OpenAIConfig) -> Mutator:
    return backend_class(config.backend)(config)


__all__ = [
    "ChatMessage", "Completion", "MUTATOR_BACKENDS", "Mutator", "MutatorConfig", "MutatorError",
    "OpenAIConfig", "Prompt", "SamplingParams", "TransformersConfig", "VLLMConfig",
    "backend_class", "build_mutator",
]
