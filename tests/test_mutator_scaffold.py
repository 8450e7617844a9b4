"""Scaffolded generation in process: the harness's openings are in the sequence (forced inside
the KV-cache sampler, never re-prefilled), marked as not sampled, and every sampled token's
log-prob is the model's own given everything before it, inserted tokens included."""

from __future__ import annotations

import pytest
import torch

from evolve.mutations import mutate
from evolve.mutations.fences import answer_end
from evolve.mutations.scaffold import AnswerCheck, Scaffold, ScaffoldConfig, build_scaffold
from evolve.mutator import SamplingParams, TransformersConfig, build_mutator
from tests.test_mutator_transformers import full_logprobs

PARENT = "import sys\n# EVOLVE-BLOCK-START\ndef f(x):\n    return x\n# EVOLVE-BLOCK-END\n"
PROMPTS = ["def add(a, b):", "import os\nclass Reader:\n    def", "x"]


@pytest.fixture(scope="module")
def mutator(tiny_lm_dir):
    return build_mutator(TransformersConfig(model=str(tiny_lm_dir), dtype="float32", max_batch=4))


class fence_bias:
    """Favour backticks and newlines so that the tiny LM writes closing fences at random."""

    def __init__(self, m, strength: float = 9.0):
        tok = m.tokenizer
        self.bias = torch.zeros(len(tok))
        self.bias[sorted(set(tok.encode("```\n", add_special_tokens=False)))] = strength
        self.layer = m.model.get_output_embeddings()

    def __enter__(self):
        self.h = self.layer.register_forward_hook(lambda mod, i, out: out + self.bias[: out.shape[-1]])

    def __exit__(self, *exc):
        self.h.remove()


def spans(c):
    """(start, end) of each run of sampled tokens."""
    out, start = [], None
    for i, s in enumerate(c.sampled + [False]):
        if s and start is None:
            start = i
        elif not s and start is not None:
            out.append((start, i))
            start = None
    return out


def test_openings_are_inserted_marked_and_conditioned_on(mutator):
    sc = build_scaffold(3, "rewrite", PARENT, ScaffoldConfig(max_answer_tokens=40), 120)
    params = SamplingParams(temperature=1.0, max_tokens=120, seed=5, scaffold=sc)
    tok = mutator.tokenizer
    open_ids = [tok.encode(o, add_special_tokens=False) for o in sc.openings]
    with fence_bias(mutator):
        groups = mutator.generate(PROMPTS, n=2, params=params)
        closed = 0
        for c in [c for g in groups for c in g]:
            assert len(c.token_ids) == len(c.logprobs) == len(c.sampled)
            assert all((lp is None) == (not s) for lp, s in zip(c.logprobs, c.sampled))
            assert c.token_ids[: len(open_ids[0])] == open_ids[0] and not any(c.sampled[: len(open_ids[0])])
            assert c.sampled_tokens <= params.max_tokens
            # inserted runs are exactly the openings, in order, between the answers
            runs, i, k = [], 0, 0
            while i < len(c.sampled):
                if not c.sampled[i]:
                    j = i
                    while j < len(c.sampled) and not c.sampled[j]:
                        j += 1
                    runs.append(c.token_ids[i:j])
                    i = j
                else:
                    i += 1
            assert runs == open_ids[: len(runs)]
            pieces = spans(c)
            assert all(b - a <= sc.max_answer_tokens for a, b in pieces)
            # every sampled token's log-prob given the whole sequence so far (openings included)
            ref = full_logprobs(mutator.model, c.prompt_token_ids, c.token_ids, temperature=1.0)
            got = [(x, y) for x, y, s in zip(c.logprobs, ref, c.sampled) if s]
            assert [x for x, _ in got] == pytest.approx([y for _, y in got], abs=1e-4)
            # the text is the openings plus each answer's code cut after its closing fence
            text, answers = "", 0
            for k, (a, b) in enumerate(pieces):
                seg = tok.decode(c.token_ids[a:b], skip_special_tokens=True)
                cut = answer_end(seg)
                closed += cut is not None
                if cut is not None:
                    assert cut > len(seg) - 4 - len(tok.decode(c.token_ids[b - 1:b]))  # on the last token
                text += sc.openings[k] + (seg if cut is None else seg[:cut])
                answers += 1
            assert c.text == text
    assert closed >= 3  # the rule fired: answers ended at their fences


def test_answers_end_at_their_fence_and_parse_into_slots(mutator):
    sc = build_scaffold(3, "rewrite", PARENT, ScaffoldConfig(), 150)
    params = SamplingParams(temperature=1.0, max_tokens=150, seed=2, scaffold=sc)
    with fence_bias(mutator, strength=12.0):
        groups = mutator.generate(PROMPTS, n=3, params=params)
    finished = [c for g in groups for c in g if c.finish_reason == "stop"]
    assert finished, "no completion closed all three answers"
    for c in finished:
        assert c.text.count("### Answer") == 3 and c.text.endswith("```")
        outcome = mutate(PARENT, c.text, 3)
        seen = {x.slot for x in outcome.children} | {i.slot for i in outcome.rejected}
        assert seen <= {1, 2, 3}  # every answer found in its own slot (or rejected there)


