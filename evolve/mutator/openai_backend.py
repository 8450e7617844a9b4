"""Mutator on any OpenAI-compatible endpoint: text only.

Hosted APIs return neither token ids nor sampling log-probs, so completions carry `None` there
and the trainer must re-tokenize the text (and cannot use behaviour log-probs); this is logged
once per mutator.  Adapters cannot be loaded through this API: use the vllm backend to train.

Scaffolded generation (evolve.mutations.scaffold) runs as continuation requests: the prompt
text plus the completion so far on /completions, or, on /chat/completions, a final assistant
message that the server continues (`continue_final_message`, a vLLM/SGLang extension; servers
without it answer with an error, reported as such).
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
from evolve.mutations.fences import FENCE_TOKEN, answer_end, end_of_blocks
from evolve.mutations.scaffold import AnswerCheck

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
        self, prompts: list[Prompt], n: int = 1, params: SamplingParams | None = None,
        parents: list[str] | None = None,
    ) -> list[list[Completion]]:
        params = params or SamplingParams()
        if not self._warned:
            log.warning(
                "openai backend: completions carry text only (no token ids, no log-probs); "
                "the trainer must re-tokenize them"
            )
            self._warned = True
        try:
            if params.scaffold is not None:
                reps = 1 if params.greedy else n
                chains = [[self._pool.submit(self._scaffolded, p, params,
                                             parents[i] if parents else None) for _ in range(reps)]
                          for i, p in enumerate(prompts)]
                return [[f.result() for f in g] * (n if params.greedy else 1) for g in chains]
            futures = [self._pool.submit(self._one, p, n, params) for p in prompts]
            return [f.result() for f in futures]
        except HTTPError as e:
            raise MutatorError(f"OpenAI-compatible generation failed: {e}") from None

    def _request(self, prompt: Prompt, params: SamplingParams, n: int, prefill: str = "",
                 max_tokens: int | None = None, stop: list[str] | None = None) -> list[dict]:
        payload: dict[str, Any] = {
            "model": self.config.model, "n": n, "temperature": params.temperature,
            "max_tokens": max_tokens or params.max_tokens, "top_p": params.top_p,
        }
        if stop or params.stop:
            payload["stop"] = stop or params.stop
        if self.config.chat:
            msgs = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
            if prefill:
                msgs.append({"role": "assistant", "content": prefill})
                payload.update(continue_final_message=True, add_generation_prompt=False)
            payload["messages"] = msgs
        elif isinstance(prompt, str):
            payload["prompt"] = prompt + prefill
        else:
            raise MutatorError("chat prompts need `chat: true` for the openai backend")
        out = request_json(self.url, payload, timeout=self.config.timeout_s, headers=self.headers)
        choices = sorted(out["choices"], key=lambda c: c.get("index", 0))
        return [{"text": (c["message"].get("content") or "") if self.config.chat else c.get("text", ""),
                 "finish_reason": c.get("finish_reason"),
                 # which stop string ended it (vLLM, SGLang); absent on other servers
                 "paused": c.get("stop_reason", FENCE_TOKEN) == FENCE_TOKEN} for c in choices]

    def _scaffolded(self, prompt: Prompt, params: SamplingParams, parent: str | None) -> Completion:
        """Text-level scaffolding: the same openings, closing rule and copy resampling as the
        token-level backends, without token ids (the server pauses at every "```")."""
        sc = params.scaffold
        assert sc is not None
        check = AnswerCheck(parent, sc)
        text, finish = "", "length"
        for k, opening in enumerate(sc.openings):
            text += opening
            seg, calls, retries = "", 0, 0
            while True:
                calls += 1
                hot = params.model_copy(update={"temperature": params.temperature
                                                + sc.retry_temperature * retries})
                c = self._request(prompt, hot, 1, prefill=text + seg, stop=[FENCE_TOKEN],
                                  max_tokens=sc.max_answer_tokens)[0]
                seg += c["text"]
                if c["finish_reason"] == "stop" and c["paused"] and answer_end(seg) is None:
                    seg += FENCE_TOKEN  # the server drops the stop string: put it back
                    if answer_end(seg) is None and calls < 8:
                        continue  # a fence inside a line is code: go on
                cut = answer_end(seg)
                if not check.accept(k, seg if cut is None else seg[:cut]) and retries < sc.resample:
                    seg, retries = "", retries + 1  # unusable: sample the answer again
                    continue
                break
            cut = answer_end(seg)
            text += seg if cut is None else seg[:cut]
            if cut is None:  # EOS or the answer's budget: no closing fence
                finish = "stop" if c["finish_reason"] == "stop" else "length"
                if finish == "stop":
                    break
            elif k == len(sc.openings) - 1:
                finish = "stop"
        return Completion(text=text, token_ids=None, logprobs=None, prompt_token_ids=None,
                          finish_reason=finish, policy_version=0)

    def _one(self, prompt: Prompt, n: int, params: SamplingParams) -> list[Completion]:
        comps = []
        for c in self._request(prompt, params, 1 if params.greedy else n):  # greedy: replicate
            text = c["text"]
            cut = end_of_blocks(text, params.stop_after_blocks) if params.stop_after_blocks else None
            finish = "length" if c["finish_reason"] == "length" and cut is None else "stop"
            comps.append(Completion(text=text[:cut], token_ids=None, logprobs=None,
                                    prompt_token_ids=None, finish_reason=finish, policy_version=0))
        return comps * n if params.greedy else comps

    def load_adapter(self, version: int, path: Path) -> None:
        raise MutatorError("the openai backend cannot load adapters; serve the policy with the vllm backend")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
