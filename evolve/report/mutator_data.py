"""The mutator side of the report: what became of the answers, the online learner's curves and
adapter versions, throughput and token/time accounting.

Reads the per-slot statuses of `rollouts.answers` (only the `slots` and `extra` parts: the summary
text is left in the database), `train` events (their `detail.metrics`, or `RUN_DIR/trainer.jsonl`
for steps that never reached the database as events), and `batches.stats` when the schema has it.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select

from evolve.accounting import AccountingError, BatchStats, stats_of, totals as accounting_totals
from evolve.db.models import Batch, Event, Program, PromptRow, Rollout
from evolve.report.data import stream
from evolve.report.models import AccountingData, AnswersData, TrainingData, TrainPoint
from evolve.report.source import ReportError
from evolve.report.timeline import Timeline, chunk_means
from trainer.checkpoints import RUN_METRICS_FILE as TRAINER_JSONL

STATUSES = ("child", "known", "rejected", "unchanged", "duplicate", "inapplicable", "malformed",
            "missing", "empty", "extra", "unrecorded")
"""Slot statuses in plot order: usable first (a new child, a program the island holds), then
why an answer was unusable (evolve.search.commit_completion, evolve.mutations.IssueKind)."""
USABLE = ("child", "known")
TRAIN_POINTS = 300
ACCOUNT_POINTS = 200
MIN_SLOTS_PER_BIN = 24


@dataclass
class RolloutScan:
    """One pass over the rollouts' late columns (a row's `answers` and `policy_version` sit after
    its text and token ids, so each read walks the whole row: read them once)."""

    counts: dict[str, np.ndarray]  # status -> answer slots per timeline bin
    sampled: np.ndarray  # newest policy version that sampled in each bin (-1: none)
    extra: int = 0
    truncated: int = 0
    completions: int = 0


def scan_rollouts(conn: Connection, run_id: str, tl: Timeline, m: int) -> RolloutScan:
    nb = max(tl.bins, 1)
    scan = RolloutScan({s: np.zeros(nb, np.int64) for s in STATUSES}, np.full(nb, -1.0))
    # the JSON parts come back as text and are parsed here: cheaper than the JSON column type
    q = select(Rollout.iteration, Rollout.answers["slots"].as_string(), Rollout.answers["extra"].as_string(),
               Rollout.truncated, Rollout.policy_version).where(Rollout.run_id == run_id)
    edges = [int(e) for e in tl.edges]
    counts = scan.counts
    for iteration, slots_text, extra_text, trunc, version in stream(conn, q):
        b = max(0, min(bisect_right(edges, iteration) - 1, nb - 1))
        scan.completions += 1
        scan.truncated += bool(trunc)
        if extra_text and extra_text != "[]":
            scan.extra += len(json.loads(extra_text))
        scan.sampled[b] = max(scan.sampled[b], float(version or 0))
        slots = json.loads(slots_text) if slots_text else {}
        for k in range(1, m + 1):
            status = (slots.get(str(k)) or {}).get("status", "unrecorded")
            counts[status if status in counts else "unrecorded"][b] += 1
    return scan


def answers(scan: RolloutScan, tl: Timeline) -> AnswersData:
    """Slot statuses per bin, neighbouring timeline bins merged until each holds about
    MIN_SLOTS_PER_BIN slots (shares of a handful of slots are noise)."""
    totals = {s: int(c.sum()) for s, c in scan.counts.items()}
    group = max(1, -(-MIN_SLOTS_PER_BIN * tl.bins // max(sum(totals.values()), 1)))
    starts = list(range(0, tl.bins, group))
    ends = starts[1:] + [tl.bins] if starts else []
    xs = tl.x()
    merged = {s: [int(c[a:b].sum()) for a, b in zip(starts, ends)] for s, c in scan.counts.items()}
    return AnswersData(x=[xs[e - 1] for e in ends], counts=merged,
                       totals={s: n for s, n in totals.items() if n}, extra=scan.extra,
                       truncated=scan.truncated, completions=scan.completions)


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


def training(conn: Connection, run_id: str, run: dict[str, Any], run_dir: Path, tl: Timeline,
             sampled: np.ndarray) -> TrainingData:
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
    keep = np.unique(np.linspace(0, len(timed) - 1, min(len(timed), TRAIN_POINTS)).round().astype(int)) \
        if timed else []
    return TrainingData(
        configured=cfg is not None, reward=(cfg or {}).get("online", {}).get("reward"), source=source,
        steps=len(steps), updates=sum(bool(s.get("updated")) for s in steps), points=points,
        version_minutes=[timed[i][0] for i in keep], versions=[timed[i][1] for i in keep],
        sampled_x=tl.x(), sampled_version=[float(v) if v >= 0 else None for v in sampled[: tl.bins]])


@dataclass(frozen=True)
class _DoneBatch:
    index: int
    created_at: datetime | None
    done_at: datetime | None
    stats: BatchStats | None


def _done_batches(conn: Connection, run_id: str, has_stats: bool) -> list[_DoneBatch]:
    cols = [Batch.batch_index, Batch.created_at, Batch.done_at] + ([Batch.stats] if has_stats else [])
    q = select(*cols).where(Batch.run_id == run_id, Batch.status == "done").order_by(Batch.batch_index)
    out = []
    for row in conn.execute(q):
        raw = row[3] if has_stats else None
        try:
            stats = stats_of(row[0], raw) if raw is not None else None
        except AccountingError as exc:
            raise ReportError(str(exc)) from None
        out.append(_DoneBatch(row[0], row[1], row[2], stats))
    return out


def accounting(conn: Connection, run_id: str, tl: Timeline, m: int, has_stats: bool,
               improvements: int) -> AccountingData:
    """Per-batch wall clock, answers and programs; tokens and the time split when recorded."""
    batches = _done_batches(conn, run_id, has_stats)
    answers: dict[int, int] = {}  # batch -> answers (the timeline's per-iteration completions x m)
    for batch, it in conn.execute(select(PromptRow.batch_index, PromptRow.iteration)
                                  .where(PromptRow.run_id == run_id)):
        answers[batch] = answers.get(batch, 0) + (m * int(tl.counts[it]) if it < tl.n else 0)
    kids = dict(conn.execute(
        select(PromptRow.batch_index, func.count(Program.id))
        .join(Program, (Program.prompt_id == PromptRow.id) & (Program.run_id == run_id))
        .where(PromptRow.run_id == run_id).group_by(PromptRow.batch_index)).all())
    recorded = [b.stats for b in batches if b.stats is not None]
    totals = accounting_totals(recorded, improvements if len(recorded) == len(batches) else None)
    a_cum = np.cumsum([answers.get(b.index, 0) for b in batches])
    p_cum = np.cumsum([kids.get(b.index, 0) for b in batches])
    t0 = batches[0].created_at if batches else None
    split: dict[str, list[float]] = {k: [] for k in ("generate_s", "evaluate_s", "learn_s")}
    tps: list[float | None] = []
    ends = []
    for part in np.array_split(np.arange(len(batches)), min(len(batches), ACCOUNT_POINTS)) if batches else []:
        ends.append(int(part[-1]))
        stats = [batches[i].stats for i in part if batches[i].stats is not None]
        for k in split:
            split[k].append(sum(getattr(st, k) or 0.0 for st in stats))
        tokens = sum(st.completion_tokens or 0.0 for st in stats)
        tps.append(tokens / split["generate_s"][-1] if split["generate_s"][-1] > 0 else None)
    return AccountingData(
        batches=len(batches), recorded=len(recorded), has_column=has_stats, totals=totals,
        x=[float(a_cum[i]) for i in ends], split=split, tokens_per_s=tps,
        minutes=[_minutes(batches[i].done_at, t0) or 0.0 for i in ends],
        answers_cum=[float(a_cum[i]) for i in ends], programs_cum=[float(p_cum[i]) for i in ends])
