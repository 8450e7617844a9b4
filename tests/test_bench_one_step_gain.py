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
