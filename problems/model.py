"""The problem model: a statement, an initial program and a per-test suite.

Each test is one component of the reward vector that both the search (selection) and the
trainer (VPO reward matrices) consume, so tests are first-class objects with their own id,
stage (for cascades), weight and visibility.  This module is the bottom of the import graph:
pure data, no I/O.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EVOLVE_START = "# EVOLVE-BLOCK-START"
EVOLVE_END = "# EVOLVE-BLOCK-END"
REQUIREMENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*(==[A-Za-z0-9.+!_-]+)?$"
MAX_PROGRAM_CHARS = 1 << 20  # cap on any program text: initial, reference, candidate, trusted code


class _Strict(BaseModel):
    """Unknown keys are errors everywhere at the data boundary."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _TestBase(_Strict):
    id: str = Field(min_length=1)
    stage: int = Field(default=1, ge=1, description="cascade stage; stage 1 runs first")
    weight: float = Field(
        default=1.0, ge=0, description="share of fitness; 0 = vector component only (not fitness)"
    )
    hidden: bool = Field(default=False, description="evaluated, never shown in prompts")
    holdout: bool = Field(
        default=False,
        description="held out of the search: never reaches fitness, selection, descriptors,"
        " rewards or stopping; evaluated only to report whether a program really solves it",
    )
    time_limit_s: float | None = Field(default=None, gt=0, description="overrides the problem's")


class CallTest(_TestBase):
    """Call the entry point with `args`/`kwargs`; compare the return value with `expected`."""

    kind: Literal["call"] = "call"
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    expected: Any = None
    rel_tol: float = Field(default=1e-6, ge=0)
    abs_tol: float = Field(default=1e-6, ge=0)


class StdioTest(_TestBase):
    """Run the program as a script on `input`; compare stdout, whitespace-normalised."""

    kind: Literal["stdio"] = "stdio"
    input: str = ""
    output: str
    rel_tol: float = Field(default=0.0, ge=0, description="token-wise float tolerance; 0 = exact")
    abs_tol: float = Field(default=0.0, ge=0)


class AssertTest(_TestBase):
    """One HumanEval-style assertion; `candidate` names the entry point inside `code`."""

    kind: Literal["assert"] = "assert"
    code: str = Field(min_length=1)


class ScorerTest(_TestBase):
    """Run the candidate on one instance; the problem's `score(instance, output)` gives [0, 1]."""

    kind: Literal["scorer"] = "scorer"
    instance: Any = None


