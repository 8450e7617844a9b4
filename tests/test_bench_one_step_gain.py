"""benchmarks/one_step_gain.py --parent-file: a problem restarted from a partially correct program."""

from __future__ import annotations

import pytest

from benchmarks.one_step_gain import VARIANTS, with_parent
from evolve.config import RunConfig
from evolve.mutations.markers import regions
from problems.loaders import load_problem

MEDIAN = "benchmarks/vpo_vs_grpo_suite/median"


def test_parent_file_replaces_the_initial_program_inside_markers():
    problem = with_parent(load_problem(MEDIAN), MEDIAN, "sloppy.py")
    code = problem.initial_program
    assert "sorted(xs)[len(xs) // 2]" in code
    assert regions(code.splitlines()) is not None  # sloppy.py has no markers: wrapped
    assert problem.tests == load_problem(MEDIAN).tests


def test_a_missing_parent_file_is_one_line_naming_it():
    with pytest.raises(SystemExit, match="median/nope.py: no such parent file"):
        with_parent(load_problem(MEDIAN), MEDIAN, "nope.py")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_is_a_valid_run_config(variant):
    RunConfig.model_validate(VARIANTS[variant])


def test_harvested_parents_are_the_fittest_distinct_partial_programs_of_finished_cells(tmp_path):
    from sqlalchemy import select

    from benchmarks.one_step_gain import harvest_parents
    from evolve.db import repo
    from evolve.db.models import Program
    from evolve.runs import execute, open_run, seed
    from tests.evolve_support import problem_dir, write_config
    from tests.scripted_mutator import factory

    run_dir = tmp_path / "work" / "evolve_m1" / "seed0" / "test-fizz"
    seed(str(problem_dir(tmp_path)), run_dir, write_config(tmp_path / "c.yaml", {"loop": {"iterations": 6}}))
    execute(run_dir, resume=False, mutator_factory=factory)
    assert harvest_parents(tmp_path / "work", "test/fizz", ["evolve_m1"], 3) == []  # unfinished cell
    (run_dir / "cell.json").write_text('{"wall_s": 1}')
    r = open_run(run_dir)
    with repo.transaction(r.factory) as s:
        rows = s.execute(select(Program.fitness, Program.code).where(
            Program.origin == "child", Program.error == "")).all()
    r.engine.dispose()
    partial = sorted({(f, c) for f, c in rows if 0 < f < 1}, key=lambda t: -t[0])
    assert partial, "the scripted mutator made no partially correct child"
    got = harvest_parents(tmp_path / "work", "test/fizz", ["evolve_m1", "evolve_m3"], 2)
    assert len(got) == min(2, len({c for _, c in partial})) and len(set(got)) == len(got)
    assert got[0] in {c for f, c in partial if f == partial[0][0]}


def test_held_counts_search_solving_children_that_pass_the_held_out_tests():
    from types import SimpleNamespace

    from benchmarks.one_step_gain import held
    from problems.holdout import split_holdout
    from tests.scripted_mutator import fizz_problem

    problem = split_holdout(fizz_problem(), 0.3)
    answer = "### Answer 1\n```python\ndef solve(n):\n    return 'ok'\n```\n"
    pool = [SimpleNamespace(fitness=[1.0], completion=SimpleNamespace(text=answer)),
            SimpleNamespace(fitness=[0.5], completion=SimpleNamespace(text=answer))]
    seen: list[str] = []

    class Box:
        def evaluate(self, view, code):
            seen.append(code)
            assert view.tests and all(t.holdout for t in view.tests)
            return SimpleNamespace(all_passed="'ok'" in code)

    assert held(problem, pool, Box()) == 1 and len(seen) == 1 and "return 'ok'" in seen[0]


def test_context_prompts_show_the_elites_as_inspirations_on_the_initial_program():
    from benchmarks.one_step_gain import with_context
    from evolve.config import RunConfig
    from evolve.offline import Task
    from evolve.prompts import ProgramView
    from sandbox.api import Sandbox
    from sandbox.config import SandboxConfig
    from tests.scripted_mutator import INITIAL, fizz_problem

    problem = fizz_problem()
    elite = "def solve(n):\n    return 'fizz' if n % 3 == 0 else str(n)\n"
    seed = ProgramView(0, INITIAL, 0.0, tuple(0.0 for _ in problem.tests))
    with Sandbox(SandboxConfig(backend="process", slots=1)) as box:
        out = with_context(Task(problem, [], seed), [elite], RunConfig(), box)
    text = out.messages[1]["content"]
    assert INITIAL in text and "return 'fizz' if n % 3 == 0" in text
    assert "# Another program (fitness" in text and "passes tests the current one fails: n1, n3, n7, n9" in text
    assert out.view is seed and out.problem is problem
