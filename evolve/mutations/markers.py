"""Where a program may change: the line ranges between EVOLVE-BLOCK marker lines.

One home for reading the markers, so applying answers (evolve.mutations.apply) and repairing
children (evolve.mutations.imports) agree on what is editable.
"""

from __future__ import annotations

from problems.model import EVOLVE_END, EVOLVE_START

Region = tuple[int, int]  # [first, last) line indices of an editable body


class MarkerError(ValueError):
    pass


def is_marker(line: str, marker: str) -> bool:
    return line.strip().startswith(marker)


def regions(lines: list[str]) -> list[Region] | None:
    """Editable line ranges; None when the program has no markers. Raises MarkerError if unbalanced."""
    out: list[Region] = []
    start = None
    for i, line in enumerate(lines):
        if is_marker(line, EVOLVE_START):
            if start is not None:
                raise MarkerError(f"nested {EVOLVE_START} on line {i + 1}")
            start = i
        elif is_marker(line, EVOLVE_END):
            if start is None:
                raise MarkerError(f"{EVOLVE_END} without start on line {i + 1}")
            out.append((start + 1, i))
            start = None
    if start is not None:
        raise MarkerError(f"{EVOLVE_START} on line {start + 1} is never closed")
    return out or None
