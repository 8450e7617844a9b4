"""A deterministic scripted mutator and its toy problem, for tests only (never a product default).

Each completion is a pure function of (prompt text, sampling seed, completion index), so a run
with a fixed seed has one possible archive: any nondeterminism in selection, prompts, ordering
or resume changes the prompts and hence the completions.  About a third of the answers are
malformed in the ways small models fail (no code block, SEARCH text that does not match, edits
outside the EVOLVE-BLOCK, truncation, syntax errors, 1 MB of garbage).
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import time
from pathlib import Path

import yaml

from evolve.config import RunConfig
from evolve.mutations import render_answers
from evolve.mutator import Completion, Mutator
from problems.model import Problem

INITIAL = (
    "# EVOLVE-BLOCK-START\n"
    "def solve(n):\n"
    "    return ''\n"
    "# EVOLVE-BLOCK-END\n"
    "\n\n"
    "def _helper():\n"
    "    return 0\n"
)
CASES = [(1, "1"), (3, "fizz"), (5, "buzz"), (15, "fizzbuzz"), (7, "7"), (9, "fizz"),
         (10, "buzz"), (30, "fizzbuzz")]
FIZZ = "    if n % 3 == 0:\n        return 'fizz'\n"
BUZZ = "    if n % 5 == 0:\n        return 'buzz'\n"
BOTH = "    if n % 15 == 0:\n        return 'fizzbuzz'\n"
MENU = [
    "def solve(n):\n    return str(n)\n",
    "def solve(n):\n" + FIZZ + "    return str(n)\n",
    "def solve(n):\n" + BUZZ + "    return str(n)\n",
    "def solve(n):\n" + BOTH + "    return str(n)\n",
    "def solve(n):\n" + FIZZ + BUZZ + "    return str(n)\n",
    "def solve(n):\n" + BOTH + FIZZ + BUZZ + "    return str(n)\n",
    "def solve(n):\n    return 'fizz' if n % 3 == 0 else ''\n",
    "def solve(n):\n    return 'buzz' if n % 5 == 0 else ''\n",
    "def solve(n):\n    return str(n + 1)\n",
    "def solve(n):\n    s = ''\n    if n % 3 == 0:\n        s += 'fizz'\n    return s or str(n)\n",
]
SNIPPETS = [FIZZ, BUZZ, BOTH]


def fizz_problem() -> Problem:
    tests = [{"kind": "call", "id": f"n{n}", "args": [n], "expected": e, "hidden": n == 30}
             for n, e in CASES]
    return Problem(id="test/fizz", title="fizz", statement="Return 'fizz' for multiples of 3, "
                   "'buzz' for multiples of 5, 'fizzbuzz' for both, else str(n).",
                   entry_point="solve", initial_program=INITIAL, tests=tests, time_limit_s=2.0)


def write_fizz_problem(root: Path) -> Path:
    """The toy problem in the directory format (for `evolve seed PATH`)."""
    p = fizz_problem()
    root.mkdir(parents=True, exist_ok=True)
    data = p.model_dump(mode="json", include={"id", "title", "statement", "entry_point", "tests",
                                              "initial_program", "time_limit_s"})
    (root / "problem.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return root


def _parent(prompt: str) -> str:
    m = re.search(r"# Current program.*?```python\n(.*?)```", prompt, re.S)
    return m.group(1) if m else INITIAL


def _answer(rnd: random.Random, parent: str) -> str:
    """One answer body (rewrite, diff or malformed)."""
    roll = rnd.random()
    if roll < 0.45:
        return rnd.choice(MENU)
    lines = [x for x in parent.split("\n") if x.strip() and "EVOLVE" not in x and "def " not in x]
    if roll < 0.70 and lines:
        target = rnd.choice(lines)
        return f"<<<<<<< SEARCH\n{target}\n=======\n{rnd.choice(SNIPPETS)}{target}\n>>>>>>> REPLACE"
    return rnd.choice([
        "<<<<<<< SEARCH\n    return 'nothing like this'\n=======\n    return 1\n>>>>>>> REPLACE",
        "<<<<<<< SEARCH\ndef _helper():\n    return 0\n=======\ndef _helper():\n    return 1\n>>>>>>> REPLACE",
        "def solve(n) return 1\n",
        "<<<<<<< SEARCH\n    return ''\n=======\n",
    ])


def complete(prompt: str, seed: int | None, index: int, m: int) -> tuple[str, str]:
    """(completion text, finish reason) for one completion."""
    digest = hashlib.sha256(f"{seed}|{index}|{prompt}".encode()).digest()
    rnd = random.Random(int.from_bytes(digest[:8], "big"))
    roll = rnd.random()
    if roll < 0.04:
        return "".join(rnd.choice("ab{}()<>=# \n") for _ in range(1 << 20)), "length"
    if roll < 0.10:
        return "I am not sure how to improve this program.", "stop"
    parent = _parent(prompt)
    text = render_answers([_answer(rnd, parent) for _ in range(m)])
    if roll < 0.16:
        return text[: len(text) * 2 // 3], "length"
    return text, "stop"


class ScriptedMutator(Mutator):
    name = "scripted"

    def __init__(self, answers: int, delay_s: float = 0.0):
        super().__init__()
        self.m, self.delay_s, self.calls = answers, delay_s, 0

    def generate(self, prompts, n=1, params=None, parents=None):
        self.calls += 1
        end = time.monotonic() + self.delay_s
        while time.monotonic() < end:  # a slow generation that honours cancel(), as real backends do
            self._check_cancel()
            time.sleep(min(0.05, max(end - time.monotonic(), 0)))
        seed = params.seed if params is not None else None
        out = []
        for p in prompts:
            text = p if isinstance(p, str) else "\n".join(x["content"] for x in p)
            group = []
            for j in range(n):
                body, finish = complete(text, seed, j, self.m)
                ids = list(body.encode()[:256]) if len(body) < 4096 else None
                group.append(Completion(
                    text=body, token_ids=ids, logprobs=[-1.0] * len(ids) if ids else None,
                    prompt_token_ids=None, finish_reason=finish, policy_version=self.policy_version))
            out.append(group)
        return out

    def load_adapter(self, version, path):
        self._version = version


def factory(config: RunConfig) -> ScriptedMutator:
    """`--mutator-plugin tests.scripted_mutator:factory` (SCRIPTED_DELAY_S slows generation)."""
    return ScriptedMutator(config.mutation.answers, float(os.environ.get("SCRIPTED_DELAY_S", "0")))


def _garbage(n: int) -> str:
    rnd = random.Random(1234)
    return "".join(rnd.choice("ab{}()<>=#` \n") for _ in range(n))


MALFORMED: dict[str, tuple[str, str]] = {
    "no_blocks": ("I improved the program by changing the return value.", "stop"),
    "unmatched_search": (render_answers(
        ["<<<<<<< SEARCH\n    return 'nothing like this'\n=======\n    return 1\n>>>>>>> REPLACE"]), "stop"),
    "outside_block": (render_answers(
        ["<<<<<<< SEARCH\ndef _helper():\n    return 0\n=======\ndef _helper():\n    return 1\n"
         ">>>>>>> REPLACE"]), "stop"),
    "unclosed_search": ("### Answer 1\n```python\n<<<<<<< SEARCH\n    return ''\n=======\n", "length"),
    "truncated": ("### Answer 1\n```python\ndef solve(n):\n    if n %", "length"),
    "syntax_error": (render_answers(["def solve(n) return 1\n"]), "stop"),
    "garbage_1mb": (_garbage(1 << 20), "length"),
    "empty": ("", "stop"),
}


class FixedMutator(Mutator):
    """Hands out the given (text, finish reason) pairs in turn, one per completion."""

    name = "fixed"

    def __init__(self, outputs: list[tuple[str, str]]):
        super().__init__()
        self.outputs, self.i = outputs, 0

    def generate(self, prompts, n=1, params=None, parents=None):
        out = []
        for _ in prompts:
            group = []
            for _ in range(n):
                text, finish = self.outputs[self.i % len(self.outputs)]
                self.i += 1
                group.append(Completion(text=text, token_ids=None, logprobs=None,
                                        prompt_token_ids=None, finish_reason=finish,
                                        policy_version=self.policy_version))
            out.append(group)
        return out

    def load_adapter(self, version, path):
        self._version = version
