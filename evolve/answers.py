"""One home for the rule answer -> child -> reward row, shared by the search, offline training
and evaluation, and online training.

A completion's answers become children (evolve.mutations.mutate); the children worth running are
those that parse, apply, compile and sit in a requested slot (`evaluable`).  Answer k's reward
row is the per-test score vector of its child; a slot without a child scores a zero row and is
not valid (`answer_rows`).  `rollout_record` turns a completion and its rows into the trainer's
record, whatever stored it (a run database row or an offline sample).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evolve.mutations import AppliedAnswer, MutationOutcome
from evolve.scored import Scored, code_hash
from trainer.records import Rollout


def evaluable(outcome: MutationOutcome, m: int) -> list[AppliedAnswer]:
    """The children of a completion that are evaluated: valid Python, in slots 1..m."""
    return [c for c in outcome.children if not c.syntax_error and 1 <= c.slot <= m]


def programs_to_run(outcomes: list[MutationOutcome], m: int) -> dict[str, str]:
    """Distinct children of several completions, code hash -> code, first occurrence wins."""
    out: dict[str, str] = {}
    for o in outcomes:
        for child in evaluable(o, m):
            out.setdefault(code_hash(child.code), child.code)
    return out


def slot_statuses(outcome: MutationOutcome, m: int) -> list[str]:
    """Per requested slot: 'usable' (a valid Python program different from the parent),
    'syntax_error', or the parser's issue kind ('missing', 'duplicate', 'unchanged',
    'malformed', 'empty', 'inapplicable').  The accounting of answers everywhere reads this."""
    out = ["missing"] * m
    for issue in outcome.rejected:
        if issue.slot is not None and 1 <= issue.slot <= m:
            out[issue.slot - 1] = issue.kind
    for child in outcome.children:
        if 1 <= child.slot <= m:
            out[child.slot - 1] = "syntax_error" if child.syntax_error else "usable"
    return out


@dataclass
class AnswerRows:
    """The m x d reward matrix of one completion, with per-slot validity, identity and fitness."""

    rewards: list[list[float]]
    valid: list[bool]
    keys: list[str]
    fitness: list[float]


def answer_rows(outcome: MutationOutcome, m: int, d: int, scored: Mapping[str, Scored]) -> AnswerRows:
    """Row k = the scores of answer k's child (looked up by code hash in `scored`); zero rows,
    invalid, where a slot has no evaluable child."""
    rows = AnswerRows([[0.0] * d for _ in range(m)], [False] * m, [""] * m, [0.0] * m)
    for child in evaluable(outcome, m):
        k, h = child.slot - 1, code_hash(child.code)
        res = scored[h]
        rows.rewards[k], rows.valid[k], rows.keys[k], rows.fitness[k] = list(res.scores), True, h, res.fitness
    return rows


def rollout_record(group_id: str, *, prompt_ids: list[int] | None, token_ids: list[int] | None,
                   logprobs: list[float | None] | None, sampled: list[bool] | None,
                   policy_version: int, truncated: bool, rewards: list[list[float]],
                   valid: list[bool], keys: list[str], meta: dict[str, Any] | None = None) -> Rollout:
    """The trainer's record of one completion.  Without prompt token ids (a text-only backend)
    it keeps its reward rows, so it still counts in the group's normalisation, but no tokens:
    the learner then drops it from the loss instead of conditioning on nothing."""
    tokens = list(token_ids) if token_ids and prompt_ids else []
    return Rollout(
        group_id=group_id, prompt_ids=list(prompt_ids or []) if tokens else [],
        completion_ids=tokens,
        behavior_logprobs=list(logprobs) if tokens and logprobs else None,
        sampled=list(sampled) if tokens and sampled is not None else None,
        policy_version=policy_version, truncated=truncated, rewards=rewards, valid=list(valid),
        answer_keys=list(keys), meta=meta or {},
    )


def stored_record(row: Any, rewards: list[list[float]] | None = None) -> Rollout:
    """A stored rollout (evolve.db.models.Rollout) as the trainer's record; `rewards` replaces
    its reward rows (an online reward mode), else the stored per-test scores are used."""
    return rollout_record(
        row.group_id, prompt_ids=row.prompt_token_ids, token_ids=row.token_ids,
        logprobs=row.logprobs, sampled=row.sampled, policy_version=row.policy_version,
        truncated=row.truncated, rewards=row.rewards if rewards is None else rewards,
        valid=row.valid, keys=row.answer_keys,
        meta={"rollout_id": row.id, "iteration": row.iteration, "island": row.island},
    )
