"""LiveCodeBench code_generation_lite rows: stdin and functional tests, safe private decoding."""

from __future__ import annotations

import base64
import json
import os
import pickle
import zlib
from pathlib import Path

import pytest

from problems.errors import ProblemFormatError
from problems.loaders import livecodebench, load_path
from problems.loaders.safe_pickle import UnsafePickleError, loads_plain

SAMPLE = Path(__file__).parent / "fixtures" / "problems" / "livecodebench" / "sample.jsonl"


def _rows() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text().splitlines()]


def _write(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "lcb.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_stdin_problem_with_hidden_private_tests():
    stdin, _ = load_path(SAMPLE)
    assert stdin.id == "lcb/abc999_a" and stdin.mode == "stdio"
    assert [(t.id, t.hidden) for t in stdin.tests] == [("public_00", False), ("private_00", True), ("private_01", True)]
    assert stdin.tests[1].input == "10 20\n" and stdin.tests[1].output == "30\n"
    assert stdin.source["platform"] == "atcoder" and stdin.time_limit_s == livecodebench.TIME_LIMIT_S


def test_functional_problem_calls_module_level_harness():
    _, func = load_path(SAMPLE)
    assert func.mode == "function" and func.entry_point == "maxPairSum"
    assert [(t.args, t.expected) for t in func.tests] == [([[1, 5, 3], 0], 8), ([[2, 2], 1], 4), ([[-1, -2, -3], 0], -3)]
    ns: dict = {}
    exec(func.initial_program, ns)  # our own generated baseline: weak but runnable
    assert ns["maxPairSum"]([1, 5, 3], 0) == 0
    block = func.initial_program.split("# EVOLVE-BLOCK-START")[1].split("# EVOLVE-BLOCK-END")[0]
    assert "class Solution" in block and "def maxPairSum(*args)" not in block


def test_plain_json_private_tests_are_accepted(tmp_path: Path):
    rows = _rows()
    rows[0]["private_test_cases"] = json.dumps([{"input": "1 1\n", "output": "2\n", "testtype": "stdin"}])
    (p, _) = load_path(_write(tmp_path, rows))
    assert [t.output for t in p.tests] == ["3\n", "2\n"]


class _Hostile:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/vpo_pickle_pwned",))


def test_hostile_pickle_is_refused_without_running(tmp_path: Path):
    marker = Path("/tmp/vpo_pickle_pwned")
    marker.unlink(missing_ok=True)
    rows = _rows()
    rows[1]["private_test_cases"] = base64.b64encode(zlib.compress(pickle.dumps(_Hostile()))).decode()
    path = _write(tmp_path, rows)
    with pytest.raises(ProblemFormatError) as exc:
        load_path(path)
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}:2: field private_test_cases: refused pickle global posix.system")
    assert "only plain str/list/dict/int/float/bool/None are admitted" in msg
    assert not marker.exists()


@pytest.mark.parametrize(
    "value, fragment",
    [({1, 2}, "pickled set"), ((1, 2), "pickled tuple"), (b"x", "pickled bytes"), ({1: "a"}, "dict key of type int")],
)
def test_non_plain_values_are_refused(value, fragment):
    with pytest.raises(UnsafePickleError, match=fragment):
        loads_plain(pickle.dumps(value))
    assert loads_plain(pickle.dumps({"a": [1, 2.5, None, True, "s"]})) == {"a": [1, 2.5, None, True, "s"]}


def test_corrupt_private_payload_and_broken_lines(tmp_path: Path):
    rows = _rows()
    rows[0]["private_test_cases"] = "bm90IHpsaWI="  # base64 of "not zlib"
    with pytest.raises(ProblemFormatError, match=r"lcb\.jsonl:1: field private_test_cases: not zlib data"):
        load_path(_write(tmp_path, rows))
    path = tmp_path / "lcb.jsonl"
    path.write_text(json.dumps(_rows()[0]) + "\n" + '{"question_title": "x", "question_content": \n')
    with pytest.raises(ProblemFormatError, match=r"lcb\.jsonl:2: invalid JSON"):
        livecodebench.load(path)


def test_missing_and_unknown_fields(tmp_path: Path):
    rows = _rows()
    del rows[1]["question_id"]
    with pytest.raises(ProblemFormatError) as exc:
        livecodebench.load(_write(tmp_path, rows))
    assert str(exc.value).endswith("lcb.jsonl:2: field question_id: Field required")
    rows = _rows()
    rows[1]["metadata"] = "{}"
    with pytest.raises(ProblemFormatError, match="lcb.jsonl:2: field metadata: functional tests need metadata func_name"):
        livecodebench.load(_write(tmp_path, rows))
    rows = _rows()
    rows[0]["public_test_cases"] = json.dumps([{"input": "1", "output": "1", "testtype": "stdin", "x": 1}])
    with pytest.raises(ProblemFormatError, match=r"field public_test_cases\[0\]\.x: Extra inputs"):
        livecodebench.load(_write(tmp_path, rows))


def test_both_kinds_run_in_the_sandbox():
    from sandbox.api import evaluate

    stdin, func = load_path(SAMPLE)
    ok = evaluate(stdin, "a, b = map(int, input().split())\nprint(a + b)\n", backend="process")
    assert ok.scores == [1.0, 1.0, 1.0]
    solution = func.initial_program.replace("        return 0", "        nums = sorted(nums)\n        return nums[-1] + nums[-2]")
    ok = evaluate(func, solution, backend="process")
    assert ok.scores == [1.0, 1.0, 1.0]
    weak = evaluate(func, func.initial_program, backend="process")
    assert weak.fitness < 1.0
