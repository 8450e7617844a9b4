"""benchmarks/search_efficiency.py: its arms ask for equal answers, and the quick preset runs
end to end (scripted mutator for the frozen arms, the tiny LM with a real learner online)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.search_bench.arms import ARMS, run_config  # noqa: E402
from benchmarks.search_bench.runner import answer_index  # noqa: E402


def test_every_arm_spends_the_same_answers():
    for arm in (a for a in ARMS.values() if not a.external):
        cfg = run_config(arm, budget=24, completions=4, batch_size=1, seed=0, temperature=0.8,
                         answer_tokens=100, mutator={"backend": "transformers"}, islands=2)
        per_prompt = cfg["mutation"]["completions"] * arm.answers
        assert cfg["loop"]["iterations"] * per_prompt == 24, arm.name
        assert cfg["mutation"]["sampling"]["max_tokens"] == 100 * arm.answers
    deep = run_config(ARMS["evolve_m1_deep"], budget=24, completions=4, batch_size=1, seed=0,
                      temperature=0.8, answer_tokens=100, mutator={}, islands=2)
    assert deep["loop"]["iterations"] == 24 and deep["islands"]["count"] == 1
    assert deep["loop"]["overlap"] is False
    with pytest.raises(ValueError, match="multiple"):
        run_config(ARMS["evolve_m3"], budget=20, completions=4, batch_size=1, seed=0, temperature=0.8,
                   answer_tokens=100, mutator={}, islands=1)


def test_answer_index_counts_prompts_completions_and_slots():
    assert answer_index(0, 0, 1, 4, 3) == 1
    assert answer_index(0, 3, 3, 4, 3) == 12
    assert answer_index(1, 0, 1, 4, 3) == 13


def test_quick_preset_runs_end_to_end(tmp_path):
    res = subprocess.run(
        [sys.executable, "benchmarks/search_efficiency.py", "--preset", "quick", "--seeds", "0",
         "--work", str(tmp_path / "work"), "--name", f"se_quick_test_{os.getpid()}"],
        cwd=ROOT, capture_output=True, text=True, timeout=1200,
        env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"})
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    out = ROOT / "benchmarks" / "results" / f"se_quick_test_{os.getpid()}.json"
    try:
        data = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
        out.with_suffix(".png").unlink(missing_ok=True)
    assert set(data["arms"]) == {"best_of_n", "evolve_m1", "evolve_m3", "evolve_vpo"}
    for name, arm in data["arms"].items():
        assert arm["answers"] <= 12 * len(data["problems"]) and len(arm["curve_mean_best"]) == 12
        assert all(b >= a for a, b in zip(arm["curve_mean_best"], arm["curve_mean_best"][1:]))
    assert data["arms"]["evolve_vpo"]["learn_s"] > 0  # the online arm really trained
    # the operator bandit's record: evolution arms only; one trial per completion of the budget
    assert data["arms"]["best_of_n"]["operators"] == {}
    ops = data["arms"]["evolve_m1"]["operators"]
    trials = sum(n for _, n in ops.values())
    assert set(ops) <= {"fresh", "refine", "crossover"} and 0 < trials <= 12 * len(data["problems"])  # m = 1
    assert all(0 <= won <= n for won, n in ops.values())


def test_show_hidden_unhides_search_tests_and_keeps_held_out_tests_out():
    from types import SimpleNamespace

    from benchmarks.search_bench.engine import bench_problem

    pid = str(ROOT / "benchmarks" / "vpo_vs_grpo_suite" / "mode")
    plain = bench_problem(pid, SimpleNamespace(holdout=0.3))
    shown = bench_problem(pid, SimpleNamespace(holdout=0.3, show_hidden=True))
    assert any(t.hidden and not t.holdout for t in plain.tests)
    assert not any(t.hidden and not t.holdout for t in shown.tests)
    assert [t.holdout for t in shown.tests] == [t.holdout for t in plain.tests]
    assert sum(t.holdout for t in shown.tests) == 2
    assert len(shown.visible_tests) > len(plain.visible_tests)
