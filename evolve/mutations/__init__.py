"""Mutation formats shared by prompts, the search loop and the trainer's reward rows.

`format_instructions(m)` tells the model how to write m answers; `parse_answers` finds them;
`apply_answer` / `mutate` turn them into child programs.  All pure, none raises on bad input.
"""

from evolve.mutations.apply import apply_answer, apply_diff, apply_rewrite, mutate, regions
from evolve.mutations.fmt import (
    DIVIDER_MARK,
    HEADER_TEMPLATE,
    REPLACE_MARK,
    SEARCH_MARK,
    FormatMode,
    format_instructions,
    render_answers,
)
from evolve.mutations.models import (
    AnswerIssue,
    AppliedAnswer,
    Answer,
    BlockResult,
    MutationOutcome,
    ParsedCompletion,
    SearchReplace,
)
from evolve.mutations.parse import normalize_code, parse_answers, parses

__all__ = [
    "Answer", "AnswerIssue", "AppliedAnswer", "BlockResult", "DIVIDER_MARK", "FormatMode",
    "HEADER_TEMPLATE", "MutationOutcome", "ParsedCompletion", "REPLACE_MARK", "SEARCH_MARK",
    "SearchReplace", "apply_answer", "apply_diff", "apply_rewrite", "format_instructions",
    "mutate", "normalize_code", "parse_answers", "parses", "regions", "render_answers",
]