def test_per_answer_cap_moves_on_and_a_capped_last_answer_is_truncated(mutator):
    sc = Scaffold(openings=["### Answer 1\n```python\n", "\n\n### Answer 2\n```python\n"], max_answer_tokens=5)
    c = mutator.generate(["x"], n=1, params=SamplingParams(temperature=0, max_tokens=50, scaffold=sc))[0][0]
    assert [b - a for a, b in spans(c)] == [5, 5] and c.finish_reason == "length"
    # the budget runs out inside answer 1: nothing more is written
    c = mutator.generate(["x"], n=1, params=SamplingParams(temperature=0, max_tokens=3, scaffold=sc))[0][0]
    assert c.sampled_tokens == 3 and c.sampled[-1] and c.text.count("### Answer") == 1
    # cap and budget on the same token: the queued opening is still written (as every backend does)
    c = mutator.generate(["x"], n=1, params=SamplingParams(temperature=0, max_tokens=5, scaffold=sc))[0][0]
    assert c.sampled_tokens == 5 and not c.sampled[-1] and c.text.endswith(sc.openings[1])
    assert c.finish_reason == "length"


def test_eos_inside_an_answer_ends_the_completion(tiny_lm_dir):
    m = build_mutator(TransformersConfig(model=str(tiny_lm_dir), dtype="float32"))
    sc = Scaffold(openings=["### Answer 1\n```python\n", "\n\n### Answer 2\n```python\n"], max_answer_tokens=8)
    params = SamplingParams(temperature=0, max_tokens=40, scaffold=sc)
    free = m.generate(["x"], n=1, params=params)[0][0]
    sampled_at = [i for i, s in enumerate(free.sampled) if s]
    eos = free.token_ids[sampled_at[0]]  # the tiny LM never emits its real EOS: promote one
    m.eos_ids = sorted(set(m.eos_ids) | {eos})
    c = m.generate(["x"], n=1, params=params)[0][0]
    assert c.finish_reason == "stop" and len(c.token_ids) == sampled_at[0] + 1
    assert c.text == sc.openings[0] and c.sampled[-1] and c.sampled_tokens == 1


def test_stop_strings_and_scaffolds_do_not_mix():
    sc = Scaffold(openings=["a"])
    with pytest.raises(ValueError, match="scaffold"):
        SamplingParams(stop=["x"], scaffold=sc)


def test_copies_are_resampled_and_leave_no_trace_in_the_sequence(mutator):
    """Answers repeating the parent or an earlier answer are sampled again; the discarded
    tokens are masked out of the cache, so every kept token's log-prob is the model's given the
    KEPT sequence alone (a teacher-forced pass over it), and copies only survive when the
    retries run out."""
    sc = build_scaffold(3, "rewrite", PARENT, ScaffoldConfig(resample=3, max_answer_tokens=30,
                                                             retry_temperature=0.5), 150)
    params = SamplingParams(temperature=1.0, max_tokens=150, seed=4, scaffold=sc)
    with fence_bias(mutator, strength=11.0):
        groups = mutator.generate(PROMPTS, n=3, params=params, parents=[PARENT] * len(PROMPTS))
        flat = [c for g in groups for c in g]
        for c in flat:  # each kept token at the temperature it was sampled at (retries: hotter)
            temps = c.temperatures or [1.0] * len(c.token_ids)
            for t in set(temps):
                ref = full_logprobs(mutator.model, c.prompt_token_ids, c.token_ids, temperature=t)
                got = [(x, y) for x, y, s, tt in zip(c.logprobs, ref, c.sampled, temps) if s and tt == t]
                assert [x for x, _ in got] == pytest.approx([y for _, y in got], abs=1e-4)
    assert sum(c.discarded_tokens for c in flat) > 0  # copies happened and were resampled
    assert any(c.temperatures and max(c.temperatures) > 1.0 for c in flat)  # kept hot retries
    fewer = sc.model_copy(update={"resample": 0})
    with fence_bias(mutator, strength=11.0):
        plain = mutator.generate(PROMPTS, n=3, params=params.model_copy(update={"scaffold": fewer}),
                                 parents=[PARENT] * len(PROMPTS))
    assert all(c.discarded_tokens == 0 for g in plain for c in g)

    def copies(c) -> int:
        """Answers of `c` that repeat the parent or an earlier answer (AnswerCheck's own rule)."""
        check, n = AnswerCheck(PARENT, sc), 0
        for k, part in enumerate(c.text.split("### Answer")[1:]):
            code = part.split("```python\n", 1)[-1].split("\n\n### ")[0]
            n += not check.accept(k, code.removeprefix("# EVOLVE-BLOCK-START\n"))
        return n
    assert sum(map(copies, flat)) < sum(map(copies, [c for g in plain for c in g]))
