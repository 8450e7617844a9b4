"""Ordinary programs through the process backend: every test kind, cascade, limits, messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from problems.model import Problem
from sandbox.wire import decode_value, encode_value, outputs_equal, values_equal
from tests.sandbox_support import open_sandbox

ADD = "# EVOLVE-BLOCK-START\ndef add(a, b):\n    return a + b\n# EVOLVE-BLOCK-END\n"


@pytest.fixture(scope="module")
def box():
    sandbox = open_sandbox("process", slots=2)
    yield sandbox
    sandbox.close()


def fn_problem(tests, **kw) -> Problem:
    return Problem(id="p", entry_point=kw.pop("entry_point", "add"), initial_program=ADD, tests=tests, **kw)


def test_call_tests_produce_the_score_vector_in_problem_order(box):
    tests = [{"kind": "call", "id": f"t{i}", "args": [i, i], "expected": 2 * i if i != 2 else 99} for i in range(5)]
    result = box.evaluate(fn_problem(tests), ADD)
    assert result.scores == [1, 1, 0, 1, 1]
    assert result.fitness == pytest.approx(0.8)
    assert result.outcomes[2].message == "got 4, expected 99"
    assert result.backend == "process"


def test_float_tolerance_tuples_and_sets(box):
    program = "def f(x):\n    return {'t': (x, x / 3), 's': {1, 2}, 'z': 0.1 + 0.2}\n"
    tests = [{"kind": "call", "id": "t", "args": [1], "expected": {"t": [1, 0.3333333], "s": {1, 2}, "z": 0.3}}]
    problem = Problem(id="p", entry_point="f", initial_program=program, tests=tests)
    assert box.evaluate(problem, program).scores == [1.0]


def test_weights_and_hidden_tests(box):
    tests = [{"kind": "call", "id": "a", "args": [1, 1], "expected": 2, "weight": 3.0},
             {"kind": "call", "id": "h", "args": [1, 2], "expected": 0, "hidden": True}]
    result = box.evaluate(fn_problem(tests), ADD)
    assert result.fitness == pytest.approx(0.75)
    assert result.outcomes[1].message == "failed (hidden test)"  # neither input nor expected leak


def test_stdio_reads_stdin_every_way_and_normalises_whitespace(box):
    program = ("import sys\nfirst = input()\nrest = sys.stdin.read().split()\n"
               "print(int(first) + sum(map(int, rest)), '  ')\nprint()\n")
    tests = [{"kind": "stdio", "id": "s0", "input": "1\n2 3\n", "output": "6\n"},
             {"kind": "stdio", "id": "s1", "input": "5\n", "output": "5"},
             {"kind": "stdio", "id": "s2", "input": "5\n", "output": "6"}]
    problem = Problem(id="p", mode="stdio", initial_program=program, tests=tests)
    result = box.evaluate(problem, program)
    assert result.scores == [1, 1, 0]
    assert "line 1: got '5', expected '6'" in result.outcomes[2].message
    raw = "import sys\ndata = open(0).read().split()\nsys.stdout.buffer.write(str(len(data)).encode())\n"
    assert box.evaluate(problem.model_copy(update={"tests": [problem.tests[0].model_copy(update={"output": "3"})]}),
                        raw).scores == [1.0]


def test_assert_tests_run_against_the_candidate_with_setup_code(box):
    tests = [{"kind": "assert", "id": "a0", "code": "assert candidate(2, 3) == 5"},
             {"kind": "assert", "id": "a1", "code": "assert close(candidate(0.1, 0.2), 0.3)"},
             {"kind": "assert", "id": "a2", "code": "for i in range(20):\n    assert candidate(i, 1) == i + 1"},
             {"kind": "assert", "id": "a3", "code": "assert candidate(2, 2) == 5"}]
    problem = fn_problem(tests, setup_code="import math\ndef close(a, b):\n    return math.isclose(a, b)\n")
    result = box.evaluate(problem, ADD)
    assert result.scores == [1, 1, 1, 0]
    assert result.outcomes[3].message == "got 4, expected 5"


def test_scorer_tests_give_continuous_scores(box):
    scorer = "def score(instance, output):\n    if not isinstance(output, list):\n        raise ValueError('need a list')\n    return len(output) / instance\n"
    tests = [{"kind": "scorer", "id": f"i{n}", "instance": n} for n in (2, 4, 8)]
    problem = Problem(id="p", entry_point="solve", initial_program="def solve(n):\n    return []\n",
                      tests=tests, scorer_code=scorer, scoring="continuous")
    result = box.evaluate(problem, "def solve(n):\n    return [0, 0]\n")
    assert result.scores == [1.0, 0.5, 0.25]
    assert result.outcomes[2].message == "score 0.2500"
    bad = box.evaluate(problem, "def solve(n):\n    return 'no'\n")
    assert bad.scores == [0, 0, 0] and "need a list" in bad.outcomes[0].message


def test_cascade_skips_later_stages_below_the_threshold(box):
    tests = [{"kind": "call", "id": "s1", "args": [1, 1], "expected": 3, "stage": 1},
             {"kind": "call", "id": "s2", "args": [1, 1], "expected": 2, "stage": 2}]
    problem = fn_problem(tests, stage_thresholds=[0.5])
    result = box.evaluate(problem, ADD)
    assert [o.status for o in result.outcomes] == ["failed", "skipped"]
    assert result.stages_run == [1]
    ok = box.evaluate(problem.model_copy(update={"stage_thresholds": [0.0]}), ADD)
    assert ok.stages_run == [1, 2] and ok.scores == [0, 1]


@pytest.mark.parametrize("program, status, fragment", [
    ("def add(a, b)\n    return a", "error", "SyntaxError"),
    ("def other(a, b):\n    return a + b\n", "error", "entry point 'add' is not defined"),
    ("raise RuntimeError('boom at import')\n", "error", "RuntimeError: boom at import"),
    ("x = bytearray(2 * 1024**3)\n", "memory", "MemoryError"),
])
def test_programs_that_fail_to_load_mark_every_test(box, program, status, fragment):
    tests = [{"kind": "call", "id": f"t{i}", "args": [1, 1], "expected": 2} for i in range(3)]
    result = box.evaluate(fn_problem(tests, memory_mb=256), program)
    assert [o.status for o in result.outcomes] == [status] * 3
    assert fragment in result.error and fragment in result.outcomes[0].message


def test_exceptions_are_reported_with_the_candidate_line(box):
    program = "def add(a, b):\n    x = 1\n    return a / 0\n"
    result = box.evaluate(fn_problem([{"kind": "call", "id": "t", "args": [1, 1], "expected": 2}]), program)
    assert result.outcomes[0].status == "error"
    assert result.outcomes[0].message == "ZeroDivisionError: division by zero (line 3)"


def test_one_crash_costs_one_test(box):
    program = "import os\ndef add(a, b):\n    if a == 0:\n        os._exit(1)\n    return a + b\n"
    tests = [{"kind": "call", "id": f"t{i}", "args": [i, 1], "expected": i + 1} for i in range(3)]
    result = box.evaluate(fn_problem(tests), program)
    assert [o.status for o in result.outcomes] == ["crashed", "passed", "passed"]


def test_wall_limit_bounds_the_whole_candidate(box):
    program = "import time\ndef add(a, b):\n    time.sleep(0.4)\n    return a + b\n"
    tests = [{"kind": "call", "id": f"t{i}", "args": [1, 1], "expected": 2} for i in range(6)]
    result = box.evaluate(fn_problem(tests, wall_limit_s=1.5), program)
    statuses = [o.status for o in result.outcomes]
    assert statuses[0] == "passed" and statuses[-1] == "timeout"
    assert "wall limit" in result.outcomes[-1].message
    assert result.wall_ms < 4000


def test_concurrent_evaluation_returns_results_in_order(box):
    tests = [{"kind": "call", "id": "t", "args": [2, 2], "expected": 4}]
    programs = [ADD if i % 2 == 0 else ADD.replace("a + b", "a * b + 1") for i in range(8)]
    results = box.evaluate_many(fn_problem(tests), programs)
    assert [r.fitness for r in results] == [1.0, 0.0] * 4


def test_wire_values_roundtrip_and_compare():
    value = {"a": (1, 2.5, float("inf")), 3: {frozenset({1})}, "b": b"\x00", "n": None}
    assert decode_value(encode_value(value)) == {"a": (1, 2.5, float("inf")), 3: {frozenset({1})}, "b": b"\x00", "n": None}
    with pytest.raises(TypeError):
        encode_value(type("X", (int,), {})(3))
    assert values_equal([1, 2.0000001], (1, 2), 1e-6, 1e-6)
    assert not values_equal([1, 2], [1, 2, 3], 1e-6, 1e-6)
    assert values_equal(float("nan"), float("nan"), 0, 0)
    assert outputs_equal("1 2  \n\n", "1 2", 0, 0)
    assert outputs_equal("0.3333", "0.33333333", 1e-3, 0) and not outputs_equal("0.3333", "0.33333333", 0, 0)


def test_openevolve_evaluators_run_inside_the_sandbox(box):
    from pathlib import Path

    from problems.loaders import load_path

    (problem,) = load_path(Path(__file__).parent / "fixtures" / "problems" / "openevolve")
    result = box.evaluate(problem, problem.initial_program)
    assert 0.0 < result.fitness < 1.0, result
    assert all(o.status in ("passed", "failed") for o in result.outcomes), result.outcomes
    broken = box.evaluate(problem, problem.initial_program.replace("def ", "def broken syntax ", 1))
    assert broken.fitness < result.fitness


def test_runner_in_a_private_directory_still_runs_jailed_workers(tmp_path):
    """Regression: a checkout under a 0700 directory (mktemp, a home) was unreadable to the slot
    uid, so every worker crashed at load; the supervisor now serves the worker files elsewhere."""
    import shutil
    import subprocess
    import sys

    from sandbox import slots, wire
    from sandbox.jobs import build_job

    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    for name in slots.RUNNER_FILES:
        shutil.copy(Path(slots.SANDBOX_DIR) / name, private / name)
    proc = subprocess.Popen([sys.executable, "-I", str(private / "runner.py"), "supervise", "--uid", "61050"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert wire.read_frame(proc.stdout)["type"] == "ready"
        problem = fn_problem([{"kind": "call", "id": "t", "args": [2, 3], "expected": 5}])
        wire.write_frame(proc.stdin, build_job(problem, ADD, 1 << 20))
        outcome = wire.read_frame(proc.stdout)["outcome"]
        assert outcome["status"] == "passed", outcome
    finally:
        proc.stdin.close()
        proc.wait(10)
