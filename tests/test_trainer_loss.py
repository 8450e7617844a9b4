"""Policy loss: clipping, dual clip, importance correction, KL and aggregation, by hand."""

from __future__ import annotations

import math

import pytest
import torch

from trainer.config import LossConfig
from trainer.loss import (
    AGGREGATIONS,
    LossBatch,
    Normalizer,
    k3_kl,
    policy_loss,
    token_entropy,
    token_logprobs,
)


def one_token(ratio: float, adv: float, **cfg) -> tuple[float, float, dict]:
    """Loss and d loss / d logp for a single token with pi/pi_old = ratio."""
    logp = torch.tensor([[math.log(ratio)]], requires_grad=True)
    batch = LossBatch(logp=logp, mask=torch.ones(1, 1), advantages=torch.tensor([adv]),
                      old_logp=torch.zeros(1, 1))
    loss, stats = policy_loss(batch, LossConfig(**cfg), Normalizer(tokens=1, seqs=1))
    loss.backward()
    return float(loss.detach()), float(logp.grad), stats


@pytest.mark.parametrize(
    "ratio, adv, loss, grad, clipped",
    [
        (1.1, 1.0, -1.1, -1.1, None),  # inside the trust region: -A r, grad -A r
        (1.5, 1.0, -1.2, 0.0, "clip_high"),  # A > 0, r > 1 + eps: clipped, no gradient
        (0.5, 1.0, -0.5, -0.5, None),  # A > 0, r < 1 - eps: the min keeps the unclipped term
        (0.5, -1.0, 0.8, 0.0, "clip_low"),  # A < 0, r < 1 - eps: clipped
        (1.5, -1.0, 1.5, 1.5, None),  # A < 0, r > 1 + eps: pessimistic unclipped term
        (5.0, -1.0, 3.0, 0.0, "clip_dual"),  # A < 0, r > dual clip 3: bounded at 3|A|
        (5.0, 2.0, -2.4, 0.0, "clip_high"),
    ],
)
def test_clipping_and_dual_clip(ratio, adv, loss, grad, clipped):
    got_loss, got_grad, stats = one_token(ratio, adv)
    assert got_loss == pytest.approx(loss, rel=1e-6)
    assert got_grad == pytest.approx(grad, rel=1e-6, abs=1e-9)
    for key in ("clip_low", "clip_high", "clip_dual"):
        assert stats[key] == (1.0 if key == clipped else 0.0), key


def test_dual_clip_off_and_asymmetric_eps():
    assert one_token(5.0, -1.0, dual_clip=None)[0] == pytest.approx(5.0)
    assert one_token(1.25, 1.0, eps_high=0.28)[0] == pytest.approx(-1.25)  # DAPO clip-higher
    assert one_token(1.3, 1.0, eps_high=0.28)[0] == pytest.approx(-1.28)
    assert one_token(0.85, -1.0, eps_low=0.1)[0] == pytest.approx(0.9)


def lengths_batch(lengths: list[int], advs: list[float], requires_grad=False) -> LossBatch:
    T = max(lengths)
    mask = torch.zeros(len(lengths), T)
    for i, n in enumerate(lengths):
        mask[i, T - n:] = 1
    logp = torch.full((len(lengths), T), -1.0, requires_grad=requires_grad)
    return LossBatch(logp=logp, mask=mask, advantages=torch.tensor(advs))


def test_aggregations_by_hand():
    # ratio 1 -> per-token loss -A; seq 1: 1 token at A=1, seq 2: 3 tokens at A=2
    norm = Normalizer(tokens=4, seqs=2, max_tokens=4)
    expected = {
        "token-mean": (-1 - 6) / 4,
        "seq-mean-token-mean": (-1 - 2) / 2,
        "seq-mean-token-sum": (-1 - 6) / 2,
        "seq-mean-token-sum-norm": (-1 - 6) / (2 * 4),
    }
    assert set(AGGREGATIONS) == set(expected)
    for name, value in expected.items():
        loss, _ = policy_loss(lengths_batch([1, 3], [1, 2]), LossConfig(aggregation=name), norm)
        assert float(loss.detach()) == pytest.approx(value), name
    with pytest.raises(ValueError, match="unknown loss aggregation"):
        policy_loss(lengths_batch([1], [1]), LossConfig(aggregation="bogus"), norm)


