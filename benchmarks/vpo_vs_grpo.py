"""VPO against GRPO and Multi-RLVR at matched compute: best@k (k = 1..30) and reward-space
diversity of the fine-tuned Qwen2.5-Coder-0.5B mutator on a vector-reward code task (CPU).

Task (benchmarks/vpo_vs_grpo_suite): four short under-specified functions (run-length encoding,
duration parsing, median, title case), six per-test rewards each.  Every test pins one
convention the statement leaves loose (count omitted for runs of 1, empty inputs, the float
mean of an even-length median, small words of titles, ...), three are shown in the prompt and
three are hidden, so one sloppy answer covers some tests but rarely all, and answers that differ
in their conventions pass different tests: a genuinely multi-dimensional reward.  Programs are a
few lines, so answers stay short enough for CPU sampling.

Arms (same base model, LoRA, lr, optimiser steps, prompts per step and sampled answers):
    grpo        G*m completions of 1 answer per prompt, mean of the test vector, group z-score
    multi_rlvr  G completions of m answers, summed de-duplicated answer scores, group z-score
    vpo         G completions of m answers, E_w[max_answers w.r], w ~ Dir(1), group z-score
    base, base_m3   the untrained model asked for 1 or m answers per completion
Training and evaluation go through `evolve train` and `evolve eval passk` (the search's own
prompt, format, sandbox and reward rows).  Evaluation: 30 answers per problem at temperature 0.7
(grpo/base: 30 completions x 1, m-answer arms: 30/m completions x m); best@k = expected running
max of the answers' fitness (mean test pass rate), diversity = mean pairwise L1 of the valid
answers' test vectors, both averaged over problems.

    python benchmarks/vpo_vs_grpo.py [--quick] [--arms base,grpo,multi_rlvr,vpo] [--threads N]
        [--steps S --group G --eval-answers N --problems ID,ID --seed N --name STEM]   (overrides)

Writes benchmarks/results/vpo_vs_grpo[_quick].json and .png; intermediate adapters and logs go
to --work (finished arms with an unchanged plan are reused on a rerun).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "benchmarks" / "vpo_vs_grpo_suite"
RESULTS = ROOT / "benchmarks" / "results"
EVOLVE = Path(sys.executable).parent / "evolve"
EVAL_TEMPERATURE = 0.7  # the paper's best@30 protocol


@dataclass(frozen=True)
class Plan:
    """Every knob of one benchmark run (the presets below are the only defaults)."""

    problems: tuple[str, ...]  # empty = every problem of the suite
    steps: int  # optimiser steps per trained arm
    prompts_per_step: int  # groups per step
    group: int  # G: completions per group of the m-answer arms
    answers: int  # m
    answer_tokens: int  # generation budget per answer (Qwen-0.5B writes ~120-token answers, often
    # followed by an explanation; a truncated completion scores zero rows in training)
    eval_answers: int  # answers sampled per problem at evaluation (k runs up to this)
    lr: float
    lora_r: int
    train_temperature: float
    seed: int = 0
    model: str = "qwen2.5-coder-0.5b"
    threads: int | None = None


PRESETS = {
    # sized to fit 45 min on a quiet 2-core CPU: 6 steps x 12 answers per trained arm, 30 answers
    # per problem at evaluation (answers end at their last code block: mutation.stop_after_answers)
    "full": Plan(problems=("vpo_bench/rle", "vpo_bench/title"), steps=6, prompts_per_step=1,
                 group=4, answers=3, answer_tokens=160, eval_answers=30, lr=3e-4, lora_r=16,
                 train_temperature=0.9),
    "quick": Plan(problems=("vpo_bench/rle", "vpo_bench/title"), steps=2, prompts_per_step=1,
                  group=2, answers=3, answer_tokens=160, eval_answers=6, lr=3e-4, lora_r=8,
                  train_temperature=0.9),
}


@dataclass(frozen=True)
class Arm:
    estimator: str | None  # None = the untrained base model
    multi: bool  # m answers per completion (else 1)


ARMS = {
    "base": Arm(None, False),
    "base_m3": Arm(None, True),
    "grpo": Arm("grpo", False),
    "multi_rlvr": Arm("multi_rlvr", True),
    "vpo": Arm("vpo", True),
}


# ------------------------------------------------------------------ pure helpers (unit-tested)


def answers_per_completion(arm: Arm, plan: Plan) -> int:
    return plan.answers if arm.multi else 1


def train_completions(arm: Arm, plan: Plan) -> int:
    """Completions per group: every arm samples G*m answers per prompt."""
    return plan.group * plan.answers // answers_per_completion(arm, plan)


def eval_completions(arm: Arm, plan: Plan) -> int:
    m = answers_per_completion(arm, plan)
    if plan.eval_answers % m:
        raise ValueError(f"eval_answers={plan.eval_answers} is not a multiple of m={m}")
    return plan.eval_answers // m


def max_tokens(arm: Arm, plan: Plan) -> int:
    """m answer budgets plus room for headings and a short shared preamble."""
    return answers_per_completion(arm, plan) * plan.answer_tokens + 32


def run_config(plan: Plan) -> dict:
    """The run config (YAML) both `evolve train` and `evolve eval passk` read."""
    mutator = {"backend": "transformers", "model": plan.model, "dtype": "auto", "max_batch": 32,
               "seed": plan.seed}
    if plan.threads:
        mutator["threads"] = plan.threads
    return {
        "mutator": mutator,
        "mutation": {"format": "rewrite", "answers": plan.answers, "completions": plan.group,
                     "sampling": {"max_tokens": plan.answers * plan.answer_tokens + 32,
                                  "temperature": plan.train_temperature}},
        "loop": {"seed": plan.seed},
        "sandbox": {"backend": "process", "slots": 2},
        "trainer": {"advantage": {"num_weights": 100, "alpha": 1.0},
                    "loss": {"kl_coef": 0.0},
                    "lora": {"r": plan.lora_r, "alpha": 2 * plan.lora_r},
                    "lr": plan.lr, "dtype": "bfloat16", "gradient_checkpointing": False,
                    "seed": plan.seed},
    }


def gap_summary(curves: dict[str, list[float]], ref: str = "grpo", arm: str = "vpo") -> dict:
    """best@k difference arm - ref at every k, the first k from which the arm stays ahead (None
    if never) and whether its lead widens (the last k's lead above the lead at that first k;
    False when the arm is never ahead: a shrinking deficit is not a widening gap)."""
    if ref not in curves or arm not in curves:
        return {}
    diff = [a - b for a, b in zip(curves[arm], curves[ref])]
    ahead_from = next((i + 1 for i in range(len(diff)) if all(d > 0 for d in diff[i:])), None)
    widens = ahead_from is not None and diff[-1] > diff[ahead_from - 1]
    return {"diff": diff, "ahead_from_k": ahead_from, "widens": widens}


def diversity_ratio(div: dict[str, float], ref: str = "grpo", arm: str = "vpo") -> float | None:
    if ref not in div or arm not in div or div[ref] <= 0:
        return None
    return div[arm] / div[ref]


TRAINING_ONLY = ("steps", "prompts_per_step", "group", "lr", "lora_r", "train_temperature")


def cache_key(arm: Arm, plan: Plan) -> dict:
    """What an arm's result depends on (JSON form): untrained arms ignore the training knobs."""
    key = json.loads(json.dumps(asdict(plan)))
    if arm.estimator is None:
        for field in TRAINING_ONLY:
            key.pop(field)
        key["answers"] = answers_per_completion(arm, plan)
    return key


