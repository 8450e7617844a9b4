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

from evolve.mutations.apply import apply_answer
from evolve.mutations.fences import FENCE_TOKEN
from evolve.mutations.fmt import HEADER_TEMPLATE, FormatMode
from evolve.mutations.parse import normalize_code, parse_answers
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
    resample: int = Field(
        default=0, ge=0,
        description="times an unusable answer (no valid program, or a copy of the parent or of an"
        " earlier answer) is discarded and sampled again (its tokens leave the sequence)",
    )
    format: FormatMode = Field(default="rewrite", description="what the answers' code holds")
    retry_temperature: float = Field(
        default=0.0, ge=0,
        description="added to the sampling temperature at each resample (the model copies with"
        " high confidence; a hotter retry escapes; tokens record their temperature, so the"
        " learner scores them at it)",
    )

    @property
    def answers(self) -> int:
        return len(self.openings)


class AnswerCheck:
    """Is a finished answer usable: a valid program, different from the parent and from every
    earlier answer's program?

    Small models copy what they just read (the current program, or the answer above) and now and
    then write code that does not compile or ramble past their token cap.  Such an answer is
    worth nothing to the search (`unchanged`, `duplicate`, `syntax_error`, `malformed`), so a
    scaffolded backend discards it and samples the answer again (`Scaffold.resample`).  The
    resampled completion is then a draw from the model conditioned on usable answers: the
    learner still scores every kept token by the model's own log-prob."""

    def __init__(self, parent: str | None, scaffold: Scaffold):
        self.parent, self.scaffold = parent, scaffold
        self.parent_normal = normalize_code(parent) if parent is not None else ""
        self.keys: set[str] = {self.parent_normal} if parent is not None else set()

    def accept(self, k: int, code: str) -> bool:
        """Record answer k's program (opening k + `code`); False when it is not usable."""
        if self.parent is None:
            return True
        key = answer_key(self.parent, self.parent_normal, self.scaffold.openings[k], code)
        if key is None or key in self.keys:
            return False
        self.keys.add(key)
        return True


def answer_key(parent: str, parent_normal: str, opening: str, code: str) -> str | None:
    """The normalised program that one scaffolded answer makes of `parent` (whose normal form is
    `parent_normal`): None if it makes no valid program (no code, not applicable, a syntax error)."""
    text = opening.lstrip("\n") + code
    if not text.rstrip().endswith(FENCE_TOKEN):
        text += "\n" + FENCE_TOKEN
    parsed = parse_answers(text, 1)
    if not parsed.answers:
        return None
    res = apply_answer(parent, parsed.answers[0], parent_normal)
    if res.ok and res.code is not None:
        return None if res.syntax_error else res.normal
    return parent_normal if res.unchanged else None


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
    resample: int = Field(
        default=4, ge=0, le=10,
        description="an unusable answer (no valid program, or a repeat of the parent or an"
        " earlier answer) is discarded and sampled again, up to this many times (measured in"
        " benchmarks/answer_quality.py)",
    )
    retry_temperature: float = Field(
        default=0.1, ge=0, le=2,
        description="added to the temperature at each resample of an answer (measured:"
        " 0.3 per retry reaches T = 2 and writes garbage; 0.1 escapes copies without it)",
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
    return Scaffold(openings=openings, max_answer_tokens=cap, resample=config.resample,
                    format=mode, retry_temperature=config.retry_temperature)
