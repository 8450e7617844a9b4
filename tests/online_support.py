"""A real transformers mutator on the tiny LM whose completion TEXT comes from the fizz menu.

A random tiny LM never writes a parseable answer, so every reward would be zero and no learner
step would ever update.  This backend keeps everything else real: the token ids of the menu text
under the tiny tokenizer, their log-probs under the mutator's current policy (base + loaded
adapter) at the sampling temperature, the policy version, adapter hot swaps.
"""

from __future__ import annotations

import random

import torch

from evolve.config import RunConfig
from evolve.mutations import render_answers
from evolve.mutator import Completion, SamplingParams, TransformersConfig
from evolve.mutator.transformers_backend import TransformersMutator
from evolve.mutator.vllm_backend import VLLMMutator
from tests.scripted_mutator import MENU


class MenuMutator(TransformersMutator):
    """Menu text, real token ids and real log-probs under the current policy version."""

    def __init__(self, config: TransformersConfig, answers: int):
        super().__init__(config)
        self.m = answers

    def generate(self, prompts, n=1, params=None, parents=None):
        params = params or SamplingParams()
        rnd = random.Random(params.seed)
        out = []
        for p in prompts:
            ids = self.encode(p)
            group = []
            for _ in range(n):
                text = render_answers(rnd.sample(MENU, self.m))
                toks = self.tokenizer(text, add_special_tokens=False)["input_ids"] + [self.eos_ids[0]]
                group.append(Completion(
                    text=text, token_ids=toks, logprobs=self.score(ids, toks, params.temperature),
                    prompt_token_ids=ids, finish_reason="stop", policy_version=self.policy_version))
            out.append(group)
        return out

    @torch.inference_mode()
    def score(self, prompt: list[int], toks: list[int], temperature: float = 1.0) -> list[float]:
        logits = self.model(input_ids=torch.tensor([prompt + toks])).logits[0, len(prompt) - 1:-1]
        logp = torch.log_softmax(logits.float() / temperature, -1)
        return logp.gather(-1, torch.tensor(toks)[:, None])[:, 0].tolist()


class VLLMMenuMutator(VLLMMutator):
    """The vLLM backend with menu text: the prompt is rendered and tokenized by the server, and
    the menu answer's log-probs are scored by the server under the adapter it currently serves
    (an echo request), so every version number in the rollouts is the server's."""

    def __init__(self, config, answers: int):
        super().__init__(config)
        self.m = answers

    def generate(self, prompts, n=1, params=None, parents=None):
        params = params or SamplingParams()
        rnd = random.Random(params.seed)
        served, version = self._served, self.policy_version
        out = []
        for p in prompts:
            ids = self._prompt(p)
            group = []
            for _ in range(n):
                text = render_answers(rnd.sample(MENU, self.m))
                toks = self._post("/tokenize", {"model": self.config.model, "prompt": text,
                                                "add_special_tokens": False})["tokens"]
                group.append(Completion(
                    text=text, token_ids=toks, logprobs=self.score(served, ids, toks),
                    prompt_token_ids=ids, finish_reason="stop", policy_version=version))
            out.append(group)
        return out

    def score(self, served: str, prompt: list[int], toks: list[int]) -> list[float]:
        """Log-probs of `toks` after `prompt` under the served model or adapter (temperature 1)."""
        res = self._post("/v1/completions", {"model": served, "prompt": prompt + toks, "max_tokens": 1,
                                             "temperature": 0, "echo": True, "logprobs": 0})
        lps = res["choices"][0]["logprobs"]["token_logprobs"]
        return [float(x) for x in lps[len(prompt): len(prompt) + len(toks)]]


def menu_factory(config: RunConfig) -> MenuMutator:
    """`--mutator-plugin tests.online_support:menu_factory`."""
    return MenuMutator(config.mutator, config.mutation.answers)
