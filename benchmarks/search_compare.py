"""Paired comparisons of search-efficiency arms across result files (one file per seed when each
seed ran with its own adapters, as issue 12's trained mutators do).

    python benchmarks/search_compare.py benchmarks/results/search_trained_mutators_s{0,1,2}.json \
        --pair evolve_m3@vpo:evolve_m3 --pair evolve_m1@grpo:evolve_m1 [--problems id,id] [--name NAME]

Per pair: problems solved by each arm over all (problem, seed) cells, and the mean best-fitness
difference A - B with its 95% bootstrap interval (problems and seeds resampled independently,
paired by cell: benchmarks/vpo_bench/stats.py).  With --name, also benchmarks/results/NAME.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.vpo_bench.stats import paired_difference_ci  # noqa: E402


def cells(paths: list[Path], problems: set[str] | None = None) -> dict[str, dict[tuple[str, str], tuple[float, bool]]]:
    """arm -> (problem, seed) -> (best fitness, solved) from the files' per-problem figures (only
    `problems`' when given)."""
    out: dict[str, dict[tuple[str, str], tuple[float, bool]]] = {}
    for path in paths:
        data = json.loads(path.read_text())
        for arm, a in data["arms"].items():
            for problem, per_seed in a["per_problem"].items():
                if problems is not None and problem not in problems:
                    continue
                for seed, (best, answers_to_solve) in per_seed.items():
                    if (problem, seed) in out.setdefault(arm, {}):
                        raise SystemExit(f"{path}: {arm} {problem} seed {seed} is in two files")
                    out[arm][(problem, seed)] = (float(best), answers_to_solve is not None)
    return out


def compare(table: dict, a: str, b: str) -> dict:
    for arm in (a, b):
        if arm not in table:
            raise SystemExit(f"--pair: no arm {arm!r} in the files; arms: {', '.join(table)}")
    if set(table[a]) != set(table[b]):
        raise SystemExit(f"--pair {a}:{b}: the arms ran different (problem, seed) cells")
    problems = sorted({p for p, _ in table[a]})
    seeds = sorted({s for _, s in table[a]}, key=int)
    missing = [f"{p} seed {s}" for p in problems for s in seeds if (p, s) not in table[a]]
    if missing:  # the crossed bootstrap resamples problems and seeds: it needs every pair
        raise SystemExit(f"--pair {a}:{b}: the cells are not a full problems x seeds grid; missing "
                         f"{', '.join(missing)} (leave their problem out with --problems)")
    grid = {arm: np.array([[table[arm][(p, s)][0] for s in seeds] for p in problems]) for arm in (a, b)}
    ci = paired_difference_ci(grid[a], grid[b])
    return {"a": a, "b": b, "problems": len(problems), "seeds": seeds,
            "solved": {arm: sum(solved for _, solved in table[arm].values()) for arm in (a, b)},
            "mean_best": {arm: float(grid[arm].mean()) for arm in (a, b)},
            "best_difference": ci}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", nargs="+", type=Path)
    p.add_argument("--pair", action="append", required=True, help="ARM_A:ARM_B")
    p.add_argument("--problems", help="only these problems' cells (comma-separated ids)")
    p.add_argument("--name")
    a = p.parse_args()
    table = cells(a.results, set(a.problems.split(",")) if a.problems else None)
    out = []
    for pair in a.pair:
        if pair.count(":") != 1:
            raise SystemExit(f"--pair {pair!r}: expected ARM_A:ARM_B")
        r = compare(table, *pair.split(":"))
        d = r["best_difference"]
        print(f"{r['a']} - {r['b']} ({r['problems']} problems x {len(r['seeds'])} seeds): solved "
              f"{r['solved'][r['a']]} vs {r['solved'][r['b']]}; mean best {r['mean_best'][r['a']]:.3f} vs "
              f"{r['mean_best'][r['b']]:.3f}, difference {d['mean']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]")
        out.append(r)
    if a.name:
        path = ROOT / "benchmarks" / "results" / f"{a.name}.json"
        path.write_text(json.dumps({"command": " ".join(["python", "benchmarks/search_compare.py", *sys.argv[1:]]),
                                    "comparisons": out}, indent=1))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
