"""The mutator side of the report: what became of the answers, the online learner's curves and
adapter versions, throughput and token/time accounting.

Reads the per-slot statuses of `rollouts.answers` (only the `slots` and `extra` parts: the summary
text is left in the database), `train` events (their `detail.metrics`, or `RUN_DIR/trainer.jsonl`
for steps that never reached the database as events), and `batches.stats` when the schema has it.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select

from evolve.db.models import Batch, Event, Program, PromptRow, Rollout
from evolve.report.data import stream
from evolve.report.models import AccountingData, AnswersData, TrainingData, TrainPoint
from evolve.report.timeline import Timeline, chunk_means

STATUSES = ("child", "known", "rejected", "unchanged", "duplicate", "inapplicable", "malformed",
            "missing", "empty", "extra", "unrecorded")
"""Slot statuses in plot order: usable first (a new child, a program the island holds), then
why an answer was unusable (evolve.search.commit_completion, evolve.mutations.IssueKind)."""
USABLE = ("child", "known")
STAT_KEYS = ("prompt_tokens", "completion_tokens", "sampled_tokens", "answers", "usable",
             "new_programs", "known", "generate_s", "evaluate_s", "learn_s")
TRAIN_POINTS = 300
MIN_SLOTS_PER_BIN = 24
TRAINER_JSONL = "trainer.jsonl"  # evolve.online.METRICS_FILE (not imported: it pulls in torch)


def answers(conn: Connection, run_id: str, tl: Timeline, m: int) -> AnswersData:
    """Slot statuses per bin of the timeline, counted from each rollout's `answers.slots`."""
    nb = max(tl.bins, 1)
    counts = {s: np.zeros(nb, np.int64) for s in STATUSES}
    totals: Counter[str] = Counter()
    extra = truncated = completions = 0
    q = select(Rollout.iteration, Rollout.answers["slots"], Rollout.answers["extra"],
               Rollout.truncated).where(Rollout.run_id == run_id)
    edges = [int(e) for e in tl.edges]
    for iteration, slots, more, trunc in stream(conn, q):
        b = max(0, min(bisect_right(edges, iteration) - 1, nb - 1))
        completions += 1
        truncated += bool(trunc)
        slots = slots or {}
        for k in range(1, m + 1):
            status = (slots.get(str(k)) or {}).get("status", "unrecorded")
            status = status if status in counts else "unrecorded"
            counts[status][b] += 1
            totals[status] += 1
        extra += len(more or [])
    # merge neighbouring bins until each holds about MIN_SLOTS_PER_BIN slots (shares of 4 slots are noise)
    group = max(1, -(-MIN_SLOTS_PER_BIN * tl.bins // max(sum(totals.values()), 1)))
    starts = list(range(0, tl.bins, group))
    ends = starts[1:] + [tl.bins] if starts else []
    xs = tl.x()
    merged = {s: [int(c[a:b].sum()) for a, b in zip(starts, ends)] for s, c in counts.items()}
    return AnswersData(x=[xs[e - 1] for e in ends], counts=merged,
                       totals={s: totals[s] for s in STATUSES if totals[s]}, extra=extra,
                       truncated=truncated, completions=completions)


def _minutes(t: datetime | None, t0: datetime | None) -> float | None:
    if t is None or t0 is None:
        return None
    t = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    t0 = t0 if t0.tzinfo else t0.replace(tzinfo=timezone.utc)
    return (t - t0).total_seconds() / 60


def _jsonl_steps(path: Path) -> list[dict[str, Any]]:
    """Learner steps from trainer.jsonl (lines that are not JSON objects are skipped)."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            out.append({"version": rec.get("policy_version", rec.get("step", 0)),
                        "updated": rec.get("updated", True), "metrics": rec, "at": None})
    return out


def training(conn: Connection, run_id: str, run: dict[str, Any], run_dir: Path, tl: Timeline) -> TrainingData:
    cfg = (run["config"] or {}).get("trainer")
    q = (select(Event.detail, Event.created_at).where(Event.run_id == run_id, Event.kind == "train")
         .order_by(Event.id))
    steps = [{**d, "at": at} for d, at in conn.execute(q)]
    source = "train events"
    if not any(s.get("metrics") for s in steps) and (run_dir / TRAINER_JSONL).is_file():
        steps, source = _jsonl_steps(run_dir / TRAINER_JSONL), TRAINER_JSONL
    names = sorted({k for s in steps for k, v in (s.get("metrics") or {}).items()
                    if isinstance(v, int | float) and not isinstance(v, bool)})
    series = {k: [float((s.get("metrics") or {}).get(k, float("nan"))) for s in steps] for k in names}
    pos = chunk_means(list(range(1, len(steps) + 1)), TRAIN_POINTS)[1]
    reduced = {k: chunk_means(v, TRAIN_POINTS)[1] for k, v in series.items()}
    points = [TrainPoint(step=p, metrics={k: v[i] for k, v in reduced.items() if np.isfinite(v[i])})
              for i, p in enumerate(pos)]
    t0 = run["created_at"]
    timed = [(_minutes(s["at"], t0), int(s.get("version", 0))) for s in steps]
    timed = [(t, v) for t, v in timed if t is not None]
    keep = np.unique(np.linspace(0, len(timed) - 1, min(len(timed), TRAIN_POINTS)).round().astype(int)) if timed else []
    q = (select(Rollout.iteration, func.max(Rollout.policy_version)).where(Rollout.run_id == run_id)
         .group_by(Rollout.iteration))
    sampled = np.full(max(tl.bins, 1), -1.0)
    edges = [int(e) for e in tl.edges]
    for it, v in conn.execute(q):
        b = max(0, min(bisect_right(edges, it) - 1, len(sampled) - 1))
        sampled[b] = max(sampled[b], float(v or 0))
    return TrainingData(
        configured=cfg is not None, reward=(cfg or {}).get("online", {}).get("reward"), source=source,
        steps=len(steps), updates=sum(bool(s.get("updated")) for s in steps), points=points,
        version_minutes=[timed[i][0] for i in keep], versions=[timed[i][1] for i in keep],
        sampled_x=tl.x(), sampled_version=[float(v) if v >= 0 else None for v in sampled[: tl.bins]])


def accounting(conn: Connection, run_id: str, m: int, has_stats: bool, improvements: int) -> AccountingData:
    """Per-batch wall clock, answers and programs; tokens and the time split when recorded."""
    cols = [Batch.batch_index, Batch.created_at, Batch.done_at] + ([Batch.stats] if has_stats else [])
    batches = [tuple(r) + ((None,) if not has_stats else ()) for r in conn.execute(
        select(*cols).where(Batch.run_id == run_id, Batch.status == "done").order_by(Batch.batch_index))]
    rolls = dict(conn.execute(select(PromptRow.batch_index, func.count(Rollout.id))
                              .join(Rollout, Rollout.prompt_id == PromptRow.id)
                              .where(PromptRow.run_id == run_id).group_by(PromptRow.batch_index)).all())
    kids = dict(conn.execute(select(PromptRow.batch_index, func.count(Program.id))
                             .join(Program, (Program.prompt_id == PromptRow.id) & (Program.run_id == run_id))
                             .where(PromptRow.run_id == run_id).group_by(PromptRow.batch_index)).all())
    recorded = [b for b in batches if isinstance(b[3], dict)]
    totals = {k: float(sum(float(b[3].get(k) or 0) for b in recorded)) for k in STAT_KEYS}
    if recorded:
        _derived(totals, improvements)
    parts = np.array_split(np.arange(len(batches)), min(len(batches), 200)) if batches else []
    answers_cum = np.cumsum([m * rolls.get(b[0], 0) for b in batches]) if batches else np.zeros(0)
    x, split, tps = [], {k: [] for k in ("generate_s", "evaluate_s", "learn_s")}, []
    minutes, a_cum, p_cum = [], [], []
    t0 = batches[0][1] if batches else None
    progs = np.cumsum([kids.get(b[0], 0) for b in batches]) if batches else np.zeros(0)
    for p in parts:
        last = batches[p[-1]]
        x.append(float(answers_cum[p[-1]]))
        minutes.append(_minutes(last[2], t0) or 0.0)
        a_cum.append(float(answers_cum[p[-1]]))
        p_cum.append(float(progs[p[-1]]))
        stats = [batches[i][3] for i in p if isinstance(batches[i][3], dict)]
        for k in split:
            split[k].append(float(sum(float(s.get(k) or 0) for s in stats)))
        gen, tok = split["generate_s"][-1], sum(float(s.get("completion_tokens") or 0) for s in stats)
        tps.append(tok / gen if gen > 0 else None)
    return AccountingData(batches=len(batches), recorded=len(recorded), has_column=has_stats,
                          totals=totals, x=x, split=split, tokens_per_s=tps, minutes=minutes,
                          answers_cum=a_cum, programs_cum=p_cum)


def _derived(t: dict[str, float], improvements: int) -> None:
    """Rates and costs from the summed batch stats (keys the HTML shows as they are)."""
    gen = t["generate_s"]
    t["completion_tokens_per_s"] = t["completion_tokens"] / gen if gen else 0.0
    t["sampled_tokens_per_s"] = t["sampled_tokens"] / gen if gen else 0.0
    t["usable_fraction"] = t["usable"] / t["answers"] if t["answers"] else 0.0
    t["improvements"] = float(improvements)
    for what in ("answers", "completion_tokens"):
        t[f"{what}_per_new_program"] = t[what] / t["new_programs"] if t["new_programs"] else 0.0
        t[f"{what}_per_improvement"] = t[what] / improvements if improvements else 0.0
