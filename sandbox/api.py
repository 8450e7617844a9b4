"""The sandbox as the rest of the system uses it: evaluate programs, get EvalResults."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from problems.model import Problem
from sandbox.backends import resolve_backend, slot_class
from sandbox.config import SandboxConfig
from sandbox.isolation import SandboxUnavailable
from sandbox.jobs import assemble, build_job
from sandbox.pool import SlotPool
from sandbox.requirements import RequirementError, missing, refusal
from sandbox.results import EvalResult
from sandbox.slots import SlotDied


class Sandbox:
    """A pool of warm slots of one backend.  Thread-safe; use as a context manager."""

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self.backend = resolve_backend(self.config)
        cls = slot_class(self.backend)
        self.jail = cls.isolation(self.config)  # what confines candidates (reported to the user)
        self.pool = SlotPool(
            lambda index: cls.from_config(self.config, index),
            size=self.config.slots,
            max_uses=self.config.max_candidates_per_slot,
            start_timeout=self.config.start_timeout_s,
        )
        self._executor = ThreadPoolExecutor(max_workers=self.config.slots, thread_name_prefix="sandbox")
        self._provides: dict[str, str] | None = None

    @property
    def provides(self) -> dict[str, str]:
        """{package: version} candidates can import in this sandbox."""
        if self._provides is None:
            self._provides = slot_class(self.backend).provides(self.config)
        return self._provides

    def check(self, problem: Problem) -> None:
        """RequirementError (one line) when the problem needs a package this sandbox lacks."""
        if problem.requirements:
            lacking = missing(problem.requirements, self.provides)
            if lacking:
                raise RequirementError(refusal(problem.id, self.backend, lacking, self.provides))

    def evaluate(self, problem: Problem, program: str) -> EvalResult:
        self.check(problem)
        job = build_job(problem, program, self.config.output_limit_kb * 1024)
        start = time.monotonic()
        outcomes, done, failure = self.pool.run(job, problem.wall_limit_s + self.config.grace_s)
        return assemble(problem, outcomes, done, backend=self.backend,
                        wall_ms=(time.monotonic() - start) * 1000.0, failure=failure)

    def evaluate_many(self, problem: Problem, programs: list[str]) -> list[EvalResult]:
        """Evaluate concurrently (up to `slots` at once); results in input order."""
        return list(self._executor.map(lambda p: self.evaluate(problem, p), programs))

    def submit(self, problem: Problem, program: str):
        """A Future of the EvalResult, for overlapping evaluation with generation."""
        return self._executor.submit(self.evaluate, problem, program)

    def warm(self) -> None:
        self.pool.warm()

    def start(self) -> None:
        """Start every slot now: the check that the sandbox works here, before a caller writes
        anything that depends on it.  Raises SandboxUnavailable (one line)."""
        try:
            self.pool.warm()
        except SlotDied as exc:
            self.close()
            raise SandboxUnavailable(f"the {self.backend} sandbox did not start: {exc}") from None

    def describe(self) -> dict[str, str]:
        """What runs candidates: recorded in run events, shown by status and `sandbox run`."""
        return {"backend": self.backend, "jail": self.jail}

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.pool.close()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def evaluate(problem: Problem, program: str, backend: str = "auto", **options) -> EvalResult:
    """One-off evaluation (starts and stops a one-slot pool)."""
    config = SandboxConfig(backend=backend, slots=1, **options)
    with Sandbox(config) as box:
        return box.evaluate(problem, program)
