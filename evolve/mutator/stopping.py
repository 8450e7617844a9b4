"""When a completion is done: after its m answer code blocks are closed.

Small code models keep talking after the last answer (explanations, usage examples) until the
token budget runs out.  Those tokens cost generation time, and a completion cut by the budget is
`truncated`, which the trainer masks out, so a perfectly good set of answers would teach nothing.
Stopping once the requested number of fenced blocks has closed avoids both.
"""

from __future__ import annotations

import re

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*(?P<lang>[\w+.#-]*)[ \t]*$")
"""A markdown code-fence line (opening with an optional language, or closing)."""


def closed_code_blocks(text: str) -> int:
    """How many fenced code blocks `text` has closed: fence lines pair up open/close in order."""
    return sum(1 for line in text.split("\n") if FENCE.match(line)) // 2


def end_of_blocks(text: str, n: int) -> int | None:
    """Offset just past the fence line closing the `n`-th code block (None if fewer closed).

    Backends that cannot stop generation there (a vLLM or hosted server) cut the text here."""
    fences, offset = 0, 0
    for line in text.split("\n"):
        offset += len(line)
        if FENCE.match(line):
            fences += 1
            if fences == 2 * n:
                return offset
        offset += 1
    return None