# ------------------------------------------------------------------ running the arms


def evolve(args: list[str], log: Path) -> str:
    """One `evolve` command; stderr goes to `log`, stdout is returned; a failure stops the run."""
    with log.open("a") as err:
        done = subprocess.run([str(EVOLVE), *args], stdout=subprocess.PIPE, stderr=err, text=True,
                              cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"evolve {args[0]} failed (exit {done.returncode}); see {log}")
    return done.stdout


def suite_args(plan: Plan) -> list[str]:
    return ["--suite", str(SUITE), *[a for p in plan.problems for a in ("--problem", p)]]


def run_arm(name: str, plan: Plan, work: Path) -> dict:
    arm, out = ARMS[name], work / name
    cached = out / "result.json"
    if cached.exists():
        old = json.loads(cached.read_text())
        if old.get("key") == cache_key(arm, plan):
            print(f"[{name}] reusing {cached}", flush=True)
            return {**old, "reused": True}
    out.mkdir(parents=True, exist_ok=True)
    cfg, log = work / "config.yaml", out / "stderr.log"
    m, t0 = answers_per_completion(arm, plan), time.time()
    train_rows, adapter = [], None
    if arm.estimator:
        print(f"[{name}] training: {plan.steps} steps x {plan.prompts_per_step} prompts x"
              f" {train_completions(arm, plan)} completions x {m} answers", flush=True)
        stdout = evolve(["train", *suite_args(plan), "--estimator", arm.estimator,
                         "--out", str(out / "train"), "--steps", str(plan.steps),
                         "--prompts-per-step", str(plan.prompts_per_step), "--answers", str(m),
                         "--completions", str(train_completions(arm, plan)),
                         "--max-tokens", str(max_tokens(arm, plan)), "--config", str(cfg)], log)
        train_rows = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        adapter = next((r["adapter"] for r in reversed(train_rows) if r["adapter"]), None)
        for r in train_rows:
            print(f"[{name}]   step {r['step']}: mean fitness {r['mean_fitness']:.3f},"
                  f" valid {r['valid_answers']}/{r['answers']}, loss {r['loss']}", flush=True)
    t1 = time.time()
    print(f"[{name}] evaluating: {eval_completions(arm, plan)} completions x {m} answers"
          f" per problem{' + ' + adapter if adapter else ''}", flush=True)
    ks = ",".join(str(k) for k in range(1, plan.eval_answers + 1))
    stdout = evolve(["eval", "passk", *suite_args(plan), "--samples", str(eval_completions(arm, plan)),
                     "--answers", str(m), "--k", ks, "--max-tokens", str(max_tokens(arm, plan)),
                     "--temperature", str(EVAL_TEMPERATURE), "--json", "--config", str(cfg),
                     *(["--adapter", adapter] if adapter else [])], log)
    report = json.loads(stdout)
    result = {
        "key": cache_key(arm, plan), "arm": name, "estimator": arm.estimator, "answers_per_completion": m,
        "train": train_rows, "adapter": adapter,
        "train_s": round(t1 - t0, 1), "eval_s": round(time.time() - t1, 1),
        "best_at_k": [report["mean"]["best_at_k"][str(k)] for k in range(1, plan.eval_answers + 1)],
        "pass_at_k": [report["mean"]["pass_at_k"][str(k)] for k in range(1, plan.eval_answers + 1)],
        "diversity": report["mean"]["diversity"],
        "per_problem": [{key: r[key] for key in ("id", "answers", "valid", "solved", "diversity",
                                                  "fitness")} for r in report["per_problem"]],
    }
    cached.write_text(json.dumps(result, indent=1))
    return result


