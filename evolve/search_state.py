"""The plain records a run's search state is made of: counters, planned prompts and batches, the
RNG's serialised state, and the two views of a stored program (the archive's candidate and the
prompt's program view).  Small pure data, apart from `Search`'s transitions (evolve.search)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from evolve.db.models import Program
from evolve.map_elites import Candidate
from evolve.prompts import Failure, ProgramView


def rng_state(rng: np.random.Generator) -> str:
    return json.dumps(rng.bit_generator.state)


def rng_from(state: str) -> np.random.Generator:
    bg = np.random.PCG64()
    bg.state = json.loads(state)
    return np.random.Generator(bg)


def candidate(p: Program) -> Candidate:
    return Candidate(p.seq, p.fitness, tuple(p.scores), tuple(p.descriptor), p.code_hash)


def view(p: Program) -> ProgramView:
    fails = tuple(Failure(*f) for f in p.failures)
    return ProgramView(p.seq, p.code, p.fitness, tuple(p.scores), fails)


@dataclass
class Counters:
    next_seq: int = 0
    batches_planned: int = 0
    batches_done: int = 0
    iterations_planned: int = 0
    iterations_done: int = 0
    children: int = 0
    duplicates: int = 0
    rejected: int = 0
    evaluations: int = 0
    elapsed_s: float = 0.0
    best_seq: int | None = None
    best_fitness: float = 0.0
    solved_seq: int | None = None
    seeds: list[int] = field(default_factory=list)
    operator_stats: dict[str, list[int]] = field(default_factory=dict)  # op -> [successes, trials]
    parent_failures: dict[str, int] = field(default_factory=dict)  # seq -> completions not improving it


@dataclass(frozen=True)
class PlannedPrompt:
    prompt_id: int
    iteration: int
    island: int
    parent: ProgramView
    parent_generation: int
    system: str
    user: str
    operator: str = "refine"

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


@dataclass(frozen=True)
class BatchPlan:
    index: int
    sample_seed: int
    prompts: list[PlannedPrompt]
