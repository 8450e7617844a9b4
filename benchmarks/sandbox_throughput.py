"""Sandbox throughput: candidates/s and per-candidate overhead of four ways to run candidates.

On one 10-test function problem, N distinct candidates (default 200), one at a time:
- `bare subprocess`: a fresh `python3 -I -S` per candidate running all tests in-process
  (no isolation at all; the floor for "a process per candidate");
- `process backend`: the warm `process` pool (supervisor + jailed worker per candidate);
- `docker run --rm`: a fresh locked-down container per candidate running the same harness as
  the bare subprocess (what a naive Docker sandbox costs);
- `docker pool`: the warm `docker` pool (supervisor as PID 1 in a kept container).
Overhead = time per candidate minus the in-process cost of the same work (exec + 10 calls).
Every method must produce the same score vectors; the run fails if they differ.
Targets (issue 2): docker pool overhead <= 2x the process backend's, and >= 5x faster than
`docker run --rm`.
`--numpy` adds both pools again with candidates that `import numpy` (issue 15: what the
scientific stack costs each candidate, side by side with today's plain candidates; the
in-process floor is the same, numpy being already imported there).

    python benchmarks/sandbox_throughput.py [--candidates 200] [--docker-run-candidates N] [--numpy] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from problems.model import Problem  # noqa: E402
from sandbox.api import Sandbox  # noqa: E402
from sandbox.config import SandboxConfig  # noqa: E402
from sandbox.image import resolve_tag  # noqa: E402

TESTS = 10
HARNESS = """
import json, sys
job = json.loads(sys.stdin.read())
ns = {}
exec(compile(job["program"], "<candidate>", "exec"), ns)
fn = ns[job["entry"]]
scores = []
for args, expected in job["tests"]:
    try:
        scores.append(1.0 if fn(*args) == expected else 0.0)
    except Exception:
        scores.append(0.0)
