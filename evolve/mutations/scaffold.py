"""Scaffolded multi-answer generation: the harness writes the structure, the model only code.

Asked for m answers under "### Answer K" headings, a 0.5B model often echoes the prompt under a
heading or repeats an earlier answer.  So the harness writes each answer's opening itself
(heading and code fence, and for rewrites the EVOLVE-BLOCK start marker when the parent has
one); the model writes code until its closing fence (`fences.answer_end`); then the harness
appends the next opening and sampling continues in the SAME sequence, so each answer still
conditions on the earlier ones (the property VPO's multi-answer rollouts rely on).

Inserted tokens are not the policy's: a scaffolded completion marks, per token, whether the model
sampled it (`Completion.sampled`); inserted tokens carry no log-prob and the learner masks them.
Every backend applies the same rule through `Scaffold`, so greedy scaffolded generation gives
identical token ids in process (transformers) and through a vLLM server.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evolve.mutations.fmt import HEADER_TEMPLATE, FormatMode
from problems.model import EVOLVE_START


class Scaffold(BaseModel):
    """What the harness inserts: one opening per answer, written before the model's code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    openings: list[str] = Field(min_length=1, description="text inserted before answer k")
    max_answer_tokens: int | None = Field(
        default=None, ge=1,
        description="sampled tokens one answer may take; past it the harness moves on to the"
        " next answer (the cut answer is usually unusable, the later ones are not lost)",
    )

    @property
    def answers(self) -> int:
        return len(self.openings)


class ScaffoldConfig(BaseModel):
    """`mutation.scaffold` in a run config: how the harness writes the answer structure."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="false: the model writes the headings itself")
    start_marker: bool = Field(
        default=True,
        description="rewrites: open each answer's code with the parent's EVOLVE-BLOCK start"
        " marker (when it has one), so the model writes the block, not the problem statement",
    )
    later_heading: str = Field(
        default=" (a different approach from {earlier})",
        max_length=200,
        description="appended to the heading of answers 2..m; {earlier} = 'Answer 1',"
        " 'Answers 1 and 2', ...",
    )
    max_answer_tokens: int | None = Field(
        default=None, ge=1,
        description="per-answer budget of sampled tokens; null = max_tokens / m",
    )

    @field_validator("later_heading")
    @classmethod
    def _one_placeholder(cls, v: str) -> str:
        try:
            v.format(earlier="Answer 1")
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f"only the placeholder {{earlier}} is allowed ({e!r})") from None
        if "\n" in v:
            raise ValueError("must be one line")
        return v


def _earlier(k: int) -> str:
    if k == 2:
        return "Answer 1"
    nums = [str(i) for i in range(1, k)]
    return "Answers " + ", ".join(nums[:-1]) + " and " + nums[-1]


def build_scaffold(m: int, mode: FormatMode, parent: str, config: ScaffoldConfig,
                   max_tokens: int) -> Scaffold:
    """The openings for m answers of `mode` to a prompt about `parent`."""
    marker = (mode == "rewrite" and config.start_marker
              and any(line.strip().startswith(EVOLVE_START) for line in parent.split("\n")))
    code_start = "```python\n" + (EVOLVE_START + "\n" if marker else "")
    openings = []
    for k in range(1, m + 1):
        head = HEADER_TEMPLATE.format(k=k)
        if k > 1:
            head = "\n\n" + head + config.later_heading.format(earlier=_earlier(k))
        openings.append(f"{head}\n{code_start}")
    cap = config.max_answer_tokens or max(1, max_tokens // m)
    return Scaffold(openings=openings, max_answer_tokens=cap)
