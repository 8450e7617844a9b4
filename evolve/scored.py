"""A program's identity and its stored evaluation: the values every layer of the search shares."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from evolve.mutations import normalize_code
from sandbox.results import EvalResult


@lru_cache(maxsize=4096)
def code_hash(code: str) -> str:
    """Identity of a program: formatting and comments do not count (mutations.normalize_code)."""
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def failures_of(result: EvalResult) -> list[list[str]]:
    return [[o.test_id, o.status, o.message] for o in result.outcomes if o.status != "passed"]


@dataclass(frozen=True)
class Scored:
    """An evaluation as stored: score vector, fitness, candidate-level error, failing tests."""

    scores: tuple[float, ...]
    fitness: float
    error: str = ""
    failures: list = field(default_factory=list)

    @classmethod
    def of(cls, result: EvalResult, n_tests: int) -> "Scored":
        if len(result.scores) != n_tests:  # a broken evaluation must not corrupt the archive
            why = result.error or f"{len(result.scores)} scores for {n_tests} tests"
            return cls((0.0,) * n_tests, 0.0, why, failures_of(result))
        return cls(tuple(result.scores), result.fitness, result.error, failures_of(result))

    @classmethod
    def of_row(cls, p: Any) -> "Scored":
        """From a stored program row (evolve.db.models.Program)."""
        return cls(tuple(p.scores), p.fitness, p.error, p.failures)
