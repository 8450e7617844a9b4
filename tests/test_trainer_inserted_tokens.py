"""Tokens the harness inserted (scaffold openings) are not the policy's: the learner masks them
out of the loss, the KL, the entropy and the token counts, exactly."""

from __future__ import annotations

import math

import pytest
import torch

from trainer.config import LearnerConfig
from trainer.learner import Learner
from trainer.records import Rollout, RolloutGroup

PROMPT = [1, 87, 481, 201, 502, 289, 10]
# completions: inserted opening (False), sampled code (True), inserted opening, sampled code
COMPLETIONS = [
    ([30, 31, 32, 500, 600, 33, 34, 700, 2], [False, False, False, True, True, False, False, True, True]),
    ([30, 31, 32, 800, 900, 1000, 33, 34, 2], [False, False, False, True, True, True, False, False, True]),
    ([30, 31, 32, 510, 33, 34, 610, 710, 2], [False, False, False, True, False, False, True, True, True]),
    ([30, 31, 32, 820, 920, 33, 34, 1020, 2], [False, False, False, True, True, False, False, True, True]),
]
REWARDS = [1.0, 0.0, 0.7, 0.2]


def group(masked: bool = True) -> RolloutGroup:
    rollouts = []
    for (comp, sampled), r in zip(COMPLETIONS, REWARDS):
        behav = [-1.5 if s else None for s in sampled]
        rollouts.append(Rollout(
            group_id="g", prompt_ids=PROMPT, completion_ids=comp, rewards=[[r, 1 - r]],
            behavior_logprobs=behav if masked else [-1.5] * len(comp),
            sampled=sampled if masked else None,
        ))
    return RolloutGroup(group_id="g", rollouts=rollouts)


def learner(tiny_lm_dir, perturb: float) -> Learner:
    cfg = LearnerConfig.model_validate({
        "lr": 5e-3, "advantage": {"estimator": "grpo"}, "loss": {"kl_coef": 0.05},
        "num_minibatches": 1,
    })
    ln = Learner(tiny_lm_dir, cfg)
    if perturb:
        inner = ln._logits
        noise = torch.Generator().manual_seed(7)

        def perturbed(model, b):  # large noise on the logits that predict inserted tokens
            out = inner(model, b)
            inserted = (1.0 - b["flat_mask"])[:, None]
            return out + perturb * inserted * torch.randn(out.shape, generator=noise)

        ln._logits = perturbed
    return ln


def grads_and_loss(ln: Learner, g: RolloutGroup) -> tuple[float, dict[str, torch.Tensor], dict]:
    metrics = ln.step([g])
    weights = {k: v.detach().clone() for k, v in ln.model.named_parameters() if v.requires_grad}
    return metrics["loss"], weights, metrics


def test_perturbing_inserted_tokens_logits_changes_nothing(tiny_lm_dir):
    base_loss, base_w, base_m = grads_and_loss(learner(tiny_lm_dir, 0.0), group())
    loss, w, m = grads_and_loss(learner(tiny_lm_dir, 50.0), group())
    assert loss == base_loss
    for k in base_w:
        assert torch.equal(w[k], base_w[k]), k
    assert m["kl"] == base_m["kl"] and m["entropy"] == base_m["entropy"]
    # only the policy's own tokens are counted (token-mean aggregation's denominator)
    assert base_m["trained_tokens"] == sum(sum(s) for _, s in COMPLETIONS)


def test_the_same_perturbation_does_change_an_unmasked_loss(tiny_lm_dir):
    """The check above can fail: without the mask the inserted tokens' logits enter the loss."""
    ln0, ln1 = learner(tiny_lm_dir, 0.0), learner(tiny_lm_dir, 5.0)
    inner = ln1._logits

    def everywhere(model, b):  # the same noise on every position of an unmasked group
        out = inner(model, {**b, "flat_mask": torch.zeros_like(b["flat_mask"])})
        return out
    ln1._logits = everywhere
    a, _, _ = grads_and_loss(ln0, group(masked=False))
    b, _, _ = grads_and_loss(ln1, group(masked=False))
    assert math.isfinite(a) and math.isfinite(b) and a != pytest.approx(b, abs=1e-6)


def test_a_rollout_of_only_inserted_tokens_is_dropped(tiny_lm_dir):
    g = group()
    g.rollouts[0] = Rollout(group_id="g", prompt_ids=PROMPT, completion_ids=[30, 31, 32],
                            rewards=[[1.0, 0.0]], sampled=[False] * 3)
    m = learner(tiny_lm_dir, 0.0).step([g])
    assert m["empty_dropped"] == 1.0


def test_sampled_flags_must_match_the_tokens():
    with pytest.raises(ValueError, match="sampled flags"):
        Rollout(group_id="g", prompt_ids=PROMPT, completion_ids=[1, 2], rewards=[], sampled=[True])
