"""How often does ONE answer of the mutator beat a problem's initial program?

The search can only climb if some answers improve on their parent.  This measures the rate at
its source: for each problem, the search's own prompt for the initial program (failing tests
included, as in the first batch of a run) is sampled n times with one answer per completion;
each child is evaluated in the sandbox on the search tests.  Reported per problem and variant:
how many children beat the parent's fitness, how many score zero (errors, invalid outputs, and
answers that leave the program unchanged), and the best child's fitness.

Variants (`--variants`): `default` (the run config's defaults: full-vocabulary sampling),
`qwen` (Qwen2.5-Coder's recommended top_p 0.8 / top_k 20), `continuous` (a task text that says
higher scores are better instead of "passes more tests", for continuously scored problems).

    python benchmarks/one_step_gain.py --problems builtin/tsp,builtin/max_cut \
        --variants default,continuous [--n 16] [--temperatures 0.8,0.3] [--name one_step_gain]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
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
VARIANTS: dict[str, dict] = {
    "default": {},
    "qwen": {"mutation": {"sampling": {"top_p": 0.8, "top_k": 20}}},
    "continuous": {"prompt": {"templates": {
        "task": CONTINUOUS_TASK,
        "failing_header": "# Scores of the current program per visible test\n"}}},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", required=True)
    ap.add_argument("--variants", default="default")
    ap.add_argument("--n", type=int, default=8, help="answers per problem and setup")
    ap.add_argument("--temperatures", default="0.8")
    ap.add_argument("--max-tokens", type=int, default=512)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--name", default="one_step_gain")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from benchmarks.search_bench.arms import deep_merge
    from evolve.config import RunConfig
    from evolve.mutator import build_mutator
    from evolve.offline import make_tasks, sample
    from problems.loaders import load_problem
    from sandbox.api import Sandbox
    from sandbox.config import SandboxConfig

    problems = [load_problem(p) for p in args.problems.split(",")]
    rows, mutator = [], None
    with Sandbox(SandboxConfig(slots=2)) as box:
        for variant in args.variants.split(","):
            for temp in (float(t) for t in args.temperatures.split(",")):
                base = {"mutator": {"backend": "transformers", "model": args.model, "max_batch": 16},
                        "mutation": {"answers": 1, "sampling": {"temperature": temp,
                                                                "max_tokens": args.max_tokens}}}
                cfg = RunConfig.model_validate(deep_merge(base, VARIANTS[variant]))
                mutator = mutator or build_mutator(cfg.mutator)
                tasks = make_tasks(problems, cfg, box)
                t0 = time.monotonic()
                pools = sample(mutator, tasks, args.n, 1, cfg.mutation, 0, box)
                for task, pool in zip(tasks, pools):
                    fits = [s.fitness[0] for s in pool]
                    row = {"problem": task.problem.id, "variant": variant, "temperature": temp,
                           "parent": round(task.view.fitness, 4),
                           "beat": sum(f > task.view.fitness + 1e-9 for f in fits),
                           "zero": sum(f == 0 for f in fits), "best": round(max(fits), 4),
                           "n": len(fits), "seconds": round(time.monotonic() - t0, 1)}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    out = {"command": " ".join(["python", "benchmarks/one_step_gain.py", *sys.argv[1:]]),
           "model": args.model, "rows": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
