"""Mutation prompts: visible failures only, complementary inspirations, attempts, templates."""

from __future__ import annotations

import pytest

from evolve.config import PromptConfig
from evolve.mutations import format_instructions
from evolve.prompts import (
    Failure, ProgramView, PromptBuilder, check_templates, child_summary, completion_summary,
)
from tests.scripted_mutator import INITIAL, fizz_problem

IDS = [t.id for t in fizz_problem().tests]  # n30 is hidden


def program(seq: int, passing: set[str], code: str = INITIAL) -> ProgramView:
    scores = tuple(1.0 if i in passing else 0.0 for i in IDS)
    fails = tuple(Failure(i, "failed", f"got '' for {i}; SECRET-{i}") for i in IDS if i not in passing)
    return ProgramView(seq, code, sum(scores) / len(scores), scores, fails)


def builder(prompt: PromptConfig | None = None) -> PromptBuilder:
    return PromptBuilder(fizz_problem(), fmt="rewrite", answers=3, prompt=prompt)


def test_prompt_has_all_parts_and_no_hidden_test():
    parent = program(4, {"n1", "n7"})
    insp = program(9, {"n3", "n9", "n30"}, code="def solve(n):\n    return 'fizz'\n")
    p = builder().build(parent, [insp], ["edit of #2: answer 1 rejected: SEARCH text not found"])
    text = p.text()
    assert fizz_problem().statement in text and INITIAL in text
    assert "fitness 0.250, passes 2 of 7 visible tests" in text
    assert "- n3 (failed): solve(3) -> got '' for n3; SECRET-n3" in text  # the input is shown
    assert "n30" not in text and "SECRET-n30" not in text
    assert "passes tests the current one fails: n3, n9" in text and "return 'fizz'" in text
    assert "SEARCH text not found" in text
    assert format_instructions(3, "rewrite") in text
    assert p.inspirations == [9] and p.messages()[0]["role"] == "system"


def test_limits_and_empty_sections():
    parent = program(0, set())
    p = builder(PromptConfig(failing_tests=2, recent_attempts=1)).build(parent, [], ["old", "new"])
    assert p.user.count("(failed)") == 2 and "- new" in p.user and "- old" not in p.user
    bare = builder(PromptConfig(recent_attempts=0)).build(program(0, set(IDS) - {"n30"}), [], ["x"])
    assert "Failing tests" not in bare.user and "Recent attempts" not in bare.user
    hidden_only = builder().build(parent, [program(3, {"n30"})], [])
    assert "some hidden tests" in hidden_only.user and "n30" not in hidden_only.user


def test_no_prompt_config_means_its_defaults():
    b, d = builder(), PromptConfig()
    assert (b.max_failing, b.max_passing, b.max_attempts, b.hidden_failures) == (
        d.failing_tests, d.passing_tests, d.recent_attempts, d.hidden_failures)


def test_template_overrides():
    b = builder(PromptConfig(templates={"system": "Be brief.", "task": "Fix:\n$code\n$format"}))
    p = b.build(program(0, set()), [], [])
    assert p.system == "Be brief." and p.user.startswith("Fix:\n" + INITIAL)


@pytest.mark.parametrize("overrides, match", [
    ({"nope": "x"}, "unknown template 'nope'"),
    ({"task": "$code $secret"}, r"unknown placeholder \$secret"),
    ({"attempt": "cost: $5"}, "invalid"),
])
def test_bad_templates_rejected(overrides, match):
    with pytest.raises(ValueError, match=match):
        check_templates(overrides)


def test_attempt_summaries_name_visible_tests_only():
    b = builder()
    parent = program(1, {"n1"})
    line = child_summary(b, parent, 7, 0.5, tuple(1.0 if i in {"n3", "n30"} else 0.0 for i in IDS),
                         failed_blocks=["2: SEARCH text not found"])
    assert "#7" in line and "now passes n3" in line and "now fails n1" in line
    assert "n30" not in line and "blocks not applied: 2: SEARCH text not found" in line
    assert len(completion_summary(1, ["x" * 1000])) == 400


def test_crossover_prompt_shows_both_programs_and_what_each_passes():
    a = program(4, {"n1", "n7"})
    b = program(9, {"n3", "n9", "n30"}, code="def solve(n):\n    return 'fizz'\n")
    p = builder().build_crossover(a, b, ["edit of #2: answer 1 unchanged"])
    assert "# Program A (fitness 0.250, passes 2 of 7 visible tests)" in p.user and INITIAL in p.user
    assert "# Program B (fitness 0.375) passes tests that A fails: n3, n9" in p.user
    assert "return 'fizz'" in p.user and "Combine A and B" in p.user and "n30" not in p.user
    assert p.inspirations == [9] and "answer 1 unchanged" in p.user


def test_failing_tests_show_their_inputs_clipped():
    from evolve.prompts import INPUT_LIMIT, test_input
    from problems.model import CallTest, StdioTest

    prob = fizz_problem()
    assert test_input(prob, CallTest(id="x", args=[3, "a"], expected=1)) == "solve(3, 'a') -> "
    long = test_input(prob, StdioTest(id="y", input="9 " * 500, output="1"))
    assert long.startswith("input '9 9") and len(long) == INPUT_LIMIT + len(" -> ")


def test_passing_tests_shown_with_expected_results_only_when_asked_and_never_hidden():
    parent = program(4, {"n1", "n7", "n30"})
    assert "already passes" not in builder().build(parent, [], []).user  # default: off
    text = builder(PromptConfig(passing_tests=1)).build(parent, [], []).user
    assert "# Tests the current program already passes (keep them passing)" in text
    assert "- n1: solve(1) -> '1'" in text and "- n7:" not in text  # capped at 1
    text = builder(PromptConfig(passing_tests=5)).build(parent, [], []).user
    assert "- n7: solve(7) -> '7'" in text and "n30" not in text  # hidden stays hidden
    cross = builder(PromptConfig(passing_tests=5)).build_crossover(parent, program(9, {"n3"}), [])
    assert "- n1: solve(1) -> '1'" in cross.user


def test_hidden_failures_counted_only_when_asked_never_named():
    passes_visible = program(5, set(IDS) - {"n30"})  # fails only the hidden test
    assert "Failing tests" not in builder().build(passes_visible, [], []).user  # default: off
    text = builder(PromptConfig(hidden_failures=True)).build(passes_visible, [], []).user
    assert "# Failing tests of the current program\n- 1 hidden test(s) whose inputs" in text
    assert "n30" not in text and "SECRET" not in text
    both = builder(PromptConfig(hidden_failures=True)).build(program(6, {"n1"}), [], []).user
    assert "- n3 (failed)" in both and "- 1 hidden test(s)" in both
    clean = builder(PromptConfig(hidden_failures=True)).build(program(7, set(IDS)), [], []).user
    assert "Failing tests" not in clean and "hidden test" not in clean
