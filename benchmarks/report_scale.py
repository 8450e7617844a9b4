"""`evolve report` on a 100k-program run: wall time, peak memory and HTML size.

Builds a synthetic but schema-valid run database through the real ORM models (migrated by
`open_database`) with the row sizes of a real run: programs with ~1 kB of code, rollouts with
their completion text, prompt and completion token ids and log-probs, per-slot answer statuses,
batches with accounting stats, train events with learner metrics, migrations.  The archive is
the real one (`evolve.islands.Archive` with the configured descriptor), so the cells and binning
are what a run would store.  Then it times `evolve report RUN -o FILE` in a subprocess.

    python benchmarks/report_scale.py [--programs 100000] [--keep DIR] [--json OUT]

Target (issue 13): under 10 s and under 20 MB at 100k programs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evolve.config import RunConfig  # noqa: E402
from evolve.db import repo  # noqa: E402
from evolve.db.engine import open_database, sqlite_url  # noqa: E402
from evolve.db.models import Batch, Cell, Event, Program, PromptRow, Rollout, Run  # noqa: E402
from evolve.islands import Archive  # noqa: E402
from evolve.map_elites import Candidate, Descriptor, TestLayout  # noqa: E402
from problems.model import Problem  # noqa: E402

D, M, G, BATCH, ISLANDS = 20, 3, 4, 4, 4
PROMPT_TOKENS, COMPLETION_TOKENS = 512, 256
MIGRATE_EVERY, TRAIN_EVERY_BATCHES = 40, 2
SLOT_P = {"child": 0.36, "known": 0.2, "rejected": 0.08, "inapplicable": 0.12, "malformed": 0.1,
          "missing": 0.08, "duplicate": 0.03, "unchanged": 0.03}
INITIAL = ("import math\n\n# EVOLVE-BLOCK-START\ndef solve(x):\n    acc = 0\n    for i in range(x):\n"
           "        acc += i\n    return acc\n# EVOLVE-BLOCK-END\n")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
RESULT = ROOT / "benchmarks" / "results" / "report_scale.json"


def problem() -> Problem:
    tests = [{"kind": "call", "id": f"case_{i:02d}", "args": [i], "expected": i * (i - 1) // 2,
              "hidden": i % 4 == 3} for i in range(D)]
    return Problem(id="bench/triangle", statement="Return the sum of 0..x-1.", entry_point="solve",
                   initial_program=INITIAL, tests=tests)


def config(iterations: int) -> RunConfig:
    return RunConfig.model_validate({
        "islands": {"count": ISLANDS, "migration_interval": MIGRATE_EVERY},
        "mutation": {"answers": M, "completions": G},
        "loop": {"batch_size": BATCH, "iterations": iterations},
        "trainer": {"lora": {"r": 16, "alpha": 32}, "online": {"every_groups": BATCH * TRAIN_EVERY_BATCHES,
                                                               "reward": "new_programs"}},
    })


def child_code(parent: str, rng: np.random.Generator) -> str:
    """The parent with one line of its EVOLVE-BLOCK changed or added."""
    lines = parent.split("\n")
    start, end = lines.index("# EVOLVE-BLOCK-START") + 2, lines.index("# EVOLVE-BLOCK-END") - 1
    new = f"        acc += i * {int(rng.integers(1000))} % {int(rng.integers(2, 97))}  # tweak {int(rng.integers(1 << 30))}"
    k = int(rng.integers(start, max(start + 1, end)))
    if end - start > 40 or rng.random() < 0.4:
        lines[k] = new
    else:
        lines.insert(k, new)
    return "\n".join(lines)


def train_metrics(version: int, rng: np.random.Generator) -> dict[str, float]:
    keys = ("loss", "pg_loss", "kl", "entropy", "clip_frac_low", "clip_frac_high", "ratio_mean",
            "grad_norm", "lr", "trained_tokens", "step_time_s", "tokens_per_s", "policy_lag_mean",
            "num_groups", "answers", "parse_failure_rate", "set_reward", "reward_mean",
            "reward_diversity", "zero_std_frac", "adv_mean", "adv_std", "adv_min", "adv_max",
            "completion_len_mean", "scalar_mean")
    out = {k: float(rng.normal(0.5, 0.2)) for k in keys}
    out.update(policy_version=version, updated=True, optimizer_steps=1,
               set_reward=0.3 + 0.4 * (1 - np.exp(-version / 300)) + 0.03 * rng.normal())
    return out


class Builder:
    """Writes one synthetic run, batch by batch, in chunks of ORM bulk inserts."""

    def __init__(self, run_dir: Path, programs: int, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.run_dir, self.target = run_dir, programs
        self.problem = problem()
        self.cfg = config(iterations=programs)  # a budget the run does not reach
        layout = TestLayout(tuple(self.problem.test_ids()), tuple(t.stage for t in self.problem.tests))
        self.archive = Archive(Descriptor(self.cfg.map_elites.dimensions, layout, INITIAL), ISLANDS, D)
        self.url = sqlite_url(run_dir / "evolve.db")
        self.engine = open_database(self.url)
        self.run_id = hashlib.sha256(f"bench{seed}".encode()).hexdigest()[:32]
        self.rows: dict[type, list[dict]] = {t: [] for t in (PromptRow, Rollout, Program, Batch, Event)}
        self.progs: list[tuple[str, np.ndarray, int]] = []  # seq -> (code, scores, generation)
        self.recent: list[list[int]] = [[] for _ in range(ISLANDS)]
        self.born: list[int | None] = []  # seq -> iteration
        self.ids = {"prompt": 0, "rollout": 0}
        self.version, self.iteration, self.children, self.known = 0, 0, 0, 0
        self.tokens = self.rng.integers(0, 150_000, PROMPT_TOKENS + COMPLETION_TOKENS).tolist()
        self.logprobs = [round(float(v), 6) for v in -self.rng.exponential(0.7, COMPLETION_TOKENS)]

    def _add(self, island: int, code: str, scores: np.ndarray, origin: str, parent: int | None,
             generation: int, **row) -> int:
        seq = len(self.progs)
        fit = float(scores.mean())
        h = hashlib.sha256(code.encode()).hexdigest()
        desc = self.archive.descriptor.values(code, scores, fit)
        # bulk inserts take their columns from the first row: every row names every column
        row = {"iteration": None, "policy_version": 0, "prompt_id": None, "rollout_id": None,
               "slot": None, **row}
        self.archive.offer(island, Candidate(seq, fit, tuple(scores), desc, h))
        self.rows[Program].append(dict(
            run_id=self.run_id, seq=seq, code=code, code_hash=h, parent_seq=parent, origin=origin,
            island=island, generation=generation, scores=[float(x) for x in scores], fitness=fit,
            descriptor=list(desc), failures=[[f"case_{i:02d}", "failed", "expected 45, got 44"]
                                             for i in np.flatnonzero(scores < 1)[:5]],
            error="", **row))
        self.progs.append((code, scores, generation))
        self.born.append(row.get("iteration"))
        self.recent[island] = (self.recent[island] + [seq])[-200:]
        return seq

    def build(self) -> None:
        with repo.transaction(repo.session_factory(self.engine)) as s:
            s.add(Run(id=self.run_id, problem_id=self.problem.id, problem=self.problem.model_dump(mode="json"),
                      config=self.cfg.snapshot(), seed=0, status="running", rng_state="{}", counters={},
                      binning=[], budget={"iterations": self.target}, created_at=T0))
        seed_scores = (np.arange(D) < 3).astype(float)
        for island in range(ISLANDS):
            self._add(island, INITIAL, seed_scores, "seed", None, 0)
        batch, t = 0, T0
        while len(self.progs) < self.target:
            t = self._batch(batch, t)
            batch += 1
            if batch % 200 == 0:
                self._flush()
        self._flush()
        self._finish(batch, t)

    def _batch(self, index: int, t: datetime) -> datetime:
        made = known = usable = 0
        for j in range(BATCH):
            island, it = self.iteration % ISLANDS, self.iteration
            parent = int(self.rng.choice(self.recent[island]))
            pid = self.ids["prompt"] = self.ids["prompt"] + 1
            self.rows[PromptRow].append(dict(
                id=pid, run_id=self.run_id, batch_index=index, iteration=it, island=island,
                parent_seq=parent, inspirations=[int(self.rng.choice(self.recent[island]))],
                system="You improve programs. " * 30, user=self.progs[parent][0] * 3, created_at=t))
            for c in range(G):
                made_c, known_c, usable_c = self._rollout(pid, it, island, parent, c, t)
                made, known, usable = made + made_c, known + known_c, usable + usable_c
            self.iteration += 1
            if self.iteration % MIGRATE_EVERY == 0:
                self._migrate(index, t)
        gen_s, eval_s = float(self.rng.uniform(40, 80)), float(self.rng.uniform(5, 20))
        learn_s = 0.0
        if (index + 1) % TRAIN_EVERY_BATCHES == 0:
            learn_s = float(self.rng.uniform(30, 60))
            self.version += 1
            self.rows[Event].append(dict(run_id=self.run_id, kind="train", batch_index=index, created_at=t,
                                         detail={"version": self.version, "updated": True, "groups": 8,
                                                 "rollouts": 32, "reward": "new_programs", "adapter": None,
                                                 "metrics": train_metrics(self.version, self.rng)}))
        done = t + timedelta(seconds=gen_s + eval_s + learn_s)
        answers = BATCH * G * M
        self.rows[Batch].append(dict(
            run_id=self.run_id, batch_index=index, status="done", rng_before="{}", rng_after="{}",
            sample_seed=index, created_at=t, done_at=done, stats={
                "prompt_tokens": BATCH * PROMPT_TOKENS, "completion_tokens": BATCH * G * COMPLETION_TOKENS,
                "sampled_tokens": BATCH * G * (COMPLETION_TOKENS - 12), "answers": answers,
                "usable": usable, "new_programs": made, "known": known, "generate_s": gen_s,
                "evaluate_s": eval_s, "learn_s": learn_s}))
        return done

    def _rollout(self, pid: int, it: int, island: int, parent: int, c: int, t: datetime) -> tuple[int, int, int]:
        rid = self.ids["rollout"] = self.ids["rollout"] + 1
        slots, rewards, valid, keys = {}, [], [], []
        made = known = 0
        for k in range(1, M + 1):
            status = str(self.rng.choice(list(SLOT_P), p=list(SLOT_P.values())))
            row = [0.0] * D
            if status == "child" and len(self.progs) < self.target:
                code, scores, gen = self.progs[parent]
                flip = self.rng.random(D)
                new = np.where(flip < 0.04, 1.0, np.where(flip > 0.97, 0.0, scores))
                seq = self._add(island, child_code(code, self.rng), new, "child", parent, gen + 1,
                                iteration=it, policy_version=self.version, prompt_id=pid, rollout_id=rid, slot=k)
                slots[str(k)] = {"status": "child", "seq": seq, "placed": True, "kind": "rewrite"}
                row, made = [float(x) for x in new], made + 1
                self.children += 1
            elif status in ("child", "known"):
                slots[str(k)] = {"status": "known", "seq": parent}
                row, known = [float(x) for x in self.progs[parent][1]], known + 1
                self.known += 1
            else:
                slots[str(k)] = {"status": status, "reason": f"answer {k}: {status} (synthetic)"}
            rewards.append(row)
            valid.append(slots[str(k)]["status"] in ("child", "known"))
            keys.append(hashlib.sha256(f"{rid}:{k}".encode()).hexdigest() if valid[-1] else "")
        trunc = bool(self.rng.random() < 0.05)
        self.rows[Rollout].append(dict(
            id=rid, run_id=self.run_id, prompt_id=pid, iteration=it, island=island,
            group_id=f"{self.run_id}:{it}", completion_index=c, text="### Answer 1\n```python\n" + "x = 1\n" * 180,
            prompt_token_ids=self.tokens[:PROMPT_TOKENS], token_ids=self.tokens[PROMPT_TOKENS:],
            logprobs=self.logprobs, finish_reason="length" if trunc else "stop", truncated=trunc,
            policy_version=self.version, rewards=rewards, valid=valid, answer_keys=keys, consumed=True,
            answers={"slots": slots, "extra": [], "summary": f"from #{parent}: " + "answer summary " * 20},
            created_at=t))
        return made, known, made + known

    def _migrate(self, index: int, t: datetime) -> None:
        moved = []
        for src in range(ISLANDS):
            best = self.archive.grids[src].best()
            if best is None or len(self.progs) >= self.target:
                continue
            dst = (src + 1) % ISLANDS
            code, scores, gen = self.progs[best.seq]
            if self.archive.known(dst, best.code_hash) is not None:  # as evolve.search._copy
                continue
            seq = self._add(dst, code, scores, "migrant", best.seq, gen, iteration=self.born[best.seq])
            moved.append([best.seq, dst, seq, True])
        self.rows[Event].append(dict(run_id=self.run_id, kind="migration", batch_index=index,
                                     detail={"moved": moved}, created_at=t))

    def _flush(self) -> None:
        with self.engine.begin() as conn:
            for table in (PromptRow, Rollout, Program, Batch, Event):
                if self.rows[table]:
                    conn.execute(insert(table), self.rows[table])
                    self.rows[table] = []

    def _finish(self, batches: int, t: datetime) -> None:
        cells = [dict(run_id=self.run_id, island=i, cell_key=",".join(map(str, k)), program_seq=c.seq,
                      fitness=c.fitness, arrival=a) for i, g in enumerate(self.archive.grids) for k, c, a in g]
        best = max(range(len(self.progs)), key=lambda q: (self.progs[q][1].mean(), -q))
        counters = {"next_seq": len(self.progs), "batches_planned": batches, "batches_done": batches,
                    "iterations_planned": self.iteration, "iterations_done": self.iteration,
                    "children": self.children, "duplicates": self.known, "rejected": 0,
                    "evaluations": len(self.progs), "elapsed_s": (t - T0).total_seconds(),
                    "best_seq": best, "best_fitness": float(self.progs[best][1].mean()), "solved_seq": None,
                    "seeds": list(range(ISLANDS)), "arrival": self.archive.arrival}
        with self.engine.begin() as conn:
            conn.execute(insert(Cell), cells)
            conn.execute(Run.__table__.update().where(Run.id == self.run_id).values(
                status="finished", stop_reason="time budget reached", counters=counters,
                binning=self.archive.descriptor.state(), policy_version=self.version, updated_at=t))
        self.engine.dispose()
        (self.run_dir / "run.json").write_text(json.dumps({"run_id": self.run_id, "database_url": self.url}))


def build(run_dir: Path, programs: int, seed: int = 0) -> Path:
    """A synthetic run of `programs` programs in `run_dir` (created); returns run_dir."""
    run_dir.mkdir(parents=True, exist_ok=True)
    Builder(run_dir, programs, seed).build()
    return run_dir


# `evolve report` that prints its peak RSS (VmHWM: this process image only; getrusage's maxrss
# would include the memory of the builder process it was forked from)
_REPORT = """import sys
from evolve.cli import main
try:
    main()
