"""What one batch cost and yielded: the `batches.stats` record (tokens, answers, wall time).

The loop writes it when a batch completes (and adds the learner's time after the online step);
`evolve status`, the report and the benchmarks read it.  Unknown keys are kept so that a newer
loop's figures survive an older reader; a missing figure reads as None (runs older than the
column have no stats at all).
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, ConfigDict

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
