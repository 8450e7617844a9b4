"""Parent selection strategies (a registry) and complementary inspirations.

Strategies read an island's `PoolView` (its elites in seq order, with the per-test score matrix
kept in memory) and a seeded numpy Generator passed in by the caller, so a selection costs
O(elites x tests) at most, never a database scan, and is reproducible.  Lexicase variants select
on the per-test vector, which keeps specialists (programs that alone pass some test) alive.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from evolve.map_elites import PASS_SCORE, PoolView


class _Strategy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def pick(self, pool: PoolView, rng: np.random.Generator) -> int:
        """Row index into `pool` of the chosen parent (the pool is never empty)."""
        raise NotImplementedError


def _lexicase(scores: np.ndarray, eps: np.ndarray, rng: np.random.Generator) -> int:
    cand = np.arange(scores.shape[0])
    for t in rng.permutation(scores.shape[1]):
        col = scores[cand, t]
        cand = cand[col >= col.max() - eps[t]]
        if len(cand) == 1:
            break
    return int(cand[rng.integers(len(cand))])


class Lexicase(_Strategy):
    """Filter by each test in random order, keeping the best on it; random among survivors."""

    name: Literal["lexicase"] = "lexicase"

    def pick(self, pool, rng):
        return _lexicase(pool.scores, np.zeros(pool.scores.shape[1]), rng)


class EpsilonLexicase(_Strategy):
    """Lexicase for continuous scores: within `epsilon` of the best counts as best.
    `auto` uses each test's median absolute deviation over the pool (La Cava et al., 2016)."""

    name: Literal["epsilon_lexicase"] = "epsilon_lexicase"
    epsilon: float | Literal["auto"] = Field(default="auto")

    def pick(self, pool, rng):
        s = pool.scores
        if self.epsilon == "auto":
            eps = np.median(np.abs(s - np.median(s, axis=0)), axis=0)
        else:
            eps = np.full(s.shape[1], float(self.epsilon))
        return _lexicase(s, eps, rng)


class Tournament(_Strategy):
    """Best fitness among `size` elites drawn without replacement (ties: lowest seq)."""

    name: Literal["tournament"] = "tournament"
    size: int = Field(default=3, ge=1)

    def pick(self, pool, rng):
        rows = rng.choice(len(pool), size=min(self.size, len(pool)), replace=False)
        rows.sort()  # rows are in seq order: argmax then prefers the lowest seq on ties
        return int(rows[np.argmax(pool.fitness[rows])])


class FitnessProportional(_Strategy):
    """Probability proportional to fitness + `floor` (the floor keeps zero-fitness elites alive)."""

    name: Literal["fitness_proportional"] = "fitness_proportional"
    floor: float = Field(default=0.01, gt=0)

    def pick(self, pool, rng):
        w = pool.fitness + self.floor
        return int(rng.choice(len(pool), p=w / w.sum()))


class UniformCells(_Strategy):
    """Any occupied cell with equal probability (pure MAP-Elites)."""

    name: Literal["uniform"] = "uniform"

    def pick(self, pool, rng):
        return int(rng.integers(len(pool)))


STRATEGIES: dict[str, type[_Strategy]] = {
    c.model_fields["name"].default: c
    for c in (Lexicase, EpsilonLexicase, Tournament, FitnessProportional, UniformCells)
}
StrategySpec = Annotated[
    Union[Lexicase, EpsilonLexicase, Tournament, FitnessProportional, UniformCells],
    Field(discriminator="name"),
]


def complementary(pool: PoolView, parent_scores: np.ndarray, parent_seq: int, k: int) -> list[int]:
    """Up to `k` rows of elites that best cover what the parent misses (greedy set cover).

    Each step takes the elite adding the most score on tests that neither the parent nor the
    inspirations chosen so far pass (ties: lowest seq); elites adding nothing are never chosen.
    """
    if k <= 0 or len(pool) == 0:
        return []
    covered = np.asarray(parent_scores, dtype=np.float64).copy()
    open_tests = covered < PASS_SCORE
    usable = pool.seq != parent_seq
    chosen: list[int] = []
    for _ in range(k):
        if not open_tests.any():
            break
        gain = np.clip(pool.scores[:, open_tests] - covered[open_tests], 0.0, None).sum(axis=1)
        gain[~usable] = 0.0
        row = int(np.argmax(gain))
        if gain[row] <= 0.0:
            break
        chosen.append(row)
        usable[row] = False
        covered = np.maximum(covered, pool.scores[row])
        open_tests = covered < PASS_SCORE
    return chosen
