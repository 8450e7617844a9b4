"""Held-out tests: a deterministic split, and views that keep them out of the search."""

from __future__ import annotations

import pytest

from problems.holdout import split_holdout
from problems.loaders import load_problem
from problems.model import CallTest, Problem

INITIAL = "# EVOLVE-BLOCK-START\ndef f(x):\n    return x\n# EVOLVE-BLOCK-END\n"


def problem(n: int, pid: str = "p") -> Problem:
    return Problem(id=pid, entry_point="f", initial_program=INITIAL, statement="s",
                   tests=[CallTest(id=f"t{i}", args=[i], expected=i) for i in range(n)])


def test_split_is_deterministic_and_independent_of_test_order():
    a = split_holdout(problem(10))
    shuffled = problem(10).model_copy(update={"tests": list(reversed(problem(10).tests))})
    b = split_holdout(shuffled)
    assert {t.id for t in a.holdout_tests} == {t.id for t in b.holdout_tests}
    assert len(a.holdout_tests) == 3 and split_holdout(a) == a
    assert {t.id for t in split_holdout(problem(10, "q")).holdout_tests} != {t.id for t in a.holdout_tests}


def test_small_problems_keep_every_test_for_the_search():
    assert split_holdout(problem(2)).holdout_tests == []
    assert len(split_holdout(problem(3), 0.9).search_view().tests) == 1


def test_views_partition_the_tests():
    p = split_holdout(problem(10))
    s, h = p.search_view(), p.holdout_view()
    assert [t.id for t in s.tests] + [t.id for t in h.tests] == sorted(
        [t.id for t in p.tests], key=lambda i: ([t.id for t in s.tests] + [t.id for t in h.tests]).index(i))
    assert not any(t.holdout for t in s.tests) and all(t.holdout for t in h.tests)
    assert problem(4).search_view() == problem(4) and problem(4).holdout_view() is None


def test_a_problem_cannot_hold_out_everything():
    with pytest.raises(ValueError, match="every test is held out"):
        Problem(id="p", entry_point="f", initial_program=INITIAL,
                tests=[CallTest(id="a", args=[1], expected=1, holdout=True)])


def test_humaneval_and_builtin_problems_split():
    for ref in ("HumanEval/0", "builtin/weighted_intervals"):
        p = split_holdout(load_problem(ref))
        assert 0 < len(p.holdout_tests) < len(p.tests)


def test_held_out_tests_never_reach_the_search(tmp_path):
    """A real (scripted) run on a problem with held-out tests: score vectors, cells, prompts,
    rewards and the stop rule see only the search tests; the run stores the whole problem."""
    import yaml
    from sqlalchemy import select

    from evolve.db import repo
    from evolve.db.models import Program, PromptRow, Rollout
    from evolve.runs import execute, open_run, seed, status
    from tests.evolve_support import write_config
    from tests.scripted_mutator import factory, write_fizz_problem

    d = write_fizz_problem(tmp_path / "fizz")
    data = yaml.safe_load((d / "problem.yaml").read_text())
    data = split_holdout(Problem.model_validate(data), 0.4).model_dump(mode="json", exclude_defaults=True)
    (d / "problem.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    full = load_problem(str(d))
    held = {t.id for t in full.holdout_tests}
    assert held and len(held) < len(full.tests)
    run_dir = tmp_path / "run"
    seed(str(d), run_dir, write_config(tmp_path / "c.yaml", {"loop": {"iterations": 8, "stop_when_solved": True}}))
    execute(run_dir, resume=False, mutator_factory=factory)
    r = open_run(run_dir)
    with repo.transaction(r.factory) as s:
        progs = s.scalars(select(Program).where(Program.run_id == r.run_id)).all()
        prompts = s.scalars(select(PromptRow).where(PromptRow.run_id == r.run_id)).all()
        rolls = s.scalars(select(Rollout).where(Rollout.run_id == r.run_id)).all()
    d_search = len(full.tests) - len(held)
    assert progs and all(len(p.scores) == d_search for p in progs)
    assert all(len(row) == d_search for x in rolls for row in x.rewards)
    assert not any(h in p.user for p in prompts for h in held)
    assert not any(h == f[0] for p in progs for f in p.failures for h in held)
    info = status(run_dir)
    assert info["tests"] == d_search
