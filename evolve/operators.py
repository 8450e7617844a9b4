"""Where a prompt's parent comes from, and how the budget is split among the ways.

    fresh      the island's seed program, no attempts or inspirations: a best-of-N draw
    refine     an elite chosen by the selection strategy, with complementary inspirations and
               the island's recent attempts (the classic evolutionary step)
    crossover  an elite and the elite that best covers the tests it fails, with a prompt that
               asks to combine both (two programs with complementary test sets sat side by side
               for 30 answers when the second was only an "inspiration")

A parent that `patience` completions in a row could not improve (no child fitter than it) is
retired: refine and crossover stop choosing it (it stays an elite and an inspiration).  Measured
on the convention problems (benchmarks/results/refine_gain_conv_shown.json), one answer refining
one of the search's fittest elites beat it 1 time in 320, while a fresh draw beat the seed 2
times in 3: budget spent on an exhausted elite is budget best-of-N spends on fresh draws.  When
every elite of an island is retired, its prompts are fresh draws.

Crossover is offered only when `use` lists it (off by default): over the benchmark's runs with
both models and both test settings since the crossover fix (benchmarks/results/
search_efficiency_{conv_b48_fix,conv_b48_fix_patient,conv_shown_b48_fix,1p5b_conv6}_s*.json)
(72 evolution cells) its completions improved their island's best 4 times in 540 (0.7%),
against fresh draws 99 in 964 (10%) and refinements 98 in 972 (10%); the bandit cannot learn
that within one run's few prompts and gave it over a fifth of evolution's budget.

A search that can always fall back to fresh draws contains best-of-N as a special case, so it
should never do worse than it.  Which operator gets the next prompt is a Thompson-sampling
bandit over Beta posteriors of each operator's success rate in this run (ShinkaEvolve chooses
among LLMs this way); a completion succeeds when one of its children beats its island's best
at commit time.  The statistics live in the run's counters, the draws use the run's RNG, so a
resumed run makes the same choices.
"""

from __future__ import annotations

from typing import Callable, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

Operator = Literal["fresh", "refine", "crossover"]
OPERATORS: tuple[Operator, ...] = ("fresh", "refine", "crossover")


class OperatorsConfig(BaseModel):
    """`loop.operators`: which operators the search may use and the bandit's prior."""

    model_config = ConfigDict(extra="forbid")

    use: list[Operator] = Field(
        default_factory=lambda: ["fresh", "refine"], min_length=1, description="crossover is"
        " opt-in: it improved its island's best in 0.7% of its completions where fresh draws and"
        " refinements did in 10% (module docstring)")
    prior: tuple[float, float] = Field(
        default=(1.0, 1.0), description="Beta(successes, failures) prior of every operator")
    priors: dict[Operator, tuple[float, float]] = Field(
        default_factory=dict, description="per-operator Beta priors overriding `prior`, e.g."
        " fresh: [2, 1] to start from best-of-N at budgets too small for the bandit to learn")

    patience: int = Field(
        default=0, ge=0, description="completions in a row that fail to improve a parent before"
        " refine and crossover stop choosing it (0: never retire a parent)")

    def prior_of(self, op: str) -> tuple[float, float]:
        return self.priors.get(op, self.prior)  # type: ignore[call-overload]

    @field_validator("use")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("operators listed twice")
        return v

    @field_validator("prior")
    @classmethod
    def _positive(cls, v: tuple[float, float]) -> tuple[float, float]:
        if min(v) <= 0:
            raise ValueError("Beta prior parameters must be > 0")
        return v

    @field_validator("priors")
    @classmethod
    def _all_positive(cls, v: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for ab in v.values():
            cls._positive(ab)
        return v


def choose(stats: dict[str, list[int]], available: list[Operator],
           prior: tuple[float, float] | Callable[[str], tuple[float, float]],
           rng: np.random.Generator) -> Operator:
    """Thompson sampling: one Beta draw per available operator, the largest wins.  `prior` is
    every operator's Beta prior, or a function of the operator (OperatorsConfig.prior_of)."""
    if len(available) == 1:
        return available[0]
    prior_of = prior if callable(prior) else (lambda _op: prior)
    draws = []
    for op in available:
        s, n = stats.get(op, [0, 0])
        a, b = prior_of(op)
        draws.append(rng.beta(a + s, b + n - s))
    return available[int(np.argmax(draws))]


def record(stats: dict[str, list[int]], op: str, success: bool) -> None:
    s, n = stats.get(op, [0, 0])
    stats[op] = [s + int(success), n + 1]


def note_parent(failures: dict[str, int], parent: int, improved: bool) -> None:
    """Count a refine/crossover completion against its parent: a child fitter than the parent
    clears the count, anything else adds one (keys are str: the counters are stored as JSON)."""
    key = str(parent)
    if improved:
        failures.pop(key, None)
    else:
        failures[key] = failures.get(key, 0) + 1


def retired(failures: dict[str, int], patience: int) -> set[int]:
    """Parents that `patience` completions in a row failed to improve (none when patience = 0)."""
    if patience <= 0:
        return set()
    return {int(k) for k, n in failures.items() if n >= patience}
