"""What a Python module imports, read from its syntax tree (nothing is imported or run).

Shared by the OpenEvolve loader (which third-party packages a problem needs) and the sandbox
image (which sibling modules the runner needs): `problems` is the bottom layer, so the sandbox
may read it and not the other way round.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator


def imported_modules(tree: ast.AST) -> Iterator[str]:
    """The absolute module names `tree` imports anywhere (in functions too), in `ast.walk`
    order: `import a.b, c` gives a.b and c, `from a.b import x` gives a.b; relative imports
    (`from . import x`, `from .m import x`) give nothing."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
