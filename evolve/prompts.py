"""Mutation prompts: problem, parent, its failing visible tests (and, if asked, the ones it
passes), complementary inspirations, recent attempts (with why failed answers failed) and the
output format.

Text lives in `string.Template` templates ($name placeholders, so code braces need no escaping)
that a run may override by name (`prompt.templates` in the config); overrides are checked when
the config loads.  Hidden tests are filtered out here, in one place: no hidden test id, status
or message ever reaches a prompt.  The output-format paragraph comes from evolve.mutations.fmt,
the module that also parses the answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from string import Template
from typing import TYPE_CHECKING

from evolve.mutations.fmt import FormatMode, format_instructions
from problems.model import Problem
from sandbox.results import PASS_SCORE

if TYPE_CHECKING:  # evolve.config imports this module (its template check): no runtime edge back
    from evolve.config import PromptConfig, RunConfig

TEMPLATES: dict[str, str] = {
    "system": (
        "You are an expert Python programmer. You improve a program step by step so that it "
        "passes more of its tests. Keep the function signature and the EVOLVE-BLOCK markers."
    ),
    "task": (
        "# Problem\n$statement\n\n"
        "# Current program (fitness $fitness, passes $passed of $total visible tests)\n"
        "```python\n$code```\n\n"
        "$failing$passing$inspirations$attempts"
        "# Your task\nImprove the current program so that it passes more tests.\n$format"
    ),
    "crossover_task": (
        "# Problem\n$statement\n\n"
        "# Program A (fitness $fitness, passes $passed of $total visible tests)\n"
        "```python\n$code```\n\n"
        "# Program B (fitness $other_fitness) passes tests that A fails: $tests\n"
        "```python\n$other_code```\n\n"
        "$failing$passing$attempts"
        "# Your task\nCombine A and B into one program that passes the tests of both.\n$format"
    ),
    "failing_header": "# Failing tests of the current program\n",
    "failing_test": "- $test_id ($status): $input$message\n",
    "hidden_failing": "- $count hidden test(s) whose inputs are not shown also fail: some case the "
                      "problem describes is still handled wrong\n",
    "passing_header": "# Tests the current program already passes (keep them passing)\n",
    "passing_test": "- $test_id: $input$expected\n",
    "inspiration": (
        "# Another program (fitness $fitness) that passes tests the current one fails: $tests\n"
        "```python\n$code```\n"
    ),
    "attempts_header": "# Recent attempts and their outcomes\n",
    "attempt": "- $summary\n",
}
PLACEHOLDERS: dict[str, set[str]] = {
    "system": set(),
    "task": {"statement", "fitness", "passed", "total", "code", "failing", "passing",
             "inspirations", "attempts", "format"},
    "crossover_task": {"statement", "fitness", "passed", "total", "code", "other_fitness", "tests",
                       "other_code", "failing", "passing", "attempts", "format"},
    "failing_header": set(),
    "failing_test": {"test_id", "status", "input", "message"},
    "hidden_failing": {"count"},
    "passing_header": set(),
    "passing_test": {"test_id", "input", "expected"},
    "inspiration": {"fitness", "tests", "code"},
    "attempts_header": set(),
    "attempt": {"summary"},
}


def check_templates(overrides: dict[str, str]) -> None:
    """Raise ValueError (one line) for unknown template names or placeholders."""
    for name, text in overrides.items():
        if name not in TEMPLATES:
            raise ValueError(f"unknown template {name!r}; known: {', '.join(TEMPLATES)}")
        t = Template(text)
        if not t.is_valid():
            raise ValueError(f"template {name!r}: invalid $-placeholder (write $$ for a dollar)")
        bad = set(t.get_identifiers()) - PLACEHOLDERS[name]
        if bad:
            allowed = ", ".join(sorted(PLACEHOLDERS[name])) or "none"
            raise ValueError(f"template {name!r}: unknown placeholder ${sorted(bad)[0]}; allowed: {allowed}")


@dataclass(frozen=True)
class Failure:
    test_id: str
    status: str
    message: str


@dataclass(frozen=True)
class ProgramView:
    """A program as prompts see it."""

    seq: int
    code: str
    fitness: float
    scores: tuple[float, ...]
    failures: tuple[Failure, ...] = ()


@dataclass
class Prompt:
    system: str
    user: str
    inspirations: list[int] = field(default_factory=list)

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]

    def text(self) -> str:
        return f"{self.system}\n\n{self.user}"


class PromptBuilder:
    """Renders prompts for one problem with the run's template overrides."""

    def __init__(self, problem: Problem, *, fmt: FormatMode, answers: int,
                 prompt: "PromptConfig | None" = None):
        """`prompt` (the run's `prompt` section) is the one source of the template overrides and
        the limits; None means its defaults."""
        if prompt is None:
            from evolve.config import PromptConfig

            prompt = PromptConfig()
        check_templates(prompt.templates)  # again: a config changed after loading is not rechecked
        self.t = {k: Template(v) for k, v in {**TEMPLATES, **prompt.templates}.items()}
        self.problem = problem
        self.ids = problem.test_ids()
        self.visible = {t.id for t in problem.visible_tests}
        self.format = format_instructions(answers, fmt)
        self.max_failing = prompt.failing_tests
        self.max_passing = prompt.passing_tests
        self.max_attempts = prompt.recent_attempts
        self.hidden_failures = prompt.hidden_failures
        self.inputs = {t.id: shown for t in problem.visible_tests if (shown := test_input(problem, t))}
        self.expected = {t.id: shown for t in problem.visible_tests if (shown := test_expected(t))}

    @classmethod
    def of(cls, problem: Problem, config: "RunConfig") -> "PromptBuilder":
        """The builder a run config asks for."""
        return cls(problem, fmt=config.mutation.format, answers=config.mutation.answers,
                   prompt=config.prompt)

    def visible_ids(self, ids) -> list[str]:
        return [i for i in ids if i in self.visible]

    def _failing(self, parent: ProgramView) -> str:
        rows = [f for f in parent.failures if f.test_id in self.visible][: self.max_failing]
        hidden = self._hidden_failing(parent)
        if not rows and not hidden:
            return ""
        body = "".join(
            self.t["failing_test"].substitute(test_id=f.test_id, status=f.status,
                                              input=self._input(f.test_id),
                                              message=f.message or "(no message)")
            for f in rows
        )
        return self.t["failing_header"].substitute() + body + hidden + "\n"

    def _hidden_failing(self, parent: ProgramView) -> str:
        """How many hidden search tests the parent fails, as a count only (its fitness already
        tells as much).  Most elites a run keeps fail only hidden tests (9 of 12 measured on the
        convention problems), and without this line their prompt shows no failing test at all:
        the model is asked to improve a program that, as far as it can see, passes everything."""
        if not self.hidden_failures:
            return ""
        n = sum(s < PASS_SCORE for i, s in zip(self.ids, parent.scores) if i not in self.visible)
        return self.t["hidden_failing"].substitute(count=str(n)) if n else ""

    def _passing(self, parent: ProgramView) -> str:
        """Visible tests the parent passes, with what they expect: a small model that sees only
        the failing ones tends to break the passing ones while fixing them."""
        if not self.max_passing:
            return ""
        rows = [i for i, s in zip(self.ids, parent.scores)
                if s >= PASS_SCORE and i in self.expected and i in self.inputs][: self.max_passing]
        if not rows:
            return ""
        body = "".join(self.t["passing_test"].substitute(test_id=i, input=self.inputs[i],
                                                          expected=self.expected[i]) for i in rows)
        return self.t["passing_header"].substitute() + body + "\n"

    def _input(self, test_id: str) -> str:
        """What a visible test feeds the program, so that a small model can trace its bug."""
        return self.inputs.get(test_id, "")

    def _inspiration(self, parent: ProgramView, other: ProgramView) -> str:
        gained = [i for i, a, b in zip(self.ids, parent.scores, other.scores) if b > a]
        tests = ", ".join(self.visible_ids(gained)) or "some hidden tests"
        return self.t["inspiration"].substitute(
            fitness=f"{other.fitness:.3f}", tests=tests, code=_block(other.code)
        ) + "\n"

    def _attempts(self, attempts: list[str]) -> str:
        rows = attempts[-self.max_attempts:] if self.max_attempts else []
        if not rows:
            return ""
        return self.t["attempts_header"].substitute() + "".join(
            self.t["attempt"].substitute(summary=s) for s in rows
        ) + "\n"

    def _common(self, parent: ProgramView, attempts: list[str]) -> dict[str, str]:
        shown = [s for i, s in zip(self.ids, parent.scores) if i in self.visible]
        return {"statement": self.problem.statement.strip() or self.problem.title or self.problem.id,
                "fitness": f"{parent.fitness:.3f}", "passed": str(sum(s >= PASS_SCORE for s in shown)),
                "total": str(len(shown)), "code": _block(parent.code),
                "failing": self._failing(parent), "passing": self._passing(parent),
                "attempts": self._attempts(attempts),
                "format": self.format}

    def build(self, parent: ProgramView, inspirations: list[ProgramView],
              attempts: list[str]) -> Prompt:
        user = self.t["task"].substitute(
            **self._common(parent, attempts),
            inspirations="".join(self._inspiration(parent, o) for o in inspirations),
        )
        return Prompt(self.t["system"].substitute(), user, [o.seq for o in inspirations])

    def build_crossover(self, parent: ProgramView, other: ProgramView, attempts: list[str]) -> Prompt:
        """Ask for one program combining `parent` and the elite that passes what it fails."""
        gained = [i for i, a, b in zip(self.ids, parent.scores, other.scores) if b > a]
        user = self.t["crossover_task"].substitute(
            **self._common(parent, attempts), other_fitness=f"{other.fitness:.3f}",
            tests=", ".join(self.visible_ids(gained)) or "some hidden tests",
            other_code=_block(other.code),
        )
        return Prompt(self.t["system"].substitute(), user, [other.seq])


