"""The resumable parts of a run.  Each (arm, seed) training is one `evolve train` and each
(arm, seed) evaluation one `evolve eval passk` subprocess (the search's own prompt, format,
sandbox and reward rows); its result is written under the work directory with the cache key it
depends on, so a killed run, or one split into `--part train` / `--part eval` invocations,
redoes only what is missing or stale."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from benchmarks.evolve_cli import evolve
from benchmarks.vllm_cpu import ServedWeights
from benchmarks.vpo_bench.plan import (
    ARMS,
    EVAL_TEMPERATURE,
    ROOT,
    SUITE,
    Plan,
    answers_per_completion,
    cache_key,
    eval_completions,
    max_tokens,
    run_config,
    train_completions,
)

LEARNER_KEYS = ("step", "reward_mean", "set_reward", "reward_diversity", "zero_std_frac", "truncated",
                "parse_failures", "duplicates", "completion_len_mean", "entropy", "step_time_s")
PER_PROBLEM_KEYS = ("id", "answers", "valid", "solved", "diversity", "fitness")


@dataclass(frozen=True)
class Work:
    """Where one run's parts live: ROOT/<arm>/seed<N>/{train/, train.json, eval.json, stderr.log}."""

    root: Path
    plan: Plan
    model: str  # the model as the mutator loads it (the tiny LM's directory for the quick preset)
    server: ServedWeights | None = None  # plan.eval_backend "vllm": the evaluations' server

    def cell(self, name: str, seed: int) -> Path:
        return self.root / name / f"seed{seed}"

    def config(self, seed: int, name: str | None = None, adapter: str | None = None) -> Path:
        """The seed's run config; with `name`, the (arm, seed) evaluation's (vllm-served: from
        the base weights, or `adapter` merged into them)."""
        if name is None or self.plan.eval_backend == "transformers":
            path, mutator = self.root / f"config_seed{seed}.yaml", None
        else:
            if self.server is None:
                raise ValueError(f"eval_backend {self.plan.eval_backend!r} needs Work.server")
            path = self.root / f"config_seed{seed}_{name}_eval.yaml"
            mutator = self.server.mutator(adapter, seed=seed)  # a seed's own draws
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(run_config(self.plan, seed, self.model, mutator), sort_keys=False))
        return path


def cached(path: Path, key: dict) -> dict | None:
    """The stored result at `path` when it was made with `key`."""
    if not path.exists():
        return None
    old = json.loads(path.read_text())
    return old if old.get("key") == key else None


def _store(path: Path, result: dict) -> dict:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(path)  # a kill mid-write leaves no half result that looks finished
    return result


def _problem_args(ids: tuple[str, ...]) -> list[str]:
    return ["--suite", str(SUITE), *[a for p in ids for a in ("--problem", p)]]


def learner_log(path: Path) -> list[dict]:
    """The learner's per-step metrics that explain an arm's result."""
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [{k: r.get(k) for k in LEARNER_KEYS} for r in rows]


def train(work: Work, name: str, seed: int, *, run: bool = True) -> dict | None:
    """The (arm, seed) training, made unless cached (`run` False: only the cached one)."""
    plan, arm, cell = work.plan, ARMS[name], work.cell(name, seed)
    key, out = cache_key(name, plan, seed, "train"), cell / "train.json"
    hit = cached(out, key)
    if hit or not run:
        return hit
    cell.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(cell / "train", ignore_errors=True)  # a killed or stale training's checkpoints
    m, t0 = answers_per_completion(arm, plan), time.time()
    print(f"[{name} seed {seed}] training: {plan.steps} steps x {plan.prompts_per_step} prompts x"
          f" {train_completions(arm, plan)} completions x {m} answers", flush=True)
    stdout = evolve("train", *_problem_args(plan.train_problems), "--estimator", str(arm.estimator),
                     "--out", str(cell / "train"), "--steps", str(plan.steps),
                     "--prompts-per-step", str(plan.prompts_per_step), "--answers", str(m),
                     "--completions", str(train_completions(arm, plan)),
                     "--max-tokens", str(max_tokens(arm, plan)), "--config", str(work.config(seed)),
                    log=cell / "stderr.log")
    rows = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    for r in rows:
        print(f"[{name} seed {seed}]   step {r['step']}: mean fitness {r['mean_fitness']:.3f},"
              f" valid {r['valid_answers']}/{r['answers']}, loss {r['loss']}", flush=True)
    adapter = next((r["adapter"] for r in reversed(rows) if r["adapter"]), None)
    return _store(out, {"key": key, "rows": rows, "adapter": adapter, "train_s": round(time.time() - t0, 1),
                        "learner": learner_log(cell / "train" / "trainer.jsonl")})


def evaluate(work: Work, name: str, seed: int, trained: dict | None, *, run: bool = True) -> dict | None:
    """The (arm, seed) evaluation on the test problems, made unless cached; a trained arm's needs
    its training (`trained`)."""
    plan, arm, cell = work.plan, ARMS[name], work.cell(name, seed)
    if arm.estimator and trained is None:
        return None
    key, out = cache_key(name, plan, seed, "eval"), cell / "eval.json"
    if trained:  # a retrained adapter (same knobs, other outcome) is evaluated again
        key["training"] = hashlib.sha256(json.dumps(trained["rows"]).encode()).hexdigest()[:16]
    hit = cached(out, key)
    if hit or not run:
        return hit
    cell.mkdir(parents=True, exist_ok=True)
    adapter = trained["adapter"] if trained else None
    m, t0 = answers_per_completion(arm, plan), time.time()
    print(f"[{name} seed {seed}] evaluating: {eval_completions(arm, plan)} completions x {m} answers"
          f" on {len(plan.test_problems)} problems{' + ' + adapter if adapter else ''}", flush=True)
    served = plan.eval_backend == "vllm"  # a trained arm: its adapter merged, served at base speed
    ks = ",".join(str(k) for k in range(1, plan.eval_answers + 1))
    try:
        stdout = evolve("eval", "passk", *_problem_args(plan.test_problems),
                        "--samples", str(eval_completions(arm, plan)), "--answers", str(m), "--k", ks,
                        "--max-tokens", str(max_tokens(arm, plan)), "--temperature", str(EVAL_TEMPERATURE),
                        "--json", "--config", str(work.config(seed, name, adapter)),
                        *(["--adapter", adapter] if adapter and not served else []), log=cell / "stderr.log")
    finally:
        if adapter and served:
            work.server.drop(adapter)
    report = json.loads(stdout)
    per_problem = [{**{k: r[k] for k in PER_PROBLEM_KEYS},
                    "best_at_k": [r["best_at_k"][str(k)] for k in range(1, plan.eval_answers + 1)]}
                   for r in report["per_problem"]]
    return _store(out, {"key": key, "adapter": adapter, "eval_s": round(time.time() - t0, 1),
                        "per_problem": per_problem})


def run_parts(work: Work, names: list[str], part: str) -> tuple[dict, dict]:
    """Run `part` (train, eval, all; report: nothing) for every (arm, seed), seed by seed so an
    interrupted run leaves whole seeds; returns every training and evaluation found or made,
    keyed (arm, seed)."""
    trainings: dict[tuple[str, int], dict] = {}
    evals: dict[tuple[str, int], dict] = {}
    for seed in work.plan.seeds:
        for name in names:
            if ARMS[name].estimator and (t := train(work, name, seed, run=part in ("train", "all"))):
                trainings[name, seed] = t
        for name in names:
            e = evaluate(work, name, seed, trainings.get((name, seed)), run=part in ("eval", "all"))
            if e:
                evals[name, seed] = e
    return trainings, evals
