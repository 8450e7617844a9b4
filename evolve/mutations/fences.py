"""Markdown code fences: the one home of the rule that says where an answer's code ends.

The parser (which blocks hold answers), the unscaffolded stop rule (end a completion once its m
blocks are closed) and the scaffold (an answer ends at its closing fence) all read fences
through this module, so the backends that stop generation and the parser that reads the text
can never disagree.
"""

from __future__ import annotations

import re

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*(?P<lang>[\w+.#-]*)[ \t]*$")
"""A markdown code-fence line (opening with an optional language, or closing)."""

FENCE_TOKEN = "```"
"""What a closing fence starts with; servers are asked to pause there (a stop string)."""

_CLOSING = re.compile(r"(?:^|\n)[ \t]*```")


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


def answer_end(text: str) -> int | None:
    """Offset just past the closing fence of one scaffolded answer, or None while it is open.

    `text` is what the model wrote after the harness's opening (which ends with "```python\\n"),
    so a fence at the start of a line of `text` closes the answer.  The answer ends as soon as
    the three backticks are written: what else the token holds is cut from the text."""
    m = _CLOSING.search(text)
    return m.end() if m else None
