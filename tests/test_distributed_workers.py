"""Many workers on one run through a real PostgreSQL server (evolve.distributed): four worker
processes with the scripted mutator and the trainer service on the tiny model; one worker is
SIGKILLed mid-run.  The run completes its budget and the invariants hold."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from evolve.db import repo
from evolve.db.models import AdapterVersion, Batch, Cell, Event, Program, PromptRow, Rollout, Run, Worker
from evolve.distributed.search import DistributedSearch
from evolve.runs import seed, status
from tests.distributed_support import (PLUGIN, factory, registered, rows, run_progress, spawn, stop_all,
                                       wait_for)
from tests.evolve_support import problem_dir, write_config

pytestmark = pytest.mark.postgres
BUDGET, ISLANDS, G, EVERY = 40, 3, 2, 2


def _config(tmp, tiny, url):
    return write_config(tmp / "workers.yaml", {
        "islands": {"count": ISLANDS, "migration_interval": 8, "migration_fraction": 0.5, "reset_interval": 0},
        "mutation": {"answers": 2, "completions": G},
        "loop": {"batch_size": 2, "iterations": BUDGET, "stop_when_solved": False, "seed": 11},
        "sandbox": {"backend": "process", "slots": 1},
        "workers": {"heartbeat_s": 0.5, "grace_s": 3.0, "poll_s": 0.3, "max_pending_steps": 3},
        "trainer": {"lr": 0.01, "lora": {"r": 4, "alpha": 8},
                    "online": {"every_groups": EVERY, "model": str(tiny)}},
    }, url=url)


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory, tiny_lm_dir, postgres_server):
    tmp = tmp_path_factory.mktemp("workers")
    url = postgres_server.new_database()
    run_id = seed(str(problem_dir(tmp)), tmp / "run", _config(tmp, tiny_lm_dir, url)).run_id
    fac = factory(url)
    logs = [tmp / f"w{i}.log" for i in range(4)] + [tmp / "trainer.log"]
    procs = [spawn("trainer", "serve", "--db", url, "--run", run_id, "--dir", str(tmp / "shared"),
                   log=logs[4])]
    try:
        wait_for("trainer registers", registered(fac, run_id, "trainer"), 600, procs, logs)
        procs += [spawn("worker", "--db", url, "--run", run_id, "--mutator-plugin", PLUGIN, log=logs[i],
                        env={"SCRIPTED_DELAY_S": "0.4"}) for i in range(4)]
        wait_for("four workers register", registered(fac, run_id, "worker", 4), 600, procs, logs)

        def victim_holds_a_batch():
            done = rows(fac, Batch, Batch.run_id == run_id, Batch.status == "done")
            held = [b.worker_id for b in rows(fac, Batch, Batch.run_id == run_id, Batch.status == "planned")]
            return len(done) >= 4 and held
        victim = None
        while victim is None:
            wait_for("the run gets going", victim_holds_a_batch, 300, procs, logs, run_progress(fac, run_id))
            planned = rows(fac, Batch, Batch.run_id == run_id, Batch.status == "planned")
            if not planned:  # the batch seen by the wait was committed before this read: look again
                continue
            held = planned[0].worker_id
            candidate = rows(fac, Worker, Worker.id == held)[0]
            # freeze it first, then check it still holds the batch: read-then-kill raced with the
            # worker committing that batch, leaving nothing to take over (a flaky failure)
            os.kill(candidate.pid, signal.SIGSTOP)
            if any(b.worker_id == held for b in rows(fac, Batch, Batch.run_id == run_id, Batch.status == "planned")):
                victim = candidate
            else:
                os.kill(candidate.pid, signal.SIGCONT)
        os.kill(victim.pid, signal.SIGKILL)
        killed_at = time.time()
        others = [p for p in procs[1:] if p.pid != victim.pid]
        assert len(others) == 3
        wait_for("the workers finish", lambda: all(p.poll() is not None for p in others), 300, others, logs,
                 run_progress(fac, run_id))
        assert [p.returncode for p in others] == [0, 0, 0], [lg.read_text()[-2000:] for lg in logs]
        wait_for("the trainer finishes", lambda: procs[0].poll() is not None, 300, procs[:1], logs,
                 run_progress(fac, run_id))
        assert procs[0].returncode == 0, logs[4].read_text()[-3000:]
    finally:
        stop_all(procs)
    return fac, run_id, victim, killed_at, tmp / "run"


def test_the_run_completes_its_budget_after_a_worker_is_killed(killed_run):
    fac, run_id, victim, _, run_dir = killed_run
    run = rows(fac, Run, Run.id == run_id)[0]
    assert run.status == "finished" and run.stop_reason == "iteration budget reached"
    c = run.counters
    assert c["iterations_planned"] == c["iterations_done"] == BUDGET
    batches = rows(fac, Batch, Batch.run_id == run_id)
    assert all(b.status == "done" for b in batches) and sum(b.stats["prompts"] for b in batches) == BUDGET
    # the killed worker's batches were taken over by live workers
    takeovers = [e.detail for e in rows(fac, Event, Event.run_id == run_id, Event.kind == "takeover")]
    assert any(t["from"] == victim.id for t in takeovers)
    assert all(b.worker_id != victim.id for b in batches if b.batch_index in
               {e.batch_index for e in rows(fac, Event, Event.run_id == run_id, Event.kind == "takeover")})
    assert len({b.worker_id for b in batches}) >= 3  # the work was shared
    info = status(run_dir)  # the run directory seeded with --db reads the shared database
    assert info["status"] == "finished" and info["iterations"] == BUDGET and info["model_version"] >= 1


def test_each_program_and_rollout_is_committed_once(killed_run):
    fac, run_id, _, _, _ = killed_run
    progs = rows(fac, Program, Program.run_id == run_id, order=Program.seq)
    assert [p.seq for p in progs] == list(range(len(progs)))
    assert len({(p.island, p.code_hash) for p in progs}) == len(progs)
    run = rows(fac, Run, Run.id == run_id)[0]
    assert run.counters["next_seq"] == len(progs)
    assert run.counters["children"] == sum(p.origin == "child" for p in progs)
    prompts = rows(fac, PromptRow, PromptRow.run_id == run_id, order=PromptRow.iteration)
    assert [p.iteration for p in prompts] == list(range(BUDGET))
    rolls = rows(fac, Rollout, Rollout.run_id == run_id)
    assert Counter(r.prompt_id for r in rolls) == {p.id: G for p in prompts}  # none lost, none twice
    by_id = {r.id: r for r in rolls}
    for p in progs:
        if p.origin == "child":  # the rollout that produced a child names it in its slot
            assert by_id[p.rollout_id].answers["slots"][str(p.slot)]["seq"] == p.seq


def test_every_cell_holds_its_best_program(killed_run):
    fac, run_id, _, _, _ = killed_run
    search = DistributedSearch.load(fac, run_id)
    desc = search.archive.descriptor  # the final binning
    progs = {p.seq: p for p in rows(fac, Program, Program.run_id == run_id)}
    cells = {(c.island, c.cell_key): c for c in rows(fac, Cell, Cell.run_id == run_id)}
    for (island, key), cell in cells.items():
        held = progs[cell.program_seq]
        assert held.island == island and repo.cell_key(desc.key(held.descriptor)) == key
        assert held.fitness == cell.fitness
    for p in progs.values():
        if p.error and p.origin != "seed":
            continue  # failed programs never enter a grid
        cell = cells[(p.island, repo.cell_key(desc.key(p.descriptor)))]
        assert cell.fitness >= p.fitness, f"#{p.seq} beats the elite #{cell.program_seq} of its cell"


def test_every_island_kept_running(killed_run):
    fac, run_id, _, killed_at, _ = killed_run
    prompts = rows(fac, PromptRow, PromptRow.run_id == run_id)
    assert Counter(p.island for p in prompts) == {i: BUDGET // ISLANDS + (i < BUDGET % ISLANDS)
                                                   for i in range(ISLANDS)}
    late = [r for r in rows(fac, Rollout, Rollout.run_id == run_id) if r.created_at.timestamp() > killed_at]
    assert {r.island for r in late} == set(range(ISLANDS))  # after the kill, every island went on
    progs = rows(fac, Program, Program.run_id == run_id)
    assert {p.island for p in progs if p.origin == "child"} == set(range(ISLANDS))
    migrations = rows(fac, Event, Event.run_id == run_id, Event.kind == "migration")
    assert len(migrations) == BUDGET // 8  # once per interval, by whichever worker crossed it


def test_no_rollout_lost_or_consumed_twice_by_the_trainer(killed_run):
    fac, run_id, _, _, _ = killed_run
    rolls = rows(fac, Rollout, Rollout.run_id == run_id)
    trains = [e.detail for e in rows(fac, Event, Event.run_id == run_id, Event.kind == "train")]
    consumed = [r for r in rolls if r.consumed]
    assert trains and sum(t["rollouts"] for t in trains) == len(consumed)
    assert Counter(r.consumed_version for r in consumed) == _sum_by_version(trains)
    left = {r.group_id for r in rolls if not r.consumed}
    assert len(left) < EVERY  # what remains is less than one learner step's worth of groups
    versions = [a.version for a in rows(fac, AdapterVersion, AdapterVersion.run_id == run_id,
                                        order=AdapterVersion.version)]
    assert versions == list(range(1, len(versions) + 1)) and versions
    assert max(r.policy_version for r in rolls) >= 1  # workers sampled with published adapters
    with repo.transaction(fac) as s:
        assert s.scalar(select(func.count()).select_from(Worker).where(
            Worker.run_id == run_id, Worker.status == "running")) == 1  # only the SIGKILLed worker


def _sum_by_version(trains: list[dict]) -> Counter:
    out: Counter = Counter()
    for t in trains:  # steps that did not update keep the version: their rollouts add up
        out[t["version"]] += t["rollouts"]
    return out
