"""Result models of parsing and applying mutation answers (pure data)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SearchReplace(_Strict):
    """One `<<<<<<< SEARCH / ======= / >>>>>>> REPLACE` block."""

    search: str
    replace: str


class Answer(_Strict):
    """One usable answer found in a completion: a full rewrite or a list of diff blocks."""

    slot: int = Field(ge=1, description="1-based answer position (the row of the reward matrix)")
    label: int | None = Field(default=None, description="the number the model wrote, if any")
    kind: Literal["rewrite", "diff"]
    code: str | None = Field(default=None, description="rewrite only: the new code")
    edits: list[SearchReplace] = Field(default_factory=list, description="diff only")
    notes: list[str] = Field(default_factory=list, description="tolerated format deviations")


IssueKind = Literal[
    "missing", "malformed", "duplicate", "extra", "empty", "inapplicable", "unchanged"
]


class AnswerIssue(_Strict):
    """An answer slot that yields no usable answer, and why (shown in the next prompt)."""

    slot: int | None = Field(description="answer slot, None if not attributable")
    kind: IssueKind
    reason: str


class ParsedCompletion(_Strict):
    answers: list[Answer]
    issues: list[AnswerIssue]
    expected: int | None = Field(description="m requested, None if not checked")


BlockStatus = Literal["exact", "whitespace", "indentation", "failed"]


class BlockResult(_Strict):
    index: int = Field(ge=0)
    status: BlockStatus
    reason: str | None = None


class AppliedAnswer(_Strict):
    """The child program an answer produces, or why it produces none."""

    slot: int
    kind: Literal["rewrite", "diff"]
    ok: bool
    code: str | None = None
    reason: str | None = None
    blocks: list[BlockResult] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    syntax_error: str | None = Field(default=None, description="set when the child does not parse")
    normal: str | None = Field(
        default=None, description="the child's normal form (parse.normalize_code): its identity for duplicates"
    )
    unchanged: bool = Field(default=False, description="no child because the edit leaves the parent as it was")


class MutationOutcome(_Strict):
    """Everything one completion yields: children (deduplicated) and per-slot rejections."""

    children: list[AppliedAnswer]
    rejected: list[AnswerIssue]
    expected: int | None

    def usable_slots(self) -> list[int]:
        return [c.slot for c in self.children]
