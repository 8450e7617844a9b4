"""The policy loss: clipped ratio with dual clip, importance correction, k3 KL, aggregation.

Per token t of a rollout with advantage A (vpo.md; the PPO/GRPO loss):
    ratio   = pi_theta / pi_old          (pi_old: the policy at the start of this optimiser step)
    pg      = max(-A ratio, -A clip(ratio, 1 - eps_low, 1 + eps_high))
    pg      = min(pg, -A dual_clip)      if A < 0 (dual clip bounds the loss of a negative
                                          advantage when the ratio explodes)
    loss_t  = w * pg + kl_coef * k3(pi_ref, pi_theta)
Importance correction (`LossConfig.importance`) for rollouts sampled by an older policy version
or by another engine (vLLM): `tis` multiplies by w = min(pi_old / pi_behavior, is_cap) (truncated
IS, detached), `behavior` uses pi_behavior as pi_old in the ratio (w = 1), `none` ignores the
behaviour log-probs.  Aggregations normalise by counts over the *whole* optimiser step (all
micro-batches), so gradient accumulation gives exactly the full-batch gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from trainer.config import LossConfig


@dataclass(frozen=True)
class Normalizer:
    """Counts over the whole optimiser step (all micro-batches)."""

    tokens: float  # counted completion tokens
    seqs: float  # sequences with at least one counted token
    max_tokens: float = 1.0  # Dr. GRPO's constant length normaliser


Aggregation = Callable[[torch.Tensor, torch.Tensor, Normalizer], torch.Tensor]
AGGREGATIONS: dict[str, Aggregation] = {}


def register_aggregation(name: str) -> Callable[[Aggregation], Aggregation]:
    def deco(fn: Aggregation) -> Aggregation:
        AGGREGATIONS[name] = fn
        return fn

    return deco


@register_aggregation("token-mean")
def _token_mean(loss: torch.Tensor, mask: torch.Tensor, n: Normalizer) -> torch.Tensor:
    """Sum over every counted token of the step / the step's token count (DAPO, VPO)."""
    return (loss * mask).sum() / max(n.tokens, 1.0)


