"""What the fixed code needs from the editable code: a child must still define it.

A function-mode problem keeps its harness outside the EVOLVE-BLOCK, and the harness calls what
the block defines (FunSearch's `priority`, EoH's `select_next_node`).  A small model asked to
rewrite the block often writes a copy of the harness there instead and drops the function:
measured with Qwen2.5-Coder-0.5B (best-of-N, 48 answers, seed 0, before this rule), 16 of 37
children on discovery/tsp_construction and 10 of 32 on discovery/online_bin_packing failed every
test with `NameError: name 'select_next_node' / 'priority' is not defined`.  Such a child is
known to be broken before it runs, so applying the answer fails with a reason that names what
it dropped (and a scaffolded backend samples the answer again, evolve.mutations.scaffold).

Required: every name a top-level statement inside an editable region binds that code outside
the regions reads, unless the outside code binds it too.  A program without markers is editable
as a whole and requires nothing.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from evolve.mutations.markers import MarkerError, Region, regions
from evolve.mutations.parse import MAX_CHARS, PARSE_ERRORS, Parsed, parse_python, try_parse


def _binds(node: ast.stmt) -> set[str]:
    """Names a top-level statement binds (definitions, assignments, imports; the branches of a
    top-level if/try too)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    if isinstance(node, (ast.If, ast.Try, ast.With)):
        out: set[str] = set()
        for body in ("body", "orelse", "finalbody"):
            for child in getattr(node, body, []) or []:
                out |= _binds(child)
        for handler in getattr(node, "handlers", []) or []:
            for child in handler.body:
                out |= _binds(child)
        return out
    return set()


def _inside(line: int, regs: list[Region]) -> bool:
    """Whether 1-based source line `line` lies in an editable region."""
    return any(s <= line - 1 < e for s, e in regs)


@lru_cache(maxsize=256)
def required_names(parent: str) -> frozenset[str]:
    """Names the parent's fixed code reads that only its editable code defines."""
    try:
        regs = regions(parent.split("\n"))
        tree = parse_python(parent)
    except (MarkerError, *PARSE_ERRORS):
        return frozenset()
    if regs is None:
        return frozenset()
    in_block: set[str] = set()
    outside: set[str] = set()
    for node in tree.body:
        (in_block if _inside(node.lineno, regs) else outside).update(_binds(node))
    read_outside = {n.id for n in ast.walk(tree)
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and not _inside(n.lineno, regs)}
    return frozenset((in_block & read_outside) - outside)


def dropped_names(parent: str, child: str, parsed: Parsed | None = None) -> list[str]:
    """The required names of `parent` that `child` no longer binds at top level (sorted; none
    when the child is too long or does not parse: apply.syntax_error reports it, unparsed).
    `parsed`: `try_parse(child)` when the caller has it."""
    need = required_names(parent)
    if not need or len(child) > MAX_CHARS:
        return []
    tree = try_parse(child) if parsed is None else parsed
    if not isinstance(tree, ast.Module):
        return []
    have = set().union(*(_binds(node) for node in tree.body)) if tree.body else set()
    return sorted(need - have)
