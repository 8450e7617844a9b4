"""A run's search state and its persisted transitions.

In memory: the archive (islands of MAP-Elites grids + membership index), the RNG, the counters
and each island's recent attempts.  Every transition - seed, plan a batch, commit one
completion (its rollout and its children), complete a batch (migration, reset) - is one
database transaction, and `Search.load` rebuilds exactly the same state from the database, so a
run killed at any instant resumes as if it had never stopped.  If a transaction fails the
in-memory state is stale: the caller must stop and reload.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Any

import numpy as np

from evolve.config import RunConfig
from evolve.db import repo
from evolve.db.models import Batch, Program, PromptRow, Rollout, Run
from evolve.islands import Archive, Placement
from evolve.answers import answer_rows
from evolve.map_elites import PASS_SCORE, Candidate, Descriptor, TestLayout
from evolve.mutations import MutationOutcome
from evolve.mutator import Completion
from evolve.operators import choose, note_parent, record, retired
from evolve.prompts import PromptBuilder, child_summary, completion_summary
from evolve.scored import Scored, code_hash
from evolve.search_state import BatchPlan, Counters, PlannedPrompt, candidate, rng_from, rng_state, view
from evolve.selection import complementary
from problems.model import Problem
from sandbox.results import EvalResult

__all__ = ["BatchPlan", "PlannedPrompt", "Scored", "Search", "code_hash"]


class Search:
    def __init__(self, factory, run: Run, problem: Problem, config: RunConfig, archive: Archive,
                 rng: np.random.Generator, counters: Counters, attempts: list[deque]):
        self.factory, self.run_id = factory, run.id
        # the search sees only the problem's search tests: held-out tests never reach it
        self.full_problem, self.problem, self.config = problem, problem.search_view(), config
        self.archive, self.rng, self.counters = archive, rng, counters
        self.attempts = attempts
        self.strategy = config.selection.strategy
        self.builder = PromptBuilder.of(self.problem, config)

    # --- construction -------------------------------------------------------------------------

    @staticmethod
    def _archive(problem: Problem, config: RunConfig) -> Archive:
        layout = TestLayout(tuple(problem.test_ids()), tuple(t.stage for t in problem.tests))
        desc = Descriptor(config.map_elites.dimensions, layout, problem.initial_program)
        return Archive(desc, config.islands.count, len(problem.tests))

    @classmethod
    def create(cls, factory, run_id: str, problem: Problem, config: RunConfig,
               seed_result: EvalResult) -> "Search":
        """A new run whose islands each start from the evaluated initial program (`seed_result`:
        its evaluation on the problem's search tests, `Problem.search_view`)."""
        archive = cls._archive(problem.search_view(), config)
        rng = np.random.Generator(np.random.PCG64(config.loop.seed))
        counters = Counters()
        code, h = problem.initial_program, code_hash(problem.initial_program)
        run = Run(id=run_id, problem_id=problem.id, problem=problem.model_dump(mode="json"),
                  config=config.snapshot(), seed=config.loop.seed, status="seeded",
                  rng_state=rng_state(rng), counters={}, binning=[], budget={})
        attempts = [deque(maxlen=config.prompt.recent_attempts) for _ in range(config.islands.count)]
        self = cls(factory, run, problem, config, archive, rng, counters, attempts)
        with repo.transaction(factory) as s:
            s.add(run)
            s.flush()
            for island in range(config.islands.count):
                self._insert(s, island, code, h, Scored.of(seed_result, len(self.problem.tests)),
                             parent=None, origin="seed", generation=0)
                counters.seeds.append(counters.next_seq - 1)
            repo.add_event(s, run_id, "seed", {"fitness": seed_result.fitness,
                                               "error": seed_result.error})
            self._save(s, binning=True)
        return self

    @classmethod
    def load(cls, factory, run_id: str) -> "Search":
        with repo.transaction(factory) as s:
            run = repo.get_run(s, run_id)
            problem = Problem.model_validate(run.problem)
            config = RunConfig.model_validate(run.config)
            archive = cls._archive(problem.search_view(), config)
            archive.descriptor.restore(run.binning)
            counters = Counters(**{k: v for k, v in run.counters.items() if k != "arrival"})
            archive.arrival = run.counters["arrival"]
            for island, h, seq in repo.membership(s, run_id):
                archive.remember(island, h, seq)
            for cell, prog in repo.load_cells(s, run_id):
                key = tuple(int(x) for x in cell.cell_key.split(",")) if cell.cell_key else ()
                archive.grids[cell.island].cells[key] = (candidate(prog), cell.arrival)
            n = config.prompt.recent_attempts
            attempts = []
            for island in range(config.islands.count):
                rows = repo.recent_rollouts(s, run_id, island, n) if n else []
                attempts.append(deque((r.answers["summary"] for r in rows), maxlen=n))
            return cls(factory, run, problem, config, archive, rng_from(run.rng_state), counters,
                       attempts)

    def _locked(self):
        """The transaction of a state transition (plan, commit, complete).  One process owns
        the state here; evolve.distributed.DistributedSearch locks the run row and reloads
        what other workers changed before the transition decides anything."""
        return repo.transaction(self.factory)

    def _save(self, s, *, binning: bool = False, **extra: Any) -> None:
        values = dict(counters={**self.counters.__dict__, "arrival": self.archive.arrival},
                      rng_state=rng_state(self.rng), **extra)
        if binning:
            values["binning"] = self.archive.descriptor.state()
        repo.update_run(s, self.run_id, **values)

    # --- transitions --------------------------------------------------------------------------

    def _admit(self, island: int, code: str, h: str, scored: "Scored", *, parent: int | None,
               origin: str, generation: int, **row: Any) -> tuple[Program, Candidate, Placement]:
        """Give a program its seq and offer it to the island's grid (in memory only); the
        caller adds the returned row and persists the placement in its transaction."""
        c = self.counters
        seq, c.next_seq = c.next_seq, c.next_seq + 1
        desc = self.archive.descriptor.values(code, scored.scores, scored.fitness)
        cand = Candidate(seq, scored.fitness, tuple(scored.scores), desc, h)
        prog = Program(run_id=self.run_id, seq=seq, code=code, code_hash=h, parent_seq=parent,
                       origin=origin, island=island, generation=generation,
                       scores=list(scored.scores), fitness=scored.fitness, descriptor=list(desc),
                       failures=scored.failures, error=scored.error, **row)
        pl = self.archive.offer(island, cand, eligible=not scored.error or origin == "seed")
        if not scored.error and (c.best_seq is None or scored.fitness > c.best_fitness):
            c.best_seq, c.best_fitness = seq, scored.fitness
        if c.solved_seq is None and scored.scores and min(scored.scores) >= PASS_SCORE:
            c.solved_seq = seq
        return prog, cand, pl

    def _persist(self, s, island: int, cand: Candidate, pl: Placement) -> None:
        if pl.rebinned:  # every cell may have moved: rewrite the grid, store the new ranges
            self._persist_cells(s, None)
            s.flush()
            self._save(s, binning=True)
        elif pl.placed:
            repo.upsert_cell(s, self.run_id, island, pl.key, cand.seq, cand.fitness, pl.arrival)

    def _insert(self, s, island: int, code: str, h: str, scored: "Scored", **kw: Any
                ) -> tuple[Candidate, bool]:
        prog, cand, pl = self._admit(island, code, h, scored, **kw)
        s.add(prog)
        self._persist(s, island, cand, pl)
        return cand, pl.placed

    def _place(self, s, island: int, cand: Candidate) -> bool:
        pl = self.archive.offer(island, cand)
        self._persist(s, island, cand, pl)
        return pl.placed

    def _persist_cells(self, s, islands: list[int] | None) -> None:
        which = range(self.archive.n_islands) if islands is None else islands
        cells = [(i, k, c.seq, c.fitness, a) for i in which for k, c, a in self.archive.grids[i]]
        repo.replace_cells(s, self.run_id, cells, islands)

    def _pick(self, island: int) -> tuple[str, int, list[int]]:
        """(operator, parent seq, inspiration seqs) of one prompt (evolve.operators)."""
        c, cfg = self.counters, self.config
        pool = self.archive.grids[island].view()
        if cfg.loop.mode == "best_of_n" or len(pool) == 0:
            return "fresh", c.seeds[island], []
        ops = cfg.loop.operators
        parents = pool.without(retired(c.parent_failures, ops.patience))
        if len(parents) == 0:  # every elite is exhausted: what is left is a fresh draw
            return "fresh", c.seeds[island], []
        # crossover is on offer only with a parent that some other elite complements: a pick
        # that found no partner used to become a refinement, so crossover's untried prior kept
        # winning the draw and handed its budget to refine unrecorded
        mates = None if "crossover" not in ops.use else parents.without(
            {int(q) for q, sc in zip(parents.seq, parents.scores) if not complementary(pool, sc, int(q), 1)})
        use = [o for o in ops.use if o != "crossover" or (mates is not None and len(mates) > 0)]
        op = choose(c.operator_stats, use or ["refine"], ops.prior_of, self.rng)
        if op == "fresh":
            return op, c.seeds[island], []
        among = mates if op == "crossover" else parents
        row = self.strategy.pick(among, self.rng)
        seq, scores = int(among.seq[row]), among.scores[row]
        k = 1 if op == "crossover" else cfg.selection.inspirations
        found = complementary(pool, scores, seq, k)
        return op, seq, [int(pool.seq[r]) for r in found]

    def plan_batch(self, n: int) -> BatchPlan:
        """Choose operators, parents and inspirations for `n` prompts; build and persist them."""
        c = self.counters
        prompts: list[PlannedPrompt] = []
        with self._locked() as s:
            before = rng_state(self.rng)
            picks = [(island, *self._pick(island)) for island in
                     ((c.iterations_planned + j) % self.archive.n_islands for j in range(n))]
            sample_seed = int(self.rng.integers(2**31 - 1))
            index = c.batches_planned
            rows = repo.programs_by_seq(s, self.run_id, sorted({q for p in picks for q in (p[2], *p[3])}))
            s.add(Batch(run_id=self.run_id, batch_index=index, status="planned",
                        rng_before=before, rng_after=rng_state(self.rng), sample_seed=sample_seed))
            for j, (island, op, parent, insp) in enumerate(picks):
                pv = view(rows[parent])
                others = [view(rows[q]) for q in insp]
                if op == "crossover":
                    pr = self.builder.build_crossover(pv, others[0], list(self.attempts[island]))
                elif op == "fresh":
                    pr = self.builder.build(pv, [], [])
                else:
                    pr = self.builder.build(pv, others, list(self.attempts[island]))
                row = PromptRow(run_id=self.run_id, batch_index=index,
                                iteration=c.iterations_planned + j, island=island, operator=op,
                                parent_seq=parent, inspirations=insp, system=pr.system, user=pr.user)
                s.add(row)
                s.flush()
                prompts.append(PlannedPrompt(row.id, row.iteration, island, pv,
                                             rows[parent].generation, pr.system, pr.user, op))
            c.batches_planned += 1
            c.iterations_planned += n
            self._save(s)
        return BatchPlan(index, sample_seed, prompts)

    def open_plans(self) -> list[BatchPlan]:
        """Batches planned but not completed (in flight when the run stopped), in order."""
        with repo.transaction(self.factory) as s:
            return [self._stored_plan(s, b) for b in repo.open_batches(s, self.run_id)]

    def _stored_plan(self, s, b: Batch) -> BatchPlan:
        """A planned batch as stored (its prompts were built when it was planned)."""
        prs = repo.batch_prompts(s, self.run_id, b.batch_index)
        rows = repo.programs_by_seq(s, self.run_id, [p.parent_seq for p in prs])
        return BatchPlan(b.batch_index, b.sample_seed, [
            PlannedPrompt(p.id, p.iteration, p.island, view(rows[p.parent_seq]),
                          rows[p.parent_seq].generation, p.system, p.user, p.operator)
            for p in prs
        ])

    def committed(self, plan: BatchPlan) -> set[tuple[int, int]]:
        with repo.transaction(self.factory) as s:
            return repo.committed_completions(s, [p.prompt_id for p in plan.prompts])

    def stored(self, hashes: list[str]) -> dict[str, Scored]:
        """Stored evaluations of programs already in the run (on any island), by code hash."""
        seqs = {h: q for h in hashes if (q := self.archive.first(h)) is not None}
        with repo.transaction(self.factory) as s:
            rows = repo.programs_by_seq(s, self.run_id, list(seqs.values()))
        return {h: Scored.of_row(rows[q]) for h, q in seqs.items()}

    def commit_completion(self, p: PlannedPrompt, index: int, comp: Completion,
                          outcome: MutationOutcome, evals: dict[str, Scored]) -> tuple[int, int]:
        """The rollout of one completion and every new child it yields, in one transaction.
        `evals` holds the evaluation of every evaluable child (stored or fresh), by code hash.
        Everything is decided first, then written in one flush (no row written twice).
        Returns (new programs, answers that re-found a program of the island)."""
        m, d = self.config.mutation.answers, len(self.problem.tests)
        rows = answer_rows(outcome, m, d, evals)
        slots: dict[int, dict[str, Any]] = {}
        parts: list[tuple[int, str]] = []  # (slot, outcome) for the attempts summary
        admitted: list[tuple[Program, Candidate, Placement]] = []
        c = self.counters
        with self._locked() as s:
            before = (c.children, c.duplicates)
            top = self.archive.best(p.island)
            island_best = top.fitness if top is not None else 0.0
            for child in outcome.children:
                k = child.slot
                if not 1 <= k <= m:
                    continue
                if child.syntax_error:
                    slots[k] = {"status": "rejected", "reason": f"syntax error: {child.syntax_error}"}
                    parts.append((k, f"answer {k} rejected: syntax error: {child.syntax_error}"))
                    c.rejected += 1
                    continue
                h = rows.keys[k - 1]
                known = self.archive.known(p.island, h)
                if known is not None:
                    slots[k] = {"status": "known", "seq": known}
                    parts.append((k, f"answer {k}: same program as #{known}"))
                    c.duplicates += 1
                    continue
                res = evals[h]
                prog, cand, pl = self._admit(
                    p.island, child.code, h, res, parent=p.parent.seq, origin="child",
                    generation=p.parent_generation + 1, iteration=p.iteration,
                    policy_version=comp.policy_version, prompt_id=p.prompt_id, slot=k,
                )
                admitted.append((prog, cand, pl))
                c.children += 1
                failed = [f"{b.index + 1}: {b.reason}" for b in child.blocks if b.status == "failed"]
                slots[k] = {"status": "child", "seq": cand.seq, "placed": pl.placed, "kind": child.kind}
                parts.append((k, f"answer {k} ({child.kind}) " + child_summary(
                    self.builder, p.parent, cand.seq, res.fitness, cand.scores, res.error, failed)))
            extra = []
            for issue in outcome.rejected:
                if issue.slot is None or not 1 <= issue.slot <= m:
                    extra.append(f"{issue.kind}: {issue.reason}")
                elif issue.slot not in slots:
                    slots[issue.slot] = {"status": issue.kind, "reason": issue.reason}
                    parts.append((issue.slot, f"answer {issue.slot} {issue.kind}: {issue.reason}"))
                    c.rejected += 1
            if comp.finish_reason == "length":
                parts.append((m + 1, "(completion hit the token limit)"))
            summary = completion_summary(p.parent.seq, [t for _, t in sorted(parts)] or ["no answer"])
            rollout = Rollout(
                run_id=self.run_id, prompt_id=p.prompt_id, iteration=p.iteration, island=p.island,
                group_id=f"{self.run_id}:{p.iteration}", completion_index=index, text=comp.text,
                prompt_token_ids=comp.prompt_token_ids, token_ids=comp.token_ids,
                logprobs=comp.logprobs, sampled=comp.sampled, temperatures=comp.temperatures,
                finish_reason=comp.finish_reason,
                truncated=comp.finish_reason == "length", policy_version=comp.policy_version,
                rewards=rows.rewards, valid=rows.valid, answer_keys=rows.keys,
                answers={"slots": {str(k): v for k, v in sorted(slots.items())}, "extra": extra,
                         "summary": summary},
            )
            s.add(rollout)
            if self.config.loop.mode == "evolve":  # the operator bandit learns from this completion
                record(c.operator_stats, p.operator,
                       any(not pr.error and cand.fitness > island_best for pr, cand, _ in admitted))
                if p.operator != "fresh":
                    note_parent(c.parent_failures, p.parent.seq, any(
                        not pr.error and cand.fitness > p.parent.fitness for pr, cand, _ in admitted))
            for prog, cand, pl in admitted:
                prog.rollout = rollout
                s.add(prog)
            for prog, cand, pl in admitted:
                self._persist(s, p.island, cand, pl)
            self._save(s)
            added = (c.children - before[0], c.duplicates - before[1])
        self.attempts[p.island].append(summary)
        return added

    def complete_batch(self, plan: BatchPlan, elapsed_s: float = 0.0,
                       stats: dict[str, Any] | None = None) -> list[str]:
        """Mark the batch done (with its accounting, evolve.accounting.BatchStats) and run
        migration/reset when their interval boundary is crossed."""
        c, isl = self.counters, self.config.islands
        evolving = self.config.loop.mode == "evolve"
        happened = []
        with self._locked() as s:
            before, after = c.iterations_done, c.iterations_done + len(plan.prompts)
            crossed = lambda every: every > 0 and after // every > before // every  # noqa: E731
            repo.mark_batch_done(s, self.run_id, plan.index, stats)
            if evolving and crossed(isl.migration_interval):
                self._migrate(s, plan.index)
                happened.append("migration")
            if evolving and crossed(isl.reset_interval):
                self._reset(s, plan.index)
                happened.append("reset")
            c.batches_done += 1
            c.iterations_done = after
            c.elapsed_s += elapsed_s
            self._save(s)
        return happened

    def add_elapsed(self, seconds: float) -> None:
        """Count active time that no batch committed (a generation cancelled at the deadline,
        an interrupt): a resumed run must not get that time again.  Only the stored time
        changes: after an interrupt inside a transition its transaction rolled back while the
        in-memory counters and RNG had moved on, and writing them would store half of it."""
        with self._locked() as s:
            stored = repo.get_run(s, self.run_id).counters
            repo.update_run(s, self.run_id, counters={
                **stored, "elapsed_s": stored.get("elapsed_s", 0.0) + seconds})
        self.counters.elapsed_s += seconds

    def add_stats(self, batch: int, **figures: float) -> None:
        """Add figures known only after the batch completed (the online learner's time)."""
        with repo.transaction(self.factory) as s:
            repo.add_batch_stats(s, self.run_id, batch, figures)

    def _copy(self, s, dst: int, src: Program, origin: str) -> tuple[int, bool]:
        """Put `src`'s program on island `dst` (a new row unless it is already a member)."""
        known = self.archive.known(dst, src.code_hash)
        if known is not None:
            return known, self._place(s, dst, replace(candidate(src), seq=known))
        cand, placed = self._insert(s, dst, src.code, src.code_hash, Scored.of_row(src),
                                    parent=src.seq, origin=origin, generation=src.generation,
                                    iteration=src.iteration, policy_version=src.policy_version)
        return cand.seq, placed

    def _migrate(self, s, batch: int) -> None:
        plan = self.archive.migration_plan(self.config.islands.migration_fraction)
        rows = repo.programs_by_seq(s, self.run_id, [cand.seq for _, cand in plan])
        moved = [[cand.seq, dst, *self._copy(s, dst, rows[cand.seq], "migrant")] for dst, cand in plan]
        repo.add_event(s, self.run_id, "migration", {"moved": moved}, batch)

    def _reset(self, s, batch: int) -> None:
        rng = np.random.default_rng([self.config.loop.seed, batch, 0x5E5E7])
        plan = self.archive.reset_plan(self.config.islands.reset_fraction, rng)
        wiped = sorted({i for i, _ in plan})
        self._persist_cells(s, wiped)
        s.flush()
        rows = repo.programs_by_seq(s, self.run_id, [f.seq for _, f in plan])
        seeded = [[i, f.seq, *self._copy(s, i, rows[f.seq], "reseed")] for i, f in plan]
        repo.add_event(s, self.run_id, "reset", {"wiped": wiped, "reseeded": seeded}, batch)

