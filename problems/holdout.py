"""A documented, deterministic split of a problem's tests into search and held-out tests.

Visible tests' expected values reach prompts, so a child that special-cases the shown inputs
can pass every search test.  Holding out tests the search never sees makes "solved" mean solved.
The split is by a hash of (problem id, test id): stable across runs, machines and test order,
and independent of the tests' content.  At least one search test always remains, and a problem
with fewer than 3 tests keeps them all for the search.
"""

from __future__ import annotations

import hashlib

from problems.model import Problem

DEFAULT_FRACTION = 0.3


def _rank(problem_id: str, test_id: str) -> str:
    return hashlib.sha256(f"{problem_id}\0{test_id}".encode()).hexdigest()


def split_holdout(problem: Problem, fraction: float = DEFAULT_FRACTION) -> Problem:
    """`problem` with round(fraction x tests) of its tests marked held out (the lowest hash
    ranks); tests already held out stay so.  Fraction 0 returns the problem unchanged."""
    if not 0 <= fraction < 1:
        raise ValueError(f"holdout fraction must be in [0, 1), got {fraction}")
    n = len(problem.tests)
    k = min(round(fraction * n), n - 1) if n >= 3 else 0
    if k <= len(problem.holdout_tests):
        return problem
    order = sorted(problem.tests, key=lambda t: _rank(problem.id, t.id))
    chosen = {t.id for t in order[:k]}
    tests = [t.model_copy(update={"holdout": True}) if t.id in chosen else t for t in problem.tests]
    if sum(t.weight for t in tests if not t.holdout) <= 0:
        return problem  # would leave the search nothing to optimise
    return problem.model_copy(update={"tests": tests})
