"""Turning (problem, program) into a job frame, and the frames that come back into an EvalResult."""

from __future__ import annotations

import uuid

from problems.model import Problem
from sandbox.results import EvalResult, TestOutcome
from sandbox.wire import encode_value


def build_job(problem: Problem, program: str, output_limit: int) -> dict:
    tests = []
    for test in problem.tests:
        spec = test.model_dump()
        for key in ("args", "kwargs", "expected", "instance"):
            if key in spec:
                spec[key] = encode_value(spec[key])
        tests.append(spec)
    return {
        "type": "job",
        "job_id": uuid.uuid4().hex,
        "program": program,
        "mode": problem.mode,
        "entry_point": problem.entry_point,
        "setup_code": problem.setup_code,
        "scorer_code": problem.scorer_code,
        "evaluator_code": problem.evaluator_code,
        "support_files": dict(problem.support_files),
        "tests": tests,
        "stage_thresholds": list(problem.stage_thresholds),
        "time_limit_s": problem.time_limit_s,
        "wall_limit_s": problem.wall_limit_s,
        "memory_mb": problem.memory_mb,
        "output_limit": output_limit,
    }


def assemble(
    problem: Problem,
    outcomes: dict[str, dict],
    done: dict | None,
    *,
    backend: str,
    wall_ms: float,
    failure: str = "",
) -> EvalResult:
    """Every test gets an outcome: a test the sandbox never answered is `crashed`, with why."""
    result: list[TestOutcome] = []
    for test in problem.tests:
        raw = outcomes.get(test.id)
        if raw is None:
            reason = failure or "no result from the sandbox"
            result.append(TestOutcome(test_id=test.id, status="crashed", score=0.0,
                                      message=reason[:500], stage=test.stage))
        else:
            result.append(TestOutcome(**raw))
    error = (done or {}).get("error", "") or failure
    stages = (done or {}).get("stages_run") or sorted({o.stage for o in result if o.status != "skipped"})
    return EvalResult.from_outcomes(
        result, [t.weight for t in problem.tests], stages_run=stages, wall_ms=wall_ms,
        backend=backend, error=error,
    )