@pytest.mark.parametrize("agg", sorted(AGGREGATIONS))
def test_accumulation_over_micro_batches_equals_full_batch(agg):
    torch.manual_seed(0)
    lengths, advs = [2, 5, 3, 4], [0.5, -1.0, 2.0, -0.3]
    T = max(lengths)
    logp_full = (torch.randn(4, T) * 0.1 - 1).requires_grad_(True)
    old = logp_full.detach() + torch.randn(4, T) * 0.3
    cfg = LossConfig(aggregation=agg)
    norm = Normalizer(tokens=sum(lengths), seqs=4, max_tokens=8)
    full = lengths_batch(lengths, advs)
    loss_full, _ = policy_loss(
        LossBatch(logp=logp_full, mask=full.mask, advantages=full.advantages, old_logp=old), cfg, norm)
    loss_full.backward()
    logp_parts = logp_full.detach().clone().requires_grad_(True)
    total = 0.0
    for rows in ([0, 1], [2, 3]):
        b = LossBatch(logp=logp_parts[rows], mask=full.mask[rows], advantages=full.advantages[rows],
                      old_logp=old[rows])
        loss, _ = policy_loss(b, cfg, norm)
        loss.backward()
        total += float(loss.detach())
    assert total == pytest.approx(float(loss_full.detach()), rel=1e-6)
    assert torch.allclose(logp_parts.grad, logp_full.grad, atol=1e-7)


def test_masked_tokens_contribute_nothing():
    b = lengths_batch([1, 3], [1, 2], requires_grad=True)
    b.logp.data[0, 0] = 50.0  # a pad position with a wild value
    loss, stats = policy_loss(b, LossConfig(), Normalizer(tokens=4, seqs=2))
    loss.backward()
    assert math.isfinite(float(loss.detach())) and b.logp.grad[0, :2].abs().sum() == 0
    assert stats["tokens"] == 4


def test_k3_kl_values_and_loss_term():
    logp, ref = torch.tensor([[math.log(0.5)]]), torch.tensor([[math.log(0.25)]])
    expected = 0.5 + math.log(2) - 1  # exp(d) - d - 1 with d = log(0.5)
    assert float(k3_kl(logp, ref)) == pytest.approx(expected)
    assert float(k3_kl(logp, logp)) == 0.0
    batch = LossBatch(logp=logp.clone().requires_grad_(True), mask=torch.ones(1, 1),
                      advantages=torch.tensor([0.0]), ref_logp=ref)
    loss, stats = policy_loss(batch, LossConfig(kl_coef=0.1), Normalizer(tokens=1, seqs=1))
    assert float(loss.detach()) == pytest.approx(0.1 * expected)
    assert stats["kl_sum"] == pytest.approx(expected)
    # gradient of k3 wrt logp: 1 - exp(ref - logp) = 1 - 0.5
    loss.backward()
    assert float(batch.logp.grad) == pytest.approx(0.1 * 0.5)
    # kl_coef 0: KL is measured but not in the loss
    loss0, stats0 = policy_loss(batch, LossConfig(kl_coef=0.0), Normalizer(tokens=1, seqs=1))
    assert float(loss0.detach()) == 0.0 and stats0["kl_sum"] == pytest.approx(expected)


def importance_case(mode: str, behav: float, cap: float = 2.0, adv: float = 1.0):
    logp = torch.tensor([[math.log(0.5)]], requires_grad=True)  # current = step-start policy
    batch = LossBatch(logp=logp, mask=torch.ones(1, 1), advantages=torch.tensor([adv]),
                      behavior_logp=torch.tensor([[math.log(behav)]]))
    loss, stats = policy_loss(batch, LossConfig(importance=mode, is_cap=cap), Normalizer(1, 1))
    return float(loss.detach()), stats


def test_importance_correction():
    # pi_old / pi_behavior = 0.5 / 0.1 = 5 -> capped at 2
    loss, stats = importance_case("tis", 0.1)
    assert loss == pytest.approx(-2.0) and stats["is_capped"] == 1.0
    assert importance_case("tis", 0.1, cap=10.0)[0] == pytest.approx(-5.0)
    assert importance_case("tis", 1.0)[0] == pytest.approx(-0.5)  # down-weights, never capped
    assert importance_case("none", 0.1)[0] == pytest.approx(-1.0)
    # ratio against the behaviour policy: 5 -> clipped to 1.2
    loss, stats = importance_case("behavior", 0.1)
    assert loss == pytest.approx(-1.2) and stats["clip_high"] == 1.0
    # NaN = not recorded: behaves like on-policy
    logp = torch.tensor([[math.log(0.5)]], requires_grad=True)
    nan = LossBatch(logp=logp, mask=torch.ones(1, 1), advantages=torch.tensor([1.0]),
                    behavior_logp=torch.tensor([[float("nan")]]))
    loss, stats = policy_loss(nan, LossConfig(importance="tis"), Normalizer(1, 1))
    assert float(loss.detach()) == pytest.approx(-1.0) and stats["behavior_kl_sum"] == 0.0


def test_token_logprobs_and_entropy():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 11)
    targets = torch.randint(0, 11, (2, 3))
    ref = torch.log_softmax(logits, -1).gather(-1, targets[..., None])[..., 0]
    assert torch.allclose(token_logprobs(logits, targets), ref, atol=1e-6)
    p = torch.softmax(logits, -1)
    assert torch.allclose(token_entropy(logits), -(p * p.log()).sum(-1), atol=1e-5)
    assert float(token_entropy(torch.zeros(1, 1, 8))) == pytest.approx(math.log(8))
