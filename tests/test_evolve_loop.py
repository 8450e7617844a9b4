"""The search loop end to end, in process: real sandbox (process backend), SQLite, scripted mutator."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from evolve.answers import stored_record
from evolve.db import repo
from evolve.db.models import Event, Program, PromptRow, Rollout
from evolve.runs import execute, open_run, seed, status
from tests.evolve_support import problem_dir, snapshot, write_config
from tests.scripted_mutator import MALFORMED, MENU, FixedMutator, factory, render_answers


def _run(tmp: Path, name: str, overrides: dict | None = None, mutator=factory, **kw) -> Path:
    run_dir = tmp / name
    seed(str(problem_dir(tmp)), run_dir, write_config(tmp / f"{name}.yaml", overrides))
    execute(run_dir, resume=False, mutator_factory=mutator, **kw)
    return run_dir


def _rows(run_dir: Path, model, *where):
    r = open_run(run_dir)
    try:
        with repo.transaction(r.factory) as s:
            return s.scalars(select(model).where(model.run_id == r.run_id, *where)).all()
    finally:
        r.engine.dispose()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    return _run(tmp_path_factory.mktemp("loop"), "ref")


def test_budget_spent_and_status(reference):
    info = status(reference)
    assert info["status"] == "finished" and info["stop_reason"] == "iteration budget reached"
    assert info["iterations"] == info["iteration_budget"] == 16
    assert info["children"] > 0 and info["best_fitness"] > 0
    # the same code is evaluated at most once per run (deduplicated across islands)
    progs = _rows(reference, Program)
    assert info["evaluations"] <= len({p.code_hash for p in progs})


def test_same_seed_gives_same_archive(reference, tmp_path):
    assert snapshot(_run(tmp_path, "again")) == snapshot(reference)


def test_other_seed_gives_other_archive(reference, tmp_path):
    other = _run(tmp_path, "other", {"loop": {"seed": 8}})
    assert snapshot(other)["programs"] != snapshot(reference)["programs"]


def test_islands_are_isolated(reference):
    progs = {p.seq: p for p in _rows(reference, Program)}
    prompts = _rows(reference, PromptRow)
    events = _rows(reference, Event, Event.kind.in_(["migration", "reset"]))
    k = 3
    assert {p.island for p in progs.values()} == set(range(k))
    for pr in prompts:  # parents are sampled from the prompt's own island
        assert progs[pr.parent_seq].island == pr.island
        assert all(progs[q].island == pr.island for q in pr.inspirations)
    moved = {(m[1], m[2]) for e in events if e.kind == "migration" for m in e.detail["moved"]}
    reseeded = {(x[0], x[2]) for e in events if e.kind == "reset" for x in e.detail["reseeded"]}
    assert any(e.kind == "migration" for e in events) and any(e.kind == "reset" for e in events)
    for p in progs.values():
        if p.origin == "child":  # children land on their parent's island
            assert progs[p.parent_seq].island == p.island
        elif p.origin == "migrant":  # only ring migration crosses islands, to the next island
            assert progs[p.parent_seq].island == (p.island - 1) % k
            assert (p.island, p.seq) in moved
        elif p.origin == "reseed":
            assert (p.island, p.seq) in reseeded
        else:
            assert p.origin == "seed" and p.parent_seq is None


def test_hidden_tests_never_reach_prompts(reference):
    prompts = _rows(reference, PromptRow)
    assert prompts and all("n30" not in p.user and "hidden" not in p.user for p in prompts)
    assert any("n3 (failed)" in p.user for p in prompts)  # visible failures are shown


def test_rollouts_are_trainer_records(reference):
    rolls = _rows(reference, Rollout)
    progs = {p.seq: p for p in _rows(reference, Program)}
    groups: dict[str, int] = {}
    for r in rolls:
        rec = stored_record(r)
        groups[rec.group_id] = groups.get(rec.group_id, 0) + 1
        assert len(rec.rewards) == 2 and all(len(row) == 8 for row in rec.rewards)
        for slot, info in r.answers["slots"].items():
            k = int(slot) - 1
            if info["status"] in ("child", "known"):
                assert r.valid[k] and r.rewards[k] == progs[info["seq"]].scores
            else:
                assert not r.valid[k] and r.rewards[k] == [0.0] * 8 and info["reason"]
    assert set(groups.values()) == {2}  # G completions per prompt form one group
    assert len(groups) == 16


def test_malformed_completions_never_crash(tmp_path):
    good = (render_answers([MENU[1]]), "stop")
    outputs = list(MALFORMED.values()) + [good]
    cfg = {"mutation": {"answers": 1, "completions": 3}, "loop": {"iterations": 6, "batch_size": 3},
           "islands": {"count": 1, "migration_interval": 0, "reset_interval": 0}}
    run_dir = _run(tmp_path, "bad", cfg, mutator=lambda c: FixedMutator(outputs))
    rolls = sorted(_rows(run_dir, Rollout), key=lambda r: (r.iteration, r.completion_index))
    assert len(rolls) == 18 and status(run_dir)["status"] == "finished"
    by_case = dict(zip(MALFORMED, rolls))
    def reason(case: str) -> str:
        r = by_case[case]
        slot = r.answers["slots"].get("1", {})
        return f"{slot.get('status')}: {slot.get('reason', '')} {r.answers['extra']}"
    assert "no code block" in reason("no_blocks") and reason("empty").startswith("empty")
    assert "SEARCH text not found" in reason("unmatched_search")
    assert "outside the EVOLVE-BLOCK" in reason("outside_block")
    assert "truncated" in reason("unclosed_search") and "truncated" in reason("truncated")
    assert "syntax error" in reason("syntax_error")
    assert len(by_case["garbage_1mb"].text) == 1 << 20 and "longer than" in reason("garbage_1mb")
    for case in MALFORMED:
        assert not any(by_case[case].valid), case
        assert by_case[case].answers["summary"].startswith("edit of #0")
    # the one good answer per cycle became a child
    assert any(r.valid == [True] for r in rolls)


def test_best_of_n_samples_only_the_initial_program(tmp_path):
    run_dir = _run(tmp_path, "bon", {"loop": {"mode": "best_of_n", "iterations": 6}})
    seeds = {p.seq for p in _rows(run_dir, Program) if p.origin == "seed"}
    prompts = _rows(run_dir, PromptRow)
    assert len(prompts) == 6 and {p.parent_seq for p in prompts} <= seeds
    assert all("Recent attempts" not in p.user for p in prompts)
    assert not _rows(run_dir, Event, Event.kind.in_(["migration", "reset"]))
    assert {p.generation for p in _rows(run_dir, Program)} <= {0, 1}


def test_stops_when_solved(tmp_path):
    run_dir = _run(tmp_path, "solve", {"loop": {"stop_when_solved": True, "iterations": 200},
                                       "islands": {"count": 1, "migration_interval": 0,
                                                   "reset_interval": 0}},
                   mutator=lambda c: FixedMutator([(render_answers([MENU[5]]), "stop")]))
    info = status(run_dir)
    # batch 0 solves it; batch 1, already generating (it overlaps batch 0's evaluation), is
    # abandoned: nothing of it is committed, it stays planned for a resume with a larger budget
    assert info["stop_reason"] == "solved by #1" and info["iterations"] == 2
    assert info["iterations_planned"] == 4 and len(_rows(run_dir, Rollout)) == 2 * 2
    assert info["best_fitness"] == 1.0 and info["tests_solved_by_some_elite"] == 8


def test_a_solve_cancels_the_generation_in_flight(tmp_path):
    """A backend that honours cancel() stops mid-generation (MutatorCancelled is absorbed)."""
    from evolve.mutator.base import MutatorCancelled

    class Slow(FixedMutator):
        cancelled = 0

        def generate(self, prompts, n=1, params=None, parents=None):
            if self.i:  # the second batch: runs until cancelled
                for _ in range(200):
                    try:
                        self._check_cancel()
                    except MutatorCancelled:
                        Slow.cancelled += 1
                        raise
                    time.sleep(0.05)
            return super().generate(prompts, n, params, parents)

    t0 = time.monotonic()
    run_dir = _run(tmp_path, "cancel", {"loop": {"stop_when_solved": True, "iterations": 200},
                                        "islands": {"count": 1, "migration_interval": 0,
                                                    "reset_interval": 0}},
                   mutator=lambda c: Slow([(render_answers([MENU[5]]), "stop")]))
    assert status(run_dir)["iterations"] == 2 and Slow.cancelled == 1
    assert time.monotonic() - t0 < 8  # did not wait out the slow batch (10 s)


@pytest.mark.slow
def test_product_path_with_the_real_transformers_mutator(tmp_path, tiny_lm_dir):
    """No plugin: the configured transformers backend (tiny random LM) drives a short run;
    its completions are garbage, which the loop must absorb, and token ids reach the rollouts."""
    cfg = {"mutator": {"backend": "transformers", "model": str(tiny_lm_dir), "dtype": "float32"},
           "mutation": {"answers": 1, "completions": 2, "sampling": {"max_tokens": 16}},
           "loop": {"iterations": 2, "batch_size": 2}}
    run_dir = _run(tmp_path, "tiny", cfg, mutator=None)
    rolls = _rows(run_dir, Rollout)
    assert status(run_dir)["status"] == "finished" and len(rolls) == 4
    for r in rolls:  # scaffolded: the harness's opening tokens are marked, not counted
        assert r.token_ids and len(r.token_ids) == len(r.logprobs) == len(r.sampled)
        assert 0 < sum(r.sampled) <= 16 and not r.sampled[0]
        assert all((lp is None) == (not s) for lp, s in zip(r.logprobs, r.sampled))
        assert r.prompt_token_ids and r.policy_version == 0
        rec = stored_record(r)
        assert rec.completion_length == len(r.token_ids) and rec.sampled_length == sum(r.sampled)


def test_every_batch_records_its_accounting(reference):
    from evolve.accounting import BatchStats
    from evolve.db.models import Batch

    batches = _rows(reference, Batch)
    assert batches and all(b.status == "done" and b.stats for b in batches)
    progs = {p.seq: p for p in _rows(reference, Program)}
    children = sum(1 for p in progs.values() if p.origin == "child")
    for b in batches:
        st = BatchStats.model_validate(b.stats)
        assert st.answers == st.prompts * 2 * 2  # prompts x completions x answers (SMALL config)
        assert st.new_programs + st.known <= st.usable <= st.answers
        assert sum(b.stats["statuses"].values()) == st.answers
        assert st.generate_s >= 0 and st.evaluate_s >= 0 and st.learn_s is None
    assert sum(b.stats["new_programs"] for b in batches) == children


ONE_ISLAND = {"count": 1, "migration_interval": 0, "reset_interval": 0}


@pytest.mark.parametrize("overlap", [True, False])
def test_overlap_decides_whether_a_batch_sees_the_previous_one(tmp_path, overlap):
    """With overlap, batch 1 is planned while batch 0 is evaluated: its prompts cannot show
    batch 0's attempts.  Without, every batch is planned after the previous one is stored.
    Refine only: a fresh draw shows no attempts whatever the lag (with crossover off by default,
    the operator draws made batch 2 all fresh)."""
    run_dir = _run(tmp_path, "lag", {"loop": {"overlap": overlap, "iterations": 6,
                                              "operators": {"use": ["refine"]}},
                                     "islands": ONE_ISLAND})
    by_batch: dict[int, list[str]] = {}
    for p in _rows(run_dir, PromptRow):
        by_batch.setdefault(p.batch_index, []).append(p.user)
    seen = [any("Recent attempts" in u for u in by_batch[b]) for b in sorted(by_batch)]
    assert seen[0] is False and len(seen) == 3
    assert seen[1] is (not overlap) and seen[2] is True


def test_without_overlap_a_solve_plans_no_further_batch(tmp_path):
    run_dir = _run(tmp_path, "solve_sync", {"loop": {"stop_when_solved": True, "iterations": 200,
                                                     "overlap": False},
                                            "islands": ONE_ISLAND},
                   mutator=lambda c: FixedMutator([(render_answers([MENU[5]]), "stop")]))
    info = status(run_dir)
    assert info["stop_reason"] == "solved by #1"
    assert info["iterations"] == info["iterations_planned"] == 2
