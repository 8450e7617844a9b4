"""What the first N answers of benchmark cells yielded, side by side: for comparing a change
against cells made before it at equal answers, when the new cells were stopped early (a
discovery cell takes 40+ minutes on a 2-core CPU).

Per cell, over its first N answers (whole prompts of batch_size 1: completions x m answers
each): answers, usable answers, re-found programs, new programs and how many of them
scored 0 or ran (fitness > 0), the best fitness, sampled and discarded tokens, generation time.

    python benchmarks/search_bench/answers_at.py N CELL_DIR [CELL_DIR ...] [--name NAME]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from evolve.accounting import stats_of  # noqa: E402
from evolve.db import repo  # noqa: E402
from evolve.db.models import Batch, Program, Run  # noqa: E402
from evolve.runs import open_run  # noqa: E402


def answers_at(cell: Path, n: int) -> dict[str, Any]:
    r = open_run(cell)
    try:
        with repo.transaction(r.factory) as s:
            cfg = s.execute(select(Run.config).where(Run.id == r.run_id)).scalar_one()
            per_prompt = cfg["mutation"]["completions"] * cfg["mutation"]["answers"]
            if cfg["loop"].get("batch_size", 1) != 1 or n % per_prompt:
                raise SystemExit(f"{cell}: N must be whole prompts ({per_prompt} answers) of batch_size 1")
            prompts = n // per_prompt
            stats = [stats_of(i, raw) for i, raw in s.execute(
                select(Batch.batch_index, Batch.stats).where(
                    Batch.run_id == r.run_id, Batch.stats.is_not(None), Batch.batch_index < prompts))]
            kids = select(Program).where(Program.run_id == r.run_id, Program.origin == "child",
                                         Program.iteration < prompts).subquery()
            new, zero, ran, best = s.execute(select(
                func.count(), func.count().filter(kids.c.fitness == 0), func.count().filter(kids.c.fitness > 0),
                func.max(kids.c.fitness))).one()
    finally:
        r.engine.dispose()
    total = lambda k: sum(getattr(st, k) or 0.0 for st in stats)  # noqa: E731
    return {"cell": str(cell), "answers": total("answers"), "usable": total("usable"),
            "known": total("known"), "new_programs": new, "scored_zero": zero or 0, "ran": ran or 0,
            "best_child_fitness": best, "sampled_tokens": total("sampled_tokens"),
            "discarded_tokens": total("discarded_tokens"), "generate_s": round(total("generate_s"), 1),
            "complete": len(stats) == prompts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("cells", nargs="+", type=Path)
    ap.add_argument("--name")
    a = ap.parse_args()
    rows = [answers_at(c, a.n) for c in a.cells]
    for row in rows:
        print(json.dumps(row))
    if a.name:
        out = ROOT / "benchmarks" / "results" / f"{a.name}.json"
        out.write_text(json.dumps({"command": " ".join(sys.argv), "n": a.n, "cells": rows}, indent=1))
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