# ------------------------------------------------------------------ report

LEARNER_KEYS = ("step", "reward_mean", "set_reward", "reward_diversity", "zero_std_frac", "truncated",
                "parse_failures", "duplicates", "completion_len_mean", "entropy", "step_time_s")


def learner_log(path: Path) -> list[dict]:
    """The learner's per-step metrics that explain an arm's result (empty when untrained)."""
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [{k: r.get(k) for k in LEARNER_KEYS} for r in rows]


def training_table(results: dict[str, dict]) -> str:
    rows = [f"{'arm':<11}{'reward':>8}{'set rew':>9}{'div':>7}{'0-std':>7}{'trunc':>7}{'len':>6}{'s/step':>8}"]
    for name, r in results.items():
        log = r.get("learner") or []
        if not log:
            continue
        avg = lambda k: sum(x[k] or 0 for x in log) / len(log)  # noqa: E731
        rows.append(f"{name:<11}{avg('reward_mean'):>8.3f}{avg('set_reward'):>9.3f}"
                    f"{avg('reward_diversity'):>7.3f}{avg('zero_std_frac'):>7.2f}{avg('truncated'):>7.1f}"
                    f"{avg('completion_len_mean'):>6.0f}{avg('step_time_s'):>8.0f}")
    return "\n".join(rows)



def table(results: dict[str, dict], ks: list[int]) -> str:
    head = f"{'arm':<11}" + "".join(f"{'best@' + str(k):>9}" for k in ks) + \
        f"{'pass@1':>8}{'diversity':>11}{'valid':>8}{'train s':>9}{'eval s':>8}"
    rows = [head]
    for name, r in results.items():
        valid = sum(p["valid"] for p in r["per_problem"])
        total = sum(p["answers"] for p in r["per_problem"])
        rows.append(f"{name:<11}" + "".join(f"{r['best_at_k'][k - 1]:>9.3f}" for k in ks)
                    + f"{r['pass_at_k'][0]:>8.3f}{r['diversity']:>11.3f}{valid:>4}/{total:<3}"
                    + f"{r['train_s']:>9.0f}{r['eval_s']:>8.0f}")
    return "\n".join(rows)


