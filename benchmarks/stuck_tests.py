"""Where do searches get stuck?  For every run under WORK (e.g. a search_efficiency work dir):
the search tests its best program still fails, and whether prompts may show them (`hidden`
tests reach fitness but never a prompt, so the search's feedback cannot point at them).

    python benchmarks/stuck_tests.py /var/tmp/vpo-se-conv [--name stuck_tests_conv]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"


def stuck(run_dir: Path) -> dict:
    """The run's best program (earliest among equals) and its failing search tests."""
    from evolve.db import repo
    from evolve.map_elites import PASS_SCORE
    from evolve.rundir import open_run
    from problems.model import Problem

    r = open_run(run_dir)
    try:
        with repo.transaction(r.factory) as s:
            # the snapshot keeps held-out tests; scores cover the search tests only
            problem = Problem.model_validate(repo.get_run(s, r.run_id).problem).search_view()
            best = repo.list_programs(s, r.run_id, order="fitness", limit=1)[0]  # ties: earliest
    finally:
        r.close()
    failing = [t for t, x in zip(problem.tests, best.scores, strict=True) if x < PASS_SCORE]
    return {"run": str(run_dir), "problem": problem.id, "best_seq": best.seq,
            "best_fitness": round(best.fitness, 4), "failing": [t.id for t in failing],
            "failing_hidden": [t.id for t in failing if t.hidden]}


def summary(rows: list[dict]) -> dict:
    unsolved = [r for r in rows if r["failing"]]
    only_hidden = [r for r in unsolved if len(r["failing_hidden"]) == len(r["failing"])]
    some_hidden = [r for r in unsolved if r["failing_hidden"]]
    return {"runs": len(rows), "unsolved": len(unsolved), "fail_only_hidden": len(only_hidden),
            "fail_some_hidden": len(some_hidden)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("work", type=Path)
    ap.add_argument("--name", default="stuck_tests")
    args = ap.parse_args()
    rows = [stuck(p.parent) for p in sorted(args.work.rglob("run.json"))]
    out = {"command": " ".join(["python", "benchmarks/stuck_tests.py", *sys.argv[1:]]),
           "summary": summary(rows), "runs": rows}
    print(json.dumps(out["summary"]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
