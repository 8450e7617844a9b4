"""How close does the 0.5B mutator get to the field's published records in a few minutes?

For every problem of the `discovery` suite (or those named): seed a run with configs/cpu-small.yaml
(Qwen2.5-Coder-0.5B in process) plus the overrides below (frozen mutator), run it for
`--minutes` of active search, then re-evaluate the best program in the sandbox and express it in
the record's own terms: the raw value (sum of radii, C1, bins / L1, ...) and that value as a
fraction of the record (1.0 = the record; maximise: value / record, minimise: record / value),
next to the number of answers the mutator gave.

    nice -n 15 python benchmarks/discovery_records.py [--minutes 5] [--problems ID ...] \
        [--out benchmarks/results/discovery_records.json]

Needs the prepared model (`evolve model prepare qwen2.5-coder-0.5b`) and a sandbox with numpy
and scipy (`evolve sandbox build-image`).  Runs one problem after another; CPU-bound.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.evolve_cli import evolve  # noqa: E402
from benchmarks.search_bench.arms import deep_merge  # noqa: E402
from problems.loaders import load_problem, load_suite  # noqa: E402
from problems.model import Problem  # noqa: E402
from sandbox.api import Sandbox  # noqa: E402
from sandbox.config import SandboxConfig  # noqa: E402

BASE_CONFIG = ROOT / "configs" / "cpu-small.yaml"
# What fits a few minutes of a shared 2-core CPU (measured: one generate call of 8 completions
# x 1536 tokens took over 10 minutes here): two answers of up to 1024 tokens per completion,
# two prompts per call, and the mutator frozen (a learner step per batch would take the budget;
# online VPO pays off over long runs, not in five minutes).
OVERRIDES = {
    "loop": {"batch_size": 2, "iterations": 10_000, "stop_when_solved": False},
    "mutation": {"answers": 2, "sampling": {"max_tokens": 1024}},
    "trainer": None,
}


def raw_value(problem: Problem, scores: list[float]) -> float | None:
    """The record's quantity from the per-test scores (see each problem's statement)."""
    record = problem.record
    if record is None or not scores or min(scores) <= 0:
        return None
    if record.objective == "maximize":  # score = value / record (circle packing)
        return record.value * sum(scores) / len(scores)
    if "record" in problem.tests[0].instance:  # score = record / value (autocorrelation)
        return record.value / (sum(scores) / len(scores))
    return sum(1 / s for s in scores) / len(scores)  # score = bound / value, record is a mean ratio


def merged_config(path: Path, batch_size: int, answers: int) -> Path:
    cfg = deep_merge(yaml.safe_load(BASE_CONFIG.read_text()), OVERRIDES)
    cfg = deep_merge(cfg, {"loop": {"batch_size": batch_size}, "mutation": {"answers": answers}})
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def run_one(problem: Problem, minutes: float, work: Path, config: Path, box: Sandbox,
            batch_size: int, answers: int) -> dict:
    run_dir = work / problem.id.replace("/", "-")
    start = time.monotonic()
    evolve("seed", problem.id, "--run", str(run_dir), "--config", str(config))
    evolve("run", str(run_dir), "--minutes", str(minutes), timeout=minutes * 60 + 1800)
    wall = time.monotonic() - start
    status = json.loads(evolve("status", str(run_dir), "--json"))
    best_file = work / f"{run_dir.name}.best.py"  # never inside the run: evolve refuses that
    evolve("archive", "best", str(run_dir), "--export", str(best_file))
    best = box.evaluate(problem, best_file.read_text())
    initial = box.evaluate(problem, problem.initial_program)
    value, start_value = raw_value(problem, best.scores), raw_value(problem, initial.scores)
    record = problem.record
    return {
        "problem": problem.id, "minutes": minutes, "batch_size": batch_size, "answers_per_completion": answers,
        "record": record.model_dump() if record else None,
        "answers": status["children"] + status["duplicates"] + status["rejected_answers"],
        "children": status["children"], "duplicates": status["duplicates"],
        "rejected_answers": status["rejected_answers"], "iterations": status["iterations"],
        "model_version": status["model_version"], "search_s": status["elapsed_s"], "wall_s": round(wall, 1),
        "initial_fitness": round(initial.fitness, 4), "best_fitness": round(best.fitness, 4),
        "initial_value": start_value, "best_value": value,
        "initial_fraction_of_record": round(record.fraction(start_value), 4) if record and start_value else None,
        "best_fraction_of_record": round(record.fraction(value), 4) if record and value else None,
        "best_program_seq": status["best_seq"],
    }


def _kept_rows(out: Path, rerun: set[str]) -> list[dict]:
    """Rows of an earlier report for problems not run again (a rerun of one problem keeps the rest)."""
    try:
        return [r for r in json.loads(out.read_text())["runs"] if r["problem"] not in rerun]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=5.0, help="active search time per problem")
    p.add_argument("--problems", nargs="*", help="problem ids (default: the discovery suite)")
    p.add_argument("--batch-size", type=int, default=OVERRIDES["loop"]["batch_size"],
                   help="prompts per generate call (1 when one call of long answers would take the bound)")
    p.add_argument("--answers", type=int, default=OVERRIDES["mutation"]["answers"],
                   help="answers per completion (1 when two rewrites of the program overflow max_tokens)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "discovery_records.json")
    p.add_argument("--work", type=Path, default=None, help="run directories (default: a temp dir)")
    args = p.parse_args()

    problems = [load_problem(i) for i in args.problems] if args.problems else load_suite("discovery")
    work = args.work or Path(tempfile.mkdtemp(prefix="discovery-records-"))
    work.mkdir(parents=True, exist_ok=True)
    config = merged_config(work / "config.yaml", args.batch_size, args.answers)
    rows = _kept_rows(args.out, {p.id for p in problems})
    with Sandbox(SandboxConfig(slots=1)) as box:
        for problem in problems:
            print(f"[discovery] {problem.id}: {args.minutes} min", file=sys.stderr, flush=True)
            try:
                row = run_one(problem, args.minutes, work, config, box, args.batch_size, args.answers)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                row = {"problem": problem.id, "error": str(exc).splitlines()[0][:500]}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
            report = {"base_config": str(BASE_CONFIG.relative_to(ROOT)),
                      "overrides": OVERRIDES, "model": "qwen2.5-coder-0.5b", "runs": rows}
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=1) + "\n")  # after every problem: partial runs count
    for row in rows:
        if "error" in row:
            print(f"{row['problem']:36s} error: {row['error']}")
        else:
            frac = row["best_fraction_of_record"]
            print(f"{row['problem']:36s} best {row['best_value']!s:>22.22s} = {frac} of record "
                  f"{row['record']['value']} at {row['answers']} answers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
