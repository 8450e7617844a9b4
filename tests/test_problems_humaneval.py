"""HumanEval split per assert: counts, conversions, setup code, baselines."""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path

import pytest

from problems.errors import ProblemFormatError
from problems.loaders import humaneval, load_problem, load_suite
from problems.model import AssertTest, CallTest


@pytest.fixture(scope="module")
def suite():
    return load_suite("humaneval")


def test_suite_has_164_problems_and_over_1100_tests(suite):
    assert len(suite) == 164
    total = sum(len(p.tests) for p in suite)
    # 1181 asserts in `check`, minus the 48 that never mention the candidate (`assert True`)
    assert total == 1133


def test_literal_asserts_become_call_tests():
    p = load_problem("HumanEval/0")
    assert all(isinstance(t, CallTest) for t in p.tests)
    assert p.tests[0].args == [[1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3] and p.tests[0].expected is True
    assert "has_close_elements" not in p.setup_code


def test_non_literal_asserts_keep_preceding_statements():
    p = load_problem("HumanEval/151")
    last = p.tests[-1]
    assert isinstance(last, AssertTest)
    assert last.code.splitlines()[0].startswith("lst = list(range(-99, 100, 2))")
    assert isinstance(p.tests[0], CallTest)  # literal asserts ignore the prefix


def test_loop_asserts_stay_one_test_and_prompt_helpers_go_to_setup():
    p = load_problem("HumanEval/38")
    assert len(p.tests) == 1 and "for _ in range(100)" in p.tests[0].code
    assert "def encode_cyclic" in p.setup_code
    ns: dict = {}
    exec(p.setup_code, ns)  # trusted dataset code: it must define what the assertion uses
    assert ns["encode_cyclic"]("abc") == "bca"


def test_initial_program_is_prompt_with_weak_body_in_block(suite):
    for p in suite:
        prog = p.initial_program
        assert prog.count("# EVOLVE-BLOCK-START") == 1 and prog.count("# EVOLVE-BLOCK-END") == 1
        block = prog.split("# EVOLVE-BLOCK-START")[1]
        assert f"def {p.entry_point}(" in block
        ast.parse(prog)
        assert "return" in block.split('"""')[-1] or "return" in block.split("'''")[-1]
        assert p.reference_solution.startswith(p.statement)


def test_reference_passes_its_call_tests_in_process(suite):
    """Trusted canonical code, checked without the sandbox: every CallTest must hold."""
    for p in suite:
        ns: dict = {}
        exec(p.reference_solution, ns)
        fn = ns[p.entry_point]
        for t in p.tests:
            if isinstance(t, CallTest):
                got = fn(*copy.deepcopy(t.args), **copy.deepcopy(t.kwargs))
                assert got == t.expected or abs(got - t.expected) <= 1e-6, (p.id, t.id)


def test_missing_key_names_line_and_field(tmp_path: Path):
    bad = tmp_path / "he.jsonl"
    row = {"task_id": "X/0", "prompt": "def f():\n    pass\n", "entry_point": "f", "test": "def check(c): pass"}
    bad.write_text(json.dumps(row) + "\n")
    with pytest.raises(ProblemFormatError) as exc:
        humaneval.load(bad)
    assert str(exc.value) == f"{bad}:1: field canonical_solution: missing key"
