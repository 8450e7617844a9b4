"""Directory format, the loader registry, and one-line errors for malformed inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from problems.errors import ProblemFormatError
from problems.loaders import LOADERS, load_path, load_problem, load_suite, loader_for
from problems.model import StdioTest

FIX = Path(__file__).parent / "fixtures" / "problems"
EXAMPLE = FIX / "directory" / "running_sum"


@pytest.fixture()
def example(tmp_path: Path) -> Path:
    dst = tmp_path / "running_sum"
    shutil.copytree(EXAMPLE, dst)
    return dst


def test_directory_example_loads_all_test_sources_in_order():
    (problem,) = load_path(EXAMPLE)
    assert problem.id == "example/running_sum"
    assert problem.mode == "stdio"
    assert [t.id for t in problem.tests] == ["small", "negative", "single", "zeros", "large"]
    assert all(isinstance(t, StdioTest) for t in problem.tests)
    large = problem.tests[-1]
    assert large.hidden and large.input.startswith("2000\n") and large.output == (EXAMPLE / "tests/large.out").read_text()
    assert problem.reference_solution.startswith("import sys")
    assert problem.source["format"] == "directory" and problem.source["author"] == "vpo-evolve"
    assert [t.id for t in problem.visible_tests] == ["small", "negative", "single", "zeros"]


def test_registry_detects_each_format():
    assert loader_for(EXAMPLE).name == "directory"
    assert loader_for(FIX / "openevolve" / "sum_of_squares").name == "openevolve"
    assert loader_for(FIX / "livecodebench" / "sample.jsonl").name == "livecodebench"
    assert loader_for(FIX) is None
    assert set(LOADERS) == {"directory", "openevolve", "humaneval", "livecodebench"}


def test_collection_directory_loads_children(tmp_path: Path):
    shutil.copytree(EXAMPLE, tmp_path / "b")
    shutil.copytree(FIX / "openevolve" / "sum_of_squares", tmp_path / "a")
    (tmp_path / "notes.txt").write_text("ignored")
    ids = [p.id for p in load_suite(str(tmp_path))]
    assert ids == ["openevolve/a", "example/running_sum"]


def test_load_problem_by_path_and_unknown_id():
    assert load_problem(str(EXAMPLE)).id == "example/running_sum"
    with pytest.raises(ProblemFormatError, match="unknown problem"):
        load_problem("nope/xyz")
    with pytest.raises(ProblemFormatError, match="unknown suite"):
        load_suite("no-such-suite")


def test_kind_is_inferred_and_fields_can_live_in_files(example: Path):
    (example / "args.json").write_text("[[1, 2], 3]")
    (example / "tests.yaml").unlink()
    (example / "tests.jsonl").unlink()
    spec = (example / "problem.yaml").read_text().replace("mode: stdio", "mode: function\nentry_point: f")
    spec = spec.split("tests:")[0] + "tests:\n  - {id: c1, args_file: args.json, expected: 6}\n  - {id: a1, code: 'assert candidate([1], 0) == 1'}\n"
    (example / "problem.yaml").write_text(spec)
    problem = load_path(example)[0]
    assert [(t.id, t.kind) for t in problem.tests] == [("c1", "call"), ("a1", "assert")]
    assert problem.tests[0].args == [[1, 2], 3]


# ---------------------------------------------------------------- malformed inputs


def _msg(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_bad_yaml_names_file_and_line(example: Path):
    (example / "problem.yaml").write_text("id: x\ntitle: [unclosed\nmode: stdio\n")
    with pytest.raises(ProblemFormatError) as exc:
        load_path(example)
    assert _msg(exc).startswith(f"{example / 'problem.yaml'}:3: invalid YAML")


def test_missing_test_field_names_file_line_and_field(example: Path):
    (example / "tests.yaml").write_text("- id: single\n  input: '1\\n7\\n'\n  output: '7'\n- id: broken\n  input: '2'\n  kind: stdio\n")
    with pytest.raises(ProblemFormatError) as exc:
        load_path(example)
    assert _msg(exc) == f"{example / 'tests.yaml'}:4: field [1].output: Field required"


def test_missing_problem_field_and_unknown_key(example: Path):
    text = (example / "problem.yaml").read_text()
    (example / "problem.yaml").write_text(text.replace("mode: stdio", "mode: function"))
    with pytest.raises(ProblemFormatError) as exc:
        load_path(example)
    assert "entry_point is required" in _msg(exc) and "problem.yaml" in _msg(exc)
    (example / "problem.yaml").write_text(text + "colour: blue\n")
    with pytest.raises(ProblemFormatError) as exc:
        load_path(example)
    assert _msg(exc).endswith("field colour: Extra inputs are not permitted")


def test_broken_jsonl_line_names_line(example: Path):
    (example / "tests.jsonl").write_text('{"id": "a", "input": "1", "output": "1"}\n\n{"id": "b", "input": \n')
    with pytest.raises(ProblemFormatError) as exc:
        load_path(example)
    assert _msg(exc).startswith(f"{example / 'tests.jsonl'}:3: invalid JSON")


def test_missing_initial_program_and_markers(example: Path):
    program = (example / "initial_program.py").read_text()
    (example / "initial_program.py").write_text(program.replace("# EVOLVE-BLOCK-END\n", ""))
    with pytest.raises(ProblemFormatError, match="field initial_program: initial program needs"):
        load_path(example)
    (example / "initial_program.py").unlink()
    with pytest.raises(ProblemFormatError, match="initial_program.py: missing file"):
        load_path(example)


def test_missing_referenced_file(example: Path):
    (example / "tests.jsonl").write_text(json.dumps({"id": "x", "input_file": "nope.in", "output": ""}) + "\n")
    with pytest.raises(ProblemFormatError, match=r"nope\.in: file not found"):
        load_path(example)
