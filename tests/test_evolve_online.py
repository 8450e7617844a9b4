"""Online fine-tuning inside a search run: tiny LM mutator (tests/online_support.MenuMutator),
real learner, process sandbox, SQLite."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from click.testing import CliRunner
from sqlalchemy import select

from evolve.db import repo
from evolve.db.models import Event, Program, PromptRow, Rollout
from evolve.mutator import TransformersConfig
from evolve.mutator.transformers_backend import TransformersMutator
from evolve.learner_setup import shared_module
from evolve.online import complete_groups
from evolve.rewards import REWARD_MODES, RewardContext, StoredRollout, reward_context
from evolve.runs import execute, open_run, seed, status
from tests.evolve_support import problem_dir, write_config
from tests.online_support import MenuMutator
from trainer.checkpoints import STATE_FILE, run_adapter

torch.set_num_threads(1)


def _mutator_cfg(tiny: Path) -> dict:
    return {"backend": "transformers", "model": str(tiny), "dtype": "float32", "threads": 1}


ONLINE = {
    "islands": {"count": 1, "migration_interval": 0, "reset_interval": 0},
    "mutation": {"answers": 2, "completions": 4, "sampling": {"temperature": 1.0}},
    "loop": {"batch_size": 2, "iterations": 8, "stop_when_solved": False, "seed": 3},
    "trainer": {"lr": 0.02, "lora": {"r": 4, "alpha": 8}, "online": {"every_groups": 2}},
}


def _rows(run_dir: Path, model, *where):
    r = open_run(run_dir)
    try:
        with repo.transaction(r.factory) as s:
            return s.scalars(select(model).where(model.run_id == r.run_id, *where)
                             .order_by(model.id)).all()
    finally:
        r.engine.dispose()


@pytest.fixture(scope="module")
def online_run(tmp_path_factory, tiny_lm_dir):
    tmp = tmp_path_factory.mktemp("online")
    cfg = {**ONLINE, "mutator": _mutator_cfg(tiny_lm_dir)}
    run_dir = tmp / "run"
    seed(str(problem_dir(tmp)), run_dir, write_config(tmp / "online.yaml", cfg))
    execute(run_dir, resume=False, mutator_factory=lambda c: MenuMutator(c.mutator, c.mutation.answers))
    return run_dir


def test_online_run_trains_and_swaps_adapters(online_run, tiny_lm_dir):
    trains = [e.detail for e in _rows(online_run, Event, Event.kind == "train")]
    versions = [t["version"] for t in trains if t["updated"]]
    assert len(versions) >= 2 and versions == list(range(1, len(versions) + 1))
    for v in versions:
        assert (run_adapter(online_run, v) / "adapter_config.json").is_file()
    assert all(t["groups"] == 2 and t["rollouts"] == 8 for t in trains)
    rolls = _rows(online_run, Rollout)
    # batch b+1 is generated while batch b is evaluated, so version v samples batch v + 1
    by_iter = {r.iteration: r.policy_version for r in rolls}
    assert sorted(set(by_iter.values())) == [0, 1, 2]
    assert [by_iter[i] for i in (0, 2, 4, 6)] == [0, 0, 1, 2]
    # every complete group was consumed exactly by one step, but the last batch's: a step after
    # the run's last batch would train an adapter no answer of the run uses (regression: every
    # benchmark cell trained once more, minutes on a CPU, after its last answer)
    assert len(rolls) == 4 * 8 and len(trains) == 3
    assert [r.consumed for r in rolls] == [r.iteration < 6 for r in rolls]
    # the adapters really change the mutator's policy
    mut = MenuMutator(TransformersConfig(**_mutator_cfg(tiny_lm_dir)), 2)
    r = rolls[-1]
    base = sum(mut.score(r.prompt_token_ids, r.token_ids))
    mut.load_adapter(2, run_adapter(online_run, 2))
    assert abs(sum(mut.score(r.prompt_token_ids, r.token_ids)) - sum(r.logprobs)) < 1e-3
    assert abs(sum(mut.score(r.prompt_token_ids, r.token_ids)) - base) > 1e-3


def test_status_shows_model_version(online_run):
    from evolve.cli import main

    res = CliRunner().invoke(main, ["status", str(online_run), "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    n = sum(1 for e in _rows(online_run, Event, Event.kind == "train") if e.detail["updated"])
    assert info["model_version"] == n >= 2 and info["policy_version"] == 2
    per = {row["version"]: row for row in info["by_policy_version"]}
    assert sorted(per) == [0, 1, 2] and [per[v]["rollouts"] for v in (0, 1, 2)] == [16, 8, 8]
    assert sum(row["children"] for row in per.values()) == info["children"]
    table = CliRunner().invoke(main, ["status", str(online_run)])
    assert table.exit_code == 0 and "policy version" in table.output


def test_resume_restores_the_learner(online_run, tmp_path):
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(online_run, run_dir)
    first = status(run_dir)["model_version"]
    execute(run_dir, resume=False, iterations=12,
            mutator_factory=lambda c: MenuMutator(c.mutator, c.mutation.answers))
    trains = [e.detail for e in _rows(run_dir, Event, Event.kind == "train") if e.detail["updated"]]
    assert [t["version"] for t in trains] == list(range(1, len(trains) + 1))
    assert status(run_dir)["model_version"] == len(trains) > first
    new = [r for r in _rows(run_dir, Rollout) if r.iteration >= 8]
    # the resumed mutator starts from the restored adapter, not from the base model
    assert min(r.policy_version for r in new) == first
    state = json.loads((run_dir / "adapters" / f"v{len(trains)}" / STATE_FILE).read_text())
    assert state["policy_version"] == len(trains)


def test_learner_shares_the_mutators_base_weights(tiny_lm_dir):
    from trainer.config import LearnerConfig, LoraSettings
    from trainer.learner import Learner

    mut = TransformersMutator(TransformersConfig(**_mutator_cfg(tiny_lm_dir)))
    learner = Learner(shared_module(mut.model), LearnerConfig(lora=LoraSettings(r=4, alpha=8)))
    ours = dict(mut.model.named_parameters())
    theirs = {k.replace(".base_layer", ""): p for k, p in learner.model.base_model.model.named_parameters()
              if "lora_" not in k}
    assert set(theirs) == set(ours)
    assert all(theirs[k] is p for k, p in ours.items())  # the very same tensors: no second copy
    assert not any("lora" in k for k in ours)  # peft touched only the learner's tree


def test_reward_modes():
    class Row:
        id, prompt_id, iteration = 1, 7, 5
        rewards = [[1.0, 0.5, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
        answers = {"slots": {"1": {"status": "known", "seq": 3}, "2": {"status": "child", "seq": 9},
                             "3": {"status": "child", "seq": 11}, "4": {"status": "rejected"},
                             "5": {"status": "malformed"}}}

    row = StoredRollout.of(Row)
    ctx = RewardContext(parent_scores={7: [0.5, 0.5, 0.5]}, batch_start={7: 5},
                        passed_by_iteration=[(2, frozenset({1})), (5, frozenset({2}))],
                        seed_passed=frozenset(), crashed=frozenset({11}))
    mode = lambda name: REWARD_MODES[name].fn(row, ctx)  # noqa: E731
    assert mode("scores") == Row.rewards
    assert mode("improvement")[:2] == [[0.5, 0.0, 0.0], [0.0, 0.5, 0.5]]
    # test 1 was passed by a program of iteration 2 < 5 (the batch start); iteration 5 was not
    assert mode("novel_tests")[:2] == [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    # a re-write of a program the island holds (known) earns nothing; a new child its scores
    assert mode("new_programs")[:2] == [[0.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
    # graded: a program beats a lazy answer beats a crash (or syntax error) beats a broken one
    assert mode("graded") == [[0.1] * 3, [0.25, 1.0, 1.0], [0.05] * 3, [0.05] * 3, [0.0] * 3]
    assert REWARD_MODES["scores"].needs == frozenset() and REWARD_MODES["graded"].needs == {"crashes"}


def test_unknown_reward_mode_is_refused():
    from evolve.online_config import OnlineOptions

    with pytest.raises(ValueError, match="unknown reward mode 'best'; known: scores"):
        OnlineOptions(reward="best")


def test_reward_context_from_the_run_database(online_run):
    r = open_run(online_run)
    try:
        with repo.transaction(r.factory) as s:
            rows = list(s.scalars(select(Rollout).where(Rollout.run_id == r.run_id)))
            ctx = reward_context(s, r.run_id, [StoredRollout.of(x) for x in rows],
                                 frozenset({"parents", "history"}))
            prompts = list(s.scalars(select(PromptRow).where(PromptRow.run_id == r.run_id)))
            progs = list(s.scalars(select(Program).where(Program.run_id == r.run_id)))
    finally:
        r.engine.dispose()
    by_seq = {p.seq: p for p in progs}
    for p in prompts:  # batch_size 2
        assert ctx.parent_scores[p.id] == by_seq[p.parent_seq].scores
        assert ctx.batch_start[p.id] == p.iteration - p.iteration % 2
    novel_total = 0.0
    for row in rows:
        start = ctx.batch_start[row.prompt_id]
        solved = {i for q in progs if q.origin == "seed" or q.iteration < start
                  for i, x in enumerate(q.scores) if x >= 1.0}
        parent = ctx.parent_scores[row.prompt_id]
        imp = REWARD_MODES["improvement"].fn(StoredRollout.of(row), ctx)
        novel = REWARD_MODES["novel_tests"].fn(StoredRollout.of(row), ctx)
        for k, rew in enumerate(row.rewards):
            assert imp[k] == [max(0.0, x - y) for x, y in zip(rew, parent)]
            assert novel[k] == [0.0 if i in solved else x for i, x in enumerate(rew)]
            novel_total += sum(novel[k])
    assert novel_total > 0


def test_complete_groups_waits_for_all_completions():
    class R:
        def __init__(self, g, j):
            self.group_id, self.completion_index = g, j

    rows = [R("a", 1), R("b", 0), R("a", 0), R("b", 1), R("c", 0)]
    got = complete_groups(rows, 2)
    assert [[(r.group_id, r.completion_index) for r in g] for g in got] == [
        [("a", 0), ("a", 1)], [("b", 0), ("b", 1)]]


def test_learner_time_is_accounted_in_the_batch_that_trained(online_run):
    from evolve.db.models import Batch

    batches = _rows(online_run, Batch)
    trained = [b for b in batches if (b.stats or {}).get("learn_s") is not None]
    n_steps = len([e for e in _rows(online_run, Event, Event.kind == "train")])
    assert len(trained) == n_steps and all(b.stats["learn_s"] > 0 for b in trained)
    assert all(b.stats["sampled_tokens"] > 0 and b.stats["prompt_tokens"] > 0 for b in batches)


def test_no_learner_step_starts_after_the_runs_last_batch(online_run, tmp_path):
    """Regression: the main job's last learner step started at its 20-minute bound and ran 4
    more minutes for an adapter the run could no longer use, and every benchmark cell trained
    once more after its last answer.  Once a batch is the run's last (time bound, iterations
    done, solved) the groups stay unconsumed (a resume trains them); before it they train."""
    import shutil

    from sqlalchemy import update

    from evolve.loop import Budget
    from evolve.online import attach
    from evolve.rundir import stored_config
    from evolve.search_state import Counters

    run_dir = tmp_path / "late"
    shutil.copytree(online_run, run_dir)
    r = open_run(run_dir, mode="write")
    try:
        with repo.transaction(r.factory) as s:  # every group ready for a step again
            s.execute(update(Rollout).where(Rollout.run_id == r.run_id).values(consumed=False))
        cfg = stored_config(run_dir)
        mut = MenuMutator(cfg.mutator, cfg.mutation.answers)
        trains = lambda: len(_rows(run_dir, Event, Event.kind == "train"))  # noqa: E731
        before = trains()
        budget = Budget(iterations=8, minutes=1.0, stop_when_solved=True)
        _, after_batch, online = attach(run_dir, r.factory, r.run_id, cfg, mut, None, budget)
        learn_s_of: list[float] = []

        def batch_ends(**counters) -> list[str]:
            happened: list[str] = []
            search = SimpleNamespace(counters=Counters(iterations_planned=8, **counters),
                                     add_stats=lambda batch, learn_s: learn_s_of.append(learn_s))
            after_batch(search, SimpleNamespace(index=3), happened)
            return happened

        assert batch_ends(iterations_done=4, elapsed_s=61.0) == [
            "learner step deferred (time budget reached; trains on resume)"]
        assert batch_ends(iterations_done=8, elapsed_s=5.0) == [
            "learner step deferred (iteration budget reached; trains on resume)"]
        assert batch_ends(iterations_done=4, elapsed_s=5.0, solved_seq=3) == [
            "learner step deferred (solved by #3; trains on resume)"]
        assert trains() == before and online.ready_steps() == 4 and learn_s_of == []
        # the last batch still generating (all iterations planned, not done): the step can serve it
        in_time = batch_ends(iterations_done=6, elapsed_s=59.0)
        assert len(in_time) == 4 and all(h.startswith("train") for h in in_time)
        assert trains() == before + 4 and online.ready_steps() == 0
        assert len(learn_s_of) == 1 and learn_s_of[0] > 0  # one figure for the batch's four steps
    finally:
        r.close()


def test_online_training_refuses_a_mutator_that_starts_from_an_adapter(tiny_lm_dir, tmp_path):
    """A frozen fine-tuned mutator (mutator.adapter) and online training do not mix: the learner
    starts from the base model and its v1 would replace the served adapter."""
    from evolve.config import validate
    from evolve.learner_setup import learner_base
    from evolve.online import OnlineError
    from tests.fixtures.lora import make_adapter

    adapter = make_adapter(tiny_lm_dir, tmp_path / "a", seed=1)
    run = validate({**ONLINE, "mutator": {**_mutator_cfg(tiny_lm_dir), "adapter": str(adapter)}}, "<t>")
    mut = TransformersMutator(run.mutator)
    with pytest.raises(OnlineError, match="mutator.adapter"):
        learner_base(run, mut)
