"""Islands: one MAP-Elites grid per island, ring migration and resets (pure; no I/O).

Isolation is structural: a child is offered only to the grid of the island its parent came
from, and the only cross-island moves are the explicit migrations and reseeds planned here.
Every island shares the descriptor's binners, so a range growth re-bins all islands at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from evolve.map_elites import Candidate, Descriptor, Grid


@dataclass(frozen=True)
class Placement:
    placed: bool
    displaced: Candidate | None
    rebinned: bool  # ranges grew: every island's cells were re-keyed
    key: tuple[int, ...]
    arrival: int = -1


@dataclass
class Archive:
    descriptor: Descriptor
    n_islands: int
    n_tests: int
    arrival: int = 0  # next placement stamp (persisted with the run counters)
    grids: list[Grid] = field(default_factory=list)
    members: list[dict[str, int]] = field(default_factory=list)  # island -> code hash -> seq
    anywhere: dict[str, int] = field(default_factory=dict)  # code hash -> first seq, any island

    def __post_init__(self) -> None:
        if not self.grids:
            self.grids = [Grid(self.n_tests) for _ in range(self.n_islands)]
            self.members = [{} for _ in range(self.n_islands)]

    def known(self, island: int, code_hash: str) -> int | None:
        """Seq of the program with this code on `island`, if any (dedupe before evaluating)."""
        return self.members[island].get(code_hash)

    def first(self, code_hash: str) -> int | None:
        """Seq of the first program with this code on any island (its evaluation is reusable)."""
        return self.anywhere.get(code_hash)

    def remember(self, island: int, code_hash: str, seq: int) -> None:
        self.members[island].setdefault(code_hash, seq)
        self.anywhere.setdefault(code_hash, seq)

    def offer(self, island: int, cand: Candidate, eligible: bool = True) -> Placement:
        """Record `cand` as a member of `island` and offer it to the island's grid."""
        self.remember(island, cand.code_hash, cand.seq)
        if not eligible:
            return Placement(False, None, False, ())
        rebinned = self.descriptor.grow(cand.descriptor)
        if rebinned:
            for g in self.grids:
                g.rekey(self.descriptor)
        key = self.descriptor.key(cand.descriptor)
        placed, displaced = self.grids[island].offer(key, cand, self.arrival)
        self.arrival += 1
        return Placement(placed, displaced, rebinned, key, self.arrival - 1)

    def best(self, island: int | None = None) -> Candidate | None:
        grids = self.grids if island is None else [self.grids[island]]
        found = [b for g in grids if (b := g.best()) is not None]
        return max(found, key=lambda c: (c.fitness, -c.seq)) if found else None

    def migration_plan(self, fraction: float) -> list[tuple[int, Candidate]]:
        """(destination island, elite) pairs: each island's top `fraction` (at least one elite)
        goes to the next island on the ring.  Planned from the state before any copy lands,
        so a migrant never travels two hops in one migration."""
        if self.n_islands < 2:
            return []
        plan = []
        for i, g in enumerate(self.grids):
            ranked = sorted((c for _, c, _ in g), key=lambda c: (-c.fitness, c.seq))
            take = ranked[: max(1, math.ceil(fraction * len(ranked)))] if ranked else []
            plan += [((i + 1) % self.n_islands, c) for c in take]
        return plan

    def reset_plan(self, fraction: float, rng: np.random.Generator) -> list[tuple[int, Candidate]]:
        """Wipe the worst islands (by best fitness; ties: the higher index is worse) and return
        (wiped island, founder) pairs, each founder the best elite of a random survivor."""
        n_reset = int(fraction * self.n_islands)
        if n_reset < 1 or n_reset >= self.n_islands:
            return []
        def score(i: int) -> tuple[float, int]:
            b = self.grids[i].best()
            return (b.fitness if b else -1.0, -i)
        order = sorted(range(self.n_islands), key=score)
        worst, survivors = order[:n_reset], sorted(order[n_reset:])
        plan = []
        for i in sorted(worst):
            self.grids[i].clear()
            donor = survivors[int(rng.integers(len(survivors)))]
            founder = self.grids[donor].best()
            if founder is not None:
                plan.append((i, founder))
        return plan
