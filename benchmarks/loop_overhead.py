"""Per-child bookkeeping cost of the search loop at 1k, 10k and 100k programs in the database.

Everything the loop does per child except the LLM and the sandbox: plan (parent selection,
inspirations, prompt fetch + build, persist), parse + apply the completion, and commit the child
with its rollout, cell and counters in its own transaction.  Parent sampling (strategy pick +
complementary inspirations on the island's in-memory pool) is also timed on its own.

    python benchmarks/loop_overhead.py [--sizes 1000 10000 100000] [--batches 6] [--db URL]

Targets (issue 4): < 5 ms per child at 10k programs; sampling at 100k within 2x of 1k.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evolve.config import RunConfig  # noqa: E402
from evolve.db import repo  # noqa: E402
from evolve.db.engine import open_database, sqlite_url  # noqa: E402
from evolve.db.models import Program  # noqa: E402
from evolve.loop import safe_mutate  # noqa: E402
from evolve.map_elites import Candidate  # noqa: E402
from evolve.mutations import render_answers  # noqa: E402
from evolve.mutator import Completion  # noqa: E402
from evolve.scored import Scored, code_hash  # noqa: E402
from evolve.search import Search  # noqa: E402
from evolve.selection import complementary  # noqa: E402
from problems.model import Problem  # noqa: E402
from sandbox.results import EvalResult  # noqa: E402

D, M, G, BATCH = 10, 3, 4, 4
INITIAL = "# EVOLVE-BLOCK-START\ndef solve(x):\n    return x\n# EVOLVE-BLOCK-END\n"


def problem() -> Problem:
    tests = [{"kind": "call", "id": f"t{i}", "args": [i], "expected": i * i} for i in range(D)]
    return Problem(id="bench/square", statement="Return x squared.", entry_point="solve",
                   initial_program=INITIAL, tests=tests)


def program_code(i: int) -> str:
    pad = "    # " + "x" * (i % 300) + "\n" if i % 3 else ""
    return f"# EVOLVE-BLOCK-START\ndef solve(x):\n{pad}    return x * {i} + {i % 97}\n# EVOLVE-BLOCK-END\n"


def fake_scores(rng: np.random.Generator) -> tuple[float, ...]:
    p = rng.uniform(0.1, 0.9)
    return tuple(float(x) for x in (rng.random(D) < p))


def populate(search: Search, n: int, rng: np.random.Generator) -> None:
    """Bulk-insert n programs (the pure archive decides the elites, as the loop would)."""
    rows, a, c = [], search.archive, search.counters
    k = a.n_islands
    for _ in range(n):
        seq, c.next_seq = c.next_seq, c.next_seq + 1
        code, scores = program_code(seq), fake_scores(rng)
        fit = sum(scores) / D
        desc = a.descriptor.values(code, scores, fit)
        h = code_hash(code)
        island = seq % k
        a.offer(island, Candidate(seq, fit, scores, desc, h))
        rows.append(dict(run_id=search.run_id, seq=seq, code=code, code_hash=h, parent_seq=island,
                         origin="child", island=island, generation=1, iteration=seq,
                         scores=list(scores), fitness=fit, descriptor=list(desc), failures=[],
                         error="", policy_version=0))
    with repo.transaction(search.factory) as s:
        for i in range(0, len(rows), 5000):
            s.execute(insert(Program), rows[i:i + 5000])
        search._persist_cells(s, None)
        search._save(s, binning=True)


def completion(rng: np.random.Generator, tag: int) -> Completion:
    bodies = [f"def solve(x):\n    y = x * {tag} + {j}\n    return y * x - {int(rng.integers(1e9))}\n"
              for j in range(M)]
    text = "Here are three different edits.\n\n" + render_answers(bodies)
    return Completion(text=text, token_ids=list(range(200)), logprobs=[-0.5] * 200,
                      prompt_token_ids=list(range(600)), finish_reason="stop", policy_version=0)


def bench(n: int, batches: int, url: str | None, tmp: Path) -> dict:
    rng = np.random.default_rng(0)
    cfg = RunConfig.model_validate({"mutation": {"answers": M, "completions": G},
                                    "loop": {"batch_size": BATCH}})
    engine = open_database(url or sqlite_url(tmp / f"bench{n}.db"))
    factory = repo.session_factory(engine)
    seed = EvalResult(outcomes=[], scores=[0.0] * D, fitness=0.0)
    search = Search.create(factory, f"bench{n}", problem(), cfg, seed)
    t = time.perf_counter()
    populate(search, n - search.counters.next_seq, rng)
    populate_s = time.perf_counter() - t
    t = time.perf_counter()
    search = Search.load(factory, f"bench{n}")  # what resume pays
    load_s = time.perf_counter() - t

    # parent sampling alone: pick + complementary inspirations on each island's pool
    srng = np.random.default_rng(1)
    picks = 2000
    t = time.perf_counter()
    for i in range(picks):
        pool = search.archive.grids[i % search.archive.n_islands].view()
        row = search.strategy.pick(pool, srng)
        complementary(pool, pool.scores[row], int(pool.seq[row]), cfg.selection.inspirations)
    sample_us = (time.perf_counter() - t) / picks * 1e6

    per_batch = []  # (plan, parse, commit) ms per child of each batch; the median resists load spikes
    children = 0
    for b in range(batches):
        plan_s = parse_s = commit_s = 0.0
        n_before = children
        t = time.perf_counter()
        plan = search.plan_batch(BATCH)
        plan_s += time.perf_counter() - t
        for p in plan.prompts:
            for j in range(G):
                comp = completion(rng, b * 1000 + p.iteration * 10 + j)
                t = time.perf_counter()
                outcome = safe_mutate(p.parent.code, comp.text, M)
                parse_s += time.perf_counter() - t
                evals = {code_hash(ch.code): Scored(fake_scores(rng), 0.5) for ch in outcome.children}
                t = time.perf_counter()
                search.commit_completion(p, j, comp, outcome, evals)
                commit_s += time.perf_counter() - t
                children += len(outcome.children)
        t = time.perf_counter()
        search.complete_batch(plan)
        commit_s += time.perf_counter() - t
        k = (children - n_before) / 1000
        per_batch.append((plan_s / k, parse_s / k, commit_s / k))
    engine.dispose()
    med = np.median(np.array(per_batch), axis=0)
    totals = sorted(sum(x) for x in per_batch)
    elites = sum(len(g) for g in search.archive.grids)
    return {"programs": n, "elites": elites, "populate_s": populate_s, "load_s": load_s,
            "sample_us": sample_us, "plan_ms": med[0], "parse_ms": med[1], "commit_ms": med[2],
            "total_ms": float(np.median(totals)), "best_ms": totals[0], "children": children}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--batches", type=int, default=12)
    ap.add_argument("--db", help="database URL (default: a fresh SQLite file per size)")
    args = ap.parse_args()
    rows = []
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            r = bench(n, args.batches, args.db, Path(tmp))
            rows.append(r)
            print(f"{r['programs']:>7} programs ({r['elites']} elites): per child (median of "
                  f"batches) {r['total_ms']:.2f} ms (best batch {r['best_ms']:.2f}) = plan {r['plan_ms']:.2f} + parse {r['parse_ms']:.2f} "
                  f"+ commit {r['commit_ms']:.2f}; parent sampling {r['sample_us']:.0f} us; "
                  f"load {r['load_s']:.2f} s (populate {r['populate_s']:.1f} s)", flush=True)
    base = rows[0]["sample_us"]
    for r in rows[1:]:
        print(f"sampling at {r['programs']} / at {rows[0]['programs']}: {r['sample_us'] / base:.2f}x")
    ten = [r for r in rows if r["programs"] == 10_000]
    if ten:
        ok = ten[0]["total_ms"] < 5.0
        print(f"target < 5 ms/child at 10k: {'met' if ok else 'MISSED'} ({ten[0]['total_ms']:.2f} ms)")


if __name__ == "__main__":
    main()
