"""Advantage estimators and evaluation metrics: hand-computed values, the paper's toy, edge cases."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from trainer.advantages import (
    ADVANTAGE_ESTIMATORS,
    compute_advantages,
    dirichlet,
    reward_tensor,
    set_reward,
)
from trainer.config import AdvantageConfig
from trainer.metrics_math import best_at_k, best_at_k_curve, pass_at_k, reward_diversity
from trainer.records import Rollout, RolloutGroup

EPS = 1e-6


def group(*rollouts: dict, gid: str = "g", **kw) -> RolloutGroup:
    return RolloutGroup(group_id=gid, rollouts=[Rollout(group_id=gid, **r) for r in rollouts], **kw)


def single(*rows, gid: str = "g") -> RolloutGroup:
    return group(*({"rewards": [list(r)]} for r in rows), gid=gid)


def run(name: str, groups, seed: int = 0, **cfg):
    return compute_advantages(
        groups if isinstance(groups, list) else [groups],
        np.random.default_rng(seed),
        AdvantageConfig(estimator=name, **cfg),
    )


# Four single-answer rollouts; means 0.5, 1, 0, 0.5 -> mean 0.5, population std sqrt(0.125).
SINGLE = [(1, 0), (1, 1), (0, 0), (0.5, 0.5)]
POP = math.sqrt(0.125)
BESSEL = math.sqrt(0.5 / 3)


def test_all_builtins_registered():
    assert set(ADVANTAGE_ESTIMATORS) >= {
        "grpo", "dr_grpo", "rloo", "multi_rlvr", "random_weight_grpo", "passk", "vpo", "vpo_single"
    }
    with pytest.raises(ValueError, match="unknown advantage estimator 'nope'"):
        run("nope", single(*SINGLE))


def test_grpo_population_and_bessel():
    a = run("grpo", single(*SINGLE)).advantages[0]
    assert a == pytest.approx([0, 0.5 / (POP + EPS), -0.5 / (POP + EPS), 0], abs=1e-9)
    b = run("grpo", single(*SINGLE), std="bessel").advantages[0]
    assert b == pytest.approx([0, 0.5 / (BESSEL + EPS), -0.5 / (BESSEL + EPS), 0], abs=1e-9)


def test_dr_grpo_and_rloo():
    assert run("dr_grpo", single(*SINGLE)).advantages[0] == pytest.approx([0, 0.5, -0.5, 0])
    # RLOO: 1 - mean(0.5, 0, 0.5) = 2/3; 0.5 - mean(1, 0, 0.5) = 0
    assert run("rloo", single(*SINGLE)).advantages[0] == pytest.approx([0, 2 / 3, -2 / 3, 0])


MULTI = group(
    {"rewards": [[1, 0], [1, 0]], "answer_keys": ["a", "a"]},  # duplicate -> only one counts
    {"rewards": [[1, 0], [0, 1]], "answer_keys": ["a", "b"]},
    {"rewards": [[1, 1], [1, 1]], "valid": [False, True]},  # first answer unparseable
    {"rewards": [[0, 0]]},  # one answer missing -> zero row
)


def test_multi_rlvr_sums_deduplicated_answers():
    res = run("multi_rlvr", MULTI)
    x = np.array([0.5, 1.0, 1.0, 0.0])  # sum over counted answers of the mean reward
    assert res.scalars[0] == pytest.approx(x)
    assert res.advantages[0] == pytest.approx((x - x.mean()) / (x.std() + EPS))


def test_random_weight_grpo_one_weight_per_group():
    # (1,0) vs (0,1) -> x = (w1, w2): a two-sample z-score is +-1 whatever w is
    a = run("random_weight_grpo", single((1, 0), (0, 1)), seed=3).advantages[0]
    assert sorted(a) == pytest.approx([-1, 1], abs=1e-5)
    # equal components: w . r = r for any w on the simplex
    res = run("random_weight_grpo", single((0.2, 0.2), (0.8, 0.8), (0.5, 0.5)))
    assert res.scalars[0] == pytest.approx([0.2, 0.8, 0.5])
    # the weight is the seeded draw: reproduce it
    w = np.random.default_rng(5).dirichlet([1.0, 1.0])
    assert run("random_weight_grpo", single((1, 0), (0, 1)), seed=5).scalars[0] == pytest.approx(w)


def test_passk_matches_chen_analytic_on_binary():
    # N = 5, 2 correct, k = 2: R = 1 - C(3,2)/C(5,2) = 0.7, sigma = sqrt(0.21)
    # A_pos = (1 - R)/sigma, A_neg = (1 - R - C(2,1)/C(4,1))/sigma
    res = run("passk", single((1,), (0,), (0,), (1,), (0,)), k=2)
    sigma = math.sqrt(0.21)
    pos, neg = 0.3 / (sigma + EPS), (0.3 - 0.5) / (sigma + EPS)
    assert res.advantages[0] == pytest.approx([pos, neg, neg, pos, neg])


def test_passk_continuous_k1_is_mean_baseline_and_k_caps_at_g():
    x = [0.2, 0.6, 1.0]
    res = run("passk", single(*[(v,) for v in x]), k=1)
    rho = 0.6
    assert res.advantages[0] == pytest.approx([(v - rho) / (math.sqrt(0.24) + EPS) for v in x])
    # k = 10 > G = 3 -> k = 3: every subset is the whole group, max 1.0 -> rho = 1, sigma = 0
    assert run("passk", single(*[(v,) for v in x]), k=10).advantages[0] == [0, 0, 0]
    # continuous k = 2: s_i = mean max over the pairs containing i
    res = run("passk", single(*[(v,) for v in x]), k=2)
    assert res.scalars[0] == pytest.approx([(0.6 + 1.0) / 2, (0.6 + 1.0) / 2, 1.0])


def test_vpo_exact_with_one_component():
    # d = 1: every w is [1], R_hat = max over counted answers (zero rows for the rest)
    g = group(
        {"rewards": [[0.2], [0.8]]},
        {"rewards": [[0.5], [0.9]], "valid": [True, False]},
        {"rewards": [[0.7], [0.7]], "truncated": True},
        {"rewards": []},
    )
    res = run("vpo", g, num_weights=7)
    x = np.array([0.8, 0.5, 0.0, 0.0])
    assert res.scalars[0] == pytest.approx(x)
    assert res.advantages[0] == pytest.approx((x - x.mean()) / (x.std() + EPS))


def test_vpo_multi_answer_expected_values():
    # E_w max over sets with w ~ Dir(1,1) (w1 = U uniform): {(1,0)} 0.5, {(1,0),(0,1)} 0.75,
    # {(1,1)} 1, {} 0
    res = run("vpo", MULTI, num_weights=200_000, seed=1)
    assert res.scalars[0] == pytest.approx([0.5, 0.75, 1.0, 0.0], abs=5e-3)
    # vpo_single only sees the first answer: (1,0), (1,0), invalid, (0,0)
    single_res = run("vpo_single", MULTI, num_weights=200_000, seed=1)
    assert single_res.scalars[0] == pytest.approx([0.5, 0.5, 0.0, 0.0], abs=5e-3)


def test_paper_toy_set_reward():
    W = dirichlet(np.random.default_rng(0), 2, 1.0, 100_000)
    R = np.array([[[1, 0], [0, 1]], [[0.6, 0.6], [0.6, 0.6]], [[1, 0], [0.6, 0.6]]], dtype=float)
    diverse, same, mixed = set_reward(R, W)
    assert diverse == pytest.approx(0.75, abs=5e-3)  # E max(U, 1-U)
    assert same == pytest.approx(0.6)
    assert mixed == pytest.approx(0.68, abs=5e-3)  # E max(U, 0.6) = 0.36 + 0.32
    assert diverse > mixed > same


def test_paper_toy_grpo_on_mean_prefers_the_average_answer():
    a = run("grpo", single((1, 0), (0, 1), (0.6, 0.6))).advantages[0]
    assert a[2] > 0 > a[0] and a[0] == pytest.approx(a[1])
    v = run("vpo", group(
        {"rewards": [[1, 0], [0, 1]]}, {"rewards": [[0.6, 0.6], [0.6, 0.6]]},
        {"rewards": [[1, 0], [0.6, 0.6]]},
    ), num_weights=1000).advantages[0]
    assert v[0] > v[2] > v[1]


def _bandit(estimator: str, m: int, iters: int = 150, G: int = 8, lr: float = 1.0) -> np.ndarray:
    """REINFORCE on m independent softmax slots over the toy's three answers; returns probs."""
    answers = np.array([[1, 0], [0, 1], [0.6, 0.6]])
    rng = np.random.default_rng(0)
    logits = np.zeros((m, 3))
    for _ in range(iters):
        p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        picks = np.array([[rng.choice(3, p=p[s]) for s in range(m)] for _ in range(G)])
        g = group(*({"rewards": [list(answers[i]) for i in row]} for row in picks))
        adv = np.array(run(estimator, g, seed=int(rng.integers(1 << 30)), num_weights=64).advantages[0])
        for s in range(m):
            onehot = np.eye(3)[picks[:, s]]
            logits[s] += lr * (adv[:, None] * (onehot - p[s])).mean(0)
    return np.exp(logits) / np.exp(logits).sum(1, keepdims=True)


