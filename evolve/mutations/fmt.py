"""The multi-answer output format that prompts ask for and the parser reads.

Designed for small models: one markdown heading per answer and one ```python fence holding either
the complete new EVOLVE-BLOCK code or SEARCH/REPLACE blocks.  Both shapes are common in code
models' training data, so a 0.5B model follows them far more reliably than custom tags.
"""

from __future__ import annotations

from typing import Literal

from problems.model import EVOLVE_END, EVOLVE_START

FormatMode = Literal["rewrite", "diff", "either"]
HEADER_TEMPLATE = "### Answer {k}"
SEARCH_MARK = "<<<<<<< SEARCH"
DIVIDER_MARK = "======="
REPLACE_MARK = ">>>>>>> REPLACE"

_REWRITE = (
    "the complete new code that goes between `{start}` and `{end}` (you may keep the markers)"
)
_DIFF = (
    "one or more edits, each written as\n"
    f"{SEARCH_MARK}\n<lines copied exactly from the current program>\n{DIVIDER_MARK}\n"
    f"<the new lines>\n{REPLACE_MARK}"
)


def format_instructions(m: int, mode: FormatMode = "rewrite") -> str:
    """The output-format paragraph of a mutation prompt asking for `m` different answers."""
    if m < 1:
        raise ValueError(f"m must be >= 1, got {m}")
    what = {
        "rewrite": _REWRITE.format(start=EVOLVE_START, end=EVOLVE_END),
        "diff": _DIFF,
        "either": _REWRITE.format(start=EVOLVE_START, end=EVOLVE_END) + ", or " + _DIFF,
    }[mode]
    plural = "answer" if m == 1 else f"{m} genuinely different answers"
    lines = [
        f"Write {plural}. Start each answer with a heading line `{HEADER_TEMPLATE.format(k='K')}`"
        " (K = 1, 2, ...) followed by exactly one ```python code block containing " + what + ".",
        "Only code between the EVOLVE-BLOCK markers may change.",
        "",
        "Layout:",
    ]
    for k in range(1, m + 1):
        lines += [HEADER_TEMPLATE.format(k=k), "```python", "...", "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def render_answers(bodies: list[str]) -> str:
    """Render answers in the canonical format (scripted mutators, tests, few-shot examples)."""
    parts = []
    for k, body in enumerate(bodies, start=1):
        parts.append(f"{HEADER_TEMPLATE.format(k=k)}\n```python\n{body.rstrip()}\n```\n")
    return "\n".join(parts)
