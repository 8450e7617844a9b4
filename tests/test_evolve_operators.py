"""The operator bandit: fresh draws from the seed, refinement, crossover, and how the budget is
split among them by what each has produced (Thompson sampling, reproducible)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from evolve.db import repo
from evolve.db.models import Program, PromptRow, Rollout
from evolve.operators import OperatorsConfig, choose, note_parent, record, retired
from evolve.runs import execute, open_run, seed
from tests.evolve_support import problem_dir, write_config
from tests.scripted_mutator import factory


def test_thompson_sampling_follows_the_successes():
    rng = np.random.default_rng(0)
    stats: dict[str, list[int]] = {}
    for _ in range(40):
        record(stats, "fresh", False)
        record(stats, "refine", True)
    picks = Counter(choose(stats, ["fresh", "refine"], (1.0, 1.0), rng) for _ in range(200))
    assert picks["refine"] > 190
    assert choose({}, ["crossover"], (1.0, 1.0), rng) == "crossover"
    a = [choose({}, ["fresh", "refine", "crossover"], (1, 1), np.random.default_rng(5)) for _ in range(3)]
    b = [choose({}, ["fresh", "refine", "crossover"], (1, 1), np.random.default_rng(5)) for _ in range(3)]
    assert a == b


def test_a_per_operator_prior_tilts_the_first_draws():
    cfg = OperatorsConfig.model_validate({"priors": {"fresh": [20, 1]}})
    assert cfg.prior_of("fresh") == (20, 1) and cfg.prior_of("refine") == (1.0, 1.0)
    rng = np.random.default_rng(0)
    picks = Counter(choose({}, ["fresh", "refine", "crossover"], cfg.prior_of, rng) for _ in range(200))
    assert picks["fresh"] > 180
    # the evidence still wins: fresh never succeeds, refine always does
    stats: dict[str, list[int]] = {"fresh": [0, 60], "refine": [60, 60]}
    picks = Counter(choose(stats, ["fresh", "refine"], cfg.prior_of, rng) for _ in range(200))
    assert picks["refine"] > 190


@pytest.mark.parametrize("bad", [{"use": []}, {"use": ["fresh", "fresh"]}, {"use": ["mutate"]},
                                 {"prior": [0, 1]}, {"priors": {"fresh": [1, 0]}},
                                 {"priors": {"mutate": [1, 1]}}])
def test_bad_operator_settings_are_refused(bad):
    with pytest.raises(ValueError):
        OperatorsConfig.model_validate(bad)


def _run(tmp: Path, name: str, loop: dict) -> Path:
    run_dir = tmp / name
    seed(str(problem_dir(tmp)), run_dir, write_config(tmp / f"{name}.yaml", {"loop": loop}))
    execute(run_dir, resume=False, mutator_factory=factory)
    return run_dir


def _prompts(run_dir: Path):
    r = open_run(run_dir)
    try:
        with repo.transaction(r.factory) as s:
            prompts = s.scalars(select(PromptRow).where(PromptRow.run_id == r.run_id)).all()
            seeds = {p.seq for p in s.scalars(select(Program).where(Program.run_id == r.run_id,
                                                                     Program.origin == "seed"))}
            counters = repo.get_run(s, r.run_id).counters
        return prompts, seeds, counters
    finally:
        r.engine.dispose()


def test_a_run_uses_every_operator_and_records_what_each_produced(tmp_path):
    every = {"use": ["fresh", "refine", "crossover"]}
    prompts, seeds, counters = _prompts(_run(tmp_path, "ops", {"iterations": 24, "operators": every}))
    ops = Counter(p.operator for p in prompts)
    assert set(ops) == {"fresh", "refine", "crossover"}, ops
    for p in prompts:
        if p.operator == "fresh":
            assert p.parent_seq in seeds and p.inspirations == []
        if p.operator == "crossover":
            assert len(p.inspirations) == 1 and "Combine A and B" in p.user
    stats = counters["operator_stats"]
    # every completion of every prompt is one trial of its operator (2 completions per prompt)
    assert {k: v[1] for k, v in stats.items()} == {k: 2 * n for k, n in ops.items()}


def test_crossover_is_opt_in(tmp_path):
    """By default a run draws fresh and refines, never crossover (measured: 0.7% of its
    completions improved, against 10% for the others; evolve/operators.py)."""
    prompts, _, counters = _prompts(_run(tmp_path, "default", {"iterations": 24}))
    ops = {p.operator for p in prompts}
    assert ops == {"fresh", "refine"} and set(counters["operator_stats"]) == ops


def test_best_of_n_and_a_single_operator(tmp_path):
    prompts, seeds, counters = _prompts(_run(tmp_path, "bon", {"iterations": 8, "mode": "best_of_n"}))
    assert {p.operator for p in prompts} == {"fresh"} and all(p.parent_seq in seeds for p in prompts)
    assert counters["operator_stats"] == {}
    prompts, _, _ = _prompts(_run(tmp_path, "ref", {"iterations": 8, "operators": {"use": ["refine"]}}))
    assert {p.operator for p in prompts} == {"refine"}


def test_a_parent_is_retired_after_patience_failures_in_a_row_and_cleared_by_a_success():
    failures: dict[str, int] = {}
    note_parent(failures, 3, False)
    note_parent(failures, 3, False)
    note_parent(failures, 5, False)
    assert retired(failures, 2) == {3} and retired(failures, 1) == {3, 5}
    assert retired(failures, 0) == set()  # patience 0: never
    note_parent(failures, 3, True)
    assert retired(failures, 1) == {5} and "3" not in failures


def test_refine_never_picks_a_retired_parent(tmp_path):
    """Replayed from the stored run: before each refine prompt was planned (no overlap, one
    prompt per batch), its parent had not yet failed `patience` completions in a row."""
    run_dir = _run(tmp_path, "patient", {"iterations": 14, "batch_size": 1, "overlap": False,
                                         "operators": {"use": ["refine"], "patience": 1}})
    r = open_run(run_dir)
    try:
        with repo.transaction(r.factory) as s:
            prompts = s.scalars(select(PromptRow).order_by(PromptRow.iteration)).all()
            fitness = dict(s.execute(select(Program.seq, Program.fitness)).all())
            children = s.execute(select(Program.prompt_id, Program.rollout_id, Program.fitness,
                                        Program.error).where(Program.origin == "child")).all()
            rollouts = s.execute(select(Rollout.prompt_id, Rollout.id).order_by(
                Rollout.prompt_id, Rollout.completion_index)).all()
            seeds = {q for (q,) in s.execute(select(Program.seq).where(Program.origin == "seed"))}
            counters = repo.get_run(s, r.run_id).counters
    finally:
        r.engine.dispose()
    failures: dict[str, int] = {}
    ever_retired = False
    for p in prompts:
        gone = retired(failures, 1)
        ever_retired |= bool(gone)
        if p.operator == "fresh":
            assert p.parent_seq in seeds
            continue
        assert p.parent_seq not in gone, (p.iteration, p.parent_seq, gone)
        for prompt_id, rid in rollouts:
            if prompt_id == p.id:
                note_parent(failures, p.parent_seq, any(
                    rr == rid and not err and f > fitness[p.parent_seq] for _, rr, f, err in children))
    assert ever_retired and failures == counters["parent_failures"]


def test_crossover_without_a_partner_is_not_offered_instead_of_becoming_an_unrecorded_refine(tmp_path):
    """Regression: crossover chosen for a parent no elite complements used to turn into a
    refinement, recorded as refine, while crossover's untried prior kept winning the draw (in
    the benchmark, refine got up to 40 of 48 completions).  With fresh and crossover only, no
    prompt may be a refinement, and every crossover has its partner."""
    prompts, seeds, counters = _prompts(_run(tmp_path, "fx", {
        "iterations": 24, "operators": {"use": ["fresh", "crossover"]}}))
    ops = Counter(p.operator for p in prompts)
    assert "refine" not in ops and ops["fresh"] > 0, ops
    assert all(len(p.inspirations) == 1 for p in prompts if p.operator == "crossover")
    assert {k: v[1] for k, v in counters["operator_stats"].items()} == {k: 2 * n for k, n in ops.items()}