finally:
    hwm = [x for x in open('/proc/self/status') if x.startswith('VmHWM')]
    print(hwm[0].split()[1] if hwm else '0', file=sys.stderr)
"""


def time_report(run_dir: Path, out: Path) -> dict:
    """Wall time, CPU time and peak RSS of `evolve report` in its own process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _REPORT, "report", str(run_dir), "-o", str(out)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"evolve report failed:\n{stdout}\n{stderr}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(int(stderr.split()[-1]) / 1024, 1),
            "html_mb": round(out.stat().st_size / 1e6, 3), "stdout": stdout.strip()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--programs", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="build the run here and keep it (reused if present)")
    ap.add_argument("--json", type=Path, default=RESULT)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="report-scale-") as tmp:
        run_dir = args.keep or Path(tmp) / "run"
        t0 = time.perf_counter()
        if not (run_dir / "run.json").exists():
            build(run_dir, args.programs)
        build_s = time.perf_counter() - t0
        res = time_report(run_dir, Path(tmp) / "report.html")
        db = run_dir / "evolve.db"
        result = {
            "programs": args.programs, "db_mb": round(db.stat().st_size / 1e6, 1),
            "build_s": round(build_s, 1), **res, "targets": {"wall_s": 10, "html_mb": 20},
            "ok": res["wall_s"] < 10 and res["html_mb"] < 20,
            "machine": f"{platform.machine()}, {os.cpu_count()} cpus, python {platform.python_version()}",
            "load_avg_1min": round(os.getloadavg()[0], 2),
        }
    print(json.dumps(result, indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
