"""Parent selection strategies and complementary inspirations."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from evolve.map_elites import Candidate, Grid, PoolView
from evolve.selection import (
    STRATEGIES, EpsilonLexicase, FitnessProportional, Lexicase, Tournament, UniformCells,
    complementary,
)


def pool(rows: list[list[float]]) -> PoolView:
    g = Grid(len(rows[0]))
    for i, r in enumerate(rows):
        g.offer((i,), Candidate(i, float(np.mean(r)), tuple(r), (0.0,), f"h{i}"), i)
    return g.view()


# a generalist passing 3 of 4 tests and a specialist, the only one passing test 3
SPECIALISTS = [
    [1, 1, 1, 0],  # 0: generalist, best fitness
    [0, 0, 0, 1],  # 1: dominated by 2
    [1, 0, 0, 1],  # 2: specialist (low fitness, but alone with 0 passes test 3)
    [0, 0, 0, 0],  # 3: dominated
]


def counts(strategy, p: PoolView, n=600, seed=0) -> Counter:
    rng = np.random.default_rng(seed)
    return Counter(strategy.pick(p, rng) for _ in range(n))


def test_registry_names():
    assert set(STRATEGIES) == {"lexicase", "epsilon_lexicase", "tournament",
                               "fitness_proportional", "uniform"}


def test_lexicase_keeps_specialists_and_never_picks_dominated():
    c = counts(Lexicase(), pool(SPECIALISTS))
    assert c[1] == 0 and c[3] == 0 and c[0] > 200 and c[2] > 120  # ~1/3 of picks


def test_lexicase_selects_a_low_fitness_specialist_that_tournament_never_does():
    rows = [[1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 1], [1, 1, 0, 0, 0, 0], [1, 0, 1, 0, 0, 0]]
    assert counts(Lexicase(), pool(rows))[1] > 60  # whenever test 5 comes first (~1/6)
    assert counts(Tournament(size=2), pool(rows))[1] == 0  # lowest fitness never wins


def test_epsilon_lexicase_treats_near_best_as_best():
    rows = [[1.0, 0.0], [0.97, 0.2], [0.0, 1.0]]
    strict = counts(Lexicase(), pool(rows))
    loose = counts(EpsilonLexicase(epsilon=0.05), pool(rows))
    assert strict[1] == 0 and loose[1] > 100  # 0.97 counts as best on test 0 within 0.05
    auto = counts(EpsilonLexicase(), pool(rows))
    assert set(auto) <= {0, 1, 2} and sum(auto.values()) == 600


def test_fitness_proportional_and_uniform():
    p = pool([[1, 1], [0, 1], [0, 0]])
    c = counts(FitnessProportional(floor=0.01), p, n=3000)
    assert c[0] > c[1] > c[2] > 0
    u = counts(UniformCells(), p, n=3000)
    assert all(900 < u[i] < 1100 for i in range(3))


@pytest.mark.parametrize("strategy", [Lexicase(), EpsilonLexicase(), Tournament(),
                                      FitnessProportional(), UniformCells()])
def test_same_seed_same_choices(strategy):
    p = pool(SPECIALISTS)
    assert counts(strategy, p, n=50, seed=3) == counts(strategy, p, n=50, seed=3)
    a = [strategy.pick(p, np.random.default_rng(9)) for _ in range(5)]
    assert a == [strategy.pick(p, np.random.default_rng(9)) for _ in range(5)]


def test_complementary_inspirations_cover_what_the_parent_fails():
    p = pool([
        [1, 1, 0, 0, 0],  # 0: parent
        [1, 1, 1, 0, 0],  # 1: adds test 2
        [0, 0, 1, 1, 0],  # 2: adds tests 2, 3
        [0, 0, 0, 0, 1],  # 3: adds test 4
        [1, 1, 0, 0, 0],  # 4: adds nothing
    ])
    assert complementary(p, p.scores[0], 0, 2) == [2, 3]
    assert complementary(p, p.scores[0], 0, 5) == [2, 3]  # nothing else adds a test
    assert complementary(p, np.ones(5), 0, 3) == []
    assert complementary(p, p.scores[0], 0, 0) == []
