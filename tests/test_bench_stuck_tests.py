"""benchmarks/stuck_tests.py: a run's best program's failing search tests, hidden ones marked."""

from __future__ import annotations

from benchmarks.stuck_tests import stuck, summary
from evolve.runs import seed
from problems.holdout import split_holdout
from problems.loaders import load_problem
from tests.evolve_support import write_config

MEDIAN = "benchmarks/vpo_vs_grpo_suite/median"


def test_failing_search_tests_of_a_split_problem(tmp_path):
    """The run's snapshot keeps its held-out tests, its scores cover only the search tests:
    the two must be lined up through the search view (a zip over all tests misnamed them)."""
    problem = split_holdout(load_problem(MEDIAN), 0.3)
    search = problem.search_view()
    seed(problem, tmp_path / "run", write_config(tmp_path / "c.yaml"))
    row = stuck(tmp_path / "run")
    held_out = {t.id for t in problem.tests if t.holdout}
    assert len(held_out) == 2 and not held_out & set(row["failing"])
    passing = [t.id for t in search.tests if t.expected is None]  # the stub returns None
    assert set(row["failing"]) == {t.id for t in search.tests} - set(passing)
    assert row["failing_hidden"] == [t.id for t in search.tests if t.hidden and t.id in row["failing"]]
    assert summary([row])["unsolved"] == 1
