"""Aggregate the benchmark's cells per arm, with the spread over seeds; JSON, table and plot."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any


def _per_seed(cells: list[dict], key) -> dict[int, float]:
    by: dict[int, list[float]] = {}
    for c in cells:
        by.setdefault(c["seed"], []).append(key(c))
    return {s: sum(v) / len(v) if key is not _count else sum(v) for s, v in sorted(by.items())}


def _count(c: dict) -> float:
    return float(c["solved"])


def _learning(cells: list[dict]) -> dict[str, Any] | None:
    """The online learner's figures over an arm's cells (None for frozen arms)."""
    ls = [c["learning"] for c in cells if c.get("learning")]
    if not ls:
        return None
    total = lambda k: sum(x[k] or 0 for x in ls)  # noqa: E731
    shares = [x["zero_adv_share"] for x in ls if x["zero_adv_share"] is not None]
    per_step = [x["reward_per_step"] for x in ls if x["reward_per_step"]]
    mean = lambda xs: statistics.fmean(xs) if xs else None  # noqa: E731
    spent = sum((c.get("generate_s") or 0) + (c.get("evaluate_s") or 0) + (c.get("learn_s") or 0) for c in cells)
    return {"steps": total("steps"), "updated_steps": total("updated_steps"), "groups": total("groups"),
            "flat_groups": total("flat_groups"), "zero_adv_share_mean": mean(shares),
            "reward_first_step_mean": mean([r[0] for r in per_step]),
            "reward_last_step_mean": mean([r[-1] for r in per_step]),
            "learn_share_of_time": sum(c.get("learn_s") or 0 for c in cells) / spent if spent else None}


def summarise(cells: list[dict], args) -> dict[str, Any]:
    arms: dict[str, Any] = {}
    for name in dict.fromkeys(c["arm"] for c in cells):
        cs = [c for c in cells if c["arm"] == name]
        solved = {s: sum(c["solved"] for c in cs if c["seed"] == s) for s in sorted({c["seed"] for c in cs})}
        best = _per_seed(cs, lambda c: c["best_fitness"])
        # the best program's fitness on the held-out tests (cells made before it was recorded,
        # and problems holding nothing out, have none)
        held = _per_seed([c for c in cs if c.get("holdout_fitness") is not None],
                         lambda c: c["holdout_fitness"])
        to_solve = [c["answers_to_solve"] for c in cs if c["solved"]]
        budget = len(cs[0]["curve"])
        curve = [statistics.fmean(c["curve"][i] for c in cs) for i in range(budget)]
        solved_curve = [sum(1 for c in cs if c["solved"] and c["answers_to_solve"] <= i + 1) / len(solved)
                        for i in range(budget)]
        total = lambda k: sum(c.get(k) or 0.0 for c in cs)  # noqa: E731
        operators: dict[str, list[int]] = {}  # op -> [completions beating their island's best, completions]
        op_tokens: dict[str, dict[str, int]] = {}  # op -> completions, prompt and answer tokens
        for c in cs:
            for op, (won, n) in (c.get("operators") or {}).items():
                operators[op] = [operators.get(op, [0, 0])[0] + won, operators.get(op, [0, 0])[1] + n]
            for op, figures in (c.get("operator_tokens") or {}).items():
                acc = op_tokens.setdefault(op, {})
                for k, v in figures.items():
                    acc[k] = acc.get(k, 0) + v
        arms[name] = {
            "solved_per_seed": solved, "solved_mean": statistics.fmean(solved.values()),
            "solved_problems": sorted({c["problem"] for c in cs if c["solved"]}),
            "search_solved_not_holdout": sorted({c["problem"] for c in cs if c["search_solved"] and not c["solved"]}),
            "best_fitness_per_seed": best, "best_fitness_mean": statistics.fmean(best.values()),
            "holdout_fitness_per_seed": held,
            "holdout_fitness_mean": statistics.fmean(held.values()) if held else None,
            "answers_to_solve_median": statistics.median(to_solve) if to_solve else None,
            "answers_to_solve": to_solve,
            "usable_fraction": total("usable") / total("answers") if total("answers") else None,
            "answers": total("answers"), "tokens": total("tokens"), "prompt_tokens": total("prompt_tokens"),
            "operator_tokens": op_tokens,
            "generate_s": total("generate_s"), "evaluate_s": total("evaluate_s"),
            "learn_s": total("learn_s"), "wall_s": total("wall_s"),
            "operators": operators,
            "learning": _learning(cs),
            "curve_mean_best": curve, "curve_solved_per_seed": solved_curve,
            "per_problem": {p: {str(c["seed"]): (round(c["best_fitness"], 4), c["answers_to_solve"])
                                for c in cs if c["problem"] == p}
                            for p in dict.fromkeys(c["problem"] for c in cs)},
            "holdout_per_problem": {p: {str(c["seed"]): c.get("holdout_fitness") for c in cs if c["problem"] == p}
                                    for p in dict.fromkeys(c["problem"] for c in cs)},
        }
    return {"arms": arms, "problems": args.problems.split(","), "budget": args.budget,
            "seeds": args.seeds, "preset": args.preset}


def table(summary: dict) -> str:
    rows = ["arm               solved/seed      best fitness   held-out fit   answers to solve  usable  tokens  prompt tok  gen/eval/learn s"]
    for name, a in summary["arms"].items():
        solved = " ".join(str(v) for v in a["solved_per_seed"].values())
        best = " ".join(f"{v:.3f}" for v in a["best_fitness_per_seed"].values())
        held = " ".join(f"{v:.3f}" for v in (a.get("holdout_fitness_per_seed") or {}).values()) or "-"
        med = a["answers_to_solve_median"]
        use = a["usable_fraction"]
        rows.append(f"{name:17s} {solved:16s} {best:14s} {held:14s} {('-' if med is None else f'{med:.0f}'):>16s}"
                    f"  {('-' if use is None else f'{use:.2f}'):>6s} {a['tokens']:7.0f} {a.get('prompt_tokens') or 0:11.0f}"
                    f"  {a['generate_s']:.0f}/{a['evaluate_s']:.0f}/{a['learn_s']:.0f}")
    return "\n".join(rows)


def plot(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, a in summary["arms"].items():
        xs = range(1, len(a["curve_mean_best"]) + 1)
        ax1.plot(xs, a["curve_mean_best"], label=name)
        ax2.plot(xs, a["curve_solved_per_seed"], label=name)
    ax1.set(xlabel="answers generated per problem", ylabel="mean best fitness (search tests)",
            title="best fitness vs answers")
    ax2.set(xlabel="answers generated per problem", ylabel="problems solved (held-out checked), per seed",
            title="problems solved vs answers")
    ax1.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)


def write_outputs(summary: dict, cells: list[dict], args, wall: float, stem: Path) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = {"command": " ".join(["python", "benchmarks/search_efficiency.py", *sys.argv[1:]]),
           "wall_s": round(wall, 1), **summary,
           "cells": [{k: v for k, v in c.items() if k != "curve"} for c in cells]}
    stem.with_suffix(".json").write_text(json.dumps(out, indent=1))
    try:
        plot(summary, stem.with_suffix(".png"))
    except ImportError:
        print("matplotlib missing: no plot (pip install -e .[bench])")
    print(table(summary))
    print(f"wall {wall / 60:.1f} min; wrote {stem.with_suffix('.json')}")
