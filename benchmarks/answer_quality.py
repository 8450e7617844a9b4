"""How many of the answers a mutator is asked for are usable programs, scaffolded or not.

For each setup (answer format x answers per completion m x scaffold on/off) every problem's
mutation prompt (the search's own prompt for its initial program, failing tests included) is
sampled G times; each requested answer slot is classified by `evolve.answers.slot_statuses`:
usable (parses into a valid program different from the parent), or why not (duplicate of an
earlier answer in the same completion, missing, malformed, unchanged, syntax error, ...).
Reported per setup: usable share, the breakdown, within-completion duplicates, distinct usable
programs per prompt, sampled tokens per usable answer and tokens/s.

    python benchmarks/answer_quality.py [--model qwen2.5-coder-0.5b] [--completions 4]
        [--answers 1,3] [--formats rewrite,diff] [--scaffold on,off] [--problems a,b,...]
        [--max-tokens 1024] [--temperature 0.8] [--seed 0] [--name answer_quality]
    python benchmarks/answer_quality.py --quick       # tiny from-scratch LM, 2 problems (CI-sized)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"

PROBLEMS = [
    "builtin/weighted_intervals", "builtin/count_primes", "builtin/josephus", "builtin/lis_count",
    "builtin/kth_pair_distance", "builtin/distinct_substrings", "builtin/trapping_rain_2d",
    "builtin/tsp",
]


def run_setup(mutator, tasks, *, fmt: str, m: int, scaffold: bool, args) -> dict:
    from evolve.answers import slot_statuses
    from evolve.config import RunConfig
    from evolve.loop import safe_mutate
    from evolve.offline import make_tasks  # noqa: F401  (tasks come from it)
    from evolve.scored import code_hash

    cfg = RunConfig.model_validate({"mutation": {
        "format": fmt, "answers": m, "completions": args.completions,
        "sampling": {"max_tokens": args.max_tokens, "temperature": args.temperature},
        "scaffold": {"enabled": scaffold, **(args.scaffold_set if scaffold else {})}}})
    # prompts say how many answers and which format: rebuild them for this setup
    from evolve.prompts import PromptBuilder

    messages = []
    for t in tasks:
        b = PromptBuilder(t.problem, fmt=fmt, answers=m,
                          prompt=cfg.prompt.model_copy(update={"recent_attempts": 0}))
        messages.append(b.build(t.view, [], []).messages())
    params = [cfg.mutation.params(args.seed, parent=t.problem.initial_program) for t in tasks]
    t0 = time.perf_counter()
    groups = [None] * len(tasks)
    by: dict[str, list[int]] = {}
    for i, p in enumerate(params):
        by.setdefault(p.model_dump_json(), []).append(i)
    for idx in by.values():
        out = mutator.generate([messages[i] for i in idx], args.completions, params[idx[0]],
                               parents=[tasks[i].problem.initial_program for i in idx])
        for i, g in zip(idx, out):
            groups[i] = g
    wall = time.perf_counter() - t0
    counts: Counter = Counter()
    sampled = inserted = length = discarded = 0
    distinct_per_prompt, per_problem = [], {}
    examples = []
    for t, group in zip(tasks, groups):
        usable_codes, pc = set(), Counter()
        for c in group:
            o = safe_mutate(t.problem.initial_program, c.text, m)
            st = slot_statuses(o, m)
            pc.update(st)
            for child in o.children:
                if not child.syntax_error:
                    usable_codes.add(code_hash(child.code))
            sampled += c.sampled_tokens + c.discarded_tokens
            discarded += c.discarded_tokens
            inserted += len(c.token_ids or []) - c.sampled_tokens
            length += c.finish_reason == "length"
            if len(examples) < args.examples:
                examples.append({"problem": t.problem.id, "statuses": st, "text": c.text[:4000]})
        counts.update(pc)
        distinct_per_prompt.append(len(usable_codes))
        per_problem[t.problem.id] = dict(pc)
    requested = sum(counts.values())
    usable = counts["usable"]
    return {
        "format": fmt, "answers": m, "scaffold": scaffold,
        "scaffold_settings": cfg.mutation.scaffold.model_dump() if scaffold else None,
        "requested": requested,
        "usable": usable, "usable_share": usable / max(requested, 1),
        "by_status": dict(sorted(counts.items())),
        "duplicate_share": counts["duplicate"] / max(requested, 1),
        "distinct_usable_per_prompt": sum(distinct_per_prompt) / max(len(distinct_per_prompt), 1),
        "completions": len(tasks) * args.completions, "truncated_completions": length,
        "sampled_tokens": sampled, "inserted_tokens": inserted, "discarded_tokens": discarded,
        "sampled_tokens_per_usable": sampled / max(usable, 1),
        "wall_s": round(wall, 1), "sampled_tokens_per_s": round(sampled / wall, 1) if wall else 0.0,
        "per_problem": per_problem, "examples": examples,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--completions", type=int, default=4)
    ap.add_argument("--answers", default="3,1")
    ap.add_argument("--formats", default="rewrite,diff")
    ap.add_argument("--scaffold", default="on,off")
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--max-tokens", type=int, default=768)
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-batch", type=int, default=32)
    ap.add_argument("--name", default="answer_quality")
    ap.add_argument("--examples", type=int, default=2, help="completion texts kept per setup")
    ap.add_argument("--scaffold-set", default="", help="scaffold settings to try, k=v,k=v"
                    " (e.g. resample=4,retry_temperature=0.3)")
    ap.add_argument("--quick", action="store_true", help="tiny from-scratch LM, 2 problems")
    args = ap.parse_args()
    args.scaffold_set = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in args.scaffold_set.split(",") if kv)}
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from evolve.config import RunConfig
    from evolve.mutator import TransformersConfig, build_mutator
    from evolve.offline import make_tasks
    from problems.loaders import load_problem
    from sandbox.api import Sandbox

    if args.quick:
        from tests.fixtures.tiny_lm import build_tiny_lm, default_cache_dir

        args.model = str(build_tiny_lm(default_cache_dir()))
        args.problems = ",".join(PROBLEMS[:2])
        args.max_tokens, args.name = min(args.max_tokens, 48), args.name + "_quick"
    problems = [load_problem(p) for p in args.problems.split(",")]
    mutator = build_mutator(TransformersConfig(model=args.model, max_batch=args.max_batch))
    with Sandbox(RunConfig().sandbox) as box:
        tasks = make_tasks(problems, RunConfig(), box)
    setups = [(f, int(m), s == "on") for f in args.formats.split(",")
              for m in args.answers.split(",") for s in args.scaffold.split(",")]
    rows = []
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{args.name}.json"
    for fmt, m, sc in setups:
        r = run_setup(mutator, tasks, fmt=fmt, m=m, scaffold=sc, args=args)
        rows.append(r)
        path.write_text(json.dumps(report(args, rows), indent=1))  # after every setup
        print(f"{fmt:8s} m={m} scaffold={'on ' if sc else 'off'}  usable {r['usable']}/{r['requested']}"
              f" ({100 * r['usable_share']:.0f}%)  dup {100 * r['duplicate_share']:.0f}%"
              f"  distinct/prompt {r['distinct_usable_per_prompt']:.2f}"
              f"  tok/usable {r['sampled_tokens_per_usable']:.0f}  {r['sampled_tokens_per_s']} tok/s"
              f"  {r['wall_s']} s  {r['by_status']}", flush=True)
    print(f"wrote {path}")


def report(args, rows: list[dict]) -> dict:
    return {"command": " ".join(["python", "benchmarks/answer_quality.py", *sys.argv[1:]]),
            "model": args.model, "problems": args.problems.split(","),
            "completions_per_problem": args.completions, "max_tokens": args.max_tokens,
            "temperature": args.temperature, "seed": args.seed, "setups": rows}


if __name__ == "__main__":
    main()
