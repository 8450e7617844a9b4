"""Cutting a server's completion after its m-th code block (vLLM cannot stop there itself)."""

from __future__ import annotations

from evolve.mutator.vllm_backend import VLLMMutator


def _choice(pieces: list[str], finish: str = "length", base: int = 0) -> dict:
    offsets, at = [], base
    for p in pieces:
        offsets.append(at)
        at += len(p)
    return {"text": "".join(pieces), "finish_reason": finish, "token_ids": list(range(len(pieces))),
            "logprobs": {"token_logprobs": [-0.5] * len(pieces), "text_offset": offsets},
            "prompt_token_ids": [9]}


def test_vllm_completion_is_cut_with_its_tokens_after_the_last_block():
    pieces = ["### Answer 1\n", "```", "python\n", "x = 1\n", "``", "`\n", "Here", " is why", "."]
    for base in (0, 120):  # offsets counted from the prompt (echo) or from the completion
        c = VLLMMutator._completion(_choice(pieces, base=base), version=2, blocks=1)
        assert c.text == "### Answer 1\n```python\nx = 1\n```"
        assert c.token_ids == [0, 1, 2, 3, 4, 5] and len(c.logprobs) == 6 and c.finish_reason == "stop"
    short = VLLMMutator._completion(_choice(pieces), version=2, blocks=2)
    assert short.text == "".join(pieces) and short.finish_reason == "length" and len(short.token_ids) == 9
