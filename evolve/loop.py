"""The asynchronous batched search loop.

    plan(b) -> generate(b) ─┐
                            ├─ plan(b+1) -> generate(b+1) (worker thread) ─┐
                            └─ parse(b) -> evaluate(b) -> commit(b) ─────── ┴─ complete(b) ...

Generation of the next batch overlaps evaluation of the current one.  The order of every
state change is fixed (plan b+1 always happens after batch b-1 completed and before batch b
commits; with `loop.overlap: false`, after batch b completed: no lag of feedback), so for a
fixed seed and a deterministic mutator the archive does not depend on timing, and a resumed
run replays its in-flight batches (`Search.open_plans`) in the same order, skipping the
completions already committed.  The mutator's sampling seed is drawn per batch
from the run's RNG (`mutation.sampling.seed` is replaced by it), so in-process backends are
reproducible too.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Callable, Protocol

from evolve.accounting import generation_stats
from evolve.answers import programs_to_run
from evolve.mutations import AnswerIssue, MutationOutcome, mutate
from evolve.mutator import Completion, Mutator, MutatorError
from evolve.mutator.base import MutatorCancelled
from evolve.scored import Scored
from evolve.search import BatchPlan, Search
from evolve.search_state import Counters
from problems.model import Problem
from sandbox.results import EvalResult

log = logging.getLogger("evolve.loop")


class Evaluator(Protocol):
    """What the loop needs from the sandbox (sandbox.api.Sandbox satisfies it)."""

    def evaluate_many(self, problem: Problem, programs: list[str]) -> list[EvalResult]: ...


BUDGET_REACHED = "iteration budget reached"
"""The stop reason once every iteration of the budget is planned (or done)."""


@dataclass(frozen=True)
class Budget:
    iterations: int
    minutes: float | None = None
    target_fitness: float | None = None
    stop_when_solved: bool = True

    @classmethod
    def from_config(cls, loop, iterations: int | None = None, minutes: float | None = None) -> "Budget":
        return cls(iterations=loop.iterations if iterations is None else iterations,
                   minutes=loop.minutes if minutes is None else minutes,
                   target_fitness=loop.target_fitness, stop_when_solved=loop.stop_when_solved)

    def stop_reason(self, c: Counters, elapsed_s: float, iterations: int | None = None) -> str | None:
        """Why a run under this budget plans no more batches, or None.  `iterations` counts the
        iterations spent: the planned ones (the default: the loop plans no batch past the budget)
        or the done ones (the online learner: a step after the last batch serves no answer)."""
        if (c.iterations_planned if iterations is None else iterations) >= self.iterations:
            return BUDGET_REACHED
        if self.stop_when_solved and c.solved_seq is not None:
            return f"solved by #{c.solved_seq}"
        if self.target_fitness is not None and c.best_seq is not None and c.best_fitness >= self.target_fitness:
            return f"target fitness reached by #{c.best_seq}"
        if self.minutes is not None and elapsed_s >= self.minutes * 60:
            return "time budget reached"
        return None


def safe_mutate(parent: str, text: str, m: int) -> MutationOutcome:
    """`mutate`, with any parser bug turned into a recorded rejection instead of a crash."""
    try:
        return mutate(parent, text, m)
    except Exception as exc:  # noqa: BLE001 - the loop must survive any completion
        issue = AnswerIssue(slot=None, kind="malformed", reason=f"parser failed: {exc!r}"[:300])
        return MutationOutcome(children=[], rejected=[issue], expected=m)


class Loop:
    def __init__(self, search: Search, mutator: Mutator, sandbox: Evaluator, budget: Budget, *,
                 on_batch: Callable[[Search, BatchPlan, list[str]], None] | None = None):
        self.search, self.mutator, self.sandbox, self.budget = search, mutator, sandbox, budget
        self.on_batch = on_batch
        self._t0 = time.monotonic()
        self._elapsed_base = search.counters.elapsed_s
        self._last = self._t0

    def stop_reason(self) -> str | None:
        return self.budget.stop_reason(self.search.counters, self.elapsed())

    def elapsed(self) -> float:
        return self._elapsed_base + time.monotonic() - self._t0

    def _next_plan(self, in_flight: list[BatchPlan]) -> BatchPlan | None:
        if in_flight:
            return in_flight.pop(0)
        if self.stop_reason() is not None:
            return None
        c = self.search.counters
        n = min(self.search.config.loop.batch_size, self.budget.iterations - c.iterations_planned)
        return self.search.plan_batch(n)

    def _generate(self, plan: BatchPlan) -> tuple[list[list[Completion]], float]:
        """The batch's completions and the wall seconds generation took."""
        cfg = self.search.config.mutation
        params = cfg.params(plan.sample_seed, parent=self.search.problem.initial_program)
        t0 = time.monotonic()
        out = self.mutator.generate([p.messages() for p in plan.prompts], cfg.completions, params,
                                    parents=[p.parent.code for p in plan.prompts])
        if len(out) != len(plan.prompts) or any(len(g) != cfg.completions for g in out):
            raise MutatorError(f"mutator returned {[len(g) for g in out]} completions for "
                               f"{len(plan.prompts)} prompts x {cfg.completions}")
        return out, time.monotonic() - t0

    def run(self) -> str:
        """Run until the budget is spent; returns why it stopped."""
        try:
            reason = self._run()
        except BaseException:
            try:  # count the time, but never hide why the run stopped (a failed database
                self._count_tail()  # fails here again)
            except Exception as exc:  # noqa: BLE001
                log.warning("active time of the last batch not stored: %s", exc)
            raise
        self._count_tail()
        return reason

    def _count_tail(self) -> None:
        tail, self._last = time.monotonic() - self._last, time.monotonic()
        self.search.add_elapsed(tail)

    def _run(self) -> str:
        in_flight = self.search.open_plans()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mutator") as gen:
            try:
                return self._drive(gen, in_flight)
            except BaseException:
                # Ctrl-C, SIGTERM or an error mid-batch: the executor's exit waits for the
                # generation in flight, minutes on a CPU (a Ctrl-C took 90 s to stop the main
                # job); cancel it so it stops within a token.  Its batch stays planned.
                self.mutator.cancel()
                raise

    def _drive(self, gen: ThreadPoolExecutor, in_flight: list[BatchPlan]) -> str:
        """The batches, one generating while the previous one is evaluated."""
        plan = self._next_plan(in_flight)
        fut: Future | None = gen.submit(self._generate, plan) if plan else None
        while plan is not None:
            if not self._in_time(fut):  # out of time mid-generation: the batch stays planned
                plan = self._abandon(fut)
                break
            completions, gen_s = fut.result()
            overlap = self.search.config.loop.overlap or bool(in_flight)  # a resume replays in order
            nxt = self._next_plan(in_flight) if overlap else None
            nfut = gen.submit(self._generate, nxt) if nxt else None
            stats = self._evaluate_and_commit(plan, completions)
            stats["generate_s"] = round(gen_s, 3)
            now = time.monotonic()
            happened = self.search.complete_batch(plan, elapsed_s=now - self._last, stats=stats)
            self._last = now
            if self.on_batch:
                self.on_batch(self.search, plan, happened)
            if not overlap:
                nxt = self._next_plan(in_flight)
                nfut = gen.submit(self._generate, nxt) if nxt else None
            elif nfut is not None and self._stop_now():
                nxt, nfut = self._abandon(nfut), None  # solved: the next batch is not needed
            plan, fut = nxt, nfut
        return self.stop_reason() or "budget reached"

    def _in_time(self, fut: Future) -> bool:
        """Wait for a generation; False if the time budget runs out first (a batch can take
        minutes on a CPU: the time bound must not wait for it)."""
        if self.budget.minutes is None:
            return True
        try:
            fut.result(timeout=max(self.budget.minutes * 60 - self.elapsed(), 0.0))
            return True
        except FutureTimeout:
            return False
        except Exception:  # noqa: BLE001 - the generation's own error surfaces at fut.result()
            return True

    def _stop_now(self) -> bool:
        """Stop without the batch in flight: solved, target reached or out of time (never for
        the iteration budget: a planned batch is within it)."""
        reason = self.stop_reason()
        return reason is not None and reason != BUDGET_REACHED

    def _abandon(self, fut: Future) -> None:
        """Cancel the generation in flight and wait for it to stop.  Its batch stays planned in
        the database: a resume with a larger budget generates it again."""
        self.mutator.cancel()
        try:
            fut.result()
        except MutatorCancelled:
            pass
        return None

    def _evaluate_and_commit(self, plan: BatchPlan, completions: list[list[Completion]]) -> dict:
        """Parse, evaluate and commit the batch's completions; returns its accounting
        (evolve.accounting.BatchStats: what was generated, what it yielded, evaluation time)."""
        s, m = self.search, self.search.config.mutation.answers
        done = s.committed(plan)
        work = []
        for p, group in zip(plan.prompts, completions):
            for j, comp in enumerate(group):
                if (p.prompt_id, j) not in done:
                    work.append((p, j, comp, safe_mutate(p.parent.code, comp.text, m)))
        t0 = time.monotonic()
        children = programs_to_run([w[3] for w in work], m)
        evals = s.stored(list(children))  # the same code already evaluated in this run
        fresh = {h: code for h, code in children.items() if h not in evals}
        results = self.sandbox.evaluate_many(s.problem, list(fresh.values())) if fresh else []
        s.counters.evaluations += len(results)
        d = len(s.problem.tests)
        evals.update({h: Scored.of(r, d) for h, r in zip(fresh, results)})
        new = known = 0
        for p, j, comp, outcome in work:
            n_new, n_known = s.commit_completion(p, j, comp, outcome, evals)
            new, known = new + n_new, known + n_known
        stats = generation_stats([w[2] for w in work], [w[3] for w in work], m)
        stats.update(prompts=len(plan.prompts), evaluate_s=round(time.monotonic() - t0, 3),
                     evaluations=len(results), new_programs=new, known=known)
        return stats