@register_aggregation("seq-mean-token-mean")
def _seq_mean_token_mean(loss: torch.Tensor, mask: torch.Tensor, n: Normalizer) -> torch.Tensor:
    """Mean over tokens within each sequence, then mean over the step's sequences (GRPO paper)."""
    per_seq = (loss * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    return per_seq.sum() / max(n.seqs, 1.0)


@register_aggregation("seq-mean-token-sum")
def _seq_mean_token_sum(loss: torch.Tensor, mask: torch.Tensor, n: Normalizer) -> torch.Tensor:
    """Sum over tokens within each sequence, mean over the step's sequences."""
    return (loss * mask).sum() / max(n.seqs, 1.0)


@register_aggregation("seq-mean-token-sum-norm")
def _seq_mean_token_sum_norm(loss: torch.Tensor, mask: torch.Tensor, n: Normalizer) -> torch.Tensor:
    """Dr. GRPO: token sum / (sequences x a constant max length): no length bias."""
    return (loss * mask).sum() / max(n.seqs * n.max_tokens, 1.0)


def get_aggregation(name: str) -> Aggregation:
    try:
        return AGGREGATIONS[name]
    except KeyError:
        raise ValueError(f"unknown loss aggregation {name!r}; known: {sorted(AGGREGATIONS)}") from None


@dataclass
class LossBatch:
    """Per-token tensors (B, T) for one micro-batch; `advantages` is (B,)."""

    logp: torch.Tensor  # current policy, with grad
    mask: torch.Tensor  # 1.0 on counted completion tokens
    advantages: torch.Tensor
    old_logp: torch.Tensor | None = None  # step-start policy; None -> logp.detach()
    behavior_logp: torch.Tensor | None = None  # sampling time; None or NaN -> same as old
    ref_logp: torch.Tensor | None = None  # reference policy for the KL term


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Schulman's k3 estimator of KL(pi_theta || pi_ref) per token: exp(d) - d - 1, d = ref - logp."""
    d = ref_logp - logp
    return torch.exp(d) - d - 1.0


def policy_loss(
    batch: LossBatch, cfg: LossConfig, norm: Normalizer
) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss of one micro-batch (already divided by the step's global counts) and token-summed
    statistics (divide by the step's token count to get fractions/means)."""
    mask = batch.mask
    # Uncounted positions (padding, harness-inserted tokens) are replaced by 0 BEFORE any exp:
    # multiplying an inf ratio or KL by a zero mask would give NaN, in the loss and its gradient.
    counted = mask.bool()
    logp = _only(counted, batch.logp)
    ref_logp = None if batch.ref_logp is None else _only(counted, batch.ref_logp)
    prox = _only(counted, batch.old_logp) if batch.old_logp is not None else logp.detach()
    behav = prox
    if batch.behavior_logp is not None:  # NaN = not recorded for that token/rollout
        behav = torch.where(torch.isnan(batch.behavior_logp) | ~counted, prox, batch.behavior_logp)
    A = batch.advantages[:, None].to(logp.dtype)

    weight = torch.ones_like(logp)
    if cfg.importance == "tis":
        weight = torch.exp(prox - behav).clamp(max=cfg.is_cap).detach()
    old = behav if cfg.importance == "behavior" else prox
    ratio = torch.exp(logp - old)
    pg1 = -A * ratio
    pg2 = -A * ratio.clamp(1.0 - cfg.eps_low, 1.0 + cfg.eps_high)
    pg = torch.maximum(pg1, pg2)
    dual = torch.zeros_like(mask, dtype=torch.bool)
    if cfg.dual_clip is not None:
        pg3 = -A * cfg.dual_clip
        dual = (A < 0) & (pg > pg3)
        pg = torch.where(A < 0, torch.minimum(pg, pg3), pg)
    per_token = weight * pg
    kl = torch.zeros_like(logp)
    if ref_logp is not None:
        kl = k3_kl(logp, ref_logp)
        if cfg.kl_coef > 0:
            per_token = per_token + cfg.kl_coef * kl
    loss = get_aggregation(cfg.aggregation)(per_token, mask, norm)

    with torch.no_grad():
        m = mask.bool()
        r = ratio.detach()
        stats = {
            "tokens": float(mask.sum()),
            "pg_loss_sum": float((pg.detach() * weight * mask).sum()),
            "clip_low": float(((A < 0) & (r < 1.0 - cfg.eps_low) & m).sum()),
            "clip_high": float(((A > 0) & (r > 1.0 + cfg.eps_high) & m).sum()),
            "clip_dual": float((dual & m).sum()),
            "ratio_sum": float((r * mask).sum()),
            "kl_sum": float((kl.detach() * mask).sum()),
            "is_weight_sum": float((weight * mask).sum()),
            "is_capped": float(((torch.exp(prox - behav) > cfg.is_cap) & m).sum())
            if cfg.importance == "tis"
            else 0.0,
            # sampler/trainer mismatch: k3 KL(pi_old || pi_behavior) over counted tokens
            "behavior_kl_sum": float((k3_kl(prox, behav) * mask).sum()),
        }
    return loss, stats


def _only(counted: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return torch.where(counted, x, torch.zeros((), dtype=x.dtype))


def token_logprobs(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log softmax(logits)[target] per position, in float32 without materialising log_softmax."""
    logits = logits.float()
    return logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, dim=-1)


@torch.no_grad()
def token_entropy(logits: torch.Tensor) -> torch.Tensor:
    logits = logits.float()
    lse = torch.logsumexp(logits, dim=-1, keepdim=True)
    p = torch.exp(logits - lse)
    return (lse.squeeze(-1) - (p * logits).sum(-1))
