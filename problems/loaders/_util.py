"""Small helpers shared by the loaders: reading files and building Problems with located errors."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any, Iterator

import yaml
from pydantic import ValidationError

from problems.errors import ProblemFormatError, from_validation
from problems.model import EVOLVE_END, EVOLVE_START, Problem


MAX_FILE_BYTES = 64 << 20  # cap on any one problem file (tests with large inputs included)


def read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ProblemFormatError("not a regular file", file=path)
        if size > MAX_FILE_BYTES:
            raise ProblemFormatError(f"{size} bytes, over the cap of {MAX_FILE_BYTES} for a problem file", file=path)
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProblemFormatError("file not found", file=path) from None
    except UnicodeDecodeError as exc:
        raise ProblemFormatError(f"not UTF-8 text (byte {exc.start}: {exc.reason})", file=path) from None
    except OSError as exc:
        raise ProblemFormatError(f"cannot read: {exc.strerror}", file=path) from None


def load_yaml(path: Path) -> Any:
    """Parse YAML; syntax errors name the line."""
    text = read_text(path)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ProblemFormatError(f"invalid YAML: {reason}", file=path, line=line) from None


def yaml_item_lines(path: Path, key: str | None) -> list[int]:
    """1-based line of each item of the sequence at `key` (or the top-level sequence)."""
    try:
        node = yaml.compose(read_text(path))
    except yaml.YAMLError:
        return []
    if node is not None and key is not None and isinstance(node, yaml.MappingNode):
        node = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [item.start_mark.line + 1 for item in node.value]


def iter_jsonl(path: Path, text: str | None = None) -> Iterator[tuple[int, dict]]:
    """(line number, object) for every non-blank line; a broken line names its number."""
    text = read_text(path) if text is None else text
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ProblemFormatError(f"invalid JSON: {exc.msg} (column {exc.colno})", file=path, line=lineno) from None
        if not isinstance(obj, dict):
            raise ProblemFormatError("each line must be a JSON object", file=path, line=lineno)
        yield lineno, obj


def build_problem(data: dict, *, file: Path, line: int | None = None, prefix: str = "") -> Problem:
    try:
        return Problem.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc, file=file, line=line, prefix=prefix) from None


def require_markers(program: str, *, file: Path, line: int | None = None, field: str | None = None) -> None:
    """Initial programs must say which region evolution may edit."""
    start, end = program.find(EVOLVE_START), program.find(EVOLVE_END)
    if start < 0 or end < 0 or end < start:
        raise ProblemFormatError(
            f"initial program needs '{EVOLVE_START}' ... '{EVOLVE_END}' markers", file=file, line=line, field=field
        )


def wrap_block(body: str) -> str:
    """Surround `body` with EVOLVE-BLOCK markers."""
    return f"{EVOLVE_START}\n{body.rstrip()}\n{EVOLVE_END}\n"


# weak baseline return value by return annotation (outermost name); anything else returns None
DEFAULT_RETURNS = {
    "bool": "False",
    "int": "0",
    "float": "0.0",
    "str": "''",
    "list": "[]",
    "List": "[]",
    "tuple": "()",
    "Tuple": "()",
    "dict": "{}",
    "Dict": "{}",
}


def default_return(fn: ast.FunctionDef) -> str:
    """A type-correct, almost always wrong return value for a weak baseline."""
    ann = fn.returns
    if isinstance(ann, ast.Subscript):
        ann = ann.value
    name = ann.id if isinstance(ann, ast.Name) else ann.attr if isinstance(ann, ast.Attribute) else ""
    return DEFAULT_RETURNS.get(name, "None")
