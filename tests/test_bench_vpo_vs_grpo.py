"""Pure helpers of benchmarks/vpo_vs_grpo.py: matched compute, configs, gap summaries, and the
benchmark's task suite (loads, every reference passes its own expected values)."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("vpo_vs_grpo", ROOT / "benchmarks" / "vpo_vs_grpo.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["vpo_vs_grpo"] = mod
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop("vpo_vs_grpo", None)


@pytest.mark.parametrize("preset", ["full", "quick"])
def test_every_arm_samples_the_same_answers(bench, preset):
    plan = bench.PRESETS[preset]
    train = {n: bench.train_completions(a, plan) * bench.answers_per_completion(a, plan)
             for n, a in bench.ARMS.items()}
    evals = {n: bench.eval_completions(a, plan) * bench.answers_per_completion(a, plan)
             for n, a in bench.ARMS.items()}
    assert set(train.values()) == {plan.group * plan.answers}
    assert set(evals.values()) == {plan.eval_answers}
    assert bench.train_completions(bench.ARMS["grpo"], plan) == plan.group * plan.answers
    assert bench.max_tokens(bench.ARMS["vpo"], plan) > bench.max_tokens(bench.ARMS["grpo"], plan)


def test_eval_answers_must_split_into_completions(bench):
    plan = replace(bench.PRESETS["quick"], eval_answers=7)
    with pytest.raises(ValueError, match="multiple of m=3"):
        bench.eval_completions(bench.ARMS["vpo"], plan)


def test_run_config_validates(bench):
    from evolve.config import validate

    cfg = validate(bench.run_config(replace(bench.PRESETS["full"], threads=1)), "<bench>")
    assert cfg.trainer.advantage.num_weights == 100
    assert cfg.mutator.threads == 1 and cfg.mutation.answers == 3


def test_gap_summary_and_diversity_ratio(bench):
    curves = {"grpo": [0.5, 0.6, 0.6], "vpo": [0.4, 0.7, 0.9], "multi_rlvr": [0.5, 0.6, 0.7]}
    s = bench.gap_summary(curves)
    assert s["diff"] == pytest.approx([-0.1, 0.1, 0.3])
    assert s["ahead_from_k"] == 2 and s["widens"] is True
    assert bench.gap_summary({"grpo": [0.5, 0.6], "vpo": [0.6, 0.5]})["ahead_from_k"] is None
    assert bench.gap_summary({"vpo": [1.0]}) == {}
    # regression: a deficit shrinking from -0.24 to -0.08 was reported as a widening gap
    behind = bench.gap_summary({"grpo": [0.34, 0.75], "vpo": [0.10, 0.67]})
    assert behind["ahead_from_k"] is None and behind["widens"] is False
    late = bench.gap_summary({"grpo": [0.3, 0.4, 0.4], "vpo": [0.1, 0.45, 0.45]})
    assert late["ahead_from_k"] == 2 and late["widens"] is False
    assert bench.diversity_ratio({"grpo": 0.5, "vpo": 2.0}) == 4.0
    assert bench.diversity_ratio({"grpo": 0.0, "vpo": 2.0}) is None


def test_suite_expected_values_come_from_the_references(bench):
    from problems.loaders import load_path

    problems = load_path(bench.SUITE)
    assert {p.id for p in problems} >= set(bench.PRESETS["quick"].problems)
    for p in problems:
        ns: dict = {}
        exec(p.reference_solution, ns)
        fn = ns[p.entry_point]
        assert len(p.tests) == 6 and sum(t.hidden for t in p.tests) == 3
        for t in p.tests:
            assert fn(*t.args) == t.expected, (p.id, t.id)
