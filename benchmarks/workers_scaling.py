"""Children per second with 1, 2, 4 and 8 `evolve worker` processes on one PostgreSQL run.

The mutator is the scripted test mutator with a fixed generation delay standing in for the LLM
(SCRIPTED_DELAY_S per generate call), the problem the cheap fizz toy, the sandbox the process
(bubblewrap) backend with one slot per worker.  Each worker count gets its own database and the
same work: a run of `--iterations` prompts from the same seed (the toy's program space is small,
so a longer run yields fewer new children per prompt: equal budgets keep the yield comparable),
timed from the first batch planned to the last batch completed (database timestamps: process
start-up excluded).  Per batch the
workers record generate_s, evaluate_s and their wait for / time holding the run's row lock
(lock_wait_s, locked_s), which says what a flattening curve is waiting on: the database (lock
wait grows), the sandbox / CPU (evaluate_s grows), or neither.

    nice -n 15 python benchmarks/workers_scaling.py [--workers 1 2 4 8] [--delay 2.0]
Writes benchmarks/results/workers_scaling.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from evolve.db import repo  # noqa: E402
from evolve.db.models import Batch, Run  # noqa: E402
from evolve.runs import seed  # noqa: E402
from tests.distributed_support import factory, spawn, stop_all, wait_for  # noqa: E402
from tests.evolve_support import problem_dir, write_config  # noqa: E402
from tests.fixtures.postgres import start_postgres  # noqa: E402

PLUGIN = "tests.scripted_mutator:factory"


def one(server, n: int, args, tmp: Path) -> dict:
    url = server.new_database()
    cfg = write_config(tmp / f"w{n}.yaml", {
        "islands": {"count": 4, "migration_interval": 16, "reset_interval": 0},
        "mutation": {"answers": 2, "completions": 2},
        "loop": {"batch_size": 2, "iterations": args.iterations,
                 "stop_when_solved": False, "seed": 5},
        "sandbox": {"backend": "process", "slots": 1},
        "workers": {"heartbeat_s": 2.0, "grace_s": 60.0, "poll_s": 0.5},
    }, url=url)
    run_id = seed(str(problem_dir(tmp)), tmp / f"run{n}", cfg).run_id
    fac = factory(url)
    logs = [tmp / f"n{n}_w{i}.log" for i in range(n)]
    load0 = os.getloadavg()
    procs = [spawn("worker", "--db", url, "--run", run_id, "--mutator-plugin", PLUGIN, log=logs[i],
                   env={"SCRIPTED_DELAY_S": str(args.delay)}) for i in range(n)]
    loads = []
    try:
        def done() -> bool:
            loads.append(os.getloadavg()[0])
            return all(p.poll() is not None for p in procs)
        wait_for(f"{n} workers", done, 3600, procs, logs)
        assert all(p.returncode == 0 for p in procs), [lg.read_text()[-1500:] for lg in logs]
    finally:
        stop_all(procs)
    with repo.transaction(fac) as s:
        batches = list(s.scalars(select(Batch).where(Batch.run_id == run_id)))
        counters = s.scalar(select(Run.counters).where(Run.id == run_id))
    wall = (max(b.done_at for b in batches) - min(b.created_at for b in batches)).total_seconds()
    mean = lambda key: round(statistics.fmean(b.stats.get(key) or 0.0 for b in batches), 3)  # noqa: E731
    return {
        "workers": n, "batches": len(batches), "iterations": counters["iterations_done"],
        "children": counters["children"], "evaluations": counters["evaluations"],
        "completions_per_s": round(sum(b.stats["completions"] for b in batches) / wall, 3),
        "wall_s": round(wall, 2), "children_per_s": round(counters["children"] / wall, 3),
        "batches_per_s": round(len(batches) / wall, 3),
        "per_batch": {k: mean(k) for k in ("generate_s", "evaluate_s", "lock_wait_s", "locked_s")},
        "workers_distinct": len({b.worker_id for b in batches}),
        "loadavg_before": round(load0[0], 2), "loadavg_max_during": round(max(loads), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--delay", type=float, default=2.0, help="seconds per generate call (the stand-in LLM)")
    ap.add_argument("--iterations", type=int, default=128, help="prompts per run (2 per batch)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/workers_scaling.json")
    args = ap.parse_args()
    server = start_postgres()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="workers-scaling-") as tmp:
            for n in args.workers:
                row = one(server, n, args, Path(tmp))
                rows.append(row)
                print(json.dumps(row), flush=True)
    finally:
        server.stop()
    base = rows[0]["children_per_s"] / rows[0]["workers"]
    for r in rows:
        r["speedup"] = round(r["children_per_s"] / rows[0]["children_per_s"], 2)
        r["efficiency"] = round(r["children_per_s"] / (base * r["workers"]), 2)
    out = {"delay_s": args.delay, "iterations": args.iterations, "cpus": os.cpu_count(),
           "niceness": os.nice(0), "problem": "test/fizz (tests/scripted_mutator.py)",
           "sandbox": "process (bubblewrap), 1 slot per worker", "time": time.strftime("%FT%T"),
           "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
