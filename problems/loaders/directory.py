"""The native directory format: `problem.yaml` + program files + tests (see problems/FORMAT.md).

Every text field of a Problem may be given inline or as `<field>_file: path`; conventional file
names (initial_program.py, reference.py, scorer.py, setup.py, statement.md) are picked up
without being named.  Tests come from `tests:` in the yaml, then `tests.yaml`, then
`tests.jsonl`, in that order; each test may move any field to a file the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from problems.errors import ProblemFormatError, from_validation
from problems.loaders._util import (
    build_problem,
    iter_jsonl,
    load_yaml,
    read_text,
    require_markers,
    yaml_item_lines,
)
from problems.model import Problem, TestCase

NAME = "directory"
PROBLEM_FILE = "problem.yaml"
TESTS_YAML = "tests.yaml"
TESTS_JSONL = "tests.jsonl"
# problem-level text fields and the file each one is read from when not given
TEXT_FIELDS: dict[str, str | None] = {
    "statement": "statement.md",
    "initial_program": "initial_program.py",
    "reference_solution": "reference.py",
    "setup_code": "setup.py",
    "scorer_code": "scorer.py",
    "evaluator_code": None,
}
# test-level fields read verbatim from `<field>_file`; all other `<field>_file` hold JSON
TEST_TEXT_FIELDS = {"input", "output", "code"}
KIND_BY_FIELD = {"code": "assert", "instance": "scorer", "metric": "evaluator", "output": "stdio", "input": "stdio"}
_TEST_ADAPTER: TypeAdapter = TypeAdapter(TestCase)


def detect(path: Path) -> bool:
    return path.is_dir() and (path / PROBLEM_FILE).is_file()


def load(path: Path) -> list[Problem]:
    return [load_one(path)]


def load_one(root: Path) -> Problem:
    spec_path = root / PROBLEM_FILE
    data = load_yaml(spec_path)
    if not isinstance(data, dict):
        raise ProblemFormatError("top level must be a mapping", file=spec_path, line=1)
    data = dict(data)
    data.setdefault("id", root.name)
    for field, default in TEXT_FIELDS.items():
        _resolve_text(root, spec_path, data, field, default)
    if "initial_program" not in data:
        raise ProblemFormatError("missing file", file=root / "initial_program.py")
    if not isinstance(data.get("statement"), str) or not data["statement"].strip():
        raise ProblemFormatError("required: the problem statement (statement: in problem.yaml, or a statement.md file)",
                                 file=spec_path, field="statement")
    require_markers(data["initial_program"], file=root / "initial_program.py", field="initial_program")
    data["tests"] = _collect_tests(root, spec_path, data.get("tests"))
    source = data.get("source") if isinstance(data.get("source"), dict) else {}
    data["source"] = {"format": "directory", **source}
    return build_problem(data, file=spec_path)


def _resolve_text(root: Path, spec_path: Path, data: dict, field: str, default: str | None) -> None:
    key = f"{field}_file"
    if key in data:
        if field in data:
            raise ProblemFormatError(f"give {field} or {key}, not both", file=spec_path, field=key)
        rel = data.pop(key)
        if not isinstance(rel, str):
            raise ProblemFormatError("must be a relative path", file=spec_path, field=key)
        data[field] = read_text(root / rel)
    elif field not in data and default is not None and (root / default).is_file():
        data[field] = read_text(root / default)


def _collect_tests(root: Path, spec_path: Path, inline: Any) -> list[Any]:
    """Validated tests from all sources; each error names its own file and line."""
    sources: list[tuple[Path, int | None, str, Any]] = []
    if inline is not None:
        if not isinstance(inline, list):
            raise ProblemFormatError("must be a list", file=spec_path, field="tests")
        lines = yaml_item_lines(spec_path, "tests")
        sources += [(spec_path, _at(lines, i), f"tests[{i}]", t) for i, t in enumerate(inline)]
    tests_yaml = root / TESTS_YAML
    if tests_yaml.is_file():
        items = load_yaml(tests_yaml)
        if not isinstance(items, list):
            raise ProblemFormatError("top level must be a list of tests", file=tests_yaml, line=1)
        lines = yaml_item_lines(tests_yaml, None)
        sources += [(tests_yaml, _at(lines, i), f"[{i}]", t) for i, t in enumerate(items)]
    tests_jsonl = root / TESTS_JSONL
    if tests_jsonl.is_file():
        sources += [(tests_jsonl, n, "", obj) for n, obj in iter_jsonl(tests_jsonl)]
    if not sources:
        raise ProblemFormatError(f"no tests (give tests:, {TESTS_YAML} or {TESTS_JSONL})", file=spec_path)
    return [_one_test(root, file, line, prefix, raw) for file, line, prefix, raw in sources]


def infer_kind(test: dict) -> str:
    """`kind` may be left out: the fields a test has say which kind it is."""
    for key, kind in KIND_BY_FIELD.items():
        if key in test:
            return kind
    return "call"


def _at(lines: list[int], i: int) -> int | None:
    return lines[i] if i < len(lines) else None


def _one_test(root: Path, file: Path, line: int | None, prefix: str, raw: Any):
    if not isinstance(raw, dict):
        raise ProblemFormatError("a test must be a mapping", file=file, line=line, field=prefix or None)
    test = dict(raw)
    for key in [k for k in test if isinstance(k, str) and k.endswith("_file")]:
        field = key[: -len("_file")]
        rel = test.pop(key)
        where = f"{prefix}.{key}" if prefix else key
        if field in test:
            raise ProblemFormatError(f"give {field} or {key}, not both", file=file, line=line, field=where)
        if not isinstance(rel, str):
            raise ProblemFormatError("must be a relative path", file=file, line=line, field=where)
        text = read_text(root / rel)
        if field in TEST_TEXT_FIELDS:
            test[field] = text
        else:
            try:
                test[field] = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ProblemFormatError(f"invalid JSON: {exc.msg}", file=root / rel, line=exc.lineno) from None
    test.setdefault("kind", infer_kind(test))
    try:
        return _TEST_ADAPTER.validate_python(test)
    except ValidationError as exc:
        raise from_validation(exc, file=file, line=line, prefix=prefix) from None