def test_paper_toy_training_dynamics():
    p_grpo = _bandit("grpo", m=1)
    assert p_grpo[0, 2] > 0.9  # every slot collapses onto (0.6, 0.6)
    p_vpo = _bandit("vpo", m=2)
    top = p_vpo.argmax(1)
    assert sorted(top.tolist()) == [0, 1] and p_vpo.max(1).min() > 0.7  # {(1,0), (0,1)}


def test_zero_std_groups_get_zero_advantages():
    same = single((0.3, 0.7), (0.3, 0.7), (0.3, 0.7), gid="same")
    varied = single((1, 1), (0, 0), (0, 0), (0, 0), (0, 0), gid="varied")  # passk: k=4 < G
    for name in ADVANTAGE_ESTIMATORS:
        res = run(name, [same, varied])
        assert res.advantages[0] == [0, 0, 0], name
        assert res.diagnostics["zero_std_frac"] == pytest.approx(0.5), name
    # near-identical values (std < eps) too
    tiny = single((0.5,), (0.5 + 1e-8,))
    assert run("grpo", tiny).advantages[0] == [0, 0]


def test_zero_padded_duplicate_and_missing_rows_do_not_change_vpo():
    base = group({"rewards": [[1, 0]]}, {"rewards": [[0.2, 0.9]]}, {"rewards": [[0.4, 0.4]]})
    padded = group(
        {"rewards": [[1, 0], [0, 0], [0, 0]]},  # explicit zero rows
        {"rewards": [[0.2, 0.9], [0.2, 0.9]], "answer_keys": ["x", "x"]},  # duplicate
        {"rewards": [[0.4, 0.4], [0.9, 0.9]], "valid": [True, False]},  # invalid answer
        num_answers=3,  # missing answers -> zero rows
    )
    a, b = run("vpo", base, seed=7), run("vpo", padded, seed=7)
    assert a.scalars == b.scalars and a.advantages == b.advantages
    assert b.diagnostics["duplicates"] == 1 and b.diagnostics["parse_failures"] == 1
    assert b.diagnostics["missing_answers"] == 2  # 3 slots - (3, 2, 2) answers


