"""What the search cost and yielded: the `batches.stats` record of each batch (tokens, answers,
wall time), the run's totals, and what counts as an improvement.

The loop writes a batch's record when the batch completes (and adds the learner's time after
the online step); `evolve status`, the live display, the report and the benchmarks read it.
Unknown keys are kept so that a newer loop's figures survive an older reader; a missing figure
reads as None (runs older than the column have no stats at all).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select

from evolve.db.models import Batch, Program

from evolve.answers import slot_statuses
from evolve.mutations import MutationOutcome
from evolve.mutator import Completion


class BatchStats(BaseModel):
    model_config = ConfigDict(extra="allow")

    prompts: float | None = None
    completions: float | None = None
    answers: float | None = None  # requested: prompts x completions x m
    usable: float | None = None  # valid programs different from the parent (answers.slot_statuses)
    new_programs: float | None = None  # usable answers that became new programs of their island
    known: float | None = None  # usable answers that re-found a program the island holds
    prompt_tokens: float | None = None
    completion_tokens: float | None = None  # every token of the completions, inserted ones too
    sampled_tokens: float | None = None  # the model's own tokens in the completions
    discarded_tokens: float | None = None  # sampled for answers discarded as copies
    generate_s: float | None = None
    evaluate_s: float | None = None
    learn_s: float | None = None


class AccountingError(ValueError):
    """A batch's stored stats do not parse (one line naming the batch and the field)."""


def stats_of(batch_index: int, raw: dict) -> BatchStats:
    try:
        return BatchStats.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise AccountingError(f"batches.stats of batch {batch_index}: {where}: {err['msg']}") from None


ACCOUNT_ROWS = (  # (key of `totals`, label, format): how the report and `evolve status` show them
    ("prompt_tokens", "prompt tokens", "{:,.0f}"), ("completion_tokens", "completion tokens", "{:,.0f}"),
    ("sampled_tokens", "sampled tokens", "{:,.0f}"), ("answers", "answers", "{:,.0f}"),
    ("usable", "usable answers", "{:,.0f}"), ("new_programs", "new programs", "{:,.0f}"),
    ("known", "known programs re-written", "{:,.0f}"), ("improvements", "improvements of the best", "{:,.0f}"),
    ("generate_s", "generation (s)", "{:,.1f}"), ("evaluate_s", "evaluation (s)", "{:,.1f}"),
    ("learn_s", "learning (s)", "{:,.1f}"), ("completion_tokens_per_s", "completion tokens / s of generation", "{:,.1f}"),
    ("sampled_tokens_per_s", "sampled tokens / s of generation", "{:,.1f}"),
    ("usable_fraction", "usable fraction", "{:.1%}"),
    ("answers_per_new_program", "answers per new program", "{:,.1f}"),
    ("completion_tokens_per_new_program", "completion tokens per new program", "{:,.0f}"),
    ("answers_per_improvement", "answers per improvement", "{:,.1f}"),
    ("completion_tokens_per_improvement", "completion tokens per improvement", "{:,.0f}"),
)


def generation_stats(completions: list[Completion], outcomes: list[MutationOutcome], m: int) -> dict:
    """Token and answer counts of a batch's completions (before its children are committed)."""
    statuses: Counter = Counter()
    for o in outcomes:
        statuses.update(slot_statuses(o, m))
    return {
        "completions": len(completions), "answers": len(outcomes) * m,
        "usable": statuses["usable"], "statuses": dict(sorted(statuses.items())),
        "prompt_tokens": sum(len(c.prompt_token_ids or []) for c in completions),
        "completion_tokens": sum(len(c.token_ids or []) for c in completions),
        "sampled_tokens": sum(c.sampled_tokens for c in completions),
        "discarded_tokens": sum(c.discarded_tokens for c in completions),
    }


def totals(recorded: list[BatchStats], improvements: int | None = None) -> dict[str, float]:
    """Summed batch stats and the rates and costs derived from them; the costs per improvement
    only when `improvements` (run-wide) is given, i.e. every batch recorded its stats."""
    if not recorded:
        return {}
    t = {k: float(sum(getattr(st, k) or 0.0 for st in recorded)) for k in BatchStats.model_fields}
    gen = t["generate_s"]
    t["completion_tokens_per_s"] = t["completion_tokens"] / gen if gen else 0.0
    t["sampled_tokens_per_s"] = t["sampled_tokens"] / gen if gen else 0.0
    t["usable_fraction"] = t["usable"] / t["answers"] if t["answers"] else 0.0
    for what in ("answers", "completion_tokens"):
        t[f"{what}_per_new_program"] = t[what] / t["new_programs"] if t["new_programs"] else 0.0
    if improvements is not None:
        t["improvements"] = float(improvements)
        for what in ("answers", "completion_tokens"):
            t[f"{what}_per_improvement"] = t[what] / improvements if improvements else 0.0
    return t


def improvement_mask(fitness: np.ndarray, error: np.ndarray, child: np.ndarray,
                     seed: np.ndarray) -> np.ndarray:
    """Which programs (given in seq order) are improvements: an error-free child fitter than
    every earlier error-free seed or child of the run.  Copies (migrants, reseeds) never count
    and never raise the bar (they repeat an earlier program's fitness)."""
    ok = ~error & (child | seed)
    run_fit = np.where(ok, fitness, -np.inf)
    if not len(run_fit):
        return np.zeros(0, bool)
    before = np.concatenate([[-np.inf], np.maximum.accumulate(run_fit)[:-1]])
    return child & ok & (run_fit > before) & (before > -np.inf)


def count_improvements(rows: Iterable[tuple[float, bool, str]]) -> int:
    """Improvements among (fitness, has error, origin) rows in seq order (improvement_mask)."""
    fit, err, origin = [], [], []
    for f, e, o in rows:
        fit.append(f)
        err.append(bool(e))
        origin.append(o)
    kinds = np.asarray(origin, dtype=object)
    return int(improvement_mask(np.asarray(fit, np.float64), np.asarray(err, bool),
                                kinds == "child", kinds == "seed").sum())


def run_totals(s, run_id: str) -> dict[str, float]:
    """A run's accounting from its database session `s`: the summed stats of its done batches
    (`totals`), with the costs per improvement when every done batch recorded stats."""
    done = s.execute(select(Batch.batch_index, Batch.stats)
                     .where(Batch.run_id == run_id, Batch.status == "done")).all()
    recorded = [stats_of(i, x) for i, x in done if x is not None]
    rows = s.execute(select(Program.fitness, Program.error != "", Program.origin)
                     .where(Program.run_id == run_id).order_by(Program.seq))
    complete = len(recorded) == len(done)
    return totals(recorded, count_improvements(rows) if complete else None)