INPUT_LIMIT = 160


def test_input(problem: Problem, test) -> str:
    """A visible test's input as a prompt shows it ("" for kinds whose input is not short text)."""
    if test.kind == "call":
        args = ", ".join([repr(a) for a in test.args] + [f"{k}={v!r}" for k, v in test.kwargs.items()])
        text = f"{problem.entry_point}({args})"
    elif test.kind == "stdio":
        text = "input " + repr(test.input)
    elif test.kind == "assert":
        text = test.code.strip().replace("\n", "; ")
    else:
        return ""
    return _clip(text) + " -> "


def test_expected(test) -> str:
    """What a visible test expects, as a prompt shows it ("" where the test has no one answer)."""
    if test.kind == "call":
        text = repr(test.expected)
    elif test.kind == "stdio":
        text = "output " + repr(test.output)
    else:
        return ""
    return _clip(text)


def _clip(text: str) -> str:
    return text if len(text) <= INPUT_LIMIT else text[: INPUT_LIMIT - 3] + "..."


def _block(code: str) -> str:
    return code if code.endswith("\n") else code + "\n"


SUMMARY_LIMIT = 400


def _names(ids: list[str], limit: int = 6) -> str:
    more = f" (+{len(ids) - limit} more)" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def child_summary(builder: "PromptBuilder", parent: ProgramView, seq: int, fitness: float,
                  scores: tuple[float, ...], error: str = "", failed_blocks: list[str] = ()) -> str:
    """How a child fared against its parent, naming visible tests only."""
    ids = builder.ids
    gained = builder.visible_ids([i for i, a, b in zip(ids, parent.scores, scores) if b > a])
    lost = builder.visible_ids([i for i, a, b in zip(ids, parent.scores, scores) if b < a])
    text = f"-> #{seq}: fitness {parent.fitness:.3f} -> {fitness:.3f}"
    if gained:
        text += f", now passes {_names(gained)}"
    if lost:
        text += f", now fails {_names(lost)}"
    if error:
        text += f", error: {error}"
    if failed_blocks:
        text += f", blocks not applied: {'; '.join(failed_blocks)}"
    return text


def completion_summary(parent_seq: int, parts: list[str]) -> str:
    """One line per completion for the island's recent-attempts list."""
    text = f"edit of #{parent_seq}: " + " | ".join(parts)
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 3] + "..."
