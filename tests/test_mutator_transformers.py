"""The in-process transformers mutator on the tiny fixture LM: exact against transformers itself."""

from __future__ import annotations

import pytest
import torch

from evolve.mutator import MutatorError, SamplingParams, TransformersConfig, build_mutator
from evolve.mutator.cpu import cpu_supports_bf16
from evolve.mutator.transformers_backend import resolve_dtype
from tests.fixtures.lora import make_adapter
from trainer.peft_quiet import peft_quiet

PROMPTS = ["def add(a, b):", "import os\nclass Reader:\n    def", "x"]
GREEDY = SamplingParams(temperature=0, max_tokens=12)


@pytest.fixture(scope="module")
def mutator(tiny_lm_dir):
    return build_mutator(TransformersConfig(model=str(tiny_lm_dir), dtype="float32"))


@pytest.fixture(scope="module")
def adapters(tiny_lm_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    return [make_adapter(tiny_lm_dir, root / f"a{k}", seed=k) for k in (1, 2)]


def full_logprobs(model, prompt_ids, toks, temperature=1.0):
    """Teacher-forced log-softmax of each completion token, without any cache or padding."""
    ids = torch.tensor([prompt_ids + toks])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, len(prompt_ids) - 1 : -1].float()
    logp = torch.log_softmax(logits / temperature, dim=-1)
    return logp.gather(-1, torch.tensor(toks)[:, None])[:, 0].tolist()


def test_greedy_batch_matches_model_generate_per_prompt(mutator):
    res = mutator.generate(PROMPTS, n=2, params=GREEDY)
    assert [len(g) for g in res] == [2, 2, 2]
    for prompt, group in zip(PROMPTS, res):
        ids = mutator.tokenizer(prompt, return_tensors="pt")
        ref = mutator.model.generate(**ids, max_new_tokens=12, do_sample=False)
        want = ref[0, ids["input_ids"].shape[1]:].tolist()
        for c in group:
            assert c.token_ids == want[: len(c.token_ids)] and c.prompt_token_ids == ids["input_ids"][0].tolist()
            assert c.policy_version == 0 and c.finish_reason in ("stop", "length")
            assert len(c.logprobs) == len(c.token_ids)


def test_logprobs_equal_teacher_forced_distribution(mutator):
    c = mutator.generate([PROMPTS[1]], n=1, params=GREEDY)[0][0]
    assert c.logprobs == pytest.approx(full_logprobs(mutator.model, c.prompt_token_ids, c.token_ids), abs=1e-4)
    hot = SamplingParams(temperature=0.7, max_tokens=10, seed=3)
    c = mutator.generate([PROMPTS[0]], n=1, params=hot)[0][0]
    assert c.logprobs == pytest.approx(
        full_logprobs(mutator.model, c.prompt_token_ids, c.token_ids, temperature=0.7), abs=1e-4
    )


def test_top_k_logprobs_are_renormalised_over_kept_tokens(mutator):
    c = mutator.generate([PROMPTS[0]], n=1, params=SamplingParams(temperature=1.0, top_k=1, max_tokens=6, seed=0))[0][0]
    assert c.logprobs == pytest.approx([0.0] * len(c.token_ids), abs=1e-5)  # top-1: the only choice
    greedy = mutator.generate([PROMPTS[0]], n=1, params=SamplingParams(temperature=0, max_tokens=6))[0][0]
    assert c.token_ids == greedy.token_ids


def test_seeded_sampling_is_deterministic(mutator):
    p = SamplingParams(temperature=1.0, max_tokens=16, seed=11)
    a = mutator.generate(PROMPTS, n=3, params=p)
    b = mutator.generate(PROMPTS, n=3, params=p)
    assert [[c.token_ids for c in g] for g in a] == [[c.token_ids for c in g] for g in b]
    c = mutator.generate(PROMPTS, n=3, params=p.model_copy(update={"seed": 12}))
    assert [[x.token_ids for x in g] for g in a] != [[x.token_ids for x in g] for g in c]
    assert len({tuple(x.token_ids) for x in a[0]}) > 1  # a group holds different samples


def test_small_max_batch_gives_same_greedy_result(tiny_lm_dir, mutator):
    small = build_mutator(TransformersConfig(model=str(tiny_lm_dir), dtype="float32", max_batch=2))
    a = small.generate(PROMPTS, n=2, params=GREEDY)
    b = mutator.generate(PROMPTS, n=2, params=GREEDY)
    assert [[c.token_ids for c in g] for g in a] == [[c.token_ids for c in g] for g in b]


def test_stop_strings_and_chat_prompts(mutator):
    base = mutator.generate([PROMPTS[1]], n=1, params=SamplingParams(temperature=0, max_tokens=12))[0][0]
    stop = base.text[3:6]
    c = mutator.generate([PROMPTS[1]], n=1, params=SamplingParams(temperature=0, max_tokens=12, stop=[stop]))[0][0]
    assert c.finish_reason == "stop" and stop not in c.text and base.text.startswith(c.text)
    chat = [{"role": "user", "content": "write code"}]
    c = mutator.generate([chat], n=1, params=GREEDY)[0][0]
    want = mutator.tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
    assert mutator.tokenizer.decode(c.prompt_token_ids) == want


