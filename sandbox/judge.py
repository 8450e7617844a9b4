"""Verdicts, made by the trusted supervisor from what the candidate computed (stdlib only).

Expected values, assertion snippets, problem setup code and scorers live only here, in the
supervisor's process; the candidate's process sees test inputs and nothing else.  Assertion
snippets run here too, with `candidate` bound to a proxy that asks the worker for each call
and gets back plain builtin values, so a candidate cannot tamper with any comparison.
"""

from __future__ import annotations

import ast
import math
import signal

import wire


class Abort(BaseException):
    """Ends a test early; a BaseException so `except Exception` in test snippets cannot eat it."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


Verdict = tuple[str, float, str]  # status, score, message


class Judge:
    def __init__(self, job: dict):
        self.scorer = None
        if job.get("scorer_code"):
            ns: dict = {"__name__": "scorer"}
            exec(compile(job["scorer_code"], "<scorer>", "exec"), ns)
            self.scorer = ns["score"]
        self.setup_ns: dict = {"__name__": "check"}
        if job.get("setup_code"):
            exec(compile(job["setup_code"], "<setup>", "exec"), self.setup_ns)
        self._asserts: dict[str, tuple] = {}

    # -- kinds ------------------------------------------------------------------------

    def call(self, test: dict, value) -> Verdict:
        got = wire.decode_value(value)
        expected = wire.decode_value(test.get("expected"))
        if wire.values_equal(got, expected, test.get("rel_tol", 1e-6), test.get("abs_tol", 1e-6)):
            return "passed", 1.0, ""
        shown = "(hidden test)" if test.get("hidden") else f"expected {wire.short_repr(expected)}"
        return "failed", 0.0, f"got {wire.short_repr(got)}, {shown}"

    def stdio(self, test: dict, got: str) -> Verdict:
        expected = test["output"]
        if wire.outputs_equal(got, expected, test.get("rel_tol", 0.0), test.get("abs_tol", 0.0)):
            return "passed", 1.0, ""
        a, b = wire.normalize_output(got), wire.normalize_output(expected)
        for i in range(max(len(a), len(b))):
            x = a[i] if i < len(a) else "<missing>"
            y = b[i] if i < len(b) else "<end of output>"
            if x != y:
                if test.get("hidden"):
                    return "failed", 0.0, f"wrong answer on line {i + 1} (hidden test)"
                return "failed", 0.0, f"line {i + 1}: got {wire.clip(x, 100)!r}, expected {wire.clip(y, 100)!r}"
        return "failed", 0.0, "output differs (tokens or tolerance)"

    def assertion(self, test: dict, candidate, time_left: float) -> Verdict:
        whole, split = self._compiled(test["code"])
        ns = dict(self.setup_ns)
        ns["candidate"] = candidate
        try:
            with _alarm(time_left + 1.0):
                if split is not None:
                    got, expected = eval(split[0], ns), eval(split[1], ns)
                    if got == expected:
                        return "passed", 1.0, ""
                    if test.get("hidden"):
                        return "failed", 0.0, "assertion failed (hidden test)"
                    return "failed", 0.0, f"got {wire.short_repr(got)}, expected {wire.short_repr(expected)}"
                exec(whole, ns)
        except AssertionError:
            if test.get("hidden"):
                return "failed", 0.0, "assertion failed (hidden test)"
            return "failed", 0.0, "assertion failed: " + wire.clip(test["code"], 200)
        except _SnippetTimeout:
            return "timeout", 0.0, "test exceeded its time limit"
        except Exception as exc:  # noqa: BLE001 - the candidate's value broke the check
            return "error", 0.0, wire.clip(f"{type(exc).__name__} in the test: {exc}")
        return "passed", 1.0, ""

    def score(self, test: dict, output) -> Verdict:
        if self.scorer is None:
            return "error", 0.0, "problem has scorer tests but no score() function"
        instance = wire.decode_value(test.get("instance"))
        try:
            with _alarm(float(test.get("scorer_time_limit_s", 30.0))):
                value = float(self.scorer(instance, output))
        except _SnippetTimeout:
            return "error", 0.0, "scorer ran out of time on this output"
        except Exception as exc:  # noqa: BLE001 - an invalid output scores zero, with the reason
            return "failed", 0.0, wire.clip(f"invalid output: {type(exc).__name__}: {exc}")
        if math.isnan(value):
            return "failed", 0.0, "scorer returned NaN"
        value = min(1.0, max(0.0, value))
        return ("passed", 1.0, "") if value >= wire.PASS_SCORE else ("failed", value, f"score {value:.4f}")

    @staticmethod
    def evaluator(test: dict, metrics: dict) -> Verdict:
        """One metric of a user evaluator, normalised to [0, 1].

        Mirrors problems.model.EvaluatorTest.normalise (this file cannot import pydantic).
        """
        name = test["metric"]
        value = metrics.get(name)
        if type(value) not in (int, float) or value != value:
            return "failed", 0.0, f"metric {name!r} missing or not a number"
        lower, upper = float(test.get("lower", 0.0)), float(test.get("upper", 1.0))
        frac = min(1.0, max(0.0, (float(value) - lower) / (upper - lower)))
        score = frac if test.get("maximize", True) else 1.0 - frac
        note = "" if lower <= value <= upper else (
            f"{name} = {value!r} lies outside its scale [{lower:g}, {upper:g}] and was clipped: "
            "declare its range in metrics.yaml")
        if score >= wire.PASS_SCORE:
            return "passed", 1.0, wire.clip(note)
        return "failed", score, wire.clip(note or f"{name} = {value!r}")

    def _compiled(self, code: str) -> tuple:
        if code not in self._asserts:
            tree = ast.parse(code, "<test>")
            split = None
            node = tree.body[0] if len(tree.body) == 1 else None
            if (
                isinstance(node, ast.Assert)
                and isinstance(node.test, ast.Compare)
                and len(node.test.ops) == 1
                and isinstance(node.test.ops[0], ast.Eq)
            ):
                split = (
                    compile(ast.Expression(node.test.left), "<test>", "eval"),
                    compile(ast.Expression(node.test.comparators[0]), "<test>", "eval"),
                )
            self._asserts[code] = (compile(tree, "<test>", "exec"), split)
        return self._asserts[code]


class _SnippetTimeout(BaseException):
    pass


class _alarm:
    """SIGALRM guard for trusted code (snippets, scorers) that could still run long."""

    def __init__(self, seconds: float):
        self.seconds = max(0.001, seconds)

    def __enter__(self):
        def fire(_sig, _frame):
            raise _SnippetTimeout()

        self.previous = signal.signal(signal.SIGALRM, fire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.previous)
        return False
