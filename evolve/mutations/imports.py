"""Add the standard-library imports a child uses but never wrote.

A small mutator rewrites the EVOLVE-BLOCK and calls `random.shuffle`, `heapq.heappush` or
`math.dist` without importing the module: measured on builtin/tsp with Qwen2.5-Coder-0.5B, 19
of 95 children of one run failed every test with `NameError: name 'random' is not defined`.  The
intent is unambiguous (a name used as `name.attribute`, bound nowhere in the program, that is
a standard-library module), so the import is added at the top of the first editable region,
where the child may change code, and the answer keeps a note saying so.  Names the program binds
itself (assignments, parameters, imports, definitions) are never touched.
"""

from __future__ import annotations

import ast
import builtins
import sys

from evolve.mutations.markers import MarkerError, regions
from evolve.mutations.parse import Parsed, try_parse

STDLIB = frozenset(m for m in sys.stdlib_module_names if not m.startswith("_"))


def _bound(tree: ast.AST) -> set[str]:
    names: set[str] = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
    return names


def missing_stdlib_imports(code: str, parsed: Parsed | None = None) -> list[str]:
    """Standard-library modules `code` uses as `module.attr` without binding them (sorted);
    empty when the code does not parse.  `parsed`: `try_parse(code)` when the caller has it."""
    tree = try_parse(code) if parsed is None else parsed
    if not isinstance(tree, ast.Module):
        return []
    used = {n.value.id for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and isinstance(n.value.ctx, ast.Load)}
    return sorted(m for m in used - _bound(tree) if m in STDLIB)


def add_missing_imports(code: str, parsed: Parsed | None = None) -> tuple[str, list[str]]:
    """(code with the missing standard-library imports added, the modules added); the caller
    parses the result again when modules were added (the marker's indent may not fit)."""
    modules = missing_stdlib_imports(code, parsed)
    if not modules:
        return code, []
    lines = code.split("\n")
    try:
        editable = regions(lines)
    except MarkerError:
        return code, []  # never reached for a child (apply checked its markers): leave it alone
    indent = ""
    if editable is None:  # no markers: the whole program is editable; after any __future__ imports
        at = max((i + 1 for i, line in enumerate(lines) if line.startswith("from __future__")), default=0)
    else:
        at = editable[0][0]
        marker = lines[at - 1]
        indent = marker[: len(marker) - len(marker.lstrip())]
    lines[at:at] = [f"{indent}import {m}" for m in modules]
    return "\n".join(lines), modules