def test_reward_tensor_zeroes_truncated_and_flags():
    g = group({"rewards": [[1.0], [0.5]], "truncated": True}, {"rewards": [[0.3]]}, num_answers=2)
    assert reward_tensor(g).tolist() == [[[0.0], [0.0]], [[0.3], [0.0]]]
    assert g.rollouts[0].answer_flags() == ["truncated", "truncated"]


def test_seed_reproducibility():
    rows = np.random.default_rng(1).random((8, 3, 4)).round(2).tolist()
    g = group(*({"rewards": r} for r in rows))
    for name in ADVANTAGE_ESTIMATORS:
        assert run(name, g, seed=11).advantages == run(name, g, seed=11).advantages, name
    assert run("vpo", g, seed=11, num_weights=4).scalars != run("vpo", g, seed=12, num_weights=4).scalars


def test_vpo_m1_approaches_grpo_on_the_mean_as_k_grows():
    rows = np.random.default_rng(2).random((8, 5)).tolist()
    g = single(*rows)
    grpo = np.array(run("grpo", g).advantages[0])

    def err(K: int) -> float:
        return float(np.mean([
            np.abs(np.array(run("vpo", g, seed=s, num_weights=K).advantages[0]) - grpo).max()
            for s in range(5)
        ]))

    small, large = err(5), err(20_000)
    assert large < 0.05
    assert large < small / 5