print(json.dumps(scores))
"""


def make_problem(requirements: list[str] | None = None) -> Problem:
    tests = [{"kind": "call", "id": f"t{i}", "args": [i, i + 1], "expected": i * (i + 1) + 1} for i in range(TESTS)]
    return Problem(id="bench/mul-plus-one", entry_point="f", initial_program="def f(a, b):\n    return 0\n",
                   tests=tests, time_limit_s=5, wall_limit_s=30, requirements=requirements or [])


def make_candidates(n: int, prefix: str = "") -> list[str]:
    """Distinct programs (each after `prefix`); every 4th is wrong on odd inputs, so score
    vectors vary."""
    out = []
    for k in range(n):
        if k % 4 == 3:
            out.append(f"{prefix}def f(a, b):\n    base = {k}\n    return a * b + 1 if a % 2 == 0 else base\n")
        else:
            out.append(f"{prefix}def f(a, b):\n    base = {k}\n    return a * b + 1 + base - base\n")
    return out


def harness_input(problem: Problem, program: str) -> bytes:
    tests = [[t.args, t.expected] for t in problem.tests]
    return json.dumps({"program": program, "entry": problem.entry_point, "tests": tests}).encode()


def in_process(problem: Problem, programs: list[str]) -> tuple[list[list[float]], float]:
    """The work itself, no process: exec + 10 calls (what every method has to do anyway)."""
    scores = []
    start = time.perf_counter()
    for program in programs:
        ns: dict = {}
        exec(compile(program, "<candidate>", "exec"), ns)
        fn = ns[problem.entry_point]
        scores.append([1.0 if fn(*t.args) == t.expected else 0.0 for t in problem.tests])
    return scores, time.perf_counter() - start


def run_harness(cmd: list[str], problem: Problem, programs: list[str]) -> tuple[list[list[float]], float]:
    scores = []
    start = time.perf_counter()
    for program in programs:
        done = subprocess.run(cmd, input=harness_input(problem, program), capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
        scores.append(json.loads(done.stdout))
    return scores, time.perf_counter() - start


def docker_run_cmd(config: SandboxConfig) -> list[str]:
    """`docker run --rm` with the confinement the docker backend uses."""
    d = config.docker
    return ["docker", "run", "--rm", "-i", "--network", "none", "--read-only",
            "--tmpfs", f"/work:rw,size={d.tmpfs_mb}m,mode=1777", "--user", d.user, "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--memory", f"{d.memory_mb}m",
            "--memory-swap", f"{d.memory_mb}m", "--cpus", str(d.cpus), "--pids-limit", str(d.pids_limit),
            "--log-driver", "none", resolve_tag(d.image, config.requirements), "python3", "-I", "-S", "-c", HARNESS]


def run_pool(backend: str, problem: Problem, programs: list[str], config: SandboxConfig) -> tuple[list[list[float]], float]:
    slots = config.slots
    with Sandbox(config.model_copy(update={"backend": backend, "max_candidates_per_slot": 10_000})) as box:
        box.warm()  # a warm pool is the point: its start-up is paid once per run
        start = time.perf_counter()
        results = box.evaluate_many(problem, programs) if slots > 1 else [box.evaluate(problem, p) for p in programs]
        elapsed = time.perf_counter() - start
    bad = [r for r in results if r.error or any(o.status not in ("passed", "failed") for o in r.outcomes)]
    if bad:
        raise RuntimeError(f"{backend}: unexpected outcomes: {bad[0].outcomes[:2]} {bad[0].error}")
    return [r.scores for r in results], elapsed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--candidates", type=int, default=200)
    p.add_argument("--docker-run-candidates", type=int, default=None,
                   help="fewer for the slow `docker run --rm` method (default: --candidates)")
    p.add_argument("--slots", type=int, default=1, help="pool slots (1 = per-candidate latency)")
    p.add_argument("--skip-docker", action="store_true")
    p.add_argument("--numpy", action="store_true", help="also run both pools with candidates that import numpy")
    p.add_argument("--image", default=None, help="sandbox image tag (default: the configured one)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    config = SandboxConfig(slots=args.slots)
    if args.image:
        config = config.model_copy(update={"docker": config.docker.model_copy(update={"image": args.image})})
    problem = make_problem()
    programs = make_candidates(args.candidates)
    reference, base_s = in_process(problem, programs)
    base_ms = base_s / len(programs) * 1000
    methods = {
        "bare subprocess": lambda: run_harness([sys.executable, "-I", "-S", "-c", HARNESS], problem, programs),
        "process backend": lambda: run_pool("process", problem, programs, config),
    }
    if not args.skip_docker:
        n_run = args.docker_run_candidates or args.candidates
        methods["docker run --rm"] = lambda: run_harness(docker_run_cmd(config), problem, programs[:n_run])
        methods["docker pool"] = lambda: run_pool("docker", problem, programs, config)
    if args.numpy:
        np_problem, np_programs = make_problem(["numpy"]), make_candidates(args.candidates, "import numpy\n")
        methods["process backend + numpy"] = lambda: run_pool("process", np_problem, np_programs, config)
        if not args.skip_docker:
            methods["docker pool + numpy"] = lambda: run_pool("docker", np_problem, np_programs, config)

    rows = {}
    for name, method in methods.items():
        scores, elapsed = method()
        if scores != reference[: len(scores)]:
            raise SystemExit(f"{name}: score vectors differ from the in-process reference")
        per_ms = elapsed / len(scores) * 1000
        rows[name] = {"candidates": len(scores), "seconds": round(elapsed, 2),
                      "candidates_per_s": round(len(scores) / elapsed, 1),
                      "ms_per_candidate": round(per_ms, 1), "overhead_ms": round(per_ms - base_ms, 1)}
        print(f"{name:16s} {rows[name]}", file=sys.stderr, flush=True)

    verdict = {}
    if "docker pool" in rows:
        pool, proc, run = rows["docker pool"], rows["process backend"], rows["docker run --rm"]
        verdict = {
            "pool_overhead_vs_process": round(pool["overhead_ms"] / proc["overhead_ms"], 2),
            "pool_speedup_vs_docker_run": round(run["ms_per_candidate"] / pool["ms_per_candidate"], 1),
        }
        verdict["targets_met"] = (verdict["pool_overhead_vs_process"] <= 2.0
                                  and verdict["pool_speedup_vs_docker_run"] >= 5.0)
    if "docker pool + numpy" in rows:
        verdict["docker_pool_numpy_extra_ms"] = round(
            rows["docker pool + numpy"]["overhead_ms"] - rows["docker pool"]["overhead_ms"], 1)
    report = {"tests_per_candidate": TESTS, "slots": args.slots, "in_process_ms_per_candidate": round(base_ms, 3),
              "methods": rows, **verdict}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{'method':18s} {'cand/s':>8s} {'ms/cand':>9s} {'overhead ms':>12s}  (n)")
        for name, r in rows.items():
            print(f"{name:18s} {r['candidates_per_s']:8.1f} {r['ms_per_candidate']:9.1f} "
                  f"{r['overhead_ms']:12.1f}  ({r['candidates']})")
        for key, value in verdict.items():
            print(f"{key}: {value}")
    return 0 if verdict.get("targets_met", True) else 1


if __name__ == "__main__":
    sys.exit(main())