def test_adapter_hot_swap_without_reloading_base(tiny_lm_dir, adapters):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    m = build_mutator(TransformersConfig(model=str(tiny_lm_dir), dtype="float32"))
    base_weight = m.model.get_input_embeddings().weight
    ptr = base_weight.data_ptr()
    plain = m.generate(PROMPTS, n=1, params=GREEDY)
    for version, path in enumerate(adapters, start=1):
        m.load_adapter(version, path)
        assert m.policy_version == version and list(m.model.peft_config) == [f"v{version}"]
        got = m.generate(PROMPTS, n=1, params=GREEDY)
        assert all(g[0].policy_version == version for g in got)
        with peft_quiet():
            ref_model = PeftModel.from_pretrained(
                AutoModelForCausalLM.from_pretrained(tiny_lm_dir, dtype=torch.float32), str(path)
            ).eval()
        for g in got:
            c = g[0]
            assert c.logprobs == pytest.approx(full_logprobs(ref_model, c.prompt_token_ids, c.token_ids), abs=1e-4)
        assert [g[0].token_ids for g in got] != [g[0].token_ids for g in plain]
    assert m.model.get_input_embeddings().weight.data_ptr() == ptr  # base weights never reloaded
    with pytest.raises(MutatorError, match="not newer"):
        m.load_adapter(2, adapters[0])
    with pytest.raises(MutatorError, match="adapter_config.json"):
        m.load_adapter(3, tiny_lm_dir)


def test_dtype_auto_follows_cpu(tiny_lm_dir):
    assert resolve_dtype("auto") == (torch.bfloat16 if cpu_supports_bf16() else torch.float32)
    m = build_mutator(TransformersConfig(model=str(tiny_lm_dir)))
    assert next(m.model.parameters()).dtype == resolve_dtype("auto")
    assert m.generate(["def"], n=2, params=SamplingParams(max_tokens=4, seed=1))[0][1].token_ids


def test_unprepared_model_name_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("VPO_EVOLVE_CACHE", str(tmp_path))
    with pytest.raises(MutatorError, match="evolve model prepare qwen2.5-coder-1.5b"):
        build_mutator(TransformersConfig(model="qwen2.5-coder-1.5b"))


@pytest.mark.parametrize("max_batch", [8, 2])
def test_rows_stop_at_eos_independently(tiny_lm_dir, adapters, max_batch):
    """One row of eight hitting EOS (below the compaction threshold) must stop alone, and
    compaction must not disturb the others: every row equals its free run cut at its first EOS."""
    m = build_mutator(TransformersConfig(model=str(tiny_lm_dir), dtype="float32", max_batch=max_batch))
    m.load_adapter(1, adapters[0])  # the bare tiny model repeats one token; the adapter varies it
    prompts = [f"def f{k}(x):\n    return x + {k}" for k in range(8)]
    params = SamplingParams(temperature=0, max_tokens=10)
    free = [g[0].token_ids for g in m.generate(prompts, n=1, params=params)]
    # the tiny model never emits its real EOS: promote a token that row 0 emits mid-way
    stop_tok = next(t for i, t in enumerate(free[0]) if i >= 2 and t not in free[0][:i]
                    and sum(t in row for row in free) < len(free))
    m.eos_ids = sorted(set(m.eos_ids) | {stop_tok})
    got = [g[0] for g in m.generate(prompts, n=1, params=params)]
    for row, c in zip(free, got):
        cut = row.index(stop_tok) + 1 if stop_tok in row else len(row)
        assert c.token_ids == row[:cut] and len(c.logprobs) == cut
        assert c.finish_reason == ("stop" if stop_tok in row else "length")
    assert got[0].finish_reason == "stop" and any(c.finish_reason == "length" for c in got)


def test_generation_stops_once_the_requested_code_blocks_are_closed(tiny_lm_dir):
    """With `stop_after_blocks`, a row ends on the token closing its n-th fenced block (finish
    "stop", nothing sampled after it); a lone row is otherwise the same sample as without it."""
    from evolve.mutations.fences import closed_code_blocks

    m = build_mutator(TransformersConfig(model=str(tiny_lm_dir), dtype="float32", max_batch=6))
    tok = m.tokenizer
    favoured = sorted(set(tok.encode("```\n", add_special_tokens=False)))
    bias = torch.zeros(len(tok))
    bias[favoured] = 30.0  # only backticks and newlines: fence lines (and longer runs) at random
    hook = m.model.get_output_embeddings().register_forward_hook(lambda mod, i, out: out + bias[: out.shape[-1]])
    try:
        free = SamplingParams(temperature=1.0, max_tokens=80, seed=3)
        stopping = free.model_copy(update={"stop_after_blocks": 2})
        batch = m.generate(PROMPTS, n=2, params=stopping)
        alone = [[m.generate([q], n=1, params=p)[0][0] for p in (free, stopping)] for q in PROMPTS]
    finally:
        hook.remove()
    outcomes = []
    for c in [c for g in batch for c in g] + [s for _, s in alone]:
        closed = closed_code_blocks(tok.decode(c.token_ids))
        assert len(c.logprobs) == len(c.token_ids)
        if c.finish_reason == "stop":
            assert closed == 2 and closed_code_blocks(tok.decode(c.token_ids[:-1])) < 2
        else:
            assert closed < 2 and len(c.token_ids) == free.max_tokens
        outcomes.append(c.finish_reason)
    assert outcomes[:6].count("stop") >= 2 and "stop" in outcomes[6:]
    for f, s in alone:  # one row: the same random stream, cut short
        assert f.token_ids[: len(s.token_ids)] == s.token_ids
        assert len(f.token_ids) > len(s.token_ids) or s.finish_reason == "length"
