"""Advantage estimators: VPO and the paper's baselines, in one registry.

Every estimator is built from a per-group rule registered with `@register(name)`.  A rule sees
the group's reward tensor `R` of shape (G, m, d) - rollout x answer slot x test - in which every
answer that does not count is already a zero row: invalid (unparseable), duplicate, missing
(fewer answers than slots) and all answers of a truncated completion.  Rewards are >= 0, so a
zero row never changes a max and needs no format bonus (vpo.md).  A rule returns the per-rollout
scalar it normalised and the per-rollout advantages; the wrapper runs it group by group (all
draws come from the caller's seeded Generator, in group order) and collects diagnostics.

Std convention (all z-scoring rules, `AdvantageConfig.std`): population std by default, as VPO
specifies; "bessel" (what TRL/verl use for GRPO) only rescales every advantage by
sqrt(G / (G - 1)).  A = (x - mean) / (std + eps), and A = 0 for the whole group when std < eps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from trainer.config import AdvantageConfig
from trainer.metrics_math import best_at_k, reward_diversity
from trainer.records import RolloutGroup

GroupRule = Callable[[np.ndarray, np.random.Generator, AdvantageConfig], tuple[np.ndarray, np.ndarray]]
MONITOR_SEED = 20260522  # fixed stream for the cross-estimator "set_reward" metric


@dataclass
class AdvantageResult:
    advantages: list[list[float]]  # [group][rollout]
    scalars: list[list[float]]  # the per-rollout reward each estimator normalised
    diagnostics: dict[str, float | list[float]] = field(default_factory=dict)

    def flat(self) -> list[float]:
        return [a for g in self.advantages for a in g]


class Estimator(Protocol):
    def __call__(
        self, groups: list[RolloutGroup], rng: np.random.Generator, cfg: AdvantageConfig
    ) -> AdvantageResult: ...


ADVANTAGE_ESTIMATORS: dict[str, Estimator] = {}


def reward_tensor(group: RolloutGroup) -> np.ndarray:
    """(G, m, d) rewards with zero rows for every answer that does not count."""
    out = np.zeros((len(group.rollouts), group.m, group.d))
    for j, r in enumerate(group.rollouts):
        for i, (row, flag) in enumerate(zip(r.rewards, r.answer_flags())):
            if flag == "ok":
                out[j, i] = row
    return out


def zscore(x: np.ndarray, cfg: AdvantageConfig) -> np.ndarray:
    ddof = 1 if cfg.std == "bessel" else 0
    if len(x) <= ddof:
        return np.zeros_like(x)
    std = float(x.std(ddof=ddof))
    if std < cfg.eps:
        return np.zeros_like(x)
    return (x - x.mean()) / (std + cfg.eps)


def set_reward(R: np.ndarray, W: np.ndarray) -> np.ndarray:
    """R_hat_j = mean_k max_s W_k . R_js  for R (G, m, d) and W (K, d); zero rows never win."""
    if R.shape[2] == 0:
        return np.zeros(R.shape[0])
    scores = R @ W.T  # (G, m, K)
    return np.maximum(scores.max(axis=1), 0.0).mean(axis=1)


def dirichlet(rng: np.random.Generator, d: int, alpha: float, size: int) -> np.ndarray:
    if d == 0:
        return np.zeros((size, 0))
    return rng.dirichlet(np.full(d, alpha), size=size)


def register(name: str) -> Callable[[GroupRule], GroupRule]:
    """Register a per-group rule as the estimator `name` (applied to each group in order)."""

    def deco(rule: GroupRule) -> GroupRule:
        def estimator(
            groups: list[RolloutGroup], rng: np.random.Generator, cfg: AdvantageConfig
        ) -> AdvantageResult:
            advs, scalars, zero_std = [], [], 0
            for g in groups:
                s, a = rule(reward_tensor(g), rng, cfg)
                zero_std += bool(np.all(a == 0))
                advs.append([float(v) for v in a])
                scalars.append([float(v) for v in s])
            diag = diagnostics(groups, cfg)
            diag["zero_std_frac"] = zero_std / max(len(groups), 1)
            flat = np.array([v for g in advs for v in g]) if groups else np.zeros(0)
            diag.update(_stats("adv", flat))
            diag["scalar_mean"] = float(np.mean([v for g in scalars for v in g])) if groups else 0.0
            return AdvantageResult(advs, scalars, diag)

        estimator.__doc__ = rule.__doc__
        estimator.__name__ = name
        if name in ADVANTAGE_ESTIMATORS:
            raise ValueError(f"advantage estimator {name!r} registered twice")
        ADVANTAGE_ESTIMATORS[name] = estimator
        return rule

    return deco


def get_estimator(name: str) -> Estimator:
    try:
        return ADVANTAGE_ESTIMATORS[name]
    except KeyError:
        raise ValueError(
            f"unknown advantage estimator {name!r}; known: {sorted(ADVANTAGE_ESTIMATORS)}"
        ) from None


def compute_advantages(
    groups: list[RolloutGroup], rng: np.random.Generator, cfg: AdvantageConfig
) -> AdvantageResult:
    return get_estimator(cfg.estimator)(groups, rng, cfg)


# ---------------------------------------------------------------------------- the rules


def _slot_mean(R: np.ndarray) -> np.ndarray:
    """Scalar of a rollout for the single-answer baselines: the mean over its m x d matrix
    (with m = 1: the mean of the answer's reward vector)."""
    return R.mean(axis=(1, 2)) if R.shape[2] else np.zeros(R.shape[0])


@register("grpo")
def _grpo(R, rng, cfg):
    """GRPO: mean of the reward vector, group z-score."""
    x = _slot_mean(R)
    return x, zscore(x, cfg)


@register("dr_grpo")
def _dr_grpo(R, rng, cfg):
    """Dr. GRPO: mean reward minus the group mean, no std division."""
    x = _slot_mean(R)
    return x, x - x.mean()


@register("rloo")
def _rloo(R, rng, cfg):
    """RLOO: mean reward minus the mean of the other G-1 rollouts = G/(G-1) (x - mean)."""
    x = _slot_mean(R)
    G = len(x)
    return x, (x - x.mean()) * (G / (G - 1)) if G > 1 else np.zeros_like(x)


@register("multi_rlvr")
def _multi_rlvr(R, rng, cfg):
    """Multi-RLVR: fixed scalar (mean of the vector) summed over the de-duplicated answers."""
    x = R.mean(axis=2).sum(axis=1) if R.shape[2] else np.zeros(R.shape[0])
    return x, zscore(x, cfg)


@register("random_weight_grpo")
def _random_weight_grpo(R, rng, cfg):
    """GRPO on w . r with one w ~ Dirichlet(alpha) drawn per group (prompt)."""
    w = dirichlet(rng, R.shape[2], cfg.alpha, 1)[0]
    x = (R @ w).mean(axis=1)
    return x, zscore(x, cfg)


@register("passk")
def _passk(R, rng, cfg):
    """Pass@k / max@k training.  s_i = mean, over the k-subsets of the group containing i, of
    the subset's max reward (PKPO's unbiased per-sample max@k reward); rho = best@k of the group;
    A_i = (s_i - rho) / (sqrt(rho (1 - rho)) + eps).  On binary rewards this is exactly Chen et
    al. (2025)'s analytic pass@k advantage.  k is capped at G."""
    x = _slot_mean(R)
    n = len(x)
    k = min(cfg.k, n)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    denom = math.comb(n - 1, k - 1)
    s_sorted = np.empty(n)
    for i in range(n):  # 0-based rank i: C(i, k-1) x_i + sum_{j>i} C(j-1, k-2) x_j
        tail = sum(math.comb(j - 1, k - 2) * xs[j] for j in range(i + 1, n)) if k >= 2 else 0.0
        s_sorted[i] = (math.comb(i, k - 1) * xs[i] + tail) / denom
    s = np.empty(n)
    s[order] = s_sorted
    rho = best_at_k(x, k)
    sigma = math.sqrt(max(rho * (1.0 - rho), 0.0))
    if sigma < cfg.eps:
        return s, np.zeros(n)
    return s, (s - rho) / (sigma + cfg.eps)


@register("vpo")
def _vpo(R, rng, cfg):
    """VPO: R_hat = mean over K shared Dirichlet(alpha) draws of max over answers of w . r;
    group z-score."""
    W = dirichlet(rng, R.shape[2], cfg.alpha, cfg.num_weights)
    x = set_reward(R, W)
    return x, zscore(x, cfg)


@register("entropic")
def _entropic(R, rng, cfg):
    """Max-seeking (TTT-Discover's entropic advantage): the rollout's best answer's mean score x;
    weights exp(beta x) normalised over the group, A = w / mean(w) - 1 (mean zero), so the
    group's best rollout gets exponentially more weight than the typical one; zero when every x
    is equal.  `entropic_beta` sets how sharply the maximum dominates."""
    x = R.mean(axis=2).max(axis=1) if R.shape[2] else np.zeros(R.shape[0])
    if len(x) < 2 or float(x.max() - x.min()) < cfg.eps:
        return x, np.zeros_like(x)
    w = np.exp(cfg.entropic_beta * (x - x.max()))
    return x, w / w.mean() - 1.0


@register("vpo_single")
def _vpo_single(R, rng, cfg):
    """VPO's estimator on the first answer only (the m = 1 ablation)."""
    return _vpo(R[:, :1, :], rng, cfg)


# ---------------------------------------------------------------------------- diagnostics


def _stats(prefix: str, x: np.ndarray) -> dict[str, float]:
    if len(x) == 0:
        return {f"{prefix}_{k}": 0.0 for k in ("mean", "std", "min", "max")}
    return {
        f"{prefix}_mean": float(x.mean()),
        f"{prefix}_std": float(x.std()),
        f"{prefix}_min": float(x.min()),
        f"{prefix}_max": float(x.max()),
    }


def diagnostics(groups: list[RolloutGroup], cfg: AdvantageConfig) -> dict[str, float | list[float]]:
    """Estimator-independent facts about the batch (same numbers for every A/B arm)."""
    monitor = np.random.default_rng(MONITOR_SEED)
    counts = {"ok": 0, "invalid": 0, "duplicate": 0, "truncated": 0}
    missing = truncated = 0
    set_rewards, diversities, ok_rows, lengths = [], [], [], []
    widths = {g.d for g in groups}
    for g in groups:
        R = reward_tensor(g)
        set_rewards.extend(set_reward(R, dirichlet(monitor, g.d, cfg.alpha, cfg.num_weights)))
        rows = []
        for r in g.rollouts:
            flags = r.answer_flags()
            for f in flags:
                counts[f] += 1
            rows += [row for row, f in zip(r.rewards, flags) if f == "ok"]
            missing += g.m - len(r.rewards)
            truncated += r.truncated
            lengths.append(r.sampled_length)
        diversities.append(reward_diversity(rows))
        ok_rows += rows
    answers = sum(counts.values())
    diag: dict[str, float | list[float]] = {
        "num_groups": float(len(groups)),
        "num_rollouts": float(len(lengths)),
        "answers": float(answers),
        "parse_failures": float(counts["invalid"]),
        "parse_failure_rate": counts["invalid"] / max(answers, 1),
        "duplicates": float(counts["duplicate"]),
        "missing_answers": float(missing),
        "truncated": float(truncated),
        "set_reward": float(np.mean(set_rewards)) if set_rewards else 0.0,
        "reward_mean": float(np.mean([np.mean(r) for r in ok_rows if r])) if ok_rows else 0.0,
        "reward_diversity": float(np.mean(diversities)) if diversities else 0.0,
    }
    if len(widths) == 1 and ok_rows:
        diag["reward_per_component"] = [float(v) for v in np.mean(np.array(ok_rows), axis=0)]
    diag.update(_stats("completion_len", np.array(lengths, dtype=float)))
    return diag