def test_records_reject_bad_input():
    with pytest.raises(ValueError, match="outside"):
        Rollout(group_id="g", rewards=[[1.5]])
    with pytest.raises(ValueError, match="different widths"):
        group({"rewards": [[1, 0]]}, {"rewards": [[1]]})
    with pytest.raises(ValueError, match="valid has 1 flags for 2 rows"):
        Rollout(group_id="g", rewards=[[1], [0]], valid=[True])
    with pytest.raises(ValueError, match="behavior_logprobs"):
        Rollout(group_id="g", completion_ids=[1, 2], behavior_logprobs=[-1.0])
    with pytest.raises(ValueError, match="extra"):
        Rollout(group_id="g", reward=[[1]])
    with pytest.raises(ValueError, match="more than num_answers"):
        group({"rewards": [[1], [1]]}, num_answers=1)


def test_diagnostics():
    res = run("grpo", [MULTI, single((1, 0), (0, 1), gid="h")])
    d = res.diagnostics
    assert d["num_groups"] == 2 and d["num_rollouts"] == 6
    assert d["answers"] == 9 and d["parse_failures"] == 1 and d["duplicates"] == 1
    # counted rows: (1,0),(1,0),(0,1),(1,1),(0,0) | (1,0),(0,1)
    assert d["reward_per_component"] == pytest.approx([4 / 7, 3 / 7])
    assert d["reward_diversity"] == pytest.approx((reward_diversity([[1, 0], [1, 0], [0, 1], [1, 1], [0, 0]]) + 2) / 2)


# ---------------------------------------------------------------------------- metrics math


def test_pass_at_k():
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    assert pass_at_k(10, 0, 3) == 0.0 and pass_at_k(10, 8, 3) == 1.0
    assert pass_at_k(200, 13, 1) == pytest.approx(13 / 200)
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)


def test_best_at_k_exact_against_enumeration():
    v = [0.0, 1.0, 2.0, 3.0]
    assert best_at_k(v, 2) == pytest.approx(14 / 6)
    vals = [0.3, 0.1, 0.9, 0.3, 0.5]
    for k in range(1, 6):
        brute = np.mean([max(p[:k]) for p in itertools.permutations(vals)])
        assert best_at_k(vals, k) == pytest.approx(brute)
    curve = best_at_k_curve(vals)
    assert curve[0] == pytest.approx(np.mean(vals)) and curve[-1] == pytest.approx(0.9)
    assert all(a <= b + 1e-12 for a, b in zip(curve, curve[1:]))


def test_reward_diversity():
    assert reward_diversity([[1, 0], [0, 1], [1, 1]]) == pytest.approx(4 / 3)
    assert reward_diversity([[0.5, 0.5]]) == 0.0
    assert reward_diversity([[0.2, 0.2]] * 4) == 0.0


def test_entropic_estimator_is_max_seeking_and_mean_zero():
    import numpy as np

    from trainer.advantages import compute_advantages
    from trainer.config import AdvantageConfig
    from trainer.records import Rollout, RolloutGroup

    rows = [[[0.0, 0.0]], [[0.5, 0.5]], [[1.0, 0.0], [1.0, 1.0]], [[0.5, 0.0]]]
    g = RolloutGroup(group_id="g", num_answers=2, rollouts=[
        Rollout(group_id="g", rewards=r) for r in rows])
    cfg = AdvantageConfig(estimator="entropic", entropic_beta=5.0)
    res = compute_advantages([g], np.random.default_rng(0), cfg)
    x = np.array([0.0, 0.5, 1.0, 0.25])  # each rollout's best answer's mean
    w = np.exp(5.0 * (x - 1.0))
    assert res.scalars[0] == pytest.approx(list(x))
    assert res.advantages[0] == pytest.approx(list(w / w.mean() - 1.0))
    assert sum(res.advantages[0]) == pytest.approx(0.0, abs=1e-9)
    assert res.advantages[0][2] == max(res.advantages[0]) > 1.0  # the best rollout dominates
    same = RolloutGroup(group_id="s", rollouts=[Rollout(group_id="s", rewards=[[0.5]]) for _ in range(3)])
    assert compute_advantages([same], np.random.default_rng(0), cfg).advantages[0] == [0.0] * 3
