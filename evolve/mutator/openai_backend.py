"""Mutator on any OpenAI-compatible endpoint: text only.

Hosted APIs return neither token ids nor sampling log-probs, so completions carry `None` there
and the trainer must re-tokenize the text (and cannot use behaviour log-probs); this is logged
once per mutator.  Adapters cannot be loaded through this API: use the vllm backend to train.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from evolve.mutator.base import Completion, Mutator, MutatorError, Prompt
from evolve.mutator.config import OpenAIConfig, SamplingParams
from evolve.mutator.http import HTTPError, request_json
from evolve.mutations.fences import end_of_blocks

log = logging.getLogger("evolve.mutator.openai")


class OpenAIMutator(Mutator):
    name = "openai"

    def __init__(self, config: OpenAIConfig) -> None:
        super().__init__()
        self.config = config
        self.url = config.base_url.rstrip("/") + ("/chat/completions" if config.chat else "/completions")
        key = os.environ.get(config.api_key_env) if config.api_key_env else None
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._pool = ThreadPoolExecutor(max_workers=config.concurrency)
        self._warned = False

    def generate(
        self, prompts: list[Prompt], n: int = 1, params: SamplingParams | None = None
    ) -> list[list[Completion]]:
        params = params or SamplingParams()
        if not self._warned:
            log.warning(
                "openai backend: completions carry text only (no token ids, no log-probs); "
                "the trainer must re-tokenize them"
            )
            self._warned = True
        futures = [self._pool.submit(self._one, p, n, params) for p in prompts]
        try:
            return [f.result() for f in futures]
        except HTTPError as e:
            raise MutatorError(f"OpenAI-compatible generation failed: {e}") from None

    def _one(self, prompt: Prompt, n: int, params: SamplingParams) -> list[Completion]:
        payload: dict[str, Any] = {
            "model": self.config.model,
            "n": 1 if params.greedy else n,  # greedy is deterministic: replicate
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if params.stop:
            payload["stop"] = params.stop
        if self.config.chat:
            payload["messages"] = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        elif isinstance(prompt, str):
            payload["prompt"] = prompt
        else:
            raise MutatorError("chat prompts need `chat: true` for the openai backend")
        out = request_json(self.url, payload, timeout=self.config.timeout_s, headers=self.headers)
        comps = []
        for c in sorted(out["choices"], key=lambda c: c.get("index", 0)):
            text = (c["message"].get("content") or "") if self.config.chat else c.get("text", "")
            cut = end_of_blocks(text, params.stop_after_blocks) if params.stop_after_blocks else None
            finish = "length" if c.get("finish_reason") == "length" and cut is None else "stop"
            comps.append(
                Completion(
                    text=text[:cut], token_ids=None, logprobs=None, prompt_token_ids=None,
                    finish_reason=finish,
                    policy_version=0,
                )
            )
        return comps * n if params.greedy else comps

    def load_adapter(self, version: int, path: Path) -> None:
        raise MutatorError("the openai backend cannot load adapters; serve the policy with the vllm backend")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
