"""LiveCodeBench `code_generation_lite` JSONL: one problem per line.

Public tests are a JSON string; private tests are either a JSON string or
base64(zlib(pickle(JSON string))), decoded by `safe_pickle` so no pickled code ever runs.
Private tests become hidden tests.  stdin tests -> StdioTest; functional (LeetCode) tests ->
CallTest on a module-level wrapper `<func_name>(*args)` that the initial program defines
outside the EVOLVE-BLOCK around the `class Solution` the model edits.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from problems.errors import ProblemFormatError, from_validation
from problems.loaders._util import build_problem, default_return, iter_jsonl, wrap_block
from problems.loaders.safe_pickle import UnsafePickleError, decode_b64_zlib_pickle
from problems.model import CallTest, Problem, StdioTest

NAME = "livecodebench"
TIME_LIMIT_S = 6.0  # LiveCodeBench's own per-test timeout
_ID_BAD = re.compile(r"[^A-Za-z0-9_.:-]")


class Row(BaseModel):
    """One line of code_generation_lite; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")
    question_title: str
    question_content: str
    platform: str = ""
    question_id: str
    contest_id: str = ""
    contest_date: str = ""
    starter_code: str = ""
    difficulty: str = ""
    public_test_cases: str
    private_test_cases: str = ""
    metadata: str = "{}"


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: str
    output: str
    testtype: Literal["stdin", "functional"]


def detect(path: Path) -> bool:
    if not (path.is_file() and path.name.endswith(".jsonl")):
        return False
    with path.open(encoding="utf-8", errors="replace") as f:
        head = f.readline(1 << 16)
    return '"question_content"' in head and '"public_test_cases"' in head


def load(path: Path) -> list[Problem]:
    return [convert(obj, path=path, line=lineno) for lineno, obj in iter_jsonl(path)]


def convert(obj: dict, *, path: Path, line: int) -> Problem:
    try:
        row = Row.model_validate(obj)
    except ValidationError as exc:
        raise from_validation(exc, file=path, line=line) from None
    public = _cases(_json(row.public_test_cases, path, line, "public_test_cases"), path, line, "public_test_cases")
    private = _cases(_private(row.private_test_cases, path, line), path, line, "private_test_cases")
    kinds = {c.testtype for c in public + private}
    if not kinds:
        raise ProblemFormatError("no test cases", file=path, line=line, field="public_test_cases")
    if len(kinds) > 1:
        raise ProblemFormatError("mixes stdin and functional tests", file=path, line=line, field="public_test_cases")
    cases = [(i, c, False) for i, c in enumerate(public)] + [(i, c, True) for i, c in enumerate(private)]
    data: dict[str, Any] = {
        "id": "lcb/" + _ID_BAD.sub("_", row.question_id),
        "title": row.question_title,
        "statement": row.question_content,
        "time_limit_s": TIME_LIMIT_S,
        "source": {
            "format": NAME,
            **{k: getattr(row, k) for k in ("platform", "question_id", "contest_id", "contest_date", "difficulty")},
        },
    }
    if kinds == {"stdin"}:
        data.update(mode="stdio", initial_program=STDIO_BASELINE, tests=[_stdio(i, c, h) for i, c, h in cases])
    else:
        func = _func_name(row, path, line)
        data.update(
            mode="function",
            entry_point=func,
            initial_program=_functional_baseline(row.starter_code, func, path, line),
            tests=[_call(i, c, h, path, line) for i, c, h in cases],
        )
    return build_problem(data, file=path, line=line)


STDIO_BASELINE = "import sys\n\n" + wrap_block(
    "def main() -> None:\n    data = sys.stdin.read().split()\n    print(len(data))\n\n\nmain()"
)


def _json(text: str, path: Path, line: int, field: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProblemFormatError(f"invalid JSON string: {exc.msg}", file=path, line=line, field=field) from None


def _private(text: str, path: Path, line: int) -> Any:
    if not text.strip():
        return []
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        value = decode_b64_zlib_pickle(text)
    except UnsafePickleError as exc:
        raise ProblemFormatError(str(exc), file=path, line=line, field="private_test_cases") from None
    return _json(value, path, line, "private_test_cases") if isinstance(value, str) else value


def _cases(value: Any, path: Path, line: int, field: str) -> list[Case]:
    if not isinstance(value, list):
        raise ProblemFormatError("must be a list of test cases", file=path, line=line, field=field)
    out = []
    for i, item in enumerate(value):
        try:
            out.append(Case.model_validate(item))
        except ValidationError as exc:
            raise from_validation(exc, file=path, line=line, prefix=f"{field}[{i}]") from None
    return out


def _stdio(i: int, case: Case, hidden: bool) -> StdioTest:
    return StdioTest(id=_test_id(i, hidden), input=case.input, output=case.output, hidden=hidden)


def _call(i: int, case: Case, hidden: bool, path: Path, line: int) -> CallTest:
    field = "private_test_cases" if hidden else "public_test_cases"
    try:
        args = [json.loads(part) for part in case.input.split("\n") if part.strip()]
        expected = json.loads(case.output)
    except json.JSONDecodeError as exc:
        raise ProblemFormatError(
            f"functional test {i}: input lines and output must be JSON ({exc.msg})", file=path, line=line, field=field
        ) from None
    return CallTest(id=_test_id(i, hidden), args=args, expected=expected, hidden=hidden)


def _test_id(i: int, hidden: bool) -> str:
    return f"{'private' if hidden else 'public'}_{i:02d}"


def _func_name(row: Row, path: Path, line: int) -> str:
    meta = _json(row.metadata or "{}", path, line, "metadata")
    func = meta.get("func_name") if isinstance(meta, dict) else None
    if not isinstance(func, str) or not func.isidentifier():
        raise ProblemFormatError("functional tests need metadata func_name", file=path, line=line, field="metadata")
    return func


def _functional_baseline(starter: str, func: str, path: Path, line: int) -> str:
    """Starter code with a weak body in the block, plus the module-level harness function."""
    stub = starter.rstrip() + "\n"
    try:
        tree = ast.parse(stub + "        pass\n")
    except SyntaxError as exc:
        raise ProblemFormatError(f"starter code does not parse: {exc.msg}", file=path, line=line, field="starter_code") from None
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Solution"), None)
    meth = next((n for n in (cls.body if cls else []) if isinstance(n, ast.FunctionDef) and n.name == func), None)
    if meth is None:
        raise ProblemFormatError(f"starter code has no Solution.{func}", file=path, line=line, field="starter_code")
    body = f"{' ' * (meth.col_offset + 4)}return {default_return(meth)}"
    harness = f'\n\ndef {func}(*args):\n    """Test harness: tests call this function."""\n    return Solution().{func}(*args)\n'
    return "from typing import *\n\n" + wrap_block(stub + body) + harness
