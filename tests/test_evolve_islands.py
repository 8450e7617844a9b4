"""Islands: isolation, ring migration, resets (pure archive level; the loop-level isolation
proof over a real run is in test_evolve_loop.py::test_islands_are_isolated)."""

from __future__ import annotations

import numpy as np

from evolve.islands import Archive
from evolve.map_elites import Candidate, CodeLength, Descriptor, Metric, TestLayout

LAYOUT = TestLayout(("a", "b"), (1, 1))


def archive(k: int = 3) -> Archive:
    return Archive(Descriptor([Metric(name="fitness", bins=10, range=(0, 1)), CodeLength(bins=2)],
                              LAYOUT, "x" * 50), k, 2)


def cand(seq: int, fitness: float, length: float = 10.0) -> Candidate:
    return Candidate(seq, fitness, (fitness, 0.0), (fitness, length), f"code{seq}")


def test_offer_touches_only_its_island():
    a = archive()
    a.offer(1, cand(0, 0.5))
    assert [len(g) for g in a.grids] == [0, 1, 0]
    assert a.known(1, "code0") == 0 and a.known(0, "code0") is None and a.first("code0") == 0
    assert a.best(0) is None and a.best(1).seq == 0 and a.best().seq == 0


def test_ring_migration_plans_top_fraction_to_next_island_only():
    a = archive()
    for i, f in enumerate([0.1, 0.5, 0.9, 0.3]):
        a.offer(0, cand(i, f))
    a.offer(2, cand(10, 0.7))
    plan = a.migration_plan(0.5)
    assert [(dst, c.seq) for dst, c in plan] == [(1, 2), (1, 1), (0, 10)]
    assert all(dst == (src + 1) % 3 for (dst, c), src in zip(plan, [0, 0, 2]))
    assert archive(1).migration_plan(0.5) == []
    # planning does not move anything by itself
    assert [len(g) for g in a.grids] == [4, 0, 1]


def test_migration_takes_at_least_one():
    a = archive(2)
    a.offer(0, cand(0, 0.2))
    assert [c.seq for _, c in a.migration_plan(0.01)] == [0]


def test_reset_wipes_worst_and_reseeds_from_survivors():
    a = archive(4)
    for island, f in enumerate([0.9, 0.1, 0.5, 0.2]):
        a.offer(island, cand(island, f))
    plan = a.reset_plan(0.5, np.random.default_rng(0))
    assert sorted(i for i, _ in plan) == [1, 3]  # the two worst
    assert len(a.grids[1]) == 0 and len(a.grids[3]) == 0
    assert {f.seq for _, f in plan} <= {0, 2}  # founders: best of a surviving island
    again = archive(4)
    for island, f in enumerate([0.9, 0.1, 0.5, 0.2]):
        again.offer(island, cand(island, f))
    assert again.reset_plan(0.5, np.random.default_rng(0)) == plan  # seeded: reproducible
    assert archive(2).reset_plan(0.4, np.random.default_rng(0)) == []  # int(0.8) = 0 islands
