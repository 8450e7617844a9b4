"""The run's figures: per arm, best@k (k = 1..N) and reward-space diversity with bootstrap
intervals over (test problem, seed) units; VPO minus each other arm, paired by problem and seed;
the training reward per step.  Printed as a table, written as JSON and a PNG."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from benchmarks.vpo_bench.plan import ARMS, Plan, epoch_steps
from benchmarks.vpo_bench.stats import LEVEL, N_BOOT, mean_ci, paired_difference_ci, ratio_ci

REPORTED_K = (1, 5, 10, 30)


def unit_arrays(evals: dict, name: str, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """best@k as x[problem, seed, k - 1] and diversity as x[problem, seed] of one arm."""
    best = np.empty((len(plan.test_problems), len(plan.seeds), plan.eval_answers))
    div = np.empty(best.shape[:2])
    for j, seed in enumerate(plan.seeds):
        rows = {r["id"]: r for r in evals[name, seed]["per_problem"]}
        for i, pid in enumerate(plan.test_problems):
            best[i, j], div[i, j] = rows[pid]["best_at_k"], rows[pid]["diversity"]
    return best, div


def train_trend(trainings: dict, name: str, plan: Plan) -> dict | None:
    """Mean fitness of the sampled training answers per step (mean over seeds), and its mean over
    the first and the last pass over the training problems: does training move the reward?"""
    runs = [trainings[name, s]["rows"] for s in plan.seeds if (name, s) in trainings]
    if not runs:
        return None
    per_step = np.mean([[r["mean_fitness"] for r in rows] for rows in runs], axis=0)
    e = epoch_steps(plan)
    return {"per_step": per_step.tolist(), "first_pass": float(per_step[:e].mean()),
            "last_pass": float(per_step[-e:].mean())}


def summarise(evals: dict, trainings: dict, names: list[str], plan: Plan, n_boot: int = N_BOOT) -> dict:
    arms, units = {}, {n: unit_arrays(evals, n, plan) for n in names}
    for name in names:
        best, div = units[name]
        cells = [evals[name, s] for s in plan.seeds]
        runs = [trainings[name, s] for s in plan.seeds if (name, s) in trainings]
        arms[name] = {
            "best_at_k": mean_ci(best, n_boot), "diversity": mean_ci(div, n_boot),
            "best_at_k_per_seed": {str(s): best[:, j].mean(axis=0).tolist() for j, s in enumerate(plan.seeds)},
            "valid": sum(p["valid"] for c in cells for p in c["per_problem"]),
            "answers": sum(p["answers"] for c in cells for p in c["per_problem"]),
            "train": train_trend(trainings, name, plan),
            "train_s": round(sum(r["train_s"] for r in runs), 1),
            "eval_s": round(sum(c["eval_s"] for c in cells), 1),
            "learner": {str(s): trainings[name, s]["learner"] for s in plan.seeds if (name, s) in trainings},
            "per_problem": {str(s): evals[name, s]["per_problem"] for s in plan.seeds},
        }
    comparisons = {}
    for ref in (n for n in names if n != "vpo" and "vpo" in names):
        diff = paired_difference_ci(units["vpo"][0], units[ref][0], n_boot)
        comparisons[f"vpo-{ref}"] = {
            "best_at_k": diff,
            "at_k": {str(k): {key: diff[key][k - 1] for key in ("mean", "lo", "hi")}
                     for k in REPORTED_K if k <= plan.eval_answers},
            "diversity_ratio": ratio_ci(units["vpo"][1], units[ref][1], n_boot),
        }
    return {"arms": arms, "comparisons": comparisons,
            "bootstrap": {"draws": n_boot, "level": LEVEL, "units": "test problem x seed",
                          "resampling": "problems and seeds independently (crossed); paired arms"}}


def _ci(s: dict, i: int | None = None) -> str:
    m, lo, hi = (s[k] if i is None else s[k][i] for k in ("mean", "lo", "hi"))
    return f"{m:.3f} [{lo:.3f}, {hi:.3f}]"


def table(summary: dict, plan: Plan) -> str:
    ks = [k for k in REPORTED_K if k <= plan.eval_answers]
    rows = [f"{'arm':<11}" + "".join(f"{'best@' + str(k):>22}" for k in ks)
            + f"{'diversity':>22}{'valid':>10}{'train fit 1st->last':>21}{'train s':>9}{'eval s':>8}"]
    for name, a in summary["arms"].items():
        t = a["train"]
        trend = f"{t['first_pass']:.3f} -> {t['last_pass']:.3f}" if t else "-"
        rows.append(f"{name:<11}" + "".join(f"{_ci(a['best_at_k'], k - 1):>22}" for k in ks)
                    + f"{_ci(a['diversity']):>22}{a['valid']:>5}/{a['answers']:<4}{trend:>21}"
                    + f"{a['train_s']:>9.0f}{a['eval_s']:>8.0f}")
    for key, c in summary["comparisons"].items():
        diffs = ", ".join(f"k={k} {v['mean']:+.3f} [{v['lo']:+.3f}, {v['hi']:+.3f}]"
                          for k, v in c["at_k"].items())
        ratio = c["diversity_ratio"]
        div = f"{ratio['mean']:.2f}x [{ratio['lo']:.2f}, {ratio['hi']:.2f}]" if ratio else "-"
        rows.append(f"{key}: best@k {diffs}; diversity {div}")
    return "\n".join(rows)


def plot(summary: dict, plan: Plan, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ((curves, diff), (div, train)) = plt.subplots(2, 2, figsize=(12, 8.5))
    ks = np.arange(1, plan.eval_answers + 1)
    for name, a in summary["arms"].items():
        b = a["best_at_k"]
        line, = curves.plot(ks, b["mean"], label=name, linestyle="--" if ARMS[name].estimator is None else "-")
        curves.fill_between(ks, b["lo"], b["hi"], color=line.get_color(), alpha=0.15)
        if a["train"]:
            train.plot(range(1, plan.steps + 1), a["train"]["per_step"], marker=".", label=name,
                       color=line.get_color())
    curves.set(xlabel="k (answers drawn)", ylabel="best@k (mean test pass rate)",
               title=f"best@k on the held-out problems, {int(LEVEL * 100)}% bootstrap band")
    for key, c in summary["comparisons"].items():
        d = c["best_at_k"]
        main = key == "vpo-grpo"
        line, = diff.plot(ks, d["mean"], label=key, linewidth=2 if main else 1, linestyle="-" if main else ":")
        if main:
            diff.fill_between(ks, d["lo"], d["hi"], color=line.get_color(), alpha=0.2)
            at = c["at_k"].values()
            diff.errorbar([int(k) for k in c["at_k"]], [v["mean"] for v in at], capsize=4, fmt="o",
                          yerr=[[v["mean"] - v["lo"] for v in at], [v["hi"] - v["mean"] for v in at]],
                          color=line.get_color())
    diff.axhline(0, color="black", linewidth=0.8)
    diff.set(xlabel="k", ylabel="best@k difference", title="VPO minus each arm (band: vpo-grpo, paired)")
    names = list(summary["arms"])
    d = [summary["arms"][n]["diversity"] for n in names]
    div.bar(names, [x["mean"] for x in d], color="tab:gray",
            yerr=[[x["mean"] - x["lo"] for x in d], [x["hi"] - x["mean"] for x in d]], capsize=4)
    div.set(ylabel="mean pairwise L1 of valid answers' test vectors", title="reward-space diversity")
    train.set(xlabel="optimiser step", ylabel="mean fitness of sampled answers",
              title="training reward (train problems, mean over seeds)")
    for ax in (curves, diff, train):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(summary: dict, plan: Plan, stem: Path, *, preset: str, wall_s: float, extra: dict) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    compute = sum(a["train_s"] + a["eval_s"] for a in summary["arms"].values())
    out = {"command": " ".join(["python", "benchmarks/vpo_vs_grpo.py", *sys.argv[1:]]),
           "preset": preset, "plan": asdict(plan), **extra,
           # this invocation's wall time (small when parts were reused from --work) and every
           # part's own training and evaluation time, reused or not
           "invocation_wall_s": round(wall_s, 1), "compute_s": round(compute, 1), **summary}
    stem.with_suffix(".json").write_text(json.dumps(out, indent=1))
    try:
        plot(summary, plan, stem.with_suffix(".png"),
             f"{plan.model} + LoRA r{plan.lora_r}: {plan.steps} steps x {plan.group * plan.answers} answers"
             f" x {plan.prompts_per_step} prompts per arm; {len(plan.test_problems)} held-out problems x"
             f" {len(plan.seeds)} seeds x {plan.eval_answers} answers")
    except ImportError:  # the test venv has no matplotlib (an extra: pip install -e .[bench])
        print("matplotlib missing: no plot (pip install -e .[bench])")
    print(table(summary, plan))
    print(f"wrote {stem}.json and .png ({wall_s:.0f} s; parts' own time {compute / 60:.1f} min)")