class EvaluatorTest(_TestBase):
    """One metric of a user evaluator (OpenEvolve's `evaluate(program_path) -> dict`).

    Runs inside the sandbox (the evaluator imports the candidate): the runner writes the
    program to a file, calls `function(path)` of the problem's `evaluator_code` once per
    distinct function, and scores this test by `normalise(metrics[metric])`.
    """

    kind: Literal["evaluator"] = "evaluator"
    function: str = Field(default="evaluate", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    metric: str = Field(min_length=1)
    lower: float = Field(default=0.0, description="raw value that scores 0 (1 if not maximize)")
    upper: float = Field(default=1.0, description="raw value that scores 1 (0 if not maximize)")
    maximize: bool = True

    @model_validator(mode="after")
    def _range(self) -> "EvaluatorTest":
        if not self.upper > self.lower:
            raise ValueError(f"upper ({self.upper}) must exceed lower ({self.lower})")
        return self

    def normalise(self, value: Any) -> float:
        """Raw metric -> [0, 1]; a missing, non-numeric, NaN or boolean value scores 0."""
        if type(value) not in (int, float) or value != value:
            return 0.0
        frac = (float(value) - self.lower) / (self.upper - self.lower)
        frac = min(1.0, max(0.0, frac))
        return frac if self.maximize else 1.0 - frac


class Record(_Strict):
    """The best published value of a discovery problem's objective, and who published it."""

    value: float
    objective: Literal["maximize", "minimize"]
    metric: str = Field(min_length=1, description="what the value measures, e.g. 'sum of radii'")
    source: str = Field(min_length=1, description="who reported it, where")
    note: str = ""

    def fraction(self, value: float) -> float:
        """`value` as a fraction of the record (1.0 = the record; above 1 beats it)."""
        if self.objective == "maximize":
            return value / self.value
        return self.value / value if value > 0 else 0.0


TestCase = Annotated[
    Union[CallTest, StdioTest, AssertTest, ScorerTest, EvaluatorTest], Field(discriminator="kind")
]


class Problem(_Strict):
    """A problem as the search, the sandbox and the prompts see it."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:/-]+$")
    title: str = ""
    statement: str = ""
    mode: Literal["function", "stdio", "program"] = Field(
        default="function",
        description="program: the whole file is handed to evaluator_code (evaluator tests only)",
    )
    entry_point: str | None = Field(default=None, description="function name in function mode")
    initial_program: str = Field(description="weak but valid baseline, with EVOLVE-BLOCK markers")
    tests: list[TestCase] = Field(min_length=1)
    setup_code: str = Field(
        default="", description="trusted code run before assertion tests (imports, helpers)"
    )
    scorer_code: str = Field(
        default="", description="trusted code defining score(instance, output) -> float in [0, 1]"
    )
    evaluator_code: str = Field(
        default="", description="program mode: trusted evaluator source, run inside the sandbox"
    )
    support_files: dict[str, str] = Field(
        default_factory=dict,
        description="program mode: relative path -> text, written next to the evaluator",
    )
    time_limit_s: float = Field(default=2.0, gt=0, description="per test")
    wall_limit_s: float = Field(default=60.0, gt=0, description="whole candidate")
    memory_mb: int = Field(default=512, ge=32)
    scoring: Literal["pass_fail", "continuous"] = "pass_fail"
    stage_thresholds: list[float] = Field(
        default_factory=list,
        description="cascade: stage k+1 runs only if stage k's mean score >= thresholds[k-1]",
    )
    reference_solution: str | None = Field(default=None, description="never shown in prompts")
    source: dict[str, Any] = Field(default_factory=dict)
    requirements: list[Annotated[str, Field(pattern=REQUIREMENT_PATTERN)]] = Field(
        default_factory=list,
        description="packages candidates import beyond the stdlib (name or name==version); "
        "a sandbox that lacks one refuses the problem",
    )
    record: Record | None = Field(default=None, description="best published result (discovery problems)")
    run_defaults: dict[str, Any] = Field(
        default_factory=dict,
        description="run settings the problem's own config suggests, as dotted run-config keys "
        "(loop.iterations, ...); the run config's own values win",
    )

    @field_validator("initial_program", "reference_solution", "setup_code", "scorer_code", "evaluator_code")
    @classmethod
    def _capped(cls, v: str | None) -> str | None:
        if v is not None and len(v) > MAX_PROGRAM_CHARS:
            raise ValueError(f"{len(v)} characters, over the cap of {MAX_PROGRAM_CHARS} for a program")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "Problem":
        ids = [t.id for t in self.tests]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate test ids: {', '.join(dup)}")
        kinds = {t.kind for t in self.tests}
        if self.mode == "function" and not self.entry_point:
            raise ValueError("entry_point is required in function mode")
        if self.mode == "stdio" and kinds & {"call", "assert"}:
            raise ValueError("stdio problems take only stdio and scorer tests")
        if self.mode == "function" and "stdio" in kinds:
            raise ValueError("function problems cannot have stdio tests")
        if (self.mode == "program") != ("evaluator" in kinds) or (
            self.mode == "program" and kinds != {"evaluator"}
        ):
            raise ValueError("program mode takes evaluator tests only, and only it takes them")
        if self.mode == "program" and not self.evaluator_code.strip():
            raise ValueError("program mode needs evaluator_code")
        bad = [p for p in self.support_files if p.startswith("/") or ".." in p.split("/")]
        if bad:
            raise ValueError(f"support_files paths must be relative and inside: {bad[0]}")
        if sum(t.weight for t in self.tests) <= 0:
            raise ValueError("at least one test needs a positive weight")
        if self.tests and all(t.holdout for t in self.tests):
            raise ValueError("every test is held out: the search needs at least one test")
        if self.holdout_tests and sum(t.weight for t in self.tests if not t.holdout) <= 0:
            raise ValueError("the search's (not held-out) tests need a positive weight")
        if "scorer" in kinds and "def score" not in self.scorer_code:
            raise ValueError("scorer tests need scorer_code defining score(instance, output)")
        return self

    @property
    def stages(self) -> list[int]:
        return sorted({t.stage for t in self.tests})

    @property
    def visible_tests(self) -> list[TestCase]:
        return [t for t in self.tests if not t.hidden]

    def test_ids(self) -> list[str]:
        """Order of the components of every score vector for this problem."""
        return [t.id for t in self.tests]

    @property
    def holdout_tests(self) -> list[TestCase]:
        return [t for t in self.tests if t.holdout]

    def search_view(self) -> "Problem":
        """The problem the search optimises: its held-out tests removed (itself if none)."""
        if not self.holdout_tests:
            return self
        return self.model_copy(update={"tests": [t for t in self.tests if not t.holdout]})

    def holdout_view(self) -> "Problem | None":
        """The held-out tests alone, to evaluate a found program on (None if none)."""
        held = self.holdout_tests
        if not held:
            return None
        return self.model_copy(update={"tests": held, "stage_thresholds": []})