def plot(results: dict[str, dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [2, 1]})
    for name, r in results.items():
        ks = range(1, len(r["best_at_k"]) + 1)
        left.plot(ks, r["best_at_k"], marker=".", label=name,
                  linestyle="--" if ARMS[name].estimator is None else "-")
    left.set_xlabel("k (answers drawn)")
    left.set_ylabel("best@k (mean test pass rate)")
    left.grid(alpha=0.3)
    left.legend()
    names = list(results)
    right.bar(names, [results[n]["diversity"] for n in names], color="tab:gray")
    right.set_ylabel("reward-space diversity (mean pairwise L1)")
    right.tick_params(axis="x", rotation=30)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny smoke configuration (minutes)")
    p.add_argument("--arms", default="base,base_m3,grpo,multi_rlvr,vpo",
                   help=f"comma-separated subset of {','.join(ARMS)}")
    p.add_argument("--steps", type=int, help="override the preset's optimiser steps")
    p.add_argument("--group", type=int, help="override G (completions per group of m-answer arms)")
    p.add_argument("--eval-answers", type=int, help="override the answers sampled per problem")
    p.add_argument("--problems", help="override the problem ids (comma-separated)")
    p.add_argument("--name", help="output stem (default vpo_vs_grpo, _quick with --quick)")
    p.add_argument("--threads", type=int, help="torch threads (loaded machine: 1)")
    p.add_argument("--seed", type=int, help="override the seed (sampling, learner, Dirichlet draws)")
    p.add_argument("--model", help="prepared model name or directory")
    p.add_argument("--work", type=Path, default=Path("/tmp/vpo_vs_grpo"),
                   help="adapters, logs and per-arm results")
    p.add_argument("--out", type=Path, default=RESULTS, help="directory of the JSON and PNG")
    return p.parse_args()


def main() -> None:
    a = parse()
    preset = "quick" if a.quick else "full"
    plan = PRESETS[preset]
    problems = tuple(x.strip() for x in a.problems.split(",") if x.strip()) if a.problems else None
    plan = replace(plan, **{k: v for k, v in (
        ("steps", a.steps), ("threads", a.threads), ("model", a.model), ("group", a.group),
        ("eval_answers", a.eval_answers), ("problems", problems)) if v})
    if a.seed is not None:
        plan = replace(plan, seed=a.seed)
    names = [n.strip() for n in a.arms.split(",") if n.strip()]
    unknown = [n for n in names if n not in ARMS]
    if unknown:
        raise SystemExit(f"--arms: unknown arm {unknown[0]!r}; known: {', '.join(ARMS)}")
    stem = a.name or "vpo_vs_grpo" + ("_quick" if a.quick else "")
    work = a.work / stem
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.yaml").write_text(yaml.safe_dump(run_config(plan), sort_keys=False))
    t0 = time.time()
    results = {n: run_arm(n, plan, work) for n in names}
    for n, r in results.items():
        r["learner"] = learner_log(work / n / "train" / "trainer.jsonl")
    ks = [k for k in (1, 2, 5, 10, 20, 30) if k <= plan.eval_answers]
    print(table(results, ks))
    print("training means per step (reward = mean test pass rate of answers; truncated = completions):")
    print(training_table(results))
    curves = {n: r["best_at_k"] for n, r in results.items()}
    div = {n: r["diversity"] for n, r in results.items()}
    summary = {"vpo_vs_grpo": gap_summary(curves), "vpo_vs_multi_rlvr": gap_summary(curves, "multi_rlvr"),
               "diversity_vpo_over_grpo": diversity_ratio(div)}
    for key, s in summary.items():
        if isinstance(s, dict) and s:
            print(f"{key}: ahead from k={s['ahead_from_k']}, gap k=1 {s['diff'][0]:+.3f},"
                  f" k={len(s['diff'])} {s['diff'][-1]:+.3f}, widens {s['widens']}")
    if summary["diversity_vpo_over_grpo"] is not None:
        print(f"diversity vpo / grpo: {summary['diversity_vpo_over_grpo']:.2f}x")
    a.out.mkdir(parents=True, exist_ok=True)
    report = {"preset": preset, "plan": asdict(plan), "suite": str(SUITE.relative_to(ROOT)),
              "eval_temperature": EVAL_TEMPERATURE,
              # this invocation's wall time: small when arms were reused from --work ...
              "invocation_wall_s": round(time.time() - t0, 1),
              # ... every arm's own training + evaluation time, also of arms reused from --work
              "compute_s": round(sum(r["train_s"] + r["eval_s"] for r in results.values()), 1),
              "reused_arms": [n for n, r in results.items() if r.get("reused")],
              "summary": summary, "arms": results}
    (a.out / f"{stem}.json").write_text(json.dumps(report, indent=1))
    plot(results, a.out / f"{stem}.png",
         f"Qwen2.5-Coder-0.5B + LoRA, {plan.steps} steps/arm, {plan.eval_answers} answers/problem"
         f" ({stem})")
    print(f"wrote {a.out / stem}.json and .png ({time.time() - t0:.0f} s; arms' own time"
          f" {report['compute_s'] / 60:.1f} min)")


if __name__ == "__main__":
    main()
