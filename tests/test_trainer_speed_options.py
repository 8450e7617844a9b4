"""The learner's speed options give the same training signal: chunked log-probs (no vocabulary-
wide logits tensor) equal the plain ones, gradients included; top-layer LoRA adapts only the top
layers and its step moves the policy the same way."""

from __future__ import annotations

import pytest
import torch

from trainer.config import LearnerConfig
from trainer.learner import Learner, _Sample
from trainer.logprobs import chunked_token_logprobs
from trainer.records import Rollout, RolloutGroup

PROMPT = [1, 87, 481, 201, 502, 289, 10]
GOOD, BAD = [500, 600, 700, 2], [800, 900, 1000, 1100, 2]


def test_chunked_logprobs_equal_the_plain_ones_with_gradients():
    torch.manual_seed(0)
    h = torch.randn(13, 16, requires_grad=True)
    w = torch.randn(50, 16)
    targets = torch.randint(0, 50, (13,))
    temps = torch.tensor([1.0] * 7 + [0.7] * 6)
    logp, ent = chunked_token_logprobs(h, w, targets, temps, chunk=4)
    x = (h @ w.T) / temps[:, None]
    want = torch.log_softmax(x, -1).gather(-1, targets[:, None])[:, 0]
    p = torch.softmax(x, -1)
    assert torch.allclose(logp, want, atol=1e-5)
    assert torch.allclose(ent, -(p * torch.log_softmax(x, -1)).sum(-1), atol=1e-5)
    g = torch.randn(13)
    (grad,) = torch.autograd.grad((logp * g).sum(), h)
    (want_grad,) = torch.autograd.grad((want * g).sum(), h)
    assert torch.allclose(grad, want_grad, atol=1e-5)


def group() -> RolloutGroup:
    return RolloutGroup(group_id="g", rollouts=[
        Rollout(group_id="g", prompt_ids=PROMPT, completion_ids=c, rewards=[[r]])
        for c, r in [(GOOD, 1.0), (BAD, 0.0), (GOOD, 1.0), (BAD, 0.0)]])


def learner(tiny_lm_dir, **kw) -> Learner:
    return Learner(tiny_lm_dir, LearnerConfig.model_validate(
        {"lr": 5e-3, "advantage": {"estimator": "grpo"}, **kw}))


def test_chunked_learner_matches_the_plain_learner(tiny_lm_dir):
    plain, chunked = learner(tiny_lm_dir), learner(tiny_lm_dir, logprob_chunk=3)
    b = plain._batch_tensors([_Sample(PROMPT, GOOD, None, 0.0), _Sample(PROMPT, BAD, None, 0.0)])
    assert torch.allclose(plain._logp(plain.model, b), chunked._logp(chunked.model, b), atol=1e-5)
    from trainer.loss import Normalizer

    grads = []
    for ln in (plain, chunked):  # the gradient an optimiser step would take (after AdamW's first
        micro = [_Sample(PROMPT, c, None, a) for c, a in ((GOOD, 1.0), (BAD, -1.0))]  # step a
        loss, stats = ln._micro_step(micro, Normalizer(tokens=9.0, seqs=2.0))  # weight moves by
        loss.backward()  # lr x sign(g): comparing weights would compare signs of ~0 entries)
        grads.append(({k: v.grad.clone() for k, v in ln.model.named_parameters() if v.requires_grad},
                      loss.item(), stats["entropy_sum"]))
    (g1, l1, e1), (g2, l2, e2) = grads
    assert l1 == pytest.approx(l2, abs=1e-6) and e1 == pytest.approx(e2, rel=1e-4)
    scale = max(float(v.abs().max()) for v in g1.values())
    assert all(torch.allclose(v, g2[k], atol=1e-5 * scale, rtol=1e-4) for k, v in g1.items())


def test_top_layer_lora_adapts_only_the_top_layers_and_learns(tiny_lm_dir):
    ln = learner(tiny_lm_dir, lora={"r": 4, "alpha": 8, "layers": 1})
    n = ln.model.config.num_hidden_layers
    trained = {k for k, v in ln.model.named_parameters() if v.requires_grad}
    assert trained and all(f"layers.{n - 1}." in k for k in trained)
    before = ln.sequence_logprob(PROMPT, GOOD) - ln.sequence_logprob(PROMPT, BAD)
    for _ in range(4):
        assert ln.step([group()])["updated"]
    assert ln.sequence_logprob(PROMPT, GOOD) - ln.sequence_logprob(PROMPT, BAD) > before + 0.5


def test_with_checkpointing_the_backward_still_stops_at_the_lowest_adapted_layer(tiny_lm_dir):
    """Regression: gradient checkpointing made the embeddings' output require grad (a hook for
    reentrant checkpoints), so the backward ran through every frozen layer and top-layer LoRA
    was no faster than all-layer LoRA (1.02x on the 0.5B model).  Below the adapted layers
    nothing requires grad now, and the update is the one without checkpointing."""
    plain = learner(tiny_lm_dir, lora={"r": 4, "alpha": 8, "layers": 1})
    ckpt = learner(tiny_lm_dir, lora={"r": 4, "alpha": 8, "layers": 1}, gradient_checkpointing=True)
    layers = ckpt.model.get_base_model().model.layers
    grad_out: list[bool] = []
    layers[0].register_forward_hook(
        lambda _m, _i, out: grad_out.append((out[0] if isinstance(out, tuple) else out).requires_grad))
    for ln in (plain, ckpt):
        assert ln.step([group()])["updated"]
    assert grad_out and not any(grad_out)  # the frozen bottom layer builds no autograd graph
    assert ckpt.sequence_logprob(PROMPT, GOOD) == pytest.approx(plain.sequence_logprob(PROMPT, GOOD), abs=1e-5)
